/* hark --tls end to end: the real hark binary against a real TLS server, a
 * small one written here with libssl (one connection, then it reports what
 * it saw and exits), so that each test decides what the server presents,
 * asks for and answers. Certificates come from tests/support-tls.h. Not yet
 * against harkd's own TLS port. */
#include "support.h"
#include "support-tls.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define SERVER_TIMEOUT_MS 10000

/* What the test server does with its one connection. */
enum serve {
        SERVE_TLS,      /* handshake, read to close_notify, answer */
        SERVE_CLOSE,    /* close at once, as harkd does to a refused source */
        SERVE_SILENT,   /* accept and say nothing: a stalled handshake */
};

struct server_spec {
        enum serve serve;
        const char *cert, *key;
        const char *client_ca;          /* require a client certificate signed by it */
        const char *answer;             /* NULL: "OK <lines received>\n" */
};

struct server {
        pid_t pid;
        char port[16];
        char report[256];               /* the file the server writes what it saw to */
};

static struct test_pki pki;

static const struct test_pki *the_pki(void) {
        char dir[256];

        if (pki.ca[0])
                return &pki;
        it_tmp_path(dir, sizeof(dir), "pki", NULL);
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(test_pki_create(&pki, dir), 0);
        return &pki;
}

static int listen_loopback(char port[16]) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        assert_true(fd >= 0);
        /* Port 0: the kernel picks a free one, with no race against others. */
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, len), 0);
        assert_int_equal(listen(fd, 4), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        snprintf(port, 16, "%u", ntohs(sa.sin_port));
        return fd;
}

static SSL_CTX *server_context(const struct server_spec *spec) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

        if (!ctx || !SSL_CTX_use_certificate_chain_file(ctx, spec->cert) ||
            !SSL_CTX_use_PrivateKey_file(ctx, spec->key, SSL_FILETYPE_PEM))
                return NULL;
        if (spec->client_ca) {
                if (!SSL_CTX_load_verify_file(ctx, spec->client_ca))
                        return NULL;
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        }
        return ctx;
}

static void report_peer(FILE *report, SSL *ssl) {
        X509 *peer = SSL_get0_peer_certificate(ssl);
        BIO *bio = BIO_new_fp(report, BIO_NOCLOSE);

        fputs("peer: ", report);
        fflush(report);
        if (peer && bio)
                X509_NAME_print_ex(bio, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
        else
                BIO_puts(bio, "none");
        BIO_puts(bio, "\n");
        BIO_free(bio);
}

/* The TLS session of the server: the report says how the handshake went,
 * whom the client certificate names, whether close_notify came, then the
 * bytes received. */
static void serve_tls(int fd, const struct server_spec *spec, FILE *report) {
        SSL_CTX *ctx = server_context(spec);
        SSL *ssl = ctx ? SSL_new(ctx) : NULL;
        char data[65536], answer[64];
        size_t used = 0, n;
        int lines = 0;

        if (!ssl || !SSL_set_fd(ssl, fd) || SSL_accept(ssl) != 1) {
                fprintf(report, "handshake failed: %s\n", ERR_reason_error_string(ERR_peek_error()));
                return;
        }
        fprintf(report, "handshake: %s\n", SSL_get_version(ssl));
        report_peer(report, ssl);
        while (used < sizeof(data) && SSL_read_ex(ssl, data + used, sizeof(data) - used, &n))
                used += n;
        fprintf(report, "close_notify: %s\n", SSL_get_error(ssl, 0) == SSL_ERROR_ZERO_RETURN ? "yes" : "no");
        for (size_t i = 0; i < used; i++)
                lines += data[i] == '\n';
        snprintf(answer, sizeof(answer), "OK %d\n", lines);
        SSL_write_ex(ssl, spec->answer ? spec->answer : answer, strlen(spec->answer ? spec->answer : answer), &n);
        SSL_shutdown(ssl);
        fprintf(report, "received:\n%.*s", (int) used, data);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
}

/* In the child: one connection, then exit. */
static void serve(int listen_fd, const struct server_spec *spec, const char *report_path) {
        struct timeval bound = { .tv_sec = SERVER_TIMEOUT_MS / 1000 };
        struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };
        FILE *report = fopen(report_path, "we");
        int fd;

        if (!report || poll(&pfd, 1, SERVER_TIMEOUT_MS) != 1)
                _exit(1);
        fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                _exit(1);
        close(listen_fd);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof(bound));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &bound, sizeof(bound));
        if (spec->serve == SERVE_TLS)
                serve_tls(fd, spec, report);
        else if (spec->serve == SERVE_SILENT)
                poll(&(struct pollfd) { .fd = fd, .events = POLLRDHUP }, 1, SERVER_TIMEOUT_MS);
        fclose(report);
        close(fd);
        _exit(0);
}

