/* harkd as a daemon: idle timeout, drain on SIGTERM (also under load) and
 * reload on SIGHUP in every concurrency mode; then, once, config checking,
 * sd_notify, the missing journal, socket activation and IPv6. */
#include "support.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events.h"
#include "mode.h"
#include "server.h"

#define JOURNAL_TIMEOUT_MS 10000

static bool sequential(void) {
        return strcmp(it_mode, "sequential") == 0;
}

static const char *message_of(const struct it_entry *e) {
        const char *m = it_entry_field(e, "MESSAGE", NULL);

        return m ? m : "";
}

static void print_log_of(struct harkd *h) {
        char *log = harkd_log(h);

        fprintf(stderr, "harkd's stderr:\n%s\n", log);
        free(log);
}

static void assert_log(struct harkd *h, const char *needle, int count, int timeout_ms) {
        if (!harkd_wait_log(h, needle, count, timeout_ms)) {
                fprintf(stderr, "expected \"%s\" %d times in harkd's stderr within %d ms\n", needle, count, timeout_ms);
                print_log_of(h);
                fail();
        }
}

/* How many of harkd's log lines on stderr hold needle: where its own events
 * go when journald takes no datagram within 200 ms (a busy journald, as
 * under a sanitizer with other tests beside; see log.c). */
static size_t stderr_lines_with(const struct harkd *h, const char *needle) {
        char *text = it_read_file(h->stderr_path, NULL);
        size_t n = 0;

        for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
                n++;
        free(text);
        return n;
}

/* Waits for exactly count events of harkd's main process in the journal,
 * with that MESSAGE_ID (NULL: any) and needle in their MESSAGE; those
 * harkd had to write to stderr instead count too. */
static void assert_event(const struct harkd *h, const char *message_id, const char *needle, size_t count,
                         int timeout_ms) {
        char pid[32], id[64];
        const char *matches[3] = { harkd_pid_match(h, pid, sizeof(pid)), NULL, NULL };
        struct it_entries e;
        size_t found;

        if (message_id) {
                snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_id);
                matches[1] = id;
        }
        it_harkd_events(matches, needle, count, timeout_ms, &e);
        found = e.n;
        if (found < count && needle && found + stderr_lines_with(h, needle) == count) {
                fprintf(stderr, "%zu of %zu events with \"%s\" went to harkd's stderr (journald busy)\n",
                        count - found, count, needle);
                found = count;
        }
        if (found != count) {
                fprintf(stderr, "expected %zu events of harkd (%s, MESSAGE_ID=%s) with \"%s\"; got:\n", count, pid,
                        message_id ? message_id : "any", needle);
                it_entries_print(&e);
        }
        assert_int_equal(found, count);
        it_entries_free(&e);
}

/* ---- idle timeout ---------------------------------------------------------------- */

/* timeout = 1: a connection that keeps sending stays open past the timeout;
 * once idle for 1 s harkd logs its unterminated line and closes it, and
 * says so in its own log (MESSAGE_ID of "timed out"). */
static void test_idle_timeout(void **state) {
        static const char *const expected[] = { "tick 0", "tick 1", "tick 2", "tick 3", "partial line" };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .timeout = "1" });
        struct it_entries e;
        char port_match[64], conn_match[64], buffer[64];
        const char *matches[] = { "SYSLOG_IDENTIFIER=harkd", "MESSAGE_ID=" EVENT_CONN_TIMED_OUT, port_match,
                                  conn_match, NULL };
        int fd = it_test_connect(t, h->host, h->port);
        long long sent, closed;
        size_t length;

        for (int i = 0; i < 4; i++) {
                char tick[16];
                if (i > 0)
                        it_sleep_ms(400);
                snprintf(tick, sizeof(tick), "tick %d\n", i);
                assert_int_equal(it_send_str(fd, tick), 0);
        }
        /* 1.2 s after it opened: still open, as it never was idle for 1 s. */
        assert_false(it_readable(fd, 0));
        assert_int_equal(it_send_str(fd, "partial line"), 0);
        sent = it_now_ms();
        assert_int_equal(it_read_to_eof(fd, buffer, sizeof(buffer), &length, 4000), 0);
        closed = it_now_ms();
        if (closed - sent < 900 || closed - sent > 2500)
                fail_msg("harkd closed the idle connection after %lld ms, expected about 1000", closed - sent);

        it_journal_messages(h->identifier, 5, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, 5);
        snprintf(port_match, sizeof(port_match), "REMOTE_PORT=%d", it_local_port(fd));
        snprintf(conn_match, sizeof(conn_match), "HARK_CONNECTION=%s",
                 it_entry_field(&e.v[0], "HARK_CONNECTION", NULL));
        it_entries_free(&e);

        it_journal_collect(matches, 1, JOURNAL_TIMEOUT_MS, &e);
        if (e.n != 1)
                it_entries_print(&e);
        assert_int_equal(e.n, 1);
        assert_non_null(strstr(message_of(&e.v[0]), "timed out"));
        it_entries_free(&e);

        /* Nothing else came of it: harkd serves on. */
        it_send_and_confirm(t, h, "after\n", 1);
        it_assert_harkd_stops(h, 5000);
}

/* Sends line and waits until harkd logged it (count messages of h then):
 * from then on harkd serves the connection, in fork mode in a process of
 * its own, which harkd_signal_all() reaches too. */
static void send_and_await(struct harkd *h, int fd, const char *line, size_t count) {
        struct it_entries e;

        assert_int_equal(it_send_str(fd, line), 0);
        assert_int_equal(it_journal_messages(h->identifier, count, JOURNAL_TIMEOUT_MS, &e), (int) count);
        it_entries_free(&e);
}

/* Freezes all of harkd (SIGSTOP) for frozen_ms, sends text and half-closes
 * meanwhile, then lets harkd go on: it wakes up with the bytes and the FIN
 * already queued, past any deadline that fell into the pause. */
static void queue_while_frozen(struct harkd *h, int fd, const char *text, int frozen_ms) {
        assert_int_equal(harkd_signal_all(h, SIGSTOP), 0);
        it_sleep_ms(frozen_ms);
        assert_int_equal(it_send_str(fd, text), 0);
        assert_int_equal(shutdown(fd, SHUT_WR), 0);
        assert_int_equal(harkd_signal_all(h, SIGCONT), 0);
}

/* What was queued when the idle deadline passed is still read, logged and
 * confirmed: harkd (timeout = 1) is frozen for 1.5 s after "a", the client
 * sends "b\nc" and half-closes meanwhile; harkd wakes past the deadline with
 * all of it waiting and must answer "OK 3", not close the connection as idle. */
