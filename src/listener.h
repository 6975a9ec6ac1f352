/* Where connections come from: sockets harkd binds itself from the config, or
 * sockets systemd passes (socket activation, see sd_listen_fds(3)). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define LISTENERS_MAX 16

/* The name systemd passes a socket under (FileDescriptorName=) to say that
 * its connections speak TLS. */
#define LISTENER_TLS_NAME "tls"

struct listeners {
        int fds[LISTENERS_MAX];         /* listening, non-blocking, CLOEXEC */
        bool tls[LISTENERS_MAX];        /* fds[i] is a TLS listener */
        size_t n;
        bool from_systemd;
        int connection_fd;              /* Accept=yes: one connected socket, else -1 */
        bool connection_tls;
        int udp_fds[LISTENERS_MAX];     /* datagram sockets, non-blocking, CLOEXEC */
        size_t n_udp;
};

void listeners_init(struct listeners *l);

/* Binds and listens on every address host resolves to, marking them TLS
 * listeners if tls. On failure returns -errno, closes what it opened and
 * describes the failing step in error. */
int listeners_bind(struct listeners *l, const char *host, int port, int backlog, bool tls, char *error, size_t size);

/* Binds a datagram socket on every address host resolves to, asking for a
 * receive buffer of receive_buffer bytes (0: the kernel's default; as root
 * also beyond net.core.rmem_max), with the kernel's drop counter on every
 * datagram (SO_RXQ_OVFL). Failure as for listeners_bind(). */
int listeners_bind_udp(struct listeners *l, const char *host, int port, int receive_buffer, char *error,
                       size_t size);

/* Takes the sockets systemd passed, if any: returns how many (0 when not
 * socket-activated) or -errno with a description in error. */
int listeners_from_systemd(struct listeners *l, char *error, size_t size);

/* Describes listening socket fd ("127.0.0.1:10001", "/run/hark.sock"). */
void listener_name(int fd, char *name, size_t size);

void listeners_close(struct listeners *l);
