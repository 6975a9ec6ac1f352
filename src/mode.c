#include "mode.h"

#include <unistd.h>

const struct mode_driver *mode_driver_for(enum concurrency_mode mode) {
        static const struct mode_driver *const drivers[] = {
                &mode_sequential, &mode_thread, &mode_pool, &mode_fork, &mode_epoll,
        };

        for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
                if (drivers[i]->mode == mode)
                        return drivers[i];
        return NULL;
}

int mode_worker_count(const struct server *s) {
        long cpus;

        if (s->config.workers > 0)
                return s->config.workers;
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        return cpus > 0 ? (int) cpus : 1;
}
