/* harkd's side of TLS (OpenSSL 3): the server context made from the
 * tls_* settings, and one session per connection on the TLS port, driven
 * without blocking so that every concurrency mode (epoll's loops too) can
 * use it. The framings run inside the session exactly as on a plain
 * connection; the client's close_notify plays the part of the half-close. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"

struct tls_context;
struct tls_session;

/* Room for an OpenSSL reason or a verification failure, for one log line. */
#define TLS_ERROR_MAX 256
/* The certificate subject, one line (RFC 2253): longer ones are refused at
 * the handshake rather than cut, since it is an identity. */
#define TLS_SUBJECT_MAX 512
/* SHA-256 as openssl x509 -fingerprint prints it: 32 "XX:" groups. */
#define TLS_FINGERPRINT_MAX 96

/* Builds the context of config's tls_certificate, tls_key and tls_client_ca
 * (reading the files now: a reload calls it again, so that a renewed
 * certificate is taken without a restart). TLS 1.2 at least, no
 * renegotiation, no session tickets kept across contexts. Returns 0 with a
 * context, or -errno / -EINVAL with the file and
 * OpenSSL's reason in error. */
int tls_context_new(struct tls_context **ctx, const struct hark_config *config, char *error, size_t size);
void tls_context_unref(struct tls_context *ctx);

/* A server session on connected socket fd (made non-blocking; the session
 * does not own it). It holds a reference of its own to what ctx wraps, so
 * ctx may go (a reload) while it lives. Returns NULL when out of memory. */
struct tls_session *tls_session_new(struct tls_context *ctx, int fd);
void tls_session_free(struct tls_session *s);

/* Advances the handshake. Returns 1 when it is complete, -EAGAIN when it
 * waits for the peer (tls_session_wants_write() tells which way), or
 * -EPROTO / -ECONNRESET / -errno with the reason in tls_session_error(). */
int tls_session_handshake(struct tls_session *s);

bool tls_session_wants_write(const struct tls_session *s);

/* Reads decrypted bytes. Returns how many, 0 at the peer's close_notify,
 * -EAGAIN when it waits for the peer, -ECONNRESET when the TCP stream ended
 * without a close_notify (possibly cut short), or -EPROTO / -errno; an end
 * or error, once met, is returned by every later call too. */
ssize_t tls_session_read(struct tls_session *s, void *buffer, size_t size);

/* Whether a read would return at once, with decrypted bytes or the end
 * the session has already met: the socket may look idle meanwhile. */
bool tls_session_has_pending(const struct tls_session *s);

/* Writes all of buffer, waiting up to timeout_ms in all. Returns 0 or -errno. */
int tls_session_write_all(struct tls_session *s, const void *buffer, size_t size, int timeout_ms);

/* Sends close_notify, without waiting for the peer's. */
void tls_session_shutdown(struct tls_session *s);

/* The client's certificate, if it presented one (verified against
 * tls_client_ca: without it none is asked for): its subject and SHA-256
 * fingerprint. Returns 1 when there is one, 0 when none, -E2BIG (subject
 * too long) or -errno with the reason in tls_session_error(). */
int tls_session_peer(struct tls_session *s, char subject[TLS_SUBJECT_MAX], char fingerprint[TLS_FINGERPRINT_MAX]);

/* Why the last failing call failed, for the log. */
const char *tls_session_error(const struct tls_session *s);
