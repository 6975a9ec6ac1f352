/* The allow list against a real harkd and the real journal, in every
 * concurrency mode. Loopback has a whole /8: a client bound to 127.0.0.2
 * is another source than one from 127.0.0.1. A source outside the list is
 * closed before harkd reads a byte of it (what it sent never reaches the
 * journal), takes no connection slot, is counted in STATUS= and logged
 * with its address, at most a burst a second. */
#include "support.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "log.h"

#define JOURNAL_TIMEOUT_MS 10000

static bool sequential(void) {
        return strcmp(it_mode, "sequential") == 0;
}

/* "allow = [ RULES ];" into buffer; rules as written in the file. */
static const char *allow_setting(char *buffer, size_t size, const char *rules) {
        snprintf(buffer, size, "allow = [ %s ];", rules);
        return buffer;
}

static struct harkd *start_at(struct it_test *t, size_t i, const char *host, const char *rules, char *extra,
                              size_t size, int max_connections) {
        return it_test_harkd(t, i, &(struct harkd_options) {
                .host = host, .max_connections = max_connections, .extra = allow_setting(extra, size, rules) });
}

static struct harkd *start(struct it_test *t, const char *host, const char *rules, char *extra, size_t size,
                           int max_connections) {
        return start_at(t, 0, host, rules, extra, size, max_connections);
}

/* From source to target:port, text (one line) gets "OK 1". */
static void assert_admitted(struct it_test *t, const struct harkd *h, const char *target, const char *source,
                            const char *text) {
        uint64_t confirmed = 0;
        int fd = it_connect_from(target, h->port, source, 5000), r;

        if (fd < 0)
                fail_msg("cannot connect from %s to %s port %d: %s", source ? source : "any", target, h->port,
                         strerror(-fd));
        it_test_keep_fd(t, fd);
        assert_int_equal(it_send_str(fd, text), 0);
        r = it_finish(fd, &confirmed, 5000);
        if (r != 0 || confirmed != 1)
                fail_msg("a client from %s was not confirmed: %s, OK %llu", source ? source : "any",
                         r ? strerror(-r) : "answered", (unsigned long long) confirmed);
        it_test_close(t, fd);
}

/* From source, text gets no answer: harkd closes the connection without
 * reading it. The bytes sent either wait unread when harkd closes (the
 * kernel then resets the connection) or arrive after the close (and meet
 * a reset): a reset or an empty end of stream, never a byte back. */
static void assert_refused(struct it_test *t, const struct harkd *h, const char *target, const char *source,
                           const char *text) {
        char reply[64] = "";
        size_t length = 0;
        int fd = it_connect_from(target, h->port, source, 5000), r;

        if (fd < 0)
                fail_msg("cannot connect from %s to %s port %d: %s", source ? source : "any", target, h->port,
                         strerror(-fd));
        it_test_keep_fd(t, fd);
        (void) it_send_str(fd, text);
        (void) shutdown(fd, SHUT_WR);
        r = it_read_to_eof(fd, reply, sizeof(reply), &length, 5000);
        if ((r != 0 && r != -ECONNRESET && r != -EPIPE) || length != 0)
                fail_msg("a client from %s was not closed without a word: %s after %zu bytes \"%s\"",
                         source ? source : "any", r ? strerror(-r) : "end of stream", length, reply);
        it_test_close(t, fd);
}

/* The journal holds exactly these messages of h, from these addresses. */
static void assert_logged(const struct harkd *h, const char *const *messages, const char *const *addresses, size_t n) {
        struct it_entries e;

        it_journal_messages(h->identifier, n, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, messages, n);
        for (size_t i = 0; i < n; i++)
                it_assert_field(&e.v[i], "REMOTE_ADDR", addresses[i]);
        it_entries_free(&e);
}

/* How many refusals of address h logged (MESSAGE_ID, HARK_REFUSED,
 * REMOTE_ADDR of a not-allowed source), waiting for at least expected. */
static int refusals_logged(const struct harkd *h, const char *address, size_t expected, int timeout_ms) {
        char pid[32], source[80];
        const char *const matches[] = { harkd_pid_match(h, pid, sizeof(pid)), "MESSAGE_ID=" EVENT_CONN_NOT_ALLOWED,
                                        source, NULL };
        struct it_entries e;
        int n;

        snprintf(source, sizeof(source), "REMOTE_ADDR=%s", address);
        n = it_harkd_events(matches, NULL, expected, timeout_ms, &e);
        for (size_t i = 0; i < e.n; i++) {
                it_assert_field(&e.v[i], "HARK_REFUSED", "not-allowed");
                it_assert_field(&e.v[i], "PRIORITY", "4");
        }
        it_entries_free(&e);
        return n;
}

