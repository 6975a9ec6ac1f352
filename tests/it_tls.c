/* harkd's TLS port in every concurrency mode, driven by a libssl client of
 * the test's own and by a real rsyslogd (ossl stream driver): the client
 * certificate's identity on every entry; refused and uncertified peers,
 * plain bytes, stalled handshakes and a ClientHello flood logged as
 * failures and never as messages; records cut into single bytes;
 * certificate rotation by SIGHUP. The certificates come from the test PKI
 * of support-tls.h, made once per test process. */
#include "support.h"
#include "support-syslog.h"
#include "support-tls.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "admission.h"
#include "events.h"

#define JOURNAL_TIMEOUT_MS 10000
#define IO_TIMEOUT_MS 5000
/* Pause between two single-byte writes of the split test. */
#define SPLIT_PAUSE_US 200
#define FLOOD_CONNECTIONS 200
#define FLOOD_MAX_CONNECTIONS 16
/* The flood connections that stall after their ClientHello (see flood_send()). */
#define FLOOD_STALLERS (FLOOD_CONNECTIONS / 3)
#define FLOOD_ROUNDS 12
/* LOG_RATELIMIT_BURST of src/log.h: failures logged per second. */
#define EVENTS_PER_SECOND 20

/* Slack on top of a time bound: sanitizers slow harkd down. */
static int slack_ms(void) {
        return it_sanitized() ? 4000 : 1000;
}

/* ---- the PKI ---- */

static struct test_pki the_pki;
static char pki_tmpdir[64];

/* The PKI of this process (a side-by-side group is a process of its own,
 * with a temporary directory of its own). */
static const struct test_pki *pki(void) {
        if (strcmp(pki_tmpdir, it_tmpdir()) != 0) {
                char dir[TEST_PKI_PATH];

                it_tmp_path(dir, sizeof(dir), "pki", NULL);
                assert_int_equal(mkdir(dir, 0700), 0);
                assert_int_equal(test_pki_create(&the_pki, dir), 0);
                snprintf(pki_tmpdir, sizeof(pki_tmpdir), "%s", it_tmpdir());
        }
        return &the_pki;
}

static void cert_identity(const char *path, char subject[512], char sha256[96]) {
        assert_int_equal(test_cert_subject(path, subject, 512), 0);
        assert_int_equal(test_cert_sha256(path, sha256, 96), 0);
}

/* ---- harkd with a TLS port ---- */

struct tls_harkd_options {
        const char *certificate, *key;  /* NULL: the PKI's server certificate */
        bool client_ca;                 /* tls_client_ca = the PKI's ca */
        const char *timeout;            /* NULL: "10" */
        int max_connections;
        const char *mode;               /* NULL: it_mode */
};

struct tls_harkd {
        struct harkd *h;
        int tls_port;
};

static struct tls_harkd start_tls_harkd(struct it_test *t, size_t i, const struct tls_harkd_options *o) {
        const struct test_pki *p = pki();
        struct tls_harkd th;
        char extra[3200];

        int n = snprintf(extra, sizeof(extra), "tls_certificate = \"%s\";\ntls_key = \"%s\";\n%s%s%s",
                         o->certificate ? o->certificate : p->server_cert, o->key ? o->key : p->server_key,
                         o->client_ca ? "tls_client_ca = \"" : "", o->client_ca ? p->ca : "",
                         o->client_ca ? "\";\n" : "");

        assert_true(n > 0 && (size_t) n < sizeof(extra));
        th.h = it_test_harkd(t, i, &(struct harkd_options) { .extra = extra, .second_port_key = "tls_port",
                                                             .timeout = o->timeout,
                                                             .max_connections = o->max_connections,
                                                             .mode = o->mode });
        th.tls_port = th.h->second_port;
        return th;
}

/* harkd's events with message_id whose MESSAGE holds needle (NULL: any),
 * of h's main process. */
static int harkd_events(const struct harkd *h, const char *message_id, const char *needle, size_t expected,
                        int timeout_ms, struct it_entries *e) {
        char id[64], pid[32];
        const char *matches[] = { id, harkd_pid_match(h, pid, sizeof(pid)), NULL };

        snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_id);
        return it_harkd_events(matches, needle, expected, timeout_ms, e);
}

/* The same for the events about the connection from 127.0.0.1:port, of any
 * harkd process: fork mode logs from the connection's process, which may
 * be gone before journald reads its _COMM, so no match on that. The port
 * may have served an earlier test's connection too: the last one counts. */
static void peer_events(int port, const char *message_id, const char *needle, struct it_entries *e) {
        char id[64], remote[32];
        const char *matches[] = { id, remote, NULL };

        snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_id);
        snprintf(remote, sizeof(remote), "REMOTE_PORT=%d", port);
        it_harkd_events(matches, needle, 1, JOURNAL_TIMEOUT_MS, e);
}

/* Asserts that no entry of the journal, whoever wrote it, has a MESSAGE
 * holding needle. */
static void assert_nowhere(const char *needle) {
        const char *matches[] = { NULL };
        struct it_entries e;
        int r = it_journal_collect_matching(matches, needle, 1, 200, &e);

        if (r != 0) {
                it_entries_print(&e);
                fail_msg("\"%s\" reached the journal (%d entries)", needle, r);
        }
        it_entries_free(&e);
}

/* ---- a libssl client ---- */

struct tls_client {
        SSL *ssl;
        int fd;
};

static int set_timeouts(int fd, int timeout_ms) {
        struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };

        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
                return -errno;
        return 0;
}

static void print_ssl_errors(const char *what) {
        fprintf(stderr, "%s:\n", what);
        ERR_print_errors_fp(stderr);
}

/* A client context that trusts the PKI's ca and checks harkd's name
 * (localhost); with cert and key when not NULL. Kept until exit. */
