#include "tls.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <openssl/x509.h>

#include "config_source.h"
#include "net.h"
#include "util.h"

/* A certificate chain, a key or a CA bundle: far below this. */
#define PEM_FILE_MAX (1024 * 1024)

struct tls_context {
        SSL_CTX *ssl;
};

struct tls_session {
        SSL *ssl;
        bool wants_write;
        /* A read met the end (0: close_notify) or an error: OpenSSL says
         * it only once, every later read gets it from here. */
        bool ended;
        int end;
        char error[TLS_ERROR_MAX];
};

/* OpenSSL's last reason on this thread, or fallback when it left none. */
static void last_error(char *text, size_t size, const char *fallback) {
        unsigned long e = ERR_peek_last_error();

        if (e == 0)
                snprintf(text, size, "%s", fallback);
        else
                ERR_error_string_n(e, text, size);
        ERR_clear_error();
}

/* Reads a PEM file as the config's own files are read (regular files only,
 * bounded, never blocking), into a memory BIO. */
static int open_pem(const char *path, BIO **bio, char *error, size_t size) {
        const char *reason;
        char *text = NULL;
        size_t length;
        int r = read_regular_file(path, PEM_FILE_MAX, &text, &length, &reason);

        if (r < 0) {
                snprintf(error, size, "%s: %s", path, reason ? reason : strerror(-r));
                return r;
        }
        *bio = BIO_new(BIO_s_mem());
        if (!*bio || BIO_write(*bio, text, (int) length) != (int) length) {
                BIO_free(*bio);
                *bio = NULL;
                r = -ENOMEM;
                snprintf(error, size, "%s: %s", path, strerror(ENOMEM));
        }
        OPENSSL_cleanse(text, length);  /* it may be the key */
        free(text);
        return r;
}

static int pem_failed(const char *path, const char *what, char *error, size_t size) {
        char reason[TLS_ERROR_MAX];

        last_error(reason, sizeof(reason), "no PEM data");
        snprintf(error, size, "%s: cannot use it as %s: %s", path, what, reason);
        return -EINVAL;
}

/* The certificate and the chain after it, as a server sends them. */
/* OpenSSL decodes a certificate's extensions (key identifiers, purposes)
 * on first use and caches them in the certificate. Done here, before any
 * connection sees the certificate, rather than in the first handshakes of
 * concurrent threads: OpenSSL 3.0 fills that cache under the certificate's
 * lock but a verification in another thread may read it without
 * (ThreadSanitizer, thread mode, a CA's subject key identifier). */
static bool cache_extensions(X509 *cert) {
        return X509_check_purpose(cert, -1, 0) == 1;
}

static int use_certificate_chain(SSL_CTX *ssl, const char *path, char *error, size_t size) {
        BIO *bio = NULL;
        X509 *cert;
        int r = open_pem(path, &bio, error, size);

        if (r < 0)
                return r;
        cert = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
        if (!cert || !cache_extensions(cert) || SSL_CTX_use_certificate(ssl, cert) != 1)
                r = pem_failed(path, "a certificate", error, size);
        X509_free(cert);
        while (r >= 0 && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                /* On success the context owns cert. */
                if (!cache_extensions(cert) || SSL_CTX_add0_chain_cert(ssl, cert) != 1) {
                        X509_free(cert);
                        r = pem_failed(path, "a certificate chain", error, size);
                }
        }
        /* The end of the chain leaves "no start line" behind. */
        ERR_clear_error();
        BIO_free(bio);
        return r;
}

static int use_key(SSL_CTX *ssl, const char *path, char *error, size_t size) {
        BIO *bio = NULL;
        EVP_PKEY *key;
        int r = open_pem(path, &bio, error, size);

        if (r < 0)
                return r;
        /* No passphrase prompt: a daemon has no terminal. */
        key = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *) "");
        if (!key || SSL_CTX_use_PrivateKey(ssl, key) != 1)
                r = pem_failed(path, "a private key (unencrypted PEM)", error, size);
        else if (SSL_CTX_check_private_key(ssl) != 1)
                r = pem_failed(path, "the key of tls_certificate", error, size);
        EVP_PKEY_free(key);
        BIO_free(bio);
        return r;
}

/* Trusts the CAs in path for client certificates, and names them in the
 * CertificateRequest so that a client picks the right certificate. */