static void test_idle_deadline_reads_what_is_queued(void **state) {
        static const char *const expected[] = { "a", "b", "c" };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .timeout = "1" });
        int fd = it_test_connect(t, h->host, h->port);
        struct it_entries e;
        uint64_t confirmed;

        send_and_await(h, fd, "a\n", 1);
        queue_while_frozen(h, fd, "b\nc", 1500);
        assert_int_equal(it_read_ok(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 3);
        it_journal_messages(h->identifier, 3, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, 3);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* ---- SIGTERM ------------------------------------------------------------------------ */

/* SIGTERM while a client holds "complete\npartial" open: harkd stops
 * accepting, gives the connection DRAIN_TIMEOUT_MS, then logs both
 * messages and exits 0. */
static void test_drain_partial(void **state) {
        static const char *const expected[] = { "complete", "partial" };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        struct it_entries e;
        char buffer[64];
        size_t length;
        long long start, elapsed;
        int fd = it_test_connect(t, h->host, h->port), late, status, r;

        assert_int_equal(it_send_str(fd, "complete\npartial"), 0);
        assert_int_equal(it_journal_messages(h->identifier, 1, JOURNAL_TIMEOUT_MS, &e), 1);
        it_entries_free(&e);

        start = it_now_ms();
        assert_int_equal(harkd_signal(h, SIGTERM), 0);
        assert_event(h, EVENT_STOPPING, "Stopping", 1, 3000);
        /* No longer accepting: a late client is never served. */
        late = it_connect(h->host, h->port, 1000);
        if (late >= 0) {
                it_test_keep_fd(t, late);
                assert_int_equal(it_send_str(late, "late\n"), 0);
                shutdown(late, SHUT_WR);
        }

        status = harkd_wait(h, DRAIN_TIMEOUT_MS + 3000);
        elapsed = it_now_ms() - start;
        it_assert_exited_0(status, "harkd");
        if (elapsed < DRAIN_TIMEOUT_MS - 500)
                fail_msg("harkd exited %lld ms after SIGTERM; the open connection should get %d ms", elapsed,
                         DRAIN_TIMEOUT_MS);
        assert_true(harkd_wait_notify(h, "STOPPING=1", 0, NULL, 0) == 0);

        it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, 2);
        it_entries_free(&e);

        /* The client's connection ended with harkd. */
        r = it_read_to_eof(fd, buffer, sizeof(buffer), &length, 2000);
        assert_true(r == 0 || r == -ECONNRESET);
        if (late >= 0) {
                r = it_read_to_eof(late, buffer, sizeof(buffer), &length, 2000);
                assert_true(r == 0 || r == -ECONNRESET);
                assert_null(strstr(buffer, "OK"));
        }
        assert_false(harkd_sanitizer_report(h));
}

/* SIGTERM while a client is still sending: the connection is served to its
 * end (its "OK 3" counts what came after the signal) and harkd exits as soon
 * as it is done, well before the drain bound. */
