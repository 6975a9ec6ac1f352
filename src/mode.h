/* The concurrency modes: each is a small driver (struct server_driver) over
 * the shared server (accepting, limits, signals, draining) and connection
 * (framing, journal) code. */
#pragma once

#include "config.h"
#include "server.h"

extern const struct server_driver mode_sequential;
extern const struct server_driver mode_thread;
extern const struct server_driver mode_pool;
extern const struct server_driver mode_fork;
extern const struct server_driver mode_epoll;
/* Socket activation with Accept=yes: serves the one connection systemd passed. */
extern const struct server_driver mode_passed;

const struct server_driver *mode_driver_for(enum concurrency_mode mode);

/* The number of threads or loops `workers` asks for (0 = online CPUs). */
int mode_worker_count(const struct server *s);

/* The pool driver with n worker threads; `sequential` is a pool of one. */
int mode_pool_serve(struct server *s, int n);
