#include "net.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

static void describe_inet(struct peer *peer, const struct sockaddr_storage *sa, socklen_t len) {
        char port[16];

        if (getnameinfo((const struct sockaddr *) sa, len, peer->address, sizeof(peer->address), port,
                        sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
                strcpy(peer->address, "unknown");
                strcpy(port, "0");
        }
        peer->port = (unsigned) strtoul(port, NULL, 10);
        if (peer->family == AF_INET6 && strncmp(peer->address, "::ffff:", 7) == 0 && strchr(peer->address + 7, '.')) {
                memmove(peer->address, peer->address + 7, strlen(peer->address + 7) + 1);
                peer->family = AF_INET;
        }
        snprintf(peer->name, sizeof(peer->name), peer->family == AF_INET6 ? "[%s]:%u" : "%s:%u",
                 peer->address, peer->port);
}

int peer_from_socket(int fd, struct peer *peer) {
        struct sockaddr_storage sa = { .ss_family = AF_UNSPEC };
        socklen_t len = sizeof(sa);

        if (getpeername(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        return peer_from_address(fd, &sa, len, peer);
}

int peer_from_address(int fd, const struct sockaddr_storage *sa, socklen_t len, struct peer *peer) {
        memset(peer, 0, sizeof(*peer));
        peer->family = sa->ss_family;
        if (sa->ss_family == AF_UNIX) {
                struct ucred cred;
                socklen_t clen = sizeof(cred);

                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0)
                        return -errno;
                peer->pid = cred.pid;
                peer->uid = cred.uid;
                peer->gid = cred.gid;
                snprintf(peer->name, sizeof(peer->name), "pid %d uid %u", (int) cred.pid, (unsigned) cred.uid);
                /* The per-source limit counts unix peers by user. */
                snprintf(peer->address, sizeof(peer->address), "uid:%u", (unsigned) cred.uid);
                return 0;
        }
        if (sa->ss_family != AF_INET && sa->ss_family != AF_INET6)
                return -EAFNOSUPPORT;
        describe_inet(peer, sa, len);
        return 0;
}

int fd_set_keepalive(int fd) {
        static const struct { int level, name, value; } options[] = {
                { SOL_SOCKET, SO_KEEPALIVE, 1 },
                { IPPROTO_TCP, TCP_KEEPIDLE, NET_KEEPALIVE_IDLE_S },
                { IPPROTO_TCP, TCP_KEEPINTVL, NET_KEEPALIVE_INTERVAL_S },
                { IPPROTO_TCP, TCP_KEEPCNT, NET_KEEPALIVE_COUNT },
        };

        for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
                if (setsockopt(fd, options[i].level, options[i].name, &options[i].value, sizeof(int)) < 0)
                        return -errno;
        return 0;
}

int fd_set_nonblocking(int fd, bool nonblocking) {
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0)
                return -errno;
        flags = nonblocking ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
        return fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0;
}

int fd_set_cloexec(int fd) {
        int flags = fcntl(fd, F_GETFD);

        if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
                return -errno;
        return 0;
}

int fd_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        socklen_t error_len = sizeof(int);
        int r, error = 0;

        if (connect(fd, sa, len) == 0)
                return 0;
        if (errno != EINPROGRESS)
                return -errno;
        do
                r = poll(&pfd, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        if (r == 0)
                return -ETIMEDOUT;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) < 0)
                return -errno;
        return -error;
}

int send_all(int fd, const void *buffer, size_t size) {
        const char *p = buffer;

        while (size > 0) {
                ssize_t n = send(fd, p, size, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= (size_t) n;
        }
        return 0;
}