static void assert_refusals_logged(const struct harkd *h, const char *address, size_t expected) {
        int n = refusals_logged(h, address, expected, JOURNAL_TIMEOUT_MS);

        if (n != (int) expected)
                fail_msg("%d refusals of %s logged, expected %zu", n, address, expected);
}

/* STATUS= says how many were not allowed. */
static void assert_status_not_allowed(struct harkd *h, unsigned n) {
        char pattern[64], status[512];

        snprintf(pattern, sizeof(pattern), "STATUS=* %u not allowed*", n);
        if (harkd_wait_notify(h, pattern, 5000, status, sizeof(status)) != 0)
                fail_msg("STATUS= never said %u not allowed", n);
}

static bool ipv6_loopback(void) {
        int port = it_free_port(AF_INET6);

        if (port < 0)
                print_message("no IPv6 loopback (::1) here (%s): skipping this IPv6 case\n", strerror(-port));
        return port >= 0;
}

/* ---- per mode ------------------------------------------------------------------ */

/* allow = ["127.0.0.1"]: that address is served, 127.0.0.2 is refused
 * before a byte of it is read, counted and logged with its address. */
static void test_single_address(void **state) {
        struct it_test *t = *state;
        char extra[128];
        struct harkd *h = start(t, NULL, "\"127.0.0.1\"", extra, sizeof(extra), 0);

        assert_admitted(t, h, "127.0.0.1", "127.0.0.1", "from the allowed address\n");
        assert_refused(t, h, "127.0.0.1", "127.0.0.2", "from a stranger\n");
        assert_status_not_allowed(h, 1);
        assert_refusals_logged(h, "127.0.0.2", 1);
        /* The allowed one still is, after the refusal. */
        assert_admitted(t, h, "127.0.0.1", "127.0.0.1", "again\n");
        assert_logged(h, (const char *const[]) { "from the allowed address", "again" },
                      (const char *const[]) { "127.0.0.1", "127.0.0.1" }, 2);
        it_assert_harkd_stops(h, 5000);
}

/* allow = ["127.0.0.0/30"]: .0 to .3 are in, .4 and .5 out. */
static void test_cidr_block(void **state) {
        struct it_test *t = *state;
        char extra[128];
        struct harkd *h = start(t, NULL, "\"127.0.0.0/30\"", extra, sizeof(extra), 0);

        assert_admitted(t, h, "127.0.0.1", "127.0.0.2", "from .2\n");
        assert_admitted(t, h, "127.0.0.1", "127.0.0.3", "from .3, the block's last\n");
        assert_refused(t, h, "127.0.0.1", "127.0.0.4", "from .4, past the block\n");
        assert_refused(t, h, "127.0.0.1", "127.0.0.5", "from .5\n");
        assert_status_not_allowed(h, 2);
        assert_refusals_logged(h, "127.0.0.4", 1);
        assert_refusals_logged(h, "127.0.0.5", 1);
        assert_logged(h, (const char *const[]) { "from .2", "from .3, the block's last" },
                      (const char *const[]) { "127.0.0.2", "127.0.0.3" }, 2);
        it_assert_harkd_stops(h, 5000);
}

/* host = "::1": an IPv6 rule lets ::1 in; a list of IPv4 rules only keeps
 * it out. */
static void test_ipv6(void **state) {
        struct it_test *t = *state;
        char extra[128];
        struct harkd *h;

        if (!ipv6_loopback())
                skip();
        h = start(t, "::1", "\"::1/128\"", extra, sizeof(extra), 0);
        assert_admitted(t, h, "::1", NULL, "over ipv6\n");
        assert_logged(h, (const char *const[]) { "over ipv6" }, (const char *const[]) { "::1" }, 1);
        it_assert_harkd_stops(h, 5000);

        /* Another harkd, with an identifier of its own. */
        h = start_at(t, 1, "::1", "\"127.0.0.1\", \"127.0.0.0/8\"", extra, sizeof(extra), 0);
        assert_refused(t, h, "::1", NULL, "ipv6 to an ipv4 list\n");
        assert_status_not_allowed(h, 1);
        assert_refusals_logged(h, "::1", 1);
        assert_logged(h, NULL, NULL, 0);
        it_assert_harkd_stops(h, 5000);
}

/* host = "::" with allow = ["127.0.0.1"]: an IPv4 client arrives as
 * ::ffff:127.0.0.1 and is let in as 127.0.0.1; 127.0.0.2 and ::1 are not. */
