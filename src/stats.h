/* The counters behind STATUS= and the final log line, and the rate limits
 * of the log lines about events peers cause at will. They live in memory
 * shared by every process of harkd, so that `fork` children count too, and
 * their lines count against one limit, not one per child. */
#pragma once

#include <stdatomic.h>
#include <stddef.h>
#include <sys/uio.h>

#include "log.h"

struct event_logs {
        struct log_ratelimit refused, not_allowed, truncated, malformed, failed, evicted, tls_failed;
        struct log_ratelimit udp_rate_limited, udp_kernel_drops, unconfirmed, pending_cut;
};

struct counters {
        atomic_ullong accepted;
        atomic_ullong refused;
        atomic_ullong not_allowed;      /* closed at once: outside the allow list */
        atomic_ullong messages;         /* confirmed as delivered to the journal */
        atomic_ullong truncated;        /* over max_message_size or max_pending_bytes */
        atomic_ullong pending_cut;      /* of those, cut for max_pending_bytes */
        atomic_ullong failed;           /* framed but not delivered */
        atomic_ullong malformed;        /* syslog messages with a broken header, logged raw */
        atomic_ullong framing_errors;   /* connections closed for a broken octet frame */
        atomic_ullong evicted;          /* connections closed to make room at max_connections */
        atomic_ullong tls_failed;       /* TLS handshakes that failed or timed out */
        atomic_ullong udp_datagrams;    /* received, whatever became of them */
        atomic_ullong udp_rate_limited; /* dropped by udp_rate_per_source */
        atomic_ullong udp_kernel_drops; /* dropped by the kernel: the receive buffer was full */
        atomic_ullong unconfirmed;      /* handed to journald, not read (sent) or not found stored (stored) in time */
        struct event_logs logs;
};

/* Writes the STATUS= text (without "STATUS=") for counters, the number of
 * connections open now and the bytes they hold for unfinished messages. */
void counters_format_status(const struct counters *c, unsigned open, size_t pending, char *text, size_t size);

/* A message from peer (its entries' context fields given) was cut at max
 * bytes, or logged raw for a broken syslog header (reason): counted, and
 * logged within the rate limit of its kind. For connections and datagrams
 * alike. */
void counters_report_truncated(struct counters *c, const struct iovec *context, size_t n_context, const char *peer,
                               size_t max, size_t logged);
/* The same for a line cut at the logged bytes it had so far, for the bound
 * on what all connections hold for unfinished messages (max_pending_bytes). */
void counters_report_pending_cut(struct counters *c, const struct iovec *context, size_t n_context,
                                 const char *peer, size_t limit, size_t logged);
void counters_report_malformed(struct counters *c, const struct iovec *context, size_t n_context, const char *peer,
                               const char *reason);
