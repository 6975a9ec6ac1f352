/* The state of one integration test (cmocka's state): what the test starts
 * or opens through it is cleaned up by it_teardown(), even when an assertion
 * failed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "support-harkd.h"

#define IT_MAX_HARKD 4
#define IT_MAX_FDS 64
#define IT_MAX_FILES 16
#define IT_MAX_PIDS 8

struct it_test {
        struct harkd harkd[IT_MAX_HARKD];
        int fds[IT_MAX_FDS];
        char files[IT_MAX_FILES][256];
        size_t n_files;
        pid_t pids[IT_MAX_PIDS];        /* other children, killed in teardown; 0: free */
        long long started_ms;
        pid_t stopped_journald;         /* continued in teardown (support-journald.h) */
        bool journald_killed;           /* a new one started in teardown */
        /* it_journald_configure() mounted these: undone in teardown. */
        bool journald_conf_mounted, journal_store_mounted;
};

/* cmocka setup/teardown: allocate / clean up a struct it_test (continues a
 * journald it stopped, starts one if it killed the last, kills its harkds
 * and other children, closes its fds, removes its files;
 * prints the test's wall time). */
int it_setup(void **state);
int it_teardown(void **state);

/* Whether the binaries under test are built with a sanitizer ($SANITIZE):
 * their timing needs slack. */
bool it_sanitized(void);

/* it_connect() and keep the fd for teardown; asserts success. */
int it_test_connect(struct it_test *t, const char *host, int port);

/* Keep fd / file (or empty directory) for teardown (closed / removed there);
 * close a kept fd now. */
int it_test_keep_fd(struct it_test *t, int fd);
void it_test_close(struct it_test *t, int fd);
const char *it_test_keep_file(struct it_test *t, const char *path);

/* Keep a child (from it_spawn()) for teardown, which kills and reaps it;
 * it_test_wait_pid() waits for it (as it_wait_pid()) and forgets it once
 * it ended. */
pid_t it_test_keep_pid(struct it_test *t, pid_t pid);
int it_test_wait_pid(struct it_test *t, pid_t pid, int timeout_ms);

/* harkd_start() on t->harkd[i], asserting success. */
struct harkd *it_test_harkd(struct it_test *t, size_t i, const struct harkd_options *options);

/* harkd_stop() asserting that harkd exited 0 within timeout_ms. */
void it_assert_harkd_stops(struct harkd *h, int timeout_ms);
void it_assert_exited_0(int wait_status, const char *what);

/* Connect to h, send text, half-close, assert "OK <expected>". */
void it_send_and_confirm(struct it_test *t, struct harkd *h, const char *text, uint64_t expected);
