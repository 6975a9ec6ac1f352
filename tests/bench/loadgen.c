/* loadgen: the benchmark's TCP clients. One thread, one epoll loop,
 * non-blocking sockets, loopback only.
 *
 *   loadgen [OPTIONS] --connections N --messages M
 *       N connections open at once; each sends M lines, half-closes and
 *       checks the server's "OK <n>" (with --no-ack it only waits for the
 *       server to close, as rsyslog does).
 *   loadgen [OPTIONS] --short N [--in-flight K] [--ack]
 *       N connections, at most K open at once, each like a naive script:
 *       connect, send one line, close (--ack: half-close and check "OK 1").
 *   loadgen [OPTIONS] --idle N [--hold SECONDS]
 *       opens N connections and keeps them silent; prints "established ..."
 *       once all are open. On SIGUSR1, or when the hold ends, each sends one
 *       line and half-closes as with --connections; SIGTERM/SIGINT end at once.
 *
 * With --tls-ca FILE every connection speaks TLS (1.2 at least) over TCP:
 * the server's certificate must verify against FILE and name --tls-name
 * (default: the --host address); --tls-certificate and --tls-key present a
 * client certificate. The lines go inside the session, close_notify stands
 * for the half-close, and "OK <n>" (or the server's close) is read through
 * the session. Sessions are never resumed: each connection does a full
 * handshake. Only the transport differs; the modes are the same.
 *
 * With --udp the transport is UDP (RFC 5426: one datagram, one message):
 * --connections N --messages M are N senders, each a socket of its own (its
 * own source port), each sending M datagrams of one line each, with nothing
 * to confirm. --rate R paces all of them together at R datagrams a second,
 * sent in small bursts on a 1 ms clock (clock_nanosleep), round-robin over
 * the senders; 0 sends as fast as the sockets take them. Only a successful
 * sendto(2) counts as sent; a sender that falls behind catches up by at most
 * CATCH_UP_MS of the rate, so what was really offered is in the result
 * (achieved_rate, behind_ms).
 *
 * Every line is "bench <connection> <seq> xxx...\n", exactly --size bytes.
 * With --syslog APP-NAME every message is an RFC 6587 octet-counted frame of
 * exactly --size bytes ("LEN SP" included, no LF) holding an RFC 5424 message
 * with structured data (see format_frame()), the shape a relay sends.
 * The last line on stdout is "result key=value ..." (with TLS after a line
 * "tls version=... cipher=..." of the first session); start_us is the
 * CLOCK_REALTIME of the first connect, to compare with journal timestamps.
 * Exit status: 0 when every connection did what was asked, 1 otherwise,
 * 2 for a usage error. Everything ends by --timeout (default 120 s). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define OUT_BUFFER_SIZE (16 * 1024)
/* Bytes one connection may write per wake-up, so that all progress evenly. */
#define WRITE_BURST (64 * 1024)
#define EVENTS_PER_WAIT 512
#define REPLY_MAX 64
#define ERRNO_SLOTS 256
/* --udp --rate: the pacing clock, and how much of a fallen-behind schedule
 * is caught up at once (more would be a burst far above the rate). */
#define UDP_TICK_NS 1000000L
#define CATCH_UP_MS 10

enum mode { MODE_NONE, MODE_FLOOD, MODE_SHORT, MODE_IDLE };

enum state {
        ST_FREE,
        ST_CONNECTING,
        ST_HANDSHAKE,   /* TLS: connected, the handshake under way */
        ST_SENDING,
        ST_CLOSING,     /* all sent; the half-close (close_notify) under way */
        ST_REPLY,       /* half-closed; reading "OK <n>" or the close */
        ST_IDLE,
};

struct conn {
        int fd;
        SSL *ssl;               /* --tls-ca: the session over fd */
        enum state state;
        uint32_t events;        /* what epoll watches for */
        uint32_t want;          /* what the last call that would block waits for */
        uint32_t id;
        uint32_t to_send;       /* lines this connection sends */
        uint32_t next_seq;      /* next line to put into out */
        uint64_t bytes_sent;
        char *out;
        size_t out_len, out_off;
        char reply[REPLY_MAX];
        size_t reply_len;
        uint32_t next_free;     /* free list of slots (--short) */
};

struct options {
        enum mode mode;
        const char *host;
        int port;
        unsigned long count;            /* connections in total */
        unsigned long messages;         /* per connection (--connections) */
        unsigned long in_flight;        /* open at once (--short) */
        unsigned long connect_window;   /* handshakes in progress at once */
        unsigned long size;             /* bytes per line, '\n' included */
        double timeout;
        double hold;
        bool ack;
        const char *app_name;           /* --syslog: RFC 5424 frames */
        const char *tls_ca;             /* TLS when set */
        const char *tls_certificate, *tls_key;
        const char *tls_name;           /* the server's name or address to verify */
        bool udp;                       /* datagrams: --connections are senders */
        double rate;                    /* --udp: datagrams a second in all, 0: at once */
};

struct stats {
        uint64_t sent, confirmed;
        unsigned long established, connect_failed, finished;
        unsigned long mismatches, errors, timeouts, dropped, bad_replies;
        unsigned long errnos[ERRNO_SLOTS];
        unsigned long tls_unclean;      /* server streams that ended without close_notify */
        char tls_error[256];            /* the first TLS failure */
        char tls_version[32], tls_cipher[64];   /* of the first session */
};

struct ctx {
        struct options o;
        struct sockaddr_storage addr;
        socklen_t addr_len;
        int epfd, sigfd;
        SSL_CTX *tls;
        struct conn *conns;
        size_t n_slots;
        uint32_t free_head;             /* UINT32_MAX: none */
        unsigned long next_id;          /* connections opened so far */
        unsigned long connecting, open;
        bool finishing;                 /* --idle: the send-and-close phase began */
        bool stop;
        struct stats st;
        double t0, t_established;
        uint64_t start_us;
};