static void server_start(struct it_test *t, const struct server_spec *spec, struct server *s) {
        int fd = listen_loopback(s->port);

        it_tmp_path(s->report, sizeof(s->report), "server", ".report");
        it_test_keep_file(t, s->report);
        s->pid = it_fork();
        assert_true(s->pid >= 0);
        if (s->pid == 0)
                serve(fd, spec, s->report);
        close(fd);
        it_test_keep_pid(t, s->pid);
}

/* Waits for the server to end; what it reported (malloc'd). */
static char *server_report(struct it_test *t, struct server *s) {
        int status = it_test_wait_pid(t, s->pid, SERVER_TIMEOUT_MS + 2000);

        it_assert_exited_0(status, "the test TLS server");
        return it_read_file(s->report, NULL);
}

/* Runs hark with args (NULL-terminated) and messages on stdin (may be
 * NULL); returns its exit code, p keeps what it wrote. */
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

/* hark with args; asserts its exit code and that its stderr holds
 * err_part (NULL: is empty). */
static void expect_hark(const char *const *args, const char *input, int code, const char *err_part) {
        struct it_proc p;
        int got = hark(args, input, &p);
        bool err_ok = err_part ? strstr(p.err, err_part) != NULL : p.err[0] == 0;

        if (got != code || !err_ok)
                fprintf(stderr, "hark: exit %d, expected %d; stderr, expected to hold \"%s\":\n%s\n", got, code,
                        err_part ? err_part : "(nothing)", p.err);
        it_proc_free(&p);
        assert_int_equal(got, code);
        assert_true(err_ok);
}

static void assert_holds(const char *text, const char *part) {
        if (!strstr(text, part))
                fail_msg("expected \"%s\" in:\n%s", part, text);
}

#define HARK(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* Whether "localhost" resolves to 127.0.0.1 here: a minimal root (make
 * check-fresh's) has no /etc/hosts, and then only the IP address can name
 * the server; the name cases run wherever the name resolves. */
static bool localhost_resolves(void) {
        struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *list = NULL;
        bool ok = getaddrinfo("localhost", NULL, &hints, &list) == 0 &&
                  ((struct sockaddr_in *) list->ai_addr)->sin_addr.s_addr == htonl(INADDR_LOOPBACK);

        if (list)
                freeaddrinfo(list);
        return ok;
}

/* The server's name for the cases that need one that resolves. */
static const char *server_name(void) {
        return localhost_resolves() ? "localhost" : "127.0.0.1";
}

/* A good certificate: the messages go over TLS, close_notify ends them, and
 * harkd's "OK <n>" is checked as over TCP; by name or by IP address. */
static void test_confirmed(void **state) {
        struct it_test *t = *state;
        const struct test_pki *k = the_pki();
        struct server_spec spec = { .serve = SERVE_TLS, .cert = k->server_cert, .key = k->server_key };
        const char *hosts[] = { "127.0.0.1", "localhost" };

        for (size_t i = 0; i < ELEMENTSOF(hosts); i++) {
                struct server s;
                char *report;

                if (strcmp(hosts[i], "localhost") == 0 && !localhost_resolves()) {
                        print_message("localhost does not resolve here (no /etc/hosts?): by IP address only\n");
                        continue;
                }
                server_start(t, &spec, &s);
                expect_hark(HARK("--tls", "--tls-ca", k->ca, "-H", hosts[i], "-p", s.port, "one", "two words"), NULL,
                            0, NULL);
                report = server_report(t, &s);
                assert_holds(report, "handshake: TLSv1.3\n");
                assert_holds(report, "peer: none\n");
                assert_holds(report, "close_notify: yes\n");
                assert_holds(report, "received:\none\ntwo words\n");
                free(report);
        }
}