static SSL_CTX *client_ctx(const char *cert, const char *key) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

        assert_non_null(ctx);
        assert_int_equal(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION), 1);
        if (SSL_CTX_load_verify_locations(ctx, pki()->ca, NULL) != 1)
                print_ssl_errors("loading the CA");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (cert) {
                if (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
                    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
                        print_ssl_errors("loading the client certificate");
                        fail();
                }
        }
        return ctx;
}

static SSL *client_ssl(SSL_CTX *ctx) {
        SSL *ssl = SSL_new(ctx);

        assert_non_null(ssl);
        assert_int_equal(SSL_set1_host(ssl, "localhost"), 1);
        assert_int_equal(SSL_set_tlsext_host_name(ssl, "localhost"), 1);
        return ssl;
}

/* Connects to the TLS port and runs the handshake. Returns 1 when it ended
 * well at the client (in TLS 1.3 the server may still refuse the client's
 * certificate afterwards), else 0 (fd and ssl are kept either way). */
static int tls_open(struct it_test *t, SSL_CTX *ctx, int port, struct tls_client *c) {
        int r;

        c->fd = it_test_connect(t, "127.0.0.1", port);
        assert_int_equal(set_timeouts(c->fd, IO_TIMEOUT_MS), 0);
        c->ssl = client_ssl(ctx);
        assert_int_equal(SSL_set_fd(c->ssl, c->fd), 1);
        r = SSL_connect(c->ssl);
        ERR_clear_error();
        return r == 1;
}

static int tls_send(struct tls_client *c, const char *text) {
        size_t written;

        if (SSL_write_ex(c->ssl, text, strlen(text), &written) != 1 || written != strlen(text)) {
                ERR_clear_error();
                return -EPIPE;
        }
        return 0;
}

/* Reads until harkd's close_notify (0), another end (-ECONNRESET, -EPROTO,
 * -ETIMEDOUT); the text read goes to buffer. */
static int tls_read_to_end(SSL *ssl, char *buffer, size_t size) {
        size_t used = 0;

        buffer[0] = 0;
        for (;;) {
                char chunk[256];
                size_t n;
                int e;

                if (SSL_read_ex(ssl, chunk, sizeof(chunk), &n) == 1) {
                        size_t room = size - 1 - used;
                        memcpy(buffer + used, chunk, n < room ? n : room);
                        used += n < room ? n : room;
                        buffer[used] = 0;
                        continue;
                }
                e = SSL_get_error(ssl, 0);
                ERR_clear_error();
                if (e == SSL_ERROR_ZERO_RETURN)
                        return 0;
                if (e == SSL_ERROR_SYSCALL)
                        return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -ECONNRESET;
                return -EPROTO;
        }
}

/* close_notify, then harkd's answer up to its close_notify. Returns 0 when
 * it was exactly "OK <n>\n" (n in *confirmed), -EBADMSG for another answer,
 * or what tls_read_to_end() returned; the answer goes to reply. */
static int tls_finish(struct tls_client *c, uint64_t *confirmed, char *reply, size_t size) {
        unsigned long long n;
        char end;
        int r;

        reply[0] = 0;
        if (SSL_shutdown(c->ssl) < 0) {
                ERR_clear_error();
                return -EPIPE;
        }
        r = tls_read_to_end(c->ssl, reply, size);
        if (r < 0)
                return r;
        if (sscanf(reply, "OK %llu%c", &n, &end) != 2 || end != '\n' || strchr(reply, '\n')[1] != 0)
                return -EBADMSG;
        *confirmed = n;
        return 0;
}

static void tls_close(struct it_test *t, struct tls_client *c) {
        SSL_free(c->ssl);
        c->ssl = NULL;
        it_test_close(t, c->fd);
}

/* The SHA-256 fingerprint of the certificate the server presented. */
static void server_fingerprint(SSL *ssl, char out[96]) {
        X509 *cert = SSL_get0_peer_certificate(ssl);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned length = 0;

        assert_non_null(cert);
        assert_int_equal(X509_digest(cert, EVP_sha256(), md, &length), 1);
        assert_int_equal(length, 32);
        for (unsigned i = 0; i < length; i++)
                snprintf(out + i * 3, 4, i + 1 < length ? "%02X:" : "%02X", md[i]);
}

/* Sends lines over a new TLS connection and asserts "OK <n>" for them. */
static void tls_send_and_confirm(struct it_test *t, SSL_CTX *ctx, int port, const char *const *lines, size_t n,
                                 char fingerprint[96]) {
        struct tls_client c;
        uint64_t confirmed = 0;
        char reply[128];
        int r;

        if (!tls_open(t, ctx, port, &c))
                fail_msg("the TLS handshake with harkd failed");
        if (fingerprint)
                server_fingerprint(c.ssl, fingerprint);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(tls_send(&c, lines[i]), 0);
        r = tls_finish(&c, &confirmed, reply, sizeof(reply));
        if (r != 0)
                fail_msg("expected \"OK %zu\", got \"%s\" (%s)", n, reply, strerror(-r));
        assert_int_equal(confirmed, n);
        tls_close(t, &c);
}

/* Asserts the REMOTE_TLS_* fields of every entry of e: the identity of the
 * certificate in cert_path, or none when NULL. */
static void assert_tls_identity(const struct it_entries *e, const char *cert_path) {
        char subject[512], sha256[96];

        if (cert_path)
                cert_identity(cert_path, subject, sha256);
        for (size_t i = 0; i < e->n; i++) {
                if (cert_path) {
                        it_assert_field(&e->v[i], "REMOTE_TLS_SUBJECT", subject);
                        it_assert_field(&e->v[i], "REMOTE_TLS_SHA256", sha256);
                } else if (it_entry_field(&e->v[i], "REMOTE_TLS_SUBJECT", NULL) ||
                           it_entry_field(&e->v[i], "REMOTE_TLS_SHA256", NULL)) {
                        it_entries_print(e);
                        fail_msg("entry %zu carries a REMOTE_TLS_* field, but no certificate was verified", i);
                }
        }
}

