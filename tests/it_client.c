/* The hark client end to end against a real harkd: arguments, standard
 * input, "-", --ping, -c, every exit status it documents, and the syslog
 * options (--priority, --tag, --field, --octet-count) landing as journal
 * fields in both framings. */
#include "support.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define JOURNAL_TIMEOUT_MS 10000

/* Runs hark with args (NULL-terminated) and input on stdin (NULL: none);
 * returns its exit code, p keeps what it wrote (free with it_proc_free). */
static int hark(const char *const *args, const char *input, struct it_proc *p) {
        char *argv[24] = { (char *) it_hark_path() };
        size_t n = 1;

        for (size_t i = 0; args[i]; i++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = (char *) args[i];
        }
        argv[n] = NULL;
        assert_int_equal(it_run(argv, input, input ? strlen(input) : 0, 20000, p), 0);
        return it_exit_code(p);
}

/* hark with args; asserts its exit code, printing its output when it differs. */
static void expect_hark(const char *const *args, const char *input, int code) {
        struct it_proc p;
        int got = hark(args, input, &p);

        if (got != code) {
                fprintf(stderr, "hark");
                for (size_t i = 0; args[i]; i++)
                        fprintf(stderr, " '%s'", args[i]);
                fprintf(stderr, ": exit %d, expected %d\nstdout: %s\nstderr: %s\n", got, code, p.out, p.err);
        }
        it_proc_free(&p);
        assert_int_equal(got, code);
}

static void assert_messages(const struct harkd *h, const char *const *expected, size_t n) {
        struct it_entries e;

        it_journal_messages(h->identifier, n, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, n);
        it_entries_free(&e);
}

static struct harkd *start(struct it_test *t, char *port, size_t size) {
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .mode = "epoll" });

        snprintf(port, size, "%d", h->port);
        return h;
}

/* Each argument is one message; stdin, and "-" among the arguments. */
static void test_messages(void **state) {
        struct it_test *t = *state;
        char port[16];
        struct harkd *h = start(t, port, sizeof(port));

        expect_hark((const char *const[]) { "-H", "127.0.0.1", "-p", port, "one", "two words", NULL }, NULL, 0);
        assert_messages(h, (const char *const[]) { "one", "two words" }, 2);
        /* Without messages: the lines of stdin, CRLF and a last line without LF too. */
        expect_hark((const char *const[]) { "-H", "127.0.0.1", "-p", port, NULL }, "l1\nl2\r\n\nl3", 0);
        assert_messages(h, (const char *const[]) { "one", "two words", "l1", "l2", "l3" }, 5);
        /* "-" reads stdin in its place. */
        expect_hark((const char *const[]) { "--host", "127.0.0.1", "--port", port, "first", "-", "last", NULL },
                    "s1\ns2\n", 0);
        assert_messages(h, (const char *const[]) { "one", "two words", "l1", "l2", "l3", "first", "s1", "s2", "last" },
                        9);
        it_assert_harkd_stops(h, 5000);
}

/* "-" between arguments, with stdin not ending in a newline: its last line
 * is a message of its own, not run into the next argument ("s2last"). */
static void test_stdin_between_arguments(void **state) {
        struct it_test *t = *state;
        char port[16];
        struct harkd *h = start(t, port, sizeof(port));

        expect_hark((const char *const[]) { "-H", "127.0.0.1", "-p", port, "first", "-", "last", NULL }, "s1\ns2", 0);
        assert_messages(h, (const char *const[]) { "first", "s1", "s2", "last" }, 4);
        it_assert_harkd_stops(h, 5000);
}

