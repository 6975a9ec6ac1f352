/* Unit tests of the bound on pending bytes (src/pending.c, max_pending_bytes)
 * and of the framer under it: charges within the bound, the longest line is
 * cut (its own, or another one's given back in the same thread), the rest of
 * a cut line or frame is skipped, what a dead process held is forgotten, and
 * the total is 0 again once every framer is done. */
#include "test-main.h"

#include <errno.h>
#include <unistd.h>

#include "framer.h"
#include "pending.h"

#define LIMIT (64 * 1024)
#define MAX (48 * 1024)

struct sink {
        size_t count, truncated, over_pending;
        size_t sizes[16];
        char first[16];         /* each message's first byte */
};

static void collect(void *userdata, const struct framed_message *m) {
        struct sink *s = userdata;

        assert_true(s->count < 16);
        assert_true(!m->over_pending || m->truncated);
        s->first[s->count] = m->data[0];
        s->sizes[s->count++] = m->size;
        s->truncated += m->truncated;
        s->over_pending += m->over_pending;
}

/* A framer that frames one connection's stream under the bound. */
struct conn {
        struct framer framer;
        struct pending_entry *entry;
        struct sink sink;
};

static void give_back(void *context) {
        struct conn *c = context;

        framer_give_back(&c->framer, collect, &c->sink);
}

static void conn_init(struct conn *c, struct pending *p, uint64_t id, enum framing framing) {
        memset(c, 0, sizeof(*c));
        framer_init_framing(&c->framer, MAX, framing, 0);
        c->entry = pending_join(p, id, give_back, c);
        assert_non_null(c->entry);
        framer_set_budget(&c->framer, p, c->entry);
}

static void conn_done(struct conn *c, struct pending *p) {
        framer_done(&c->framer);
        pending_leave(p, c->entry);
}

static void feed(struct conn *c, char byte, size_t n) {
        char *data = malloc(n);

        assert_non_null(data);
        memset(data, byte, n);
        assert_int_equal(framer_feed(&c->framer, data, n, collect, &c->sink), 0);
        free(data);
}

static int setup(void **state) {
        *state = pending_new(LIMIT);
        return *state ? 0 : -1;
}

static int teardown(void **state) {
        pending_free(*state);
        return 0;
}

static void small_buffers_count_nothing(void **state) {
        struct pending *p = *state;
        struct conn c;

        conn_init(&c, p, 1, FRAMING_LINES);
        feed(&c, 'a', FRAMER_KEEP_CAPACITY - 1);
        assert_int_equal(pending_total(p), 0);
        feed(&c, 'a', 2);
        assert_true(pending_total(p) > FRAMER_KEEP_CAPACITY);
        feed(&c, '\n', 1);
        assert_int_equal(c.sink.count, 1);
        assert_int_equal(c.sink.truncated, 0);
        framer_trim(&c.framer);
        assert_int_equal(pending_total(p), 0);
        conn_done(&c, p);
}

static void the_longest_line_is_cut_when_it_grows_over_the_bound(void **state) {
        struct pending *p = *state;
        struct conn a, b;

        conn_init(&a, p, 1, FRAMING_LINES);
        conn_init(&b, p, 2, FRAMING_LINES);
        feed(&a, 'a', 20000);           /* a 32 KiB buffer */
        feed(&b, 'b', 20000);           /* 32 KiB: the bound is full */
        assert_int_equal(pending_total(p), LIMIT);
        /* a would need a 48 KiB buffer: over the bound, and a would be the
         * longest; it logs what its buffer holds. */
        feed(&a, 'a', 20000);
        assert_int_equal(a.sink.count, 1);
        assert_int_equal(a.sink.over_pending, 1);
        assert_int_equal(a.sink.sizes[0], 32768);
        assert_true(pending_total(p) <= LIMIT);
        /* The rest of a's line is skipped, the next line is whole. */
        feed(&a, 'a', 5000);
        feed(&a, '\n', 1);
        feed(&a, 'c', 10);
        feed(&a, '\n', 1);
        assert_int_equal(a.sink.count, 2);
        assert_int_equal(a.sink.sizes[1], 10);
        assert_int_equal(a.sink.first[1], 'c');
        assert_int_equal(b.sink.count, 0);
        conn_done(&a, p);
        conn_done(&b, p);
        assert_int_equal(pending_total(p), 0);
}

static void a_longer_line_in_the_same_thread_is_given_back(void **state) {
        struct pending *p = *state;
        struct conn a, b;

        conn_init(&a, p, 1, FRAMING_LINES);
        conn_init(&b, p, 2, FRAMING_LINES);
        feed(&a, 'a', 40000);           /* a buffer of MAX + 1, charged at MAX */
        feed(&b, 'b', 20000);           /* b grows to 32 KiB: a, the longest, gives its buffer back */
        assert_int_equal(a.sink.count, 1);
        assert_int_equal(a.sink.over_pending, 1);
        assert_int_equal(a.sink.sizes[0], 40000);
        assert_int_equal(b.sink.count, 0);
        assert_true(pending_total(p) <= LIMIT);
        /* a's next bytes are still the cut line's: skipped up to its end. */
        feed(&a, 'a', 100);
        feed(&a, '\n', 1);
        feed(&b, '\n', 1);
        assert_int_equal(a.sink.count, 1);
        assert_int_equal(b.sink.count, 1);
        assert_int_equal(b.sink.sizes[0], 20000);
        assert_int_equal(b.sink.truncated, 0);
        conn_done(&a, p);
        conn_done(&b, p);
        assert_int_equal(pending_total(p), 0);
}

