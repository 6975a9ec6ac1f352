/* Real third-party syslog senders in the integration tests: util-linux
 * logger, rsyslogd and syslog-ng as relays, Python's SysLogHandler; and the
 * checks of the journal entries they produce through harkd.
 *
 * A sender that is missing fails the test with a message that names the
 * Debian package (make check installs them; syslog-ng is unpacked by
 * tests/fetch-syslog-ng, never installed). Nothing is skipped.
 *
 * Every relay runs in a directory of its own below it_tmpdir() (config,
 * work directory, pid file, log), as a child of the test kept in struct
 * it_test (killed in teardown when a test fails); it_relay_stop() ends it
 * cleanly and removes its directory. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "support-journal.h"
#include "support-proc.h"

struct it_test;

/* The path of a program: $PATH, then /usr/sbin and /sbin. Fails the test
 * when there is none, naming the Debian package that ships it. */
const char *it_require_program(const char *name, const char *package);

/* Debian's python3 (/usr/bin/python3) when there, else the first in $PATH;
 * fails the test when there is none. */
const char *it_require_python(void);

/* Waits until process pid listens on 127.0.0.1:port (TCP, as /proc/net/tcp
 * and /proc/PID/fd say: no probe connection), at most timeout_ms; fails the
 * test when pid ends first or time runs out, printing log_path. */
void it_wait_listening(int port, pid_t pid, const char *log_path, int timeout_ms);

/* Runs logger --tcp -n 127.0.0.1 -P port with the further arguments (up to
 * a NULL) and input on its stdin (NULL: none); asserts that it exits 0 and
 * writes nothing. */
void it_logger(int port, const char *input, ...) __attribute__((sentinel));

/* A syslog relay: rsyslogd or syslog-ng, reading TCP on 127.0.0.1:port. */
struct it_relay {
        const char *name;               /* "rsyslogd", "syslog-ng" */
        pid_t pid;                      /* 0 once stopped */
        int port;                       /* its TCP input */
        char dir[192];                  /* everything of its own */
        char log_path[256];             /* its stdout and stderr */
        char pid_path[256];             /* its pid file (gone after a clean stop) */
        char internal_path[256];        /* its own messages, when it writes them to a file */
        char work_path[256];            /* its work directory, if any: empty after a stop */
};

/* Starts rsyslogd -n with a config of its own: no system socket (imuxsock
 * off), an imtcp input on a free port whose ruleset forwards every message
 * with one omfwd action to 127.0.0.1:harkd_port over TCP, with the extra
 * action parameters action_options (e.g. template="..." TCP_Framing="...";
 * NULL: none). Returns once its input listens. */
void it_rsyslog_start(struct it_test *t, struct it_relay *r, int harkd_port, const char *action_options);

/* The directory tests/fetch-syslog-ng unpacked syslog-ng into:
 * $HARK_SYSLOG_NG, else "syslog-ng" beside $HARKD (the build directory).
 * Fails the test when syslog-ng is not there. */
const char *it_syslog_ng_root(void);

/* Starts the unpacked syslog-ng -F with a config of its own: a tcp source
 * on a free port (host names kept as sent, no DNS), logged to destination,
 * a syslog-ng destination driver, e.g.
 *   network("127.0.0.1" port(10001) transport("tcp"))
 * Returns once its source listens. */
void it_syslog_ng_start(struct it_test *t, struct it_relay *r, const char *destination);

/* Sends text to the relay's input over one TCP connection, then closes it. */
void it_relay_send(struct it_test *t, const struct it_relay *r, const char *text);

/* SIGTERM to the relay; asserts that it exits 0 within 10 s, removed its pid
 * file, left its work directory empty and wrote nothing to stderr, then
 * removes its directory. */
void it_relay_stop(struct it_test *t, struct it_relay *r);

/* Starts Python (it_require_python()) running script with the arguments
 * (up to a NULL), stdin from in_path (NULL: /dev/null), output to log_path;
 * kept in t. Returns its pid. */
pid_t it_python_spawn(struct it_test *t, const char *script, const char *in_path, const char *log_path, ...)
        __attribute__((sentinel));

/* Waits for a child from it_python_spawn(); asserts that it exited 0 within
 * timeout_ms and that its output (log_path) shows no Python exception. */
void it_python_wait(struct it_test *t, pid_t pid, const char *log_path, int timeout_ms);

/* The entries with SYSLOG_IDENTIFIER=identifier whose MESSAGE holds needle
 * (NULL: all), waiting up to 10 s for expected of them; asserts that exactly
 * expected came, printing them all otherwise. Journal order. */
void it_syslog_entries(const char *identifier, const char *needle, size_t expected, struct it_entries *out);

/* Asserts the fields of an entry harkd wrote for a syslog message from
 * 127.0.0.1. Each spec is one of
 *   "NAME=value"  the field is exactly value
 *   "NAME~glob"   the field matches the fnmatch(3) pattern
 *   "NAME"        the field is there
 *   "!NAME"       the field is absent
 * up to a NULL. Always checked besides, unless specs name the field:
 * REMOTE_ADDR=127.0.0.1, REMOTE_PORT and HARK_CONNECTION present, no
 * REMOTE_PID, HARK_TRUNCATED, HARK_INCOMPLETE, HARK_SYSLOG_ERROR; and every
 * SD_* field the entry has must be named in specs. On a mismatch prints the entry, every field. */
void it_assert_syslog_entry(const struct it_entries *e, size_t i, const char *const *specs);

/* Prints every field of every entry (journald's own "_" fields left out). */
void it_entries_print_all(const struct it_entries *e);

/* Asserts that entries [from, to) of e came over one connection: one
 * HARK_CONNECTION and REMOTE_PORT. */
void it_assert_one_connection(const struct it_entries *e, size_t from, size_t to);

/* With $HARK_IT_SHOW_JSON set: prints the journal entries matching matches
 * (up to a NULL) as `journalctl -o json` shows them, for a report; in the
 * epoll groups only. */
void it_show_json(const char *const *matches);

/* it_show_json() of the entries that share e's SYSLOG_IDENTIFIER,
 * REMOTE_PORT, HARK_CONNECTION and MESSAGE: e itself. */
void it_show_entry_json(const struct it_entry *e);

/* This machine's host name (gethostname(2)); with short, up to its first
 * '.' (what RFC 3164 senders send). */
const char *it_hostname(bool short_name);