static void test_drain_finish(void **state) {
        static const char *const expected[] = { "one", "two", "part" };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        struct it_entries e;
        uint64_t confirmed;
        long long start;
        int fd = it_test_connect(t, h->host, h->port), status;

        assert_int_equal(it_send_str(fd, "one\n"), 0);
        assert_int_equal(it_journal_messages(h->identifier, 1, JOURNAL_TIMEOUT_MS, &e), 1);
        it_entries_free(&e);

        start = it_now_ms();
        assert_int_equal(harkd_signal(h, SIGTERM), 0);
        assert_event(h, EVENT_STOPPING, "Stopping", 1, 3000);
        assert_int_equal(it_send_str(fd, "two\npart"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 3);

        status = harkd_wait(h, DRAIN_TIMEOUT_MS + 3000);
        it_assert_exited_0(status, "harkd");
        if (it_now_ms() - start > DRAIN_TIMEOUT_MS - 1000)
                fail_msg("harkd took %lld ms to exit although its last connection had ended",
                         it_now_ms() - start);
        it_journal_messages(h->identifier, 3, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, 3);
        it_entries_free(&e);
        assert_false(harkd_sanitizer_report(h));
}

/* What was queued when the drain deadline passed is still read, logged and
 * confirmed: SIGTERM to all of harkd (in fork mode the connection's process
 * too, so that its deadline starts now as well), then harkd is frozen past
 * DRAIN_TIMEOUT_MS (not past the grace after it) while the client sends
 * "b\nc" and half-closes; harkd must answer "OK 3" and exit 0. */
static void test_drain_deadline_reads_what_is_queued(void **state) {
        static const char *const expected[] = { "a", "b", "c" };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        int fd = it_test_connect(t, h->host, h->port);
        struct it_entries e;
        uint64_t confirmed;
        long long deadline;

        send_and_await(h, fd, "a\n", 1);
        deadline = it_now_ms() + DRAIN_TIMEOUT_MS;
        assert_int_equal(harkd_signal_all(h, SIGTERM), 0);
        assert_event(h, EVENT_STOPPING, "Stopping", 1, 3000);
        /* Awake 0.3 s past the deadline, well within the grace after it. */
        queue_while_frozen(h, fd, "b\nc", it_ms_left(deadline + 300));
        assert_int_equal(it_read_ok(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 3);
        it_assert_exited_0(harkd_wait(h, DRAIN_GRACE_MS + 3000), "harkd");
        assert_false(harkd_sanitizer_report(h));
        it_journal_messages(h->identifier, 3, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, 3);
        it_entries_free(&e);
}

#define LOAD_CLIENTS 6
#define LOAD_LINES 3
#define LOAD_MAX_CONNECTIONS 4096

struct load_client {
        const struct harkd *h;
        int index;
        atomic_bool *stop;
        /* confirmed[seq]: how many lines of connection seq harkd confirmed (-1: none). */
        int confirmed[LOAD_MAX_CONNECTIONS];
        int connections;
};

/* Reads "OK <n>\n" and the end of stream; -1 when the answer is anything else. */
static int read_ok(int fd) {
        char reply[64], *end;
        size_t length;
        long n;

        if (it_read_to_eof(fd, reply, sizeof(reply), &length, 3000) != 0 || strncmp(reply, "OK ", 3) != 0)
                return -1;
        n = strtol(reply + 3, &end, 10);
        return end > reply + 3 && strcmp(end, "\n") == 0 ? (int) n : -1;
}

static void *load_thread(void *arg) {
        struct load_client *c = arg;

        for (int seq = 0; seq < LOAD_MAX_CONNECTIONS && !atomic_load(c->stop); seq++) {
                char text[LOAD_LINES * 48] = "";
                int fd = it_connect(c->h->host, c->h->port, 1000);

                c->confirmed[seq] = -1;
                c->connections = seq + 1;
                if (fd < 0) {
                        it_sleep_ms(2);
                        continue;
                }
                for (int k = 0; k < LOAD_LINES; k++)
                        snprintf(text + strlen(text), sizeof(text) - strlen(text), "load %d %d %d\n", c->index, seq, k);
                if (it_send_str(fd, text) == 0 && shutdown(fd, SHUT_WR) == 0)
                        c->confirmed[seq] = read_ok(fd);
                close(fd);
        }
        return NULL;
}

/* SIGTERM while clients keep connecting and finishing: harkd exits 0 in
 * time; a connection that got an answer was read to its end, so all its
 * LOAD_LINES lines must be in the journal, once, and its OK must count them
 * all (nothing received is dropped, also while stopping). */
static void test_stop_under_load(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        static struct load_client clients[LOAD_CLIENTS];
        pthread_t threads[LOAD_CLIENTS];
        atomic_bool stop = false;
        struct it_entries e;
        size_t confirmed_lines = 0, problems = 0;
        int confirmed_connections = 0, status;
        static bool seen[LOAD_CLIENTS][LOAD_MAX_CONNECTIONS][LOAD_LINES];

        memset(seen, 0, sizeof(seen));
        for (int i = 0; i < LOAD_CLIENTS; i++) {
                memset(&clients[i], 0, sizeof(clients[i]));
                clients[i].h = h;
                clients[i].index = i;
                clients[i].stop = &stop;
                assert_int_equal(pthread_create(&threads[i], NULL, load_thread, &clients[i]), 0);
        }
        it_sleep_ms(300);
        assert_int_equal(harkd_signal(h, SIGTERM), 0);
        status = harkd_wait(h, DRAIN_TIMEOUT_MS + 3000);
        atomic_store(&stop, true);
        for (int i = 0; i < LOAD_CLIENTS; i++)
                pthread_join(threads[i], NULL);
        it_assert_exited_0(status, "harkd");
        assert_false(harkd_sanitizer_report(h));

        for (int i = 0; i < LOAD_CLIENTS; i++)
                for (int seq = 0; seq < clients[i].connections; seq++)
                        if (clients[i].confirmed[seq] >= 0) {
                                confirmed_lines += LOAD_LINES;
                                confirmed_connections++;
                        }
        /* The load was real: connections were served before the stop. */
        assert_true(confirmed_connections > LOAD_CLIENTS);

        it_journal_messages(h->identifier, confirmed_lines, JOURNAL_TIMEOUT_MS, &e);
        for (size_t i = 0; i < e.n; i++) {
                const char *m = message_of(&e.v[i]);
                int c, seq, k;

                if (sscanf(m, "load %d %d %d", &c, &seq, &k) != 3 || c < 0 || c >= LOAD_CLIENTS || seq < 0 ||
                    seq >= LOAD_MAX_CONNECTIONS || k < 0 || k >= LOAD_LINES) {
                        if (problems++ < 10)
                                fprintf(stderr, "unexpected message \"%s\"\n", m);
                        continue;
                }
                if (seen[c][seq][k] && problems++ < 10)
                        fprintf(stderr, "\"%s\" logged twice\n", m);
                seen[c][seq][k] = true;
        }
        for (int c = 0; c < LOAD_CLIENTS; c++)
                for (int seq = 0; seq < clients[c].connections; seq++) {
                        int answered = clients[c].confirmed[seq], logged = 0;

                        if (answered < 0)
                                continue;
                        for (int k = 0; k < LOAD_LINES; k++)
                                logged += seen[c][seq][k];
                        if ((answered != LOAD_LINES || logged != LOAD_LINES) && problems++ < 10)
                                fprintf(stderr, "client %d connection %d: sent %d lines, harkd answered OK %d, "
                                        "%d of them in the journal (%s%s%s)\n", c, seq, LOAD_LINES, answered, logged,
                                        seen[c][seq][0] ? "0" : "-", seen[c][seq][1] ? "1" : "-",
                                        seen[c][seq][2] ? "2" : "-");
                }
        if (problems) {
                /* harkd says why in its own log. */
                const char *failed[] = { "MESSAGE_ID=" EVENT_DELIVERY_FAILED, NULL };
                it_harkd_events(failed, NULL, 0, 0, &e);
                it_entries_print(&e);
                it_entries_free(&e);
        }
        it_entries_free(&e);
        assert_int_equal(problems, 0);
}

/* ---- SIGHUP ------------------------------------------------------------------------- */

/* Rewrites the config, sends SIGHUP, waits for the count-th event naming
 * the outcome (a reload has its MESSAGE_ID, a failed one is an error line)
 * and for RELOADING=1 ... READY=1. */
static void reload(struct harkd *h, const struct harkd_options *o, bool good, size_t count) {
        if (o)
                assert_int_equal(harkd_write_config(h, o), 0);
        assert_int_equal(harkd_signal(h, SIGHUP), 0);
        if (good)
                assert_event(h, EVENT_RELOADED, "Reloaded configuration", count, 3000);
        else
                assert_event(h, NULL, "Failed to reload configuration, keeping the running one", count, 3000);
        assert_int_equal(harkd_wait_notify(h, "RELOADING=1", 3000, NULL, 0), 0);
        assert_int_equal(harkd_wait_notify(h, "READY=1", 3000, NULL, 0), 0);
}

static int line_count(const char *path) {
        char *text = it_read_file(path, NULL);
        int n = it_count(text, "\n");

        free(text);
        return n;
}

static void assert_messages_of(const char *identifier, const char *const *expected, size_t n) {
        struct it_entries e;

        it_journal_messages(identifier, n, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, n);
        it_entries_free(&e);
}

/* SIGHUP re-reads the file: new connections get the new identifier; a broken
 * file keeps the running config (and says why); a changed port is reported,
 * not applied. */
static void test_reload(void **state) {
        struct it_test *t = *state;
        struct harkd_options o = { 0 };
        struct harkd *h = it_test_harkd(t, 0, &o);
        char first[64], second[64], third[64], needle[320];
        int old_port = h->port, new_port;

        snprintf(first, sizeof(first), "%s", h->identifier);
        it_send_and_confirm(t, h, "before\n", 1);

        it_unique_identifier(second, sizeof(second));
        o.identifier = second;
        reload(h, &o, true, 1);
        it_send_and_confirm(t, h, "after\n", 1);
        assert_messages_of(second, (const char *const[]) { "after" }, 1);
        assert_messages_of(first, (const char *const[]) { "before" }, 1);

        /* Broken: an unknown setting, on the last line of the file. */
        o.extra = "identifier_typo = \"x\";";
        reload(h, &o, false, 1);
        snprintf(needle, sizeof(needle), "%s:%d: identifier_typo:", h->config_path, line_count(h->config_path));
        assert_event(h, NULL, needle, 1, 1000);
        /* The identifier in the broken file differs: proof nothing was taken from it. */
        it_send_and_confirm(t, h, "still\n", 1);
        assert_messages_of(second, (const char *const[]) { "after", "still" }, 2);

        /* A new port takes a restart: reported, the old one keeps serving. */
        new_port = it_free_port(AF_INET);
        it_unique_identifier(third, sizeof(third));
        o = (struct harkd_options) { .identifier = third, .port = new_port };
        reload(h, &o, true, 2);
        assert_event(h, NULL, "Setting 'port' changed", 1, 1000);
        h->port = old_port;
        it_send_and_confirm(t, h, "same port\n", 1);
        assert_messages_of(third, (const char *const[]) { "same port" }, 1);
        assert_int_equal(it_connect("127.0.0.1", new_port, 1000), -ECONNREFUSED);
        it_assert_harkd_stops(h, 5000);
}

/* SIGHUP while a connection is open: the reload happens at once, new
 * connections get the new settings, the open one keeps those it opened with. */
static void test_reload_while_connected(void **state) {
        struct it_test *t = *state;
        struct harkd_options o = { 0 };
        struct harkd *h = it_test_harkd(t, 0, &o);
        char first[64], second[64];
        struct it_entries e;
        uint64_t confirmed;
        int fd = it_test_connect(t, h->host, h->port);

        snprintf(first, sizeof(first), "%s", h->identifier);
        assert_int_equal(it_send_str(fd, "old 1\n"), 0);
        assert_int_equal(it_journal_messages(first, 1, JOURNAL_TIMEOUT_MS, &e), 1);
        it_entries_free(&e);

        it_unique_identifier(second, sizeof(second));
        o.identifier = second;
        reload(h, &o, true, 1);

        /* sequential: the new connection waits until the open one ends. */
        if (!sequential())
                it_send_and_confirm(t, h, "new\n", 1);
        assert_int_equal(it_send_str(fd, "old 2\n"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 2);
        if (sequential())
                it_send_and_confirm(t, h, "new\n", 1);
        assert_messages_of(second, (const char *const[]) { "new" }, 1);
        assert_messages_of(first, (const char *const[]) { "old 1", "old 2" }, 2);
        it_assert_harkd_stops(h, 5000);
}

/* A reloaded timeout applies to connections already open: one opened under
 * timeout = 10 is closed about 0.5 s after a reload to timeout = 0.5, its
 * partial line logged. */
static void test_reload_timeout(void **state) {
        struct it_test *t = *state;
        struct harkd_options o = { .timeout = "10" };
        struct harkd *h = it_test_harkd(t, 0, &o);
        struct it_entries e;
        char buffer[64];
        size_t length;
        long long start;
        int fd = it_test_connect(t, h->host, h->port);

        assert_int_equal(it_send_str(fd, "whole\npartial"), 0);
        assert_int_equal(it_journal_messages(h->identifier, 1, JOURNAL_TIMEOUT_MS, &e), 1);
        it_entries_free(&e);
        o.timeout = "0.5";
        start = it_now_ms();
        reload(h, &o, true, 1);
        if (it_read_to_eof(fd, buffer, sizeof(buffer), &length, 3000) != 0)
                fail_msg("the connection, idle for longer than the new timeout (0.5 s), is still open "
                         "%lld ms after the reload", it_now_ms() - start);
        if (it_now_ms() - start > 2500)
                fail_msg("closed %lld ms after the reload to timeout = 0.5", it_now_ms() - start);
        it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, (const char *const[]) { "whole", "partial" }, 2);
        it_entries_free(&e);
        {
                char port_match[64];
                const char *matches[] = { "MESSAGE_ID=" EVENT_CONN_TIMED_OUT, port_match, NULL };

                snprintf(port_match, sizeof(port_match), "REMOTE_PORT=%d", it_local_port(fd));
                assert_int_equal(it_harkd_events(matches, "timed out", 1, JOURNAL_TIMEOUT_MS, NULL), 1);
        }
        it_assert_harkd_stops(h, 5000);
}

/* A file of size bytes: one comment line. */
static void write_comment_file(const char *path, size_t size) {
        FILE *f = fopen(path, "we");
        char *text = malloc(size);

        assert_non_null(f);
        assert_non_null(text);
        memset(text, 'x', size);
        text[0] = '#';
        text[size - 1] = '\n';
        assert_int_equal(fwrite(text, 1, size, f), size);
        assert_int_equal(fclose(f), 0);
        free(text);
}

/* SIGHUP onto an @include of what is no config file: a directory made
 * libconfig exit() the daemon, a FIFO blocked the reload and SIGTERM behind
 * it, a 10 MiB comment line took 47 s while thread, pool and fork accepted
 * nothing. Each is now a failed reload naming the file and line, at once,
 * and harkd goes on serving with the running config and stops on SIGTERM. */
static void test_reload_refuses_what_is_not_a_config_file(void **state) {
        struct it_test *t = *state;
        struct harkd_options o = { 0 };
        struct harkd *h = it_test_harkd(t, 0, &o);
        char dir[256], fifo[256], big[256], extra[320], needle[1024];
        const struct {
                const char *path;
                const char *reason;
        } cases[] = {
                { dir, "Is a directory" },
                { fifo, "not a regular file" },
                { "/dev/zero", "not a regular file" },
                { big, "more than 1048576 bytes with every included file" },
        };

        it_tmp_path(dir, sizeof(dir), "include-dir", NULL);
        assert_int_equal(mkdir(dir, 0700), 0);  /* removed with the temp dir */
        it_tmp_path(fifo, sizeof(fifo), "include-fifo", NULL);
        assert_int_equal(mkfifo(it_test_keep_file(t, fifo), 0600), 0);
        it_tmp_path(big, sizeof(big), "include-big", ".conf");
        write_comment_file(it_test_keep_file(t, big), 10 * 1024 * 1024);

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                long long start = it_now_ms();

                snprintf(extra, sizeof(extra), "@include \"%s\"", cases[i].path);
                o.extra = extra;
                reload(h, &o, false, i + 1);
                if (it_now_ms() - start > 2500)
                        fail_msg("the reload onto %s took %lld ms", cases[i].path, it_now_ms() - start);
                snprintf(needle, sizeof(needle), "%s:%d: @include \"%s\": %s", h->config_path,
                         line_count(h->config_path), cases[i].path, cases[i].reason);
                assert_event(h, NULL, needle, 1, 1000);
        }
        it_send_and_confirm(t, h, "still serving\n", 1);
        assert_messages_of(h->identifier, (const char *const[]) { "still serving" }, 1);
        it_assert_harkd_stops(h, 5000);
}

/* ---- once: configuration check ------------------------------------------------------ */

static int run_harkd(const char *const *args, struct it_proc *p) {
        char *argv[8] = { (char *) it_harkd_path() };
        size_t n = 1;

        for (size_t i = 0; args[i] && n < 7; i++)
                argv[n++] = (char *) args[i];
        argv[n] = NULL;
        return it_run(argv, NULL, 0, 10000, p);
}

static void expect_bad_config(struct it_test *t, const char *text, const char *where) {
        char path[256], needle[384];
        struct it_proc p;

        it_tmp_path(path, sizeof(path), "bad", ".conf");
        it_test_keep_file(t, path);
        assert_int_equal(it_write_file(path, text), 0);
        snprintf(needle, sizeof(needle), "%s:%s", path, where);

        assert_int_equal(run_harkd((const char *const[]) { "-t", "-c", path, NULL }, &p), 0);
        if (it_exit_code(&p) != 1 || !strstr(p.err, needle))
                fprintf(stderr, "harkd -t on:\n%s\nexpected exit 1 and \"%s\"; got exit %d, stderr: %s\n", text,
                        needle, it_exit_code(&p), p.err);
        assert_int_equal(it_exit_code(&p), 1);
        assert_non_null(strstr(p.err, needle));
        it_proc_free(&p);

        /* Without -t, harkd does not start on it either. */
        assert_int_equal(run_harkd((const char *const[]) { "-c", path, NULL }, &p), 0);
        assert_int_equal(it_exit_code(&p), 1);
        assert_non_null(strstr(p.err, needle));
        it_proc_free(&p);
}

static int listening_socket(struct it_test *t, int *port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        it_test_keep_fd(t, fd);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 16), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        *port = ntohs(sa.sin_port);
        return fd;
}