static double mono(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static uint64_t realtime_us(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static void count_errno(struct ctx *x, int e) {
        x->st.errors++;
        x->st.errnos[e > 0 && e < ERRNO_SLOTS ? e : 0]++;
}

static int watch(struct ctx *x, int op, struct conn *c, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = c };

        if (epoll_ctl(x->epfd, op, c->fd, &ev) < 0)
                return -errno;
        c->events = events;
        return 0;
}

/* Ends a connection (closing the socket), successful or not. */
static void finish(struct ctx *x, struct conn *c) {
        if (c->state == ST_CONNECTING || c->state == ST_HANDSHAKE)
                x->connecting--;
        SSL_free(c->ssl);
        c->ssl = NULL;
        if (c->fd >= 0)
                close(c->fd);
        x->st.sent += c->bytes_sent / x->o.size;
        free(c->out);
        c->out = NULL;
        c->fd = -1;
        c->state = ST_FREE;
        x->open--;
        x->st.finished++;
        if (x->o.mode == MODE_SHORT) {
                c->next_free = x->free_head;
                x->free_head = (uint32_t) (c - x->conns);
        }
}

static void report_established(struct ctx *x);

static void fail(struct ctx *x, struct conn *c, int error) {
        bool connecting = c->state == ST_CONNECTING || c->state == ST_HANDSHAKE;

        count_errno(x, error);
        finish(x, c);
        if (connecting) {
                x->st.connect_failed++;
                report_established(x);
        }
}

/* The transport: plain TCP, or TLS over it (--tls-ca). Each call returns
 * what it did or -errno; -EAGAIN means it would block, and c->want says on
 * what (TLS may need to read while it writes, or the other way round). */

static void note_tls_error(struct ctx *x, const struct conn *c, const char *what) {
        unsigned long e = ERR_peek_last_error();
        long verify = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
        char reason[160];

        if (x->st.tls_error[0])
                return;
        if (verify != X509_V_OK)
                snprintf(reason, sizeof(reason), "certificate: %s", X509_verify_cert_error_string(verify));
        else if (e)
                ERR_error_string_n(e, reason, sizeof(reason));
        else
                snprintf(reason, sizeof(reason), "%s", "the peer closed the connection");
        snprintf(x->st.tls_error, sizeof(x->st.tls_error), "%s: %s", what, reason);
}

/* The outcome of an SSL_* call that returned r <= 0. */
static int tls_outcome(struct ctx *x, struct conn *c, int r, const char *what) {
        int e = SSL_get_error(c->ssl, r);

        switch (e) {
        case SSL_ERROR_WANT_READ:
                c->want = EPOLLIN;
                return -EAGAIN;
        case SSL_ERROR_WANT_WRITE:
                c->want = EPOLLOUT;
                return -EAGAIN;
        case SSL_ERROR_ZERO_RETURN:
                return 0;
        case SSL_ERROR_SYSCALL:
                if (errno && errno != EAGAIN) {
                        e = errno;
                        note_tls_error(x, c, what);
                        return -e;
                }
                note_tls_error(x, c, what);
                return -ECONNRESET;
        default:
                note_tls_error(x, c, what);
                return -EPROTO;
        }
}

static ssize_t xp_send(struct ctx *x, struct conn *c, const void *buffer, size_t size) {
        ssize_t n;

        c->want = EPOLLOUT;
        if (!c->ssl) {
                n = send(c->fd, buffer, size, MSG_NOSIGNAL);
                return n >= 0 ? n : errno == EINTR ? -EAGAIN : -errno;
        }
        ERR_clear_error();
        n = SSL_write(c->ssl, buffer, (int) (size < INT_MAX ? size : INT_MAX));
        return n > 0 ? n : tls_outcome(x, c, (int) n, "write");
}

/* Returns bytes read, 0 at the end of the server's stream. */
static ssize_t xp_recv(struct ctx *x, struct conn *c, void *buffer, size_t size) {
        unsigned long e;
        ssize_t n;

        c->want = EPOLLIN;
        if (!c->ssl) {
                n = recv(c->fd, buffer, size, 0);
                return n >= 0 ? n : errno == EINTR ? -EAGAIN : -errno;
        }
        ERR_clear_error();
        n = SSL_read(c->ssl, buffer, (int) (size < INT_MAX ? size : INT_MAX));
        if (n > 0)
                return n;
        /* The server's last bytes came, but no close_notify after them:
         * its stream ended all the same (the caller checks what it read). */
        e = ERR_peek_error();
        if (SSL_get_error(c->ssl, (int) n) == SSL_ERROR_SSL && ERR_GET_LIB(e) == ERR_LIB_SSL &&
            ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
                x->st.tls_unclean++;
                return 0;
        }
        return tls_outcome(x, c, (int) n, "read");
}

/* The half-close: shutdown(SHUT_WR), or TLS's close_notify. */
static int xp_close_write(struct ctx *x, struct conn *c) {
        int r;

        c->want = EPOLLOUT;
        if (!c->ssl)
                return shutdown(c->fd, SHUT_WR) < 0 ? -errno : 0;
        ERR_clear_error();
        r = SSL_shutdown(c->ssl);
        return r >= 0 ? 0 : tls_outcome(x, c, r, "close_notify");
}

/* Makes epoll watch what the last call that would block waits for. */
static int wait_io(struct ctx *x, struct conn *c) {
        return c->events == c->want ? 0 : watch(x, EPOLL_CTL_MOD, c, c->want);
}

static int tls_start(struct ctx *x, struct conn *c) {
        const char *name = x->o.tls_name ? x->o.tls_name : x->o.host;
        unsigned char ip[sizeof(struct in6_addr)];

        c->ssl = SSL_new(x->tls);
        if (!c->ssl || !SSL_set_fd(c->ssl, c->fd))
                return -ENOMEM;
        SSL_set_connect_state(c->ssl);
        if (inet_pton(AF_INET, name, ip) == 1 || inet_pton(AF_INET6, name, ip) == 1) {
                if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), name))
                        return -ENOMEM;
        } else if (!SSL_set1_host(c->ssl, name) || !SSL_set_tlsext_host_name(c->ssl, name))
                return -ENOMEM;
        return 0;
}

