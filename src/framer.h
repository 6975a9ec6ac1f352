/* The wire protocol's framing: a pure function of (state, bytes) -> messages,
 * callable without sockets (unit tests, fuzzing, the client's own count).
 *
 * A message ends at '\n'; one '\r' right before it is dropped; empty lines are
 * skipped; bytes after the last '\n' become a final message at framer_finish().
 * A line longer than max bytes yields its first max bytes, marked truncated, and
 * the rest of that line is discarded. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Every emitted message has this many writable bytes in front of it, so the
 * journal sink can put "MESSAGE=" there: sd_journal_sendv() wants each field as
 * one contiguous "NAME=value" buffer, and this saves a second copy per message. */
#define FRAMER_HEADROOM 8

struct framed_message {
        char *data;             /* FRAMER_HEADROOM writable bytes precede it */
        size_t size;
        bool truncated;
};

/* Called once per message; the message is valid only during the call. */
typedef void (*framer_emit_fn)(void *userdata, const struct framed_message *m);

struct framer {
        char *buffer;           /* headroom + the line received so far */
        size_t length;          /* bytes of the current line in buffer */
        size_t capacity;        /* allocated bytes after the headroom */
        size_t max;
        bool discarding;        /* inside the tail of a truncated line */
};

void framer_init(struct framer *f, size_t max_message_size);
void framer_done(struct framer *f);

/* Frames size bytes. Returns 0, or -ENOMEM (the bytes are then lost: the caller
 * must treat the connection as failed). */
int framer_feed(struct framer *f, const char *data, size_t size, framer_emit_fn emit, void *userdata);

/* The peer is done (closed, timed out, shutting down): emits what is left as a
 * final message. The framer may be fed again afterwards. */
void framer_finish(struct framer *f, framer_emit_fn emit, void *userdata);

/* Releases the line buffer when it holds nothing and is large, so an idle
 * connection does not keep a max-size buffer. */
void framer_trim(struct framer *f);

/* Bytes of a partial line held, waiting for its end. */
static inline size_t framer_pending(const struct framer *f) {
        return f->length;
}

/* Whether bytes since the last '\n' are waiting for the line's end (also
 * when they are the discarded tail of a truncated line). */
static inline bool framer_in_line(const struct framer *f) {
        return f->length > 0 || f->discarding;
}
