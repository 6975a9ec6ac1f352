/* Stored confirmation (confirm = "stored"): which of a connection's entries
 * journald has written, read back from the journal itself through
 * sd-journal. journald takes a datagram and may still drop it (above
 * MaxLevelStore=, over its rate limit, with Storage=none, on a full disk, or
 * by dying with it queued); only an entry found in a journal file is stored.
 *
 * One reader per process follows the entries of this process (_PID, and
 * not older than the reader: a PID comes back after a reboot) from the
 * moment it started, and counts them per HARK_CONNECTION for the
 * connections that asked (stored_track()). harkd's own log lines carry HARK_CONNECTION too,
 * but always a MESSAGE_ID, which a message entry never has (a reserved
 * name): they are not counted. Under LogNamespace= it reads that namespace
 * ($LOG_NAMESPACE). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Starts this process's reader if it is not running: after it returns, every
 * entry this process sends is seen. Returns 0 or -errno (the journal cannot
 * be opened), with the reason logged. */
int stored_start(void);

/* Ends the reader and forgets every connection. */
void stored_stop(void);

/* In a child of fork(2): no reader runs there (its thread stayed in the
 * parent), and the child's entries have another _PID. */
void stored_after_fork(void);

/* Counts the stored entries of connection id from now on (its first entry
 * must not have been sent yet). Returns 0 or -ENOMEM; a connection that is
 * not tracked has nothing stored. */
int stored_track(uint64_t id);
void stored_untrack(uint64_t id);

/* How many entries of connection id the journal holds so far. */
uint64_t stored_count(uint64_t id);

/* Waits until connection id has at least want entries stored or deadline
 * (now_ms()) passes; returns the count then. */
uint64_t stored_wait(uint64_t id, uint64_t want, long long deadline);

/* For an event loop: until stored_untrack(), an eventfd-like wake_fd is
 * written whenever connection id's count grows. The reader looks for new
 * entries every millisecond while anyone waits. */
void stored_add_waiter(uint64_t id, int wake_fd);