/* Standard input and the syslog framing run inside TLS as over TCP. */
static void test_stdin_and_octet_count(void **state) {
        struct it_test *t = *state;
        const struct test_pki *k = the_pki();
        struct server_spec spec = { .serve = SERVE_TLS, .cert = k->server_cert, .key = k->server_key, .answer = "OK 3\n" };
        struct server s;
        char *report;

        server_start(t, &spec, &s);
        expect_hark(HARK("--tls", "--tls-ca", k->ca, "-H", server_name(), "-p", s.port), "a\nb\nc\n", 0, NULL);
        report = server_report(t, &s);
        assert_holds(report, "received:\na\nb\nc\n");
        free(report);

        spec.answer = "OK 1\n";
        server_start(t, &spec, &s);
        expect_hark(HARK("--tls", "--tls-ca", k->ca, "-H", server_name(), "-p", s.port, "--octet-count", "x\ny"), NULL,
                    0, NULL);
        report = server_report(t, &s);
        /* One octet-counted frame, LF and all, with its RFC 5424 header. */
        assert_holds(report, "received:\n");
        assert_holds(report, " <13>1 ");
        assert_holds(report, " x\ny");
        free(report);
}

/* An answer short of what was sent is exit 75, as over TCP. */
static void test_short_count(void **state) {
        struct it_test *t = *state;
        const struct test_pki *k = the_pki();
        struct server_spec spec = { .serve = SERVE_TLS, .cert = k->server_cert, .key = k->server_key, .answer = "OK 1\n" };
        struct server s;

        server_start(t, &spec, &s);
        expect_hark(HARK("--tls", "--tls-ca", k->ca, "-H", "127.0.0.1", "-p", s.port, "one", "two"), NULL, 75,
                    "confirmed 1 of 2 messages");
        free(server_report(t, &s));
}

/* The certificate is good but names another server: exit 69 with the
 * reason, and nothing is sent. */
static void test_wrong_server_name(void **state) {
        struct it_test *t = *state;
        const struct test_pki *k = the_pki();
        char cert[TEST_PKI_PATH], key[TEST_PKI_PATH];
        struct server_spec spec = { .serve = SERVE_TLS, .cert = cert, .key = key };
        static const struct {
                const char *host, *reason;
        } cases[] = {
                { "127.0.0.1", "TLS: certificate verify failed: IP address mismatch" },
                { "localhost", "TLS: certificate verify failed: hostname mismatch" },
        };

        assert_int_equal(test_pki_new_server(k, "elsewhere", "DNS:elsewhere.example,IP:192.0.2.1", cert, key), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct server s;
                char *report, want[128];

                if (strcmp(cases[i].host, "localhost") == 0 && !localhost_resolves()) {
                        print_message("localhost does not resolve here (no /etc/hosts?): by IP address only\n");
                        continue;
                }
                server_start(t, &spec, &s);
                snprintf(want, sizeof(want), "hark: %s port %s: %s\n", cases[i].host, s.port, cases[i].reason);
                expect_hark(HARK("--tls", "--tls-ca", k->ca, "-H", cases[i].host, "-p", s.port, "secret"), NULL, 69,
                            want);
                report = server_report(t, &s);
                assert_holds(report, "handshake failed");
                assert_null(strstr(report, "secret"));
                free(report);
        }
}

/* A CA hark does not trust: the system's store (without --tls-ca), or
 * another CA's file. */
static void test_unknown_ca(void **state) {
        struct it_test *t = *state;
        const struct test_pki *k = the_pki();
        struct server_spec spec = { .serve = SERVE_TLS, .cert = k->server_cert, .key = k->server_key };
        const char *cas[] = { NULL, k->other_ca };

        for (size_t i = 0; i < ELEMENTSOF(cas); i++) {
                struct server s;
                char want[128];

                server_start(t, &spec, &s);
                snprintf(want, sizeof(want),
                         "hark: %s port %s: TLS: certificate verify failed: unable to get local issuer "
                         "certificate\n", server_name(), s.port);
                if (cas[i])
                        expect_hark(HARK("--tls", "--tls-ca", cas[i], "-H", server_name(), "-p", s.port, "m"), NULL, 69,
                                    want);
                else
                        expect_hark(HARK("--tls", "-H", server_name(), "-p", s.port, "m"), NULL, 69, want);
                free(server_report(t, &s));
        }
}

