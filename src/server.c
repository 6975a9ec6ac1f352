#include "server.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "notify.h"
#include "stored.h"
#include "tls.h"
#include "util.h"

#define STATUS_INTERVAL_MS 2000
/* How often quiet connections are looked for while accepting is paused. */
#define EVICT_CHECK_MS 250

/* A configuration and the connections that live by it, with the TLS
 * context made from its files when it was read: a reload makes a new one,
 * so that renewed certificates are taken. */
struct config_snapshot {
        atomic_uint refs;
        struct tls_context *tls;
        struct hark_config config;
};

static struct server *signal_target;

static int idle_timeout_ms(const struct hark_config *config) {
        int ms = (int) (config->timeout * 1000.0 + 0.5);

        /* A positive timeout below half a millisecond must not mean "never". */
        return ms == 0 && config->timeout > 0 ? 1 : ms;
}

static struct config_snapshot *snapshot_of(const struct hark_config *config) {
        return (struct config_snapshot *) ((char *) config - offsetof(struct config_snapshot, config));
}

/* Moves *config into a new snapshot with one reference (*config is left
 * as it was on failure). Returns 0, or -errno with the reason in error. */
static int snapshot_new(struct hark_config *config, struct hark_config **ret, char *error, size_t size) {
        struct config_snapshot *snap = calloc(1, sizeof(*snap));
        int r;

        if (!snap) {
                snprintf(error, size, "%s", strerror(ENOMEM));
                return -ENOMEM;
        }
        if (config->tls_port) {
                r = tls_context_new(&snap->tls, config, error, size);
                if (r < 0) {
                        free(snap);
                        return r;
                }
        }
        atomic_init(&snap->refs, 1);
        snap->config = *config;
        memset(config, 0, sizeof(*config));
        *ret = &snap->config;
        return 0;
}

struct tls_context *server_config_tls(const struct hark_config *config) {
        return snapshot_of(config)->tls;
}

const struct hark_config *server_config_acquire(struct server *s) {
        const struct hark_config *config;

        pthread_mutex_lock(&s->lock);
        config = s->config;
        atomic_fetch_add(&snapshot_of(config)->refs, 1);
        pthread_mutex_unlock(&s->lock);
        return config;
}

void server_config_release(const struct hark_config *config) {
        struct config_snapshot *snap;

        if (!config)
                return;
        snap = snapshot_of(config);
        if (atomic_fetch_sub(&snap->refs, 1) == 1) {
                tls_context_unref(snap->tls);
                hark_config_done(&snap->config);
                free(snap);
        }
}