static void assert_messages(const struct harkd *h, const char *const *expected, size_t n, struct it_entries *e) {
        it_journal_messages(h->identifier, n, JOURNAL_TIMEOUT_MS, e);
        it_assert_messages(e, expected, n);
}

/* ---- 1. a good client certificate ---- */

/* Five lines, close_notify, "OK 5"; each entry carries the client
 * certificate's subject and fingerprint; the plain port beside it stays
 * plain, without them. */
static void test_good_client(void **state) {
        static const char *const lines[] = { "tls one\n", "tls two\n", "tls three\n", "tls four\n", "tls five\n" };
        static const char *const expected[] = { "tls one", "tls two", "tls three", "tls four", "tls five",
                                                "plain beside" };
        struct it_test *t = *state;
        struct tls_harkd th = start_tls_harkd(t, 0, &(struct tls_harkd_options) { .client_ca = true });
        SSL_CTX *ctx = client_ctx(pki()->client_cert, pki()->client_key);
        struct it_entries e = { 0 }, tls = { 0 };

        tls_send_and_confirm(t, ctx, th.tls_port, lines, 5, NULL);
        it_send_and_confirm(t, th.h, "plain beside\n", 1);
        assert_messages(th.h, expected, 6, &e);
        tls.v = e.v;
        tls.n = 5;
        assert_tls_identity(&tls, pki()->client_cert);
        it_assert_one_connection(&e, 0, 5);
        tls.v = e.v + 5;
        tls.n = 1;
        assert_tls_identity(&tls, NULL);
        it_entries_free(&e);
        SSL_CTX_free(ctx);
        it_assert_harkd_stops(th.h, 5000);
}

/* ---- 2. refused client certificates ---- */

/* A client harkd must refuse: it handshakes (which may seem to succeed at
 * the client under TLS 1.3), sends text, close_notify, and must get no
 * "OK"; harkd logs the failure with reason. Returns the client's port. */
static int refused_client(struct it_test *t, const struct tls_harkd *th, SSL_CTX *ctx, const char *text) {
        struct tls_client c;
        uint64_t confirmed = 0;
        char reply[128];
        int port, r;

        if (tls_open(t, ctx, th->tls_port, &c))
                (void) tls_send(&c, text);
        port = it_local_port(c.fd);
        r = tls_finish(&c, &confirmed, reply, sizeof(reply));
        if (r == 0 || reply[0])
                fail_msg("a refused client got \"%s\" (%s)", reply, r ? strerror(-r) : "and harkd's close_notify");
        tls_close(t, &c);
        return port;
}

/* Waits for the event with this port and reason, not merely the port's
 * first: the kernel may give two clients in a row the same ephemeral port,
 * and in fork mode the second child can log before the first. */
static void assert_failure_event(int port, const char *reason) {
        struct it_entries e;
        char prefix[160];
        const char *message;

        snprintf(prefix, sizeof(prefix), "TLS handshake with 127.0.0.1:%d failed: ", port);
        peer_events(port, EVENT_TLS_FAILED, reason, &e);
        message = e.n < 1 ? NULL : it_entry_field(&e.v[e.n - 1], "MESSAGE", NULL);
        if (!message || !strstr(message, prefix) || !strstr(message, "nothing of it logged")) {
                it_entries_print(&e);
                fail_msg("expected an event \"%s...\" with \"%s\" and \"nothing of it logged\"", prefix, reason);
        }
        it_entries_free(&e);
}

/* tls_client_ca set: no certificate, one from the other CA, an expired
 * one: each handshake fails, no "OK", the failure logged with its reason,
 * counted, and nothing the client sent reaches the journal. A good client
 * after them is the last and only entry. */
static void test_refused_certificates(void **state) {
        static const char *const barrier[] = { "good after the refused\n" };
        struct it_test *t = *state;
        const struct test_pki *p = pki();
        struct tls_harkd th = start_tls_harkd(t, 0, &(struct tls_harkd_options) { .client_ca = true });
        SSL_CTX *none = client_ctx(NULL, NULL), *other = client_ctx(p->other_client_cert, p->other_client_key),
                *expired = client_ctx(p->expired_cert, p->expired_key),
                *good = client_ctx(p->client_cert, p->client_key);
        char texts[3][96];
        int ports[3];
        struct it_entries e;

        for (int i = 0; i < 3; i++)
                snprintf(texts[i], sizeof(texts[i]), "refused-%d-%s\n", i, th.h->identifier);
        ports[0] = refused_client(t, &th, none, texts[0]);
        ports[1] = refused_client(t, &th, other, texts[1]);
        ports[2] = refused_client(t, &th, expired, texts[2]);
        assert_failure_event(ports[0], "peer did not return a certificate");
        assert_failure_event(ports[1], "client certificate refused: unable to get local issuer certificate");
        assert_failure_event(ports[2], "client certificate refused: certificate has expired");
        assert_int_equal(harkd_wait_notify(th.h, "STATUS=*, 3 TLS handshakes failed*", 5000, NULL, 0), 0);

        tls_send_and_confirm(t, good, th.tls_port, barrier, 1, NULL);
        assert_messages(th.h, (const char *const[]) { "good after the refused" }, 1, &e);
        it_entries_free(&e);
        for (int i = 0; i < 3; i++) {
                texts[i][strlen(texts[i]) - 1] = 0;
                assert_nowhere(texts[i]);
        }
        SSL_CTX_free(none);
        SSL_CTX_free(other);
        SSL_CTX_free(expired);
        SSL_CTX_free(good);
        it_assert_harkd_stops(th.h, 5000);
}

/* ---- 3. without tls_client_ca ---- */

