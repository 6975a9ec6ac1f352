/* The clock of the integration tests; see support-time.h. */
#include "support-time.h"

#include <errno.h>
#include <time.h>

long long it_now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void it_sleep_ms(int ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int it_ms_left(long long deadline) {
        long long left = deadline - it_now_ms();

        return left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int) left;
}
