/* Client sockets of the integration tests; see support-client.h. */
#include "support-client.h"

#include "support-time.h"
#include "net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int it_connect(const char *host, int port, int timeout_ms) {
        return it_connect_from(host, port, NULL, timeout_ms);
}

int it_connect_from(const char *host, int port, const char *source, int timeout_ms) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
        struct addrinfo *ai, *local;
        char service[16];
        int fd, r;

        snprintf(service, sizeof(service), "%d", port);
        if (getaddrinfo(host, service, &hints, &ai) != 0)
                return -EINVAL;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                freeaddrinfo(ai);
                return r;
        }
        if (source) {
                if (getaddrinfo(source, NULL, &hints, &local) != 0) {
                        freeaddrinfo(ai);
                        close(fd);
                        return -EINVAL;
                }
                r = bind(fd, local->ai_addr, local->ai_addrlen);
                freeaddrinfo(local);
                if (r < 0) {
                        r = -errno;
                        freeaddrinfo(ai);
                        close(fd);
                        return r;
                }
        }
        r = fd_connect(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
        freeaddrinfo(ai);
        if (r >= 0)
                r = fd_set_nonblocking(fd, false);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int it_connect_unix(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

        if (fd < 0)
                return -errno;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int it_local_port(int fd) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        if (sa.ss_family == AF_INET6)
                return ntohs(((struct sockaddr_in6 *) &sa)->sin6_port);
        return ntohs(((struct sockaddr_in *) &sa)->sin_port);
}

int it_send(int fd, const void *data, size_t size) {
        return send_all(fd, data, size);
}

int it_send_str(int fd, const char *s) {
        return it_send(fd, s, strlen(s));
}

bool it_readable(int fd, int timeout_ms) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
        int r;

        do
                r = poll(&pfd, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        return r > 0;
}

int it_read_to_eof(int fd, char *buffer, size_t size, size_t *length, int timeout_ms) {
        long long deadline = it_now_ms() + timeout_ms;
        char scratch[4096];
        size_t used = 0;

        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                ssize_t n;
                int r = poll(&pfd, 1, it_ms_left(deadline));

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0) {
                        if (length)
                                *length = used;
                        if (buffer)
                                buffer[used < size ? used : size - 1] = 0;
                        return -ETIMEDOUT;
                }
                n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0) {
                        if (length)
                                *length = used;
                        if (buffer)
                                buffer[used < size ? used : size - 1] = 0;
                        return n == 0 ? 0 : -errno;
                }
                if (buffer && used < size - 1) {
                        size_t take = (size_t) n < size - 1 - used ? (size_t) n : size - 1 - used;
                        memcpy(buffer + used, scratch, take);
                }
                used += (size_t) n;
        }
}

int it_read_ok(int fd, uint64_t *confirmed, int timeout_ms) {
        char reply[256], *end;
        size_t length;
        int r;

        *confirmed = UINT64_MAX;
        r = it_read_to_eof(fd, reply, sizeof(reply), &length, timeout_ms);
        if (r < 0) {
                fprintf(stderr, "support: no clean end of harkd's answer: %s (got %zu bytes: \"%s\")\n",
                        strerror(-r), length, reply);
                return r;
        }
        if (strncmp(reply, "OK ", 3) != 0 || !isdigit((unsigned char) reply[3]))
                goto bad;
        errno = 0;
        *confirmed = strtoull(reply + 3, &end, 10);
        if (errno || strcmp(end, "\n") != 0 || length != strlen(reply))
                goto bad;
        return 0;
bad:
        fprintf(stderr, "support: unexpected answer from harkd: \"%s\" (%zu bytes)\n", reply, length);
        *confirmed = UINT64_MAX;
        return -EBADMSG;
}

int it_finish(int fd, uint64_t *confirmed, int timeout_ms) {
        *confirmed = UINT64_MAX;
        if (shutdown(fd, SHUT_WR) < 0)
                return -errno;
        return it_read_ok(fd, confirmed, timeout_ms);
}
