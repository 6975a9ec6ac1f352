/* The journal sink: the only module that talks to the systemd journal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Where journald listens for native-protocol entries. */
#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

/* Whether journald's socket exists, i.e. whether an entry can be delivered. */
bool journal_present(void);

/* Fields of an entry at most. */
#define JOURNAL_FIELDS_MAX 128
/* harkd's own log entries: at most this many fields. */
#define JOURNAL_NOWAIT_FIELDS_MAX 16
/* The send buffer asked for: an entry up to about this size goes in one
 * datagram (journald's own clients ask for the same). */
#define JOURNAL_SEND_BUFFER (8 * 1024 * 1024)

/* How long journal_send_nowait() waits for room in a full queue. */
#define JOURNAL_NOWAIT_WAIT_MS 200

/* Writes one small entry (harkd's own log line), waiting for journald at
 * most JOURNAL_NOWAIT_WAIT_MS: stopping, logging a stop or a failure must
 * not hang behind a journald that does not read (stopped, stalled), while
 * one that is only busy gets the line. A socket of its own, not behind
 * journal_send()'s. Returns 0, -EAGAIN when journald's queue stayed full,
 * -ENOENT when there is no journald, or another -errno. */
int journal_send_nowait(const struct iovec *fields, size_t n_fields);

/* A way into journald of one's own: a socket that carries only the entries
 * of its owner (a connection), so that what is still queued on it says how
 * many of them journald has read. The counts are of entries:
 *   queued:   sent, maybe still in journald's queue;
 *   drained:  gone from the queue, read by journald or dropped with it when
 *             it died (the kernel frees the queue of a socket that closes);
 *   taken:    drained while a journald was there after it (a later send, or
 *             journal_stream_settle()'s probe, reached the same socket):
 *             read by journald, which is what confirm = "sent" confirms;
 *   lost:     were queued on a socket whose journald died: maybe never read.
 * Only its owner's thread uses a stream. */
struct journal_stream {
        int fd;
        uint64_t queued, drained, taken, lost;
};

void journal_stream_init(struct journal_stream *s);
/* Its socket serves a later stream when nothing of s is in doubt. */
void journal_stream_close(struct journal_stream *s);

/* Writes one entry of at most JOURNAL_FIELDS_MAX "NAME=value" fields (values
 * may hold any byte), in journald's native protocol, on s (connected at the
 * first entry, and again when its journald went away), waiting while
 * journald's queue is full (the back pressure that keeps harkd from reading
 * faster than journald stores). Returns 0 when journald's socket took the
 * entry, -ENOENT when there is none, or another -errno. */
int journal_stream_send(struct journal_stream *s, const struct iovec *fields, size_t n_fields);

/* Moves what journald has read of s from queued to drained: one ioctl, no
 * waiting. */
void journal_stream_note_drained(struct journal_stream *s);

/* Whether nothing of s is queued any more; once so, asks whether the
 * journald that read it is still there (an empty datagram, which journald
 * ignores, to the same socket), which makes what drained taken, or lost. */
bool journal_stream_settle(struct journal_stream *s);

/* journal_stream_send() on a stream of the thread's link (below), for
 * entries nobody confirms (datagrams). */
int journal_send(const struct iovec *fields, size_t n_fields);

/* Entries are built in a link, one at a time under its lock. Blocking
 * threads share one; a thread that asks gets its own from now on
 * (journal_link_own(); journal_link_release() ends that). */
int journal_link_own(void);
void journal_link_release(void);

/* In a child of fork(2): the links' locks as if unlocked, and no socket
 * yet. Another thread (the UDP receiver) may have held a lock, or been
 * opening a socket, when the process forked; it does not exist in the
 * child. */
void journal_after_fork(void);
