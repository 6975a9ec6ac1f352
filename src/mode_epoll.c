/* `epoll`: non-blocking sockets served by `workers` event loops, one thread
 * each. The main thread accepts (server_accept(), as pool and thread do) and
 * hands each connection to the loops in turn, so that a loop waiting for
 * room in journald's queue never holds new connections back: with the loops
 * accepting for themselves, short connections overflowed the listen queue
 * while both were blocked in a journal write. Each loop owns the connections
 * it was handed. Timeouts need no timer per connection: a loop keeps the
 * connections with a message pending in the order their messages began
 * (pending_since_ms, which only grows), so the head's deadline is always the
 * next; the others, which have no deadline, wait in a list of their own. TLS
 * connections still in their handshake wait in a third, in the order they
 * opened: their bound is the same for all. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "answerer.h"
#include "connection.h"
#include "journal.h"
#include "log.h"
#include "mode.h"
#include "util.h"

#define EVENTS_PER_WAIT 256
#define READ_BUFFER_SIZE 65536

/* An accepted connection on its way from the main thread to a loop. */
struct handover {
        struct handover *next;
        struct accepted connection;
};

/* Guarded by lock: what the main thread handed over and the loop has not
 * taken yet, and whether it will hand over more. */
struct inbox {
        pthread_mutex_t lock;
        struct handover *head, **tail;
        bool closed;
        int fd;                         /* an eventfd: something was handed over */
};

struct loop {
        struct server *server;
        int epoll_fd;
        pthread_t thread;
        struct inbox inbox;
        /* Addresses that tag the epoll events of the inbox and stop_fd. */
        int inbox_tag, stop_tag;
        bool stopping;
        struct list handshaking, pending, quiet;
        char buffer[READ_BUFFER_SIZE];
};

/* Into the list its state says, at the tail when its message began anew. */
static void file(struct loop *l, struct connection *c, long long pending_since_before) {
        struct list *want = c->handshaking ? &l->handshaking : c->pending_since_ms > 0 ? &l->pending : &l->quiet;

        if (c->list == want && c->pending_since_ms == pending_since_before)
                return;
        if (c->list)
                connection_list_remove(c);
        connection_list_append(want, c);
}

static bool loop_empty(const struct loop *l) {
        return !l->handshaking.head && !l->pending.head && !l->quiet.head;
}

/* One of its connections, or NULL. */
static struct connection *any_connection(const struct loop *l) {
        return l->handshaking.head ? l->handshaking.head : l->pending.head ? l->pending.head : l->quiet.head;
}

static int watch(struct loop *l, int op, int fd, uint32_t events, void *tag) {
        struct epoll_event ev = { .events = events, .data.ptr = tag };

        return epoll_ctl(l->epoll_fd, op, fd, &ev) < 0 ? -errno : 0;
}

static void close_connection(struct loop *l, struct connection *c, enum connection_end why) {
        bool waits = connection_end_waits(c, why);

        connection_list_remove(c);
        if (waits) {
                /* Its stream has ended: level-triggered, it would wake the
                 * loop on and on. Without an answerer, it is answered with
                 * what is known now, fewer rather than more. */
                (void) watch(l, EPOLL_CTL_DEL, c->fd, 0, NULL);
                if (answerer_take(c) == 0)
                        return;
                connection_answer(c);
        }
        connection_free(c);
}

/* The sooner of two poll(2) timeouts (-1: none). */
static int sooner(int a, int b) {
        return a < 0 || (b >= 0 && b < a) ? b : a;
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
        connection_list_append(c->handshaking ? &l->handshaking : &l->quiet, c);
        /* A short-lived client has often sent (and closed) already: read now
         * rather than after another round through epoll_wait(). */
        on_readable(l, c, EPOLLRDHUP);
        return 0;
}

/* Takes on what the main thread handed over. */
static void take_inbox(struct loop *l) {
        struct handover *h;
        eventfd_t ignored;

        (void) eventfd_read(l->inbox.fd, &ignored); /* EAGAIN: taken already */
        pthread_mutex_lock(&l->inbox.lock);
        h = l->inbox.head;
        l->inbox.head = NULL;
        l->inbox.tail = &l->inbox.head;
        pthread_mutex_unlock(&l->inbox.lock);
        while (h) {
                struct handover *next = h->next;
                int r = add_connection(l, &h->connection);

                if (r < 0)
                        server_abandon(l->server, &h->connection, "take on", r);
                free(h);
                h = next;
        }
}

/* A loop ends once stopping, without connections, and with nothing more to
 * come from the main thread. */
static bool loop_done(struct loop *l) {
        bool done;

        if (!l->stopping || !loop_empty(l))
                return false;
        pthread_mutex_lock(&l->inbox.lock);
        done = l->inbox.closed && !l->inbox.head;
        pthread_mutex_unlock(&l->inbox.lock);
        return done;
}

static void begin_stopping(struct loop *l) {
        l->stopping = true;
        watch(l, EPOLL_CTL_DEL, l->server->stop_fd, 0, NULL);
}

