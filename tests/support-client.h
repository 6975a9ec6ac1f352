/* Clients of harkd in the integration tests: plain sockets that send bytes
 * and read harkd's "OK <n>". */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connects to host:port (numeric host) with a deadline. Returns fd or -errno. */
int it_connect(const char *host, int port, int timeout_ms);

/* The same from the local address source (e.g. "127.0.0.2"). */
int it_connect_from(const char *host, int port, const char *source, int timeout_ms);

/* Connects to the unix stream socket at path. Returns fd or -errno. */
int it_connect_unix(const char *path);

/* The local port of a connected socket. */
int it_local_port(int fd);

/* Sends all of data. Returns 0 or -errno. */
int it_send(int fd, const void *data, size_t size);
int it_send_str(int fd, const char *s);

/* Reads until end of stream, at most timeout_ms; the bytes go to buffer
 * (NUL-terminated, truncated to size - 1). Returns 0 at end of stream,
 * -ECONNRESET, -ETIMEDOUT or -errno; *length gets the bytes read. */
int it_read_to_eof(int fd, char *buffer, size_t size, size_t *length, int timeout_ms);

/* Reads harkd's answer to its end (after the client half-closed). Returns 0
 * when it was exactly "OK <n>\n" followed by end of stream (n in
 * *confirmed), -EBADMSG for another answer (printed), or what
 * it_read_to_eof() failed with. */
int it_read_ok(int fd, uint64_t *confirmed, int timeout_ms);

/* Half-closes fd, then it_read_ok(). */
int it_finish(int fd, uint64_t *confirmed, int timeout_ms);

/* Whether something (data or end of stream) is readable within timeout_ms. */
bool it_readable(int fd, int timeout_ms);