/* The client context: TLS 1.2 at least, the server verified against the CA
 * file, our certificate if given, no session kept for another connection. */
static SSL_CTX *tls_client_context(const struct options *o) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

        if (!ctx)
                return NULL;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) ||
            !SSL_CTX_load_verify_locations(ctx, o->tls_ca, NULL) ||
            (o->tls_certificate && (!SSL_CTX_use_certificate_chain_file(ctx, o->tls_certificate) ||
                                    !SSL_CTX_use_PrivateKey_file(ctx, o->tls_key, SSL_FILETYPE_PEM) ||
                                    !SSL_CTX_check_private_key(ctx)))) {
                SSL_CTX_free(ctx);
                return NULL;
        }
        return ctx;
}

/* The RFC 5424 message of connection conn, number seq, in an octet-counted
 * frame of exactly size bytes at dst: facility local0, severity info, a fixed
 * timestamp, host, PROCID and MSGID, and structured data naming the message;
 * MSG is "bench <conn> <seq> " padded with 'x'. -1 when it does not fit.
 * The fields a parser must find are listed in jcount's --check-syslog. */
static int format_frame(char *dst, size_t size, const char *app, uint32_t conn, uint32_t seq) {
        char head[256];
        size_t len = 0, digits, head_len;
        int n;

        /* MSG-LEN counts the bytes after "MSG-LEN SP": find the length whose
         * own digits make the frame exactly size bytes. */
        for (digits = 1; digits <= 9 && !len; digits++) {
                size_t candidate = size > digits + 1 ? size - digits - 1 : 0;
                char probe[16];

                if (candidate > 0 && (size_t) snprintf(probe, sizeof(probe), "%zu", candidate) == digits)
                        len = candidate;
        }
        n = snprintf(head, sizeof(head),
                     "<134>1 2026-12-02T01:02:03.456789+00:00 benchhost %s 1234 ID47 "
                     "[meta@32473 seq=\"%" PRIu32 "\" conn=\"%" PRIu32 "\"] bench %" PRIu32 " %" PRIu32 " ",
                     app, seq, conn, conn, seq);
        if (!len || n < 0 || (size_t) n >= sizeof(head) || (size_t) n >= len)
                return -1;
        head_len = (size_t) n;
        n = snprintf(dst, size, "%zu ", len);   /* its NUL lands where head goes */
        memcpy(dst + n, head, head_len);
        memset(dst + n + head_len, 'x', len - head_len);
        return 0;
}

/* Line seq of connection (or sender) conn, exactly size bytes, LF last. */
static void format_line(char *line, size_t size, uint32_t conn, uint32_t seq) {
        int n = snprintf(line, size, "bench %" PRIu32 " %" PRIu32 " ", conn, seq);

        memset(line + n, 'x', size - 1 - (size_t) n);
        line[size - 1] = '\n';
}

static void fill(struct ctx *x, struct conn *c) {
        size_t size = x->o.size;

        if (!c->out) {
                c->out = malloc(OUT_BUFFER_SIZE);
                if (!c->out)
                        return;
        }
        c->out_len = c->out_off = 0;
        while (c->next_seq < c->to_send && c->out_len + size <= OUT_BUFFER_SIZE) {
                char *line = c->out + c->out_len;

                if (x->o.app_name) {
                        /* Checked to fit for every connection and seq (main). */
                        (void) format_frame(line, size, x->o.app_name, c->id, c->next_seq);
                } else
                        format_line(line, size, c->id, c->next_seq);
                c->out_len += size;
                c->next_seq++;
        }
}

/* The half-close, then the reply (or the server's close) is awaited. */
static void close_write(struct ctx *x, struct conn *c) {
        int r;

        c->state = ST_CLOSING;
        r = xp_close_write(x, c);
        if (r == -EAGAIN) {
                if ((r = wait_io(x, c)) < 0)
                        fail(x, c, -r);
                return;
        }
        if (r < 0) {
                fail(x, c, -r);
                return;
        }
        c->state = ST_REPLY;
        c->reply_len = 0;
        c->want = EPOLLIN;
        if ((r = wait_io(x, c)) < 0)
                fail(x, c, -r);
}

static void send_some(struct ctx *x, struct conn *c) {
        size_t burst = 0;

        while (burst < WRITE_BURST) {
                ssize_t n;

                if (c->out_off == c->out_len) {
                        if (c->next_seq == c->to_send) {
                                if (x->o.mode == MODE_SHORT && !x->o.ack)
                                        finish(x, c);   /* the naive client: close at once */
                                else
                                        close_write(x, c);
                                return;
                        }
                        fill(x, c);
                        if (!c->out) {
                                fail(x, c, ENOMEM);
                                return;
                        }
                }
                n = xp_send(x, c, c->out + c->out_off, c->out_len - c->out_off);
                if (n == -EAGAIN) {
                        if ((n = wait_io(x, c)) < 0)
                                fail(x, c, (int) -n);
                        return;
                }
                if (n < 0) {
                        fail(x, c, (int) -n);
                        return;
                }
                c->out_off += (size_t) n;
                c->bytes_sent += (uint64_t) n;
                burst += (size_t) n;
        }
}

