/* What the framer's fuzz targets share: a model of each framing, written
 * plainly over the whole input at once, and a driver that frames one input
 * in chunks the input itself chooses and aborts when the framer breaks an
 * invariant or disagrees with the model.
 *
 * Invariants checked for every framing: every message is 1 to max bytes,
 * has FRAMER_HEADROOM writable bytes in front (AddressSanitizer watches),
 * is truncated only at max bytes (or, cut short, below), and never comes
 * from bytes the stream did not have; a framing error is -EBADMSG with a
 * reason, only in octet framing, and sticks; after framer_finish() nothing
 * is pending and the framer is not inside a message; the messages, their
 * flags, the error and the chosen framing are the same fed whole, fed in
 * chunks (with framer_trim() between some) and in the model. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"

#include "fuzz-check.h"

#define FUZZ_MAX 64


struct fuzz_message {
        size_t offset;          /* in the outcome's bytes */
        size_t size;
        bool truncated;
        bool incomplete;
};

/* What framing one stream gave. */
struct fuzz_outcome {
        struct fuzz_message *messages;
        size_t count, capacity;
        char *bytes;
        size_t used, room;
        int error;
        enum framing chosen;
        size_t max;             /* what each message is checked against */
};

static inline void outcome_add(struct fuzz_outcome *o, const char *data, size_t size, bool truncated, bool incomplete) {
        if (o->count == o->capacity) {
                o->capacity = o->capacity ? 2 * o->capacity : 16;
                o->messages = realloc(o->messages, o->capacity * sizeof(*o->messages));
                fuzz_check(o->messages);
        }
        if (o->used + size > o->room) {
                while (o->used + size > o->room)
                        o->room = o->room ? 2 * o->room : 1024;
                o->bytes = realloc(o->bytes, o->room);
                fuzz_check(o->bytes);
        }
        memcpy(o->bytes + o->used, data, size);
        o->messages[o->count++] = (struct fuzz_message) { o->used, size, truncated, incomplete };
        o->used += size;
}

static inline void outcome_reset(struct fuzz_outcome *o, size_t max) {
        o->count = 0;
        o->used = 0;
        o->error = 0;
        o->chosen = FRAMING_LINES;
        o->max = max;
}

static inline void outcome_free(struct fuzz_outcome *o) {
        free(o->messages);
        free(o->bytes);
        *o = (struct fuzz_outcome) { 0 };
}

static inline bool outcomes_equal(const struct fuzz_outcome *a, const struct fuzz_outcome *b) {
        if (a->count != b->count || a->error != b->error || a->chosen != b->chosen)
                return false;
        for (size_t i = 0; i < a->count; i++) {
                const struct fuzz_message *x = &a->messages[i], *y = &b->messages[i];

                if (x->size != y->size || x->truncated != y->truncated || x->incomplete != y->incomplete ||
                    memcmp(a->bytes + x->offset, b->bytes + y->offset, x->size) != 0)
                        return false;
        }
        return true;
}

static inline void outcome_print(const char *title, const struct fuzz_outcome *o) {
        fprintf(stderr, "%s: %zu messages, error %d, framing %s\n", title, o->count, o->error,
                framing_name(o->chosen));
        for (size_t i = 0; i < o->count; i++) {
                const struct fuzz_message *m = &o->messages[i];

                fprintf(stderr, "  [%zu]%s%s %zu bytes \"", i, m->truncated ? " truncated" : "",
                        m->incomplete ? " incomplete" : "", m->size);
                for (size_t j = 0; j < m->size && j < 80; j++) {
                        unsigned char c = (unsigned char) o->bytes[m->offset + j];

                        fprintf(stderr, c >= ' ' && c < 0x7f && c != '"' && c != '\\' ? "%c" : "\\x%02x", c);
                }
                fprintf(stderr, "\"\n");
        }
}

