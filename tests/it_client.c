/* The hark client end to end against a real harkd: arguments, standard
 * input, "-", --ping, -c, every exit status it documents, and the syslog
 * options (--priority, --tag, --field, --octet-count) landing as journal
 * fields in both framings. And hark --udp against a UDP socket of the
 * test's own: one datagram per message, the size limit, a port nobody
 * listens on, IPv6. */
#include "support.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
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


/* ------------------------------------------------------------------------ */
/* --udp: what arrives at a UDP socket the test binds itself (the client is
 * tested here, not harkd's UDP listener). */

/* A UDP socket on a free loopback port (kept for teardown); *port is it,
 * as text. Its receive buffer holds every datagram a test sends. */
static int udp_socket(struct it_test *t, int family, char *port, size_t size) {
        struct sockaddr_storage sa = { .ss_family = (sa_family_t) family };
        socklen_t length = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), buffer = 4 << 20;

        assert_true(fd >= 0);
        it_test_keep_fd(t, fd);
        if (family == AF_INET6)
                ((struct sockaddr_in6 *) &sa)->sin6_addr = in6addr_loopback;
        else
                ((struct sockaddr_in *) &sa)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof(buffer)), 0);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, length), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &length), 0);
        snprintf(port, size, "%u", ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
                                                             : ((struct sockaddr_in *) &sa)->sin_port));
        return fd;
}

/* A port of family's loopback where nobody listens: bound, then closed. */
static void closed_udp_port(struct it_test *t, int family, char *port, size_t size) {
        it_test_close(t, udp_socket(t, family, port, size));
}

/* The next datagram, waiting at most timeout_ms: its size, or -1 for none. */
static ssize_t next_datagram(int fd, char *buffer, size_t size, int timeout_ms) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        ssize_t n;

        if (poll(&pfd, 1, timeout_ms) != 1)
                return -1;
        n = recv(fd, buffer, size, MSG_TRUNC);
        assert_true(n >= 0);
        return n;
}

/* hark has exited: what it sent is queued, so "no more" needs no long wait. */
#define UDP_WAIT_MS 2000
#define UDP_NO_MORE_MS 100

/* Exactly these datagrams (with their lengths: NULs count) and no more. */
static void expect_datagrams_n(int fd, const char *const *want, const size_t *sizes, size_t n) {
        static char buffer[70000];

        for (size_t i = 0; i < n; i++) {
                ssize_t got = next_datagram(fd, buffer, sizeof(buffer), UDP_WAIT_MS);

                if (got < 0)
                        fail_msg("datagram %zu of %zu did not arrive", i + 1, n);
                if ((size_t) got != sizes[i] || memcmp(buffer, want[i], sizes[i]) != 0)
                        fail_msg("datagram %zu: %zd bytes \"%.*s\", expected %zu \"%.*s\"", i + 1, got,
                                 (int) (got > 80 ? 80 : got), buffer, sizes[i],
                                 (int) (sizes[i] > 80 ? 80 : sizes[i]), want[i]);
        }
        if (next_datagram(fd, buffer, sizeof(buffer), UDP_NO_MORE_MS) >= 0)
                fail_msg("a datagram more than the %zu expected", n);
}

static void expect_datagrams(int fd, const char *const *want, size_t n) {
        size_t sizes[16];

        assert_true(n <= ELEMENTSOF(sizes));
        for (size_t i = 0; i < n; i++)
                sizes[i] = strlen(want[i]);
        expect_datagrams_n(fd, want, sizes, n);
}

/* Each argument is one datagram, LFs inside and all; CRs and LFs at its
 * end are not sent, and an empty argument sends none. */
static void test_udp_arguments(void **state) {
        struct it_test *t = *state;
        char port[16];
        int fd = udp_socket(t, AF_INET, port, sizeof(port));

        expect_hark((const char *const[]) { "--udp", "-H", "127.0.0.1", "-p", port, "one", "two words",
                    "a\nmulti-line\nmessage", "", "crlf\r\n", "\r\n", "last", NULL }, NULL, 0);
        expect_datagrams(fd, (const char *const[]) { "one", "two words", "a\nmulti-line\nmessage", "crlf", "last" },
                         5);
}

/* Standard input: a datagram per line (CRLF, empty lines, a last line
 * without LF), "-" among arguments, a NUL inside a line is data. */
static void test_udp_stdin(void **state) {
        static const char input[] = "s1\r\n\ns2\0with NUL\nlast";
        struct it_test *t = *state;
        char port[16];
        int fd = udp_socket(t, AF_INET, port, sizeof(port));
        const char *argv[] = { it_hark_path(), "--udp", "-H", "127.0.0.1", "-p", port, NULL };
        struct it_proc p;

        expect_hark((const char *const[]) { "--udp", "-H", "127.0.0.1", "-p", port, NULL }, "l1\nl2\r\n\n\nl3", 0);
        expect_datagrams(fd, (const char *const[]) { "l1", "l2", "l3" }, 3);
        expect_hark((const char *const[]) { "--udp", "-H", "127.0.0.1", "-p", port, "first", "-", "last", NULL },
                    "x1\nx2", 0);
        expect_datagrams(fd, (const char *const[]) { "first", "x1", "x2", "last" }, 4);

        assert_int_equal(it_run((char *const *) argv, input, sizeof(input) - 1, 20000, &p), 0);
        assert_int_equal(it_exit_code(&p), 0);
        it_proc_free(&p);
        expect_datagrams_n(fd, (const char *const[]) { "s1", "s2\0with NUL", "last" }, (const size_t[]) { 2, 11, 4 },
                           3);
}

