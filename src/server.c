#include "server.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "notify.h"
#include "util.h"

#define SOURCE_BUCKETS 1024
#define STATUS_INTERVAL_MS 2000

struct source {
        struct source *next;
        unsigned count;
        char address[];
};

static struct server *signal_target;

static int timeout_ms(const struct hark_config *config) {
        int ms = (int) (config->timeout * 1000.0 + 0.5);

        /* A positive timeout below half a millisecond must not mean "never". */
        return ms == 0 && config->timeout > 0 ? 1 : ms;
}

int server_init(struct server *s, const char *config_path, struct hark_config *config,
                struct listeners *listeners) {
        memset(s, 0, sizeof(*s));
        s->config_path = config_path;
        s->config = *config;
        s->listeners = *listeners;
        s->stop_fd = s->wake_fd = -1;
        pthread_mutex_init(&s->lock, NULL);
        atomic_init(&s->drain_deadline, -1);
        s->accept_resume_ms = s->accept_warned_ms = -1;
        s->stats = mmap(NULL, sizeof(*s->stats), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        s->sources = calloc(SOURCE_BUCKETS, sizeof(*s->sources));
        s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        s->watchdog_interval_ms = notify_watchdog_interval_ms();
        s->notify = getenv("NOTIFY_SOCKET") != NULL;
        /* config and listeners now belong to the server, whatever happens next. */
        memset(config, 0, sizeof(*config));
        listeners_init(listeners);
        if (s->stats == MAP_FAILED) {
                s->stats = NULL;
                return -ENOMEM;
        }
        if (!s->sources)
                return -ENOMEM;
        if (s->stop_fd < 0 || s->wake_fd < 0)
                return -errno;
        atomic_init(&s->stats->next_connection_id, 1);
        atomic_init(&s->stats->timeout_ms, timeout_ms(&s->config));
        return 0;
}

void server_done(struct server *s) {
        if (signal_target == s)
                signal_target = NULL;
        if (s->sources)
                for (size_t i = 0; i < SOURCE_BUCKETS; i++)
                        while (s->sources[i]) {
                                struct source *next = s->sources[i]->next;
                                free(s->sources[i]);
                                s->sources[i] = next;
                        }
        free(s->sources);
        if (s->stats)
                munmap(s->stats, sizeof(*s->stats));
        if (s->stop_fd >= 0)
                close(s->stop_fd);
        if (s->wake_fd >= 0)
                close(s->wake_fd);
        listeners_close(&s->listeners);
        hark_config_done(&s->config);
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

        if (!s)
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
        static const int handled[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
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

void server_settings(struct server *s, struct connection_settings *settings) {
        pthread_mutex_lock(&s->lock);
        settings->priority = s->config.priority;
        settings->max_message_size = (size_t) s->config.max_message_size;
        snprintf(settings->identifier, sizeof(settings->identifier), "%s", s->config.identifier);
        pthread_mutex_unlock(&s->lock);
}

uint64_t server_next_connection_id(struct server *s) {
        return atomic_fetch_add(&s->stats->next_connection_id, 1);
}

/* FNV-1a: spreads addresses over the buckets well enough. */
static struct source **source_slot(struct server *s, const char *address) {
        uint32_t h = 2166136261u;
        struct source **p;

        for (const char *c = address; *c; c++)
                h = (h ^ (unsigned char) *c) * 16777619u;
        for (p = &s->sources[h % SOURCE_BUCKETS]; *p; p = &(*p)->next)
                if (strcmp((*p)->address, address) == 0)
                        break;
        return p;
}

/* Takes a slot for peer under the limits; -EBUSY when its source is full. */
static int admit(struct server *s, const struct peer *peer, unsigned *open_from_source) {
        struct source **slot;
        int r = 0;

        pthread_mutex_lock(&s->lock);
        slot = source_slot(s, peer->address);
        *open_from_source = *slot ? (*slot)->count : 0;
        if (s->config.max_connections_per_source > 0 &&
            *open_from_source >= (unsigned) s->config.max_connections_per_source) {
                r = -EBUSY;
                goto out;
        }
        if (!*slot) {
                size_t len = strlen(peer->address) + 1;
                *slot = malloc(sizeof(**slot) + len);
                if (!*slot) {
                        r = -ENOMEM;
                        goto out;
                }
                (*slot)->next = NULL;
                (*slot)->count = 0;
                memcpy((*slot)->address, peer->address, len);
        }
        (*slot)->count++;
        s->active++;
        atomic_store(&s->stats->active, s->active);
out:
        pthread_mutex_unlock(&s->lock);
        return r;
}

/* Under lock. */
static unsigned connection_limit(const struct server *s) {
        unsigned limit = (unsigned) s->config.max_connections;

        return s->mode_limit > 0 && s->mode_limit < limit ? s->mode_limit : limit;
}

void server_release(struct server *s, const struct peer *peer) {
        struct source **slot;
        bool woke = false;

        pthread_mutex_lock(&s->lock);
        slot = source_slot(s, peer->address);
        if (*slot && --(*slot)->count == 0) {
                struct source *gone = *slot;
                *slot = gone->next;
                free(gone);
        }
        s->active--;
        atomic_store(&s->stats->active, s->active);
        if (s->accepting_paused && s->active < connection_limit(s)) {
                s->accepting_paused = false;
                woke = true;
        }
        /* A stopping server waits for the last connection to end. */
        woke = woke || (server_stopping(s) && s->active == 0);
        pthread_mutex_unlock(&s->lock);
        if (woke)
                wake(s->wake_fd);
}

bool server_has_room(struct server *s) {
        bool room;

        pthread_mutex_lock(&s->lock);
        room = s->active < connection_limit(s);
        s->accepting_paused = !room;
        pthread_mutex_unlock(&s->lock);
        return room;
}

long long server_accept_backoff(int error, long long *warned_ms) {
        if (once_per(warned_ms, 1000))
                log_warning("Failed to accept a connection: %s; pausing accept for %d ms", strerror(-error),
                            ACCEPT_BACKOFF_MS);
        return now_ms() + ACCEPT_BACKOFF_MS;
}

static void refuse(struct server *s, int fd, const struct peer *peer, unsigned open_from_source) {
        static struct log_ratelimit ratelimit = LOG_RATELIMIT_INIT;
        struct iovec fields[2];
        char source[96];
        unsigned suppressed;

        atomic_fetch_add(&s->stats->refused, 1);
        close(fd);
        if (!log_ratelimit_pass(&ratelimit, &suppressed))
                return;

        /* For a unix peer the source is its user (see peer_from_address()). */
        if (peer->family == AF_UNIX)
                snprintf(source, sizeof(source), "REMOTE_UID=%u", (unsigned) peer->uid);
        else
                snprintf(source, sizeof(source), "REMOTE_ADDR=%s", peer->address);
        fields[0] = (struct iovec) { source, strlen(source) };
        fields[1] = (struct iovec) { (char *) "HARK_REFUSED=per-source", 23 };
        log_event(LOG_WARNING, EVENT_CONN_REFUSED, fields, 2,
                  "Refused connection from %s: %u connections from this source already open "
                  "(max_connections_per_source); %u similar refusals not logged before this one",
                  peer->name, open_from_source, suppressed);
}

int server_accept_from(struct server *s, int listen_fd, int flags, struct peer *peer) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        unsigned open_from_source;
        int fd, r;

        fd = accept4(listen_fd, (struct sockaddr *) &sa, &len, SOCK_CLOEXEC | flags);
        if (fd < 0) {
                r = -errno;
                if (r == -EMFILE || r == -ENFILE || r == -ENOBUFS || r == -ENOMEM)
                        return r;
                /* Nothing pending, or a connection that died while queued. */
                return -EAGAIN;
        }
        r = peer_from_address(fd, &sa, len, peer);
        if (r < 0) {
                close(fd);
                return -EAGAIN;
        }
        r = admit(s, peer, &open_from_source);
        if (r < 0) {
                if (r == -EBUSY)
                        refuse(s, fd, peer, open_from_source);
                else
                        close(fd);
                return -EAGAIN;
        }
        atomic_fetch_add(&s->stats->accepted, 1);
        return fd;
}

/* Settings that need new sockets or another driver keep their running values
 * in next; each one that changed is reported. Main thread only. */
static void keep_restart_settings(struct hark_config *next, const struct hark_config *running, const char *path) {
        const char *changed[5];
        size_t n = 0;

        if (strcmp(next->host, running->host) != 0) {
                changed[n++] = "host";
                free(next->host);
                next->host = strdup(running->host);
        }
        if (next->port != running->port)
                changed[n++] = "port";
        if (next->backlog != running->backlog)
                changed[n++] = "backlog";
        if (next->concurrency != running->concurrency)
                changed[n++] = "concurrency";
        if (next->workers != running->workers)
                changed[n++] = "workers";
        next->port = running->port;
        next->backlog = running->backlog;
        next->concurrency = running->concurrency;
        next->workers = running->workers;
        for (size_t i = 0; i < n; i++)
                log_warning("Setting '%s' changed in %s; it takes effect only when harkd restarts", changed[i], path);
}

static void reload(struct server *s) {
        struct hark_config next;
        char error[CONFIG_ERROR_MAX];
        int r;

        notify_reloading();
        hark_config_init(&next);
        r = hark_config_load(&next, s->config_path, error);
        if (r >= 0)
                keep_restart_settings(&next, &s->config, s->config_path);
        if (r < 0 || !next.host) {
                log_error("Failed to reload configuration, keeping the running one: %s",
                          r < 0 ? error : strerror(ENOMEM));
                hark_config_done(&next);
                notify_ready();
                return;
        }
        pthread_mutex_lock(&s->lock);
        hark_config_done(&s->config);
        s->config = next;
        atomic_store(&s->stats->timeout_ms, timeout_ms(&next));
        pthread_mutex_unlock(&s->lock);

        log_setup(s->config.log_target);
        log_event(LOG_INFO, EVENT_RELOADED, NULL, 0, "Reloaded configuration from %s", s->config_path);
        notify_ready();
}

int server_housekeeping(struct server *s) {
        long long now, next = -1;

        if (atomic_exchange(&s->reload_requested, false))
                reload(s);
        if (s->on_wake)
                s->on_wake(s, s->on_wake_userdata);
        now = now_ms();
        if (s->watchdog_interval_ms > 0) {
                if (now >= s->next_watchdog_ms) {
                        notify_watchdog();
                        s->next_watchdog_ms = now + s->watchdog_interval_ms / 2;
                }
                next = s->next_watchdog_ms;
        }
        if (s->notify) {
                if (now >= s->next_status_ms) {
                        notify_status(s->stats);
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

int server_accept(struct server *s, struct peer *peer) {
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
                        r = server_accept_from(s, pfd[i].fd, 0, peer);
                        if (r >= 0)
                                return r;
                        if (r == -EAGAIN)
                                continue;
                        s->accept_resume_ms = server_accept_backoff(r, &s->accept_warned_ms);
                        break;
                }
        }
}

void server_begin_drain(struct server *s) {
        unsigned open;

        pthread_mutex_lock(&s->lock);
        open = s->active;
        pthread_mutex_unlock(&s->lock);
        notify_stopping();
        log_event(LOG_INFO, EVENT_STOPPING, NULL, 0,
                  "Stopping: no longer accepting; %u open connections get up to %d ms to finish",
                  open, DRAIN_TIMEOUT_MS);
}

bool server_wait_idle(struct server *s, long long deadline) {
        for (;;) {
                struct pollfd pfd = { .fd = s->wake_fd, .events = POLLIN };
                bool idle;
                int timeout;

                if (s->on_wake)
                        s->on_wake(s, s->on_wake_userdata);
                pthread_mutex_lock(&s->lock);
                idle = s->active == 0;
                pthread_mutex_unlock(&s->lock);
                timeout = ms_until(deadline);
                if (idle || timeout == 0)
                        return idle;
                if (poll(&pfd, 1, timeout) > 0)
                        drain_eventfd(s->wake_fd);
        }
}

void server_wait_for_stop(struct server *s) {
        while (!server_stopping(s)) {
                struct pollfd pfd[2] = {
                        { .fd = s->stop_fd, .events = POLLIN },
                        { .fd = s->wake_fd, .events = POLLIN },
                };

                if (poll(pfd, 2, server_housekeeping(s)) > 0 && pfd[1].revents)
                        drain_eventfd(s->wake_fd);
        }
}
