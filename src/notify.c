#include "notify.h"

#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "server.h"
#include "util.h"

void notify_ready(void) {
        sd_notify(0, "READY=1");
}

void notify_reloading(void) {
        /* systemd 253+ wants MONOTONIC_USEC with RELOADING=1 for Type=notify-reload;
         * older managers ignore it. */
        char message[64];

        snprintf(message, sizeof(message), "RELOADING=1\nMONOTONIC_USEC=%lld", now_ms() * 1000);
        sd_notify(0, message);
}

void notify_stopping(void) {
        sd_notify(0, "STOPPING=1");
}

void notify_status(const struct server_stats *stats) {
        sd_notifyf(0, "STATUS=%u open connections, %llu accepted, %llu refused, "
                      "%llu messages logged, %llu truncated, %llu not delivered",
                   atomic_load(&stats->active), atomic_load(&stats->accepted),
                   atomic_load(&stats->refused), atomic_load(&stats->messages),
                   atomic_load(&stats->truncated), atomic_load(&stats->failed));
}

long long notify_watchdog_interval_ms(void) {
        uint64_t usec = 0;

        return sd_watchdog_enabled(0, &usec) > 0 ? (long long) (usec / 1000) : 0;
}

void notify_watchdog(void) {
        sd_notify(0, "WATCHDOG=1");
}
