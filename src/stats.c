#include "stats.h"

#include <stdio.h>

#include "events.h"

void counters_format_status(const struct counters *c, unsigned open, size_t pending, char *text, size_t size) {
        snprintf(text, size,
                 "%u open connections, %zu bytes pending, %llu accepted, %llu refused, %llu not allowed, %llu messages logged, "
                 "%llu truncated (%llu for max_pending_bytes), %llu not delivered, %llu malformed, %llu framing errors, %llu evicted, "
                 "%llu TLS handshakes failed, %llu datagrams, %llu over the UDP rate, %llu dropped by the kernel, "
                 "%llu not confirmed",
                 open, pending, atomic_load(&c->accepted), atomic_load(&c->refused), atomic_load(&c->not_allowed),
                 atomic_load(&c->messages),
                 atomic_load(&c->truncated), atomic_load(&c->pending_cut), atomic_load(&c->failed), atomic_load(&c->malformed),
                 atomic_load(&c->framing_errors), atomic_load(&c->evicted),
                 atomic_load(&c->tls_failed), atomic_load(&c->udp_datagrams), atomic_load(&c->udp_rate_limited),
                 atomic_load(&c->udp_kernel_drops), atomic_load(&c->unconfirmed));
}

void counters_report_truncated(struct counters *c, const struct iovec *context, size_t n_context, const char *peer,
                               size_t max, size_t logged) {
        unsigned suppressed;

        atomic_fetch_add(&c->truncated, 1);
        if (log_ratelimit_pass(&c->logs.truncated, &suppressed))
                log_event(LOG_WARNING, EVENT_TRUNCATED, context, n_context,
                          "Message from %s was longer than %zu bytes (max_message_size); logged its first %zu "
                          "bytes, discarded the rest of it; %u similar messages not reported before this one",
                          peer, max, logged, suppressed);
}

void counters_report_pending_cut(struct counters *c, const struct iovec *context, size_t n_context,
                                 const char *peer, size_t limit, size_t logged) {
        unsigned suppressed;

        atomic_fetch_add(&c->truncated, 1);
        atomic_fetch_add(&c->pending_cut, 1);
        if (log_ratelimit_pass(&c->logs.pending_cut, &suppressed))
                log_event(LOG_WARNING, EVENT_PENDING_CUT, context, n_context,
                          "Unfinished message from %s was the longest when all connections together held "
                          "%zu bytes of unfinished messages (max_pending_bytes); logged its first %zu bytes, "
                          "discarded the rest of it; %u similar messages not reported before this one",
                          peer, limit, logged, suppressed);
}

void counters_report_malformed(struct counters *c, const struct iovec *context, size_t n_context, const char *peer,
                               const char *reason) {
        unsigned suppressed;

        atomic_fetch_add(&c->malformed, 1);
        if (log_ratelimit_pass(&c->logs.malformed, &suppressed))
                log_event(LOG_NOTICE, EVENT_SYSLOG_MALFORMED, context, n_context,
                          "Message from %s has a broken syslog header (%s); logged it as it came; "
                          "%u similar messages not reported before this one", peer, reason, suppressed);
}
