#include "framer.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT(x) #x
#define EXPANDED_TEXT(x) TEXT(x)
#define DIGITS_MAX_TEXT EXPANDED_TEXT(FRAMER_LENGTH_DIGITS_MAX)

static size_t min_size(size_t a, size_t b) {
        return a < b ? a : b;
}

/* A fresh stream; the settings stay. */
static void reset(struct framer *f) {
        *f = (struct framer) {
                .max = f->max,
                .framing = f->framing,
                .current = f->framing,
                .flags = f->flags,
                .budget = f->budget,
                .account = f->account,
        };
}

void framer_init_framing(struct framer *f, size_t max_message_size, enum framing framing, unsigned flags) {
        assert(max_message_size > 0);
        *f = (struct framer) { .max = max_message_size, .framing = framing, .flags = flags };
        reset(f);
}

void framer_init(struct framer *f, size_t max_message_size) {
        framer_init_framing(f, max_message_size, FRAMING_LINES, 0);
}

void framer_set_budget(struct framer *f, struct pending *budget, struct pending_entry *entry) {
        assert(!f->buffer && (!budget) == (!entry));
        f->budget = budget;
        f->account = entry;
}

/* What a buffer of capacity bytes counts against the budget: at most max
 * (the byte after it is only ever a '\r' on its way out). */
static size_t charge(const struct framer *f, size_t capacity) {
        if (!f->budget || capacity <= FRAMER_KEEP_CAPACITY)
                return 0;
        return capacity < f->max ? capacity : f->max;
}

static void free_buffer(struct framer *f) {
        if (charge(f, f->capacity) > 0 || (f->account && pending_asked(f->account)))
                pending_release(f->budget, f->account);
        free(f->buffer);
        f->buffer = NULL;
        f->capacity = 0;
}

void framer_done(struct framer *f) {
        free_buffer(f);
        reset(f);
}

void framer_trim(struct framer *f) {
        /* Only the buffer goes: a truncated message's tail may still be on its way. */
        if (f->length == 0 && f->capacity > FRAMER_KEEP_CAPACITY)
                free_buffer(f);
}

const char *const framing_names[FRAMING_COUNT] = {
        [FRAMING_LINES] = "lines",
        [FRAMING_OCTETS] = "octets",
        [FRAMING_AUTO] = "auto",
};

const char *framing_name(enum framing framing) {
        return (unsigned) framing < FRAMING_COUNT ? framing_names[framing] : NULL;
}

static char *message(const struct framer *f) {
        return f->buffer + FRAMER_HEADROOM;
}

static int reserve(struct framer *f, size_t want) {
        size_t capacity, more;
        char *b;
        int r;

        if (want <= f->capacity)
                return 0;
        capacity = f->capacity ? f->capacity : 256;
        while (capacity < want)
                capacity *= 2;
        /* max + 1: a line of exactly max bytes may still be followed by "\r\n". */
        if (capacity > f->max + 1)
                capacity = f->max + 1;
        more = charge(f, capacity) - charge(f, f->capacity);
        if (more > 0 && (r = pending_grow(f->budget, f->account, more, f->length)) < 0)
                return r;
        b = realloc(f->buffer, FRAMER_HEADROOM + capacity);
        if (!b) {
                if (more > 0)
                        pending_shrink(f->budget, f->account, more);
                return -ENOMEM;
        }
        f->buffer = b;
        f->capacity = capacity;
        return 0;
}

static void copy_in(struct framer *f, const char *data, size_t size) {
        memcpy(message(f) + f->length, data, size);
        f->length += size;
        if (f->account)
                pending_note_length(f->account, f->length);
}

/* Appends size bytes to the message in the buffer; the caller has made sure
 * they fit in max + 1. -ENOBUFS: the budget does not let the buffer grow. */
static int append(struct framer *f, const char *data, size_t size) {
        int r = reserve(f, f->length + size);

        if (r < 0)
                return r;
        copy_in(f, data, size);
        return 0;
}

