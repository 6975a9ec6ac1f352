/* `epoll`: non-blocking sockets served by `workers` event loops, one thread
 * each. Every loop watches all listening sockets (EPOLLEXCLUSIVE wakes one
 * loop per connection) and owns the connections it accepted. Timeouts need
 * no timer per connection: a loop keeps the connections with a message
 * pending in the order their messages began (pending_since_ms, which only
 * grows), so the head's deadline is always the next; the others, which have
 * no deadline, wait in a list of their own. TLS connections still in their
 * handshake wait in a third, in the order they opened: their bound is the
 * same for all. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "connection.h"
#include "log.h"
#include "mode.h"
#include "util.h"

#define EVENTS_PER_WAIT 256
/* Accepting is cheap; a burst per wake-up keeps the backlog short. */
#define ACCEPTS_PER_WAKE 64
#define READ_BUFFER_SIZE 65536
/* How often a loop that stopped accepting for lack of room looks again. */
#define PAUSED_RECHECK_MS 250

struct loop {
        struct server *server;
        int epoll_fd;
        pthread_t thread;
        /* Addresses that tag the epoll events of the listeners and of stop_fd. */
        int listener_tags[LISTENERS_MAX];
        int stop_tag;
        bool listening;
        bool stopping;
        long long accept_resume_ms;     /* after EMFILE/ENFILE; -1 when not backing off */
        long long accept_warned_ms;     /* at most one warning a second */
        struct list handshaking, pending, quiet;
        char buffer[READ_BUFFER_SIZE];
};

static void list_remove(struct connection *c) {
        struct list *list = c->list;

        *(c->prev ? &c->prev->next : &list->head) = c->next;
        *(c->next ? &c->next->prev : &list->tail) = c->prev;
        c->prev = c->next = NULL;
        c->list = NULL;
}

static void list_append(struct list *list, struct connection *c) {
        c->prev = list->tail;
        c->next = NULL;
        *(list->tail ? &list->tail->next : &list->head) = c;
        list->tail = c;
        c->list = list;
}

/* Into the list its state says, at the tail when its message began anew. */
static void file(struct loop *l, struct connection *c, long long pending_since_before) {
        struct list *want = c->handshaking ? &l->handshaking : c->pending_since_ms > 0 ? &l->pending : &l->quiet;

        if (c->list == want && c->pending_since_ms == pending_since_before)
                return;
        if (c->list)
                list_remove(c);
        list_append(want, c);
}

static bool loop_empty(const struct loop *l) {
        return !l->handshaking.head && !l->pending.head && !l->quiet.head;
}

static struct connection *any_connection(const struct loop *l) {
        return l->handshaking.head ? l->handshaking.head : l->pending.head ? l->pending.head : l->quiet.head;
}

static int watch(struct loop *l, int op, int fd, uint32_t events, void *tag) {
        struct epoll_event ev = { .events = events, .data.ptr = tag };

        return epoll_ctl(l->epoll_fd, op, fd, &ev) < 0 ? -errno : 0;
}

static void set_listening(struct loop *l, bool on) {
        struct server *s = l->server;

        if (l->listening == on)
                return;
        for (size_t i = 0; i < s->listeners.n; i++)
                if (on)
                        watch(l, EPOLL_CTL_ADD, s->listeners.fds[i], EPOLLIN | EPOLLEXCLUSIVE, &l->listener_tags[i]);
                else
                        watch(l, EPOLL_CTL_DEL, s->listeners.fds[i], 0, NULL);
        l->listening = on;
}

static void close_connection(struct loop *l, struct connection *c, enum connection_end why) {
        struct admission_slot *slot = c->slot;

        connection_end(c, why);
        list_remove(c);
        connection_done(c);
        free(c);
        server_release(l->server, slot);
        /* A slot is free again: resume accepting unless stopping or backing off. */
        if (!l->stopping && l->accept_resume_ms < 0 && server_has_room(l->server))
                set_listening(l, true);
}