/* Ten thousand lines on stdin: all confirmed, all logged in order. */
static void test_stdin_many(void **state) {
        enum { LINES = 10000 };
        struct it_test *t = *state;
        char port[16];
        struct harkd *h = start(t, port, sizeof(port));
        char *input = malloc(LINES * 16);
        size_t used = 0;
        struct it_entries e;

        assert_non_null(input);
        for (int i = 0; i < LINES; i++)
                used += (size_t) sprintf(input + used, "line %05d\n", i);
        expect_hark((const char *const[]) { "-H", "127.0.0.1", "-p", port, NULL }, input, 0);
        free(input);
        it_journal_messages(h->identifier, LINES, 20000, &e);
        assert_int_equal(e.n, LINES);
        for (int i = 0; i < LINES; i++) {
                char want[16];
                snprintf(want, sizeof(want), "line %05d", i);
                it_assert_field(&e.v[i], "MESSAGE", want);
        }
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* -c: host and port from harkd's config file. */
static void test_config_option(void **state) {
        struct it_test *t = *state;
        char port[16];
        struct harkd *h = start(t, port, sizeof(port));

        expect_hark((const char *const[]) { "-c", h->config_path, "via config", NULL }, NULL, 0);
        expect_hark((const char *const[]) { "--config", h->config_path, "-t", "5", "again", NULL }, NULL, 0);
        assert_messages(h, (const char *const[]) { "via config", "again" }, 2);
        it_assert_harkd_stops(h, 5000);
}

/* --ping: 0 and a word on stdout when harkd answers; logs nothing. */
static void test_ping(void **state) {
        struct it_test *t = *state;
        char port[16];
        struct harkd *h = start(t, port, sizeof(port));
        struct it_proc p;

        assert_int_equal(hark((const char *const[]) { "-H", "127.0.0.1", "-p", port, "--ping", NULL }, NULL, &p), 0);
        assert_non_null(strstr(p.out, "answering"));
        it_proc_free(&p);
        /* A message after the ping is the only entry. */
        expect_hark((const char *const[]) { "-H", "127.0.0.1", "-p", port, "after ping", NULL }, NULL, 0);
        assert_messages(h, (const char *const[]) { "after ping" }, 1);
        it_assert_harkd_stops(h, 5000);
        /* Nobody there any more: 69. */
        expect_hark((const char *const[]) { "-H", "127.0.0.1", "-p", port, "--ping", NULL }, NULL, 69);
}

/* 69 cannot connect, 78 config error, 64 usage; --help and --version 0. */
static void test_exit_codes(void **state) {
        struct it_test *t = *state;
        char closed[16], bad[256], missing[256], needle[320];
        struct it_proc p;

        snprintf(closed, sizeof(closed), "%d", it_free_port(AF_INET));
        expect_hark((const char *const[]) { "-H", "127.0.0.1", "-p", closed, "nobody listens", NULL }, NULL, 69);

        it_tmp_path(bad, sizeof(bad), "bad", ".conf");
        it_test_keep_file(t, bad);
        assert_int_equal(it_write_file(bad, "port = 10001;\nprot = 10002;\n"), 0);
        assert_int_equal(hark((const char *const[]) { "-c", bad, "x", NULL }, NULL, &p), 78);
        snprintf(needle, sizeof(needle), "%s:2: prot:", bad);
        assert_non_null(strstr(p.err, needle));
        it_proc_free(&p);
        snprintf(missing, sizeof(missing), "%s/missing.conf", it_tmpdir());
        expect_hark((const char *const[]) { "-c", missing, "x", NULL }, NULL, 78);

        expect_hark((const char *const[]) { "--bogus", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", "0", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", "port", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", "65536", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-t", "0", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-t", "soon", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "--ping", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", NULL }, NULL, 64);

        assert_int_equal(hark((const char *const[]) { "--help", NULL }, NULL, &p), 0);
        assert_non_null(strstr(p.out, "Usage"));
        it_proc_free(&p);
        assert_int_equal(hark((const char *const[]) { "--version", NULL }, NULL, &p), 0);
        assert_non_null(strstr(p.out, "hark " HARK_VERSION));
        it_proc_free(&p);
}

/* A client that ends a message every 100 ms until told to stop: busy, so
 * harkd never evicts it for a newcomer. */
struct ticker {
        int fd;
        atomic_bool stop;
        int sent;
};

static void *tick(void *arg) {
        struct ticker *k = arg;

        while (!atomic_load(&k->stop) && it_send_str(k->fd, "tick\n") == 0) {
                k->sent++;
                it_sleep_ms(100);
        }
        return NULL;
}

/* 75 when harkd does not answer in time (-t): a sequential harkd busy with
 * another connection leaves hark's in the backlog. */
static void test_timeout(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .mode = "sequential" });
        struct ticker busy = { .fd = it_test_connect(t, h->host, h->port) };
        struct it_entries e;
        struct it_proc p;
        pthread_t ticking;
        char port[16];
        uint64_t confirmed;
        long long start;

        assert_int_equal(pthread_create(&ticking, NULL, tick, &busy), 0);
        /* Served: its first tick is in the journal. */
        it_journal_messages(h->identifier, 1, JOURNAL_TIMEOUT_MS, &e);
        assert_true(e.n >= 1);
        it_entries_free(&e);
        snprintf(port, sizeof(port), "%d", h->port);
        start = it_now_ms();
        assert_int_equal(hark((const char *const[]) { "-H", "127.0.0.1", "-p", port, "-t", "1", "late", NULL },
                              NULL, &p), 75);
        assert_true(it_now_ms() - start < 3000);
        assert_non_null(strstr(p.err, "no answer in time"));
        it_proc_free(&p);
        atomic_store(&busy.stop, true);
        assert_int_equal(pthread_join(ticking, NULL), 0);
        assert_int_equal(it_finish(busy.fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, (uint64_t) busy.sent);
        it_assert_harkd_stops(h, 5000);
}


