/* bareserver: workload D's server side with no journal behind it, for the
 * benchmark. What it sustains is what the loopback's connect, accept and
 * close and loadgen itself allow: the bound on D that no harkd can pass.
 *
 *   bareserver --port PORT
 *
 * Listens on 127.0.0.1:PORT (backlog 4096); one thread, one epoll loop,
 * non-blocking sockets. Each connection is read until EOF, its LF bytes
 * counted, answered "OK <count>\n" as harkd answers, and closed. Ends on
 * SIGTERM or SIGINT and prints "result connections=N lines=L"; exit status
 * 0, 1 when the socket or the loop fails, 2 for a usage error. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define BACKLOG 4096
#define EVENTS_PER_WAIT 256

struct server {
        int epfd, listen_fd, sig_fd;
        unsigned long *lines;   /* per descriptor: LFs read so far */
        size_t n_lines;         /* descriptors below RLIMIT_NOFILE: no connection is beyond */
        unsigned long connections, total_lines;
};

static int listen_on(unsigned long port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        /* The port may still have TIME_WAIT connections of an earlier server. */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, BACKLOG) < 0) {
                int r = -errno;

                close(fd);
                return r;
        }
        return fd;
}

/* Reads what fd has; at EOF answers and closes it. False while it stays open. */
static bool serve(struct server *s, int fd) {
        char buffer[16384], answer[32];
        ssize_t n;
        int len;

        while ((n = read(fd, buffer, sizeof(buffer))) > 0)
                for (const char *p = buffer; (p = memchr(p, '\n', (size_t) (buffer + n - p))); p++)
                        s->lines[fd]++;
        if (n < 0 && errno == EAGAIN)
                return false;
        if (n == 0) {
                len = snprintf(answer, sizeof(answer), "OK %lu\n", s->lines[fd]);
                /* A dozen bytes fit any fresh send buffer. A client that did
                 * not wait (loadgen --short without --ack) has gone already:
                 * its EPIPE or ECONNRESET is no failure of ours. */
                (void) send(fd, answer, (size_t) len, MSG_NOSIGNAL);
        }
        s->total_lines += s->lines[fd];
        close(fd);
        return true;
}

/* Takes every connection the listen queue holds. Negative errno when
 * accepting fails for another reason than a connection that went away. */
static int accept_all(struct server *s) {
        for (;;) {
                struct epoll_event ev = { .events = EPOLLIN };
                int fd = accept4(s->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (fd < 0) {
                        if (errno == EAGAIN)
                                return 0;
                        if (errno == ECONNABORTED || errno == EINTR)
                                continue;
                        return -errno;
                }
                s->connections++;
                if ((size_t) fd >= s->n_lines) {
                        fprintf(stderr, "bareserver: descriptor %d beyond the limit read at the start, closing it\n", fd);
                        close(fd);
                        continue;
                }
                s->lines[fd] = 0;
                /* The client sends as soon as it is connected, so its line
                 * is often here already: served without an epoll round. */
                if (serve(s, fd))
                        continue;
                ev.data.fd = fd;
                if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                        fprintf(stderr, "bareserver: epoll_ctl: %s, closing the connection\n", strerror(errno));
                        close(fd);
                }
        }
}

static int setup(struct server *s, unsigned long port) {
        struct epoll_event ev = { .events = EPOLLIN };
        struct rlimit rl;
        sigset_t mask;
        int r;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
                fprintf(stderr, "bareserver: getrlimit: %s\n", strerror(errno));
                return -1;
        }
        /* Pages nobody touches cost nothing: one slot per possible descriptor. */
        s->n_lines = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1 << 20) ? 1 << 20 : (size_t) rl.rlim_cur;
        s->lines = calloc(s->n_lines, sizeof(*s->lines));
        if (!s->lines) {
                fprintf(stderr, "bareserver: out of memory\n");
                return -1;
        }
        r = listen_on(port);
        if (r < 0) {
                fprintf(stderr, "bareserver: cannot listen on 127.0.0.1:%lu: %s\n", port, strerror(-r));
                return -1;
        }
        s->listen_fd = r;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
            (s->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
            (s->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
                fprintf(stderr, "bareserver: setup: %s\n", strerror(errno));
                return -1;
        }
        ev.data.fd = s->listen_fd;
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->listen_fd, &ev) < 0) {
                fprintf(stderr, "bareserver: epoll_ctl: %s\n", strerror(errno));
                return -1;
        }
        ev.data.fd = s->sig_fd;
        if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sig_fd, &ev) < 0) {
                fprintf(stderr, "bareserver: epoll_ctl: %s\n", strerror(errno));
                return -1;
        }
        return 0;
}

/* Until SIGTERM or SIGINT; negative when the loop itself fails. */
static int run(struct server *s) {
        struct epoll_event events[EVENTS_PER_WAIT];

        for (;;) {
                int n = epoll_wait(s->epfd, events, EVENTS_PER_WAIT, -1), r;

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "bareserver: epoll_wait: %s\n", strerror(errno));
                        return -1;
                }
                for (int i = 0; i < n; i++) {
                        int fd = events[i].data.fd;

                        if (fd == s->sig_fd)
                                return 0;
                        if (fd != s->listen_fd) {
                                (void) serve(s, fd);
                                continue;
                        }
                        if ((r = accept_all(s)) < 0) {
                                fprintf(stderr, "bareserver: accept: %s\n", strerror(-r));
                                return -1;
                        }
                }
        }
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "port", required_argument, NULL, 'p' },
                { 0 },
        };
        struct server s = { .epfd = -1, .listen_fd = -1, .sig_fd = -1 };
        unsigned long port = 0;
        bool bad = false;
        char *end;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
                if (c == 'p') {
                        errno = 0;
                        port = strtoul(optarg, &end, 10);
                        bad |= errno || end == optarg || *end || port < 1 || port > 65535;
                } else
                        bad = true;
        }
        if (bad || !port || optind != argc) {
                fprintf(stderr, "Usage: bareserver --port PORT\n");
                return 2;
        }
        r = setup(&s, port) < 0 ? -1 : run(&s);
        printf("result connections=%lu lines=%lu\n", s.connections, s.total_lines);
        /* The process ends here: the kernel closes whatever is still open. */
        free(s.lines);
        return r < 0 ? 1 : 0;
}
