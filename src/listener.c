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

static int bind_one(const struct addrinfo *ai, int backlog, const char **step) {
        int fd, one = 1;

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
                *step = "create a socket for";
                return -errno;
        }
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
                *step = "set SO_REUSEADDR on";
                goto fail;
        }
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                *step = "bind";
                goto fail;
        }
        if (listen(fd, backlog) < 0) {
                *step = "listen on";
                goto fail;
        }
        return fd;
fail:;
        int r = -errno;
        close(fd);
        return r;
}

int listeners_bind(struct listeners *l, const char *host, int port, int backlog, bool tls, char *error, size_t size) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *list = NULL;
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
                int fd;

                if (l->n == LISTENERS_MAX)
                        break;
                fd = bind_one(ai, backlog, &step);
                if (fd < 0) {
                        if (!address_name(ai->ai_addr, ai->ai_addrlen, name, sizeof(name)))
                                snprintf(name, sizeof(name), "(unknown)");
                        snprintf(error, size, "Failed to %s %s: %s", step, name, strerror(-fd));
                        freeaddrinfo(list);
                        listeners_close(l);
                        return fd;
                }
                l->tls[l->n] = tls;
                l->fds[l->n++] = fd;
        }
        freeaddrinfo(list);
        return 0;
}

/* One socket systemd passed: a listener, or the connection of Accept=yes. */
static int take_passed(struct listeners *l, int fd, bool tls, char *error, size_t size) {
        int r = sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, -1);

        if (r <= 0) {
                snprintf(error, size, "Passed file descriptor %d is not a stream socket", fd);
                return r < 0 ? r : -ENOTSOCK;
        }
        fd_set_cloexec(fd);
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

bool listeners_is_tls(const struct listeners *l, int fd) {
        for (size_t i = 0; i < l->n; i++)
                if (l->fds[i] == fd)
                        return l->tls[i];
        return false;
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
        struct sockaddr_storage sa;
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