static void test_dual_stack(void **state) {
        struct it_test *t = *state;
        char extra[128], *v6only;
        size_t length = 0;
        bool dual;
        struct harkd *h;

        if (!ipv6_loopback())
                skip();
        v6only = it_read_file("/proc/sys/net/ipv6/bindv6only", &length);
        dual = length > 0 && v6only[0] == '0';
        free(v6only);
        if (!dual) {
                print_message("net.ipv6.bindv6only is set: \"::\" takes no IPv4; skipping\n");
                skip();
        }
        h = start(t, "::", "\"127.0.0.1\"", extra, sizeof(extra), 0);
        assert_admitted(t, h, "127.0.0.1", "127.0.0.1", "ipv4 to the wildcard\n");
        assert_refused(t, h, "127.0.0.1", "127.0.0.2", "a stranger to the wildcard\n");
        assert_refused(t, h, "::1", NULL, "ipv6 to the wildcard\n");
        assert_status_not_allowed(h, 2);
        assert_refusals_logged(h, "127.0.0.2", 1);
        assert_refusals_logged(h, "::1", 1);
        assert_logged(h, (const char *const[]) { "ipv4 to the wildcard" }, (const char *const[]) { "127.0.0.1" }, 1);
        it_assert_harkd_stops(h, 5000);
}

/* max_connections = 2, one of them held: 50 strangers that stay connected
 * (on their side) take no slot. The next allowed client gets the free one
 * at once, not by evicting anybody (fork mode evicts nobody: it would wait
 * for ever). */
static void test_strangers_take_no_slot(void **state) {
        enum { STRANGERS = 50 };
        struct it_test *t = *state;
        char extra[128], pid[32];
        struct harkd *h = start(t, NULL, "\"127.0.0.1\"", extra, sizeof(extra), 2);
        int strangers[STRANGERS], held = -1;
        const char *const evicted[] = { harkd_pid_match(h, pid, sizeof(pid)), "MESSAGE_ID=" EVENT_CONN_EVICTED, NULL };
        uint64_t confirmed;

        /* `sequential` serves one at a time: a held one would keep all out. */
        if (!sequential()) {
                struct it_entries e;

                held = it_test_connect(t, "127.0.0.1", h->port);
                assert_int_equal(it_send_str(held, "held\n"), 0);
                assert_int_equal(it_journal_messages(h->identifier, 1, JOURNAL_TIMEOUT_MS, &e), 1);
                it_entries_free(&e);
        }
        for (int i = 0; i < STRANGERS; i++) {
                strangers[i] = it_connect_from("127.0.0.1", h->port, "127.0.0.2", 5000);
                if (strangers[i] < 0)
                        fail_msg("stranger %d cannot connect: %s", i, strerror(-strangers[i]));
                it_test_keep_fd(t, strangers[i]);
                (void) it_send_str(strangers[i], "a stranger's line\n");
        }
        assert_status_not_allowed(h, STRANGERS);
        assert_admitted(t, h, "127.0.0.1", "127.0.0.1", "beside the strangers\n");
        for (int i = 0; i < STRANGERS; i++) {
                /* Each was closed by harkd, unanswered. */
                char reply[16];
                size_t length = 0;
                int r = it_read_to_eof(strangers[i], reply, sizeof(reply), &length, 5000);

                if ((r != 0 && r != -ECONNRESET) || length != 0)
                        fail_msg("stranger %d: %s after %zu bytes", i, r ? strerror(-r) : "end of stream", length);
                it_test_close(t, strangers[i]);
        }
        if (held >= 0) {
                assert_int_equal(it_finish(held, &confirmed, 5000), 0);
                assert_int_equal(confirmed, 1);
                assert_logged(h, (const char *const[]) { "held", "beside the strangers" },
                              (const char *const[]) { "127.0.0.1", "127.0.0.1" }, 2);
        } else
                assert_logged(h, (const char *const[]) { "beside the strangers" }, (const char *const[]) { "127.0.0.1" },
                              1);
        assert_int_equal(it_harkd_events(evicted, NULL, 0, 200, NULL), 0);
        it_assert_harkd_stops(h, 5000);
}

/* 500 refused connects: every one counted in STATUS=, at most
 * LOG_RATELIMIT_BURST of them logged per second of the flood. */