/* A server that asks for a client certificate gets the one given. */
static void test_client_certificate(void **state) {
        struct it_test *t = *state;
        const struct test_pki *k = the_pki();
        struct server_spec spec = { .serve = SERVE_TLS, .cert = k->server_cert, .key = k->server_key, .client_ca = k->ca };
        char subject[256], want[300], *report;
        struct server s;

        server_start(t, &spec, &s);
        expect_hark(HARK("--tls", "--tls-ca", k->ca, "--tls-certificate", k->client_cert, "--tls-key", k->client_key,
                         "-H", server_name(), "-p", s.port, "signed"), NULL, 0, NULL);
        report = server_report(t, &s);
        assert_int_equal(test_cert_subject(k->client_cert, subject, sizeof(subject)), 0);
        assert_string_equal(subject, "CN=client.example,O=hark tests");
        snprintf(want, sizeof(want), "peer: %s\n", subject);
        assert_holds(report, want);
        assert_holds(report, "received:\nsigned\n");
        free(report);

        /* Without one, the server refuses the session: nothing confirmed
         * (under TLS 1.3 hark learns it only after its handshake ended). */
        server_start(t, &spec, &s);
        {
                struct it_proc p;
                int code = hark(HARK("--tls", "--tls-ca", k->ca, "-H", server_name(), "-p", s.port, "unsigned"), NULL,
                                &p);

                if (code != 69 && code != 75)
                        fail_msg("exit %d, expected 69 or 75; stderr: %s", code, p.err);
                assert_holds(p.err, "none confirmed");
                it_proc_free(&p);
        }
        report = server_report(t, &s);
        assert_holds(report, "handshake failed");
        assert_null(strstr(report, "unsigned"));
        free(report);
}

/* harkd closing at once (a source outside its allow list): said so, over
 * TCP after sending (75), over TLS in the handshake (69). */
static void test_closed_before_answering(void **state) {
        struct it_test *t = *state;
        struct server_spec spec = { .serve = SERVE_CLOSE };
        struct server s;
        char want[160];

        server_start(t, &spec, &s);
        snprintf(want, sizeof(want), "hark: 127.0.0.1 port %s: closed by harkd before confirming (refused? see its "
                 "log); 1 messages sent, none confirmed\n", s.port);
        expect_hark(HARK("-H", "127.0.0.1", "-p", s.port, "m"), NULL, 75, want);
        free(server_report(t, &s));

        server_start(t, &spec, &s);
        snprintf(want, sizeof(want), "hark: 127.0.0.1 port %s: TLS: closed by harkd during the handshake (refused? "
                 "see its log)\n", s.port);
        expect_hark(HARK("--tls", "--tls-ca", the_pki()->ca, "-H", "127.0.0.1", "-p", s.port, "m"), NULL, 69, want);
        free(server_report(t, &s));
}

/* -t bounds the handshake too. */
static void test_stalled_handshake(void **state) {
        struct it_test *t = *state;
        struct server_spec spec = { .serve = SERVE_SILENT };
        struct server s;
        long long started;
        char want[128];

        server_start(t, &spec, &s);
        snprintf(want, sizeof(want), "hark: 127.0.0.1 port %s: TLS: no handshake in time\n", s.port);
        started = it_now_ms();
        expect_hark(HARK("--tls", "--tls-ca", the_pki()->ca, "-t", "0.5", "-H", "127.0.0.1", "-p", s.port, "m"), NULL,
                    69, want);
        assert_true(it_now_ms() - started < 3000);
        free(server_report(t, &s));
}

/* Files hark cannot use are exit 78 before it connects; a certificate
 * without its key is a usage error. */
static void test_bad_files_and_usage(void **state) {
        const struct test_pki *k = the_pki();

        (void) state;
        expect_hark(HARK("--tls", "--tls-certificate", k->client_cert, "-H", "127.0.0.1", "-p", "1", "m"), NULL, 64,
                    "hark: --tls-certificate needs --tls-key\n");
        expect_hark(HARK("--tls-ca", k->ca, "-H", "127.0.0.1", "-p", "1", "m"), NULL, 64, "hark: --tls-ca needs --tls\n");
        expect_hark(HARK("--tls", "--tls-ca", "/nonexistent/ca.pem", "-H", "127.0.0.1", "-p", "1", "m"), NULL, 78,
                    "hark: TLS: cannot load CA certificates from /nonexistent/ca.pem: No such file or directory\n");
        expect_hark(HARK("--tls", "--tls-ca", k->ca, "--tls-certificate", k->client_cert, "--tls-key", k->server_key,
                         "-H", "127.0.0.1", "-p", "1", "m"), NULL, 78, "key values mismatch");
}

static const struct CMUnitTest once[] = {
        IT_TEST(test_confirmed),
        IT_TEST(test_stdin_and_octet_count),
        IT_TEST(test_short_count),
        IT_TEST(test_wrong_server_name),
        IT_TEST(test_unknown_ca),
        IT_TEST(test_client_certificate),
        IT_TEST(test_closed_before_answering),
        IT_TEST(test_stalled_handshake),
        IT_TEST(test_bad_files_and_usage),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "client_tls",
                .once = IT_TESTS(once),
        });
}
