/* What every concurrency mode shares: the configuration, the listening
 * sockets, the stop and wake signals, the connection limits and the counters. */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "listener.h"
#include "net.h"

/* How long open connections may go on after SIGTERM before harkd reads what
 * they have already sent, logs it and closes them. */
#define DRAIN_TIMEOUT_MS 5000

/* Counters, in shared memory so that `fork` children count too; and, for the
 * same reason, the idle timeout, which a reload changes for open connections. */
struct server_stats {
        atomic_int timeout_ms;          /* 0 = never */
        atomic_ullong accepted;
        atomic_ullong refused;
        atomic_ullong messages;         /* delivered to the journal */
        atomic_ullong truncated;
        atomic_ullong failed;           /* framed but not delivered */
        atomic_ullong next_connection_id;
        atomic_uint active;
};

/* The settings a connection lives by, copied when it opens so that a reload
 * never changes them under its feet. The idle timeout is the exception: a
 * reload applies it to open connections too (see server_stats.timeout_ms). */
struct connection_settings {
        int priority;
        size_t max_message_size;
        char identifier[256];
};

struct source;

struct server {
        const char *config_path;
        struct hark_config config;      /* under lock once serving */
        pthread_mutex_t lock;
        struct listeners listeners;
        int stop_fd;                    /* eventfd: readable from the stop request on, never drained */
        int wake_fd;                    /* eventfd: reload, child exit or a freed slot for the accept loop */
        atomic_bool stopping;
        atomic_llong drain_deadline;    /* now_ms() value */
        atomic_bool reload_requested;
        struct server_stats *stats;
        unsigned active;                /* open connections, under lock */
        unsigned mode_limit;            /* a driver's own cap below max_connections; 0 = none */
        bool accepting_paused;          /* under lock: at max_connections */
        struct source **sources;        /* open connections per source, under lock */
        long long accept_resume_ms;     /* server_accept(): after EMFILE, wait until then */
        long long accept_warned_ms;
        long long next_status_ms;
        /* Called by the main loop on every wake-up (the fork driver reaps there). */
        void (*on_wake)(struct server *s, void *userdata);
        void *on_wake_userdata;
        bool notify;                    /* started by a service manager that listens */
        long long watchdog_interval_ms;
        long long next_watchdog_ms;
};

/* Takes over *config and *listeners. Returns 0 or -errno. */
int server_init(struct server *s, const char *config_path, struct hark_config *config,
                struct listeners *listeners);
void server_done(struct server *s);

/* Installs the signal handlers that drive this server (one per process). */
int server_handle_signals(struct server *s);

/* Asks every part of the server to stop; async-signal-safe. */
void server_request_stop(struct server *s);

static inline bool server_stopping(struct server *s) {
        return atomic_load_explicit(&s->stopping, memory_order_relaxed);
}

void server_settings(struct server *s, struct connection_settings *settings);

/* The accept loop of the blocking modes: waits for a connection while serving
 * signals, reloads and the notify/watchdog duties. Returns a connected fd
 * (CLOEXEC, blocking) with its peer in *peer, or -ECANCELED once stopping. */
int server_accept(struct server *s, struct peer *peer);

/* Accepts one pending connection from listening socket fd, applying the
 * limits (a refusal is logged and counted); flags as for accept4(2), besides
 * SOCK_CLOEXEC which is always set. Returns the fd, -EAGAIN when there is
 * none or it was refused, -EMFILE/-ENFILE when out of descriptors (the caller
 * backs off), else -errno. */
int server_accept_from(struct server *s, int fd, int flags, struct peer *peer);

/* After EMFILE/ENFILE, accepting again at once would only spin. */
#define ACCEPT_BACKOFF_MS 100

/* Accepting failed with error (from server_accept_from()): logs it (at most
 * once a second, *warned_ms remembers) and returns when to try again. */
long long server_accept_backoff(int error, long long *warned_ms);

/* Gives back the slot of a connection from peer; wakes a paused accept loop. */
void server_release(struct server *s, const struct peer *peer);

/* Whether another connection may be accepted now (max_connections). */
bool server_has_room(struct server *s);

/* Duties of the main loop between waits: reload when asked, status, watchdog.
 * Returns the poll timeout (ms) until the next duty, or -1. */
int server_housekeeping(struct server *s);

uint64_t server_next_connection_id(struct server *s);

/* The main thread's loop when others accept (epoll): the server's duties
 * (reload, status, watchdog) until a stop is requested. */
void server_wait_for_stop(struct server *s);

/* Called by a driver once its accept loop has ended: tells systemd and the
 * log that harkd is stopping. The listening sockets stay open, unused, until
 * exit: under socket activation systemd keeps clients queued for the next start. */
void server_begin_drain(struct server *s);

/* Waits until no connection is open, at most until deadline (now_ms() time).
 * Returns whether none is open. */
bool server_wait_idle(struct server *s, long long deadline);
