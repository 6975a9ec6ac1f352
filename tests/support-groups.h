/* The concurrency modes, and the cmocka groups an integration test program
 * runs its tests in. */
#pragma once

#include <stddef.h>

#include "test-main.h"

extern const char *const it_all_modes[];
#define IT_N_MODES 5

/* The mode the running group tests (set by it_run_mode_groups()). */
extern const char *it_mode;

/* Runs tests once per concurrency mode (or per mode listed, comma-separated,
 * in $HARK_IT_MODES), as cmocka groups named "<prefix>/<mode>". Returns the
 * number of failed tests. */
int it_run_mode_groups(const char *prefix, const struct CMUnitTest *tests, size_t n);

/* The same with the modes' groups side by side, one process each (their
 * output is printed afterwards, in mode order): for tests that mostly wait.
 * $HARK_IT_SERIAL=1 runs them one after another. */
int it_run_mode_groups_parallel(const char *prefix, const struct CMUnitTest *tests, size_t n);

/* Runs tests once, as the group "name". */
int it_run_group(const char *name, const struct CMUnitTest *tests, size_t n);
