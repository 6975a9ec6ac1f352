#include "listener.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "net.h"

void listeners_init(struct listeners *l) {
        *l = (struct listeners) { .connection_fd = -1 };
}

void listeners_close(struct listeners *l) {
        for (size_t i = 0; i < l->n; i++)
                close(l->fds[i]);
        for (size_t i = 0; i < l->n_udp; i++)
                close(l->udp_fds[i]);
        l->n_udp = 0;
        if (l->connection_fd >= 0)
                close(l->connection_fd);
        l->n = 0;
        l->connection_fd = -1;
}

/* "192.0.2.1:10001", "[::1]:10001"; false when sa cannot be shown. */
static bool address_name(const struct sockaddr *sa, socklen_t len, char *name, size_t size) {
        char host[NI_MAXHOST], port[NI_MAXSERV];

        if (getnameinfo(sa, len, host, sizeof(host), port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
                return false;
        snprintf(name, size, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
        return true;
}

/* backlog < 0: a datagram socket, not listening. */
static int bind_one(const struct addrinfo *ai, int backlog, const char **step) {
        int fd, one = 1;

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
                *step = "create a socket for";
                return -errno;
        }
        /* For a listener: a restart binds again beside connections in
         * TIME_WAIT. Never for a datagram socket, where on Linux it lets any
         * local process bind the same port beside harkd and take its datagrams. */
        if (backlog >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
                *step = "set SO_REUSEADDR on";
                goto fail;
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                *step = "bind";
                goto fail;
        }
        if (backlog >= 0 && listen(fd, backlog) < 0) {
                *step = "listen on";
                goto fail;
        }
        return fd;
fail:;
        int r = -errno;
        close(fd);
        return r;
}

/* Binds a socket of type on every address host resolves to; each fd goes
 * to take(). */
static int bind_all(struct listeners *l, const char *host, int port, int type, int backlog,
                    int (*take)(struct listeners *l, int fd, void *userdata), void *userdata,
                    char *error, size_t size) {
        struct addrinfo hints = { .ai_socktype = type, .ai_flags = AI_PASSIVE }, *list = NULL;
        char service[16];
        int r;

        snprintf(service, sizeof(service), "%d", port);
        r = getaddrinfo(host, service, &hints, &list);
        if (r != 0) {
                snprintf(error, size, "Failed to resolve %s: %s", host, gai_strerror(r));
                return r == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
        }
        for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
                const char *step = NULL;
                char name[NI_MAXHOST + NI_MAXSERV + 4];
                int fd = bind_one(ai, backlog, &step);

                if (fd >= 0 && (r = take(l, fd, userdata)) < 0) {
                        (void) close(fd);
                        fd = r;
                        step = "set up";
                }
                if (fd < 0) {
                        if (!address_name(ai->ai_addr, ai->ai_addrlen, name, sizeof(name)))
                                snprintf(name, sizeof(name), "(unknown)");
                        snprintf(error, size, "Failed to %s %s: %s", step, name, strerror(-fd));
                        freeaddrinfo(list);
                        listeners_close(l);
                        return fd;
                }
        }
        freeaddrinfo(list);
        return 0;
}

static int take_listener(struct listeners *l, int fd, void *userdata) {
        if (l->n == LISTENERS_MAX)
                return -E2BIG;
        l->tls[l->n] = *(const bool *) userdata;
        l->fds[l->n++] = fd;
        return 0;
}

int listeners_bind(struct listeners *l, const char *host, int port, int backlog, bool tls, char *error, size_t size) {
        return bind_all(l, host, port, SOCK_STREAM, backlog, take_listener, &tls, error, size);
}

static int take_udp(struct listeners *l, int fd, void *userdata) {
        int size = *(const int *) userdata, one = 1;

        if (l->n_udp == LISTENERS_MAX)
                return -E2BIG;
        /* Past net.core.rmem_max only with CAP_NET_ADMIN (run as root); else
         * what the kernel allows, which harkd reports when it starts. */
        if (size > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
                (void) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
        if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0)
                return -errno;
        l->udp_fds[l->n_udp++] = fd;
        return 0;
}

int listeners_bind_udp(struct listeners *l, const char *host, int port, int receive_buffer, char *error,
                       size_t size) {
        return bind_all(l, host, port, SOCK_DGRAM, -1, take_udp, &receive_buffer, error, size);
}

/* One socket systemd passed: a listener, or the connection of Accept=yes. */
static int take_passed(struct listeners *l, int fd, bool tls, char *error, size_t size) {
        int r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, -1), one = 1;

        fd_set_cloexec(fd);
        /* ListenDatagram=: syslog over UDP. systemd set its ReceiveBuffer=. */
        if (r == 0 && sd_is_socket(fd, AF_UNSPEC, SOCK_DGRAM, -1) > 0) {
                if (l->n_udp == LISTENERS_MAX) {
                        snprintf(error, size, "More than %d datagram sockets passed", LISTENERS_MAX);
                        return -E2BIG;
                }
                fd_set_nonblocking(fd, true);
                (void) setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
                l->udp_fds[l->n_udp++] = fd;
                return 0;
        }
        if (r <= 0) {
                snprintf(error, size, "Passed file descriptor %d is neither a stream nor a datagram socket", fd);
                return r < 0 ? r : -ENOTSOCK;
        }
        if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) > 0) {
                if (l->n == LISTENERS_MAX) {
                        snprintf(error, size, "More than %d sockets passed", LISTENERS_MAX);
                        return -E2BIG;
                }
                fd_set_nonblocking(fd, true);
                l->tls[l->n] = tls;
                l->fds[l->n++] = fd;
        } else if (l->connection_fd < 0) {
                l->connection_fd = fd;
                l->connection_tls = tls;
        } else {
                snprintf(error, size, "More than one connected socket passed");
                return -EINVAL;
        }
        return 0;
}

static bool named_tls(char **names, int i) {
        return names && names[i] && strcmp(names[i], LISTENER_TLS_NAME) == 0;
}

int listeners_from_systemd(struct listeners *l, char *error, size_t size) {
        char **names = NULL;
        int n = sd_listen_fds_with_names(1, &names), r = 0;

        if (n < 0) {
                snprintf(error, size, "Failed to read the sockets passed by systemd: %s", strerror(-n));
                return n;
        }
        for (int i = 0; i < n && r >= 0; i++)
                r = take_passed(l, SD_LISTEN_FDS_START + i, named_tls(names, i), error, size);
        if (names)
                for (int i = 0; i < n; i++)
                        free(names[i]);
        free(names);
        if (r < 0)
                return r;
        l->from_systemd = n > 0;
        return n;
}

void listener_name(int fd, char *name, size_t size) {
        struct sockaddr_storage sa = { .ss_family = AF_UNSPEC };
        socklen_t len = sizeof(sa);

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0) {
                snprintf(name, size, "fd %d", fd);
                return;
        }
        if (sa.ss_family == AF_UNIX) {
                const struct sockaddr_un *un = (const struct sockaddr_un *) &sa;
                snprintf(name, size, "%s", un->sun_path[0] ? un->sun_path : "@(abstract)");
                return;
        }
        if (!address_name((struct sockaddr *) &sa, len, name, size))
                snprintf(name, size, "fd %d", fd);
}
