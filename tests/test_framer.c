/* Unit tests of the framer (src/framer.c): the wire protocol's framing rules
 * (lines, RFC 6587 octet counting, the auto choice between them), the attacks
 * on octet counting seen elsewhere, that the way the bytes are split into reads
 * never changes the messages, the headroom in front of every message, and the
 * buffer's life (trim, finish). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "util.h"

/* A message as the tests keep it: a copy, valid after the emit call. */
struct message {
        char *data;
        size_t size;
        bool truncated;
        bool incomplete;
};

/* What a stream gave: its messages, and how it ended. */
struct message_list {
        struct message *items;
        size_t count;
        size_t capacity;
        int error;              /* the first error framer_feed() or framer_finish() returned */
        enum framing chosen;    /* framer_framing() at the end */
};

static void list_add_flags(struct message_list *l, const char *data, size_t size, bool truncated, bool incomplete) {
        if (l->count == l->capacity) {
                l->capacity = l->capacity ? 2 * l->capacity : 16;
                l->items = realloc(l->items, l->capacity * sizeof(*l->items));
                assert_non_null(l->items);
        }
        l->items[l->count].data = malloc(size ? size : 1);
        assert_non_null(l->items[l->count].data);
        memcpy(l->items[l->count].data, data, size);
        l->items[l->count].size = size;
        l->items[l->count].truncated = truncated;
        l->items[l->count].incomplete = incomplete;
        l->count++;
}

static void list_add(struct message_list *l, const char *data, size_t size, bool truncated) {
        list_add_flags(l, data, size, truncated, false);
}

static void list_clear(struct message_list *l) {
        for (size_t i = 0; i < l->count; i++)
                free(l->items[i].data);
        l->count = 0;
        l->error = 0;
        l->chosen = FRAMING_LINES;
}

static void list_free(struct message_list *l) {
        list_clear(l);
        free(l->items);
        *l = (struct message_list) { 0 };
}

/* The emit callback of every test. It writes all FRAMER_HEADROOM bytes in
 * front of the message, as the journal sink does, so that ASan proves the
 * headroom is there for every message the framer hands out. */
static void collect(void *userdata, const struct framed_message *m) {
        memset(m->data - FRAMER_HEADROOM, 'H', FRAMER_HEADROOM);
        list_add_flags(userdata, m->data, m->size, m->truncated, m->incomplete);
}

/* Decides the size of the next read; lets one input be fed in many ways. */
typedef size_t (*piece_fn)(size_t left, void *ctx);

static size_t piece_whole(size_t left, void *ctx) {
        (void) ctx;
        return left;
}

static size_t piece_one_byte(size_t left, void *ctx) {
        (void) left;
        (void) ctx;
        return 1;
}

/* The first piece is *(size_t *) ctx bytes (maybe none), the second all the rest. */
static size_t piece_split_at(size_t left, void *ctx) {
        size_t *first = ctx;
        size_t n = *first;

        (void) left;
        *first = SIZE_MAX;
        return n;
}

/* Mostly short reads, some empty, now and then a long one; uses rand(). */
static size_t piece_random(size_t left, void *ctx) {
        (void) ctx;
        (void) left;
        return rand() % 8 == 0 ? (size_t) (rand() % 200) : (size_t) (rand() % 17);
}

/* How a framer is set up. */
struct setup {
        size_t max;
        enum framing framing;
        unsigned flags;
};

/* Feeds in[0..size) to a fresh framer in the pieces pieces() chooses, then
 * finishes it; out receives the messages, the first error and the framing
 * chosen. After an error every later call must return that error again. */
static void frame_with(const struct setup *setup, const char *in, size_t size, piece_fn pieces, void *ctx,
                       struct message_list *out) {
        struct framer f;
        size_t done = 0;
        int r;

        list_clear(out);
        framer_init_framing(&f, setup->max, setup->framing, setup->flags);
        while (done < size) {
                size_t n = pieces(size - done, ctx);

                if (n > size - done)
                        n = size - done;
                r = framer_feed(&f, in + done, n, collect, out);
                if (out->error)
                        assert_int_equal(r, out->error);
                out->error = r;
                if (r < 0)
                        assert_non_null(framer_error_reason(&f));
                done += n;
        }
        r = framer_finish(&f, collect, out);
        if (out->error)
                assert_int_equal(r, out->error);
        out->error = r;
        out->chosen = framer_framing(&f);
        assert_int_equal(framer_pending(&f), 0);
        assert_false(framer_in_line(&f));
        framer_done(&f);
}

/* Lines framing, as framer_init() sets it up: what every test did before
 * there were other framings. */
static void frame(size_t max, const char *in, size_t size, piece_fn pieces, void *ctx,
                  struct message_list *out) {
        struct setup lines = { .max = max, .framing = FRAMING_LINES };

        frame_with(&lines, in, size, pieces, ctx, out);
        assert_int_equal(out->error, 0);
}

/* The rules of the wire protocol, written as plainly as possible and
 * independently of src/framer.c, to check it against. Lines: */
static void reference_lines(size_t max, unsigned flags, const char *in, size_t size, struct message_list *out) {
        size_t start = 0;

        list_clear(out);
        for (size_t i = 0; i <= size; i++) {
                bool terminated = i < size && (in[i] == '\n' || (in[i] == '\0' && (flags & FRAMER_NUL_ENDS_LINE)));
                size_t length = i - start;

                if (!terminated && i < size)
                        continue;
                /* One '\r' right before the end is dropped; a final line keeps it. */
                if (terminated && length > 0 && in[i - 1] == '\r')
                        length--;
                if (length > max)
                        list_add(out, in + start, max, true);
                else if (length > 0)
                        list_add(out, in + start, length, false);
                start = i + 1;
        }
}

