/* Unit tests of the framer (src/framer.c): the wire protocol's framing rules,
 * that the way the bytes are split into reads never changes the messages, the
 * headroom in front of every message, and the buffer's life (trim, finish). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

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
};

struct message_list {
        struct message *items;
        size_t count;
        size_t capacity;
};

static void list_add(struct message_list *l, const char *data, size_t size, bool truncated) {
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
        l->count++;
}

static void list_clear(struct message_list *l) {
        for (size_t i = 0; i < l->count; i++)
                free(l->items[i].data);
        l->count = 0;
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
        list_add(userdata, m->data, m->size, m->truncated);
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

/* Feeds in[0..size) to a fresh framer in the pieces pieces() chooses, then
 * finishes it; out receives the messages. */
static void frame(size_t max, const char *in, size_t size, piece_fn pieces, void *ctx,
                  struct message_list *out) {
        struct framer f;
        size_t done = 0;

        list_clear(out);
        framer_init(&f, max);
        while (done < size) {
                size_t n = pieces(size - done, ctx);

                if (n > size - done)
                        n = size - done;
                assert_int_equal(framer_feed(&f, in + done, n, collect, out), 0);
                done += n;
        }
        framer_finish(&f, collect, out);
        assert_int_equal(framer_pending(&f), 0);
        framer_done(&f);
}

/* The rules of the wire protocol, written as plainly as possible and
 * independently of src/framer.c, to check it against. */
static void reference_frame(size_t max, const char *in, size_t size, struct message_list *out) {
        size_t start = 0;

        list_clear(out);
        for (size_t i = 0; i <= size; i++) {
                bool terminated = i < size && in[i] == '\n';
                size_t length = i - start;

                if (!terminated && i < size)
                        continue;
                /* One '\r' right before the '\n' is dropped; a final line keeps it. */
                if (terminated && length > 0 && in[i - 1] == '\r')
                        length--;
                if (length > max)
                        list_add(out, in + start, max, true);
                else if (length > 0)
                        list_add(out, in + start, length, false);
                start = i + 1;
        }
}

static void print_messages(const char *title, const struct message_list *l) {
        print_error("  %s (%zu):\n", title, l->count);
        for (size_t i = 0; i < l->count; i++) {
                print_error("    [%zu]%s \"", i, l->items[i].truncated ? " truncated" : "");
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
        if (a->count != b->count)
                return false;
        for (size_t i = 0; i < a->count; i++)
                if (a->items[i].size != b->items[i].size || a->items[i].truncated != b->items[i].truncated ||
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
};

struct framing_case {
        const char *name;
        const char *input;
        size_t input_size;
        size_t max;
        struct expected_message messages[MAX_EXPECTED];
};

/* Byte strings with their exact length, NUL bytes included. */
#define BYTES(s) s, sizeof(s) - 1
#define MSG(s) { BYTES(s), false }
#define TRUNCATED(s) { BYTES(s), true }

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
 * random test is itself checked against hand-written expectations). */
static void check_case(struct lists *l, const struct framing_case *c) {
        list_clear(&l->want);
        for (size_t i = 0; i < MAX_EXPECTED && c->messages[i].data; i++)
                list_add(&l->want, c->messages[i].data, c->messages[i].size, c->messages[i].truncated);

        reference_frame(c->max, c->input, c->input_size, &l->reference);
        assert_same_messages(&l->want, &l->reference, "the reference model disagrees", c->name);

        frame(c->max, c->input, c->input_size, piece_whole, NULL, &l->got);
        assert_same_messages(&l->want, &l->got, "fed whole", c->name);

        frame(c->max, c->input, c->input_size, piece_one_byte, NULL, &l->got);
        assert_same_messages(&l->want, &l->got, "fed byte by byte", c->name);

        for (size_t at = 0; at <= c->input_size; at++) {
                size_t split = at;

                frame(c->max, c->input, c->input_size, piece_split_at, &split, &l->got);
                if (!same_messages(&l->want, &l->got))
                        print_error("  split after %zu bytes\n", at);
                assert_same_messages(&l->want, &l->got, "fed in two pieces", c->name);
        }
}

static void check_cases(void **state, const struct framing_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++)
                check_case(*state, &cases[i]);
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
        };

        return hark_test_main("framer", tests);
}