int server_init(struct server *s, const char *config_path, struct hark_config *config,
                struct listeners *listeners, const struct server_driver *driver, char *error, size_t size) {
        int r;

        assert(driver);
        memset(s, 0, sizeof(*s));
        s->config_path = config_path;
        s->driver = driver;
        s->listeners = *listeners;
        s->stop_fd = s->wake_fd = -1;
        pthread_mutex_init(&s->lock, NULL);
        atomic_init(&s->drain_deadline, -1);
        s->accept_resume_ms = s->accept_warned_ms = -1;
        s->watchdog_interval_ms = notify_watchdog_interval_ms();
        s->notify = getenv("NOTIFY_SOCKET") != NULL;
        /* The listeners now belong to the server, whatever happens next. */
        listeners_init(listeners);
        /* Fails on a unix listener, which needs none. */
        for (size_t i = 0; i < s->listeners.n; i++)
                s->listener_keepalive[i] = fd_set_keepalive(s->listeners.fds[i]) == 0;
        error[0] = 0;
        r = snapshot_new(config, &s->config, error, size);
        if (r < 0)
                return r;
        s->shared = mmap(NULL, sizeof(*s->shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (s->shared == MAP_FAILED) {
                s->shared = NULL;
                return -ENOMEM;
        }
        s->counters = &s->shared->counters;
        s->pending = pending_new((size_t) s->config->max_pending_bytes);
        if (!s->pending)
                return -ENOMEM;
        atomic_init(&s->shared->next_connection_id, 1);
        atomic_init(&s->shared->idle_timeout_ms, idle_timeout_ms(s->config));
        r = admission_init(&s->admission, (unsigned) s->config->max_connections,
                           (unsigned) s->config->max_connections_per_source, s->counters);
        if (r < 0)
                return r;
        s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (s->stop_fd < 0 || s->wake_fd < 0)
                return -errno;
        return 0;
}

void server_done(struct server *s) {
        if (signal_target == s)
                signal_target = NULL;
        stored_stop();
        admission_done(&s->admission);
        pending_free(s->pending);
        s->pending = NULL;
        if (s->shared)
                munmap(s->shared, sizeof(*s->shared));
        s->shared = NULL;
        s->counters = NULL;
        if (s->stop_fd >= 0)
                close(s->stop_fd);
        if (s->wake_fd >= 0)
                close(s->wake_fd);
        listeners_close(&s->listeners);
        server_config_release(s->config);
        s->config = NULL;
        pthread_mutex_destroy(&s->lock);
}

static void wake(int fd) {
        uint64_t one = 1;
        ssize_t n = write(fd, &one, sizeof(one));
        (void) n; /* a full counter already wakes the reader */
}

void server_request_stop(struct server *s) {
        long long expected = -1;

        /* The deadline first: whoever sees `stopping` must find it set. */
        if (!atomic_compare_exchange_strong(&s->drain_deadline, &expected, now_ms() + DRAIN_TIMEOUT_MS))
                return;
        atomic_store(&s->stopping, true);
        wake(s->stop_fd);
}

static void on_signal(int signo) {
        int saved_errno = errno;
        struct server *s = signal_target;

        /* PENDING_SIGNAL only interrupts a wait (see pending.h). */
        if (!s || signo == PENDING_SIGNAL)
                return;
        if (signo == SIGHUP)
                atomic_store(&s->reload_requested, true);
        if (signo == SIGTERM || signo == SIGINT)
                server_request_stop(s);
        else
                wake(s->wake_fd);
        errno = saved_errno;
}

int server_handle_signals(struct server *s) {
        static const int handled[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, PENDING_SIGNAL };
        /* SA_RESTART: a blocking journal write goes on after the handler. The
         * wait loops see EINTR from poll(2) anyway, and look at the flags. */
        struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

        signal_target = s;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < ELEMENTSOF(handled); i++)
                sigaddset(&sa.sa_mask, handled[i]);
        for (size_t i = 0; i < ELEMENTSOF(handled); i++)
                if (sigaction(handled[i], &sa, NULL) < 0)
                        return -errno;
        /* A peer that vanishes before reading "OK <n>" must not kill harkd. */
        if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
                return -errno;
        return 0;
}

void server_abandon(struct server *s, const struct accepted *a, const char *what, int error) {
        log_error("Failed to %s the connection from %s, closing it: %s", what, a->peer.name, strerror(-error));
        (void) close(a->fd);
        server_release(s, a->slot);
}

void server_release(struct server *s, struct admission_slot *slot) {
        unsigned still_open;
        bool resume;

        if (!slot)
                return;
        resume = admission_release(&s->admission, slot, &still_open);

        /* A stopping server waits for the last connection to end. */
        if (resume || (server_stopping(s) && still_open == 0))
                wake(s->wake_fd);
}

/* Connections waiting in the listen queues: for TCP the accept queue's
 * length (TCP_INFO of a listening socket), for others 1 when any waits. */
static unsigned listeners_waiting(struct server *s) {
        unsigned waiting = 0;

        for (size_t i = 0; i < s->listeners.n; i++) {
                struct tcp_info info;
                socklen_t len = sizeof(info);
                struct pollfd pfd = { .fd = s->listeners.fds[i], .events = POLLIN };

                if (getsockopt(pfd.fd, IPPROTO_TCP, TCP_INFO, &info, &len) == 0)
                        waiting += info.tcpi_unacked;
                else if (poll(&pfd, 1, 0) > 0)
                        waiting++;
        }
        return waiting;
}

/* Newcomers that wait for room: in the listen queues while accepting is
 * paused at max_connections, and accepted ones waiting for a worker. */
static unsigned newcomers_waiting(struct server *s) {
        unsigned waiting = atomic_load(&s->waiting_for_worker);

        if (admission_paused(&s->admission))
                waiting += listeners_waiting(s);
        return waiting;
}

/* Evicts quiet connections for the newcomers waiting, if any. */
static unsigned evict_for_newcomers(struct server *s, long long now) {
        unsigned waiting = newcomers_waiting(s);

        return waiting > 0 ? admission_evict(&s->admission, now, waiting) : 0;
}

/* Whether another connection may be accepted now (max_connections); when
 * not, quiet connections are evicted to make room (admission_evict()). */
static bool server_has_room(struct server *s) {
        bool was_paused = admission_paused(&s->admission);

        if (admission_has_room(&s->admission))
                return true;
        /* Just paused, nothing quiet enough yet: the main loop's housekeeping
         * must look again in a while (it may be waiting without a timeout). */
        if (evict_for_newcomers(s, now_ms()) == 0 && !was_paused)
                wake(s->wake_fd);
        return false;
}

void server_note_serving(struct server *s, struct admission_slot *slot) {
        (void) s;
        if (slot)
                admission_serving(slot, now_ms());
}

void server_note_delivering(struct server *s, struct admission_slot *slot, bool delivering) {
        (void) s;
        if (slot)
                atomic_store_explicit(&slot->delivering, delivering, memory_order_relaxed);
}

void server_note_progress(struct server *s, struct admission_slot *slot, long long now) {
        (void) s;
        if (slot)
                admission_progress(slot, now);
}

void server_forget_fd(struct server *s, struct admission_slot *slot) {
        if (slot)
                admission_forget_fd(&s->admission, slot);
}

/* After EMFILE/ENFILE, accepting again at once would only spin. */
#define ACCEPT_BACKOFF_MS 100

/* Accepting failed with error: logs it (at most once a second, *warned_ms
 * remembers) and returns when to try again. */
static long long server_accept_backoff(int error, long long *warned_ms) {
        if (once_per(warned_ms, 1000))
                log_warning("Failed to accept a connection: %s; pausing accept for %d ms", strerror(-error),
                            ACCEPT_BACKOFF_MS);
        return now_ms() + ACCEPT_BACKOFF_MS;
}

/* The one place where a connection becomes the server's. */
/* keepalive: the socket does not have it from its listener. */
static void stamp(struct server *s, int fd, bool keepalive, struct accepted *a) {
        /* Without it the connection of a vanished peer would hold its slot
         * for ever (see fd_set_keepalive()); failing to set it costs only that. */
        if (keepalive && a->peer.family != AF_UNIX)
                (void) fd_set_keepalive(fd);
        a->fd = fd;
        a->id = atomic_fetch_add(&s->shared->next_connection_id, 1);
        atomic_fetch_add(&s->counters->accepted, 1);
}

/* Whether the `allow` list in force lets the peer at sa in. */
static bool allowed(struct server *s, const struct sockaddr_storage *sa) {
        const struct hark_config *config = server_config_acquire(s);
        bool ok = allowlist_permits(&config->allow, (const struct sockaddr *) sa);

        server_config_release(config);
        return ok;
}

int server_adopt(struct server *s, int fd, struct accepted *a) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int r = peer_from_socket(fd, &a->peer);

        if (r >= 0 && getpeername(fd, (struct sockaddr *) &sa, &len) < 0)
                r = -errno;
        if (r < 0) {
                (void) close(fd);
                return r;
        }
        if (!allowed(s, &sa)) {
                admission_refuse_stranger(&s->admission, fd, &a->peer);
                return -EPERM;
        }
        a->slot = NULL;
        a->from_source = 1;
        a->tls = s->listeners.connection_tls;
        stamp(s, fd, true, a);
        return 0;
}