/* ------------------------------------------------------------------------ */
/* Syslog: RFC 5424 from hark, read back field by field. */

/* Both framings: lines (LF) and RFC 6587 octet counting. */
static const char *const framings[] = { NULL, "--octet-count" };

/* Runs hark with the framing option (NULL: none) put first. */
static void expect_hark_framed(const char *framing, const char *const *args, const char *input, int code) {
        const char *argv[24];
        size_t n = 0;

        if (framing)
                argv[n++] = framing;
        for (size_t i = 0; args[i]; i++) {
                assert_true(n < ELEMENTSOF(argv) - 1);
                argv[n++] = args[i];
        }
        argv[n] = NULL;
        expect_hark(argv, input, code);
}

/* The entries this harkd wrote under identifier; none of them a syslog
 * header harkd found broken. */
static void collect(const struct harkd *h, const char *identifier, size_t n, struct it_entries *e) {
        char pid[32], ident[96];
        const char *matches[] = { harkd_pid_match(h, pid, sizeof(pid)), ident, NULL };

        snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", identifier);
        assert_int_equal(it_journal_collect(matches, n, JOURNAL_TIMEOUT_MS, e), (int) n);
        for (size_t i = 0; i < e->n; i++)
                if (it_entry_field(&e->v[i], "HARK_SYSLOG_ERROR", NULL)) {
                        it_entries_print(e);
                        fail_msg("harkd found a syslog header of hark's broken");
                }
}

/* What hark puts in the header: its pid, this machine's name, the time. */
static void assert_header_fields(const struct it_entry *e, const struct harkd *h) {
        char host[256] = "";
        const char *pid = it_entry_field(e, "SYSLOG_PID", NULL);
        const char *timestamp = it_entry_field(e, "SYSLOG_TIMESTAMP", NULL);

        assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
        it_assert_field(e, "SYSLOG_HOSTNAME", host);
        assert_non_null(pid);
        assert_true(atoi(pid) > 0 && atoi(pid) != (int) h->pid);
        assert_non_null(timestamp);
        /* 2026-12-02T01:07:16.799813+00:00 */
        assert_int_equal(strlen(timestamp), 32);
        assert_true(timestamp[10] == 'T' && timestamp[19] == '.' && (timestamp[26] == '+' || timestamp[26] == '-'));
        assert_null(it_entry_field(e, "SYSLOG_MSGID", NULL));
}

/* The example: priority, tag and a field land as journal fields. */
static void test_syslog_priority_tag_field(void **state) {
        struct it_test *t = *state;
        char port[16];
        struct harkd *h = start(t, port, sizeof(port));

        for (size_t f = 0; f < ELEMENTSOF(framings); f++) {
                struct it_entries e;

                expect_hark_framed(framings[f], (const char *const[]) { "-H", "127.0.0.1", "-p", port, "--priority",
                                   "local0.warning", "--tag", "myapp", "--field", "ORDER_ID=4711",
                                   "disk almost full", NULL }, NULL, 0);
                collect(h, "myapp", f + 1, &e);
                it_assert_field(&e.v[f], "MESSAGE", "disk almost full");
                it_assert_field(&e.v[f], "PRIORITY", "4");
                it_assert_field(&e.v[f], "SYSLOG_FACILITY", "16");
                it_assert_field(&e.v[f], "SYSLOG_IDENTIFIER", "myapp");
                it_assert_field(&e.v[f], "ORDER_ID", "4711");
                it_assert_field(&e.v[f], "REMOTE_ADDR", "127.0.0.1");
                assert_header_fields(&e.v[f], h);
                it_entries_free(&e);
        }
        it_assert_harkd_stops(h, 5000);
}

/* A field given twice has both values (journald keeps the order of an
 * entry's fields to itself). */
static void assert_twice(const struct it_entry *e) {
        bool one = false, two = false;
        size_t n = 0;

        for (size_t i = 0; i < e->n_fields; i++)
                if (strcmp(e->fields[i].name, "TWICE") == 0) {
                        n++;
                        one = one || strcmp(e->fields[i].value, "1") == 0;
                        two = two || strcmp(e->fields[i].value, "2") == 0;
                }
        assert_int_equal(n, 2);
        assert_true(one && two);
}