/* Anyone may connect: a client without a certificate is served, and so is
 * one that presents one nobody asked for; neither gets REMOTE_TLS_*. */
static void test_no_client_ca(void **state) {
        static const char *const anonymous[] = { "anonymous a\n", "anonymous b\n" };
        static const char *const offered[] = { "offered a certificate\n" };
        struct it_test *t = *state;
        struct tls_harkd th = start_tls_harkd(t, 0, &(struct tls_harkd_options) { 0 });
        SSL_CTX *none = client_ctx(NULL, NULL), *with = client_ctx(pki()->client_cert, pki()->client_key);
        struct it_entries e;

        tls_send_and_confirm(t, none, th.tls_port, anonymous, 2, NULL);
        tls_send_and_confirm(t, with, th.tls_port, offered, 1, NULL);
        assert_messages(th.h, (const char *const[]) { "anonymous a", "anonymous b", "offered a certificate" }, 3, &e);
        assert_tls_identity(&e, NULL);
        it_entries_free(&e);
        SSL_CTX_free(none);
        SSL_CTX_free(with);
        it_assert_harkd_stops(th.h, 5000);
}

/* ---- 4. plain bytes on the TLS port ---- */

/* Plain lines on the TLS port: closed without an answer, the failure
 * logged, nothing of them a message; the plain port beside still serves. */
static void test_plain_bytes(void **state) {
        struct it_test *t = *state;
        struct tls_harkd th = start_tls_harkd(t, 0, &(struct tls_harkd_options) { .client_ca = true });
        char text[128], reply[64];
        struct it_entries e;
        size_t length = 0;
        int fd, port, r;

        snprintf(text, sizeof(text), "plain-on-tls %s\nand more\n", th.h->identifier);
        fd = it_test_connect(t, "127.0.0.1", th.tls_port);
        port = it_local_port(fd);
        assert_int_equal(it_send_str(fd, text), 0);
        (void) shutdown(fd, SHUT_WR);
        r = it_read_to_eof(fd, reply, sizeof(reply), &length, IO_TIMEOUT_MS);
        /* harkd may answer with a TLS alert: bytes, but never "OK". */
        assert_true(r == 0 || r == -ECONNRESET);
        assert_null(strstr(reply, "OK"));
        it_test_close(t, fd);
        assert_failure_event(port, "wrong version number");

        it_send_and_confirm(t, th.h, "plain port still plain\n", 1);
        assert_messages(th.h, (const char *const[]) { "plain port still plain" }, 1, &e);
        assert_tls_identity(&e, NULL);
        it_entries_free(&e);
        text[strlen("plain-on-tls ") + strlen(th.h->identifier)] = 0;
        assert_nowhere(text);
        assert_nowhere("and more");
        it_assert_harkd_stops(th.h, 5000);
}

/* ---- 5. a stalled handshake ---- */

/* The ClientHello a client of ctx sends first, as bytes. */
static size_t client_hello(SSL_CTX *ctx, unsigned char *buffer, size_t size) {
        SSL *ssl = client_ssl(ctx);
        BIO *in = BIO_new(BIO_s_mem()), *out = BIO_new(BIO_s_mem());
        int n;

        assert_true(in && out);
        SSL_set_bio(ssl, in, out);
        assert_true(SSL_connect(ssl) <= 0);
        assert_int_equal(SSL_get_error(ssl, -1), SSL_ERROR_WANT_READ);
        n = BIO_read(out, buffer, (int) size);
        assert_true(n > 5);
        SSL_free(ssl);
        return (size_t) n;
}

/* How long until harkd closed fd (end of stream or reset), at most timeout_ms. */
static long long closed_after(int fd, long long since, int timeout_ms) {
        char reply[64];
        size_t length = 0;
        int r = it_read_to_eof(fd, reply, sizeof(reply), &length, timeout_ms);

        if (r != 0 && r != -ECONNRESET)
                fail_msg("harkd did not close a stalled handshake within %d ms: %s", timeout_ms, strerror(-r));
        return it_now_ms() - since;
}

/* timeout = 1 bounds the handshake at 1000 ms: a client that sends nothing
 * is closed then, logged as such; it held the one slot of max_connections
 * = 1 only until then. One that sends half a ClientHello holds it no
 * longer either: a client behind it is served within the bound (earlier
 * when evicted for it). */
static void test_stalled_handshake(void **state) {
        enum { BOUND_MS = 1000 };
        static const char *const after[] = { "after the silent one\n" };
        static const char *const behind[] = { "behind the half hello\n" };
        struct it_test *t = *state;
        struct tls_harkd th = start_tls_harkd(t, 0, &(struct tls_harkd_options) { .client_ca = true, .timeout = "1",
                                                                                 .max_connections = 1 });
        SSL_CTX *ctx = client_ctx(pki()->client_cert, pki()->client_key);
        unsigned char hello[4096];
        size_t hello_size = client_hello(ctx, hello, sizeof(hello));
        struct it_entries e;
        long long start, took;
        int silent, half, port;

        start = it_now_ms();
        silent = it_test_connect(t, "127.0.0.1", th.tls_port);
        port = it_local_port(silent);
        took = closed_after(silent, start, BOUND_MS + slack_ms() + 2000);
        fprintf(stderr, "a silent handshake was closed after %lld ms\n", took);
        assert_true(took >= BOUND_MS - 100);
        assert_true(took <= BOUND_MS + slack_ms());
        it_test_close(t, silent);
        assert_failure_event(port, "it did not end within 1000 ms");
        start = it_now_ms();
        tls_send_and_confirm(t, ctx, th.tls_port, after, 1, NULL);
        assert_true(it_now_ms() - start < slack_ms());

        start = it_now_ms();
        half = it_test_connect(t, "127.0.0.1", th.tls_port);
        assert_int_equal(it_send(half, hello, hello_size / 2), 0);
        tls_send_and_confirm(t, ctx, th.tls_port, behind, 1, NULL);
        took = it_now_ms() - start;
        fprintf(stderr, "a client behind half a ClientHello was served after %lld ms\n", took);
        assert_true(took <= BOUND_MS + slack_ms());
        took = closed_after(half, start, slack_ms());
        assert_true(took <= BOUND_MS + slack_ms());
        it_test_close(t, half);

        assert_int_equal(harkd_wait_notify(th.h, "STATUS=0 open connections,*", 5000, NULL, 0), 0);
        assert_messages(th.h, (const char *const[]) { "after the silent one", "behind the half hello" }, 2, &e);
        it_entries_free(&e);
        SSL_CTX_free(ctx);
        it_assert_harkd_stops(th.h, 5000);
}