/* Accepts one pending connection from the listener-th listening socket, applying
 * the limits (a refusal is logged and counted); flags as for accept4(2),
 * besides SOCK_CLOEXEC which is always set. Returns 0 with the connection in
 * *a, -EAGAIN when there is none or it was refused, -EMFILE/-ENFILE when out
 * of descriptors (the caller backs off), else -errno. */
static int server_accept_from(struct server *s, size_t listener, int flags, struct accepted *a) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        unsigned open_from_source;
        int fd, r;

        fd = accept4(s->listeners.fds[listener], (struct sockaddr *) &sa, &len, SOCK_CLOEXEC | flags);
        if (fd < 0) {
                r = -errno;
                if (r == -EMFILE || r == -ENFILE || r == -ENOBUFS || r == -ENOMEM)
                        return r;
                /* Nothing pending, or a connection that died while queued. */
                return -EAGAIN;
        }
        r = peer_from_address(fd, &sa, len, &a->peer);
        if (r < 0) {
                (void) close(fd);
                return -EAGAIN;
        }
        /* Before admission: a stranger takes no slot, not even for a moment. */
        if (!allowed(s, &sa)) {
                admission_refuse_stranger(&s->admission, fd, &a->peer);
                return -EAGAIN;
        }
        r = admission_admit(&s->admission, &a->peer, fd, &open_from_source, &a->slot);
        a->from_source = open_from_source + 1;
        if (r == -EBUSY) {
                admission_refuse(&s->admission, fd, &a->peer, open_from_source);
                return -EAGAIN;
        }
        if (r < 0) {
                (void) close(fd);
                return -EAGAIN;
        }
        a->tls = s->listeners.tls[listener];
        stamp(s, fd, !s->listener_keepalive[listener], a);
        return 0;
}