/* harkd -t: 0 for a good file without binding anything, 1 and
 * "FILE:LINE: KEY: ..." for a bad one; harkd without -t refuses the same. */
static void test_config_check(void **state) {
        struct it_test *t = *state;
        char good[256], text[1024], needle[320];
        struct it_proc p;
        int port;

        listening_socket(t, &port);
        it_tmp_path(good, sizeof(good), "good", ".conf");
        it_test_keep_file(t, good);
        snprintf(text, sizeof(text),
                 "# every setting\n"
                 "host = \"127.0.0.1\";\nport = %d;\nbacklog = 16;\ntimeout = 2.5;\n"
                 "concurrency = \"pool\";\nworkers = 3;\nmax_connections = 10;\n"
                 "max_connections_per_source = 2;\nmax_message_size = 100;\n"
                 "identifier = \"checked\";\npriority = 3;\nlog_target = \"stderr\";\n", port);
        assert_int_equal(it_write_file(good, text), 0);

        /* Valid, and checked without binding: the port is taken by us. */
        assert_int_equal(run_harkd((const char *const[]) { "-t", "-c", good, NULL }, &p), 0);
        if (it_exit_code(&p) != 0)
                fprintf(stderr, "stderr: %s\n", p.err);
        assert_int_equal(it_exit_code(&p), 0);
        assert_non_null(strstr(p.out, "valid"));
        it_proc_free(&p);
        assert_int_equal(run_harkd((const char *const[]) { "--test-config", "--config", good, NULL }, &p), 0);
        assert_int_equal(it_exit_code(&p), 0);
        it_proc_free(&p);

        /* Started for real on it, harkd fails to bind and says where. */
        assert_int_equal(run_harkd((const char *const[]) { "-c", good, NULL }, &p), 0);
        assert_int_equal(it_exit_code(&p), 1);
        snprintf(needle, sizeof(needle), "127.0.0.1:%d", port);
        if (!strstr(p.err, needle) || !strstr(p.err, "Address already in use"))
                fprintf(stderr, "stderr: %s\n", p.err);
        assert_non_null(strstr(p.err, needle));
        assert_non_null(strstr(p.err, "Address already in use"));
        it_proc_free(&p);

        expect_bad_config(t, "port = 70000;\n", "1: port:");
        expect_bad_config(t, "# comment\nidentifier = \"x\";\nbogus_key = 1;\n", "3: bogus_key:");
        expect_bad_config(t, "\ntimeout = \"soon\";\n", "2: timeout:");
        expect_bad_config(t, "timeout = -1;\n", "1: timeout:");
        expect_bad_config(t, "concurrency = \"forking\";\n", "1: concurrency:");
        expect_bad_config(t, "max_message_size = 0;\n", "1: max_message_size:");
        expect_bad_config(t, "priority = \"loud\";\n", "1: priority:");
        expect_bad_config(t, "priority = 8;\n", "1: priority:");
        expect_bad_config(t, "identifier = \"\";\n", "1: identifier:");
        expect_bad_config(t, "log_target = \"syslog\";\n", "1: log_target:");
        expect_bad_config(t, "max_connections = 0;\n", "1: max_connections:");
        expect_bad_config(t, "port = 10001;\nport = ;\n", "2:");     /* a syntax error */

        /* A missing file: exit 1, naming it. */
        snprintf(needle, sizeof(needle), "%s/does-not-exist.conf", it_tmpdir());
        assert_int_equal(run_harkd((const char *const[]) { "-t", "-c", needle, NULL }, &p), 0);
        assert_int_equal(it_exit_code(&p), 1);
        assert_non_null(strstr(p.err, needle));
        it_proc_free(&p);
}

