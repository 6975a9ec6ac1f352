/* Admission: the global and per-source connection limits, without sockets
 * (a refusal is the one step that needs a descriptor: a socketpair). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admission.h"

struct fixture {
        struct counters counters;
        struct admission admission;
};

static struct peer peer_at(const char *address) {
        struct peer p = { .family = AF_INET, .port = 4711 };

        snprintf(p.address, sizeof(p.address), "%s", address);
        snprintf(p.name, sizeof(p.name), "%s:4711", address);
        return p;
}

static int setup_limits(void **state, unsigned max_connections, unsigned max_per_source) {
        struct fixture *x = calloc(1, sizeof(*x));

        assert_non_null(x);
        assert_int_equal(admission_init(&x->admission, max_connections, max_per_source, &x->counters), 0);
        *state = x;
        return 0;
}

static int setup(void **state) {
        return setup_limits(state, 3, 0);
}

static int teardown(void **state) {
        struct fixture *x = *state;

        admission_done(&x->admission);
        free(x);
        return 0;
}

static void admit_ok(struct admission *a, const char *address) {
        struct peer p = peer_at(address);
        unsigned open_from_source = 99;

        assert_int_equal(admission_admit(a, &p, &open_from_source), 0);
}

/* Releases one connection of address; returns whether accepting may resume. */
static bool release(struct admission *a, const char *address, unsigned *still_open) {
        struct peer p = peer_at(address);

        return admission_release(a, &p, still_open);
}

static void test_global_limit(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        unsigned still_open;

        for (int i = 0; i < 3; i++) {
                assert_true(admission_has_room(a));
                admit_ok(a, i == 1 ? "192.0.2.2" : "192.0.2.1");
        }
        assert_int_equal(admission_open(a), 3);
        assert_false(admission_has_room(a));
        /* The accept loop paused at "no room": the first release says resume. */
        assert_true(release(a, "192.0.2.1", &still_open));
        assert_int_equal(still_open, 2);
        assert_true(admission_has_room(a));
        /* No pause since: a further release has nothing to resume. */
        assert_false(release(a, "192.0.2.2", &still_open));
        assert_false(release(a, "192.0.2.1", &still_open));
        assert_int_equal(still_open, 0);
        assert_int_equal(admission_open(a), 0);
}

static void test_release_without_pause_does_not_resume(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        unsigned still_open;

        admit_ok(a, "192.0.2.1");
        admit_ok(a, "192.0.2.1");
        admit_ok(a, "192.0.2.1");
        /* Full, but nobody asked has_room(): nobody waits to be woken. */
        assert_false(release(a, "192.0.2.1", &still_open));
        assert_int_equal(still_open, 2);
}

static int setup_per_source(void **state) {
        return setup_limits(state, 100, 2);
}

static void test_per_source_limit(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        struct peer busy = peer_at("198.51.100.7");
        unsigned open_from_source = 0, still_open;

        admit_ok(a, "198.51.100.7");
        admit_ok(a, "198.51.100.7");
        assert_int_equal(admission_admit(a, &busy, &open_from_source), -EBUSY);
        assert_int_equal(open_from_source, 2);
        /* Another source is not affected, nor is the global count. */
        admit_ok(a, "198.51.100.8");
        admit_ok(a, "198.51.100.8");
        assert_int_equal(admission_open(a), 4);
        /* A slot given back is a slot to take again. */
        (void) release(a, "198.51.100.7", &still_open);
        assert_int_equal(admission_admit(a, &busy, &open_from_source), 0);
        assert_int_equal(open_from_source, 1);
}

static void test_source_forgotten_when_last_closes(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        struct peer p = peer_at("203.0.113.1");
        unsigned open_from_source = 99, still_open;

        admit_ok(a, "203.0.113.1");
        (void) release(a, "203.0.113.1", &still_open);
        assert_int_equal(admission_admit(a, &p, &open_from_source), 0);
        assert_int_equal(open_from_source, 0);
}

static void test_unix_peers_by_user(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        struct peer same_user = peer_at("uid:1000"), other = peer_at("uid:0");
        unsigned open_from_source;

        same_user.family = other.family = AF_UNIX;
        assert_int_equal(admission_admit(a, &same_user, &open_from_source), 0);
        assert_int_equal(admission_admit(a, &same_user, &open_from_source), 0);
        assert_int_equal(admission_admit(a, &same_user, &open_from_source), -EBUSY);
        assert_int_equal(admission_admit(a, &other, &open_from_source), 0);
}