/* Keeps the running values of the settings that need a restart and reports
 * each that changed. Returns 0 or -ENOMEM. */
static int keep_restart_settings(struct hark_config *next, const struct hark_config *running, const char *path) {
        const char *changed[16];
        int n = hark_config_keep_restart_settings(next, running, changed, ELEMENTSOF(changed));

        for (int i = 0; i < n && (size_t) i < ELEMENTSOF(changed); i++)
                log_warning("Setting '%s' changed in %s; it takes effect only when harkd restarts", changed[i], path);
        return n < 0 ? n : 0;
}

/* Main thread only. */
static void reload(struct server *s) {
        struct hark_config next, *installed;
        const struct hark_config *old;
        char error[CONFIG_ERROR_MAX];
        int r;

        notify_reloading();
        hark_config_init(&next);
        r = hark_config_load(&next, s->config_path, error);
        if (r >= 0 && keep_restart_settings(&next, s->config, s->config_path) < 0) {
                r = -ENOMEM;
                snprintf(error, sizeof(error), "%s", strerror(ENOMEM));
        }
        /* Reads the TLS files again: a bad one keeps the running ones. */
        if (r >= 0)
                r = snapshot_new(&next, &installed, error, sizeof(error));
        if (r < 0) {
                log_error("Failed to reload configuration, keeping the running one: %s", error);
                hark_config_done(&next);
                notify_ready();
                return;
        }
        pthread_mutex_lock(&s->lock);
        old = s->config;
        s->config = installed;
        pthread_mutex_unlock(&s->lock);
        server_config_release(old);
        /* Settings marked RELOAD_OPEN_CONNECTIONS in the key table reach open
         * connections here; the others reach new ones through the snapshot. */
        assert(hark_config_reload_kind("timeout") == RELOAD_OPEN_CONNECTIONS);
        assert(hark_config_reload_kind("max_pending_bytes") == RELOAD_OPEN_CONNECTIONS);
        atomic_store(&s->shared->idle_timeout_ms, idle_timeout_ms(installed));
        admission_set_limits(&s->admission, (unsigned) installed->max_connections,
                             (unsigned) installed->max_connections_per_source);
        pending_set_limit(s->pending, (size_t) installed->max_pending_bytes);

        log_setup(installed->log_target);
        log_event(LOG_INFO, EVENT_RELOADED, NULL, 0, "Reloaded configuration from %s%s", s->config_path,
                  server_config_tls(installed) ? " and the TLS certificate and key" : "");
        notify_ready();
}

static void send_status(struct server *s) {
        char text[512];

        counters_format_status(s->counters, admission_open(&s->admission), pending_total(s->pending), text,
                               sizeof(text));
        notify_status(text);
}