/* harkd -t (and a start) on what is no config file, or on values that
 * passed before and then failed at start or were logged other than written:
 * exit 1 at once, naming the file and line. */
static void test_config_check_refuses_what_is_not_a_config_file(void **state) {
        struct it_test *t = *state;
        char fifo[256], dir[256], text[600], where[600];
        const char *const mains[] = { fifo, "/dev/zero" };
        struct it_proc p;

        it_tmp_path(fifo, sizeof(fifo), "config-fifo", NULL);
        assert_int_equal(mkfifo(it_test_keep_file(t, fifo), 0600), 0);
        it_tmp_path(dir, sizeof(dir), "config-dir", NULL);
        assert_int_equal(mkdir(dir, 0700), 0);  /* removed with the temp dir */

        for (size_t i = 0; i < sizeof(mains) / sizeof(mains[0]); i++) {
                long long start = it_now_ms();

                snprintf(where, sizeof(where), "%s: not a regular file", mains[i]);
                assert_int_equal(run_harkd((const char *const[]) { "-t", "-c", mains[i], NULL }, &p), 0);
                if (it_exit_code(&p) != 1 || !strstr(p.err, where))
                        fprintf(stderr, "harkd -t -c %s: exit %d after %lld ms, stderr: %s\n", mains[i],
                                it_exit_code(&p), it_now_ms() - start, p.err);
                assert_int_equal(it_exit_code(&p), 1);
                assert_non_null(strstr(p.err, where));
                it_proc_free(&p);
        }

        snprintf(text, sizeof(text), "port = 10001;\n@include \"%s\"\n", dir);
        snprintf(where, sizeof(where), "2: @include \"%s\": Is a directory", dir);
        expect_bad_config(t, text, where);
        snprintf(text, sizeof(text), "port = 10001;\n\n@include \"%s\"\n", fifo);
        snprintf(where, sizeof(where), "3: @include \"%s\": not a regular file", fifo);
        expect_bad_config(t, text, where);

        expect_bad_config(t, "identifier = \"a\\x00b\";\n", "1: identifier: must not contain control characters");
        expect_bad_config(t, "priority = \"+3\";\n", "1: priority: \"+3\" is not a syslog level");
        expect_bad_config(t, "priority = \" 3\";\n", "1: priority: \" 3\" is not a syslog level");
        expect_bad_config(t, "priority = \"07\";\n", "1: priority: \"07\" is not a syslog level");
        expect_bad_config(t, "port = 1;\nhost = \"127.0.0.1 \";\n",
                          "2: host: \"127.0.0.1 \" is not an IP address or a host name");
        expect_bad_config(t, "port = 04294967297;\n", "1: port: 04294967297 does not fit in a 32-bit integer");
}