/* The RFC 5424 header of --priority, --tag and --field inside each
 * datagram, no line end after it; a field value and a message with LFs
 * need no --octet-count. */
static void test_udp_syslog(void **state) {
        struct it_test *t = *state;
        char port[16], host[256] = "", want[512], buffer[1024], pid[16];
        const char *rest;
        int fd = udp_socket(t, AF_INET, port, sizeof(port));
        struct it_proc p;
        ssize_t n;

        assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
        assert_int_equal(hark((const char *const[]) { "--udp", "-H", "127.0.0.1", "-p", port, "--priority",
                              "local0.warning", "--tag", "myapp", "--field", "ORDER_ID=4711", "--field", "NOTE=a\nb",
                              "disk almost full", "two\nlines", NULL }, NULL, &p), 0);
        it_proc_free(&p);
        n = next_datagram(fd, buffer, sizeof(buffer) - 1, UDP_WAIT_MS);
        assert_true(n > 0);
        buffer[n] = 0;
        /* <132>1 2026-12-02T01:07:16.799813+00:00 HOST myapp PID - SD MSG */
        assert_true(strncmp(buffer, "<132>1 ", 7) == 0);
        assert_true(strlen(buffer) > 7 + 32 && buffer[7 + 10] == 'T' && buffer[7 + 32] == ' ');
        snprintf(want, sizeof(want), " %s myapp ", host);
        assert_true(strncmp(buffer + 7 + 32, want, strlen(want)) == 0);
        rest = buffer + 7 + 32 + strlen(want);
        assert_int_equal(sscanf(rest, "%15[0-9]", pid), 1);
        assert_true(atoi(pid) > 0);
        assert_string_equal(rest + strlen(pid), " - [journal@hark ORDER_ID=\"4711\" NOTE=\"a\nb\"] disk almost full");
        n = next_datagram(fd, buffer, sizeof(buffer) - 1, UDP_WAIT_MS);
        assert_true(n > 0);
        buffer[n] = 0;
        assert_non_null(strstr(buffer, "] two\nlines"));
        assert_int_equal(buffer[n - 1], 's');
        /* Without --priority: user.notice, as over TCP. */
        expect_hark((const char *const[]) { "--udp", "-H", "127.0.0.1", "-p", port, "--tag", "t", NULL }, "in\n", 0);
        n = next_datagram(fd, buffer, sizeof(buffer) - 1, UDP_WAIT_MS);
        assert_true(n > 0);
        buffer[n] = 0;
        assert_true(strncmp(buffer, "<13>1 ", 6) == 0);
        assert_non_null(strstr(buffer, " t "));
        assert_true(n > 5 && strcmp(buffer + n - 5, " - in") == 0);
}

/* A message of n bytes of c. */
static char *filled(size_t n, char c) {
        char *m = malloc(n + 1);

        assert_non_null(m);
        memset(m, c, n);
        m[n] = 0;
        return m;
}

/* The largest message a datagram carries goes; one byte more is named, not
 * sent, and the messages after it still go: exit 65. */
static void check_size_limit(struct it_test *t, int family, const char *host, size_t max) {
        char port[16], buffer[512];
        int fd = udp_socket(t, family, port, sizeof(port));
        char *fits = filled(max, 'f'), *over = filled(max + 1, 'o'), *input;
        struct it_proc p;

        assert_int_equal(hark((const char *const[]) { "--udp", "-H", host, "-p", port, fits, over, "after", NULL },
                              NULL, &p), 65);
        assert_non_null(strstr(p.err, "message 2 (\"oooo"));
        snprintf(buffer, sizeof(buffer), "is %zu bytes, more than a UDP datagram over %s carries (%zu); not sent",
                 max + 1, family == AF_INET6 ? "IPv6" : "IPv4", max);
        assert_non_null(strstr(p.err, buffer));
        it_proc_free(&p);
        expect_datagrams_n(fd, (const char *const[]) { fits, "after" }, (const size_t[]) { max, 5 }, 2);

        /* The same on standard input. */
        input = malloc(2 * max + 32);
        assert_non_null(input);
        snprintf(input, 2 * max + 32, "%s\n%s\nafter\n", over, fits);
        assert_int_equal(hark((const char *const[]) { "--udp", "-H", host, "-p", port, NULL }, input, &p), 65);
        assert_non_null(strstr(p.err, "message 1 (\"oooo"));
        it_proc_free(&p);
        free(input);
        expect_datagrams_n(fd, (const char *const[]) { fits, "after" }, (const size_t[]) { max, 5 }, 2);

        /* With a syslog header a message that fits alone does not. */
        assert_int_equal(hark((const char *const[]) { "--udp", "-H", host, "-p", port, "--tag", "big", fits, "small",
                              NULL }, NULL, &p), 65);
        assert_non_null(strstr(p.err, "with its syslog header"));
        it_proc_free(&p);
        assert_true(next_datagram(fd, buffer, sizeof(buffer), UDP_WAIT_MS) > 0);
        assert_non_null(memmem(buffer, sizeof(buffer), " big ", 5));
        assert_non_null(memmem(buffer, sizeof(buffer), " - - small", 10));
        assert_true(next_datagram(fd, buffer, sizeof(buffer), UDP_NO_MORE_MS) < 0);
        free(fits);
        free(over);
}