/* Without --priority and --tag: user.notice under "hark", as logger(1)
 * would; values with the bytes RFC 5424 escapes come back decoded. */
static void test_syslog_defaults_and_escapes(void **state) {
        static const char note[] = "a \"quoted\" \\ back]slash [x=\"1\"] caf\xc3\xa9";
        struct it_test *t = *state;
        char port[16], field[sizeof(note) + 8];
        struct harkd *h = start(t, port, sizeof(port));

        snprintf(field, sizeof(field), "NOTE=%s", note);
        for (size_t f = 0; f < ELEMENTSOF(framings); f++) {
                struct it_entries e;

                expect_hark_framed(framings[f], (const char *const[]) { "-H", "127.0.0.1", "-p", port, "--field", field,
                                   "--field", "EMPTY=", "--field", "TWICE=1", "--field", "TWICE=2",
                                   "text with \"quotes\" and ] [brackets]", NULL }, NULL, 0);
                collect(h, "hark", f + 1, &e);
                it_assert_field(&e.v[f], "MESSAGE", "text with \"quotes\" and ] [brackets]");
                it_assert_field(&e.v[f], "PRIORITY", "5");
                it_assert_field(&e.v[f], "SYSLOG_FACILITY", "1");
                it_assert_field(&e.v[f], "NOTE", note);
                it_assert_field(&e.v[f], "EMPTY", "");
                assert_twice(&e.v[f]);
                assert_header_fields(&e.v[f], h);
                it_entries_free(&e);
        }
        it_assert_harkd_stops(h, 5000);
}

/* How messages are cut, and that hark's count matches harkd's (exit 0):
 * standard input line by line in both framings (CRLF, empty lines, a last
 * line without LF); an argument with LF is one message per line without
 * --octet-count, one message with it; NUL ends a line of standard input
 * without --octet-count (harkd would end the record there too), and is data
 * with it. */