static void reference_frame(size_t max, const char *in, size_t size, struct message_list *out) {
        reference_lines(max, 0, in, size, out);
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* Octet counting (RFC 6587): MSG-LEN SP MSG, MSG-LEN 1 to 9 digits without a
 * leading zero. Works on the whole input at once: the digits of a header are
 * all there, or the input ends among them. */
static void reference_octets(size_t max, const char *in, size_t size, struct message_list *out) {
        size_t at = 0;

        list_clear(out);
        out->chosen = FRAMING_OCTETS;
        while (at < size) {
                size_t digits = 0, length = 0, left, keep;

                while (at + digits < size && is_digit(in[at + digits]) && digits <= 9)
                        digits++;
                if (digits == 0 || digits > 9 || in[at] == '0' || at + digits == size || in[at + digits] != ' ') {
                        out->error = -EBADMSG;
                        return;
                }
                for (size_t i = 0; i < digits; i++)
                        length = length * 10 + (size_t) (in[at + i] - '0');
                at += digits + 1;
                left = size - at;
                keep = length < max ? length : max;
                if (left < keep) {
                        /* Cut short before the framer had all it keeps of it. */
                        if (left > 0)
                                list_add_flags(out, in + at, left, length > max, true);
                        return;
                }
                list_add(out, in + at, keep, length > max);
                if (left <= length)
                        return;
                at += length;
        }
}

/* Auto: octets when the input starts with 1 to 9 digits, the first not '0',
 * and a space; lines otherwise (also for digits alone up to the end). */
static void reference_auto(size_t max, unsigned flags, const char *in, size_t size, struct message_list *out) {
        size_t digits = 0;

        while (digits < size && digits < 10 && is_digit(in[digits]))
                digits++;
        if (size == 0) {
                list_clear(out);
                out->chosen = FRAMING_AUTO;
        } else if (digits >= 1 && digits <= 9 && in[0] != '0' && digits < size && in[digits] == ' ')
                reference_octets(max, in, size, out);
        else
                reference_lines(max, flags, in, size, out);
}

static void reference(const struct setup *setup, const char *in, size_t size, struct message_list *out) {
        switch (setup->framing) {
        case FRAMING_LINES:
                reference_lines(setup->max, setup->flags, in, size, out);
                break;
        case FRAMING_OCTETS:
                reference_octets(setup->max, in, size, out);
                break;
        case FRAMING_AUTO:
                reference_auto(setup->max, setup->flags, in, size, out);
                break;
        }
}

static void print_messages(const char *title, const struct message_list *l) {
        print_error("  %s (%zu, error %d, framing %s):\n", title, l->count, l->error, framing_name(l->chosen));
        for (size_t i = 0; i < l->count; i++) {
                print_error("    [%zu]%s%s \"", i, l->items[i].truncated ? " truncated" : "",
                            l->items[i].incomplete ? " incomplete" : "");
                for (size_t j = 0; j < l->items[i].size; j++) {
                        unsigned char c = (unsigned char) l->items[i].data[j];

                        if (c >= ' ' && c < 0x7f && c != '"' && c != '\\')
                                print_error("%c", c);
                        else
                                print_error("\\x%02x", c);
                }
                print_error("\"\n");
        }
}

static bool same_messages(const struct message_list *a, const struct message_list *b) {
        if (a->count != b->count || a->error != b->error || a->chosen != b->chosen)
                return false;
        for (size_t i = 0; i < a->count; i++)
                if (a->items[i].size != b->items[i].size || a->items[i].truncated != b->items[i].truncated ||
                    a->items[i].incomplete != b->items[i].incomplete ||
                    memcmp(a->items[i].data, b->items[i].data, a->items[i].size) != 0)
                        return false;
        return true;
}

static void assert_same_messages(const struct message_list *want, const struct message_list *got,
                                 const char *what, const char *name) {
        if (same_messages(want, got))
                return;
        print_messages("expected", want);
        print_messages("got", got);
        fail_msg("%s: %s", name, what);
}

/* ------------------------------------------------------------------------ */
/* The framing rules, each a table of inputs and the messages they must give. */

#define MAX_EXPECTED 6

struct expected_message {
        const char *data;
        size_t size;
        bool truncated;
        bool incomplete;
};

struct framing_case {
        const char *name;
        const char *input;
        size_t input_size;
        size_t max;
        struct expected_message messages[MAX_EXPECTED];
};

/* The same with the error the stream must end with (0 or -EBADMSG). */
struct stream_case {
        const char *name;
        const char *input;
        size_t input_size;
        size_t max;
        int error;
        struct expected_message messages[MAX_EXPECTED];
};

/* Byte strings with their exact length, NUL bytes included. */
#define BYTES(s) s, sizeof(s) - 1
#define MSG(s) { BYTES(s), false, false }
#define TRUNCATED(s) { BYTES(s), true, false }
#define INCOMPLETE(s) { BYTES(s), false, true }
#define TRUNCATED_INCOMPLETE(s) { BYTES(s), true, true }
#define NONE { { 0 } }

struct lists {
        struct message_list want, got, reference;
};

static int lists_setup(void **state) {
        *state = calloc(1, sizeof(struct lists));
        return *state ? 0 : -1;
}

static int lists_teardown(void **state) {
        struct lists *l = *state;

        list_free(&l->want);
        list_free(&l->got);
        list_free(&l->reference);
        free(l);
        return 0;
}

/* Checks one case fed whole, byte by byte and split in two at every offset,
 * and checks the reference model against it too (so the model used by the
 * random test is itself checked against hand-written expectations). chosen
 * is the framing the framer must end in. */
static void check_case_as(struct lists *l, enum framing framing, unsigned flags, enum framing chosen,
                          const struct stream_case *c) {
        struct setup setup = { .max = c->max, .framing = framing, .flags = flags };

        list_clear(&l->want);
        for (size_t i = 0; i < MAX_EXPECTED && c->messages[i].data; i++)
                list_add_flags(&l->want, c->messages[i].data, c->messages[i].size, c->messages[i].truncated,
                               c->messages[i].incomplete);
        l->want.error = c->error;
        l->want.chosen = chosen;

        reference(&setup, c->input, c->input_size, &l->reference);
        assert_same_messages(&l->want, &l->reference, "the reference model disagrees", c->name);

        frame_with(&setup, c->input, c->input_size, piece_whole, NULL, &l->got);
        assert_same_messages(&l->want, &l->got, "fed whole", c->name);

        frame_with(&setup, c->input, c->input_size, piece_one_byte, NULL, &l->got);
        assert_same_messages(&l->want, &l->got, "fed byte by byte", c->name);

        for (size_t at = 0; at <= c->input_size; at++) {
                size_t split = at;

                frame_with(&setup, c->input, c->input_size, piece_split_at, &split, &l->got);
                if (!same_messages(&l->want, &l->got))
                        print_error("  split after %zu bytes\n", at);
                assert_same_messages(&l->want, &l->got, "fed in two pieces", c->name);
        }
}

static void check_cases_as(void **state, enum framing framing, unsigned flags, enum framing chosen,
                           const struct stream_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++)
                check_case_as(*state, framing, flags, chosen, &cases[i]);
}

/* Lines framing as framer_init() sets it up: no errors. */
static void check_cases(void **state, const struct framing_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct stream_case c = { cases[i].name, cases[i].input, cases[i].input_size, cases[i].max, 0, NONE };

                memcpy(c.messages, cases[i].messages, sizeof(c.messages));
                check_case_as(*state, FRAMING_LINES, 0, FRAMING_LINES, &c);
        }
}

static void newline_ends_a_message(void **state) {
        static const struct framing_case cases[] = {
                { "one line", BYTES("hello\n"), 64, { MSG("hello") } },
                { "three lines in order", BYTES("one\ntwo\nthree\n"), 64, { MSG("one"), MSG("two"), MSG("three") } },
                { "spaces are data", BYTES("  padded  \n"), 64, { MSG("  padded  ") } },
                { "no input, no message", BYTES(""), 64, { { 0 } } },
        };
        check_cases(state, cases, ELEMENTSOF(cases));
}

static void one_carriage_return_before_newline_is_dropped(void **state) {
        static const struct framing_case cases[] = {
                { "CRLF", BYTES("hello\r\n"), 64, { MSG("hello") } },
                { "only one CR of two", BYTES("hello\r\r\n"), 64, { MSG("hello\r") } },
                { "CR inside a line", BYTES("a\rb\n"), 64, { MSG("a\rb") } },
                { "CR at the start", BYTES("\rb\n"), 64, { MSG("\rb") } },
                { "mixed endings", BYTES("a\r\nb\nc\r\n"), 64, { MSG("a"), MSG("b"), MSG("c") } },
        };
        check_cases(state, cases, ELEMENTSOF(cases));
}

static void empty_lines_are_skipped(void **state) {
        static const struct framing_case cases[] = {
                { "LF only", BYTES("\n\n\n"), 64, { { 0 } } },
                { "CRLF only", BYTES("\r\n\r\n"), 64, { { 0 } } },
                { "between messages", BYTES("\na\n\r\n\nb\n\n"), 64, { MSG("a"), MSG("b") } },
                { "a line of one CR is not empty", BYTES("\r\r\n"), 64, { MSG("\r") } },
        };
        check_cases(state, cases, ELEMENTSOF(cases));
}

static void bytes_after_the_last_newline_are_a_final_message(void **state) {
        static const struct framing_case cases[] = {
                { "unterminated only", BYTES("tail"), 64, { MSG("tail") } },
                { "after complete lines", BYTES("a\nb\ntail"), 64, { MSG("a"), MSG("b"), MSG("tail") } },
                { "a trailing CR is data", BYTES("tail\r"), 64, { MSG("tail\r") } },
                { "a lone CR is data", BYTES("a\n\r"), 64, { MSG("a"), MSG("\r") } },
                { "nothing after the newline", BYTES("a\n"), 64, { MSG("a") } },
        };
        check_cases(state, cases, ELEMENTSOF(cases));
}

static void messages_are_binary_safe(void **state) {
        static const struct framing_case cases[] = {
                { "NUL inside", BYTES("a\0b\n"), 64, { MSG("a\0b") } },
                { "only a NUL", BYTES("\0\n"), 64, { MSG("\0") } },
                { "invalid UTF-8", BYTES("\xff\xfe\xc3(\x80\n"), 64, { MSG("\xff\xfe\xc3(\x80") } },
                { "NUL in the final message", BYTES("x\n\0\0"), 64, { MSG("x"), MSG("\0\0") } },
                { "NUL before CRLF", BYTES("\0\r\n"), 64, { MSG("\0") } },
        };
        check_cases(state, cases, ELEMENTSOF(cases));
}

