/* hark's TLS session; see tls_client.h. */
#include "tls_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct tls_client {
        SSL_CTX *ctx;
        SSL *ssl;
        char error[TLS_CLIENT_ERROR_MAX];
};

/* OpenSSL's reason for a failure, emptying its error queue (the text is
 * static). The first error is the cause, those after it what failed in
 * turn ("PEM lib"); a failed system call is told by its errno. */
static const char *take_reason(void) {
        unsigned long e = ERR_get_error();
        const char *reason = ERR_SYSTEM_ERROR(e) ? strerror(ERR_GET_REASON(e)) : ERR_reason_error_string(e);

        ERR_clear_error();
        return reason ? reason : "unknown error";
}

/* "what path: OpenSSL's reason" into error. */
static void describe(char *error, size_t size, const char *what, const char *path) {
        snprintf(error, size, "%s%s%s: %s", what, path ? " " : "", path ? path : "", take_reason());
}

static int load_files(SSL_CTX *ctx, const struct tls_client_options *o, char *error, size_t size) {
        if (o->ca ? !SSL_CTX_load_verify_file(ctx, o->ca) : !SSL_CTX_set_default_verify_paths(ctx)) {
                describe(error, size, o->ca ? "cannot load CA certificates from" : "cannot load the system's CA certificates",
                         o->ca);
                return -EINVAL;
        }
        if (!o->certificate)
                return 0;
        if (!SSL_CTX_use_certificate_chain_file(ctx, o->certificate)) {
                describe(error, size, "cannot load the certificate", o->certificate);
                return -EINVAL;
        }
        if (!SSL_CTX_use_PrivateKey_file(ctx, o->key, SSL_FILETYPE_PEM) || !SSL_CTX_check_private_key(ctx)) {
                describe(error, size, "cannot use the key", o->key);
                return -EINVAL;
        }
        return 0;
}

int tls_client_new(struct tls_client **c, const struct tls_client_options *o, char *error, size_t size) {
        struct tls_client *n = calloc(1, sizeof(*n));
        int r = -ENOMEM;

        *c = NULL;
        if (n)
                n->ctx = SSL_CTX_new(TLS_client_method());
        if (!n || !n->ctx) {
                snprintf(error, size, "out of memory");
                goto fail;
        }
        /* A server asking to renegotiate is refused: the session we verified
         * is the one we speak to. */
        SSL_CTX_set_options(n->ctx, SSL_OP_NO_RENEGOTIATION);
        r = -EINVAL;
        if (!SSL_CTX_set_min_proto_version(n->ctx, TLS1_2_VERSION)) {
                describe(error, size, "cannot require TLS 1.2", NULL);
                goto fail;
        }
        SSL_CTX_set_verify(n->ctx, SSL_VERIFY_PEER, NULL);
        r = load_files(n->ctx, o, error, size);
        if (r < 0)
                goto fail;
        *c = n;
        return 0;
fail:
        tls_client_free(n);
        return r;
}

void tls_client_free(struct tls_client *c) {
        if (!c)
                return;
        SSL_free(c->ssl);
        SSL_CTX_free(c->ctx);
        free(c);
}

static bool is_ip_address(const char *host) {
        unsigned char address[sizeof(struct in6_addr)];

        return inet_pton(AF_INET, host, address) == 1 || inet_pton(AF_INET6, host, address) == 1;
}

/* What the certificate must name. SNI carries names only (RFC 6066). */
static int expect_name(SSL *ssl, const char *host) {
        if (is_ip_address(host))
                return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) ? 0 : -EINVAL;
        SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (!SSL_set1_host(ssl, host) || !SSL_set_tlsext_host_name(ssl, host))
                return -EINVAL;
        return 0;
}

int tls_client_attach(struct tls_client *c, int fd, const char *host) {
        c->ssl = SSL_new(c->ctx);
        if (!c->ssl) {
                describe(c->error, sizeof(c->error), "cannot make a session", NULL);
                return -ENOMEM;
        }
        if (!SSL_set_fd(c->ssl, fd) || expect_name(c->ssl, host) < 0) {
                describe(c->error, sizeof(c->error), "cannot set the server's name to", host);
                return -EINVAL;
        }
        SSL_set_connect_state(c->ssl);
        return 0;
}

/* What the failed SSL call that returned r means: -EAGAIN (with *events),
 * 0 at close_notify, or the failure (with its reason in c->error). */
static int failure(struct tls_client *c, int r, short *events) {
        int saved_errno = errno;
        unsigned long e;

        switch (SSL_get_error(c->ssl, r)) {
        case SSL_ERROR_WANT_READ:
                *events = POLLIN;
                return -EAGAIN;
        case SSL_ERROR_WANT_WRITE:
                *events = POLLOUT;
                return -EAGAIN;
        case SSL_ERROR_ZERO_RETURN:
                return 0;
        case SSL_ERROR_SYSCALL:
                ERR_clear_error();
                snprintf(c->error, sizeof(c->error), "%s", saved_errno ? strerror(saved_errno) : "connection closed");
                return saved_errno ? -saved_errno : -ECONNRESET;
        default:
                break;
        }
        if (SSL_get_verify_result(c->ssl) != X509_V_OK) {
                ERR_clear_error();
                snprintf(c->error, sizeof(c->error), "certificate verify failed: %s",
                         X509_verify_cert_error_string(SSL_get_verify_result(c->ssl)));
                return -EPROTO;
        }
        /* OpenSSL 3 reports a stream that ended without close_notify this way. */
        e = ERR_peek_error();
        snprintf(c->error, sizeof(c->error), "%s", take_reason());
        return ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING ? -ECONNRESET : -EPROTO;
}

int tls_client_handshake(struct tls_client *c, short *events) {
        int r;

        errno = 0;
        r = SSL_connect(c->ssl);
        if (r == 1)
                return 0;
        r = failure(c, r, events);
        /* A close_notify instead of the server's handshake. */
        return r == 0 ? -ECONNRESET : r;
}

ssize_t tls_client_send(struct tls_client *c, const void *data, size_t size, short *events) {
        size_t n;
        int r;

        errno = 0;
        if (SSL_write_ex(c->ssl, data, size, &n))
                return (ssize_t) n;
        r = failure(c, 0, events);
        /* close_notify from the server while we still send: it went away. */
        return r == 0 ? -EPIPE : r;
}

ssize_t tls_client_recv(struct tls_client *c, void *buffer, size_t size, short *events) {
        size_t n;

        errno = 0;
        if (SSL_read_ex(c->ssl, buffer, size, &n))
                return (ssize_t) n;
        return failure(c, 0, events);
}

int tls_client_close_notify(struct tls_client *c, short *events) {
        int r;

        errno = 0;
        r = SSL_shutdown(c->ssl);
        if (r >= 0)
                return 0;
        r = failure(c, r, events);
        return r == 0 ? -EPIPE : r;
}

const char *tls_client_error(const struct tls_client *c) {
        return c->error;
}