static void test_refusal_log_is_rate_limited(void **state) {
        enum { FLOOD = 500 };
        struct it_test *t = *state;
        char extra[128];
        struct harkd *h = start(t, NULL, "\"127.0.0.1\"", extra, sizeof(extra), 0);
        long long began = it_now_ms(), seconds;
        int logged, bound;

        for (int i = 0; i < FLOOD; i++) {
                char reply[16];
                size_t length = 0;
                int fd = it_connect_from("127.0.0.1", h->port, "127.0.0.2", 5000), r;

                if (fd < 0)
                        fail_msg("connect %d of the flood: %s", i, strerror(-fd));
                r = it_read_to_eof(fd, reply, sizeof(reply), &length, 5000);
                close(fd);
                if ((r != 0 && r != -ECONNRESET) || length != 0)
                        fail_msg("connect %d of the flood: %s after %zu bytes", i, r ? strerror(-r) : "end of stream",
                                 length);
        }
        assert_status_not_allowed(h, FLOOD);
        /* Seconds the flood could span, rounded up, and one for a second
         * begun just before it. */
        seconds = (it_now_ms() - began) / 1000 + 2;
        bound = (int) (LOG_RATELIMIT_BURST * seconds);
        logged = refusals_logged(h, "127.0.0.2", 1, 2000);
        if (logged < 1 || logged > bound || logged >= FLOOD / 2)
                fail_msg("%d of %d refusals logged in about %lld s (at most %d)", logged, FLOOD, seconds - 1, bound);
        /* Served as ever. */
        assert_admitted(t, h, "127.0.0.1", "127.0.0.1", "after the flood\n");
        assert_logged(h, (const char *const[]) { "after the flood" }, (const char *const[]) { "127.0.0.1" }, 1);
        it_assert_harkd_stops(h, 5000);
}

/* Rewrites h's config with allow = [rules] (or none, rules NULL), sends
 * SIGHUP, and returns once the count-th reload is done. */
static void reload_allow(struct harkd *h, const char *rules, char *extra, size_t size, size_t count) {
        struct harkd_options o = h->options;
        char pid[32];
        const char *const reloaded[] = { harkd_pid_match(h, pid, sizeof(pid)), "MESSAGE_ID=" EVENT_RELOADED, NULL };

        o.extra = rules ? allow_setting(extra, size, rules) : NULL;
        assert_int_equal(harkd_write_config(h, &o), 0);
        assert_int_equal(harkd_signal(h, SIGHUP), 0);
        if (it_harkd_events(reloaded, NULL, count, 3000, NULL) != (int) count)
                fail_msg("reload %zu was not logged", count);
        assert_int_equal(harkd_wait_notify(h, "READY=1", 3000, NULL, 0), 0);
}

/* SIGHUP applies a new allow to the connections after it: the list, a
 * new one, and none (everyone). */
static void test_reload_changes_allow(void **state) {
        struct it_test *t = *state;
        char extra[128];
        struct harkd *h = start(t, NULL, "\"127.0.0.1\"", extra, sizeof(extra), 0);

        assert_admitted(t, h, "127.0.0.1", "127.0.0.1", "first list, .1\n");
        assert_refused(t, h, "127.0.0.1", "127.0.0.2", "first list, .2\n");
        reload_allow(h, "\"127.0.0.2\"", extra, sizeof(extra), 1);
        assert_admitted(t, h, "127.0.0.1", "127.0.0.2", "second list, .2\n");
        assert_refused(t, h, "127.0.0.1", "127.0.0.1", "second list, .1\n");
        reload_allow(h, NULL, extra, sizeof(extra), 2);
        assert_admitted(t, h, "127.0.0.1", "127.0.0.1", "no list, .1\n");
        assert_admitted(t, h, "127.0.0.1", "127.0.0.2", "no list, .2\n");
        assert_status_not_allowed(h, 2);
        assert_refusals_logged(h, "127.0.0.2", 1);
        assert_refusals_logged(h, "127.0.0.1", 1);
        assert_logged(h, (const char *const[]) { "first list, .1", "second list, .2", "no list, .1", "no list, .2" },
                      (const char *const[]) { "127.0.0.1", "127.0.0.2", "127.0.0.1", "127.0.0.2" }, 4);
        it_assert_harkd_stops(h, 5000);
}

/* ---- once: Accept=yes ---------------------------------------------------------- */

static const char *socket_activate(void) {
        static const char *const paths[] = { "/usr/bin/systemd-socket-activate", "/bin/systemd-socket-activate" };

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
                if (access(paths[i], X_OK) == 0)
                        return paths[i];
        return NULL;
}

/* Accept=yes: harkd is handed one connected socket (LISTEN_FDS, from
 * systemd-socket-activate --accept). A stranger's is closed unread and
 * harkd exits 0; an allowed one is served. The stranger's address is this
 * test's own (REMOTE_ADDR tells its refusal from others'). */
