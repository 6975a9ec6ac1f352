/* Helpers of the integration tests (tests/it_*.c): real harkd processes on
 * real sockets, entries read back from the real journal with sd-journal.
 *
 * Every it_ program runs inside tests/with-journald (a private journald) and
 * gets the absolute paths of the binaries in $HARKD and $HARK. Each test owns
 * a struct it_test (cmocka state, from it_setup()): what it starts or creates
 * through it is cleaned up by it_teardown() even when an assertion fails.
 *
 * Environment: $HARK_IT_MODES=epoll,fork runs only those modes' groups,
 * $HARK_IT_SERIAL=1 runs mode groups one after another, $HARK_IT_KEEP=1
 * keeps the temporary files (configs, harkd's stderr) for a post-mortem. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <sys/types.h>
#include <cmocka.h>

/* ---- the concurrency modes ------------------------------------------------ */

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

/* ---- time ------------------------------------------------------------------ */

long long it_now_ms(void);
void it_sleep_ms(int ms);

/* ---- harkd ----------------------------------------------------------------- */

/* Settings of a harkd config; NULL or 0 leaves the key out (harkd's default),
 * except where noted. */
struct harkd_options {
        const char *mode;               /* NULL: it_mode */
        const char *host;               /* NULL: "127.0.0.1" */
        int port;                       /* 0: a free port picked by the test */
        const char *timeout;            /* seconds as written in the file; NULL: "10" */
        int workers;
        int max_connections;
        int max_connections_per_source;
        int max_message_size;
        const char *priority;           /* written as a string: "warning" */
        const char *log_target;         /* NULL: "journal" (what "auto" picks beside a journal) */
        const char *identifier;         /* NULL: a fresh one, unique to the test */
        const char *extra;              /* raw lines appended to the file */
        bool no_journal;                /* run harkd where /run/systemd/journal is empty */
        const char *const *env;         /* extra "NAME=value" for harkd, NULL-terminated */
};

struct harkd {
        pid_t pid;                      /* 0 when not running */
        int port;
        char host[64];
        char identifier[64];
        char config_path[256];
        char stderr_path[256];
        int notify_fd;                  /* NOTIFY_SOCKET of harkd; -1 when none */
        char notify_name[64];           /* abstract socket name (without the leading NUL) */
        struct harkd_options options;   /* as last written (strings not owned) */
};

/* Picks a free TCP port on the loopback address of family (AF_INET, AF_INET6). */
int it_free_port(int family);

/* A fresh identifier: "hark-it-<pid>-<counter>". */
void it_unique_identifier(char *buffer, size_t size);

/* Writes the config file for options (filling h->port/identifier/host first
 * time) without starting anything. Returns 0 or -errno. */
int harkd_write_config(struct harkd *h, const struct harkd_options *options);

/* Writes a config and starts harkd -c on it (stdout and stderr to
 * h->stderr_path, NOTIFY_SOCKET to h->notify_fd), then waits up to 5 s for
 * READY=1. Retries with another port when the picked one was taken. Returns 0
 * or -errno; harkd's stderr is printed on failure. */
int harkd_start(struct harkd *h, const struct harkd_options *options);

/* Sends SIGTERM, waits at most timeout_ms for harkd to exit. Returns the
 * wait status, or -ETIMEDOUT (then harkd was killed). Prints harkd's stderr
 * when it did not exit 0 or its stderr holds a sanitizer report. */
int harkd_stop(struct harkd *h, int timeout_ms);

/* Waits for harkd (already signalled) to exit; as harkd_stop(). */
int harkd_wait(struct harkd *h, int timeout_ms);

/* Sends a signal to harkd. */
int harkd_signal(struct harkd *h, int signo);

/* Kills a still running harkd, removes its files. Safe to call twice. */
void harkd_cleanup(struct harkd *h);

/* Waits until harkd's stderr holds needle (count times), at most timeout_ms. */
bool harkd_wait_log(struct harkd *h, const char *needle, int count, int timeout_ms);

/* How many times harkd's stderr holds needle so far. */
int harkd_log_count(struct harkd *h, const char *needle);

/* harkd's stderr so far (malloc'd, NUL-terminated). */
char *harkd_log(struct harkd *h);

/* Whether text holds a sanitizer report. */
bool it_has_sanitizer_report(const char *text);

/* Whether harkd's stderr holds one (printing it if so). */
bool harkd_sanitizer_report(struct harkd *h);

/* Waits for a notify message (NOTIFY_SOCKET datagram) with a line matching
 * the fnmatch(3) pattern (e.g. "READY=1", "STATUS=*1 refused*"), dropping
 * the messages before it. Copies the datagram to out. Returns 0 or -ETIMEDOUT. */
int harkd_wait_notify(struct harkd *h, const char *pattern, int timeout_ms, char *out, size_t size);

/* Opens an abstract unix datagram socket for NOTIFY_SOCKET. Returns fd. */
int it_notify_socket(char *name, size_t size);

/* ---- clients ----------------------------------------------------------------- */

/* Connects to host:port (numeric host) with a deadline. Returns fd or -errno. */
int it_connect(const char *host, int port, int timeout_ms);

/* The same from the local address source (e.g. "127.0.0.2"). */
int it_connect_from(const char *host, int port, const char *source, int timeout_ms);

/* Connects to the unix stream socket at path. Returns fd or -errno. */
int it_connect_unix(const char *path);

/* The local port of a connected socket. */
int it_local_port(int fd);

/* Sends all of data. Returns 0 or -errno. */
int it_send(int fd, const void *data, size_t size);
int it_send_str(int fd, const char *s);

