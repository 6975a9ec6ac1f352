/* What every concurrency mode shares: the configuration, the listening
 * sockets, the stop and wake signals, admission and the counters, and the
 * steps of a driver's life that are the same in every mode (accepting,
 * housekeeping, draining). */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "admission.h"
#include "config.h"
#include "listener.h"
#include "net.h"
#include "pending.h"
#include "stats.h"

/* How long open connections may go on after SIGTERM before harkd reads what
 * they have already sent, logs it and closes them. */
#define DRAIN_TIMEOUT_MS 5000

/* How long a driver waits for its connections after the drain bound, for a
 * journal write that is still blocked, before it gives up on them. */
#define DRAIN_GRACE_MS 2000

/* A connection the server has accepted and admitted: what a driver hands to
 * the connection code. The id and the time are stamped by the server. */
struct accepted {
        int fd;                         /* connected, CLOEXEC */
        struct peer peer;
        uint64_t id;                    /* HARK_CONNECTION */
        struct admission_slot *slot;    /* NULL when admission does not track it (Accept=yes) */
        unsigned from_source;           /* connections open from its source, itself included */
        bool tls;                       /* from a TLS listener */
};

/* What all processes of one harkd see: `fork` children count here too, and
 * a reload's new idle timeout reaches their open connections. */
struct server_shared {
        struct counters counters;
        atomic_ullong next_connection_id;
        atomic_int idle_timeout_ms;     /* the live value of `timeout`; 0 = never */
};

struct server;

/* A concurrency mode, as the server drives it. */
struct server_driver {
        const char *name;
        /* Serves connections until a stop is requested, then drains them.
         * Returns 0; -EBUSY when connections were still busy (a journal write
         * blocked) after the drain bound and its grace, so that the process
         * must end without freeing what they use; or -errno when the mode
         * could not run at all. */
        int (*run)(struct server *s);
        /* Called by the main loop on every wake-up, or NULL (fork reaps there). */
        void (*on_wake)(struct server *s);
        /* Its processes serve others while an answer waits for journald:
         * they hand such connections to the answerer (answerer.h), whose
         * thread starts with the server. A process that exits after its
         * one connection (fork, Accept=yes) answers it itself. */
        bool hands_off_answers;
};

struct server {
        const char *config_path;
        const struct server_driver *driver;
        struct hark_config *config;     /* in force; swapped by reload under lock (see server_config_acquire()) */
        pthread_mutex_t lock;
        struct listeners listeners;
        struct admission admission;
        int stop_fd;                    /* eventfd: readable from the stop request on, never drained */
        int wake_fd;                    /* eventfd: reload, child exit or a freed slot for the accept loop */
        atomic_bool stopping;
        atomic_llong drain_deadline;    /* now_ms() value */
        atomic_bool reload_requested;
        /* Accepted connections waiting for a worker (pool): newcomers that
         * quiet connections are evicted for, as for those in the listen queue. */
        atomic_uint waiting_for_worker;
        struct server_shared *shared;
        struct counters *counters;      /* &shared->counters */
        struct pending *pending;        /* max_pending_bytes, shared like shared */
        long long accept_resume_ms;     /* server_accept(): after EMFILE, wait until then */
        long long accept_warned_ms;
        /* Accepted sockets inherit TCP keepalive from these listeners
         * (set once at start): no setsockopt() per connection. */
        bool listener_keepalive[LISTENERS_MAX];
        long long next_status_ms;
        bool notify;                    /* started by a service manager that listens */
        long long watchdog_interval_ms;
        long long next_watchdog_ms;
};

/* Takes over *config and *listeners; driver serves them. Returns 0 or
 * -errno with the reason in error (a TLS file that does not load). */
int server_init(struct server *s, const char *config_path, struct hark_config *config,
                struct listeners *listeners, const struct server_driver *driver, char *error, size_t size);
void server_done(struct server *s);

/* Installs the signal handlers that drive this server (one per process). */
int server_handle_signals(struct server *s);

/* Asks every part of the server to stop; async-signal-safe. */
void server_request_stop(struct server *s);

static inline bool server_stopping(struct server *s) {
        return atomic_load_explicit(&s->stopping, memory_order_relaxed);
}

/* The configuration in force now, for a connection to live by: a reload
 * never changes it under its feet (the idle timeout excepted, see
 * server_shared). Pair with server_config_release(). */
const struct hark_config *server_config_acquire(struct server *s);
void server_config_release(const struct hark_config *config);

/* The TLS context of an acquired configuration; NULL without tls_port. */
struct tls_context *server_config_tls(const struct hark_config *config);

/* The accept loop of the main thread: waits for a connection while serving
 * signals, reloads and the notify/watchdog duties. Returns 0 with the
 * connection in *a (flags as for accept4(): SOCK_NONBLOCK for epoll), or
 * -ECANCELED once stopping. */
int server_accept(struct server *s, int flags, struct accepted *a);

/* Takes connected socket fd, accepted by someone else (systemd's
 * Accept=yes), as the server's connection *a. Returns 0, -EPERM when the
 * allow list refused it (logged), -ENOTCONN when its
 * peer has already gone, else -errno; fd is closed on failure. */
int server_adopt(struct server *s, int fd, struct accepted *a);

/* A driver could not take on accepted connection a (error, while trying to
 * `what` it): logs that, closes it and gives its slot back. */
void server_abandon(struct server *s, const struct accepted *a, const char *what, int error);

/* Gives back the slot of an accepted connection (NULL: none); wakes a paused
 * accept loop. */
void server_release(struct server *s, struct admission_slot *slot);

/* The connection of slot (NULL: none) is being served from now on: until
 * then it is not evicted, and its quiet time starts here. */
void server_note_serving(struct server *s, struct admission_slot *slot);

/* The connection of slot (NULL: none) starts or stops delivering messages to
 * the journal: meanwhile it is not evicted. */
void server_note_delivering(struct server *s, struct admission_slot *slot, bool delivering);

/* The connection of slot (NULL: none) made progress (ended a message). */
void server_note_progress(struct server *s, struct admission_slot *slot, long long now);

/* The socket of slot (NULL: none) is about to be closed, or to be served by
 * another process: see admission_forget_fd(). */
void server_forget_fd(struct server *s, struct admission_slot *slot);

/* Duties of the main loop between waits: reload when asked, the driver's
 * on_wake, status, watchdog. Returns the poll timeout (ms) until the next
 * duty, or -1. */
int server_housekeeping(struct server *s);

/* Called by a driver once its accept loop has ended and its connections know
 * (each sees server_stopping()): tells systemd and the log that harkd stops,
 * then waits until no connection is open, at most until the drain bound and
 * its grace. Returns whether none is open. The listening sockets stay open,
 * unused, until exit: under socket activation systemd keeps clients queued
 * for the next start. */
bool server_drain(struct server *s);