static void begin_sending(struct ctx *x, struct conn *c, uint32_t lines) {
        c->state = ST_SENDING;
        c->to_send = lines;
        c->next_seq = 0;
        c->out_len = c->out_off = 0;
        if (watch(x, EPOLL_CTL_MOD, c, EPOLLOUT) < 0) {
                fail(x, c, errno);
                return;
        }
        send_some(x, c);
}

/* Once every connection has been tried: all are established, or failed. */
static void report_established(struct ctx *x) {
        if (x->t_established > 0 || x->st.established + x->st.connect_failed < x->o.count)
                return;
        x->t_established = mono();
        if (x->o.mode == MODE_IDLE) {
                printf("established connections=%lu failed=%lu seconds=%.3f\n", x->st.established,
                       x->st.connect_failed, x->t_established - x->t0);
                fflush(stdout);
        }
}

/* The connection is ready to use: connected, and with TLS, handshaken. */
static void established(struct ctx *x, struct conn *c) {
        x->connecting--;
        x->st.established++;
        if (x->o.mode == MODE_IDLE) {
                c->state = ST_IDLE;
                if (watch(x, EPOLL_CTL_MOD, c, EPOLLIN | EPOLLRDHUP) < 0)
                        fail(x, c, errno);
        } else
                begin_sending(x, c, x->o.mode == MODE_FLOOD ? (uint32_t) x->o.messages : 1);
        report_established(x);
}

static void handshake(struct ctx *x, struct conn *c) {
        int r;

        ERR_clear_error();
        r = SSL_do_handshake(c->ssl);
        if (r == 1) {
                if (!x->st.tls_version[0]) {
                        snprintf(x->st.tls_version, sizeof(x->st.tls_version), "%s", SSL_get_version(c->ssl));
                        snprintf(x->st.tls_cipher, sizeof(x->st.tls_cipher), "%s", SSL_get_cipher_name(c->ssl));
                }
                established(x, c);
                return;
        }
        r = tls_outcome(x, c, r, "handshake");
        if (r == -EAGAIN && (r = wait_io(x, c)) == 0)
                return;
        fail(x, c, r < 0 ? -r : ECONNRESET);
}

static void connected(struct ctx *x, struct conn *c) {
        int r;

        if (!x->tls) {
                established(x, c);
                return;
        }
        c->state = ST_HANDSHAKE;
        if ((r = tls_start(x, c)) < 0) {
                fail(x, c, -r);
                return;
        }
        handshake(x, c);
}

