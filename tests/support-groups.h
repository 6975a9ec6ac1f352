/* The concurrency modes, and how an integration test program runs its tests:
 * each it_*.c declares its tests in two lists and hands them to it_main(),
 *
 *         static const struct CMUnitTest per_mode[] = {
 *                 IT_TEST(test_framing),
 *                 IT_TEST(test_binary),
 *         };
 *
 *         int main(void) {
 *                 return it_main(&(struct it_suite) {
 *                         .name = "protocol",
 *                         .per_mode = IT_TESTS(per_mode),
 *                 });
 *         }
 *
 * per_mode runs once in every concurrency mode (as the cmocka groups
 * "protocol/sequential" ... "protocol/epoll"), once runs after them, once
 * (as the group "protocol"). With HARK_TEST_COUNT=1 (see tests/test-main.h)
 * it_main() prints how many tests that makes in the selected modes instead.
 *
 * Environment: $HARK_IT_MODES=epoll,fork selects modes (default: all);
 * $HARK_IT_SERIAL=1 runs side-by-side groups one after another. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "test-main.h"

extern const char *const it_all_modes[];
#define IT_N_MODES 5

/* The mode the running group tests (set before each per-mode group). */
extern const char *it_mode;

/* A test with the per-test state of support-test.h as its cmocka state. */
#define IT_TEST(function) cmocka_unit_test_setup_teardown(function, it_setup, it_teardown)

/* A list of tests: an array and its length. */
struct it_tests {
        const struct CMUnitTest *v;
        size_t n;
};

/* The it_tests of an array (not a pointer: it takes the array's size). */
#define IT_TESTS(array) { (array), sizeof(array) / sizeof((array)[0]) }

struct it_suite {
        const char *name;               /* the groups' name (before "/<mode>") */
        struct it_tests per_mode;       /* run in every selected mode */
        /* Per-mode groups side by side, one process each, their output
         * printed afterwards in mode order: for tests that mostly wait.
         * Not for tests that disturb what all share (the journald). */
        bool side_by_side;
        struct it_tests once;           /* run once, after the per-mode groups */
};

/* Runs (or counts) the suite; returns main's exit status: 0 when every test
 * passed, else 1. */
int it_main(const struct it_suite *suite);