static void test_udp_size_limit(void **state) {
        check_size_limit(*state, AF_INET, "127.0.0.1", 65507);
}

static void test_udp_size_limit_ipv6(void **state) {
        check_size_limit(*state, AF_INET6, "::1", 65527);
}

/* Nobody listens: the port unreachable that comes back is 69, for one
 * datagram (seen after it) as for many (seen at the next). */
static void test_udp_nobody_listens(void **state) {
        static const char *const hosts[] = { "127.0.0.1", "::1" };
        struct it_test *t = *state;

        for (size_t i = 0; i < ELEMENTSOF(hosts); i++) {
                char port[16];
                struct it_proc p;

                closed_udp_port(t, i ? AF_INET6 : AF_INET, port, sizeof(port));
                assert_int_equal(hark((const char *const[]) { "--udp", "-H", hosts[i], "-p", port, "lost", NULL }, NULL,
                                      &p), 69);
                assert_non_null(strstr(p.err, "nobody listens on this UDP port"));
                it_proc_free(&p);
                expect_hark((const char *const[]) { "--udp", "-H", hosts[i], "-p", port, "a", "b", "c", NULL }, NULL,
                            69);
                expect_hark((const char *const[]) { "--udp", "-H", hosts[i], "-p", port, "--tag", "x", NULL },
                            "1\n2\n3\n", 69);
        }
}

/* IPv6, and host and port from harkd's config: udp_port, and "::" reached
 * as ::1. */
static void test_udp_ipv6_and_config(void **state) {
        struct it_test *t = *state;
        char port[16], config[256], text[128];
        int fd = udp_socket(t, AF_INET6, port, sizeof(port));

        expect_hark((const char *const[]) { "--udp", "-H", "::1", "-p", port, "over IPv6", NULL }, NULL, 0);
        expect_datagrams(fd, (const char *const[]) { "over IPv6" }, 1);

        it_tmp_path(config, sizeof(config), "udp", ".conf");
        it_test_keep_file(t, config);
        snprintf(text, sizeof(text), "host = \"::\";\nport = 10001;\nudp_port = %s;\n", port);
        assert_int_equal(it_write_file(config, text), 0);
        expect_hark((const char *const[]) { "--udp", "-c", config, "via config", NULL }, NULL, 0);
        expect_datagrams(fd, (const char *const[]) { "via config" }, 1);
        /* -p wins over udp_port: nobody there. */
        closed_udp_port(t, AF_INET6, port, sizeof(port));
        expect_hark((const char *const[]) { "--udp", "-c", config, "-p", port, "elsewhere", NULL }, NULL, 69);
        assert_true(next_datagram(fd, text, sizeof(text), UDP_NO_MORE_MS) < 0);
}

/* What --udp cannot do ends hark before it sends. */
static void test_udp_usage_errors(void **state) {
        struct it_test *t = *state;
        char port[16];
        int fd = udp_socket(t, AF_INET, port, sizeof(port));
        char buffer[16];

        expect_hark((const char *const[]) { "--udp", "-H", "127.0.0.1", "-p", port, "--tls", "x", NULL }, NULL, 64);
        expect_hark((const char *const[]) { "--udp", "-H", "127.0.0.1", "-p", port, "--octet-count", "x", NULL }, NULL,
                    64);
        expect_hark((const char *const[]) { "--udp", "-H", "127.0.0.1", "-p", port, "--ping", NULL }, NULL, 64);
        assert_true(next_datagram(fd, buffer, sizeof(buffer), UDP_NO_MORE_MS) < 0);
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
        IT_TEST(test_udp_arguments),
        IT_TEST(test_udp_stdin),
        IT_TEST(test_udp_syslog),
        IT_TEST(test_udp_size_limit),
        IT_TEST(test_udp_size_limit_ipv6),
        IT_TEST(test_udp_nobody_listens),
        IT_TEST(test_udp_ipv6_and_config),
        IT_TEST(test_udp_usage_errors),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "client",
                .once = IT_TESTS(once),
        });
}
