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
#include <linux/sockios.h>
#include <unistd.h>

#include "util.h"

bool journal_socket_identify(struct journal_socket *socket) {
        struct stat st;

        if (stat(JOURNAL_SOCKET_PATH, &st) < 0)
                return false;
        *socket = (struct journal_socket) { .device = st.st_dev, .inode = st.st_ino };
        return true;
}

bool journal_present(void) {
        struct journal_socket ignored;

        return journal_socket_identify(&ignored);
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

/* A datagram socket connected to journald's: the path is looked up once, not
 * for every entry (sd_journal_sendv() does, a few per cent of harkd's CPU),
 * and a journald that went away shows at once (ECONNREFUSED). */
struct journal_link {
        pthread_mutex_t lock;
        /* The entry being sent, built under the lock: sends are one at a
         * time anyway, and 11 KiB on the stack of every connection thread
         * (`thread` mode: a thousand of them) is what it would cost. */
        struct native_entry entry;
        int fd;
        int flags;              /* SOCK_NONBLOCK or 0 */
};

/* Under l->lock. */
static int link_socket(struct journal_link *l) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET_PATH };
        int fd, size = JOURNAL_SEND_BUFFER;

        if (l->fd >= 0)
                return l->fd;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | l->flags, 0);
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
        return l->fd = fd;
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

/* Sends the entry of fields on l, again on a new connection when journald
 * went away or was replaced (the entry reached no journald, so it cannot
 * land twice). Returns 0 or -errno. */
static int link_send(struct journal_link *l, const struct iovec *fields, size_t n_fields) {
        const struct native_entry *e = &l->entry;
        int r;

        pthread_mutex_lock(&l->lock);
        r = native_entry_build(&l->entry, fields, n_fields);
        for (int attempt = 0; attempt < 2 && r == 0; attempt++) {
                struct msghdr mh = { .msg_iov = (struct iovec *) e->iov, .msg_iovlen = e->n };
                int fd = link_socket(l);

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
                if (r != -ECONNREFUSED && r != -ENOTCONN && r != -ECONNRESET)
                        break;
                (void) close(l->fd);
                l->fd = -1;
                if (attempt == 0)
                        r = 0;  /* once more, on a new connection */
        }
        pthread_mutex_unlock(&l->lock);
        return r;
}

/* Each thread sends over a socket of its own, made at its first entry and
 * closed when it exits: what that socket has queued to journald is then only
 * this thread's (journal_settle()), and no thread waits behind another's
 * send (C in epoll, side by side: 1.09 and 1.12 CPU-s per 100,000 messages
 * with a socket per loop, 1.34 and 1.52 behind one lock). A thread that
 * cannot get a link of its own (no memory) shares this one, and what it
 * sends is never settled (journal_settle()). */
static struct journal_link entries = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };
/* harkd's own log: never waits, never behind a blocked entry. */
static struct journal_link log_lines = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .flags = SOCK_NONBLOCK };

static __thread struct journal_link *own_link;
static pthread_key_t link_key;
static pthread_once_t link_key_once = PTHREAD_ONCE_INIT;

static void link_free(void *p) {
        struct journal_link *l = p;

        if (l->fd >= 0)
                (void) close(l->fd);
        pthread_mutex_destroy(&l->lock);
        free(l);
}

static void make_link_key(void) {
        (void) pthread_key_create(&link_key, link_free);
}

/* This thread's link; NULL without memory for one. */
static struct journal_link *thread_link(void) {
        struct journal_link *l = own_link;

        if (l)
                return l;
        l = malloc(sizeof(*l));
        if (!l)
                return NULL;
        pthread_mutex_init(&l->lock, NULL);
        l->fd = -1;
        l->flags = 0;
        (void) pthread_once(&link_key_once, make_link_key);
        /* Without the key the link is not freed at exit: a leak, not an error. */
        (void) pthread_setspecific(link_key, l);
        return own_link = l;
}

int journal_send(const struct iovec *fields, size_t n_fields) {
        struct journal_link *l = thread_link();

        return link_send(l ? l : &entries, fields, n_fields);
}

/* Whether a journald listens at the path now: the socket file a dead one
 * left behind refuses a connection. Asked by connecting fd again, which
 * needs no descriptor (harkd may be out of them) and leaves it connected to
 * whichever journald listens there now. */
static bool journald_listening(int fd) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET_PATH };

        return connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
}

/* How long journal_settle() sleeps between looks at the queue, at most. */
#define SETTLE_LOOK_MAX_US 2000

int journal_settle(int timeout_ms) {
        struct journal_link *l = own_link;
        long long deadline = now_ms() + timeout_ms;
        useconds_t pause = 50;
        int queued;

        if (!l)
                return -EDEADLK;        /* the shared link: its queue holds others' entries */
        if (l->fd < 0)
                return 0;
        /* The bytes the socket has queued to journald that journald has not
         * read: a journald that dies takes them along. */
        for (;;) {
                if (ioctl(l->fd, SIOCOUTQ, &queued) < 0)
                        return -errno;
                if (queued == 0)
                        break;
                if (ms_until(deadline) == 0)
                        return -ETIMEDOUT;
                (void) usleep(pause);
                pause = pause * 2 > SETTLE_LOOK_MAX_US ? SETTLE_LOOK_MAX_US : pause * 2;
        }
        /* Nothing is queued: journald read it, or died and dropped it. Only
         * one that still listens has read it. */
        return journald_listening(l->fd) ? 0 : -ECONNREFUSED;
}

int journal_send_nowait(const struct iovec *fields, size_t n_fields) {
        if (n_fields > JOURNAL_NOWAIT_FIELDS_MAX)
                return -E2BIG;
        return link_send(&log_lines, fields, n_fields);
}

void journal_after_fork(void) {
        /* The child has one thread: nobody can hold them now. */
        pthread_mutex_init(&entries.lock, NULL);
        pthread_mutex_init(&log_lines.lock, NULL);
        /* Nor can a link's fd be trusted: fork(2) copies the descriptors
         * before the memory, so a socket another thread was opening may be
         * in the child's copy of the link but not in its descriptors (seen:
         * EBADF, messages of fork children not confirmed), or a number the
         * link let go may be another socket by now. The child opens its
         * own; the inherited ones, if any, close when it exits. */
        entries.fd = -1;
        log_lines.fd = -1;
        /* The forking thread's link: its descriptor is the parent's socket
         * too, whose queue would count the parent's entries. */
        if (own_link) {
                (void) pthread_setspecific(link_key, NULL);
                link_free(own_link);
                own_link = NULL;
        }
}
