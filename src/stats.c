#include "stats.h"

#include <stdio.h>

void counters_format_status(const struct counters *c, unsigned open, char *text, size_t size) {
        snprintf(text, size,
                 "%u open connections, %llu accepted, %llu refused, %llu not allowed, %llu messages logged, "
                 "%llu truncated, %llu not delivered, %llu malformed, %llu framing errors, %llu evicted, "
                 "%llu TLS handshakes failed, %llu datagrams, %llu over the UDP rate, %llu dropped by the kernel",
                 open, atomic_load(&c->accepted), atomic_load(&c->refused), atomic_load(&c->not_allowed),
                 atomic_load(&c->messages),
                 atomic_load(&c->truncated), atomic_load(&c->failed), atomic_load(&c->malformed),
                 atomic_load(&c->framing_errors), atomic_load(&c->evicted),
                 atomic_load(&c->tls_failed), atomic_load(&c->udp_datagrams), atomic_load(&c->udp_rate_limited),
                 atomic_load(&c->udp_kernel_drops));
}