static inline void fuzz_check_equal(const struct fuzz_outcome *want, const struct fuzz_outcome *got, const char *what) {
        if (outcomes_equal(want, got))
                return;
        fprintf(stderr, "framer disagrees: %s\n", what);
        outcome_print("want", want);
        outcome_print("got", got);
        abort();
}

/* ------------------------------------------------------------------------ */
/* The model. */

static inline bool model_ends_line(char c, unsigned flags) {
        return c == '\n' || (c == '\0' && (flags & FRAMER_NUL_ENDS_LINE));
}

static inline void model_lines(const char *in, size_t size, size_t max, unsigned flags, struct fuzz_outcome *o) {
        size_t start = 0;

        o->chosen = FRAMING_LINES;
        while (start < size) {
                size_t end = start, length;
                bool ended;

                while (end < size && !model_ends_line(in[end], flags))
                        end++;
                ended = end < size;
                length = end - start;
                if (ended && length > 0 && in[end - 1] == '\r')
                        length--;
                if (length > 0)
                        outcome_add(o, in + start, length > max ? max : length, length > max, false);
                start = end + 1;
        }
}

/* How many digits of a possible MSG-LEN start in[0..size), up to 10. */
static inline size_t model_digits(const char *in, size_t size) {
        size_t n = 0;

        while (n < size && n < 10 && in[n] >= '0' && in[n] <= '9')
                n++;
        return n;
}

static inline bool model_header_ok(const char *in, size_t size, size_t digits) {
        return digits >= 1 && digits <= FRAMER_LENGTH_DIGITS_MAX && in[0] != '0' && digits < size && in[digits] == ' ';
}

static inline void model_octets(const char *in, size_t size, size_t max, struct fuzz_outcome *o) {
        size_t at = 0;

        o->chosen = FRAMING_OCTETS;
        while (at < size) {
                size_t digits = model_digits(in + at, size - at), length = 0, have, keep;

                if (!model_header_ok(in + at, size - at, digits)) {
                        o->error = -EBADMSG;
                        return;
                }
                for (size_t i = 0; i < digits; i++)
                        length = 10 * length + (size_t) (in[at + i] - '0');
                at += digits + 1;
                have = size - at < length ? size - at : length;
                keep = length > max ? max : length;
                if (have >= keep)
                        outcome_add(o, in + at, keep, length > max, false);
                else if (have > 0)
                        outcome_add(o, in + at, have, length > max, true);
                at += have;
        }
}

static inline void model_auto(const char *in, size_t size, size_t max, unsigned flags, struct fuzz_outcome *o) {
        if (size == 0)
                o->chosen = FRAMING_AUTO;
        else if (model_header_ok(in, size, model_digits(in, size)))
                model_octets(in, size, max, o);
        else
                model_lines(in, size, max, flags, o);
}

static inline void model(enum framing framing, unsigned flags, const char *in, size_t size, size_t max,
                  struct fuzz_outcome *o) {
        outcome_reset(o, max);
        switch (framing) {
        case FRAMING_LINES:
                model_lines(in, size, max, flags, o);
                break;
        case FRAMING_OCTETS:
                model_octets(in, size, max, o);
                break;
        case FRAMING_AUTO:
                model_auto(in, size, max, flags, o);
                break;
        }
}

/* ------------------------------------------------------------------------ */
/* The driver. */

/* splitmix64: chunk sizes and trims, seeded by the input, so that a crash
 * replays from its input alone. */
struct fuzz_random {
        uint64_t state;
};

static inline uint64_t fuzz_next(struct fuzz_random *r) {
        uint64_t z = (r->state += 0x9e3779b97f4a7c15u);

        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        return z ^ (z >> 31);
}

static inline struct fuzz_random fuzz_seed(const uint8_t *data, size_t size, uint64_t salt) {
        uint64_t h = 0xcbf29ce484222325u ^ salt;

        for (size_t i = 0; i < size; i++)
                h = (h ^ data[i]) * 0x100000001b3u;
        return (struct fuzz_random) { h };
}

