/* The hark client end to end against a real harkd: arguments, standard
 * input, "-", --ping, -c, and every exit status it documents. */
#include "support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define JOURNAL_TIMEOUT_MS 10000

/* Runs hark with args (NULL-terminated) and input on stdin (NULL: none);
 * returns its exit code, p keeps what it wrote (free with it_proc_free). */
static int hark(const char *const *args, const char *input, struct it_proc *p) {
        char *argv[16] = { (char *) it_hark_path() };
        size_t n = 1;

        for (size_t i = 0; args[i]; i++) {
                assert_true(n < 15);
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

/* 75 when harkd does not answer in time (-t): a sequential harkd busy with
 * another connection leaves hark's in the backlog. */
static void test_timeout(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .mode = "sequential" });
        struct it_proc p;
        char port[16];
        uint64_t confirmed;
        long long start;
        int busy = it_test_connect(t, h->host, h->port);

        assert_int_equal(it_send_str(busy, "busy\n"), 0);
        assert_messages(h, (const char *const[]) { "busy" }, 1);
        snprintf(port, sizeof(port), "%d", h->port);
        start = it_now_ms();
        assert_int_equal(hark((const char *const[]) { "-H", "127.0.0.1", "-p", port, "-t", "0.5", "late", NULL },
                              NULL, &p), 75);
        assert_true(it_now_ms() - start < 3000);
        assert_non_null(strstr(p.err, "no answer in time"));
        it_proc_free(&p);
        assert_int_equal(it_finish(busy, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);
        it_assert_harkd_stops(h, 5000);
}

static const struct CMUnitTest once[] = {
        IT_TEST(test_messages),
        IT_TEST(test_stdin_between_arguments),
        IT_TEST(test_stdin_many),
        IT_TEST(test_config_option),
        IT_TEST(test_ping),
        IT_TEST(test_exit_codes),
        IT_TEST(test_timeout),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "client",
                .once = IT_TESTS(once),
        });
}