static void emit_message(struct framer *f, size_t size, bool truncated, bool incomplete, framer_emit_fn emit,
                         void *userdata) {
        struct framed_message m;

        if (size == 0)
                return;
        m = (struct framed_message) { .data = message(f), .size = size, .truncated = truncated, .incomplete = incomplete };
        emit(userdata, &m);
}

/* Emits the message so far as cut for the budget and frees its buffer;
 * the caller skips the rest of it. */
static void emit_cut(struct framer *f, framer_emit_fn emit, void *userdata) {
        struct framed_message m;

        if (f->length > 0) {
                m = (struct framed_message) { .data = message(f), .size = min_size(f->length, f->max),
                                              .truncated = true, .over_pending = true };
                emit(userdata, &m);
        }
        f->length = 0;
        free_buffer(f);
}

/* Over the budget: the message takes what still fits the buffer paid for
 * (FRAMER_KEEP_CAPACITY at least, which counts against nothing, so that
 * something of it is logged), and is cut there. Returns the bytes of data
 * taken. */
static size_t cut_for_budget(struct framer *f, const char *data, size_t size, framer_emit_fn emit,
                             void *userdata) {
        size_t take;

        /* Failing, it leaves less room: nothing else. */
        (void) reserve(f, min_size(FRAMER_KEEP_CAPACITY, f->max));
        take = min_size(size, f->capacity - f->length);
        if (take > 0)
                copy_in(f, data, take);
        emit_cut(f, emit, userdata);
        return take;
}

/* ------------------------------------------------------------------------ */
/* Lines. */

/* The line in the buffer ended with '\n' (or NUL). */
static void complete_line(struct framer *f, framer_emit_fn emit, void *userdata) {
        size_t size = f->length;

        if (size > 0 && message(f)[size - 1] == '\r')
                size--;
        /* Only a '\r' can sit in the max+1st byte: the caller cut longer lines. */
        emit_message(f, size, false, false, emit, userdata);
        f->length = 0;
}

/* The line has grown past max: hand on its head, drop the rest up to its end. */
static void truncate_line(struct framer *f, framer_emit_fn emit, void *userdata) {
        emit_message(f, f->max, true, false, emit, userdata);
        f->length = 0;
        f->discarding = true;
}

/* Appends the bytes of one line (no end among them) to the buffer. */
static int append_line(struct framer *f, const char *data, size_t size, framer_emit_fn emit, void *userdata) {
        size_t take;
        int r;

        if (f->discarding || size == 0)
                return 0;
        take = min_size(size, f->max + 1 - f->length);
        r = append(f, data, take);
        if (r == -ENOBUFS) {
                (void) cut_for_budget(f, data, take, emit, userdata);
                f->discarding = true;
                return 0;
        }
        if (r < 0)
                return r;
        /* The byte after max may only be the '\r' of a "\r\n"; anything else, or
         * any byte after it, proves the line too long. */
        if (size > take || (f->length == f->max + 1 && message(f)[f->max] != '\r'))
                truncate_line(f, emit, userdata);
        return 0;
}

static int feed_lines(struct framer *f, const char *data, size_t size, framer_emit_fn emit, void *userdata) {
        const char *end = data + size;
        const char *nl = NULL;  /* the next '\n' at or after data (end: none) */

        while (data < end) {
                const char *stop;
                int r;

                /* Searched again only once passed: NUL-ended records between two
                 * '\n' far apart must not make each search run to the '\n'. */
                if (!nl || nl < data) {
                        nl = memchr(data, '\n', (size_t) (end - data));
                        if (!nl)
                                nl = end;
                }
                stop = nl;
                if (f->flags & FRAMER_NUL_ENDS_LINE) {
                        const char *nul = memchr(data, '\0', (size_t) (nl - data));

                        if (nul)
                                stop = nul;
                }
                r = append_line(f, data, (size_t) (stop - data), emit, userdata);
                if (r < 0)
                        return r;
                if (stop == end)
                        break;
                if (f->discarding)
                        f->discarding = false;
                else
                        complete_line(f, emit, userdata);
                data = stop + 1;
        }
        return 0;
}