static void test_accept_yes_refuses_a_stranger(void **state) {
        static const char *const sanitizer_env[] = { "ASAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS", "UBSAN_OPTIONS" };
        struct it_test *t = *state;
        struct harkd *h = &t->harkd[0];
        char extra[128], listen[64], notify[128], env[4][512], stranger[32], source[48], *argv[16];
        const char *tool = socket_activate();
        const char *const matches[] = { "MESSAGE_ID=" EVENT_CONN_NOT_ALLOWED, source, NULL };
        struct it_entries e;
        size_t n = 0;
        int port = it_free_port(AF_INET);

        if (!tool) {
                print_message("systemd-socket-activate not found (package systemd); skipping\n");
                skip();
        }
        snprintf(stranger, sizeof(stranger), "127.%d.%d.%d", 1 + (int) (getpid() % 250), 1 + rand() % 250,
                 1 + rand() % 250);
        snprintf(source, sizeof(source), "REMOTE_ADDR=%s", stranger);
        it_tmp_path(h->stderr_path, sizeof(h->stderr_path), "accept", ".log");
        h->notify_fd = it_notify_socket(h->notify_name, sizeof(h->notify_name));
        assert_true(h->notify_fd >= 0);
        /* The config's own port is free and unused: the passed socket is. */
        assert_int_equal(harkd_write_config(h, &(struct harkd_options) {
                                 .mode = "epoll", .port = it_free_port(AF_INET),
                                 .extra = allow_setting(extra, sizeof(extra), "\"127.0.0.1\"") }),
                         0);
        snprintf(listen, sizeof(listen), "--listen=127.0.0.1:%d", port);
        snprintf(notify, sizeof(notify), "--setenv=NOTIFY_SOCKET=@%s", h->notify_name);
        argv[n++] = (char *) tool;
        argv[n++] = (char *) "--accept";
        argv[n++] = listen;
        argv[n++] = notify;
        for (size_t i = 0; i < sizeof(sanitizer_env) / sizeof(sanitizer_env[0]); i++)
                if (getenv(sanitizer_env[i])) {
                        snprintf(env[i], sizeof(env[i]), "--setenv=%s=%s", sanitizer_env[i], getenv(sanitizer_env[i]));
                        argv[n++] = env[i];
                }
        argv[n++] = (char *) it_harkd_path();
        argv[n++] = (char *) "-c";
        argv[n++] = h->config_path;
        argv[n] = NULL;
        h->pid = it_spawn(argv, NULL, h->stderr_path, false);
        assert_true(h->pid > 0);
        if (!harkd_wait_log(h, "Listening on", 1, 5000)) {
                char *log = harkd_log(h);

                fprintf(stderr, "systemd-socket-activate did not listen:\n%s\n", log);
                free(log);
                fail();
        }
        h->port = port;

        assert_refused(t, h, "127.0.0.1", stranger, "a stranger, passed\n");
        assert_int_equal(it_harkd_events(matches, NULL, 1, JOURNAL_TIMEOUT_MS, &e), 1);
        it_assert_field(&e.v[0], "HARK_REFUSED", "not-allowed");
        it_entries_free(&e);
        assert_admitted(t, h, "127.0.0.1", "127.0.0.1", "allowed, passed\n");
        assert_logged(h, (const char *const[]) { "allowed, passed" }, (const char *const[]) { "127.0.0.1" }, 1);
        /* Both harkds exited 0, the refusing one too. */
        if (!harkd_wait_log(h, "died with code 0", 2, 5000) || harkd_log_count(h, "died with code") != 2) {
                char *log = harkd_log(h);

                fprintf(stderr, "systemd-socket-activate and its harkds:\n%s\n", log);
                free(log);
                fail();
        }
        assert_false(harkd_sanitizer_report(h));
        assert_int_equal(harkd_signal(h, SIGTERM), 0);
        assert_true(it_wait_pid(h->pid, 5000) >= 0);
        h->pid = 0;
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_single_address),
        IT_TEST(test_cidr_block),
        IT_TEST(test_ipv6),
        IT_TEST(test_dual_stack),
        IT_TEST(test_strangers_take_no_slot),
        IT_TEST(test_refusal_log_is_rate_limited),
        IT_TEST(test_reload_changes_allow),
};

static const struct CMUnitTest once[] = {
        IT_TEST(test_accept_yes_refuses_a_stranger),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "allow",
                /* Each test waits mostly on the journal; none stops or replaces it. */
                .side_by_side = true,
                .per_mode = IT_TESTS(per_mode),
                .once = IT_TESTS(once),
        });
}
