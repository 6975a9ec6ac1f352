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
#include "util.h"

/* The slots a test holds, to release them by address. */
#define HELD_MAX 16000
static struct held {
        char address[64];
        struct admission_slot *slot;
} held[HELD_MAX];
static size_t n_held;

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
        unsigned still_open;

        while (n_held > 0)
                (void) admission_release(&x->admission, held[--n_held].slot, &still_open);
        admission_done(&x->admission);
        free(x);
        return 0;
}

/* admission_admit() remembering the slot. */
static int admit_fd(struct admission *a, const struct peer *p, int fd, unsigned *open_from_source) {
        struct admission_slot *slot = NULL;
        int r = admission_admit(a, p, fd, open_from_source, &slot);

        if (r == 0) {
                assert_true(n_held < HELD_MAX);
                snprintf(held[n_held].address, sizeof(held[n_held].address), "%s", p->address);
                held[n_held++].slot = slot;
        }
        return r;
}

/* Without a socket. */
static int admit(struct admission *a, const struct peer *p, unsigned *open_from_source) {
        return admit_fd(a, p, -1, open_from_source);
}

static void admit_ok(struct admission *a, const char *address) {
        struct peer p = peer_at(address);
        unsigned open_from_source = 99;

        assert_int_equal(admit(a, &p, &open_from_source), 0);
}

static struct admission_slot *take_held(const char *address) {
        for (size_t i = n_held; i-- > 0;)
                if (strcmp(held[i].address, address) == 0) {
                        struct admission_slot *slot = held[i].slot;
                        held[i] = held[--n_held];
                        return slot;
                }
        fail_msg("no slot held for %s", address);
        return NULL;
}

/* Takes the slot at index i out of the table. */
static struct admission_slot *take_held_slot(size_t i) {
        struct admission_slot *slot = held[i].slot;

        assert_true(i < n_held);
        (void) close(slot->fd);
        memmove(&held[i], &held[i + 1], (n_held - i - 1) * sizeof(held[0]));
        n_held--;
        return slot;
}

/* Releases one connection of address; returns whether accepting may resume. */
static bool release(struct admission *a, const char *address, unsigned *still_open) {
        return admission_release(a, take_held(address), still_open);
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
        assert_int_equal(admit(a, &busy, &open_from_source), -EBUSY);
        assert_int_equal(open_from_source, 2);
        /* Another source is not affected, nor is the global count. */
        admit_ok(a, "198.51.100.8");
        admit_ok(a, "198.51.100.8");
        assert_int_equal(admission_open(a), 4);
        /* A slot given back is a slot to take again. */
        (void) release(a, "198.51.100.7", &still_open);
        assert_int_equal(admit(a, &busy, &open_from_source), 0);
        assert_int_equal(open_from_source, 1);
}

static void test_source_forgotten_when_last_closes(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        struct peer p = peer_at("203.0.113.1");
        unsigned open_from_source = 99, still_open;

        admit_ok(a, "203.0.113.1");
        (void) release(a, "203.0.113.1", &still_open);
        assert_int_equal(admit(a, &p, &open_from_source), 0);
        assert_int_equal(open_from_source, 0);
}

