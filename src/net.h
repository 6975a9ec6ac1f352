/* Socket helpers. They never log: they return -errno and, where useful, a
 * description the caller puts in its one log line. */
#pragma once

#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

struct peer {
        int family;                     /* AF_INET, AF_INET6 or AF_UNIX */
        char address[INET6_ADDRSTRLEN]; /* numeric; IPv4-mapped IPv6 shown as IPv4 */
        unsigned port;
        pid_t pid;                      /* AF_UNIX: from SO_PEERCRED */
        uid_t uid;
        gid_t gid;
        char name[64];                  /* for log lines: "192.0.2.1:4711", "[::1]:4711", "pid 42" */
};

/* Describes the remote end of a connected socket. */
int peer_from_socket(int fd, struct peer *peer);

/* The same from the address accept(2) returned (fd only for SO_PEERCRED). */
int peer_from_address(int fd, const struct sockaddr_storage *sa, socklen_t len, struct peer *peer);

/* TCP keepalive probes on a connected TCP socket: a peer that vanished
 * without a FIN or RST (a crashed host, a cable pulled) is noticed after
 * NET_KEEPALIVE_IDLE_S of silence plus NET_KEEPALIVE_COUNT probes
 * NET_KEEPALIVE_INTERVAL_S apart, about two minutes, and its connection then
 * fails with ETIMEDOUT. harkd relies on this rather than on an idle timeout,
 * which would close live senders that are merely quiet. */
#define NET_KEEPALIVE_IDLE_S 60
#define NET_KEEPALIVE_INTERVAL_S 10
#define NET_KEEPALIVE_COUNT 6
int fd_set_keepalive(int fd);

int fd_set_nonblocking(int fd, bool nonblocking);
int fd_set_cloexec(int fd);

/* Connects non-blocking socket fd to sa, waiting at most timeout_ms for the
 * handshake. Returns 0 or -errno (-ETIMEDOUT); fd stays open either way. */
int fd_connect(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms);

/* Writes all of buffer unless the peer goes away; never raises SIGPIPE. */
int send_all(int fd, const void *buffer, size_t size);