static void long_lines_are_truncated_and_their_rest_discarded(void **state) {
        static const struct framing_case cases[] = {
                { "one byte too long", BYTES("abcdef\n"), 5, { TRUNCATED("abcde") } },
                { "far too long gives one message", BYTES("abcdefghijklmnopqrstuvwxyz\n"), 5, { TRUNCATED("abcde") } },
                { "the next line is whole", BYTES("abcdefghij\nxy\n"), 5, { TRUNCATED("abcde"), MSG("xy") } },
                { "too long with CRLF", BYTES("abcdef\r\n"), 5, { TRUNCATED("abcde") } },
                { "max bytes and a CR of data", BYTES("abcde\r\r\n"), 5, { TRUNCATED("abcde") } },
                { "a CR after max, then more", BYTES("abcde\rX\n"), 5, { TRUNCATED("abcde") } },
                { "a NUL after max", BYTES("abcde\0\n"), 5, { TRUNCATED("abcde") } },
                { "max 1", BYTES("ab\nc\n"), 1, { TRUNCATED("a"), MSG("c") } },
                { "two long lines in a row", BYTES("1234567\n89abcdef\n"), 3,
                  { TRUNCATED("123"), TRUNCATED("89a") } },
        };
        check_cases(state, cases, ELEMENTSOF(cases));
}

static void a_line_of_exactly_max_bytes_is_not_truncated(void **state) {
        static const struct framing_case cases[] = {
                { "LF", BYTES("abcde\n"), 5, { MSG("abcde") } },
                { "CRLF", BYTES("abcde\r\n"), 5, { MSG("abcde") } },
                { "ending in a CR of data", BYTES("abcd\r\r\n"), 5, { MSG("abcd\r") } },
                { "max 1, LF", BYTES("a\n"), 1, { MSG("a") } },
                { "max 1, CRLF", BYTES("a\r\n"), 1, { MSG("a") } },
                { "max 1, a CR of data", BYTES("\r\r\n"), 1, { MSG("\r") } },
                { "final line", BYTES("abcde"), 5, { MSG("abcde") } },
        };
        check_cases(state, cases, ELEMENTSOF(cases));
}

static void a_final_line_longer_than_max_is_truncated_at_finish(void **state) {
        static const struct framing_case cases[] = {
                { "plain", BYTES("abcdefg"), 5, { TRUNCATED("abcde") } },
                { "after a whole line", BYTES("ok\nabcdefg"), 5, { MSG("ok"), TRUNCATED("abcde") } },
                { "max bytes and a trailing CR", BYTES("abcde\r"), 5, { TRUNCATED("abcde") } },
                { "max 1 and a trailing CR", BYTES("a\r"), 1, { TRUNCATED("a") } },
                { "shorter than max with a CR", BYTES("abc\r"), 5, { MSG("abc\r") } },
        };
        check_cases(state, cases, ELEMENTSOF(cases));
}

/* ------------------------------------------------------------------------ */
/* Lines with FRAMER_NUL_ENDS_LINE: a NUL ends a record as '\n' does. */

static void nul_ends_a_line_when_asked(void **state) {
        static const struct stream_case cases[] = {
                { "Python's SysLogHandler", BYTES("<14>one\0<14>two\0"), 64, 0, { MSG("<14>one"), MSG("<14>two") } },
                { "NUL and LF mixed", BYTES("a\0b\nc\0"), 64, 0, { MSG("a"), MSG("b"), MSG("c") } },
                { "a CR before the NUL is dropped", BYTES("a\r\0b\r\n"), 64, 0, { MSG("a"), MSG("b") } },
                { "only one CR of two", BYTES("a\r\r\0"), 64, 0, { MSG("a\r") } },
                { "empty records are skipped", BYTES("\0\0a\0\n\0"), 64, 0, { MSG("a") } },
                { "a record ended by LF then NUL", BYTES("text\n\0"), 64, 0, { MSG("text") } },
                { "a final record without its NUL", BYTES("a\0tail"), 64, 0, { MSG("a"), MSG("tail") } },
                { "too long, cut at max, the rest up to the NUL dropped", BYTES("abcdefgh\0xy\0"), 5, 0,
                  { TRUNCATED("abcde"), MSG("xy") } },
                { "max bytes, CR, NUL", BYTES("abcde\r\0"), 5, 0, { MSG("abcde") } },
                { "a NUL right after max bytes", BYTES("abcde\0f\0"), 5, 0, { MSG("abcde"), MSG("f") } },
                { "a NUL after max and a byte", BYTES("abcdef\0g\0"), 5, 0, { TRUNCATED("abcde"), MSG("g") } },
                { "invalid UTF-8 and a BOM stay data", BYTES("\xef\xbb\xbf\xff\xc3(\0"), 64, 0,
                  { MSG("\xef\xbb\xbf\xff\xc3(") } },
        };
        check_cases_as(state, FRAMING_LINES, FRAMER_NUL_ENDS_LINE, FRAMING_LINES, cases, ELEMENTSOF(cases));
}

static void nul_is_data_in_lines_without_the_flag(void **state) {
        static const struct stream_case cases[] = {
                { "NUL-ended records are one message", BYTES("<14>one\0<14>two\0"), 64, 0,
                  { MSG("<14>one\0<14>two\0") } },
                { "NUL and LF", BYTES("a\0b\nc\0"), 64, 0, { MSG("a\0b"), MSG("c\0") } },
                { "a CR before a NUL stays", BYTES("a\r\0\n"), 64, 0, { MSG("a\r\0") } },
        };
        check_cases_as(state, FRAMING_LINES, 0, FRAMING_LINES, cases, ELEMENTSOF(cases));
}

/* The flag adds an end; what happens at '\n' is as before. */
static void line_rules_are_unchanged_with_nul_endings(void **state) {
        static const struct stream_case cases[] = {
                { "CRLF", BYTES("hello\r\n"), 64, 0, { MSG("hello") } },
                { "only one CR of two", BYTES("hello\r\r\n"), 64, 0, { MSG("hello\r") } },
                { "CR inside a line", BYTES("a\rb\n"), 64, 0, { MSG("a\rb") } },
                { "CR-only endings are data", BYTES("a\rb\rc\r"), 64, 0, { MSG("a\rb\rc\r") } },
                { "empty lines", BYTES("\n\r\n\na\n"), 64, 0, { MSG("a") } },
                { "a trailing CR is data", BYTES("tail\r"), 64, 0, { MSG("tail\r") } },
                { "too long with CRLF", BYTES("abcdef\r\n"), 5, 0, { TRUNCATED("abcde") } },
                { "exactly max with CRLF", BYTES("abcde\r\n"), 5, 0, { MSG("abcde") } },
                { "final line longer than max", BYTES("abcdefg"), 5, 0, { TRUNCATED("abcde") } },
        };
        check_cases_as(state, FRAMING_LINES, FRAMER_NUL_ENDS_LINE, FRAMING_LINES, cases, ELEMENTSOF(cases));
}

/* ------------------------------------------------------------------------ */
/* Octet counting (RFC 6587): MSG-LEN SP MSG. */

static void check_octet_cases(void **state, const struct stream_case *cases, size_t n) {
        check_cases_as(state, FRAMING_OCTETS, 0, FRAMING_OCTETS, cases, n);
        /* The NUL flag is for lines only. */
        check_cases_as(state, FRAMING_OCTETS, FRAMER_NUL_ENDS_LINE, FRAMING_OCTETS, cases, n);
}