static void open_one(struct ctx *x, struct conn *c) {
        int fd = socket(x->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        *c = (struct conn) { .fd = fd, .id = (uint32_t) x->next_id++, .state = ST_CONNECTING };
        x->open++;
        x->connecting++;
        if (x->start_us == 0)
                x->start_us = realtime_us();
        if (fd < 0) {
                fail(x, c, errno);
                return;
        }
        if (connect(fd, (struct sockaddr *) &x->addr, x->addr_len) < 0 && errno != EINPROGRESS) {
                fail(x, c, errno);
                return;
        }
        if (watch(x, EPOLL_CTL_ADD, c, EPOLLOUT) < 0)
                fail(x, c, errno);
}

static void open_more(struct ctx *x) {
        while (!x->stop && x->next_id < x->o.count && x->connecting < x->o.connect_window) {
                struct conn *c;

                if (x->o.mode == MODE_SHORT) {
                        if (x->free_head == UINT32_MAX)
                                return;
                        c = &x->conns[x->free_head];
                        x->free_head = c->next_free;
                } else
                        c = &x->conns[x->next_id];
                open_one(x, c);
        }
}

static void read_reply(struct ctx *x, struct conn *c) {
        for (;;) {
                char scratch[256];
                char *into = c->reply_len < REPLY_MAX - 1 ? c->reply + c->reply_len : scratch;
                size_t room = c->reply_len < REPLY_MAX - 1 ? REPLY_MAX - 1 - c->reply_len : sizeof(scratch);
                ssize_t n = xp_recv(x, c, into, room);
                unsigned long long confirmed;
                char nl;

                if (n == -EAGAIN) {
                        if ((n = wait_io(x, c)) < 0)
                                fail(x, c, (int) -n);
                        return;
                }
                if (n < 0) {
                        /* Without acknowledgements a reset after our close is no failure. */
                        if (!x->o.ack) {
                                finish(x, c);
                                return;
                        }
                        fail(x, c, (int) -n);
                        return;
                }
                if (n > 0) {
                        if (into == c->reply)
                                c->reply_len += (size_t) n;
                        continue;
                }
                if (x->o.ack) {
                        c->reply[c->reply_len] = '\0';
                        if (sscanf(c->reply, "OK %llu%c", &confirmed, &nl) != 2 || nl != '\n') {
                                x->st.bad_replies++;
                                x->st.errors++;
                        } else {
                                x->st.confirmed += confirmed;
                                if (confirmed != c->to_send)
                                        x->st.mismatches++;
                        }
                }
                finish(x, c);
                return;
        }
}

static void on_event(struct ctx *x, struct conn *c, uint32_t events) {
        int error = 0;
        socklen_t len = sizeof(error);

        switch (c->state) {
        case ST_CONNECTING:
                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                        error = errno;
                if (error) {
                        fail(x, c, error);
                        return;
                }
                connected(x, c);
                return;
        case ST_HANDSHAKE:
                handshake(x, c);
                return;
        case ST_SENDING:
                send_some(x, c);
                return;
        case ST_CLOSING:
                close_write(x, c);
                return;
        case ST_REPLY:
                read_reply(x, c);
                return;
        case ST_IDLE: {
                char b[256];
                ssize_t n = xp_recv(x, c, b, sizeof(b));

                /* (A TLS 1.3 server's session tickets come in as well.) */
                if (n == -EAGAIN && !(events & (EPOLLRDHUP | EPOLLHUP)))
                        return;
                /* The server closed (or talked on) a connection it should have kept. */
                x->st.dropped++;
                if (n < 0) {
                        fail(x, c, (int) -n);
                        return;
                }
                x->st.errors++;
                finish(x, c);
                return;
        }
        case ST_FREE:
                return;
        }
}

static void begin_finishing(struct ctx *x) {
        if (x->finishing)
                return;
        x->finishing = true;
        for (size_t i = 0; i < x->n_slots; i++)
                if (x->conns[i].state == ST_IDLE)
                        begin_sending(x, &x->conns[i], 1);
}

static void on_signal(struct ctx *x) {
        struct signalfd_siginfo si;

        while (read(x->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                if (si.ssi_signo == SIGUSR1 && x->o.mode == MODE_IDLE)
                        begin_finishing(x);
                else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                        x->stop = true;
        }
}

/* Whatever is still open at the deadline or on SIGTERM. */
static void abandon(struct ctx *x, bool timed_out) {
        for (size_t i = 0; i < x->n_slots; i++) {
                struct conn *c = &x->conns[i];

                if (c->state == ST_FREE)
                        continue;
                /* Held idle connections ended by a signal are what --idle is for. */
                if (timed_out || c->state != ST_IDLE) {
                        x->st.errors++;
                        x->st.timeouts += timed_out;
                }
                finish(x, c);
        }
}

static bool all_done(const struct ctx *x) {
        return x->next_id == x->o.count && x->open == 0;
}

static int run(struct ctx *x) {
        struct epoll_event events[EVENTS_PER_WAIT];
        double deadline, hold_end = -1;

        x->t0 = mono();
        deadline = x->t0 + x->o.timeout;
        open_more(x);
        while (!x->stop && !all_done(x)) {
                double now = mono(), until = deadline;
                int n, ms;

                if (now >= deadline)
                        break;
                if (x->o.mode == MODE_IDLE && !x->finishing && x->t_established > 0) {
                        if (hold_end < 0)
                                hold_end = x->t_established + x->o.hold;
                        if (now >= hold_end) {
                                begin_finishing(x);
                                continue;
                        }
                        until = hold_end < until ? hold_end : until;
                }
                ms = (int) ((until - now) * 1000) + 1;
                n = epoll_wait(x->epfd, events, EVENTS_PER_WAIT, ms);
                if (n < 0 && errno != EINTR) {
                        perror("loadgen: epoll_wait");
                        return -1;
                }
                for (int i = 0; i < n; i++) {
                        if (events[i].data.ptr == NULL)
                                on_signal(x);
                        else
                                on_event(x, events[i].data.ptr, events[i].events);
                }
                open_more(x);
        }
        if (!all_done(x))
                abandon(x, !x->stop);
        return 0;
}

/* --udp: datagram k goes to sender k % N as its line k / N, so the senders
 * take turns and each sends its own lines in order. */
struct udp_senders {
        int *fds;
        uint64_t total;                 /* datagrams to send, N * M */
        uint64_t next;                  /* the next datagram */
        uint64_t behind_ns;             /* schedule given up by catching up at most CATCH_UP_MS */
        double schedule_t0;             /* when datagram 0 was due */
};

static void send_datagram(struct ctx *x, struct udp_senders *u) {
        uint32_t sender = (uint32_t) (u->next % x->o.count);
        uint32_t seq = (uint32_t) (u->next / x->o.count);
        char line[OUT_BUFFER_SIZE];
        ssize_t n;

        format_line(line, x->o.size, sender, seq);
        do
                n = sendto(u->fds[sender], line, x->o.size, 0, (struct sockaddr *) &x->addr, x->addr_len);
        while (n < 0 && errno == EINTR);
        /* A datagram the socket did not take was not sent: it stays out of
         * every count that the servers' must add up to. */
        if (n == (ssize_t) x->o.size)
                x->st.sent++;
        else
                count_errno(x, n < 0 ? errno : EMSGSIZE);
        u->next++;
}

/* How many datagrams are due by now at --rate; without a rate, a burst. */
static uint64_t udp_due(struct ctx *x, struct udp_senders *u, double now) {
        uint64_t due, lag = (uint64_t) (x->o.rate * CATCH_UP_MS / 1000.0) + 1;

        if (x->o.rate <= 0)
                return u->next + 64;
        due = (uint64_t) ((now - u->schedule_t0) * x->o.rate) + 1;
        /* Too far behind (no CPU for us for a while): send a burst of
         * CATCH_UP_MS's worth, not all the debt at once, and move the
         * schedule on; the result tells how much it moved. */
        if (due > u->next + lag) {
                double skip = (double) (due - u->next - lag) / x->o.rate;

                u->schedule_t0 += skip;
                u->behind_ns += (uint64_t) (skip * 1e9);
                due = u->next + lag;
        }
        return due;
}

static int run_udp(struct ctx *x, struct udp_senders *u) {
        struct timespec tick;
        double deadline;

        u->total = (uint64_t) x->o.count * x->o.messages;
        u->fds = malloc(x->o.count * sizeof(*u->fds));
        if (!u->fds)
                return -ENOMEM;
        for (unsigned long i = 0; i < x->o.count; i++) {
                u->fds[i] = socket(x->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                if (u->fds[i] < 0) {
                        perror("loadgen: socket");
                        while (i > 0)
                                close(u->fds[--i]);
                        free(u->fds);
                        u->fds = NULL;
                        return -1;
                }
        }
        x->st.established = x->o.count;
        x->t0 = u->schedule_t0 = mono();
        x->start_us = realtime_us();
        deadline = x->t0 + x->o.timeout;
        clock_gettime(CLOCK_MONOTONIC, &tick);
        while (u->next < u->total && !x->stop) {
                double now = mono();
                uint64_t due = udp_due(x, u, now);

                if (now >= deadline) {
                        x->st.timeouts = x->o.count;
                        x->st.errors++;
                        break;
                }
                while (u->next < due && u->next < u->total)
                        send_datagram(x, u);
                on_signal(x);
                if (x->o.rate <= 0)
                        continue;
                tick.tv_nsec += UDP_TICK_NS;
                if (tick.tv_nsec >= 1000000000L) {
                        tick.tv_sec++;
                        tick.tv_nsec -= 1000000000L;
                }
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &tick, NULL) == EINTR)
                        ;
                /* Woken late: the next tick counts from now. */
                if (mono() > (double) tick.tv_sec + (double) tick.tv_nsec / 1e9 + (double) UDP_TICK_NS / 1e9)
                        clock_gettime(CLOCK_MONOTONIC, &tick);
        }
        for (unsigned long i = 0; i < x->o.count; i++)
                close(u->fds[i]);
        free(u->fds);
        u->fds = NULL;
        return 0;
}

static int resolve_loopback(struct ctx *x) {
        struct sockaddr_in *in4 = (struct sockaddr_in *) &x->addr;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &x->addr;

        memset(&x->addr, 0, sizeof(x->addr));
        if (inet_pton(AF_INET, x->o.host, &in4->sin_addr) == 1) {
                if ((ntohl(in4->sin_addr.s_addr) >> 24) != 127)
                        return -1;
                in4->sin_family = AF_INET;
                in4->sin_port = htons((uint16_t) x->o.port);
                x->addr_len = sizeof(*in4);
                return 0;
        }
        if (inet_pton(AF_INET6, x->o.host, &in6->sin6_addr) == 1) {
                if (!IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
                        return -1;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) x->o.port);
                x->addr_len = sizeof(*in6);
                return 0;
        }
        return -1;
}

