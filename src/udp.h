/* Syslog over UDP (RFC 5426): one datagram is one message, parsed as a
 * connection's messages are (format), under the same allow list, into the
 * same journal. One thread reads every datagram socket in batches
 * (recvmmsg), in every concurrency mode, so that nothing on the TCP side
 * waits for it nor it for TCP. Nothing can be confirmed to a UDP sender:
 * what is lost is counted instead (the kernel's drops on a full receive
 * buffer, the per-source rate limit, the allow list) and reported. */
#pragma once

#include <stdbool.h>

#include "server.h"

struct udp_receiver;

/* Starts reading the server's datagram sockets, if it has any (*ret is then
 * NULL). Returns 0 or -errno. */
int udp_receiver_start(struct udp_receiver **ret, struct server *s);

/* Once a stop was requested: waits until the receiver has read what was
 * already queued (until the drain bound) and frees it. NULL is fine.
 * Returns false when it was still blocked in a journal write after the
 * drain bound and its grace: then it is left running, and the process must
 * end without freeing what it uses (as for connections, server_drain()). */
bool udp_receiver_stop(struct udp_receiver *u);

/* The per-source rate limit: a token bucket per address, refilled at
 * udp_rate_per_source a second and holding one second's worth (the burst).
 * Exposed for unit tests. */
struct udp_bucket {
        double tokens;
        long long last_ms;
};

/* Whether a datagram arriving at now_ms passes bucket b at rate (a second;
 * > 0); takes its token if so. */
bool udp_bucket_take(struct udp_bucket *b, int rate, long long now_ms);