int server_housekeeping(struct server *s) {
        long long now, next = -1;

        if (atomic_exchange(&s->reload_requested, false))
                reload(s);
        if (s->driver->on_wake)
                s->driver->on_wake(s);
        now = now_ms();
        /* Connections grow quiet without anyone asking for room again. */
        if (evict_for_newcomers(s, now) > 0 || admission_paused(&s->admission) ||
            atomic_load(&s->waiting_for_worker) > 0)
                next = now + EVICT_CHECK_MS;
        if (s->watchdog_interval_ms > 0) {
                if (now >= s->next_watchdog_ms) {
                        notify_watchdog();
                        s->next_watchdog_ms = now + s->watchdog_interval_ms / 2;
                }
                if (next < 0 || s->next_watchdog_ms < next)
                        next = s->next_watchdog_ms;
        }
        if (s->notify) {
                if (now >= s->next_status_ms) {
                        send_status(s);
                        s->next_status_ms = now + STATUS_INTERVAL_MS;
                }
                if (next < 0 || s->next_status_ms < next)
                        next = s->next_status_ms;
        }
        return ms_until(next);
}

static void drain_eventfd(int fd) {
        uint64_t value;
        ssize_t n = read(fd, &value, sizeof(value));
        (void) n; /* EAGAIN: already drained */
}

int server_accept(struct server *s, int flags, struct accepted *a) {
        for (;;) {
                struct pollfd pfd[2 + LISTENERS_MAX];
                size_t n = 0, first_listener;
                int timeout, r;

                if (server_stopping(s))
                        return -ECANCELED;
                timeout = server_housekeeping(s);
                pfd[n++] = (struct pollfd) { .fd = s->stop_fd, .events = POLLIN };
                pfd[n++] = (struct pollfd) { .fd = s->wake_fd, .events = POLLIN };
                first_listener = n;
                if (s->accept_resume_ms >= 0 && ms_until(s->accept_resume_ms) > 0) {
                        int backoff = ms_until(s->accept_resume_ms);
                        timeout = timeout < 0 || backoff < timeout ? backoff : timeout;
                } else if (server_has_room(s)) {
                        for (size_t i = 0; i < s->listeners.n; i++)
                                pfd[n++] = (struct pollfd) { .fd = s->listeners.fds[i], .events = POLLIN };
                } else if (timeout < 0 || timeout > EVICT_CHECK_MS) {
                        /* Paused just now: housekeeping must look for quiet
                         * connections to evict soon, not at its next errand. */
                        timeout = EVICT_CHECK_MS;
                }
                r = poll(pfd, n, timeout);
                if (r < 0 && errno != EINTR) {
                        r = -errno;
                        log_error("Failed to wait for connections: %s; stopping", strerror(-r));
                        /* Drain what is open, with the usual bound, before giving up. */
                        server_request_stop(s);
                        return r;
                }
                if (r <= 0)
                        continue;
                if (pfd[1].revents)
                        drain_eventfd(s->wake_fd);
                for (size_t i = first_listener; i < n && !server_stopping(s); i++) {
                        if (!pfd[i].revents)
                                continue;
                        r = server_accept_from(s, i - first_listener, flags, a);
                        if (r >= 0)
                                return 0;
                        if (r == -EAGAIN)
                                continue;
                        s->accept_resume_ms = server_accept_backoff(r, &s->accept_warned_ms);
                        break;
                }
        }
}

static bool wait_idle(struct server *s, long long deadline) {
        for (;;) {
                struct pollfd pfd = { .fd = s->wake_fd, .events = POLLIN };
                bool idle;
                int timeout;

                if (s->driver->on_wake)
                        s->driver->on_wake(s);
                idle = admission_open(&s->admission) == 0;
                timeout = ms_until(deadline);
                if (idle || timeout == 0)
                        return idle;
                if (poll(&pfd, 1, timeout) > 0)
                        drain_eventfd(s->wake_fd);
        }
}

bool server_drain(struct server *s) {
        assert(server_stopping(s));
        notify_stopping();
        log_event(LOG_INFO, EVENT_STOPPING, NULL, 0,
                  "Stopping: no longer accepting; %u open connections get up to %d ms to finish",
                  admission_open(&s->admission), DRAIN_TIMEOUT_MS);
        return wait_idle(s, atomic_load(&s->drain_deadline) + DRAIN_GRACE_MS);
}