/* Each connection is a descriptor; the soft limit is usually 1024. */
static unsigned long raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return 1024;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0 && getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return 1024;
        return rl.rlim_cur == RLIM_INFINITY ? 1ul << 20 : (unsigned long) rl.rlim_cur;
}

static void usage(FILE *out) {
        fprintf(out,
                "Usage: loadgen [OPTIONS] --port PORT MODE\n"
                "Modes:\n"
                "  --connections N --messages M   N connections at once, M lines each, then \"OK <n>\"\n"
                "  --short N                      N one-line connections, --in-flight at once\n"
                "  --idle N                       N silent connections; SIGUSR1 or --hold: one line each\n"
                "Options:\n"
                "  --host ADDR          loopback address (default 127.0.0.1)\n"
                "  --size BYTES         bytes per line, newline included (default 100, at least 40)\n"
                "  --syslog APP-NAME    send octet-counted RFC 5424 frames of --size bytes instead\n"
                "  --in-flight K        --short: connections open at once (default 50)\n"
                "  --ack                --short: half-close and check \"OK 1\" instead of closing\n"
                "  --no-ack             do not expect \"OK <n>\"; wait for the server to close\n"
                "  --connect-window W   handshakes in progress at once (default 256)\n"
                "  --hold SECONDS       --idle: hold this long at most (default 60)\n"
                "  --timeout SECONDS    end everything by then (default 120)\n"
                "  --tls-ca FILE        speak TLS; verify the server's certificate against FILE\n"
                "  --tls-name NAME      the name (or address) the server's certificate must have\n"
                "                       (default: --host)\n"
                "  --tls-certificate FILE, --tls-key FILE   present this client certificate\n"
                "  --udp                --connections N --messages M: N senders of M datagrams each\n"
                "  --rate R             --udp: R datagrams a second in all (default 0: at once)\n");
}

static int parse_ulong(const char *s, unsigned long *v) {
        char *end;

        errno = 0;
        *v = strtoul(s, &end, 10);
        return errno || end == s || *end || s[0] == '-' ? -1 : 0;
}

/* RFC 5424 APP-NAME: 1 to 48 printable US-ASCII bytes, no space. */
static bool app_name_valid(const char *app) {
        size_t n;

        if (!app)
                return true;    /* not asked for */
        n = strlen(app);
        for (size_t i = 0; i < n; i++)
                if (app[i] < 33 || app[i] > 126)
                        return false;
        return n >= 1 && n <= 48;
}

