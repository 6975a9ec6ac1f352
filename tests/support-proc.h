/* Child processes of the integration tests: the programs under test and
 * the tools they are checked with. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct it_proc {
        int status;             /* wait status; -1 when it did not end */
        char *out, *err;        /* what it wrote (malloc'd, NUL-terminated) */
        size_t out_len, err_len;
};

/* Runs argv (argv[0] a path) with stdin from the given bytes (NULL: /dev/null),
 * waits at most timeout_ms (then kills it). Returns 0 or -errno. */
int it_run(char *const argv[], const char *input, size_t input_len, int timeout_ms, struct it_proc *p);
void it_proc_free(struct it_proc *p);

/* Exit code of a run that exited, else -1 (printing how it ended). */
int it_exit_code(const struct it_proc *p);

/* Children of it_run() and it_spawn() come from it_fork(). */

/* Starts argv in the background, stdout and stderr appended to log_path, with
 * the extra environment entries in env (NULL-terminated, may be NULL).
 * no_journal hides /run/systemd/journal from it. It leads a process group of
 * its own (kill(-pid, ...) reaches the processes it forks too). Returns pid
 * or -errno. */
pid_t it_spawn(char *const argv[], char *const env[], const char *log_path, bool no_journal);

/* The same with stdin from the file in_path, and no extra environment. */
pid_t it_spawn_with_stdin(char *const argv[], const char *in_path, const char *log_path);

/* fork(2) for the support code: the child is SIGKILLed when the thread
 * that forked it ends (PR_SET_PDEATHSIG), so a test program killed mid-run
 * leaves none of its children behind. Fork (and spawn) from the thread that
 * runs the test, not from a helper thread that ends before its children.
 * Returns as fork(2). */
pid_t it_fork(void);

/* Waits at most timeout_ms for pid; returns the wait status or -ETIMEDOUT. */
int it_wait_pid(pid_t pid, int timeout_ms);

/* SIGKILL to pid (when > 0), and reaps it. */
void it_kill_and_reap(pid_t pid);

/* How much more memory a process takes under the sanitizer this build has
 * (harkd's and the tests' are built alike): their runtimes spend far more
 * per thread than harkd does (ASan keeps shadow and fake stacks, TSan its
 * own state), and ASan keeps freed memory in quarantine. 1 without. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define IT_SANITIZER_FACTOR 8
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define IT_SANITIZER_FACTOR 8
#endif
#endif
#ifndef IT_SANITIZER_FACTOR
#define IT_SANITIZER_FACTOR 1
#endif

/* A "Key:" line of /proc/PID/status, in KiB (asserted to be there). */
long it_proc_status_kib(pid_t pid, const char *key);

/* The same summed over pid and its children (`fork` mode's connections). */
long it_proc_tree_status_kib(pid_t pid, const char *key);

/* The paths of the binaries under test ($HARKD, $HARK). */
const char *it_harkd_path(void);
const char *it_hark_path(void);
