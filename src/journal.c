#include "journal.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/sockios.h>

bool journal_present(void) {
        struct stat st;

        return stat(JOURNAL_SOCKET_PATH, &st) == 0;
}

/* The native protocol's two forms of a field: "NAME=value\n", or, for a
 * value with a line feed in it, "NAME\n", its length as 64-bit little
 * endian, the value and "\n". */
struct native_entry {
        struct iovec iov[JOURNAL_FIELDS_MAX * 5];       /* the binary form takes 5 */
        unsigned char lengths[JOURNAL_FIELDS_MAX][8];
        size_t n;
        size_t size;                                    /* bytes in all */
};

static int native_entry_build(struct native_entry *e, const struct iovec *fields, size_t n_fields) {
        static char newline = '\n';

        if (n_fields > JOURNAL_FIELDS_MAX)
                return -E2BIG;
        e->n = e->size = 0;
        for (size_t i = 0; i < n_fields; i++) {
                const char *f = fields[i].iov_base, *eq = memchr(f, '=', fields[i].iov_len);
                size_t name = eq ? (size_t) (eq - f) : 0, size;

                if (!eq || name == 0)
                        return -EINVAL;
                size = fields[i].iov_len - name - 1;
                if (!memchr(eq + 1, '\n', size)) {
                        e->iov[e->n++] = fields[i];
                } else {
                        uint64_t le = size;

                        for (int b = 0; b < 8; b++, le >>= 8)
                                e->lengths[i][b] = (unsigned char) (le & 0xff);
                        e->iov[e->n++] = (struct iovec) { (char *) f, name };
                        e->iov[e->n++] = (struct iovec) { &newline, 1 };
                        e->iov[e->n++] = (struct iovec) { e->lengths[i], 8 };
                        e->iov[e->n++] = (struct iovec) { (char *) eq + 1, size };
                        e->size += 9;
                }
                e->iov[e->n++] = (struct iovec) { &newline, 1 };
                e->size += fields[i].iov_len + 1;
        }
        return 0;
}

/* Entries are built here, under the lock: sends are one at a time anyway,
 * and 11 KiB on the stack of every connection thread (`thread` mode: a
 * thousand of them) is what it would cost. The streams' sockets are
 * connected to journald's: the path is looked up once, not for every entry
 * (sd_journal_sendv() does, a few per cent of harkd's CPU), and a journald
 * that went away shows at once (ECONNREFUSED). */
struct journal_link {
        pthread_mutex_t lock;
        struct native_entry entry;
        int flags;              /* SOCK_NONBLOCK or 0 */
        struct journal_stream stream; /* for entries that are not a connection's */
};

void journal_stream_init(struct journal_stream *s) {
        *s = (struct journal_stream) { .fd = -1 };
}

/* What was queued or drained on a socket whose journald went away may never
 * have been read: lost. */
static void stream_disconnect(struct journal_stream *s) {
        if (s->fd >= 0)
                (void) close(s->fd);
        s->fd = -1;
        s->lost += s->queued + s->drained;
        s->queued = s->drained = 0;
}

/* Sockets of streams that ended with nothing of theirs in doubt, for the
 * streams to come: a short connection would otherwise make, connect and
 * close one of its own. Blocking ones only (the streams of connections).
 * One may still hold the last stream's empty datagram; a stream that takes
 * it only waits for that to be read as well. */
#define SPARE_SOCKETS_MAX 64
static struct {
        pthread_mutex_t lock;
        int fds[SPARE_SOCKETS_MAX];
        int n;
} spare = { .lock = PTHREAD_MUTEX_INITIALIZER };

void journal_stream_close(struct journal_stream *s) {
        bool kept = false;

        if (s->fd < 0)
                return;
        if (s->queued == 0 && s->drained == 0) {
                pthread_mutex_lock(&spare.lock);
                kept = spare.n < SPARE_SOCKETS_MAX;
                if (kept)
                        spare.fds[spare.n++] = s->fd;
                pthread_mutex_unlock(&spare.lock);
        }
        if (!kept)
                (void) close(s->fd);
        s->fd = -1;
}