/* A few reads per wake-up at most keep the loop fair: a sender faster than
 * journald would otherwise hold it (level-triggered epoll reports the rest
 * next round). When the peer has closed (EPOLLRDHUP), reading on to its end
 * usually saves a wake-up. */
#define READS_PER_WAKE_AFTER_CLOSE 4

static void on_readable(struct loop *l, struct connection *c, uint32_t events) {
        int reads = events & EPOLLRDHUP ? READS_PER_WAKE_AFTER_CLOSE : 1;
        long long pending_since = c->pending_since_ms;
        ssize_t n;

        do
                n = connection_receive(c, l->buffer, sizeof(l->buffer));
        while (n > 0 && --reads > 0);
        if (n == 0 || (n < 0 && n != -EAGAIN)) {
                close_connection(l, c, n == 0 ? CONNECTION_EOF : CONNECTION_FAILED);
                return;
        }
        /* A TLS handshake may wait for room to write instead of for bytes. */
        if (c->wants_write != c->watching_write &&
            watch(l, EPOLL_CTL_MOD, c->fd, c->wants_write ? EPOLLOUT : EPOLLIN | EPOLLRDHUP, c) == 0)
                c->watching_write = c->wants_write;
        file(l, c, pending_since);
        if (n == -EAGAIN)
                connection_trim(c);
}