/* ---- 6. records split byte by byte ---- */

/* libssl over a BIO pair: the ciphertext it makes reaches harkd one byte
 * per write(2), with a pause after each. */
struct split_client {
        SSL *ssl;
        BIO *network;           /* the test's end of the pair */
        int fd;
        size_t writes;
};

static int split_flush(struct split_client *s) {
        unsigned char byte;

        while (BIO_read(s->network, &byte, 1) == 1) {
                if (send(s->fd, &byte, 1, MSG_NOSIGNAL) != 1)
                        return -errno;
                s->writes++;
                usleep(SPLIT_PAUSE_US);
        }
        return 0;
}

/* What harkd sent, into the pair. */
static int split_receive(struct split_client *s) {
        unsigned char buffer[4096];
        size_t room = BIO_ctrl_get_write_guarantee(s->network);
        ssize_t n;

        if (!it_readable(s->fd, IO_TIMEOUT_MS))
                return -ETIMEDOUT;
        n = read(s->fd, buffer, room < sizeof(buffer) ? room : sizeof(buffer));
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ECONNRESET;
        assert_int_equal(BIO_write(s->network, buffer, (int) n), (int) n);
        return 0;
}

enum split_op { SPLIT_CONNECT, SPLIT_WRITE, SPLIT_SHUTDOWN, SPLIT_READ };

/* Runs op to its end, moving bytes both ways. Returns > 0 when it is
 * done, 0 at harkd's close_notify (SPLIT_READ), or -errno. */
static int split_run(struct split_client *s, enum split_op op, void *data, size_t size, size_t *done) {
        for (;;) {
                int r, e, f;

                switch (op) {
                case SPLIT_CONNECT:
                        r = SSL_connect(s->ssl);
                        break;
                case SPLIT_WRITE:
                        r = SSL_write_ex(s->ssl, data, size, done);
                        break;
                case SPLIT_SHUTDOWN:
                        r = SSL_shutdown(s->ssl);
                        /* 0: our close_notify is out; harkd's comes after "OK". */
                        r = r >= 0 ? 1 : r;
                        break;
                default:
                        r = SSL_read_ex(s->ssl, data, size, done);
                        break;
                }
                e = SSL_get_error(s->ssl, r);
                f = split_flush(s);
                if (f < 0)
                        return f;
                if (r > 0)
                        return r;
                if (e == SSL_ERROR_ZERO_RETURN)
                        return 0;
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                        print_ssl_errors("split client");
                        return -EPROTO;
                }
                if (e == SSL_ERROR_WANT_READ && (f = split_receive(s)) < 0)
                        return f;
        }
}

/* The handshake (with a client certificate), five records and the
 * close_notify, each byte in a write of its own: all five logged with the
 * certificate's identity, "OK 5". */