static void test_unix_peers_by_user(void **state) {
        struct admission *a = &((struct fixture *) *state)->admission;
        struct peer same_user = peer_at("uid:1000"), other = peer_at("uid:0");
        unsigned open_from_source;

        same_user.family = other.family = AF_UNIX;
        assert_int_equal(admit(a, &same_user, &open_from_source), 0);
        assert_int_equal(admit(a, &same_user, &open_from_source), 0);
        assert_int_equal(admit(a, &same_user, &open_from_source), -EBUSY);
        assert_int_equal(admit(a, &other, &open_from_source), 0);
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
        assert_int_equal(admit(a, &p, &open_from_source), -EBUSY);
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
                assert_int_equal(admit(a, &p, &open_from_source), -EBUSY);
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
                struct admission_slot *slot;

                if (admission_admit(c->admission, &p, -1, &open_from_source, &slot) == 0)
                        (void) admission_release(c->admission, slot, &still_open);
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

/* A slot with a socket whose other end the test reads, quiet since ago_ms. */
static int admit_quiet(struct admission *a, const char *address, long long ago_ms) {
        struct peer p = peer_at(address);
        unsigned open_from_source;
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(admit_fd(a, &p, fds[0], &open_from_source), 0);
        admission_serving(held[n_held - 1].slot, now_ms() - ago_ms);
        return fds[1];
}

/* Whether the other end of fd was shut down (reads the end of the stream). */
static bool was_shut_down(int fd) {
        char byte;

        return recv(fd, &byte, 1, MSG_DONTWAIT) == 0;
}

static void close_held_sockets(struct admission *a, int *peers, size_t n) {
        for (size_t i = 0; i < n; i++)
                (void) close(peers[i]);
        for (size_t i = 0; i < n_held; i++)
                if (held[i].slot->fd >= 0) {
                        (void) close(held[i].slot->fd);
                        admission_forget_fd(a, held[i].slot);
                }
}

/* At the limit, the source holding the most slots loses its quietest
 * connection; one that ended a message lately is kept, and so is every
 * connection while there is room. */
static void test_eviction_takes_from_the_biggest_source(void **state) {
        struct fixture *x = *state;
        struct admission *a = &x->admission;
        int peers[3];

        peers[0] = admit_quiet(a, "192.0.2.1", 5000);           /* alone: the smaller source */
        peers[1] = admit_quiet(a, "192.0.2.9", 2000);
        peers[2] = admit_quiet(a, "192.0.2.9", 3000);
        assert_false(admission_has_room(a));                       /* full: pauses */
        assert_int_equal(admission_evict(a, now_ms(), 0), 0);    /* nobody waits */
        assert_int_equal(admission_evict(a, now_ms(), 1), 1);    /* one waits: one goes */
        assert_true(was_shut_down(peers[2]));
        assert_false(was_shut_down(peers[0]));
        assert_false(was_shut_down(peers[1]));
        assert_int_equal(atomic_load(&x->counters.evicted), 1);
        assert_true(admission_evicted(held[n_held - 1].slot));
        /* Until it is released, asking again for the same one evicts no more. */
        assert_int_equal(admission_evict(a, now_ms(), 1), 0);
        /* Two wait: the other of the biggest source goes, then the smaller one. */
        assert_int_equal(admission_evict(a, now_ms(), 2), 1);
        assert_true(was_shut_down(peers[1]));
        assert_false(was_shut_down(peers[0]));
        assert_int_equal(admission_evict(a, now_ms(), 3), 1);
        assert_true(was_shut_down(peers[0]));
        close_held_sockets(a, peers, 3);
}

/* A connection writing to the journal (a slow journald) is busy, not quiet:
 * evicting it would have its client send again what is logged. */
static void test_eviction_spares_connections_writing_to_the_journal(void **state) {
        struct fixture *x = *state;
        struct admission *a = &x->admission;
        int peer = admit_quiet(a, "192.0.2.9", 60000);

        atomic_store(&held[0].slot->delivering, true);
        assert_int_equal(admission_evict(a, now_ms(), 1), 0);
        assert_false(was_shut_down(peer));
        atomic_store(&held[0].slot->delivering, false);
        assert_int_equal(admission_evict(a, now_ms(), 1), 1);
        assert_true(was_shut_down(peer));
        close_held_sockets(a, &peer, 1);
}

/* A connection waiting for a worker is not served yet: never evicted. */
static void test_eviction_spares_queued_connections(void **state) {
        struct fixture *x = *state;
        struct admission *a = &x->admission;
        struct peer p = peer_at("192.0.2.9");
        unsigned open_from_source;
        int fds[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(admit_fd(a, &p, fds[0], &open_from_source), 0);
        admission_progress(held[0].slot, now_ms() - 60000);
        assert_int_equal(admission_evict(a, now_ms(), 3), 0);
        assert_false(was_shut_down(fds[1]));
        /* Served from now on, its quiet time starts now. */
        admission_serving(held[0].slot, now_ms());
        assert_int_equal(admission_evict(a, now_ms(), 3), 0);
        admission_serving(held[0].slot, now_ms() - ADMISSION_EVICT_IDLE_MS);
        assert_int_equal(admission_evict(a, now_ms(), 3), 1);
        assert_true(was_shut_down(fds[1]));
        close_held_sockets(a, &fds[1], 1);
}

static void test_eviction_spares_active_connections(void **state) {
        struct fixture *x = *state;
        struct admission *a = &x->admission;
        unsigned still_open;
        int peers[3], forgotten;

        for (int i = 0; i < 3; i++)
                peers[i] = admit_quiet(a, "192.0.2.9", 0);
        assert_false(admission_has_room(a));
        assert_int_equal(admission_evict(a, now_ms(), 1), 0);
        for (int i = 0; i < 3; i++)
                assert_false(was_shut_down(peers[i]));
        /* Once quiet long enough, the one quiet longest goes. */
        admission_progress(held[1].slot, now_ms() - ADMISSION_EVICT_IDLE_MS - 10);
        assert_int_equal(admission_evict(a, now_ms(), 1), 1);
        assert_true(was_shut_down(peers[1]));
        assert_false(was_shut_down(peers[0]));
        /* A socket being closed is never touched: full again, the only
         * quiet connection is one whose socket admission was told to forget. */
        (void) admission_release(a, take_held_slot(1), &still_open);
        forgotten = held[1].slot->fd;
        admission_forget_fd(a, held[1].slot);
        admission_progress(held[1].slot, now_ms() - 60000);
        peers[1] = admit_quiet(a, "192.0.2.9", 0);
        assert_false(admission_has_room(a));
        assert_int_equal(admission_evict(a, now_ms(), 1), 0);
        assert_false(was_shut_down(peers[2]));
        (void) close(forgotten);
        close_held_sockets(a, peers, 3);
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
                cmocka_unit_test_setup_teardown(test_eviction_takes_from_the_biggest_source, setup, teardown),
                cmocka_unit_test_setup_teardown(test_eviction_spares_active_connections, setup, teardown),
                cmocka_unit_test_setup_teardown(test_eviction_spares_queued_connections, setup, teardown),
                cmocka_unit_test_setup_teardown(test_eviction_spares_connections_writing_to_the_journal, setup,
                                                teardown),
        };

        return hark_test_main("admission", tests);
}
