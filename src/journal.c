#include "journal.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
/* CODE_FILE= and friends would name this file on every client message. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

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

/* journald takes one entry at a time, and a sender waits when its socket
 * queue is full. With several threads waiting there, each entry journald
 * takes wakes all of them for one to win; measured on workload B of make
 * bench, two epoll loops spent about a third more CPU per message that way
 * than behind this lock, where only one thread waits on the socket. */
static pthread_mutex_t send_lock = PTHREAD_MUTEX_INITIALIZER;

int journal_send(const struct iovec *fields, size_t n_fields) {
        int r;

        pthread_mutex_lock(&send_lock);
        /* A signal (SIGTERM to a `fork` child) must not lose a received message. */
        do
                r = sd_journal_sendv(fields, (int) n_fields);
        while (r == -EINTR);
        pthread_mutex_unlock(&send_lock);
        return r;
}

/* The native protocol's two forms of a field: "NAME=value\n", or, for a
 * value with a line feed in it, "NAME\n", its length as 64-bit little
 * endian, the value and "\n". */
struct native_entry {
        struct iovec iov[JOURNAL_NOWAIT_FIELDS_MAX * 5];     /* the binary form takes 5 */
        unsigned char lengths[JOURNAL_NOWAIT_FIELDS_MAX][8];
        size_t n;
};

static int native_entry_build(struct native_entry *e, const struct iovec *fields, size_t n_fields) {
        static char newline = '\n';

        if (n_fields > JOURNAL_NOWAIT_FIELDS_MAX)
                return -E2BIG;
        e->n = 0;
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
                }
                e->iov[e->n++] = (struct iovec) { &newline, 1 };
        }
        return 0;
}

static pthread_mutex_t nowait_lock = PTHREAD_MUTEX_INITIALIZER;
static int nowait_fd = -1;

/* Under nowait_lock. */
static int nowait_socket(void) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET_PATH };
        int fd;

        if (nowait_fd >= 0)
                return nowait_fd;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int r = -errno;
                (void) close(fd);
                return r;
        }
        return nowait_fd = fd;
}

int journal_send_nowait(const struct iovec *fields, size_t n_fields) {
        struct native_entry e;
        int r = native_entry_build(&e, fields, n_fields);

        if (r < 0)
                return r;
        pthread_mutex_lock(&nowait_lock);
        /* A journald that went away (or was replaced) refuses the old
         * connection: connect to whatever listens now, once. */
        for (int attempt = 0; attempt < 2; attempt++) {
                struct msghdr mh = { .msg_iov = e.iov, .msg_iovlen = e.n };
                int fd = nowait_socket();

                if (fd < 0) {
                        r = fd;
                        break;
                }
                r = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 ? -errno : 0;
                if (r == -EWOULDBLOCK)
                        r = -EAGAIN;
                if (r != -ECONNREFUSED && r != -ENOTCONN && r != -ECONNRESET)
                        break;
                (void) close(nowait_fd);
                nowait_fd = -1;
        }
        pthread_mutex_unlock(&nowait_lock);
        return r;
}