static void test_mode_limit(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        unsigned still_open;

        admission_set_mode_limit(a, 1);
        admit_ok(a, "192.0.2.1");
        assert_false(admission_has_room(a));
        assert_true(release(a, "192.0.2.1", &still_open));
        admit_ok(a, "192.0.2.1");
        admission_set_mode_limit(a, 0);
        assert_true(admission_has_room(a));
        /* A mode limit above max_connections changes nothing. */
        admission_set_mode_limit(a, 50);
        admit_ok(a, "192.0.2.2");
        admit_ok(a, "192.0.2.3");
        assert_false(admission_has_room(a));
}

static void test_new_limits_apply_to_next_admissions(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        struct peer p = peer_at("192.0.2.9");
        unsigned open_from_source, still_open;

        for (int i = 0; i < 3; i++)
                admit_ok(a, "192.0.2.9");
        /* A reload lowers both limits below what is open: nobody is cut off,
         * but nobody new comes in until the count is below them. */
        admission_set_limits(a, 2, 1);
        assert_int_equal(admission_open(a), 3);
        assert_false(admission_has_room(a));
        assert_false(release(a, "192.0.2.9", &still_open));
        assert_false(admission_has_room(a));
        assert_true(release(a, "192.0.2.9", &still_open));
        assert_true(admission_has_room(a));
        assert_int_equal(admission_admit(a, &p, &open_from_source), -EBUSY);
        assert_int_equal(open_from_source, 1);
        admit_ok(a, "192.0.2.10");
        /* Raising them again admits more. */
        admission_set_limits(a, 10, 0);
        admit_ok(a, "192.0.2.9");
        assert_int_equal(admission_open(a), 3);
}

static void test_refuse_closes_and_counts(void **state) {
        struct fixture *x = *state;
        struct peer p = peer_at("192.0.2.66");
        int pair[2];
        char byte;

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
        admission_refuse(&x->admission, pair[0], &p, 5);
        assert_int_equal(read(pair[1], &byte, 1), 0);   /* closed: end of stream */
        assert_int_equal(atomic_load(&x->counters.refused), 1);
        /* A refused peer never held a slot. */
        assert_int_equal(admission_open(&x->admission), 0);
        close(pair[1]);
}

static int setup_many(void **state) {
        return setup_limits(state, 1 << 20, 3);
}

/* Far more sources than hash buckets: every one keeps its own count. */
static void test_many_sources(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        enum { SOURCES = 5000 };
        unsigned still_open, open_from_source;
        char address[32];

        for (int round = 0; round < 3; round++)
                for (int i = 0; i < SOURCES; i++) {
                        snprintf(address, sizeof(address), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
                        admit_ok(a, address);
                }
        assert_int_equal(admission_open(a), 3 * SOURCES);
        for (int i = 0; i < SOURCES; i++) {
                struct peer p;

                snprintf(address, sizeof(address), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
                p = peer_at(address);
                assert_int_equal(admission_admit(a, &p, &open_from_source), -EBUSY);
                assert_int_equal(open_from_source, 3);
                for (int round = 0; round < 3; round++)
                        (void) release(a, address, &still_open);
        }
        assert_int_equal(still_open, 0);
}

struct churn {
        struct admission *admission;
        const char *address;
};

static void *churn(void *arg) {
        struct churn *c = arg;
        struct peer p = peer_at(c->address);
        unsigned open_from_source, still_open;

        for (int i = 0; i < 20000; i++) {
                if (admission_admit(c->admission, &p, &open_from_source) == 0)
                        (void) admission_release(c->admission, &p, &still_open);
                (void) admission_has_room(c->admission);
        }
        return NULL;
}

/* Drivers admit on one thread and release on others. */
static void test_concurrent_admit_and_release(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        struct churn work[] = { { a, "192.0.2.1" }, { a, "192.0.2.1" }, { a, "192.0.2.2" } };
        pthread_t threads[3];

        for (int i = 0; i < 3; i++)
                assert_int_equal(pthread_create(&threads[i], NULL, churn, &work[i]), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_int_equal(admission_open(a), 0);
}

int main(void) {
        static const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_global_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_release_without_pause_does_not_resume, setup, teardown),
                cmocka_unit_test_setup_teardown(test_per_source_limit, setup_per_source, teardown),
                cmocka_unit_test_setup_teardown(test_source_forgotten_when_last_closes, setup_per_source, teardown),
                cmocka_unit_test_setup_teardown(test_unix_peers_by_user, setup_per_source, teardown),
                cmocka_unit_test_setup_teardown(test_mode_limit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_new_limits_apply_to_next_admissions, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuse_closes_and_counts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_sources, setup_many, teardown),
                cmocka_unit_test_setup_teardown(test_concurrent_admit_and_release, setup_per_source, teardown),
        };

        return hark_test_main("admission", tests);
}
