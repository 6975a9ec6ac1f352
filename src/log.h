/* harkd's own log: to the journal under SYSLOG_IDENTIFIER=harkd, or to stderr
 * with "<N>" level prefixes that systemd understands. Thread-safe. */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>
#include <syslog.h>

#include "config.h"

/* Picks the target; `auto` means the journal when its socket exists. */
void log_setup(enum log_target target);

/* Messages above this level (LOG_DEBUG is the most verbose) are not written. */
void log_set_max_level(int level);

/* Writes one event: message_id may be NULL; fields are extra "NAME=value"
 * journal fields (ignored on stderr). errno is preserved for %m. */
__attribute__((format(printf, 5, 6)))
void log_event(int level, const char *message_id, const struct iovec *fields, size_t n_fields,
               const char *format, ...);

/* A budget for one kind of event that peers can cause at will (refused or
 * reset connections, truncated lines): without one, a flood of them would be
 * a flood of log entries. The counters in STATUS= keep the full totals. */
/* Atomics only, no lock: it may live in memory that `fork` children share,
 * so that their events count against one limit. All zeros is its start. */
struct log_ratelimit {
        atomic_llong window_ms;         /* now_ms() when the current second began; 0: none yet */
        atomic_uint logged, suppressed;
};

#define LOG_RATELIMIT_BURST 20          /* events logged per second and kind */

/* Whether this event may be logged; *suppressed gets how many of its kind
 * were not since the last one that was. */
bool log_ratelimit_pass(struct log_ratelimit *rl, unsigned *suppressed);

#define log_error(...)   log_event(LOG_ERR, NULL, NULL, 0, __VA_ARGS__)
#define log_warning(...) log_event(LOG_WARNING, NULL, NULL, 0, __VA_ARGS__)
#define log_notice(...)  log_event(LOG_NOTICE, NULL, NULL, 0, __VA_ARGS__)
#define log_info(...)    log_event(LOG_INFO, NULL, NULL, 0, __VA_ARGS__)
#define log_debug(...)   log_event(LOG_DEBUG, NULL, NULL, 0, __VA_ARGS__)
