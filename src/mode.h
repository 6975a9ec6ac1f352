/* The concurrency modes: each is a small driver over the shared server
 * (accepting, limits, signals) and connection (framing, journal) code. */
#pragma once

#include "config.h"
#include "server.h"

struct mode_driver {
        enum concurrency_mode mode;
        /* Serves connections until a stop is requested, then drains them.
         * Returns 0; -EBUSY when connections were still busy (a journal write
         * blocked) after the drain bound and its grace, so that the process
         * must end without freeing what they use; or -errno when the mode
         * could not run at all. */
        int (*run)(struct server *s);
};

extern const struct mode_driver mode_sequential;
extern const struct mode_driver mode_thread;
extern const struct mode_driver mode_pool;
extern const struct mode_driver mode_fork;
extern const struct mode_driver mode_epoll;

const struct mode_driver *mode_driver_for(enum concurrency_mode mode);

/* How long a driver waits for its connections after the drain bound, for a
 * journal write that is still blocked, before it gives up on them. */
#define DRAIN_GRACE_MS 2000

/* The number of threads or loops `workers` asks for (0 = online CPUs). */
int mode_worker_count(const struct server *s);

/* The pool driver with n worker threads; `sequential` is a pool of one. */
int mode_pool_serve(struct server *s, int n);