static int parse_options(int argc, char **argv, struct options *o) {
        enum { O_CONNECTIONS = 256, O_MESSAGES, O_SHORT, O_IDLE, O_HOST, O_PORT, O_SIZE, O_IN_FLIGHT,
               O_ACK, O_NO_ACK, O_WINDOW, O_HOLD, O_TIMEOUT, O_SYSLOG, O_TLS_CA, O_TLS_NAME, O_TLS_CERT,
               O_TLS_KEY, O_UDP, O_RATE, O_HELP };
        static const struct option options[] = {
                { "connections", required_argument, NULL, O_CONNECTIONS },
                { "messages", required_argument, NULL, O_MESSAGES },
                { "short", required_argument, NULL, O_SHORT },
                { "idle", required_argument, NULL, O_IDLE },
                { "host", required_argument, NULL, O_HOST },
                { "port", required_argument, NULL, O_PORT },
                { "size", required_argument, NULL, O_SIZE },
                { "in-flight", required_argument, NULL, O_IN_FLIGHT },
                { "ack", no_argument, NULL, O_ACK },
                { "no-ack", no_argument, NULL, O_NO_ACK },
                { "connect-window", required_argument, NULL, O_WINDOW },
                { "hold", required_argument, NULL, O_HOLD },
                { "timeout", required_argument, NULL, O_TIMEOUT },
                { "syslog", required_argument, NULL, O_SYSLOG },
                { "tls-ca", required_argument, NULL, O_TLS_CA },
                { "tls-name", required_argument, NULL, O_TLS_NAME },
                { "tls-certificate", required_argument, NULL, O_TLS_CERT },
                { "tls-key", required_argument, NULL, O_TLS_KEY },
                { "udp", no_argument, NULL, O_UDP },
                { "rate", required_argument, NULL, O_RATE },
                { "help", no_argument, NULL, O_HELP },
                { 0 },
        };
        bool no_ack = false, ack = false;
        unsigned long v;
        int c;

        *o = (struct options) { .host = "127.0.0.1", .in_flight = 50, .connect_window = 256, .size = 100,
                                .timeout = 120, .hold = 60, .messages = 1 };
        while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
                if (c == O_HELP) {
                        usage(stdout);
                        exit(0);
                }
                if (c == O_HOST || c == O_SYSLOG) {
                        *(c == O_HOST ? &o->host : &o->app_name) = optarg;
                        continue;
                }
                switch (c) {
                case O_TLS_CA:
                        o->tls_ca = optarg;
                        continue;
                case O_TLS_NAME:
                        o->tls_name = optarg;
                        continue;
                case O_TLS_CERT:
                        o->tls_certificate = optarg;
                        continue;
                case O_TLS_KEY:
                        o->tls_key = optarg;
                        continue;
                }
                if (c == O_UDP) {
                        o->udp = true;
                        continue;
                }
                if (c == O_ACK || c == O_NO_ACK) {
                        *(c == O_ACK ? &ack : &no_ack) = true;
                        continue;
                }
                if (c == O_HOLD || c == O_TIMEOUT || c == O_RATE) {
                        char *end;
                        double d = strtod(optarg, &end);
                        if (end == optarg || *end || !(d >= 0 && d <= (c == O_RATE ? 1e9 : 86400)))
                                return -1;
                        *(c == O_HOLD ? &o->hold : c == O_TIMEOUT ? &o->timeout : &o->rate) = d;
                        continue;
                }
                if (c == '?' || parse_ulong(optarg, &v) < 0)
                        return -1;
                switch (c) {
                case O_CONNECTIONS:
                case O_SHORT:
                case O_IDLE:
                        if (o->mode != MODE_NONE)
                                return -1;
                        o->mode = c == O_CONNECTIONS ? MODE_FLOOD : c == O_SHORT ? MODE_SHORT : MODE_IDLE;
                        o->count = v;
                        break;
                case O_MESSAGES:
                        o->messages = v;
                        break;
                case O_PORT:
                        o->port = (int) v;
                        break;
                case O_SIZE:
                        o->size = v;
                        break;
                case O_IN_FLIGHT:
                        o->in_flight = v;
                        break;
                case O_WINDOW:
                        o->connect_window = v;
                        break;
                }
        }
        if (optind < argc || o->mode == MODE_NONE || o->port < 1 || o->port > 65535 || o->count < 1 ||
            o->count > UINT32_MAX || o->messages < 1 || o->messages > UINT32_MAX || o->size < 40 ||
            o->size > OUT_BUFFER_SIZE || o->in_flight < 1 || o->connect_window < 1 ||
            (ack && o->mode != MODE_SHORT) || (ack && no_ack) || !app_name_valid(o->app_name) ||
            (!o->tls_ca && (o->tls_name || o->tls_certificate || o->tls_key)) ||
            !o->tls_certificate != !o->tls_key)
                return -1;
        /* UDP: senders of lines, nothing to confirm, no TLS. */
        if ((o->udp && (o->mode != MODE_FLOOD || o->tls_ca || o->app_name || ack || no_ack)) ||
            (!o->udp && o->rate > 0))
                return -1;
        /* --connections and --idle end with "OK <n>" unless told otherwise;
         * --short closes without waiting unless told to wait. */
        o->ack = o->mode == MODE_SHORT ? ack : !no_ack;
        return 0;
}

static void report_udp(const struct ctx *x, const struct udp_senders *u, double seconds) {
        for (int e = 0; e < ERRNO_SLOTS; e++)
                if (x->st.errnos[e])
                        fprintf(stderr, "loadgen: %lu datagrams not sent: %s\n", x->st.errnos[e],
                                e ? strerror(e) : "unknown error");
        if (x->st.timeouts)
                fprintf(stderr, "loadgen: %" PRIu64 " datagrams still unsent at the %.0f s deadline\n",
                        u->total - u->next, x->o.timeout);
        printf("result mode=udp senders=%lu messages=%lu size=%lu sent=%" PRIu64 " errors=%lu timeouts=%lu "
               "rate=%.0f achieved_rate=%.0f behind_ms=%.0f start_us=%" PRIu64 " seconds=%.3f\n",
               x->o.count, x->o.messages, x->o.size, x->st.sent, x->st.errors, x->st.timeouts, x->o.rate,
               seconds > 0 ? (double) x->st.sent / seconds : 0.0, (double) u->behind_ns / 1e6, x->start_us,
               seconds);
        fflush(stdout);
}

