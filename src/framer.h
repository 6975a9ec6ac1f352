/* The wire protocol's framing: a pure function of (state, bytes) -> messages,
 * callable without sockets (unit tests, fuzzing, the client's own count).
 *
 * Each framer frames one stream in one of these ways:
 *
 * Lines (FRAMING_LINES; what framer_init() sets up). A message ends at '\n',
 * and with FRAMER_NUL_ENDS_LINE also at a NUL byte (Python's SysLogHandler
 * ends each record with a NUL and no '\n'); without that flag a NUL is data.
 * One '\r' right before the end is dropped; empty lines are skipped; bytes
 * after the last end become a final message at framer_finish(). A line longer
 * than max bytes yields its first max bytes, marked truncated, and the rest of
 * that line is discarded.
 *
 * Octets (FRAMING_OCTETS; RFC 6587 octet counting). Each frame is MSG-LEN SP
 * MSG: MSG-LEN is 1 to FRAMER_LENGTH_DIGITS_MAX decimal digits, the first not
 * '0', giving the number of bytes of MSG; SP is one space. MSG is the message,
 * every byte of it data ('\n', '\r', NUL included). Anything else where a
 * frame must start is a framing error (below): a '0' (a zero length or a
 * leading zero), a sign or any other non-digit, more digits than the bound,
 * a byte other than SP after the digits. A frame longer than max yields its
 * first max bytes, marked truncated, and exactly the rest of the frame is
 * skipped, so the next frame parses. A frame cut short by framer_finish()
 * yields what arrived of it, marked incomplete; a stream that ends inside a
 * MSG-LEN is a framing error.
 *
 * With a budget (framer_set_budget(); max_pending_bytes) a buffer larger
 * than FRAMER_KEEP_CAPACITY counts against it. When the buffer cannot grow
 * within the budget, or the budget asks for it back (framer_give_back()),
 * the message so far is emitted marked truncated and over_pending, and the
 * rest of it is skipped as for a message longer than max.
 *
 * Auto (FRAMING_AUTO). Decided once, by the first bytes of the stream: octets
 * if it starts with a well-formed MSG-LEN and SP (a digit 1-9, at most
 * FRAMER_LENGTH_DIGITS_MAX digits in all, then a space), lines on the first
 * byte that shows it does not ('<', '0', any other non-digit, a digit too
 * many, a byte other than SP after the digits, or the end of the stream);
 * the bytes read until then are then the start of the first line. So an
 * octet-counting sender is always recognised, and a line sender whose first
 * line does not start with "<digits> " is too; one whose first line does
 * (say "2 apples") is taken for octet counting, as rsyslog and syslog-ng
 * would. framer_framing() tells which framing was chosen.
 *
 * A framing error makes framer_feed() return -EBADMSG after emitting every
 * message that ended before the offending byte; the framer then takes no
 * more bytes (framer_feed() and framer_finish() return -EBADMSG again) until
 * framer_done(). framer_error_reason() says what was wrong. Lines framing
 * has no framing errors. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "pending.h"

/* Every emitted message has this many writable bytes in front of it, so the
 * journal sink can put "MESSAGE=" there: journal_send() wants each field as
 * one contiguous "NAME=value" buffer, and this saves a second copy per message. */
#define FRAMER_HEADROOM 8

/* At most this many digits in an octet frame's MSG-LEN: lengths up to
 * 999,999,999 bytes, beyond any max_message_size harkd accepts, so a sender
 * with longer messages than ours is truncated rather than cut off; and the
 * length fits in 32 bits, so it can never wrap. */
#define FRAMER_LENGTH_DIGITS_MAX 9

/* A buffer this small is kept across messages (it saves an allocation per
 * message and costs an idle connection little), and counts against no
 * budget. */
#define FRAMER_KEEP_CAPACITY 1024

enum framing {
        FRAMING_LINES,          /* 0: what a zeroed or framer_init()ed framer does */
        FRAMING_OCTETS,
        FRAMING_AUTO,           /* also what framer_framing() says while undecided */
};
#define FRAMING_COUNT 3

/* framer_init_framing() flags. */
#define FRAMER_NUL_ENDS_LINE (1u << 0) /* lines: a NUL ends a message as '\n' does */

struct framed_message {
        char *data;             /* FRAMER_HEADROOM writable bytes precede it */
        size_t size;            /* 1 to max */
        bool truncated;         /* the message is longer than max; data is its first max bytes */
        bool incomplete;        /* octets: the stream ended inside the frame; data is what arrived */
        bool over_pending;      /* truncated for the budget, not for max (then also truncated) */
};