static bool resolves(const char *name) {
        struct addrinfo *ai = NULL;
        bool found = getaddrinfo(name, NULL, NULL, &ai) == 0;

        if (ai)
                freeaddrinfo(ai);
        return found;
}

/* harkd -t resolves host as the listener will (a name that does not
 * resolve passed -t and then failed at start); loading alone only checks
 * its form, so a reload never waits on DNS. */
static void test_config_check_resolves_host(void **state) {
        struct it_test *t = *state;
        char path[256];
        struct it_proc p;

        it_tmp_path(path, sizeof(path), "unresolvable", ".conf");
        it_test_keep_file(t, path);
        assert_int_equal(it_write_file(path, "port = 10001;\nhost = \"no-such-host.invalid\";\n"), 0);
        assert_int_equal(run_harkd((const char *const[]) { "-t", "-c", path, NULL }, &p), 0);
        if (it_exit_code(&p) != 1 || !strstr(p.err, ":2: host: \"no-such-host.invalid\" does not resolve: "))
                fprintf(stderr, "harkd -t: exit %d, stderr: %s\n", it_exit_code(&p), p.err);
        assert_int_equal(it_exit_code(&p), 1);
        assert_non_null(strstr(p.err, path));
        assert_non_null(strstr(p.err, ":2: host: \"no-such-host.invalid\" does not resolve: "));
        it_proc_free(&p);

        /* A name that resolves here passes (a minimal root may lack the
         * /etc/hosts that makes "localhost" one). */
        if (!resolves("localhost"))
                return;
        assert_int_equal(it_write_file(path, "port = 10001;\nhost = \"localhost\";\n"), 0);
        assert_int_equal(run_harkd((const char *const[]) { "-t", "-c", path, NULL }, &p), 0);
        assert_int_equal(it_exit_code(&p), 0);
        it_proc_free(&p);
}

/* ---- once: sd_notify --------------------------------------------------------------- */

/* READY=1 (harkd_start waits for it), STATUS= with counters, WATCHDOG=1
 * when WatchdogSec= is set, STOPPING=1 on SIGTERM. */
/* A service manager that stops reading harkd's notify socket (its queue
 * holds 10 datagrams here) must not stop harkd: 12 reloads send 24 state
 * changes into it, and harkd goes on reloading, serving and stops in time. */
static void test_notify_socket_not_read(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .mode = "epoll" });
        long long start;

        /* From here on nobody reads h's notify socket. */
        for (size_t i = 1; i <= 12; i++) {
                assert_int_equal(harkd_signal(h, SIGHUP), 0);
                assert_event(h, EVENT_RELOADED, "Reloaded configuration", i, 5000);
        }
        it_send_and_confirm(t, h, "served with the manager deaf\n", 1);
        start = it_now_ms();
        it_assert_harkd_stops(h, 3000);
        print_message("stopped %lld ms after SIGTERM\n", it_now_ms() - start);
}

static void test_notify(void **state) {
        static const char *const env[] = { "WATCHDOG_USEC=200000", NULL };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .mode = "epoll", .env = env });
        char status[512];
        long long start = it_now_ms();

        assert_int_equal(harkd_wait_notify(h, "WATCHDOG=1", 1000, NULL, 0), 0);
        assert_int_equal(harkd_wait_notify(h, "WATCHDOG=1", 1000, NULL, 0), 0);
        assert_true(it_now_ms() - start < 1000);
        it_send_and_confirm(t, h, "counted\n", 1);
        /* The next STATUS= (every few seconds) counts it. */
        assert_int_equal(harkd_wait_notify(h, "STATUS=*1 messages logged*", 5000, status, sizeof(status)), 0);
        assert_non_null(strstr(status, "1 accepted"));
        it_assert_harkd_stops(h, 5000);
        assert_int_equal(harkd_wait_notify(h, "STOPPING=1", 0, NULL, 0), 0);
}

/* ---- once: no journal ---------------------------------------------------------------- */

/* Without /run/systemd/journal/socket nothing reaches a journal: harkd must
 * not confirm (OK 0, hark exits 75) and must say why. */
static void test_no_journal(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .no_journal = true, .log_target = "auto" });
        struct it_entries e;
        struct it_proc p;
        char port[16];
        char *argv[] = { (char *) it_hark_path(), (char *) "-H", (char *) "127.0.0.1", (char *) "-p", port,
                         (char *) "lost", NULL };

        it_send_and_confirm(t, h, "first\nsecond\n", 0);
        snprintf(port, sizeof(port), "%d", h->port);
        assert_int_equal(it_run(argv, NULL, 0, 10000, &p), 0);
        if (it_exit_code(&p) != 75)
                fprintf(stderr, "hark: %s\n", p.err);
        assert_int_equal(it_exit_code(&p), 75);
        assert_non_null(strstr(p.err, "confirmed 0 of 1"));
        it_proc_free(&p);

        assert_log(h, "No journal at /run/systemd/journal/socket", 1, 1000);
        assert_int_equal(it_journal_messages(h->identifier, 0, 0, &e), 0);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* ---- once: socket activation ----------------------------------------------------------- */

static const char *socket_activate_path(void) {
        static const char *const candidates[] = { "/usr/bin/systemd-socket-activate",
                                                  "/bin/systemd-socket-activate",
                                                  "/usr/local/bin/systemd-socket-activate" };

        for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
                if (access(candidates[i], X_OK) == 0)
                        return candidates[i];
        return NULL;
}