static void octet_frames_are_messages(void **state) {
        static const struct stream_case cases[] = {
                { "one frame", BYTES("5 hello"), 64, 0, { MSG("hello") } },
                { "frames back to back", BYTES("3 one3 two5 three"), 64, 0, { MSG("one"), MSG("two"), MSG("three") } },
                { "one byte", BYTES("1 x"), 64, 0, { MSG("x") } },
                { "a syslog message", BYTES("25 <13>1 - host app - - - hi"), 64, 0, { MSG("<13>1 - host app - - - hi") } },
                { "spaces and digits are data", BYTES("4  2 33 1 2"), 64, 0, { MSG(" 2 3"), MSG("1 2") } },
                { "a length of several digits", BYTES("12 abcdefghijkl"), 64, 0, { MSG("abcdefghijkl") } },
                { "no input, no message", BYTES(""), 64, 0, NONE },
        };
        check_octet_cases(state, cases, ELEMENTSOF(cases));
}

static void octet_frames_keep_every_byte(void **state) {
        static const struct stream_case cases[] = {
                { "LF inside is one message", BYTES("11 line1\nline2"), 64, 0, { MSG("line1\nline2") } },
                { "a trailing LF is data", BYTES("6 hello\n2 ok"), 64, 0, { MSG("hello\n"), MSG("ok") } },
                { "CRLF is data", BYTES("3 a\r\n"), 64, 0, { MSG("a\r\n") } },
                { "a lone CR is data", BYTES("1 \r"), 64, 0, { MSG("\r") } },
                { "only LF", BYTES("1 \n"), 64, 0, { MSG("\n") } },
                { "NUL inside", BYTES("3 a\0b"), 64, 0, { MSG("a\0b") } },
                { "only NUL", BYTES("2 \0\0"), 64, 0, { MSG("\0\0") } },
                { "a traceback", BYTES("29 Traceback:\n  File x\nError: y\n"), 64, 0,
                  { MSG("Traceback:\n  File x\nError: y\n") } },
                { "BOM and invalid UTF-8", BYTES("6 \xef\xbb\xbf\xff\xc3("), 64, 0, { MSG("\xef\xbb\xbf\xff\xc3(") } },
        };
        check_octet_cases(state, cases, ELEMENTSOF(cases));
}

static void octet_frame_longer_than_max_is_truncated_and_skipped_exactly(void **state) {
        static const struct stream_case cases[] = {
                { "exactly max", BYTES("5 abcde"), 5, 0, { MSG("abcde") } },
                { "max + 1", BYTES("6 abcdef"), 5, 0, { TRUNCATED("abcde") } },
                { "the next frame is whole", BYTES("6 abcdef2 ok"), 5, 0, { TRUNCATED("abcde"), MSG("ok") } },
                { "a skipped tail that looks like frames", BYTES("11 abcde1 x1 y1 k"), 5, 0,
                  { TRUNCATED("abcde"), MSG("k") } },
                { "a skipped tail with a bad length in it", BYTES("9 abcde0 -x1 k"), 5, 0,
                  { TRUNCATED("abcde"), MSG("k") } },
                { "two long frames in a row", BYTES("7 12345678 abcdefgh"), 3, 0, { TRUNCATED("123"), TRUNCATED("abc") } },
                { "max 1", BYTES("2 ab1 c"), 1, 0, { TRUNCATED("a"), MSG("c") } },
                { "the stream ends in the skipped tail", BYTES("9 abcdefg"), 5, 0, { TRUNCATED("abcde") } },
        };
        check_octet_cases(state, cases, ELEMENTSOF(cases));
}

static void octet_frame_cut_short_at_finish_is_incomplete(void **state) {
        static const struct stream_case cases[] = {
                { "a partial frame", BYTES("10 abc"), 64, 0, { INCOMPLETE("abc") } },
                { "after whole frames", BYTES("2 ok10 abc"), 64, 0, { MSG("ok"), INCOMPLETE("abc") } },
                { "all but its last byte", BYTES("4 abc"), 64, 0, { INCOMPLETE("abc") } },
                { "LF and NUL in the part", BYTES("9 a\nb\0"), 64, 0, { INCOMPLETE("a\nb\0") } },
                { "a long frame cut before max", BYTES("9 abc"), 5, 0, { TRUNCATED_INCOMPLETE("abc") } },
                { "a long frame cut after max: truncated, not incomplete", BYTES("9 abcdef"), 5, 0,
                  { TRUNCATED("abcde") } },
                { "a header and no data: nothing to log", BYTES("5 "), 64, 0, NONE },
                { "after a frame, a header and no data", BYTES("2 ok5 "), 64, 0, { MSG("ok") } },
        };
        check_octet_cases(state, cases, ELEMENTSOF(cases));
}

/* rsyslog CVE-2022-24903 (digits overflowed a buffer) and syslog-ng
 * CVE-2022-38725 (a length that wrapped looped forever), and every other way
 * a frame can fail to start with MSG-LEN SP. */
static void octet_length_errors(void **state) {
        static const struct stream_case cases[] = {
                { "zero", BYTES("0 "), 64, -EBADMSG, NONE },
                { "zero with data", BYTES("0 abc"), 64, -EBADMSG, NONE },
                { "a leading zero", BYTES("01 a"), 64, -EBADMSG, NONE },
                { "a negative length", BYTES("-1 x"), 64, -EBADMSG, NONE },
                { "a plus sign", BYTES("+5 hello"), 64, -EBADMSG, NONE },
                { "a letter after digits", BYTES("12x"), 64, -EBADMSG, NONE },
                { "a tab instead of SP", BYTES("5\thello"), 64, -EBADMSG, NONE },
                { "a space first", BYTES(" 5 hello"), 64, -EBADMSG, NONE },
                { "a syslog line without a length", BYTES("<13>hello\n"), 64, -EBADMSG, NONE },
                { "LF between frames", BYTES("3 abc\n3 def"), 64, -EBADMSG, { MSG("abc") } },
                { "digits and the end", BYTES("12"), 64, -EBADMSG, NONE },
                { "a digit run without SP at the end", BYTES("123456789"), 64, -EBADMSG, NONE },
                { "digits and the end after a frame", BYTES("2 ok12"), 64, -EBADMSG, { MSG("ok") } },
                { "nine digits are allowed", BYTES("999999999 abc"), 64, 0, { TRUNCATED_INCOMPLETE("abc") } },
                { "ten digits", BYTES("1000000000 x"), 64, -EBADMSG, NONE },
                { "2^32 (wraps 32 bits)", BYTES("4294967296 x"), 64, -EBADMSG, NONE },
                { "2^32 + 5 (wraps to 5)", BYTES("4294967301 hello"), 64, -EBADMSG, NONE },
                { "2^64 (wraps 64 bits)", BYTES("18446744073709551616 x"), 64, -EBADMSG, NONE },
                { "2^64 - 1", BYTES("18446744073709551615 x"), 64, -EBADMSG, NONE },
                { "twenty digits", BYTES("12345678901234567890 x"), 64, -EBADMSG, NONE },
        };
        check_octet_cases(state, cases, ELEMENTSOF(cases));
}

static void octet_error_keeps_every_message_before_it(void **state) {
        static const struct stream_case cases[] = {
                { "two frames, then a negative length", BYTES("3 abc3 def-1 x"), 64, -EBADMSG,
                  { MSG("abc"), MSG("def") } },
                { "a frame, then zero", BYTES("5 hello0 "), 64, -EBADMSG, { MSG("hello") } },
                { "a frame, then a leading zero", BYTES("5 hello01 a"), 64, -EBADMSG, { MSG("hello") } },
                { "a truncated frame, then garbage", BYTES("7 abcdefgxyz"), 5, -EBADMSG, { TRUNCATED("abcde") } },
                { "a frame, then ten digits", BYTES("1 a1234567890 b"), 64, -EBADMSG, { MSG("a") } },
                { "the bytes after the error are no message", BYTES("1 a12x1 b1 c"), 64, -EBADMSG, { MSG("a") } },
        };
        check_octet_cases(state, cases, ELEMENTSOF(cases));
}

/* ------------------------------------------------------------------------ */
/* Auto: decided by the first bytes of the stream. */