static void an_octet_frame_cut_skips_exactly_its_rest(void **state) {
        struct pending *p = *state;
        struct conn a, b;
        const char next[] = "3 xyz";

        conn_init(&a, p, 1, FRAMING_OCTETS);
        conn_init(&b, p, 2, FRAMING_LINES);
        feed(&b, 'b', 40000);           /* charged at MAX */
        assert_int_equal(framer_feed(&a.framer, "40000 ", 6, collect, &a.sink), 0);
        feed(&a, 'a', 20000);           /* needs 32 KiB more: over; b, the longer, gives way */
        assert_int_equal(a.sink.count, 0);
        assert_int_equal(b.sink.over_pending, 1);
        feed(&a, 'a', 20000);           /* the frame's rest */
        assert_int_equal(framer_feed(&a.framer, next, sizeof(next) - 1, collect, &a.sink), 0);
        assert_int_equal(a.sink.count, 2);
        assert_int_equal(a.sink.truncated, 0);
        assert_int_equal(a.sink.sizes[0], 40000);
        assert_int_equal(a.sink.sizes[1], 3);
        conn_done(&a, p);
        conn_done(&b, p);
        assert_int_equal(pending_total(p), 0);
}

static void an_asked_framer_gives_back_at_its_next_feed(void **state) {
        struct pending *p = *state;
        struct conn a;

        conn_init(&a, p, 1, FRAMING_OCTETS);
        assert_int_equal(framer_feed(&a.framer, "5000 ", 5, collect, &a.sink), 0);
        feed(&a, 'a', 3000);
        atomic_store(&a.entry->asked, true);
        assert_true(framer_asked(&a.framer));
        feed(&a, 'a', 2000);            /* the frame's rest: skipped */
        assert_false(framer_asked(&a.framer));
        assert_int_equal(a.sink.count, 1);
        assert_int_equal(a.sink.sizes[0], 3000);
        assert_int_equal(a.sink.over_pending, 1);
        assert_int_equal(framer_feed(&a.framer, "1 z", 3, collect, &a.sink), 0);
        assert_int_equal(a.sink.count, 2);
        assert_int_equal(pending_total(p), 0);
        conn_done(&a, p);
}

/* Its buffer may grow no further: it logs the bytes that fit the small one
 * no budget counts. */
static void a_lone_line_over_the_bound_is_cut_at_the_free_buffer(void **state) {
        struct pending *p = *state;
        struct conn a;

        pending_set_limit(p, 4096);
        conn_init(&a, p, 1, FRAMING_LINES);
        feed(&a, 'a', 10000);           /* one read: a 16 KiB buffer would be needed */
        assert_int_equal(a.sink.count, 1);
        assert_int_equal(a.sink.over_pending, 1);
        assert_int_equal(a.sink.sizes[0], FRAMER_KEEP_CAPACITY);
        assert_int_equal(pending_total(p), 0);
        conn_done(&a, p);
}

static void a_dead_process_is_forgotten(void **state) {
        struct pending *p = *state;
        struct pending_entry *e = pending_join(p, 7, give_back, NULL);

        assert_int_equal(pending_grow(p, e, 5000, 4000), 0);
        assert_int_equal(pending_total(p), 5000);
        pending_forget_process(p, getpid());
        assert_int_equal(pending_total(p), 0);
        assert_int_equal(atomic_load(&e->owner), 0);
}

static void growth_refused_when_asked(void **state) {
        struct pending *p = *state;
        struct pending_entry *e = pending_join(p, 7, give_back, NULL);

        atomic_store(&e->asked, true);
        assert_int_equal(pending_grow(p, e, 10, 10), -ENOBUFS);
        pending_shrink(p, e, 100);      /* more than it holds: clamped */
        pending_release(p, e);
        assert_false(pending_asked(e));
        assert_int_equal(pending_total(p), 0);
        pending_leave(p, e);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(small_buffers_count_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(the_longest_line_is_cut_when_it_grows_over_the_bound, setup, teardown),
                cmocka_unit_test_setup_teardown(a_longer_line_in_the_same_thread_is_given_back, setup, teardown),
                cmocka_unit_test_setup_teardown(an_octet_frame_cut_skips_exactly_its_rest, setup, teardown),
                cmocka_unit_test_setup_teardown(an_asked_framer_gives_back_at_its_next_feed, setup, teardown),
                cmocka_unit_test_setup_teardown(a_lone_line_over_the_bound_is_cut_at_the_free_buffer, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_dead_process_is_forgotten, setup, teardown),
                cmocka_unit_test_setup_teardown(growth_refused_when_asked, setup, teardown),
        };

        return hark_test_main("pending", tests);
}
