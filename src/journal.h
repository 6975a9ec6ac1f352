/* The journal sink: the only module that talks to the systemd journal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Where journald listens for native-protocol entries. */
#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

/* Whether journald's socket exists, i.e. whether an entry can be delivered. */
bool journal_present(void);

/* Which socket file journald listens on; a restarted journald that made a
 * new one has another inode. */
struct journal_socket {
        dev_t device;
        ino_t inode;
};

/* Fills *socket and returns true when journald's socket exists. */
bool journal_socket_identify(struct journal_socket *socket);

static inline bool journal_socket_same(const struct journal_socket *a, const struct journal_socket *b) {
        return a->device == b->device && a->inode == b->inode;
}

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

/* Writes one entry of at most JOURNAL_FIELDS_MAX "NAME=value" fields (values
 * may hold any byte), in journald's native protocol, waiting while
 * journald's queue is full (the back pressure that keeps harkd from reading
 * faster than journald stores). Returns 0 when journald's socket took the
 * entry, -ENOENT when there is none, or another -errno. Taken is not stored:
 * the socket may be replaced, or its journald die, with entries queued
 * (see connection.c's confirm_sent()). */
int journal_send(const struct iovec *fields, size_t n_fields);

/* journal_send() from this thread goes over a socket of its own from now on
 * (journal_link_release() ends that). */
int journal_link_own(void);
void journal_link_release(void);

/* In a child of fork(2): the links' locks as if unlocked, and no socket
 * yet. Another thread (the UDP receiver) may have held a lock, or been
 * opening a socket, when the process forked; it does not exist in the
 * child. */
void journal_after_fork(void);