static void auto_chooses_octets_for_a_length_and_a_space(void **state) {
        static const struct stream_case cases[] = {
                { "one frame", BYTES("5 hello"), 64, 0, { MSG("hello") } },
                { "logger --octet-count", BYTES("21 <13>1 - h app - - - x20 <13>1 - h app - - - "), 64, 0,
                  { MSG("<13>1 - h app - - - x"), MSG("<13>1 - h app - - - ") } },
                { "nine digits", BYTES("999999999 abc"), 64, 0, { TRUNCATED_INCOMPLETE("abc") } },
                { "a line sender that looks like one", BYTES("2 apples\n"), 64, -EBADMSG, { MSG("ap") } },
                { "then errors are errors", BYTES("1 a0 "), 64, -EBADMSG, { MSG("a") } },
                { "then a frame's LF and NUL are data", BYTES("4 a\nb\0"), 64, 0, { MSG("a\nb\0") } },
                { "a header and nothing more", BYTES("5 "), 64, 0, NONE },
        };
        check_cases_as(state, FRAMING_AUTO, 0, FRAMING_OCTETS, cases, ELEMENTSOF(cases));
        /* The NUL flag is for lines only. */
        check_cases_as(state, FRAMING_AUTO, FRAMER_NUL_ENDS_LINE, FRAMING_OCTETS, cases, ELEMENTSOF(cases));
}

static void auto_chooses_lines_otherwise(void **state) {
        static const struct stream_case cases[] = {
                { "a syslog line", BYTES("<13>hello\n"), 64, 0, { MSG("<13>hello") } },
                { "plain text", BYTES("hello\nworld\n"), 64, 0, { MSG("hello"), MSG("world") } },
                { "a zero first", BYTES("0 x\n"), 64, 0, { MSG("0 x") } },
                { "a leading zero", BYTES("01 a\n"), 64, 0, { MSG("01 a") } },
                { "a sign", BYTES("-1 x\n"), 64, 0, { MSG("-1 x") } },
                { "digits, then a letter", BYTES("12x\n"), 64, 0, { MSG("12x") } },
                { "a date", BYTES("2026-12-01 up\n"), 64, 0, { MSG("2026-12-01 up") } },
                { "digits, then LF", BYTES("42\n5 x\n"), 64, 0, { MSG("42"), MSG("5 x") } },
                { "ten digits and a space", BYTES("1234567890 x\n"), 64, 0, { MSG("1234567890 x") } },
                { "twenty digits", BYTES("18446744073709551616 x\n"), 64, 0, { MSG("18446744073709551616 x") } },
                { "digits only, then the end", BYTES("123"), 64, 0, { MSG("123") } },
                { "digits longer than max", BYTES("1234567\n"), 3, 0, { TRUNCATED("123") } },
                { "nine digits longer than max, then the end", BYTES("123456789"), 3, 0, { TRUNCATED("123") } },
                { "an empty line first", BYTES("\n5 hello"), 64, 0, { MSG("5 hello") } },
                { "a space first", BYTES(" 5 x\n"), 64, 0, { MSG(" 5 x") } },
                { "a BOM first", BYTES("\xef\xbb\xbf" "5 x\n"), 64, 0, { MSG("\xef\xbb\xbf" "5 x") } },
                { "a NUL first is data", BYTES("\0a\n"), 64, 0, { MSG("\0a") } },
        };
        check_cases_as(state, FRAMING_AUTO, 0, FRAMING_LINES, cases, ELEMENTSOF(cases));
}

static void auto_lines_end_at_nul_when_asked(void **state) {
        static const struct stream_case cases[] = {
                { "Python's SysLogHandler", BYTES("<14>one\0<14>two\0"), 64, 0, { MSG("<14>one"), MSG("<14>two") } },
                { "digits, then a NUL", BYTES("12\0<14>x\0"), 64, 0, { MSG("12"), MSG("<14>x") } },
                { "a NUL first", BYTES("\0a\0"), 64, 0, { MSG("a") } },
        };
        check_cases_as(state, FRAMING_AUTO, FRAMER_NUL_ENDS_LINE, FRAMING_LINES, cases, ELEMENTSOF(cases));
}

static void auto_without_bytes_stays_undecided(void **state) {
        static const struct stream_case cases[] = {
                { "no input", BYTES(""), 64, 0, NONE },
        };
        check_cases_as(state, FRAMING_AUTO, 0, FRAMING_AUTO, cases, ELEMENTSOF(cases));
}

/* ------------------------------------------------------------------------ */
/* However the bytes are split into reads, the messages are the same. */

static size_t random_input(char *buffer, size_t size) {
        static const char alphabet[] = { 'a', 'b', 'c', '\n', '\n', '\r', '\r', '\0', '\xff', '\xc3' };
        size_t n = (size_t) rand() % size;

        for (size_t i = 0; i < n; i++)
                buffer[i] = alphabet[rand() % (int) sizeof(alphabet)];
        return n;
}

static void any_chunking_gives_the_same_messages(void **state) {
        static const size_t maxes[] = { 1, 2, 3, 7, 64 };
        struct lists *l = *state;
        char input[300];
        char name[64];

        srand(1);
        for (size_t m = 0; m < ELEMENTSOF(maxes); m++)
                for (int iteration = 0; iteration < 300; iteration++) {
                        size_t size = random_input(input, sizeof(input));

                        snprintf(name, sizeof(name), "max %zu, iteration %d", maxes[m], iteration);
                        reference_frame(maxes[m], input, size, &l->reference);
                        frame(maxes[m], input, size, piece_whole, NULL, &l->want);
                        assert_same_messages(&l->reference, &l->want, "fed whole vs the reference", name);
                        frame(maxes[m], input, size, piece_one_byte, NULL, &l->got);
                        assert_same_messages(&l->want, &l->got, "fed byte by byte", name);
                        for (int chunking = 0; chunking < 4; chunking++) {
                                frame(maxes[m], input, size, piece_random, NULL, &l->got);
                                assert_same_messages(&l->want, &l->got, "fed in random pieces", name);
                        }
                }
}

/* Well-formed frames, their lengths around max, their data full of LF, CR,
 * NUL, spaces and digits; in a third of the streams one bad header among
 * the first frames; in a quarter a cut anywhere at the end. */
static size_t random_frames(char *buffer, size_t size, size_t max) {
        static const char alphabet[] = { 'a', 'b', '1', '0', ' ', '\n', '\r', '\0', '\xff' };
        size_t bad = rand() % 3 == 0 ? (size_t) rand() % 8 : SIZE_MAX;
        size_t used = 0;

        for (size_t frame = 0;; frame++) {
                size_t length = 1 + (size_t) rand() % (max + 3);
                char header[32];
                int n;

                switch (frame == bad ? rand() % 4 : -1) {
                case 0:
                        n = snprintf(header, sizeof(header), "0%zu ", length);
                        break;
                case 1:
                        n = snprintf(header, sizeof(header), "%zux", length);
                        break;
                case 2:
                        n = snprintf(header, sizeof(header), "1%09zu ", length);
                        break;
                case 3:
                        n = snprintf(header, sizeof(header), "\n%zu ", length);
                        break;
                default:
                        n = snprintf(header, sizeof(header), "%zu ", length);
                        break;
                }
                if (used + (size_t) n > size)
                        break;
                memcpy(buffer + used, header, (size_t) n);
                used += (size_t) n;
                for (size_t i = 0; i < length && used < size; i++)
                        buffer[used++] = alphabet[rand() % (int) sizeof(alphabet)];
        }
        return rand() % 4 == 0 ? (size_t) rand() % (used + 1) : used;
}

static void check_chunkings(struct lists *l, const struct setup *setup, const char *input, size_t size,
                            const char *name) {
        reference(setup, input, size, &l->reference);
        frame_with(setup, input, size, piece_whole, NULL, &l->want);
        assert_same_messages(&l->reference, &l->want, "fed whole vs the reference", name);
        frame_with(setup, input, size, piece_one_byte, NULL, &l->got);
        assert_same_messages(&l->want, &l->got, "fed byte by byte", name);
        for (int chunking = 0; chunking < 4; chunking++) {
                frame_with(setup, input, size, piece_random, NULL, &l->got);
                assert_same_messages(&l->want, &l->got, "fed in random pieces", name);
        }
}

