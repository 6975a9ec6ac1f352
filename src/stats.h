/* The counters behind STATUS= and the final log line. They live in memory
 * shared by every process of harkd, so that `fork` children count too. */
#pragma once

#include <stdatomic.h>
#include <stddef.h>

struct counters {
        atomic_ullong accepted;
        atomic_ullong refused;
        atomic_ullong messages;         /* confirmed as delivered to the journal */
        atomic_ullong truncated;
        atomic_ullong failed;           /* framed but not delivered */
        atomic_ullong malformed;        /* syslog messages with a broken header, logged raw */
        atomic_ullong framing_errors;   /* connections closed for a broken octet frame */
        atomic_ullong evicted;          /* connections closed to make room at max_connections */
};

/* Writes the STATUS= text (without "STATUS=") for counters and the number of
 * connections open now. */
void counters_format_status(const struct counters *c, unsigned open, char *text, size_t size);