/* Starts harkd under systemd-socket-activate listening on listen[] (with
 * --accept when accept), its config naming another port, and waits until
 * the sockets are bound. h->pid is systemd-socket-activate, which becomes
 * harkd on the first connection unless accept. */
static void start_activated(struct it_test *t, struct harkd *h, const char *const *listen, bool accept) {
        static const char *const passed[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS" };
        char notify[128], ubsan[256], pass[3][256], listen_args[4][128];
        char *argv[32];
        size_t n = 0, n_listen = 0;
        const char *tool = socket_activate_path();
        char *log;

        if (!tool) {
                print_message("systemd-socket-activate not found (package systemd); skipping\n");
                skip();
        }
        it_tmp_path(h->stderr_path, sizeof(h->stderr_path), "activated", ".log");
        h->notify_fd = it_notify_socket(h->notify_name, sizeof(h->notify_name));
        assert_true(h->notify_fd >= 0);
        /* The config names a port nobody listens on: harkd must use the passed sockets. */
        assert_int_equal(harkd_write_config(h, &(struct harkd_options) { .port = it_free_port(AF_INET) }), 0);

        argv[n++] = (char *) tool;
        if (accept)
                argv[n++] = (char *) "--accept";
        for (; listen[n_listen]; n_listen++) {
                snprintf(listen_args[n_listen], sizeof(listen_args[0]), "--listen=%s", listen[n_listen]);
                argv[n++] = listen_args[n_listen];
        }
        /* It passes on only the environment it is told to. */
        snprintf(notify, sizeof(notify), "--setenv=NOTIFY_SOCKET=@%s", h->notify_name);
        argv[n++] = notify;
        snprintf(ubsan, sizeof(ubsan), "--setenv=UBSAN_OPTIONS=%s",
                 getenv("UBSAN_OPTIONS") ? getenv("UBSAN_OPTIONS") : "halt_on_error=1:print_stacktrace=1");
        argv[n++] = ubsan;
        for (size_t i = 0; i < 3; i++)
                if (getenv(passed[i])) {
                        snprintf(pass[i], sizeof(pass[i]), "--setenv=%s=%s", passed[i], getenv(passed[i]));
                        argv[n++] = pass[i];
                }
        argv[n++] = (char *) it_harkd_path();
        argv[n++] = (char *) "-c";
        argv[n++] = h->config_path;
        argv[n] = NULL;
        h->pid = it_spawn(argv, NULL, h->stderr_path, false);
        assert_true(h->pid > 0);
        if (!harkd_wait_log(h, "Listening on", (int) n_listen, 5000)) {
                log = harkd_log(h);
                fprintf(stderr, "systemd-socket-activate did not listen:\n%s\n", log);
                free(log);
                fail();
        }
        (void) t;
}

static void assert_tcp_entry(const struct it_entry *e, const char *message, int port) {
        char port_text[16];

        snprintf(port_text, sizeof(port_text), "%d", port);
        it_assert_field(e, "MESSAGE", message);
        it_assert_field(e, "REMOTE_ADDR", "127.0.0.1");
        it_assert_field(e, "REMOTE_PORT", port_text);
        assert_non_null(it_entry_field(e, "HARK_CONNECTION", NULL));
}

/* A listening socket passed by systemd is used instead of binding the
 * config's port; clients queued before harkd started are served. */
static void test_socket_activation(void **state) {
        struct it_test *t = *state;
        struct harkd *h = &t->harkd[0];
        char listen[64];
        struct it_entries e;
        uint64_t confirmed;
        int port = it_free_port(AF_INET), fd1, fd2, port1, port2;

        snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
        start_activated(t, h, (const char *const[]) { listen, NULL }, false);
        /* The first connection makes systemd-socket-activate exec harkd. */
        fd1 = it_test_connect(t, "127.0.0.1", port);
        port1 = it_local_port(fd1);
        assert_int_equal(it_send_str(fd1, "queued before harkd ran\n"), 0);
        assert_int_equal(it_finish(fd1, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);
        assert_int_equal(harkd_wait_notify(h, "READY=1", 5000, NULL, 0), 0);
        fd2 = it_test_connect(t, "127.0.0.1", port);
        port2 = it_local_port(fd2);
        assert_int_equal(it_send_str(fd2, "second\n"), 0);
        assert_int_equal(it_finish(fd2, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);

        assert_int_equal(it_connect("127.0.0.1", h->port, 1000), -ECONNREFUSED);
        assert_event(h, EVENT_LISTENING, "(socket from systemd)", 1, 3000);
        it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, (const char *const[]) { "queued before harkd ran", "second" }, 2);
        assert_tcp_entry(&e.v[0], "queued before harkd ran", port1);
        assert_tcp_entry(&e.v[1], "second", port2);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* Accept=yes: every connection gets a harkd of its own, which serves it and
 * exits 0. */
static void test_socket_activation_accept(void **state) {
        struct it_test *t = *state;
        struct harkd *h = &t->harkd[0];
        char listen[64];
        struct it_entries e;
        uint64_t confirmed;
        int port = it_free_port(AF_INET), a, b, status;
        char *log;

        snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
        start_activated(t, h, (const char *const[]) { listen, NULL }, true);
        /* Two at once, served by two processes. */
        a = it_test_connect(t, "127.0.0.1", port);
        assert_int_equal(it_send_str(a, "from a\n"), 0);
        assert_int_equal(it_journal_messages(h->identifier, 1, JOURNAL_TIMEOUT_MS, &e), 1);
        it_entries_free(&e);
        b = it_test_connect(t, "127.0.0.1", port);
        assert_int_equal(it_send_str(b, "from b\nand b"), 0);
        assert_int_equal(it_finish(b, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 2);
        assert_int_equal(it_send_str(a, "a again\n"), 0);
        assert_int_equal(it_finish(a, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 2);

        it_journal_messages(h->identifier, 4, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, (const char *const[]) { "from a", "from b", "and b", "a again" }, 4);
        assert_tcp_entry(&e.v[0], "from a", it_local_port(a));
        assert_tcp_entry(&e.v[1], "from b", it_local_port(b));
        assert_tcp_entry(&e.v[3], "a again", it_local_port(a));
        it_entries_free(&e);

        /* Each harkd exited 0 after its connection. */
        if (!harkd_wait_log(h, "died with code 0", 2, 5000) || harkd_log_count(h, "died with code") != 2)
                print_log_of(h);
        assert_int_equal(harkd_log_count(h, "died with code 0"), 2);
        assert_int_equal(harkd_log_count(h, "died with code"), 2);
        log = harkd_log(h);
        assert_false(it_has_sanitizer_report(log));
        free(log);
        /* systemd-socket-activate itself just ends on SIGTERM. */
        assert_int_equal(harkd_signal(h, SIGTERM), 0);
        status = it_wait_pid(h->pid, 5000);
        assert_true(status >= 0);
        h->pid = 0;
}

/* A unix socket beside a TCP one: unix peers are identified by pid, uid and
 * gid instead of address and port. */
static void test_socket_activation_unix(void **state) {
        struct it_test *t = *state;
        struct harkd *h = &t->harkd[0];
        char path[256], tcp[64], pid[16], uid[16], gid[16];
        struct it_entries e;
        uint64_t confirmed;
        int port = it_free_port(AF_INET), fd, tcp_fd;

        it_tmp_path(path, sizeof(path), "harkd", ".sock");
        it_test_keep_file(t, path);
        snprintf(tcp, sizeof(tcp), "127.0.0.1:%d", port);
        start_activated(t, h, (const char *const[]) { path, tcp, NULL }, false);

        fd = it_connect_unix(path);
        assert_true(fd >= 0);
        it_test_keep_fd(t, fd);
        assert_int_equal(it_send_str(fd, "via unix\n"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);
        tcp_fd = it_test_connect(t, "127.0.0.1", port);
        assert_int_equal(it_send_str(tcp_fd, "via tcp\n"), 0);
        assert_int_equal(it_finish(tcp_fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);

        it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, (const char *const[]) { "via unix", "via tcp" }, 2);
        snprintf(pid, sizeof(pid), "%d", (int) getpid());
        snprintf(uid, sizeof(uid), "%u", (unsigned) getuid());
        snprintf(gid, sizeof(gid), "%u", (unsigned) getgid());
        it_assert_field(&e.v[0], "REMOTE_PID", pid);
        it_assert_field(&e.v[0], "REMOTE_UID", uid);
        it_assert_field(&e.v[0], "REMOTE_GID", gid);
        assert_null(it_entry_field(&e.v[0], "REMOTE_ADDR", NULL));
        assert_null(it_entry_field(&e.v[0], "REMOTE_PORT", NULL));
        assert_non_null(it_entry_field(&e.v[0], "HARK_CONNECTION", NULL));
        it_assert_field(&e.v[0], "PRIORITY", "6");
        assert_tcp_entry(&e.v[1], "via tcp", it_local_port(tcp_fd));
        assert_event(h, EVENT_LISTENING, "(socket from systemd)", 2, 3000);
        assert_null(it_entry_field(&e.v[1], "REMOTE_PID", NULL));
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* ---- once: IPv6 ------------------------------------------------------------------------- */

static bool ipv6_loopback(void) {
        int port = it_free_port(AF_INET6);

        if (port < 0) {
                print_message("no IPv6 loopback (::1) on this machine: %s; skipping\n", strerror(-port));
                return false;
        }
        return true;
}

/* host = "::1": served over IPv6, REMOTE_ADDR "::1"; and hark -H ::1. */
static void test_ipv6(void **state) {
        struct it_test *t = *state;
        struct harkd *h;
        struct it_entries e;
        struct it_proc p;
        uint64_t confirmed;
        char port_text[16], port[16];
        int fd;

        if (!ipv6_loopback())
                skip();
        h = it_test_harkd(t, 0, &(struct harkd_options) { .host = "::1" });
        fd = it_test_connect(t, "::1", h->port);
        assert_int_equal(it_send_str(fd, "over ipv6\n"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);
        snprintf(port, sizeof(port), "%d", h->port);
        {
                char *argv[] = { (char *) it_hark_path(), (char *) "-H", (char *) "::1", (char *) "-p", port,
                                 (char *) "from hark", NULL };
                assert_int_equal(it_run(argv, NULL, 0, 10000, &p), 0);
                assert_int_equal(it_exit_code(&p), 0);
                it_proc_free(&p);
        }
        it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, (const char *const[]) { "over ipv6", "from hark" }, 2);
        snprintf(port_text, sizeof(port_text), "%d", it_local_port(fd));
        it_assert_field(&e.v[0], "REMOTE_ADDR", "::1");
        it_assert_field(&e.v[0], "REMOTE_PORT", port_text);
        it_assert_field(&e.v[1], "REMOTE_ADDR", "::1");
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* host = "::" takes IPv4 clients too (unless bindv6only); they show as
 * plain IPv4 addresses, not ::ffff:127.0.0.1. */
static void test_ipv6_wildcard(void **state) {
        struct it_test *t = *state;
        struct harkd *h;
        struct it_entries e;
        size_t length = 0;
        char *v6only = it_read_file("/proc/sys/net/ipv6/bindv6only", &length);
        bool dual = length > 0 && v6only[0] == '0';

        free(v6only);
        if (!ipv6_loopback())
                skip();
        if (!dual) {
                print_message("net.ipv6.bindv6only is set: \"::\" takes no IPv4; skipping\n");
                skip();
        }
        h = it_test_harkd(t, 0, &(struct harkd_options) { .host = "::" });
        snprintf(h->host, sizeof(h->host), "127.0.0.1");
        it_send_and_confirm(t, h, "v4 to wildcard\n", 1);
        snprintf(h->host, sizeof(h->host), "::1");
        it_send_and_confirm(t, h, "v6 to wildcard\n", 1);
        it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, (const char *const[]) { "v4 to wildcard", "v6 to wildcard" }, 2);
        it_assert_field(&e.v[0], "REMOTE_ADDR", "127.0.0.1");
        it_assert_field(&e.v[1], "REMOTE_ADDR", "::1");
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_idle_timeout),
        IT_TEST(test_idle_deadline_reads_what_is_queued),
        IT_TEST(test_drain_partial),
        IT_TEST(test_drain_finish),
        IT_TEST(test_drain_deadline_reads_what_is_queued),
        IT_TEST(test_stop_under_load),
        IT_TEST(test_reload),
        IT_TEST(test_reload_while_connected),
        IT_TEST(test_reload_timeout),
        IT_TEST(test_reload_refuses_what_is_not_a_config_file),
};

static const struct CMUnitTest once[] = {
        IT_TEST(test_config_check),
        IT_TEST(test_config_check_refuses_what_is_not_a_config_file),
        IT_TEST(test_config_check_resolves_host),
        IT_TEST(test_notify),
        IT_TEST(test_notify_socket_not_read),
        IT_TEST(test_no_journal),
        IT_TEST(test_socket_activation),
        IT_TEST(test_socket_activation_accept),
        IT_TEST(test_socket_activation_unix),
        IT_TEST(test_ipv6),
        IT_TEST(test_ipv6_wildcard),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "daemon",
                .per_mode = IT_TESTS(per_mode),
                .side_by_side = true,
                .once = IT_TESTS(once),
        });
}