static void any_chunking_gives_the_same_frames(void **state) {
        static const size_t maxes[] = { 1, 2, 3, 7, 64 };
        static const enum framing framings[] = { FRAMING_OCTETS, FRAMING_AUTO };
        struct lists *l = *state;
        size_t valid = 0, total = 0;
        char input[400];
        char name[96];

        srand(2);
        for (size_t m = 0; m < ELEMENTSOF(maxes); m++)
                for (size_t k = 0; k < ELEMENTSOF(framings); k++)
                        for (int iteration = 0; iteration < 200; iteration++) {
                                struct setup setup = { .max = maxes[m], .framing = framings[k] };
                                size_t size = random_frames(input, sizeof(input), maxes[m]);

                                snprintf(name, sizeof(name), "%s, max %zu, iteration %d",
                                         framing_name(framings[k]), maxes[m], iteration);
                                check_chunkings(l, &setup, input, size, name);
                                valid += l->want.error == 0;
                                total++;
                        }
        /* The generator must make enough streams that parse to the end. */
        assert_true(valid > total / 2);
}

/* Auto and the NUL flag on line input: the same messages however it is split. */
static void any_chunking_gives_the_same_lines_with_nul_endings_and_auto(void **state) {
        static const size_t maxes[] = { 1, 3, 64 };
        static const struct setup setups[] = {
                { .framing = FRAMING_LINES, .flags = FRAMER_NUL_ENDS_LINE },
                { .framing = FRAMING_AUTO },
                { .framing = FRAMING_AUTO, .flags = FRAMER_NUL_ENDS_LINE },
        };
        struct lists *l = *state;
        char input[300];
        char name[96];

        srand(3);
        for (size_t m = 0; m < ELEMENTSOF(maxes); m++)
                for (size_t k = 0; k < ELEMENTSOF(setups); k++)
                        for (int iteration = 0; iteration < 200; iteration++) {
                                struct setup setup = setups[k];
                                size_t size = random_input(input, sizeof(input));

                                setup.max = maxes[m];
                                snprintf(name, sizeof(name), "%s%s, max %zu, iteration %d",
                                         framing_name(setup.framing), setup.flags ? " with NUL" : "", maxes[m],
                                         iteration);
                                check_chunkings(l, &setup, input, size, name);
                        }
}

/* ------------------------------------------------------------------------ */
/* Headroom, trim, finish and reuse. */

/* What the journal sink does: "MESSAGE=" written into the headroom makes one
 * contiguous field. */
static void join_field(void *userdata, const struct framed_message *m) {
        static const char prefix[] = "MESSAGE=";
        char *field = m->data - (sizeof(prefix) - 1);

        assert_true(sizeof(prefix) - 1 <= FRAMER_HEADROOM);
        memcpy(field, prefix, sizeof(prefix) - 1);
        list_add(userdata, field, sizeof(prefix) - 1 + m->size, m->truncated);
}

static void headroom_before_a_message_holds_a_field_name(void **state) {
        struct lists *l = *state;
        struct framer f;

        framer_init(&f, 4);
        list_clear(&l->got);
        assert_int_equal(framer_feed(&f, BYTES("hi\r\nlonger\nend"), join_field, &l->got), 0);
        framer_finish(&f, join_field, &l->got);
        framer_done(&f);

        assert_int_equal(l->got.count, 3);
        assert_memory_equal(l->got.items[0].data, "MESSAGE=hi", l->got.items[0].size);
        assert_int_equal(l->got.items[0].size, strlen("MESSAGE=hi"));
        assert_int_equal(l->got.items[1].size, strlen("MESSAGE=long"));
        assert_memory_equal(l->got.items[1].data, "MESSAGE=long", l->got.items[1].size);
        assert_true(l->got.items[1].truncated);
        assert_int_equal(l->got.items[2].size, strlen("MESSAGE=end"));
        assert_memory_equal(l->got.items[2].data, "MESSAGE=end", l->got.items[2].size);
}

/* A fixture for the tests that drive one framer by hand. */
struct framer_fixture {
        struct framer framer;
        struct message_list got;
        char *big;              /* BIG_SIZE bytes of 'x' */
};

#define BIG_MAX 65536
#define BIG_SIZE 5000           /* more than the framer keeps for an idle connection */

static int framer_fixture_setup(void **state) {
        struct framer_fixture *x = calloc(1, sizeof(*x));

        if (!x)
                return -1;
        x->big = malloc(BIG_SIZE);
        if (!x->big) {
                free(x);
                return -1;
        }
        memset(x->big, 'x', BIG_SIZE);
        framer_init(&x->framer, BIG_MAX);
        *state = x;
        return 0;
}

static int framer_fixture_teardown(void **state) {
        struct framer_fixture *x = *state;

        framer_done(&x->framer);
        list_free(&x->got);
        free(x->big);
        free(x);
        return 0;
}

static void feed(struct framer_fixture *x, const char *data, size_t size) {
        assert_int_equal(framer_feed(&x->framer, data, size, collect, &x->got), 0);
}

static void assert_message_count(const struct framer_fixture *x, size_t count) {
        if (x->got.count == count)
                return;
        print_messages("got", &x->got);
        fail_msg("expected %zu messages, got %zu", count, x->got.count);
}

static void assert_message(const struct framer_fixture *x, size_t i, const char *data, size_t size,
                           bool truncated) {
        assert_true(i < x->got.count);
        assert_int_equal(x->got.items[i].size, size);
        assert_memory_equal(x->got.items[i].data, data, size);
        assert_int_equal(x->got.items[i].truncated, truncated);
}

static void trim_releases_a_big_empty_buffer(void **state) {
        struct framer_fixture *x = *state;

        feed(x, x->big, BIG_SIZE);
        feed(x, BYTES("\n"));
        assert_message_count(x, 1);
        assert_true(x->framer.capacity >= BIG_SIZE);

        framer_trim(&x->framer);
        assert_null(x->framer.buffer);
        assert_int_equal(x->framer.capacity, 0);

        /* Still usable, with the same limit. */
        feed(x, BYTES("after\n"));
        assert_message_count(x, 2);
        assert_message(x, 1, BYTES("after"), false);
        assert_int_equal(x->framer.max, BIG_MAX);
}

static void trim_keeps_a_small_buffer(void **state) {
        struct framer_fixture *x = *state;
        const char *buffer;

        feed(x, BYTES("short\n"));
        buffer = x->framer.buffer;
        assert_non_null(buffer);
        framer_trim(&x->framer);
        assert_ptr_equal(x->framer.buffer, buffer);
}

static void trim_keeps_a_pending_line(void **state) {
        struct framer_fixture *x = *state;

        feed(x, x->big, BIG_SIZE);
        framer_trim(&x->framer);
        assert_int_equal(framer_pending(&x->framer), BIG_SIZE);
        feed(x, BYTES("\n"));
        assert_message_count(x, 1);
        assert_message(x, 0, x->big, BIG_SIZE, false);
}

/* The connection drivers call framer_trim() whenever a read finds no more
 * data, which can be in the middle of the discarded rest of a long line. */
static void trim_in_the_rest_of_a_truncated_line_keeps_discarding_it(void **state) {
        struct framer_fixture *x = *state;

        framer_done(&x->framer);
        framer_init(&x->framer, 2000);
        feed(x, x->big, 3000);
        assert_message_count(x, 1);
        assert_message(x, 0, x->big, 2000, true);

        framer_trim(&x->framer);
        feed(x, BYTES("rest of the long line\nnext\n"));
        assert_message_count(x, 2);
        assert_message(x, 1, BYTES("next"), false);
}

static void finish_emits_nothing_when_nothing_is_pending(void **state) {
        struct framer_fixture *x = *state;

        framer_finish(&x->framer, collect, &x->got);
        feed(x, BYTES("a\n"));
        framer_finish(&x->framer, collect, &x->got);
        assert_message_count(x, 1);
        assert_message(x, 0, BYTES("a"), false);
}

static void after_finish_the_framer_can_be_fed_again(void **state) {
        struct framer_fixture *x = *state;

        feed(x, BYTES("first"));
        framer_finish(&x->framer, collect, &x->got);
        feed(x, BYTES("second\nthird"));
        framer_finish(&x->framer, collect, &x->got);

        assert_message_count(x, 3);
        assert_message(x, 0, BYTES("first"), false);
        assert_message(x, 1, BYTES("second"), false);
        assert_message(x, 2, BYTES("third"), false);
}