static int spare_socket(void) {
        int fd = -1;

        pthread_mutex_lock(&spare.lock);
        if (spare.n > 0)
                fd = spare.fds[--spare.n];
        pthread_mutex_unlock(&spare.lock);
        return fd;
}

static int stream_connect(struct journal_stream *s, int flags) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET_PATH };
        int fd, size = JOURNAL_SEND_BUFFER;

        if (s->fd >= 0)
                return s->fd;
        if (!flags && (fd = spare_socket()) >= 0)
                return s->fd = fd;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | flags, 0);
        if (fd < 0)
                return -errno;
        /* Room for large entries in one datagram; past it, a memfd. */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        return s->fd = fd;
}

static bool journald_gone(int r) {
        return r == -ECONNREFUSED || r == -ENOTCONN || r == -ECONNRESET;
}

/* An entry too large for a datagram goes as a sealed memfd, as journald
 * takes it (and sd-journal sends it). */
static int send_as_memfd(int fd, const struct native_entry *e) {
        union {
                struct cmsghdr header;
                char buffer[CMSG_SPACE(sizeof(int))];
        } control = { 0 };
        struct msghdr mh = { .msg_control = &control, .msg_controllen = sizeof(control) };
        struct cmsghdr *c;
        int mfd = memfd_create("hark-entry", MFD_CLOEXEC | MFD_ALLOW_SEALING), r = 0;

        if (mfd < 0)
                return -errno;
        for (size_t i = 0; i < e->n && r == 0; i += IOV_MAX) {
                size_t n = e->n - i < IOV_MAX ? e->n - i : IOV_MAX, want = 0;
                ssize_t written;

                for (size_t k = i; k < i + n; k++)
                        want += e->iov[k].iov_len;
                written = writev(mfd, e->iov + i, (int) n);
                if (written < 0 || (size_t) written != want)
                        r = written < 0 ? -errno : -EIO;
        }
        if (r == 0 && fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
                r = -errno;
        if (r == 0) {
                c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &mfd, sizeof(int));
                r = sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
        }
        (void) close(mfd);
        return r;
}

static int send_once(int fd, const struct msghdr *mh, int flags) {
        int r;

        /* A signal (SIGTERM to a `fork` child) must not lose a received message. */
        do
                r = sendmsg(fd, mh, MSG_NOSIGNAL | (flags ? MSG_DONTWAIT : 0)) < 0 ? -errno : 0;
        while (r == -EINTR);
        return r == -EWOULDBLOCK ? -EAGAIN : r;
}

/* Sends the entry of fields on stream s, again on a new connection when
 * journald went away or was replaced (the entry reached no journald, so it
 * cannot land twice). Returns 0 or -errno. */
static int link_send(struct journal_link *l, struct journal_stream *s, const struct iovec *fields,
                     size_t n_fields) {
        const struct native_entry *e = &l->entry;
        int r;

        pthread_mutex_lock(&l->lock);
        r = native_entry_build(&l->entry, fields, n_fields);
        for (int attempt = 0; attempt < 2 && r == 0; attempt++) {
                struct msghdr mh = { .msg_iov = (struct iovec *) e->iov, .msg_iovlen = e->n };
                int fd = stream_connect(s, l->flags);

                if (fd < 0) {
                        r = fd;
                        break;
                }
                r = send_once(fd, &mh, l->flags);
                /* A journald that is only busy makes room in milliseconds:
                 * wait a little for it, never long (one that does not read
                 * at all must not hold up the caller). */
                if (r == -EAGAIN && l->flags) {
                        struct pollfd pfd = { .fd = fd, .events = POLLOUT };

                        if (poll(&pfd, 1, JOURNAL_NOWAIT_WAIT_MS) > 0)
                                r = send_once(fd, &mh, l->flags);
                }
                if (r == -EMSGSIZE || r == -ENOBUFS)
                        r = send_as_memfd(fd, e);
                if (!journald_gone(r))
                        break;
                stream_disconnect(s);
                if (attempt == 0)
                        r = 0;  /* once more, on a new connection */
        }
        if (r == 0) {
                /* The socket read what drained before: a journald was there. */
                s->taken += s->drained;
                s->drained = 0;
                s->queued++;
        }
        pthread_mutex_unlock(&l->lock);
        return r;
}