static int add_connection(struct loop *l, const struct accepted *a) {
        struct connection *c = malloc(sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        r = watch(l, EPOLL_CTL_ADD, a->fd, EPOLLIN | EPOLLRDHUP, c);
        if (r < 0) {
                free(c);
                return r;
        }
        connection_init(c, l->server, a);
        list_append(c->handshaking ? &l->handshaking : &l->quiet, c);
        /* A short-lived client has often sent (and closed) already: read now
         * rather than after another round through epoll_wait(). */
        on_readable(l, c, EPOLLRDHUP);
        return 0;
}

static void accept_connections(struct loop *l, int listen_fd) {
        struct server *s = l->server;

        for (int i = 0; i < ACCEPTS_PER_WAKE; i++) {
                struct accepted a;
                int r;

                if (!server_has_room(s)) {
                        set_listening(l, false);
                        return;
                }
                r = server_accept_from(s, listen_fd, SOCK_NONBLOCK, &a);
                if (r == -EAGAIN)
                        return;
                if (r < 0) {
                        l->accept_resume_ms = server_accept_backoff(r, &l->accept_warned_ms);
                        set_listening(l, false);
                        return;
                }
                r = add_connection(l, &a);
                if (r < 0) {
                        log_error("Failed to take on the connection from %s, closing it: %s", a.peer.name,
                                  strerror(-r));
                        (void) close(a.fd);
                        server_release(s, a.slot);
                }
        }
}

static void begin_stopping(struct loop *l) {
        l->stopping = true;
        set_listening(l, false);
        watch(l, EPOLL_CTL_DEL, l->server->stop_fd, 0, NULL);
}

/* Ends connections whose deadline passed; returns the wait until the next. */
static int expire(struct loop *l) {
        long long drain = l->stopping ? atomic_load(&l->server->drain_deadline) : -1;
        int timeout = -1, handshake_wait = -1;

        if (drain >= 0 && ms_until(drain) == 0)
                while (!loop_empty(l))
                        close_connection(l, any_connection(l), CONNECTION_DRAINED);
        while (l->handshaking.head && (handshake_wait = connection_poll_timeout(l->handshaking.head)) == 0)
                close_connection(l, l->handshaking.head, connection_deadline_reason(l->handshaking.head));
        if (!l->handshaking.head)
                handshake_wait = -1;
        /* A busy loop may reach a connection late, and bytes waiting unread
         * then are not the message being slow. */
        while (l->pending.head && (timeout = connection_poll_timeout(l->pending.head)) == 0) {
                struct connection *c = l->pending.head;
                uint64_t id = c->id;

                /* Read once what came: a message it ends was not late. One
                 * still unended is, however fast its bytes come. */
                if (!l->stopping && connection_has_unread_data(c)) {
                        on_readable(l, c, 0);
                        c = l->pending.head;
                        if (!c || c->id != id || connection_poll_timeout(c) > 0)
                                continue;
                }
                close_connection(l, c, connection_deadline_reason(c));
        }
        /* Without a message pending only the drain bound applies. */
        if (!l->pending.head && l->quiet.head)
                timeout = connection_poll_timeout(l->quiet.head);
        if (handshake_wait >= 0 && (timeout < 0 || handshake_wait < timeout))
                timeout = handshake_wait;
        /* A slot freed by another loop, or a reload, may make room again:
         * look at least every PAUSED_RECHECK_MS (nothing wakes this loop
         * for it, and it may hold no connection to wake it). */
        if (!l->listening && !l->stopping && l->accept_resume_ms < 0) {
                if (server_has_room(l->server))
                        set_listening(l, true);
                else if (timeout < 0 || timeout > PAUSED_RECHECK_MS)
                        timeout = PAUSED_RECHECK_MS;
        }
        if (l->accept_resume_ms >= 0) {
                int backoff = ms_until(l->accept_resume_ms);
                if (backoff == 0 && !l->stopping) {
                        l->accept_resume_ms = -1;
                        set_listening(l, server_has_room(l->server));
                } else if (timeout < 0 || backoff < timeout)
                        timeout = backoff;
        }
        return !loop_empty(l) || !l->stopping ? timeout : ms_until(drain);
}

static void *loop_run(void *arg) {
        struct loop *l = arg;
        struct epoll_event events[EVENTS_PER_WAIT];

        for (;;) {
                int timeout = expire(l), n;

                if (l->stopping && loop_empty(l))
                        break;
                n = epoll_wait(l->epoll_fd, events, EVENTS_PER_WAIT, timeout);
                for (int i = 0; i < n; i++) {
                        void *tag = events[i].data.ptr;

                        if (tag == &l->stop_tag)
                                begin_stopping(l);
                        else if (tag >= (void *) l->listener_tags && tag < (void *) (l->listener_tags + LISTENERS_MAX)) {
                                if (!l->stopping)
                                        accept_connections(l, *(int *) tag);
                        } else
                                on_readable(l, tag, events[i].events);
                }
        }
        return NULL;
}

static int loop_init(struct loop *l, struct server *s) {
        int r;

        l->server = s;
        l->accept_resume_ms = l->accept_warned_ms = -1;
        l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epoll_fd < 0)
                return -errno;
        for (size_t i = 0; i < s->listeners.n; i++)
                l->listener_tags[i] = s->listeners.fds[i];
        r = watch(l, EPOLL_CTL_ADD, s->stop_fd, EPOLLIN, &l->stop_tag);
        if (r < 0)
                return r;
        set_listening(l, true);
        return 0;
}

static int run_epoll(struct server *s) {
        int n = mode_worker_count(s), started = 0, r = 0;
        struct loop *loops = calloc((size_t) n, sizeof(*loops));

        if (!loops)
                return -ENOMEM;
        for (; started < n; started++) {
                r = loop_init(&loops[started], s);
                if (r >= 0)
                        r = -pthread_create(&loops[started].thread, NULL, loop_run, &loops[started]);
                if (r < 0) {
                        log_error("Failed to start event loop %d: %s", started, strerror(-r));
                        if (loops[started].epoll_fd > 0)
                                (void) close(loops[started].epoll_fd);
                        break;
                }
        }
        if (started > 0)
                server_wait_for_stop(s);
        else
                server_request_stop(s);
        if (!server_drain(s))
                return -EBUSY;
        /* No connection is left: each loop ends at its next wake-up. */
        for (int i = 0; i < started; i++) {
                pthread_join(loops[i].thread, NULL);
                (void) close(loops[i].epoll_fd);
        }
        free(loops);
        return started > 0 ? 0 : r;
}

const struct server_driver mode_epoll = { .name = "epoll", .run = run_epoll };