/* Ends connections whose deadline passed; returns the wait until the next. */
static int expire(struct loop *l) {
        long long drain = l->stopping ? atomic_load(&l->server->drain_deadline) : -1;
        int timeout = -1, handshake_wait = -1;
        struct connection *open;

        if (drain >= 0 && ms_until(drain) == 0)
                while ((open = any_connection(l)))
                        close_connection(l, open, CONNECTION_DRAINED);
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
        timeout = sooner(timeout, handshake_wait);
        return !loop_empty(l) || !l->stopping ? timeout : ms_until(drain);
}

static void *loop_run(void *arg) {
        struct loop *l = arg;
        struct epoll_event events[EVENTS_PER_WAIT];

        /* Failing, it shares the common link: slower, not wrong. */
        (void) journal_link_own();

        for (;;) {
                int timeout = expire(l), n;

                if (loop_done(l))
                        break;
                n = epoll_wait(l->epoll_fd, events, EVENTS_PER_WAIT, timeout);
                /* Maybe PENDING_SIGNAL: another loop asks one of these for
                 * its buffer (pending.h), which connection_trim() gives. */
                if (n < 0 && errno == EINTR)
                        for (struct connection *c = l->pending.head; c; c = c->next)
                                connection_trim(c);
                for (int i = 0; i < n; i++) {
                        void *tag = events[i].data.ptr;

                        if (tag == &l->stop_tag)
                                begin_stopping(l);
                        else if (tag == &l->inbox_tag)
                                take_inbox(l);
                        else
                                on_readable(l, tag, events[i].events);
                }
        }
        journal_link_release();
        return NULL;
}

static int loop_init(struct loop *l, struct server *s) {
        int r;

        l->server = s;
        l->inbox.tail = &l->inbox.head;
        pthread_mutex_init(&l->inbox.lock, NULL);
        l->inbox.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (l->inbox.fd < 0)
                return -errno;
        l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epoll_fd < 0)
                return -errno;
        r = watch(l, EPOLL_CTL_ADD, s->stop_fd, EPOLLIN, &l->stop_tag);
        if (r >= 0)
                r = watch(l, EPOLL_CTL_ADD, l->inbox.fd, EPOLLIN, &l->inbox_tag);
        return r;
}

static void loop_free(struct loop *l) {
        assert(!l->inbox.head);
        if (l->epoll_fd >= 0)
                (void) close(l->epoll_fd);
        if (l->inbox.fd >= 0)
                (void) close(l->inbox.fd);
        pthread_mutex_destroy(&l->inbox.lock);
}

/* The eventfd is written only when the inbox was empty: the loop takes
 * everything at once. */
static int hand_over(struct loop *l, const struct accepted *a) {
        struct handover *h = malloc(sizeof(*h));
        bool was_empty;

        if (!h)
                return -ENOMEM;
        *h = (struct handover) { .connection = *a };
        pthread_mutex_lock(&l->inbox.lock);
        was_empty = !l->inbox.head;
        *l->inbox.tail = h;
        l->inbox.tail = &h->next;
        pthread_mutex_unlock(&l->inbox.lock);
        if (was_empty)
                (void) eventfd_write(l->inbox.fd, 1); /* a full counter wakes it too */
        return 0;
}

static void close_inbox(struct loop *l) {
        pthread_mutex_lock(&l->inbox.lock);
        l->inbox.closed = true;
        pthread_mutex_unlock(&l->inbox.lock);
        (void) eventfd_write(l->inbox.fd, 1);
}

/* Accepts until stopped, handing connections to the loops in turn. */
static int accept_into(struct server *s, struct loop *loops, int n) {
        struct accepted a;
        int next = 0, r;

        while ((r = server_accept(s, SOCK_NONBLOCK, &a)) >= 0) {
                int handed = hand_over(&loops[next], &a);

                next = (next + 1) % n;
                if (handed < 0)
                        server_abandon(s, &a, "hand over", handed);
        }
        return r == -ECANCELED ? 0 : r;
}

static int run_epoll(struct server *s) {
        int n = mode_worker_count(s), started = 0, r = 0;
        struct loop *loops = calloc((size_t) n, sizeof(*loops));

        if (!loops)
                return -ENOMEM;
        for (; started < n; started++) {
                loops[started].epoll_fd = loops[started].inbox.fd = -1;
                r = loop_init(&loops[started], s);
                if (r >= 0)
                        r = -pthread_create(&loops[started].thread, NULL, loop_run, &loops[started]);
                if (r < 0) {
                        log_error("Failed to start event loop %d: %s", started, strerror(-r));
                        loop_free(&loops[started]);
                        break;
                }
        }
        if (started > 0)
                r = accept_into(s, loops, started);
        else
                server_request_stop(s);
        for (int i = 0; i < started; i++)
                close_inbox(&loops[i]);
        if (!server_drain(s))
                return -EBUSY;
        /* No connection is left: each loop ends at its next wake-up. */
        for (int i = 0; i < started; i++) {
                pthread_join(loops[i].thread, NULL);
                loop_free(&loops[i]);
        }
        free(loops);
        return r;
}

const struct server_driver mode_epoll = { .name = "epoll", .run = run_epoll, .hands_off_answers = true };