static void finish_in_the_rest_of_a_truncated_line_ends_the_discarding(void **state) {
        struct framer_fixture *x = *state;

        framer_done(&x->framer);
        framer_init(&x->framer, 4);
        feed(x, BYTES("too long, no newline"));
        framer_finish(&x->framer, collect, &x->got);
        feed(x, BYTES("fresh\nok\n"));

        assert_message_count(x, 3);
        assert_message(x, 0, BYTES("too "), true);
        assert_message(x, 1, BYTES("fres"), true);
        assert_message(x, 2, BYTES("ok"), false);
}

static void done_is_safe_twice_and_keeps_the_limit(void **state) {
        struct framer_fixture *x = *state;

        feed(x, BYTES("partial"));
        framer_done(&x->framer);
        framer_done(&x->framer);
        assert_null(x->framer.buffer);
        assert_int_equal(framer_pending(&x->framer), 0);
        assert_int_equal(x->framer.max, BIG_MAX);

        feed(x, BYTES("again\n"));
        assert_message_count(x, 1);
        assert_message(x, 0, BYTES("again"), false);
}

/* ------------------------------------------------------------------------ */
/* Octet counting driven by hand: the attacks, limits, trim, finish, errors. */

static void init_octets(struct framer_fixture *x, size_t max) {
        framer_done(&x->framer);
        framer_init_framing(&x->framer, max, FRAMING_OCTETS, 0);
}

static int feed_result(struct framer_fixture *x, const char *data, size_t size) {
        return framer_feed(&x->framer, data, size, collect, &x->got);
}

/* CVE-2022-24903: no digit is ever buffered, and the tenth one is an error,
 * however long the run and however it arrives. */
static void long_digit_runs_fail_at_the_tenth_digit_without_buffering(void **state) {
        static const size_t runs[] = { 10, 20, 10000 };
        struct framer_fixture *x = *state;
        char *digits = malloc(10000 + 2);

        assert_non_null(digits);
        for (size_t i = 0; i < 10000; i++)
                digits[i] = (char) ('1' + i % 9);
        for (size_t r = 0; r < ELEMENTSOF(runs); r++) {
                size_t n = runs[r];

                memcpy(digits + n, " x", 2);

                init_octets(x, 64);
                assert_int_equal(feed_result(x, digits, n + 2), -EBADMSG);
                assert_null(x->framer.buffer);
                assert_string_equal(framer_error_reason(&x->framer), "frame length of more than 9 digits");

                init_octets(x, 64);
                for (size_t i = 0; i < n + 2; i++) {
                        assert_int_equal(feed_result(x, digits + i, 1), i < 9 ? 0 : -EBADMSG);
                        assert_null(x->framer.buffer);
                }
                assert_int_equal(framer_finish(&x->framer, collect, &x->got), -EBADMSG);
                assert_message_count(x, 0);

                /* After a frame: the frame is kept. */
                init_octets(x, 64);
                feed(x, BYTES("2 ok"));
                assert_int_equal(feed_result(x, digits, n + 2), -EBADMSG);
                assert_message_count(x, 1);
                assert_message(x, 0, BYTES("ok"), false);
                list_clear(&x->got);

                /* Auto takes such a run for the start of a line, cut at max. */
                framer_done(&x->framer);
                framer_init_framing(&x->framer, 64, FRAMING_AUTO, 0);
                feed(x, digits, n + 2);
                assert_int_equal(framer_finish(&x->framer, collect, &x->got), 0);
                assert_int_equal(framer_framing(&x->framer), FRAMING_LINES);
                assert_message_count(x, 1);
                assert_message(x, 0, digits, n + 2 > 64 ? 64 : n + 2, n + 2 > 64);
                list_clear(&x->got);
        }
        free(digits);
}

/* A frame of max bytes is whole, one of max + 1 is truncated; either way the
 * next frame parses. With a small max and with harkd's default. */
static void frames_of_max_and_max_plus_one_bytes(void **state) {
        static const size_t maxes[] = { 64, BIG_MAX };
        struct framer_fixture *x = *state;
        char *input = malloc(BIG_MAX + 64);

        assert_non_null(input);
        for (size_t m = 0; m < ELEMENTSOF(maxes); m++)
                for (size_t extra = 0; extra <= 1; extra++) {
                        size_t length = maxes[m] + extra;
                        int n = snprintf(input, 32, "%zu ", length);

                        init_octets(x, maxes[m]);
                        list_clear(&x->got);
                        for (size_t i = 0; i < length; i++)
                                input[(size_t) n + i] = (char) ('a' + i % 26);
                        memcpy(input + (size_t) n + length, "4 next", 6);
                        feed(x, input, (size_t) n + length + 6);
                        assert_int_equal(framer_finish(&x->framer, collect, &x->got), 0);
                        assert_message_count(x, 2);
                        assert_message(x, 0, input + n, maxes[m], extra > 0);
                        assert_message(x, 1, BYTES("next"), false);
                }
        free(input);
}

/* The longest length there is: 999,999,999 bytes skipped to the byte. */
static void the_largest_length_is_skipped_exactly(void **state) {
        struct framer_fixture *x = *state;
        size_t left = 999999999;

        init_octets(x, 16);
        feed(x, BYTES("999999999 "));
        while (left > 0) {
                size_t n = left < BIG_SIZE ? left : BIG_SIZE;

                feed(x, x->big, n);
                left -= n;
                assert_int_equal(framer_in_line(&x->framer), left > 0);
                framer_trim(&x->framer);
        }
        assert_message_count(x, 1);
        assert_message(x, 0, x->big, 16, true);
        assert_false(framer_in_line(&x->framer));
        feed(x, BYTES("2 ok"));
        assert_message_count(x, 2);
        assert_message(x, 1, BYTES("ok"), false);
}

static void an_octet_error_is_final_until_done(void **state) {
        struct framer_fixture *x = *state;

        init_octets(x, 64);
        assert_null(framer_error_reason(&x->framer));
        assert_int_equal(feed_result(x, BYTES("1 a0 1 b")), -EBADMSG);
        assert_string_equal(framer_error_reason(&x->framer), "frame length 0 or with a leading zero");
        assert_false(framer_in_line(&x->framer));
        assert_int_equal(feed_result(x, BYTES("1 c")), -EBADMSG);
        assert_int_equal(framer_finish(&x->framer, collect, &x->got), -EBADMSG);
        assert_int_equal(feed_result(x, BYTES("1 d")), -EBADMSG);
        assert_message_count(x, 1);
        assert_message(x, 0, BYTES("a"), false);

        framer_done(&x->framer);
        assert_null(framer_error_reason(&x->framer));
        assert_int_equal(framer_framing(&x->framer), FRAMING_OCTETS);
        feed(x, BYTES("1 e"));
        assert_message_count(x, 2);
        assert_message(x, 1, BYTES("e"), false);
}

/* Each kind of framing error says what it was, for the log line. */
static void octet_errors_name_their_cause(void **state) {
        static const struct {
                const char *input;
                const char *reason;
        } cases[] = {
                { "01 a", "frame length 0 or with a leading zero" },
                { "0 ", "frame length 0 or with a leading zero" },
                { "-1 x", "frame does not start with a length" },
                { "12x", "frame length not followed by a space" },
                { "1234567890 x", "frame length of more than 9 digits" },
                { "12", "stream ended inside a frame length" },
        };
        struct framer_fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int r;

                init_octets(x, 64);
                r = feed_result(x, cases[i].input, strlen(cases[i].input));
                if (r == 0)
                        r = framer_finish(&x->framer, collect, &x->got);
                assert_int_equal(r, -EBADMSG);
                assert_string_equal(framer_error_reason(&x->framer), cases[i].reason);
        }
        assert_message_count(x, 0);
}