static void test_split_records(void **state) {
        static const char *const lines[] = { "split one\n", "split two\n", "split three\n", "split four\n",
                                             "split five\n" };
        struct it_test *t = *state;
        struct tls_harkd th = start_tls_harkd(t, 0, &(struct tls_harkd_options) { .client_ca = true });
        SSL_CTX *ctx = client_ctx(pki()->client_cert, pki()->client_key);
        struct split_client s = { .ssl = client_ssl(ctx) };
        BIO *inner = NULL;
        char reply[128] = "";
        size_t used = 0, done, total = 0;
        struct it_entries e;
        int one = 1, r;

        s.fd = it_test_connect(t, "127.0.0.1", th.tls_port);
        assert_int_equal(setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
        assert_int_equal(BIO_new_bio_pair(&inner, 0, &s.network, 0), 1);
        SSL_set_bio(s.ssl, inner, inner);
        assert_int_equal(split_run(&s, SPLIT_CONNECT, NULL, 0, NULL), 1);
        for (size_t i = 0; i < 5; i++) {
                assert_int_equal(split_run(&s, SPLIT_WRITE, (void *) lines[i], strlen(lines[i]), &done), 1);
                assert_int_equal(done, strlen(lines[i]));
        }
        assert_int_equal(split_run(&s, SPLIT_SHUTDOWN, NULL, 0, NULL), 1);
        while ((r = split_run(&s, SPLIT_READ, reply + used, sizeof(reply) - 1 - used, &done)) > 0)
                used += done;
        reply[used] = 0;
        if (r != 0 || strcmp(reply, "OK 5\n") != 0)
                fail_msg("expected \"OK 5\\n\" and close_notify, got \"%s\" (%s)", reply, r ? strerror(-r) : "ok");
        total = s.writes;
        fprintf(stderr, "%zu single-byte writes\n", total);
        /* A handshake with a client certificate alone is well over 1000 bytes. */
        assert_true(total > 1000);
        SSL_free(s.ssl);
        BIO_free(s.network);
        it_test_close(t, s.fd);

        assert_messages(th.h, (const char *const[]) { "split one", "split two", "split three", "split four",
                                                      "split five" }, 5, &e);
        assert_tls_identity(&e, pki()->client_cert);
        it_entries_free(&e);
        SSL_CTX_free(ctx);
        it_assert_harkd_stops(th.h, 5000);
}

/* ---- 8. certificate rotation ---- */

static void copy_file(const char *from, const char *to) {
        char *text = it_read_file(from, NULL);

        assert_true(text[0]);
        assert_int_equal(it_write_file(to, text), 0);
        free(text);
}

/* A client's view of harkd's certificate, and that it is served. */
static void assert_served_with(struct it_test *t, SSL_CTX *ctx, int port, const char *cert_path, const char *line) {
        char expected[96], seen[96];

        assert_int_equal(test_cert_sha256(cert_path, expected, sizeof(expected)), 0);
        tls_send_and_confirm(t, ctx, port, &line, 1, seen);
        assert_string_equal(seen, expected);
}

/* Server certificate A; its files get B's contents and SIGHUP: a new
 * client sees B. Garbage in the key file and SIGHUP: the reload fails,
 * logged; clients still see B and are served. */
static void test_rotation(void **state) {
        struct it_test *t = *state;
        const struct test_pki *p = pki();
        char cert[256], key[256], b_cert[TEST_PKI_PATH], b_key[TEST_PKI_PATH], stem[32], pid[32];
        struct tls_harkd th;
        SSL_CTX *ctx = client_ctx(p->client_cert, p->client_key);
        const char *matches[] = { pid, "MESSAGE_ID=" EVENT_RELOADED, NULL };
        struct it_entries e;

        it_tmp_path(cert, sizeof(cert), "server", ".crt");
        it_tmp_path(key, sizeof(key), "server", ".key");
        it_test_keep_file(t, cert);
        it_test_keep_file(t, key);
        copy_file(p->server_cert, cert);
        copy_file(p->server_key, key);
        snprintf(stem, sizeof(stem), "rotated-%u", it_next_serial());
        assert_int_equal(test_pki_new_server(p, stem, NULL, b_cert, b_key), 0);
        th = start_tls_harkd(t, 0, &(struct tls_harkd_options) { .certificate = cert, .key = key, .client_ca = true });
        harkd_pid_match(th.h, pid, sizeof(pid));

        assert_served_with(t, ctx, th.tls_port, p->server_cert, "with A\n");
        copy_file(b_cert, cert);
        copy_file(b_key, key);
        assert_int_equal(harkd_signal(th.h, SIGHUP), 0);
        it_harkd_events(matches, NULL, 1, JOURNAL_TIMEOUT_MS, &e);
        assert_int_equal(e.n, 1);
        it_entries_free(&e);
        assert_served_with(t, ctx, th.tls_port, b_cert, "with B\n");

        assert_int_equal(it_write_file(key, "this is no key\n"), 0);
        assert_int_equal(harkd_signal(th.h, SIGHUP), 0);
        matches[1] = NULL;
        it_harkd_events(matches, "Failed to reload configuration, keeping the running one: ", 1, JOURNAL_TIMEOUT_MS,
                        &e);
        assert_int_equal(e.n, 1);
        assert_non_null(strstr(it_entry_field(&e.v[0], "MESSAGE", NULL), key));
        it_entries_free(&e);
        assert_served_with(t, ctx, th.tls_port, b_cert, "still B\n");

        assert_messages(th.h, (const char *const[]) { "with A", "with B", "still B" }, 3, &e);
        assert_tls_identity(&e, p->client_cert);
        it_entries_free(&e);
        SSL_CTX_free(ctx);
        it_assert_harkd_stops(th.h, 5000);
}

/* ---- 7. a ClientHello flood ---- */

struct good_client {
        int port;
        SSL_CTX *ctx;
        int rounds, served;
        long long worst_ms;
        char error[160];
};

/* One line over a new TLS connection, and "OK 1". Returns 0 or -errno;
 * the answer goes to reply. No cmocka here: it runs in a thread. */
static int good_round(const struct good_client *g, const char *line, char *reply, size_t size) {
        struct tls_client c = { .ssl = NULL, .fd = it_connect("127.0.0.1", g->port, 20000) };
        uint64_t confirmed = 0;
        int r = c.fd < 0 ? c.fd : set_timeouts(c.fd, 20000);

        reply[0] = 0;
        if (r == 0) {
                c.ssl = SSL_new(g->ctx);
                r = c.ssl && SSL_set1_host(c.ssl, "localhost") == 1 && SSL_set_fd(c.ssl, c.fd) == 1 &&
                    SSL_connect(c.ssl) == 1 ? 0 : -EPROTO;
                ERR_clear_error();
        }
        if (r == 0)
                r = tls_send(&c, line);
        if (r == 0)
                r = tls_finish(&c, &confirmed, reply, size);
        if (r == 0 && confirmed != 1)
                r = -EBADMSG;
        SSL_free(c.ssl);
        if (c.fd >= 0)
                close(c.fd);
        return r;
}

/* Connects again and again while the flood runs, timing each round. */
static void *good_client_run(void *arg) {
        struct good_client *g = arg;

        for (int i = 0; i < g->rounds; i++) {
                long long start = it_now_ms();
                char line[64], reply[64];
                int r;

                snprintf(line, sizeof(line), "good through the flood %d\n", i);
                r = good_round(g, line, reply, sizeof(reply));
                if (it_now_ms() - start > g->worst_ms)
                        g->worst_ms = it_now_ms() - start;
                if (r < 0) {
                        snprintf(g->error, sizeof(g->error), "round %d: %s (answer \"%s\")", i, strerror(-r), reply);
                        break;
                }
                g->served++;
                it_sleep_ms(100);
        }
        return NULL;
}

struct flood {
        int fds[FLOOD_CONNECTIONS];
        bool sent[FLOOD_CONNECTIONS];
        int n_sent;
};

/* Starts FLOOD_CONNECTIONS connects at once (non-blocking: the backlog
 * fills, the kernel keeps the rest waiting). */
static void flood_connect(struct flood *f, int port) {
        struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

        for (int i = 0; i < FLOOD_CONNECTIONS; i++) {
                f->fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                assert_true(f->fds[i] >= 0);
                if (connect(f->fds[i], (struct sockaddr *) &to, sizeof(to)) < 0 && errno != EINPROGRESS)
                        fail_msg("flood connect: %s", strerror(errno));
        }
}

/* Each connection, once connected, sends a ClientHello (two in three) or
 * a plain line; every third closes at once, the others stall. Until all
 * sent or timeout_ms passed. */
static void flood_send(struct flood *f, const unsigned char *hello, size_t hello_size, const char *garbage,
                       int timeout_ms) {
        long long deadline = it_now_ms() + timeout_ms;

        while (f->n_sent < FLOOD_CONNECTIONS && it_ms_left(deadline) > 0) {
                struct pollfd pfd[FLOOD_CONNECTIONS];
                int index[FLOOD_CONNECTIONS], n = 0;

                for (int i = 0; i < FLOOD_CONNECTIONS; i++)
                        if (!f->sent[i]) {
                                pfd[n] = (struct pollfd) { .fd = f->fds[i], .events = POLLOUT };
                                index[n++] = i;
                        }
                if (poll(pfd, (nfds_t) n, it_ms_left(deadline) < 100 ? it_ms_left(deadline) : 100) <= 0)
                        continue;
                for (int k = 0; k < n; k++) {
                        int i = index[k];

                        if (!(pfd[k].revents & (POLLOUT | POLLERR | POLLHUP)))
                                continue;
                        f->sent[i] = true;
                        f->n_sent++;
                        if (i % 3 == 2)
                                (void) send(f->fds[i], garbage, strlen(garbage), MSG_NOSIGNAL);
                        else
                                (void) send(f->fds[i], hello, hello_size, MSG_NOSIGNAL);
                        if (i % 3 == 0) {
                                close(f->fds[i]);
                                f->fds[i] = -1;
                        }
                }
        }
}

static void flood_close(struct flood *f) {
        for (int i = 0; i < FLOOD_CONNECTIONS; i++)
                if (f->fds[i] >= 0) {
                        close(f->fds[i]);
                        f->fds[i] = -1;
                }
}

/* A counter of harkd's STATUS= text ("..., 12 evicted, ..."). */
static unsigned long long status_count(const char *status, const char *name) {
        char needle[64];
        const char *at;

        snprintf(needle, sizeof(needle), " %s", name);
        at = strstr(status, needle);
        assert_non_null(at);
        while (at > status && at[-1] >= '0' && at[-1] <= '9')
                at--;
        return strtoull(at, NULL, 10);
}

/* FLOOD_CONNECTIONS connections at once, each a ClientHello or a plain
 * line, then a close or a stall, against max_connections =
 * FLOOD_MAX_CONNECTIONS and timeout = 1, while a good client connects
 * again and again: it is always served, within a bound; nothing of the
 * flood reaches the journal; every flood connection ends as a failed
 * handshake or an eviction, and the failures logged stay within the rate
 * limit. */
static void test_flood_in(struct it_test *t, const char *mode) {
        struct tls_harkd th = start_tls_harkd(t, 0, &(struct tls_harkd_options) {
                .client_ca = true, .timeout = "1", .max_connections = FLOOD_MAX_CONNECTIONS, .mode = mode });
        struct good_client g = { .port = th.tls_port, .ctx = client_ctx(pki()->client_cert, pki()->client_key),
                                 .rounds = FLOOD_ROUNDS };
        struct flood f = { .n_sent = 0 };
        unsigned char hello[4096];
        size_t hello_size = client_hello(g.ctx, hello, sizeof(hello));
        char garbage[128], status[1024];
        unsigned long long failed, evicted, suppressed = 0;
        long long start = it_now_ms(), took;
        struct it_entries e;
        pthread_t thread;
        /* The good client waits in the backlog behind the stallers, which
         * leave max_connections at a time once quiet long enough to be
         * evicted; then its own handshake. */
        int bound_ms = FLOOD_STALLERS * ADMISSION_EVICT_IDLE_MS / FLOOD_MAX_CONNECTIONS + 1000 + 2 * slack_ms();
        int n_events;

        snprintf(garbage, sizeof(garbage), "flood-garbage-%s\n", th.h->identifier);
        flood_connect(&f, th.tls_port);
        assert_int_equal(pthread_create(&thread, NULL, good_client_run, &g), 0);
        flood_send(&f, hello, hello_size, garbage, 15000);
        pthread_join(thread, NULL);
        took = it_now_ms() - start;
        fprintf(stderr, "%s: %d flood connections sent in %lld ms; the good client served %d times, the slowest "
                "round %lld ms\n", mode, f.n_sent, took, g.served, g.worst_ms);
        flood_close(&f);
        if (g.error[0])
                fail_msg("the good client failed: %s", g.error);
        assert_int_equal(f.n_sent, FLOOD_CONNECTIONS);
        assert_int_equal(g.served, FLOOD_ROUNDS);
        if (g.worst_ms > bound_ms)
                fail_msg("a round of the good client took %lld ms, more than %d", g.worst_ms, bound_ms);

        /* Every flood connection ended: failed, or evicted for the good one. */
        assert_int_equal(harkd_wait_notify(th.h, "STATUS=0 open connections,*", 10000, status, sizeof(status)), 0);
        while (status_count(status, "TLS handshakes failed") + status_count(status, "evicted") < FLOOD_CONNECTIONS &&
               harkd_wait_notify(th.h, "STATUS=0 open connections,*", 5000, status, sizeof(status)) == 0)
                ;
        failed = status_count(status, "TLS handshakes failed");
        evicted = status_count(status, "evicted");
        fprintf(stderr, "%s: %llu TLS handshakes failed, %llu evicted\n", mode, failed, evicted);
        assert_int_equal(failed + evicted, FLOOD_CONNECTIONS);

        took = it_now_ms() - start;
        n_events = harkd_events(th.h, EVENT_TLS_FAILED, NULL, 1, JOURNAL_TIMEOUT_MS, &e);
        fprintf(stderr, "%s: %d failure events logged in %lld ms\n", mode, n_events, took);
        assert_true(n_events >= 1);
        assert_true(n_events <= EVENTS_PER_SECOND * (took / 1000 + 2));
        /* Each event counts the failures left out before it: never more
         * than there were. */
        for (size_t i = 0; i < e.n; i++) {
                const char *m = strstr(it_entry_field(&e.v[i], "MESSAGE", NULL), "nothing of it logged; ");
                assert_non_null(m);
                suppressed += strtoull(m + strlen("nothing of it logged; "), NULL, 10);
        }
        fprintf(stderr, "%s: the events report %llu failures left out\n", mode, suppressed);
        assert_true((unsigned long long) n_events + suppressed <= failed);
        it_entries_free(&e);

        it_journal_messages(th.h->identifier, FLOOD_ROUNDS, JOURNAL_TIMEOUT_MS, &e);
        assert_int_equal(e.n, FLOOD_ROUNDS);
        for (size_t i = 0; i < e.n; i++)
                assert_non_null(strstr(it_entry_field(&e.v[i], "MESSAGE", NULL), "good through the flood"));
        assert_tls_identity(&e, pki()->client_cert);
        it_entries_free(&e);
        garbage[strlen(garbage) - 1] = 0;
        assert_nowhere(garbage);
        SSL_CTX_free(g.ctx);
        it_assert_harkd_stops(th.h, 5000);
}

static void test_flood_epoll(void **state) {
        test_flood_in(*state, "epoll");
}

static void test_flood_thread(void **state) {
        test_flood_in(*state, "thread");
}

/* ---- 9. a real rsyslogd relaying over TLS ---- */

/* Whether h's journal events say that connection from port ended without
 * the peer's close_notify. */
static bool ended_without_close_notify(const struct harkd *h, int port) {
        struct it_entries e;
        char needle[96];
        int n;

        snprintf(needle, sizeof(needle), "from 127.0.0.1:%d failed: the TCP connection ended without", port);
        n = harkd_events(h, EVENT_CONN_CLOSED, needle, 1, 2000, &e);
        it_entries_free(&e);
        return n > 0;
}

/* rsyslogd (imtcp in, omfwd out with the ossl driver, x509/name, permitted
 * peer localhost, a client certificate of its own) relays three messages
 * to the TLS port of a harkd that requires client certificates: each
 * lands with rsyslogd's certificate identity. */
static void test_rsyslog(void **state) {
        struct it_test *t = *state;
        const struct test_pki *p = pki();
        struct tls_harkd th = start_tls_harkd(t, 0, &(struct tls_harkd_options) { .client_ca = true,
                                                                                 .mode = "epoll" });
        char cert[TEST_PKI_PATH], key[TEST_PKI_PATH], options[1024], tag[64], input[512];
        struct it_entries e;
        struct it_relay r;
        int port, n;

        if (access("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so", F_OK) != 0 &&
            access("/usr/lib/rsyslog/lmnsd_ossl.so", F_OK) != 0)
                fail_msg("rsyslog's ossl stream driver (lmnsd_ossl.so) is missing: apt-get install rsyslog-openssl");
        assert_int_equal(test_pki_new_client(p, "rsyslog.example", cert, key), 0);
        n = snprintf(options, sizeof(options),
                 "StreamDriver=\"ossl\" StreamDriverMode=\"1\" StreamDriverAuthMode=\"x509/name\" "
                 "StreamDriverPermittedPeers=\"localhost\" StreamDriver.CAFile=\"%s\" "
                 "StreamDriver.CertFile=\"%s\" StreamDriver.KeyFile=\"%s\"",
                 p->ca, cert, key);
        assert_true(n > 0 && (size_t) n < sizeof(options));
        it_rsyslog_start(t, &r, th.tls_port, options);
        it_unique_identifier(tag, sizeof(tag));
        snprintf(input, sizeof(input),
                 "<132>Dec  1 10:00:00 webhost01 %s[42]: over TLS one\n"
                 "<13>Dec  1 10:00:01 webhost01 %s: over TLS two\n"
                 "<11>Dec  1 10:00:02 webhost02 %s: over TLS three\n",
                 tag, tag, tag);
        it_relay_send(t, &r, input);
        it_syslog_entries(tag, NULL, 3, &e);
        it_assert_one_connection(&e, 0, 3);
        assert_string_equal(it_entry_field(&e.v[0], "MESSAGE", NULL), "over TLS one");
        assert_string_equal(it_entry_field(&e.v[2], "MESSAGE", NULL), "over TLS three");
        assert_tls_identity(&e, cert);
        port = atoi(it_entry_field(&e.v[0], "REMOTE_PORT", NULL));
        it_entries_free(&e);

        it_relay_stop(t, &r);
        fprintf(stderr, "rsyslogd at its stop: %s\n",
                ended_without_close_notify(th.h, port) ? "closed TCP without a TLS close_notify"
                                                       : "sent its close_notify (no failure logged)");
        it_assert_harkd_stops(th.h, 5000);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_good_client),
        IT_TEST(test_refused_certificates),
        IT_TEST(test_no_client_ca),
        IT_TEST(test_plain_bytes),
        IT_TEST(test_stalled_handshake),
        IT_TEST(test_split_records),
        IT_TEST(test_rotation),
};

static const struct CMUnitTest once[] = {
        IT_TEST(test_flood_epoll),
        IT_TEST(test_flood_thread),
        IT_TEST(test_rsyslog),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "tls",
                .per_mode = IT_TESTS(per_mode),
                .side_by_side = true,
                .once = IT_TESTS(once),
        });
}