static int use_client_ca(SSL_CTX *ssl, const char *path, char *error, size_t size) {
        X509_STORE *store = SSL_CTX_get_cert_store(ssl);
        STACK_OF(X509_NAME) *names = sk_X509_NAME_new_null();
        BIO *bio = NULL;
        X509 *cert;
        int r = names ? open_pem(path, &bio, error, size) : -ENOMEM, n = 0;

        while (r >= 0 && (cert = PEM_read_bio_X509(bio, NULL, NULL, NULL))) {
                X509_NAME *name = X509_NAME_dup(X509_get_subject_name(cert));

                if (!cache_extensions(cert) || X509_STORE_add_cert(store, cert) != 1 || !name ||
                    !sk_X509_NAME_push(names, name)) {
                        X509_NAME_free(name);
                        r = pem_failed(path, "a CA certificate", error, size);
                }
                X509_free(cert);
                n++;
        }
        ERR_clear_error();
        BIO_free(bio);
        if (r >= 0 && n == 0)
                r = pem_failed(path, "CA certificates (none found)", error, size);
        if (r < 0) {
                sk_X509_NAME_pop_free(names, X509_NAME_free);
                return r;
        }
        SSL_CTX_set0_CA_list(ssl, names);
        SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        return 0;
}

int tls_context_new(struct tls_context **ret, const struct hark_config *config, char *error, size_t size) {
        struct tls_context *ctx;
        int r = 0;

        /* A reload cannot take tls_port away (it needs a restart), but it
         * can take the files: then the running ones stay. */
        if (!config->tls_certificate || !config->tls_key) {
                snprintf(error, size, "tls_port %d is in use: tls_certificate and tls_key are needed", config->tls_port);
                return -EINVAL;
        }
        ERR_clear_error();
        ctx = calloc(1, sizeof(*ctx));
        if (!ctx || !(ctx->ssl = SSL_CTX_new(TLS_server_method()))) {
                free(ctx);
                snprintf(error, size, "Failed to set up TLS: %s", strerror(ENOMEM));
                return -ENOMEM;
        }
        SSL_CTX_set_min_proto_version(ctx->ssl, TLS1_2_VERSION);
        /* No renegotiation (a client could make harkd redo the costly part
         * at will), no compression (CRIME), and no resumption: every
         * connection proves its certificate afresh, and harkd keeps no
         * session state between connections. */
        SSL_CTX_set_options(ctx->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET |
                                      SSL_OP_CIPHER_SERVER_PREFERENCE);
        SSL_CTX_set_session_cache_mode(ctx->ssl, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(ctx->ssl, 0);
        /* A thousand quiet connections need not hold 34 KiB of buffers each. */
        SSL_CTX_set_mode(ctx->ssl, SSL_MODE_RELEASE_BUFFERS);
        r = use_certificate_chain(ctx->ssl, config->tls_certificate, error, size);
        if (r >= 0)
                r = use_key(ctx->ssl, config->tls_key, error, size);
        if (r >= 0 && config->tls_client_ca)
                r = use_client_ca(ctx->ssl, config->tls_client_ca, error, size);
        if (r < 0) {
                tls_context_unref(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

void tls_context_unref(struct tls_context *ctx) {
        if (!ctx)
                return;
        /* Sessions still open hold references of their own (SSL_new()). */
        SSL_CTX_free(ctx->ssl);
        free(ctx);
}

struct tls_session *tls_session_new(struct tls_context *ctx, int fd) {
        struct tls_session *s = calloc(1, sizeof(*s));

        if (!s)
                return NULL;
        /* The session keeps its own reference to the context. */
        s->ssl = SSL_new(ctx->ssl);
        if (!s->ssl || SSL_set_fd(s->ssl, fd) != 1 || fd_set_nonblocking(fd, true) < 0) {
                SSL_free(s->ssl);
                free(s);
                ERR_clear_error();
                return NULL;
        }
        SSL_set_accept_state(s->ssl);
        return s;
}

void tls_session_free(struct tls_session *s) {
        if (!s)
                return;
        SSL_free(s->ssl);
        free(s);
}

/* Maps the outcome of an SSL call that returned r <= 0 to -errno, with the
 * reason kept for the log. */
static int session_failed(struct tls_session *s, int r, int saved_errno) {
        int e = SSL_get_error(s->ssl, r);

        s->wants_write = e == SSL_ERROR_WANT_WRITE;
        switch (e) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
                return -EAGAIN;
        case SSL_ERROR_ZERO_RETURN:
                return 0;
        case SSL_ERROR_SYSCALL:
                ERR_clear_error();
                if (saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE) {
                        snprintf(s->error, sizeof(s->error), "the TCP connection ended without a TLS close_notify");
                        return -ECONNRESET;
                }
                snprintf(s->error, sizeof(s->error), "%s", strerror(saved_errno));
                return -saved_errno;
        default:
                if (ERR_GET_REASON(ERR_peek_last_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                        ERR_clear_error();
                        snprintf(s->error, sizeof(s->error), "the TCP connection ended without a TLS close_notify");
                        return -ECONNRESET;
                }
                if (SSL_get_verify_result(s->ssl) != X509_V_OK)
                        snprintf(s->error, sizeof(s->error), "client certificate refused: %s",
                                 X509_verify_cert_error_string(SSL_get_verify_result(s->ssl)));
                else
                        last_error(s->error, sizeof(s->error), "TLS protocol error");
                ERR_clear_error();
                return -EPROTO;
        }
}

int tls_session_handshake(struct tls_session *s) {
        int r;

        ERR_clear_error();
        errno = 0;
        r = SSL_do_handshake(s->ssl);
        if (r == 1) {
                s->wants_write = false;
                return 1;
        }
        r = session_failed(s, r, errno);
        /* A close_notify before the handshake ended is a failed handshake. */
        if (r == 0) {
                snprintf(s->error, sizeof(s->error), "the client closed during the handshake");
                return -ECONNRESET;
        }
        return r;
}

bool tls_session_wants_write(const struct tls_session *s) {
        return s->wants_write;
}

ssize_t tls_session_read(struct tls_session *s, void *buffer, size_t size) {
        size_t n = 0;
        int r;

        if (s->ended)
                return s->end;
        ERR_clear_error();
        errno = 0;
        if (SSL_read_ex(s->ssl, buffer, size, &n) == 1) {
                s->wants_write = false;
                return (ssize_t) n;
        }
        r = session_failed(s, 0, errno);
        if (r != -EAGAIN) {
                s->ended = true;
                s->end = r;
        }
        return r;
}

bool tls_session_has_pending(const struct tls_session *s) {
        return s->ended || SSL_pending(s->ssl) > 0;
}

int tls_session_write_all(struct tls_session *s, const void *buffer, size_t size, int timeout_ms) {
        long long deadline = now_ms() + timeout_ms;
        const char *p = buffer;

        while (size > 0) {
                size_t n = 0;
                int r;

                ERR_clear_error();
                errno = 0;
                if (SSL_write_ex(s->ssl, p, size, &n) == 1) {
                        p += n;
                        size -= n;
                        continue;
                }
                r = session_failed(s, 0, errno);
                if (r != -EAGAIN)
                        return r < 0 ? r : -EPIPE;
                struct pollfd pfd = { .fd = SSL_get_fd(s->ssl), .events = s->wants_write ? POLLOUT : POLLIN };
                if (ms_until(deadline) == 0 || poll(&pfd, 1, ms_until(deadline)) == 0)
                        return -ETIMEDOUT;
        }
        return 0;
}

void tls_session_shutdown(struct tls_session *s) {
        ERR_clear_error();
        /* Only our close_notify: waiting for the peer's would let it hold us. */
        if (SSL_is_init_finished(s->ssl))
                (void) SSL_shutdown(s->ssl);
        ERR_clear_error();
}

static int format_subject(X509 *cert, char subject[TLS_SUBJECT_MAX]) {
        BIO *bio = BIO_new(BIO_s_mem());
        int n;

        if (!bio)
                return -ENOMEM;
        /* RFC 2253, with control and non-ASCII bytes escaped: one line of
         * printable text, whatever the certificate holds. */
        if (X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) {
                BIO_free(bio);
                return -EINVAL;
        }
        n = BIO_read(bio, subject, TLS_SUBJECT_MAX);
        BIO_free(bio);
        if (n < 0)
                n = 0;
        if (n >= TLS_SUBJECT_MAX)
                return -E2BIG;
        subject[n] = 0;
        return 0;
}

static int format_fingerprint(X509 *cert, char fingerprint[TLS_FINGERPRINT_MAX]) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned length = 0;

        if (X509_digest(cert, EVP_sha256(), md, &length) != 1 || length * 3 > TLS_FINGERPRINT_MAX)
                return -EINVAL;
        for (unsigned i = 0; i < length; i++)
                snprintf(fingerprint + i * 3, 4, i + 1 < length ? "%02X:" : "%02X", md[i]);
        return 0;
}

int tls_session_peer(struct tls_session *s, char subject[TLS_SUBJECT_MAX], char fingerprint[TLS_FINGERPRINT_MAX]) {
        X509 *cert = SSL_get0_peer_certificate(s->ssl);
        int r;

        /* Without tls_client_ca none is asked for, and one sent anyway is
         * not verified: it proves nothing and is not reported. */
        if (!cert || SSL_get_verify_result(s->ssl) != X509_V_OK ||
            !(SSL_get_verify_mode(s->ssl) & SSL_VERIFY_PEER))
                return 0;
        r = format_subject(cert, subject);
        if (r >= 0)
                r = format_fingerprint(cert, fingerprint);
        if (r == -E2BIG)
                snprintf(s->error, sizeof(s->error), "client certificate subject longer than %d bytes",
                         TLS_SUBJECT_MAX - 1);
        else if (r < 0)
                snprintf(s->error, sizeof(s->error), "cannot read the client certificate");
        return r < 0 ? r : 1;
}

const char *tls_session_error(const struct tls_session *s) {
        return s->error[0] ? s->error : "TLS error";
}