static void octet_trim_releases_a_big_buffer_between_frames(void **state) {
        struct framer_fixture *x = *state;

        init_octets(x, BIG_MAX);
        feed(x, BYTES("5000 "));
        feed(x, x->big, BIG_SIZE);
        assert_message_count(x, 1);
        assert_message(x, 0, x->big, BIG_SIZE, false);
        assert_true(x->framer.capacity >= BIG_SIZE);
        framer_trim(&x->framer);
        assert_null(x->framer.buffer);

        /* Between a header and its first byte, too. */
        feed(x, BYTES("5 "));
        framer_trim(&x->framer);
        feed(x, BYTES("after"));
        assert_message_count(x, 2);
        assert_message(x, 1, BYTES("after"), false);
}

static void octet_trim_keeps_a_pending_frame(void **state) {
        struct framer_fixture *x = *state;

        init_octets(x, BIG_MAX);
        feed(x, BYTES("5000 "));
        feed(x, x->big, 4000);
        framer_trim(&x->framer);
        assert_int_equal(framer_pending(&x->framer), 4000);
        feed(x, x->big, 1000);
        assert_message_count(x, 1);
        assert_message(x, 0, x->big, BIG_SIZE, false);
}

static void octet_trim_in_a_skipped_tail_keeps_skipping_it(void **state) {
        struct framer_fixture *x = *state;

        init_octets(x, 2000);
        feed(x, BYTES("3000 "));
        feed(x, x->big, 2500);
        assert_message_count(x, 1);
        assert_message(x, 0, x->big, 2000, true);
        framer_trim(&x->framer);
        feed(x, x->big, 500);
        feed(x, BYTES("4 next"));
        assert_message_count(x, 2);
        assert_message(x, 1, BYTES("next"), false);
}

static void after_finish_auto_keeps_its_choice(void **state) {
        struct framer_fixture *x = *state;

        framer_done(&x->framer);
        framer_init_framing(&x->framer, 64, FRAMING_AUTO, 0);
        assert_int_equal(framer_framing(&x->framer), FRAMING_AUTO);
        feed(x, BYTES("3 abc5 de"));
        assert_int_equal(framer_finish(&x->framer, collect, &x->got), 0);
        assert_int_equal(framer_framing(&x->framer), FRAMING_OCTETS);
        feed(x, BYTES("3 def"));
        assert_message_count(x, 3);
        assert_message(x, 0, BYTES("abc"), false);
        assert_int_equal(x->got.items[1].incomplete, true);
        assert_message(x, 1, BYTES("de"), false);
        assert_message(x, 2, BYTES("def"), false);

        /* framer_done() forgets the choice. */
        framer_done(&x->framer);
        assert_int_equal(framer_framing(&x->framer), FRAMING_AUTO);
        feed(x, BYTES("<13>x\n"));
        assert_int_equal(framer_framing(&x->framer), FRAMING_LINES);
        assert_message_count(x, 4);
        assert_message(x, 3, BYTES("<13>x"), false);
}

static void in_line_follows_the_octet_frame(void **state) {
        struct framer_fixture *x = *state;

        init_octets(x, 1);
        assert_false(framer_in_line(&x->framer));
        feed(x, BYTES("3"));
        assert_true(framer_in_line(&x->framer));
        feed(x, BYTES(" "));
        assert_true(framer_in_line(&x->framer));
        feed(x, BYTES("a"));
        assert_true(framer_in_line(&x->framer));        /* emitted, the rest is skipped */
        feed(x, BYTES("bc"));
        assert_false(framer_in_line(&x->framer));
        assert_message_count(x, 1);

        framer_done(&x->framer);
        framer_init_framing(&x->framer, 64, FRAMING_AUTO, 0);
        feed(x, BYTES("12"));
        assert_true(framer_in_line(&x->framer));
        assert_int_equal(framer_framing(&x->framer), FRAMING_AUTO);
}

static void headroom_before_an_octet_frame_holds_a_field_name(void **state) {
        struct lists *l = *state;
        struct framer f;

        framer_init_framing(&f, 4, FRAMING_OCTETS, 0);
        list_clear(&l->got);
        assert_int_equal(framer_feed(&f, BYTES("2 hi6 longer10 end"), join_field, &l->got), 0);
        assert_int_equal(framer_finish(&f, join_field, &l->got), 0);
        framer_done(&f);

        assert_int_equal(l->got.count, 3);
        assert_int_equal(l->got.items[0].size, strlen("MESSAGE=hi"));
        assert_memory_equal(l->got.items[0].data, "MESSAGE=hi", l->got.items[0].size);
        assert_int_equal(l->got.items[1].size, strlen("MESSAGE=long"));
        assert_memory_equal(l->got.items[1].data, "MESSAGE=long", l->got.items[1].size);
        assert_true(l->got.items[1].truncated);
        assert_int_equal(l->got.items[2].size, strlen("MESSAGE=end"));
        assert_memory_equal(l->got.items[2].data, "MESSAGE=end", l->got.items[2].size);
        assert_true(l->got.items[2].truncated);
}

static void framings_have_names(void **state) {
        (void) state;
        assert_string_equal(framing_name(FRAMING_LINES), "lines");
        assert_string_equal(framing_name(FRAMING_OCTETS), "octets");
        assert_string_equal(framing_name(FRAMING_AUTO), "auto");
        assert_null(framing_name(FRAMING_COUNT));
        for (size_t i = 0; i < FRAMING_COUNT; i++)
                assert_non_null(framing_names[i]);
}

int main(void) {
        static const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(newline_ends_a_message, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(one_carriage_return_before_newline_is_dropped, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(empty_lines_are_skipped, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(bytes_after_the_last_newline_are_a_final_message, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(messages_are_binary_safe, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(long_lines_are_truncated_and_their_rest_discarded, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(a_line_of_exactly_max_bytes_is_not_truncated, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(a_final_line_longer_than_max_is_truncated_at_finish, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(any_chunking_gives_the_same_messages, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(headroom_before_a_message_holds_a_field_name, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(trim_releases_a_big_empty_buffer, framer_fixture_setup, framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(trim_keeps_a_small_buffer, framer_fixture_setup, framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(trim_keeps_a_pending_line, framer_fixture_setup, framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(trim_in_the_rest_of_a_truncated_line_keeps_discarding_it,
                                                framer_fixture_setup, framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(finish_emits_nothing_when_nothing_is_pending, framer_fixture_setup, framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(after_finish_the_framer_can_be_fed_again, framer_fixture_setup, framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(finish_in_the_rest_of_a_truncated_line_ends_the_discarding,
                                                framer_fixture_setup, framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(done_is_safe_twice_and_keeps_the_limit, framer_fixture_setup, framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(nul_ends_a_line_when_asked, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(nul_is_data_in_lines_without_the_flag, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(line_rules_are_unchanged_with_nul_endings, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(octet_frames_are_messages, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(octet_frames_keep_every_byte, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(octet_frame_longer_than_max_is_truncated_and_skipped_exactly, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(octet_frame_cut_short_at_finish_is_incomplete, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(octet_length_errors, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(octet_error_keeps_every_message_before_it, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(auto_chooses_octets_for_a_length_and_a_space, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(auto_chooses_lines_otherwise, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(auto_lines_end_at_nul_when_asked, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(auto_without_bytes_stays_undecided, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(any_chunking_gives_the_same_frames, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(any_chunking_gives_the_same_lines_with_nul_endings_and_auto, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(headroom_before_an_octet_frame_holds_a_field_name, lists_setup, lists_teardown),
                cmocka_unit_test_setup_teardown(long_digit_runs_fail_at_the_tenth_digit_without_buffering, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(frames_of_max_and_max_plus_one_bytes, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(the_largest_length_is_skipped_exactly, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(an_octet_error_is_final_until_done, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(octet_errors_name_their_cause, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(octet_trim_releases_a_big_buffer_between_frames, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(octet_trim_keeps_a_pending_frame, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(octet_trim_in_a_skipped_tail_keeps_skipping_it, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(after_finish_auto_keeps_its_choice, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test_setup_teardown(in_line_follows_the_octet_frame, framer_fixture_setup,
                                                framer_fixture_teardown),
                cmocka_unit_test(framings_have_names),
        };

        return hark_test_main("framer", tests);
}
