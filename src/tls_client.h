/* hark's side of TLS (OpenSSL 3): one client session over a connected
 * non-blocking socket, with the server's certificate verified and its name
 * checked. The calls never block: they say which way to poll(2) instead, so
 * that the client keeps a single write path and a single read path for
 * plain TCP and TLS alike. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* Room for an OpenSSL reason or a verification failure, for one line. */
#define TLS_CLIENT_ERROR_MAX 256

struct tls_client_options {
        const char *ca;                 /* PEM CA certificates to trust; NULL: the system's store */
        const char *certificate;        /* PEM client certificate (chain); NULL: none */
        const char *key;                /* its PEM key; given exactly when certificate is */
};

struct tls_client;

/* A client whose context has o's files loaded (read now). TLS 1.2 at
 * least. Returns 0, or -EINVAL / -ENOMEM with the file and the reason in
 * error. */
int tls_client_new(struct tls_client **c, const struct tls_client_options *o, char *error, size_t size);
void tls_client_free(struct tls_client *c);

/* Sets up the session on connected non-blocking socket fd (not owned) for
 * server host: an IP address is matched against the certificate's IP
 * names, anything else as a DNS name (and sent as SNI). Returns 0 or
 * -EINVAL / -ENOMEM with the reason in tls_client_error(). */
int tls_client_attach(struct tls_client *c, int fd, const char *host);

/* The calls below return -EAGAIN when they wait for the socket, with
 * *events the poll(2) events to wait for before calling again; other
 * failures are -EPIPE / -ECONNRESET (the peer went away), or -EPROTO with
 * the reason in tls_client_error(). */

/* Advances the handshake and the verification of the server: 0 once done.
 * A certificate that fails verification is -EPROTO with "certificate
 * verify failed: " and X509_verify_cert_error_string()'s reason. */
int tls_client_handshake(struct tls_client *c, short *events);

/* Encrypts and sends up to size bytes: how many were taken (> 0). */
ssize_t tls_client_send(struct tls_client *c, const void *data, size_t size, short *events);

/* Receives decrypted bytes: how many, or 0 at the server's close_notify. */
ssize_t tls_client_recv(struct tls_client *c, void *buffer, size_t size, short *events);

/* Sends close_notify, TLS's end of what the client writes; the server's
 * answer can still be received. 0 once it is sent. */
int tls_client_close_notify(struct tls_client *c, short *events);

/* Why the last failing call failed. */
const char *tls_client_error(const struct tls_client *c);