static void report(const struct ctx *x, double seconds) {
        static const char *const mode_names[] = { "none", "flood", "short", "idle" };
        const struct stats *s = &x->st;

        for (int e = 0; e < ERRNO_SLOTS; e++)
                if (s->errnos[e])
                        fprintf(stderr, "loadgen: %lu connections failed: %s\n", s->errnos[e],
                                e ? strerror(e) : "unknown error");
        if (s->dropped)
                fprintf(stderr, "loadgen: %lu idle connections were closed or reset by the server\n", s->dropped);
        if (s->bad_replies)
                fprintf(stderr, "loadgen: %lu connections got no \"OK <n>\" reply\n", s->bad_replies);
        if (s->timeouts)
                fprintf(stderr, "loadgen: %lu connections still open at the %.0f s deadline\n", s->timeouts,
                        x->o.timeout);
        if (x->tls) {
                if (s->tls_error[0])
                        fprintf(stderr, "loadgen: TLS: the first failure: %s\n", s->tls_error);
                /* The session of the first connection, to see that servers did the same work. */
                printf("tls version=%s cipher=%s unclean_closes=%lu\n", s->tls_version[0] ? s->tls_version : "-",
                       s->tls_cipher[0] ? s->tls_cipher : "-", s->tls_unclean);
        }
        printf("result mode=%s connections=%lu messages=%lu size=%lu sent=%" PRIu64 " confirmed=%" PRIu64
               " mismatches=%lu errors=%lu timeouts=%lu established=%lu dropped=%lu start_us=%" PRIu64
               " connect_s=%.3f seconds=%.3f\n",
               mode_names[x->o.mode], x->o.count, x->o.mode == MODE_FLOOD ? x->o.messages : 1, x->o.size, s->sent,
               s->confirmed, s->mismatches, s->errors, s->timeouts, s->established, s->dropped, x->start_us,
               x->t_established > 0 ? x->t_established - x->t0 : -1.0, seconds);
        fflush(stdout);
}

int main(int argc, char **argv) {
        struct ctx x = { .epfd = -1, .sigfd = -1, .free_head = UINT32_MAX };
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
        unsigned long limit;
        sigset_t mask;
        int r;

        if (parse_options(argc, argv, &x.o) < 0) {
                usage(stderr);
                return 2;
        }
        if (resolve_loopback(&x) < 0) {
                fprintf(stderr, "loadgen: '%s' is not a loopback address; refusing\n", x.o.host);
                return 2;
        }
        /* The longest frame header is that of the last connection's last message. */
        if (x.o.app_name) {
                char probe[OUT_BUFFER_SIZE];
                uint32_t last_conn = (uint32_t) (x.o.count - 1);
                uint32_t last_seq = (uint32_t) (x.o.mode == MODE_FLOOD ? x.o.messages - 1 : 0);

                if (format_frame(probe, x.o.size, x.o.app_name, last_conn, last_seq) < 0) {
                        fprintf(stderr, "loadgen: an RFC 5424 frame does not fit in --size %lu bytes\n", x.o.size);
                        return 2;
                }
        }
        x.n_slots = x.o.mode == MODE_SHORT ? (x.o.in_flight < x.o.count ? x.o.in_flight : x.o.count) : x.o.count;
        limit = raise_fd_limit();
        if (x.n_slots + 16 > limit) {
                fprintf(stderr, "loadgen: %zu connections need more descriptors than the limit of %lu\n",
                        x.n_slots, limit);
                return 2;
        }
        /* OpenSSL writes with write(), not send(MSG_NOSIGNAL): a server that
         * closes must not kill us. */
        if (x.o.tls_ca)
                signal(SIGPIPE, SIG_IGN);
        if (x.o.tls_ca && !(x.tls = tls_client_context(&x.o))) {
                char reason[256];

                ERR_error_string_n(ERR_peek_last_error(), reason, sizeof(reason));
                fprintf(stderr, "loadgen: TLS setup with %s%s%s failed: %s\n", x.o.tls_ca,
                        x.o.tls_certificate ? " and " : "", x.o.tls_certificate ? x.o.tls_certificate : "", reason);
                return 2;
        }
        if (x.o.udp) {
                struct udp_senders u = { 0 };

                sigemptyset(&mask);
                sigaddset(&mask, SIGTERM);
                sigaddset(&mask, SIGINT);
                sigprocmask(SIG_BLOCK, &mask, NULL);
                x.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
                if (x.sigfd < 0) {
                        perror("loadgen: signalfd");
                        return 1;
                }
                r = run_udp(&x, &u);
                report_udp(&x, &u, mono() - x.t0);
                close(x.sigfd);
                return r < 0 || x.st.errors ? 1 : 0;
        }
        x.conns = calloc(x.n_slots, sizeof(*x.conns));
        if (!x.conns) {
                fprintf(stderr, "loadgen: out of memory\n");
                return 1;
        }
        for (size_t i = 0; i < x.n_slots; i++) {
                x.conns[i].fd = -1;
                if (x.o.mode == MODE_SHORT) {
                        x.conns[i].next_free = x.free_head;
                        x.free_head = (uint32_t) i;
                }
        }

        sigemptyset(&mask);
        sigaddset(&mask, SIGUSR1);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        x.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        x.epfd = epoll_create1(EPOLL_CLOEXEC);
        if (x.sigfd < 0 || x.epfd < 0 || epoll_ctl(x.epfd, EPOLL_CTL_ADD, x.sigfd, &ev) < 0) {
                perror("loadgen: setup");
                return 1;
        }

        r = run(&x);
        report(&x, mono() - x.t0);
        free(x.conns);
        SSL_CTX_free(x.tls);
        close(x.epfd);
        close(x.sigfd);
        return r < 0 || x.st.errors || x.st.mismatches ? 1 : 0;
}