/* Mostly short reads, some empty, some single bytes, now and then a long one. */
static inline size_t fuzz_chunk(struct fuzz_random *r) {
        uint64_t x = fuzz_next(r);

        switch (x % 8) {
        case 0:
                return 0;
        case 1:
        case 2:
                return 1;
        case 3:
                return (size_t) (x >> 8) % 512;
        default:
                return (size_t) (x >> 8) % 17;
        }
}

static inline void fuzz_collect(void *userdata, const struct framed_message *m) {
        struct fuzz_outcome *o = userdata;

        memset(m->data - FRAMER_HEADROOM, 'H', FRAMER_HEADROOM);
        fuzz_check(m->size >= 1 && m->size <= o->max);
        fuzz_check(!m->truncated || m->size == o->max || m->incomplete);
        outcome_add(o, m->data, m->size, m->truncated, m->incomplete);
}

enum fuzz_feeding {
        FUZZ_WHOLE,
        FUZZ_CHUNKS,            /* chunk sizes and trims from random */
        FUZZ_BYTES,
};

static inline void fuzz_frame(enum framing framing, unsigned flags, size_t max, const char *in, size_t size,
                       enum fuzz_feeding feeding, struct fuzz_random *random, struct fuzz_outcome *o) {
        struct framer f;
        size_t done = 0;
        int r;

        outcome_reset(o, max);
        framer_init_framing(&f, max, framing, flags);
        while (done < size) {
                size_t n = feeding == FUZZ_WHOLE ? size : feeding == FUZZ_BYTES ? 1 : fuzz_chunk(random);

                if (n > size - done)
                        n = size - done;
                r = framer_feed(&f, in + done, n, fuzz_collect, o);
                fuzz_check(r == 0 || r == -EBADMSG);
                fuzz_check(!o->error || r == o->error);
                o->error = r;
                fuzz_check((r != 0) == (framer_error_reason(&f) != NULL));
                done += n;
                if (feeding == FUZZ_CHUNKS && fuzz_next(random) % 4 == 0)
                        framer_trim(&f);
        }
        r = framer_finish(&f, fuzz_collect, o);
        fuzz_check(r == 0 || r == -EBADMSG);
        fuzz_check(!o->error || r == o->error);
        o->error = r;
        o->chosen = framer_framing(&f);
        fuzz_check(framer_pending(&f) == 0);
        fuzz_check(!framer_in_line(&f));
        fuzz_check(!o->error || o->chosen == FRAMING_OCTETS);
        fuzz_check(o->used <= size);
        for (size_t i = 0; i < o->count; i++)
                fuzz_check(!o->messages[i].incomplete || o->chosen == FRAMING_OCTETS);
        framer_done(&f);
        fuzz_check(f.buffer == NULL && f.error == 0 && f.max == max);
}

/* Frames in[0..size) whole, in chunks and (short inputs) byte by byte, each
 * checked against the model. */
static inline void fuzz_framing(enum framing framing, unsigned flags, size_t max, const uint8_t *data, size_t size) {
        static struct fuzz_outcome want, got;
        const char *in = (const char *) data;
        struct fuzz_random random = fuzz_seed(data, size, (uint64_t) framing << 32 | flags << 16 | max);

        model(framing, flags, in, size, max, &want);
        fuzz_frame(framing, flags, max, in, size, FUZZ_WHOLE, NULL, &got);
        fuzz_check_equal(&want, &got, "fed whole vs the model");
        fuzz_frame(framing, flags, max, in, size, FUZZ_CHUNKS, &random, &got);
        fuzz_check_equal(&want, &got, "fed in chunks vs the model");
        if (size <= 256) {
                fuzz_frame(framing, flags, max, in, size, FUZZ_BYTES, NULL, &got);
                fuzz_check_equal(&want, &got, "fed byte by byte vs the model");
        }
}

/* A second, smaller max (1 to 8) picked by the input, for the edges near 1. */
static inline size_t fuzz_small_max(const uint8_t *data, size_t size) {
        return 1 + (size ? data[size - 1] % 8 : 0);
}
