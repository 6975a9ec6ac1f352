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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

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

/* The link of every thread without one of its own. journald takes one entry
 * at a time, and a sender waits when its socket queue is full: with the
 * kernel's queue of 10 datagrams, several threads waiting there were woken
 * by each entry journald took for one to win, and one lock in front of the
 * socket cost less (workload B of make bench). With the 512 systemd sets,
 * the lock is what they wait on: epoll's loops, which are few, each take a
 * link of their own (journal_link_own(); C in epoll, side by side: 1.09 and
 * 1.12 CPU-s per 100,000 messages against 1.34 and 1.52 behind the lock).
 * Blocking threads, a thousand in `thread` mode, share this one. */
static struct journal_link entries = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };
/* harkd's own log: never waits, never behind a blocked entry. */
static struct journal_link log_lines = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1, .flags = SOCK_NONBLOCK };

/* A thread's own link, when it asked for one (journal_link_own()). */
static __thread struct journal_link *own_link;

int journal_link_own(void) {
        struct journal_link *l = malloc(sizeof(*l));

        if (!l)
                return -ENOMEM;
        pthread_mutex_init(&l->lock, NULL);
        l->fd = -1;
        l->flags = 0;
        own_link = l;
        return 0;
}

void journal_link_release(void) {
        struct journal_link *l = own_link;

        if (!l)
                return;
        own_link = NULL;
        if (l->fd >= 0)
                (void) close(l->fd);
        pthread_mutex_destroy(&l->lock);
        free(l);
}

int journal_send(const struct iovec *fields, size_t n_fields) {
        return link_send(own_link ? own_link : &entries, fields, n_fields);
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
}