static void test_syslog_message_boundaries(void **state) {
        static const char input[] = "s1\r\n\ns2\0s3\nlast";
        struct it_test *t = *state;
        char port[16];
        struct harkd *h = start(t, port, sizeof(port));
        struct it_entries e;
        size_t length;
        const char *m;

        expect_hark_framed(NULL, (const char *const[]) { "-H", "127.0.0.1", "-p", port, "--tag", "cut-lines",
                           "one\ntwo", "-", "", "end", NULL }, NULL, 0);
        /* (it_run takes input as a C string: the NUL case goes separately.) */
        collect(h, "cut-lines", 3, &e);
        it_assert_messages(&e, (const char *const[]) { "one", "two", "end" }, 3);
        it_entries_free(&e);

        expect_hark_framed("--octet-count", (const char *const[]) { "-H", "127.0.0.1", "-p", port, "--tag",
                           "cut-octets", "\none\r\ntwo\r\n", "\r\n", "-", "", "end", NULL }, "x1\r\n\nx2", 0);
        collect(h, "cut-octets", 4, &e);
        it_assert_messages(&e, (const char *const[]) { "\none\r\ntwo", "x1", "x2", "end" }, 4);
        it_entries_free(&e);

        /* CRs and LFs at a message's end go in both framings (harkd drops
         * them from a syslog MSG); a line of nothing else is no message. */
        for (size_t f = 0; f < ELEMENTSOF(framings); f++)
                expect_hark_framed(framings[f], (const char *const[]) { "-H", "127.0.0.1", "-p", port, "--tag", "cut-cr",
                                   NULL }, "c1\r\r\nc2\r\n\r\r\n\rc3", 0);
        collect(h, "cut-cr", 6, &e);
        it_assert_messages(&e, (const char *const[]) { "c1", "c2", "\rc3", "c1", "c2", "\rc3" }, 6);
        it_entries_free(&e);

        /* A message that starts with a BOM keeps it (harkd strips one). */
        for (size_t f = 0; f < ELEMENTSOF(framings); f++)
                expect_hark_framed(framings[f], (const char *const[]) { "-H", "127.0.0.1", "-p", port, "--tag", "bom",
                                   "\xef\xbb\xbf" "with a BOM", "no BOM", NULL }, NULL, 0);
        collect(h, "bom", 4, &e);
        it_assert_messages(&e, (const char *const[]) { "\xef\xbb\xbf" "with a BOM", "no BOM",
                                                       "\xef\xbb\xbf" "with a BOM", "no BOM" }, 4);
        it_entries_free(&e);

        for (size_t f = 0; f < ELEMENTSOF(framings); f++) {
                struct it_proc p;
                const char *argv[] = { it_hark_path(), "-H", "127.0.0.1", "-p", port, "--tag", "cut-nul",
                                       framings[f], NULL };

                assert_int_equal(it_run((char *const *) argv, input, sizeof(input) - 1, 20000, &p), 0);
                if (it_exit_code(&p) != 0)
                        fprintf(stderr, "hark: %s\n", p.err);
                assert_int_equal(it_exit_code(&p), 0);
                it_proc_free(&p);
        }
        collect(h, "cut-nul", 4 + 3, &e);
        /* Lines: s1, s2, s3, last. */
        it_assert_field(&e.v[0], "MESSAGE", "s1");
        it_assert_field(&e.v[1], "MESSAGE", "s2");
        it_assert_field(&e.v[2], "MESSAGE", "s3");
        it_assert_field(&e.v[3], "MESSAGE", "last");
        /* Octets: s1, s2 NUL s3, last. */
        it_assert_field(&e.v[4], "MESSAGE", "s1");
        m = it_entry_field(&e.v[5], "MESSAGE", &length);
        assert_non_null(m);
        assert_int_equal(length, 5);
        assert_memory_equal(m, "s2\0s3", 5);
        it_assert_field(&e.v[6], "MESSAGE", "last");
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* Many lines of standard input as syslog: all confirmed, in order. */
static void test_syslog_stdin_many(void **state) {
        enum { LINES = 10000 };
        struct it_test *t = *state;
        char port[16];
        struct harkd *h = start(t, port, sizeof(port));
        char *input = malloc(LINES * 16);
        size_t used = 0;

        assert_non_null(input);
        for (int i = 0; i < LINES; i++)
                used += (size_t) sprintf(input + used, "line %05d\n", i);
        for (size_t f = 0; f < ELEMENTSOF(framings); f++) {
                char tag[32];
                struct it_entries e;

                snprintf(tag, sizeof(tag), "many-%zu", f);
                expect_hark_framed(framings[f], (const char *const[]) { "-H", "127.0.0.1", "-p", port, "--tag", tag,
                                   "--field", "BATCH=7", NULL }, input, 0);
                collect(h, tag, LINES, &e);
                for (int i = 0; i < LINES; i++) {
                        char want[16];

                        snprintf(want, sizeof(want), "line %05d", i);
                        it_assert_field(&e.v[i], "MESSAGE", want);
                        it_assert_field(&e.v[i], "BATCH", "7");
                }
                it_entries_free(&e);
        }
        free(input);
        it_assert_harkd_stops(h, 5000);
}

/* The usage errors of the syslog options end hark before it connects. */
static void test_syslog_usage_errors(void **state) {
        struct it_test *t = *state;
        char closed[16];
        struct it_proc p;

        (void) t;
        snprintf(closed, sizeof(closed), "%d", it_free_port(AF_INET));
        expect_hark((const char *const[]) { "-p", closed, "--priority", "local8.info", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", closed, "--priority", "loud", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", closed, "--tag", "my app", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", closed, "--field", "order_id=1", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", closed, "--field", "REMOTE_ADDR=10.0.0.1", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", closed, "--field", "NOVALUE", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "-p", closed, "--field", "A=1\n2", "x", NULL }, NULL, 64);
        assert_int_equal(hark((const char *const[]) { "-p", closed, "--field", "_PID=1", "x", NULL }, NULL, &p), 64);
        assert_non_null(strstr(p.err, "invalid field name '_PID'"));
        it_proc_free(&p);
        /* With --octet-count the same value is fine: nobody listens, 69. */
        expect_hark((const char *const[]) { "-H", "127.0.0.1", "-p", closed, "--octet-count", "--field", "A=1\n2", "x",
                    NULL }, NULL, 69);
}

static const struct CMUnitTest once[] = {
        IT_TEST(test_messages),
        IT_TEST(test_stdin_between_arguments),
        IT_TEST(test_stdin_many),
        IT_TEST(test_config_option),
        IT_TEST(test_ping),
        IT_TEST(test_exit_codes),
        IT_TEST(test_timeout),
        IT_TEST(test_syslog_priority_tag_field),
        IT_TEST(test_syslog_defaults_and_escapes),
        IT_TEST(test_syslog_message_boundaries),
        IT_TEST(test_syslog_stdin_many),
        IT_TEST(test_syslog_usage_errors),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "client",
                .once = IT_TESTS(once),
        });
}
