#include "notify.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "util.h"

void notify_ready(void) {
        sd_notify(0, "READY=1");
}

void notify_reloading(void) {
        /* systemd 253+ wants MONOTONIC_USEC with RELOADING=1 for Type=notify-reload;
         * older managers ignore it. */
        struct timespec ts;

        /* Microseconds, not milliseconds rounded up: systemd compares it with
         * the moment it sent SIGHUP. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
                   (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000ULL);
}

void notify_stopping(void) {
        sd_notify(0, "STOPPING=1");
}

void notify_status(const char *text) {
        sd_notifyf(0, "STATUS=%s", text);
}

long long notify_watchdog_interval_ms(void) {
        uint64_t usec = 0;

        return sd_watchdog_enabled(0, &usec) > 0 ? (long long) (usec / 1000) : 0;
}

void notify_watchdog(void) {
        sd_notify(0, "WATCHDOG=1");
}