/* Reads until end of stream, at most timeout_ms; the bytes go to buffer
 * (NUL-terminated, truncated to size - 1). Returns 0 at end of stream,
 * -ECONNRESET, -ETIMEDOUT or -errno; *length gets the bytes read. */
int it_read_to_eof(int fd, char *buffer, size_t size, size_t *length, int timeout_ms);

/* Half-closes fd and reads harkd's answer to its end. Returns 0 when it was
 * exactly "OK <n>\n" followed by end of stream (n in *confirmed), -EBADMSG for
 * another answer (printed), or what it_read_to_eof() failed with. */
int it_finish(int fd, uint64_t *confirmed, int timeout_ms);

/* Whether something (data or end of stream) is readable within timeout_ms. */
bool it_readable(int fd, int timeout_ms);

/* ---- child processes ------------------------------------------------------- */

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

/* Starts argv in the background, stdout and stderr appended to log_path, with
 * the extra environment entries in env (NULL-terminated, may be NULL).
 * Returns pid or -errno. */
pid_t it_spawn(char *const argv[], char *const env[], const char *log_path, bool no_journal);

/* Waits at most timeout_ms for pid; returns the wait status or -ETIMEDOUT. */
int it_wait_pid(pid_t pid, int timeout_ms);

/* The paths of the binaries under test ($HARKD, $HARK). */
const char *it_harkd_path(void);
const char *it_hark_path(void);

/* ---- files ----------------------------------------------------------------- */

/* The directory of this program's temporary files (created on first use). */
const char *it_tmpdir(void);

/* A fresh path inside it_tmpdir(): "<dir>/<stem>-<counter><suffix>". */
void it_tmp_path(char *buffer, size_t size, const char *stem, const char *suffix);

int it_write_file(const char *path, const char *text);
char *it_read_file(const char *path, size_t *length);

/* Whether haystack holds needle; counts occurrences. */
int it_count(const char *haystack, const char *needle);

/* ---- the journal ----------------------------------------------------------- */

struct it_field {
        char *name;
        char *value;            /* NUL-terminated copy; may hold NULs: see length */
        size_t length;
};

struct it_entry {
        struct it_field *fields;
        size_t n_fields;
};

struct it_entries {
        struct it_entry *v;
        size_t n;
};

/* Reads the journal entries matching all of matches ("FIELD=value", up to a
 * NULL), waiting at most timeout_ms until at least expected are there, and
 * then a little more to catch extra ones. Entries come in journal order.
 * Returns the number found (-errno on failure). */
int it_journal_collect(const char *const *matches, size_t expected, int timeout_ms, struct it_entries *out);

/* The same, counting only the entries whose MESSAGE contains needle (NULL: all). */
int it_journal_collect_matching(const char *const *matches, const char *needle, size_t expected, int timeout_ms,
                                struct it_entries *out);

/* harkd's own events (SYSLOG_IDENTIFIER=harkd) matching matches (may be
 * NULL) and needle, as it_journal_collect_matching(); out may be NULL. */
int it_harkd_events(const char *const *matches, const char *needle, size_t expected, int timeout_ms,
                    struct it_entries *out);

/* "_PID=<harkd's pid>": events of harkd's main process. */
const char *harkd_pid_match(const struct harkd *h, char *buffer, size_t size);

/* The same for the messages of identifier (SYSLOG_IDENTIFIER=identifier). */
int it_journal_messages(const char *identifier, size_t expected, int timeout_ms, struct it_entries *out);

void it_entries_free(struct it_entries *e);

/* A field of an entry (NULL when absent); *length gets its size. */
const char *it_entry_field(const struct it_entry *e, const char *name, size_t *length);

/* Prints every entry (MESSAGE escaped and the hark fields) to stderr. */
void it_entries_print(const struct it_entries *e);

/* Asserts that the MESSAGEs of e are exactly expected, in order. */
void it_assert_messages(const struct it_entries *e, const char *const *expected, size_t n);

/* Asserts that field name of e is value. */
void it_assert_field(const struct it_entry *e, const char *name, const char *value);

/* ---- per-test state -------------------------------------------------------- */

#define IT_MAX_HARKD 4
#define IT_MAX_FDS 64
#define IT_MAX_FILES 16

struct it_test {
        struct harkd harkd[IT_MAX_HARKD];
        int fds[IT_MAX_FDS];
        char files[IT_MAX_FILES][256];
        size_t n_files;
        long long started_ms;
};

/* cmocka setup/teardown: allocate / clean up a struct it_test (kills its
 * harkds, closes its fds, removes its files; prints the test's wall time). */
int it_setup(void **state);
int it_teardown(void **state);

/* it_connect() and keep the fd for teardown; asserts success. */
int it_test_connect(struct it_test *t, const char *host, int port);

/* Keep fd / file for teardown (closed / removed there); close a kept fd now. */
int it_test_keep_fd(struct it_test *t, int fd);
void it_test_close(struct it_test *t, int fd);
const char *it_test_keep_file(struct it_test *t, const char *path);

/* harkd_start() on t->harkd[i], asserting success. */
struct harkd *it_test_harkd(struct it_test *t, size_t i, const struct harkd_options *options);

/* harkd_stop() asserting that harkd exited 0 within timeout_ms. */
void it_assert_harkd_stops(struct harkd *h, int timeout_ms);
void it_assert_exited_0(int wait_status, const char *what);

/* Connect to h, send text, half-close, assert "OK <expected>". */
void it_send_and_confirm(struct it_test *t, struct harkd *h, const char *text, uint64_t expected);
