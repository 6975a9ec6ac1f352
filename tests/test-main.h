/* What every test program of hark includes: cmocka (with the headers cmocka
 * expects before it) and the one way a test program's main runs its tests.
 *
 * Counting. With HARK_TEST_COUNT=1 in the environment a test program runs
 * nothing: it prints how many tests it would run, as one decimal number and
 * a newline on stdout, and exits 0. tests/run-tests asks every program first
 * and counts each test that then did not report (the program crashed, hung
 * and was killed, or died before its first test) as failed, so that no test
 * silently drops out of the totals.
 *
 * A unit test program (tests/test_*.c, linked with libhark and cmocka only)
 * includes this header and ends its main with
 *
 *         return hark_test_main("framer", tests);
 *
 * tests being its array of struct CMUnitTest (an array, not a pointer: the
 * macro takes its size). That runs them as the cmocka group "framer", or
 * counts them. Integration programs (tests/it_*.c) use it_main() of
 * tests/support-groups.h instead, which counts the same way per mode. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define HARK_TEST_COUNT_ENV "HARK_TEST_COUNT"

/* Whether this run only counts (HARK_TEST_COUNT set, and not to "" or "0"). */
static inline bool hark_test_counting(void) {
        const char *value = getenv(HARK_TEST_COUNT_ENV);

        return value && *value && strcmp(value, "0") != 0;
}

/* Prints the count as run-tests reads it; the exit status of main. */
static inline int hark_test_print_count(size_t n) {
        printf("%zu\n", n);
        return fflush(stdout) == 0 ? 0 : 1;
}

/* Counts or runs the n tests as the cmocka group name; returns what main
 * returns (cmocka's number of failed tests when run). */
static inline int hark_test_run_or_count(const char *name, const struct CMUnitTest *tests, size_t n) {
        if (hark_test_counting())
                return hark_test_print_count(n);
        return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
}

#define hark_test_main(name, tests) hark_test_run_or_count((name), (tests), sizeof(tests) / sizeof((tests)[0]))