static int finish_lines(struct framer *f, framer_emit_fn emit, void *userdata) {
        /* A final line that filled max+1 bytes (its last a '\r') never got its end. */
        if (f->length > f->max)
                truncate_line(f, emit, userdata);
        else
                emit_message(f, f->length, false, false, emit, userdata);
        f->length = 0;
        f->discarding = false;
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Octets. */

enum length_step {
        LENGTH_MORE,            /* a digit of MSG-LEN, taken */
        LENGTH_DONE,            /* the SP after MSG-LEN, taken: the frame's MSG follows */
        LENGTH_BAD,             /* not taken; *reason says why */
};

/* One byte where MSG-LEN or its SP is expected. The digit bound keeps
 * frame_size below 10^9: no overflow, and no buffer to overrun. */
static enum length_step length_byte(struct framer *f, char c, const char **reason) {
        if (c >= '0' && c <= '9') {
                if (f->digits == 0 && c == '0') {
                        *reason = "frame length 0 or with a leading zero";
                        return LENGTH_BAD;
                }
                if (f->digits == FRAMER_LENGTH_DIGITS_MAX) {
                        *reason = "frame length of more than " DIGITS_MAX_TEXT " digits";
                        return LENGTH_BAD;
                }
                f->frame_size = f->frame_size * 10 + (size_t) (c - '0');
                f->digits++;
                return LENGTH_MORE;
        }
        if (f->digits == 0) {
                *reason = "frame does not start with a length";
                return LENGTH_BAD;
        }
        if (c != ' ') {
                *reason = "frame length not followed by a space";
                return LENGTH_BAD;
        }
        f->digits = 0;
        f->octet_state = FRAMER_OCTET_DATA;
        return LENGTH_DONE;
}

static void end_frame(struct framer *f) {
        f->length = 0;
        f->frame_size = 0;
        f->skip = 0;
        f->digits = 0;
        f->octet_state = FRAMER_OCTET_LENGTH;
}

/* A framing error: the framer holds nothing and takes nothing more. */
static int fail(struct framer *f, const char *reason) {
        end_frame(f);
        f->error = -EBADMSG;
        f->error_reason = reason;
        return f->error;
}

/* The frame was emitted with its first `kept` bytes; the rest is skipped. */
static void skip_frame_rest(struct framer *f, size_t kept) {
        assert(kept < f->frame_size);
        f->skip = f->frame_size - kept;
        f->length = 0;
        f->frame_size = 0;
        f->octet_state = FRAMER_OCTET_SKIP;
}

/* Takes bytes of the current frame's MSG from data[0..size), *used of them
 * (at least one: max >= 1), and emits the frame once it has all it keeps. */
static int frame_data(struct framer *f, const char *data, size_t size, size_t *used, framer_emit_fn emit,
                      void *userdata) {
        size_t want = min_size(f->frame_size, f->max);
        size_t take = min_size(want - f->length, size);
        int r = append(f, data, take);

        if (r == -ENOBUFS) {
                size_t kept = f->length;

                *used = cut_for_budget(f, data, take, emit, userdata);
                skip_frame_rest(f, kept + *used);
                return 0;
        }
        if (r < 0)
                return r;
        *used = take;
        if (f->length < want)
                return 0;
        emit_message(f, want, f->frame_size > f->max, false, emit, userdata);
        f->skip = f->frame_size - want;
        f->length = 0;
        f->frame_size = 0;
        f->octet_state = f->skip > 0 ? FRAMER_OCTET_SKIP : FRAMER_OCTET_LENGTH;
        return 0;
}

/* Every step takes at least one byte, fails, or (cut for the budget) moves
 * on to skipping, which takes one: no input keeps it looping. */
static int feed_octets(struct framer *f, const char *data, size_t size, framer_emit_fn emit, void *userdata) {
        while (size > 0) {
                const char *reason;
                size_t used = 1;
                int r;

                switch (f->octet_state) {
                case FRAMER_OCTET_LENGTH:
                        if (length_byte(f, *data, &reason) == LENGTH_BAD)
                                return fail(f, reason);
                        break;
                case FRAMER_OCTET_DATA:
                        r = frame_data(f, data, size, &used, emit, userdata);
                        if (r < 0)
                                return r;
                        break;
                case FRAMER_OCTET_SKIP:
                        used = min_size(f->skip, size);
                        f->skip -= used;
                        if (f->skip == 0)
                                f->octet_state = FRAMER_OCTET_LENGTH;
                        break;
                }
                assert(used > 0 || f->octet_state == FRAMER_OCTET_SKIP);
                data += used;
                size -= used;
        }
        return 0;
}

static int finish_octets(struct framer *f, framer_emit_fn emit, void *userdata) {
        if (f->octet_state == FRAMER_OCTET_LENGTH && f->digits > 0)
                return fail(f, "stream ended inside a frame length");
        if (f->octet_state == FRAMER_OCTET_DATA)
                emit_message(f, f->length, f->frame_size > f->max, true, emit, userdata);
        end_frame(f);
        return 0;
}

/* ------------------------------------------------------------------------ */
/* Auto. */

/* The stream is not octet-counted: the digits read so far start its first line. */
static int choose_lines(struct framer *f, framer_emit_fn emit, void *userdata) {
        char digits[FRAMER_LENGTH_DIGITS_MAX + 1] = "";
        int n = 0;

        /* No leading zero, at most 9 digits: the value gives back the digits. */
        if (f->digits > 0)
                n = snprintf(digits, sizeof(digits), "%zu", f->frame_size);
        assert(n >= 0 && (unsigned) n == f->digits);
        end_frame(f);
        f->current = FRAMING_LINES;
        return feed_lines(f, digits, (size_t) n, emit, userdata);
}

/* Reads the stream's first bytes as a MSG-LEN until they show the framing;
 * *used says how many were taken. */
static int decide(struct framer *f, const char *data, size_t size, size_t *used, framer_emit_fn emit,
                  void *userdata) {
        const char *reason;

        *used = 0;
        while (*used < size) {
                switch (length_byte(f, data[*used], &reason)) {
                case LENGTH_MORE:
                        ++*used;
                        break;
                case LENGTH_DONE:
                        ++*used;
                        f->current = FRAMING_OCTETS;
                        return 0;
                case LENGTH_BAD:
                        return choose_lines(f, emit, userdata);
                }
        }
        return 0;
}

/* ------------------------------------------------------------------------ */

void framer_give_back(struct framer *f, framer_emit_fn emit, void *userdata) {
        size_t kept = f->length;

        /* A small buffer counts for nothing: only the ask is answered. */
        if (charge(f, f->capacity) == 0) {
                if (f->account)
                        pending_release(f->budget, f->account);
                return;
        }
        emit_cut(f, emit, userdata);
        if (kept == 0)
                return;
        if (f->current == FRAMING_OCTETS)
                skip_frame_rest(f, kept);
        else
                f->discarding = true;
}

int framer_feed(struct framer *f, const char *data, size_t size, framer_emit_fn emit, void *userdata) {
        size_t used;
        int r;

        if (f->error)
                return f->error;
        if (framer_asked(f))
                framer_give_back(f, emit, userdata);
        if (f->current == FRAMING_AUTO) {
                r = decide(f, data, size, &used, emit, userdata);
                if (r < 0)
                        return r;
                data += used;
                size -= used;
        }
        switch (f->current) {
        case FRAMING_LINES:
                return feed_lines(f, data, size, emit, userdata);
        case FRAMING_OCTETS:
                return feed_octets(f, data, size, emit, userdata);
        case FRAMING_AUTO:
                break;
        }
        return 0;
}

int framer_finish(struct framer *f, framer_emit_fn emit, void *userdata) {
        int r;

        if (f->error)
                return f->error;
        /* Digits and then the end: no frame ever came, so they were a line. */
        if (f->current == FRAMING_AUTO && f->digits > 0) {
                r = choose_lines(f, emit, userdata);
                if (r < 0)
                        return r;
        }
        r = 0;
        if (f->current == FRAMING_LINES)
                r = finish_lines(f, emit, userdata);
        else if (f->current == FRAMING_OCTETS)
                r = finish_octets(f, emit, userdata);
        /* The stream is over: a large buffer would only be held, and counted
         * against the budget, while the answer waits. */
        framer_trim(f);
        return r;
}