void journal_stream_note_drained(struct journal_stream *s) {
        int queued_bytes;

        if (s->queued == 0 || s->fd < 0 || ioctl(s->fd, SIOCOUTQ, &queued_bytes) < 0 || queued_bytes > 0)
                return;
        s->drained += s->queued;
        s->queued = 0;
}

bool journal_stream_settle(struct journal_stream *s) {
        journal_stream_note_drained(s);
        if (s->queued > 0)
                return false;
        if (s->drained > 0) {
                /* journald skips an empty datagram without a word. Its
                 * queue being full (EAGAIN) says it is there as well. */
                int r = send(s->fd, "", 0, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 ? -errno : 0;

                if (r == 0 || r == -EAGAIN || r == -EWOULDBLOCK) {
                        s->taken += s->drained;
                        s->drained = 0;
                } else
                        stream_disconnect(s);
        }
        return true;
}

/* The link of every thread without one of its own. journald takes one entry
 * at a time, and a sender waits when its socket queue is full: with the
 * kernel's queue of 10 datagrams, several threads waiting there were woken
 * by each entry journald took for one to win, and one lock in front of the
 * socket cost less (workload B of make bench). With the 512 systemd sets,
 * the lock is what they wait on: epoll's loops, which are few, each take a
 * link of their own (journal_link_own(); C in epoll, side by side: 1.09 and
 * 1.12 CPU-s per 100,000 messages against 1.34 and 1.52 behind the lock).
 * Blocking threads, a thousand in `thread` mode, share this one. */
static struct journal_link entries = { .lock = PTHREAD_MUTEX_INITIALIZER, .stream.fd = -1 };
/* harkd's own log: never waits, never behind a blocked entry. */
static struct journal_link log_lines = { .lock = PTHREAD_MUTEX_INITIALIZER, .stream.fd = -1, .flags = SOCK_NONBLOCK };

/* A thread's own link, when it asked for one (journal_link_own()). */
static __thread struct journal_link *own_link;

int journal_link_own(void) {
        struct journal_link *l = malloc(sizeof(*l));

        if (!l)
                return -ENOMEM;
        pthread_mutex_init(&l->lock, NULL);
        l->flags = 0;
        journal_stream_init(&l->stream);
        own_link = l;
        return 0;
}

void journal_link_release(void) {
        struct journal_link *l = own_link;

        if (!l)
                return;
        own_link = NULL;
        journal_stream_close(&l->stream);
        pthread_mutex_destroy(&l->lock);
        free(l);
}

static struct journal_link *thread_link(void) {
        return own_link ? own_link : &entries;
}

int journal_stream_send(struct journal_stream *s, const struct iovec *fields, size_t n_fields) {
        return link_send(thread_link(), s, fields, n_fields);
}

int journal_send(const struct iovec *fields, size_t n_fields) {
        struct journal_link *l = thread_link();

        return link_send(l, &l->stream, fields, n_fields);
}

int journal_send_nowait(const struct iovec *fields, size_t n_fields) {
        if (n_fields > JOURNAL_NOWAIT_FIELDS_MAX)
                return -E2BIG;
        return link_send(&log_lines, &log_lines.stream, fields, n_fields);
}

void journal_after_fork(void) {
        /* The child has one thread: nobody can hold them now. */
        pthread_mutex_init(&entries.lock, NULL);
        pthread_mutex_init(&log_lines.lock, NULL);
        pthread_mutex_init(&spare.lock, NULL);
        spare.n = 0;
        /* Nor can a link's fd be trusted: fork(2) copies the descriptors
         * before the memory, so a socket another thread was opening may be
         * in the child's copy of the link but not in its descriptors (seen:
         * EBADF, messages of fork children not confirmed), or a number the
         * link let go may be another socket by now. The child opens its
         * own; the inherited ones, if any, close when it exits. */
        journal_stream_init(&entries.stream);
        journal_stream_init(&log_lines.stream);
}
