/* Small helpers shared by every module. */
#pragma once

#include <stdbool.h>
#include <time.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Milliseconds on CLOCK_MONOTONIC; async-signal-safe. */
static inline long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds from now until deadline for poll(2): -1 without a deadline
 * (deadline < 0), 0 when it has passed. */
static inline int ms_until(long long deadline) {
        long long left;

        if (deadline < 0)
                return -1;
        left = deadline - now_ms();
        return left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int) left;
}

/* Rate limit for repeated warnings: true at most once per interval_ms, and
 * then *last (initially -1) remembers when. */
static inline bool once_per(long long *last, long long interval_ms) {
        long long now = now_ms();

        if (*last >= 0 && now - *last < interval_ms)
                return false;
        *last = now;
        return true;
}