/* Called once per message; the message is valid only during the call. */
typedef void (*framer_emit_fn)(void *userdata, const struct framed_message *m);

enum framer_octet_state {
        FRAMER_OCTET_LENGTH,    /* reading MSG-LEN (digits counts them) or its SP */
        FRAMER_OCTET_DATA,      /* reading MSG into buffer */
        FRAMER_OCTET_SKIP,      /* discarding the rest of a truncated frame */
};

struct framer {
        char *buffer;           /* headroom + the message received so far */
        size_t length;          /* bytes of the current message in buffer */
        size_t capacity;        /* allocated bytes after the headroom */
        size_t max;
        enum framing framing;   /* as set up */
        enum framing current;   /* lines or octets; FRAMING_AUTO until decided */
        unsigned flags;
        bool discarding;        /* lines: inside the tail of a truncated line */
        enum framer_octet_state octet_state;
        unsigned digits;        /* of MSG-LEN read so far (also while auto decides) */
        size_t frame_size;      /* MSG-LEN: its value so far, then the frame's size */
        size_t skip;            /* bytes of a truncated frame still to discard */
        int error;              /* -EBADMSG after a framing error, else 0 */
        const char *error_reason;
        struct pending *budget; /* NULL: none */
        struct pending_entry *account;
};

/* Lines framing, NUL is data: the wire protocol as it was before framings. */
void framer_init(struct framer *f, size_t max_message_size);

/* A framer of the given framing and FRAMER_* flags; max_message_size >= 1. */
void framer_init_framing(struct framer *f, size_t max_message_size, enum framing framing, unsigned flags);

/* The buffer counts against budget, as entry's (NULL: against none). */
void framer_set_budget(struct framer *f, struct pending *budget, struct pending_entry *entry);

/* Frees the buffer and forgets the stream (an auto framer decides again, an
 * error is cleared); the settings stay. Safe to call twice. */
void framer_done(struct framer *f);

/* Frames size bytes. Returns 0; -EBADMSG on a framing error (see above); or
 * -ENOMEM (the bytes are then lost: the caller must treat the connection as
 * failed). */
int framer_feed(struct framer *f, const char *data, size_t size, framer_emit_fn emit, void *userdata);

/* The peer is done (closed, timed out, shutting down): emits what is left as a
 * final message (octets: the frame cut short, marked incomplete) and frees a
 * large buffer (as framer_trim()). The framer
 * may be fed again afterwards, in the framing it has chosen. Returns 0;
 * -EBADMSG after a framing error, or when the stream ended inside an octet
 * frame's MSG-LEN (those digits are no message); or -ENOMEM. */
int framer_finish(struct framer *f, framer_emit_fn emit, void *userdata);

/* Releases the message buffer when it holds nothing and is large, so an idle
 * connection does not keep a max-size buffer. */
void framer_trim(struct framer *f);

/* The budget asked for the buffer back: emits the message so far (if any)
 * as truncated and over_pending, skips the rest of it, frees the buffer. */
void framer_give_back(struct framer *f, framer_emit_fn emit, void *userdata);

/* Whether the budget asks for the buffer back. */
static inline bool framer_asked(const struct framer *f) {
        return f->account && pending_asked(f->account);
}

/* FRAMING_LINES or FRAMING_OCTETS; FRAMING_AUTO while an auto framer has not
 * decided yet (no bytes, or only the digits of what may be a MSG-LEN). */
static inline enum framing framer_framing(const struct framer *f) {
        return f->current;
}

/* What the framing error was, for a log line ("frame length with a leading
 * zero"); NULL when there was none. */
static inline const char *framer_error_reason(const struct framer *f) {
        return f->error_reason;
}

/* "lines", "octets" or "auto": the values of the framing setting, indexed
 * by enum framing. */
extern const char *const framing_names[FRAMING_COUNT];

/* framing_names[framing], or NULL for a value out of range. */
const char *framing_name(enum framing framing);

/* Bytes of a partial message held, waiting for its end. */
static inline size_t framer_pending(const struct framer *f) {
        return f->length;
}

/* Whether bytes since the last message's end wait for the next end: part of
 * a line, an octet frame's MSG-LEN or MSG, or the discarded tail of a
 * truncated line or frame. */
static inline bool framer_in_line(const struct framer *f) {
        return f->length > 0 || f->discarding || f->digits > 0 || f->octet_state != FRAMER_OCTET_LENGTH;
}
