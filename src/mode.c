#include "mode.h"

#include <unistd.h>

#include "util.h"

const struct server_driver *mode_driver_for(enum concurrency_mode mode) {
        static const struct server_driver *const drivers[] = {
                [MODE_SEQUENTIAL] = &mode_sequential,
                [MODE_THREAD] = &mode_thread,
                [MODE_POOL] = &mode_pool,
                [MODE_FORK] = &mode_fork,
                [MODE_EPOLL] = &mode_epoll,
        };

        return (size_t) mode < ELEMENTSOF(drivers) ? drivers[mode] : NULL;
}

int mode_worker_count(const struct server *s) {
        long cpus;

        /* workers needs a restart: the running value never changes. */
        if (s->config->workers > 0)
                return s->config->workers;
        cpus = sysconf(_SC_NPROCESSORS_ONLN);
        return cpus > 0 ? (int) cpus : 1;
}
