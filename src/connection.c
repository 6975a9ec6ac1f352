#include "connection.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "answerer.h"
#include "events.h"
#include "journal.h"
#include "log.h"
#include "pending.h"
#include "stored.h"
#include "tls.h"
#include "util.h"

/* On the way out, read at most this much of what the peer already sent, so a
 * peer that never stops sending cannot hold a stopping harkd. */
#define END_READ_MAX (1024 * 1024)
/* Small: in `thread` mode every connection has one on its own stack. */
#define READ_CHUNK 4096
/* How long "OK <n>" may take to go out over TLS (plain TCP never waits:
 * the reply fits any socket buffer). */
#define TLS_REPLY_TIMEOUT_MS 1000

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void add_context(struct connection *c, size_t *used, const char *format, ...) {
        size_t room = sizeof(c->context_text) - *used;
        char *start = c->context_text + *used;
        va_list ap;
        int n;

        va_start(ap, format);
        n = vsnprintf(start, room, format, ap);
        va_end(ap);
        /* context_text is sized for the longest fields. */
        assert(n > 0 && (size_t) n < room && c->n_context < ENTRY_CONTEXT_MAX);
        c->context[c->n_context++] = (struct iovec) { .iov_base = start, .iov_len = (size_t) n };
        *used += (size_t) n + 1;
}

/* The facts of the connection; with the identity a client certificate
 * proved, once the TLS handshake has verified one (subject non-NULL). */
static void build_context(struct connection *c, const char *subject, const char *fingerprint) {
        size_t used = 0;

        c->n_context = 0;
        if (c->peer.family == AF_UNIX) {
                add_context(c, &used, "REMOTE_PID=%d", (int) c->peer.pid);
                add_context(c, &used, "REMOTE_UID=%u", (unsigned) c->peer.uid);
                add_context(c, &used, "REMOTE_GID=%u", (unsigned) c->peer.gid);
        } else {
                add_context(c, &used, "REMOTE_ADDR=%s", c->peer.address);
                add_context(c, &used, "REMOTE_PORT=%u", c->peer.port);
        }
        if (subject) {
                add_context(c, &used, "REMOTE_TLS_SUBJECT=%s", subject);
                add_context(c, &used, "REMOTE_TLS_SHA256=%s", fingerprint);
        }
        /* How much REMOTE_* proves: a unix peer's credentials, a TCP peer's
         * address (spoofable on the path), a certificate over TLS. */
        add_context(c, &used, "HARK_TRANSPORT=%s", c->tls || c->handshaking ? "tls" : c->peer.family == AF_UNIX ? "unix" : "tcp");
        add_context(c, &used, "HARK_CONNECTION=%" PRIu64, c->id);
}

#define log_connection(c, level, id, ...) log_event(level, id, (c)->context, (c)->n_context, __VA_ARGS__)

/* In the syslog format a NUL ends a record (Python's SysLogHandler ends
 * each with one and no LF); so it does in auto when the stream starts like
 * syslog ('<'). Elsewhere a NUL is data: raw messages are binary-safe. */
static void setup_framer(struct connection *c, bool nul_ends_line) {
        framer_init_framing(&c->framer, (size_t) c->config->max_message_size, c->config->framing,
                            nul_ends_line ? FRAMER_NUL_ENDS_LINE : 0);
        if (c->pending)
                framer_set_budget(&c->framer, c->server->pending, c->pending);
}

static int handshake_bound_ms(const struct connection *c) {
        int idle_ms = atomic_load_explicit(&c->server->shared->idle_timeout_ms, memory_order_relaxed);

        return idle_ms > 0 && idle_ms < CONNECTION_HANDSHAKE_MAX_MS ? idle_ms : CONNECTION_HANDSHAKE_MAX_MS;
}

static void start_tls(struct connection *c) {
        struct tls_context *ctx = server_config_tls(c->config);

        /* A TLS listener exists only with tls_port, which only a restart changes. */
        assert(ctx);
        c->handshaking = true;
        c->handshake_bound_ms = handshake_bound_ms(c);
        c->handshake_deadline_ms = now_ms() + c->handshake_bound_ms;
        c->tls = tls_session_new(ctx, c->fd);
        if (!c->tls)
                c->error = -ENOMEM;
}

/* Moves the TLS handshake on. Returns 1 once it is done (the connection's
 * context then carries the client certificate's identity, if any), -EAGAIN
 * while it waits, or -errno. */
static int advance_handshake(struct connection *c) {
        char subject[TLS_SUBJECT_MAX], fingerprint[TLS_FINGERPRINT_MAX];
        int r;

        if (!c->tls)
                return c->error;
        r = tls_session_handshake(c->tls);
        c->wants_write = r == -EAGAIN && tls_session_wants_write(c->tls);
        if (r == 1)
                r = tls_session_peer(c->tls, subject, fingerprint);
        if (r < 0) {
                if (r != -EAGAIN)
                        c->error = r;
                return r;
        }
        c->handshaking = false;
        build_context(c, r == 1 ? subject : NULL, fingerprint);
        /* No message has been framed yet: the builder holds nothing. */
        entry_builder_done(&c->entry);
        entry_builder_init(&c->entry, c->config, c->context, c->n_context);
        log_connection(c, LOG_DEBUG, EVENT_CONN_OPENED, "Connection %" PRIu64 " from %s: TLS handshake done%s%s",
                       c->id, c->peer.name, r == 1 ? ", client certificate " : "", r == 1 ? subject : "");
        return 1;
}

static void give_back(void *userdata);

void connection_init(struct connection *c, struct server *s, const struct accepted *a) {
        assert(a->fd >= 0);
        memset(c, 0, sizeof(*c));
        c->fd = a->fd;
        c->id = a->id;
        c->peer = a->peer;
        c->server = s;
        c->slot = a->slot;
        server_note_serving(s, c->slot);
        c->config = server_config_acquire(s);
        c->pending = pending_join(s->pending, c->id, give_back, c);
        setup_framer(c, c->config->format == FORMAT_SYSLOG);
        journal_stream_init(&c->journal);
        if (a->tls)
                start_tls(c);
        build_context(c, NULL, NULL);
        entry_builder_init(&c->entry, c->config, c->context, c->n_context);
        /* Not tracked (no journal to read back, no memory): nothing of it
         * is confirmed. */
        c->stored_tracked = c->config->confirm == CONFIRM_STORED && stored_start() >= 0 && stored_track(c->id) >= 0;
        log_connection(c, LOG_DEBUG, EVENT_CONN_OPENED, "Connection %" PRIu64 " from %s opened%s", c->id,
                       c->peer.name, a->tls ? " (TLS)" : "");
}

void connection_done(struct connection *c) {
        server_forget_fd(c->server, c->slot);
        if (c->stored_tracked)
                stored_untrack(c->id);
        if (c->tls) {
                if (!c->handshaking)
                        tls_session_shutdown(c->tls);
                tls_session_free(c->tls);
                c->tls = NULL;
        }
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        journal_stream_close(&c->journal);
        framer_done(&c->framer);
        pending_leave(c->server->pending, c->pending);
        c->pending = NULL;
        entry_builder_done(&c->entry);
        server_config_release(c->config);
        c->config = NULL;
}

static void report_failure(struct connection *c, int error, uint64_t messages) {
        atomic_fetch_add(&c->server->counters->failed, messages);
        /* Once per connection: a missing journal would otherwise double every message. */
        if (c->failure_logged)
                return;
        c->failure_logged = true;
        if (error == -ENOENT)
                log_connection(c, LOG_ERR, EVENT_DELIVERY_FAILED,
                               "No journal at " JOURNAL_SOCKET_PATH ": messages from %s are not logged "
                               "and not confirmed", c->peer.name);
        else if (error == -ECONNREFUSED)
                log_connection(c, LOG_ERR, EVENT_DELIVERY_FAILED,
                               "journald went away with %" PRIu64 " messages from %s queued to it, which it "
                               "may not have read: they are not confirmed", messages, c->peer.name);
        else
                log_connection(c, LOG_ERR, EVENT_DELIVERY_FAILED,
                               "Failed to write a message from %s to the journal: %s; it is not confirmed",
                               c->peer.name, strerror(-error));
}

_Static_assert(ENTRY_FIELDS_MAX <= JOURNAL_FIELDS_MAX, "an entry must fit journal_send()");

static void deliver(void *userdata, const struct framed_message *m) {
        struct connection *c = userdata;
        struct entry e;
        int r;

        /* Before entry_build(), which spends m. */
        if (m->over_pending)
                counters_report_pending_cut(c->server->counters, c->context, c->n_context, c->peer.name,
                                            pending_limit(c->server->pending), m->size);
        else if (m->truncated)
                counters_report_truncated(c->server->counters, c->context, c->n_context, c->peer.name,
                                          (size_t) c->config->max_message_size, m->size);
        entry_build(&c->entry, m, &e);
        if (e.syslog_error)
                counters_report_malformed(c->server->counters, c->context, c->n_context, c->peer.name,
                                          e.syslog_error);

        c->received++;
        r = journal_stream_send(&c->journal, e.fields, e.n_fields);
        if (r < 0)
                report_failure(c, r, 1);
        else {
                c->delivered++;
                atomic_fetch_add_explicit(&c->server->counters->messages, 1, memory_order_relaxed);
        }
}

/* Messages queued to a journald that died may never have been read: they
 * count as failed, not as logged, and are not confirmed. */
static void count_lost(struct connection *c) {
        uint64_t n = c->journal.lost - c->lost_counted;

        if (n == 0)
                return;
        c->lost_counted = c->journal.lost;
        atomic_fetch_sub(&c->server->counters->messages, n);
        report_failure(c, -ECONNREFUSED, n);
}

/* Before and after a batch: what journald has read so far. One ioctl, so
 * that a journald that dies later takes only what it had not read yet off
 * the count "sent" confirms (before: a connection that sends now and then
 * finds its last messages read by now; the batch's first write proves the
 * reader alive). */
static void note_batch(struct connection *c) {
        journal_stream_note_drained(&c->journal);
        count_lost(c);
}

/* The bound on pending bytes (pending.h) asks for the buffer back: the
 * line so far goes to the journal like any message. */
static void give_back(void *userdata) {
        struct connection *c = userdata;

        framer_give_back(&c->framer, deliver, c);
        note_batch(c);
}

/* Bytes that count as progress for admission even without a message's end:
 * a long message streaming in is a busy connection; a slow drip, which sends
 * fewer in ADMISSION_EVICT_IDLE_MS, is not. */
#define PROGRESS_BYTES 4096

/* Starts the pending message's clock when a read began a new one, and tells
 * admission of progress (ended messages, or PROGRESS_BYTES received): its
 * measure of a connection that must not be evicted. */
static void note_progress(struct connection *c, bool ended_messages, size_t bytes) {
        long long now = now_ms();

        if (!framer_in_line(&c->framer))
                c->pending_since_ms = 0;
        else if (ended_messages || c->pending_since_ms == 0)
                c->pending_since_ms = now;
        c->bytes_since_progress += bytes;
        if (ended_messages || c->bytes_since_progress >= PROGRESS_BYTES) {
                server_note_progress(c->server, c->slot, now);
                c->bytes_since_progress = 0;
        }
}

/* Reads what the socket holds, through the TLS session if there is one:
 * bytes, 0 at the end of the stream (a TLS close_notify), -EAGAIN, -errno. */
static ssize_t transport_read(struct connection *c, char *buffer, size_t size) {
        ssize_t n;

        if (c->tls) {
                size_t got = 0;

                /* A record holds at most 16 KiB: fill the buffer from as
                 * many as are there, so that a batch (and its check of
                 * the journal stream, note_batch()) spans as much as a
                 * plain read does. An end or error after data comes again on the
                 * next call. */
                do {
                        n = tls_session_read(c->tls, buffer + got, size - got);
                        if (n > 0)
                                got += (size_t) n;
                } while (n > 0 && got < size);
                c->wants_write = n == -EAGAIN && tls_session_wants_write(c->tls);
                return got > 0 ? (ssize_t) got : n;
        }
        n = recv(c->fd, buffer, size, MSG_DONTWAIT);
        if (n >= 0)
                return n;
        return errno == EINTR || errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

/* Frames n bytes that arrived into journal entries. */
static int take_bytes(struct connection *c, char *buffer, size_t n) {
        uint64_t before = c->received;
        int r;

        if (!c->stream_started) {
                c->stream_started = true;
                if (c->config->format == FORMAT_AUTO && buffer[0] == '<')
                        setup_framer(c, true);
        }
        /* Never evicted while its messages go to the journal (a slow
         * journald): its client would send again what is logged. */
        server_note_delivering(c->server, c->slot, true);
        note_batch(c);
        r = framer_feed(&c->framer, buffer, n, deliver, c);
        note_batch(c);
        server_note_delivering(c->server, c->slot, false);
        note_progress(c, c->received != before, n);
        return r;
}

ssize_t connection_receive(struct connection *c, char *buffer, size_t size) {
        ssize_t n, taken = 0;
        int r;

        if (c->handshaking && (r = advance_handshake(c)) < 0)
                return r;
        /* What a TLS session has read from the socket already (decrypted
         * bytes, or the peer's close_notify) is invisible to poll(2) and
         * epoll: take it now, or it would wait for a packet that may never
         * come (a client waiting for "OK <n>" sends nothing more). */
        while ((n = transport_read(c, buffer, size)) > 0) {
                r = take_bytes(c, buffer, (size_t) n);
                if (r < 0)
                        return c->error = r;
                taken += n;
                if (!c->tls || !tls_session_has_pending(c->tls))
                        return taken;
        }
        if (n == -EAGAIN && taken > 0)
                return taken;
        if (n < 0 && n != -EAGAIN)
                c->error = (int) n;
        return n;
}

void connection_trim(struct connection *c) {
        if (framer_asked(&c->framer))
                give_back(c);
        framer_trim(&c->framer);
        entry_builder_trim(&c->entry);
}

bool connection_has_unread_data(const struct connection *c) {
        char byte;

        if (c->tls && tls_session_has_pending(c->tls))
                return true;
        return recv(c->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

short connection_poll_events(const struct connection *c) {
        return c->wants_write ? POLLOUT : POLLIN;
}

static bool read_already_sent(struct connection *c) {
        char *buffer = malloc(READ_CHUNK);     /* off the stack, as receive_burst()'s */
        size_t total = 0;
        ssize_t n = -ENOMEM;

        if (buffer)
                do
                        n = connection_receive(c, buffer, READ_CHUNK);
                while (n > 0 && (total += (size_t) n) < END_READ_MAX);
        free(buffer);
        return n == 0;
}

/* Bytes the peer sent that harkd has not read (left behind at a stop). */
static int unread_bytes(const struct connection *c) {
        int n = 0;

        return ioctl(c->fd, FIONREAD, &n) == 0 ? n : 0;
}

static void log_failure(struct connection *c) {
        unsigned suppressed;

        if (!log_ratelimit_pass(&c->server->counters->logs.failed, &suppressed))
                return;
        if (c->error == -EBADMSG)
                log_connection(c, LOG_WARNING, EVENT_FRAMING_ERROR,
                               "Connection %" PRIu64 " from %s closed: broken octet frame (%s); %" PRIu64
                               " messages logged before it; %u similar failures not reported before this one",
                               c->id, c->peer.name, framer_error_reason(&c->framer), c->delivered, suppressed);
        else
                log_connection(c, LOG_NOTICE, EVENT_CONN_CLOSED,
                               "Connection %" PRIu64 " from %s failed: %s; %" PRIu64 " messages "
                               "logged; %u similar failures not reported before this one",
                               c->id, c->peer.name, c->tls ? tls_session_error(c->tls) : strerror(-c->error),
                               c->delivered, suppressed);
}

static void log_evicted(struct connection *c) {
        unsigned suppressed;

        if (log_ratelimit_pass(&c->server->counters->logs.evicted, &suppressed))
                log_connection(c, LOG_NOTICE, EVENT_CONN_EVICTED,
                               "Connection %" PRIu64 " from %s closed to make room for clients waiting "
                               "(at max_connections, or for a pool worker; no message from it for %d ms "
                               "or more): %" PRIu64
                               " messages logged; %u similar closes not reported before this one",
                               c->id, c->peer.name, ADMISSION_EVICT_IDLE_MS, c->delivered, suppressed);
}

/* A connection that ended before its TLS handshake did: nothing of it was
 * read, nothing is logged but this (peers cause it at will: rate-limited). */
static void end_handshake(struct connection *c, enum connection_end why) {
        unsigned suppressed;
        char reason[TLS_ERROR_MAX + 64];

        if (why == CONNECTION_EVICTED) {
                log_evicted(c);
                return;
        }
        if (why == CONNECTION_DRAINED) {
                log_connection(c, LOG_INFO, EVENT_CONN_CLOSED, "Connection %" PRIu64 " from %s closed as harkd "
                               "stops, before its TLS handshake ended", c->id, c->peer.name);
                return;
        }
        atomic_fetch_add(&c->server->counters->tls_failed, 1);
        if (!log_ratelimit_pass(&c->server->counters->logs.tls_failed, &suppressed))
                return;
        if (why == CONNECTION_TIMED_OUT)
                snprintf(reason, sizeof(reason), "it did not end within %d ms", c->handshake_bound_ms);
        else
                snprintf(reason, sizeof(reason), "%s", c->tls ? tls_session_error(c->tls) : strerror(-c->error));
        log_connection(c, LOG_WARNING, EVENT_TLS_FAILED,
                       "TLS handshake with %s failed: %s; connection %" PRIu64 " closed, nothing of it logged; "
                       "%u similar failures not reported before this one", c->peer.name, reason, c->id, suppressed);
}

/* Sends "OK <n>": a peer that closed fully cannot read it; that is fine. */
static void send_reply(struct connection *c, const char *reply) {
        if (c->tls)
                (void) tls_session_write_all(c->tls, reply, strlen(reply), TLS_REPLY_TIMEOUT_MS);
        else
                (void) send_all(c->fd, reply, strlen(reply));
}

/* Under confirm = "sent": what journald has read of the messages handed to
 * it. What was still queued when the wait ended is counted and said
 * (rate-limited); what a journald that died took along is counted already. */
static uint64_t taken_of_delivered(struct connection *c) {
        const struct journal_stream *j = &c->journal;
        uint64_t unread;
        unsigned suppressed;

        (void) journal_stream_settle(&c->journal);
        count_lost(c);
        assert(j->taken + j->queued + j->drained + j->lost == c->delivered);
        unread = j->queued + j->drained;
        if (unread == 0)
                return j->taken;
        atomic_fetch_add(&c->server->counters->unconfirmed, unread);
        if (log_ratelimit_pass(&c->server->counters->logs.unconfirmed, &suppressed))
                log_connection(c, LOG_WARNING, EVENT_NOT_READ,
                               "%" PRIu64 " of %" PRIu64 " messages from %s were handed to journald, which had "
                               "not read them %g s later (confirm_timeout): it is stalled or slow; confirmed %"
                               PRIu64 "; %u similar connections not reported before this one",
                               unread, c->delivered, c->peer.name, c->config->confirm_timeout, j->taken,
                               suppressed);
        return j->taken;
}

/* Under confirm = "stored": what the journal holds of the messages handed
 * to journald, which is what "OK <n>" may count; the shortfall is counted
 * and said (rate-limited), with what may cause it. */
static uint64_t stored_of_delivered(struct connection *c) {
        /* What a journald that died took along is counted as failed already. */
        uint64_t stored = c->stored_tracked ? stored_count(c->id) : 0, expected = c->delivered - c->journal.lost,
                 missing;
        unsigned suppressed;

        if (stored >= expected)
                return stored < c->delivered ? stored : c->delivered;
        missing = expected - stored;
        atomic_fetch_add(&c->server->counters->unconfirmed, missing);
        if (log_ratelimit_pass(&c->server->counters->logs.unconfirmed, &suppressed))
                log_connection(c, LOG_WARNING, EVENT_NOT_STORED,
                               "%" PRIu64 " of %" PRIu64 " messages from %s were handed to journald but are not "
                               "in the journal %g s later (confirm_timeout): %s; confirmed %" PRIu64 "; %u "
                               "similar connections not reported before this one",
                               missing, c->delivered, c->peer.name, c->config->confirm_timeout,
                               !c->stored_tracked ? "harkd cannot read the journal back"
                               : stored == 0 ? "journald stored none of them (MaxLevelStore= below priority, "
                                               "Storage=none, a full disk, or it is slow)"
                                             : "journald dropped some (its rate limit, RateLimitBurst=, a full "
                                               "disk, a restart), or is slow",
                               stored, suppressed);
        return stored;
}

/* Whether the count "OK <n>" gives is final: under "sent" once journald has
 * read all, under "stored" once the journal shows all; either way, what a
 * journald that went away took along is not waited for. */
static bool confirmation_known(struct connection *c) {
        bool settled = journal_stream_settle(&c->journal);

        count_lost(c);
        if (c->config->confirm != CONFIRM_STORED)
                return settled;
        return !c->stored_tracked || stored_count(c->id) + c->journal.lost >= c->delivered;
}

/* Sends "OK <n>" and logs the close. */
static void answer(struct connection *c) {
        char reply[32];
        uint64_t confirmed = c->config->confirm == CONFIRM_STORED ? stored_of_delivered(c) : taken_of_delivered(c);

        snprintf(reply, sizeof(reply), "OK %" PRIu64 "\n", confirmed);
        send_reply(c, reply);
        log_connection(c, LOG_DEBUG, EVENT_CONN_CLOSED,
                       "Connection %" PRIu64 " from %s closed: %" PRIu64 " of %" PRIu64 " messages logged, %"
                       PRIu64 " confirmed", c->id, c->peer.name, c->delivered, c->received, confirmed);
}

/* What is read at the drain bound is answered too: its answer may wait for
 * journald within the first half of the grace after it, which leaves the
 * other half for the answer to go out and the connection to close. */
#define ANSWER_GRACE_MS (DRAIN_GRACE_MS / 2)

/* The answer waits for journald until then: confirm_timeout from the
 * half-close, and never past the drain bound's ANSWER_GRACE_MS. */
static long long answer_deadline(const struct connection *c) {
        long long deadline = c->answer_from_ms + (long long) (c->config->confirm_timeout * 1000);

        if (server_stopping(c->server)) {
                long long drain = atomic_load(&c->server->drain_deadline) + ANSWER_GRACE_MS;

                if (drain < deadline)
                        deadline = drain;
        }
        return deadline;
}

bool connection_answer_ready(struct connection *c) {
        assert(c->answer_waits);
        if (confirmation_known(c) || ms_until(answer_deadline(c)) == 0)
                return true;
        c->answer_checks++;
        return false;
}

/* Whether journald has read a connection's entries is looked at again and
 * again: nothing wakes a sender for it (POLLOUT means room, not an empty
 * queue). journald keeping up reads them within a few dozen microseconds,
 * and every short connection's time includes the wait (a client that keeps
 * 50 connections going gets 50 answers per wait): the first looks come
 * soon, later ones less and less often. */
#define READ_RECHECK_FIRST_US 25
#define READ_RECHECK_MAX_US 1000

long long connection_answer_timeout_us(const struct connection *c) {
        long long wait = (long long) ms_until(answer_deadline(c)) * 1000, recheck = CONNECTION_RECHECK_MS * 1000;

        if (c->config->confirm != CONFIRM_STORED)
                recheck = c->answer_checks >= 6 ? READ_RECHECK_MAX_US
                                                 : (long long) READ_RECHECK_FIRST_US << c->answer_checks;
        return wait > recheck ? recheck : wait;
}

void connection_answer(struct connection *c) {
        assert(c->answer_waits);
        c->answer_waits = false;
        answer(c);
}

bool connection_end_waits(struct connection *c, enum connection_end why) {
        if (c->slot && admission_evicted(c->slot))
                why = CONNECTION_EVICTED;
        if (c->handshaking) {
                end_handshake(c, why);
                return false;
        }
        if (why != CONNECTION_EOF && why != CONNECTION_FAILED && why != CONNECTION_EVICTED &&
            read_already_sent(c))
                why = CONNECTION_EOF;
        /* A stream that ends inside an octet frame's length is broken like
         * one with a bad length: no answer. After a framing error the framer
         * takes nothing more. */
        if (framer_finish(&c->framer, deliver, c) == -EBADMSG && why == CONNECTION_EOF) {
                c->error = -EBADMSG;
                why = CONNECTION_FAILED;
        }
        note_batch(c);
        if (c->error == -EBADMSG)
                atomic_fetch_add(&c->server->counters->framing_errors, 1);

        switch (why) {
        case CONNECTION_EOF:
                if (!confirmation_known(c)) {
                        c->answer_waits = true;
                        c->answer_from_ms = now_ms();
                        return true;
                }
                answer(c);
                break;
        case CONNECTION_TIMED_OUT:
                log_connection(c, LOG_INFO, EVENT_CONN_TIMED_OUT,
                               "Connection %" PRIu64 " from %s timed out: a message took longer than %d ms to "
                               "arrive; logged what came of it; %" PRIu64 " messages logged",
                               c->id, c->peer.name, atomic_load(&c->server->shared->idle_timeout_ms), c->delivered);
                break;
        case CONNECTION_DRAINED:
                log_connection(c, LOG_INFO, EVENT_CONN_CLOSED,
                               "Connection %" PRIu64 " from %s closed as harkd stops: %" PRIu64 " messages "
                               "logged; %d bytes it had sent were left unread",
                               c->id, c->peer.name, c->delivered, unread_bytes(c));
                break;
        case CONNECTION_EVICTED:
                log_evicted(c);
                break;
        case CONNECTION_FAILED:
                log_failure(c);
                break;
        }
        return false;
}

/* Waits here until the answer is ready, and answers. */
static void answer_when_ready(struct connection *c) {
        /* In slices: a stop may bring the deadline forward meanwhile. */
        while (!connection_answer_ready(c)) {
                long long us = connection_answer_timeout_us(c);

                if (c->config->confirm == CONFIRM_STORED)
                        (void) stored_wait(c->id, c->delivered, now_ms() + us / 1000);
                else
                        (void) nanosleep(&(struct timespec) { us / 1000000, us % 1000000 * 1000 }, NULL);
        }
        connection_answer(c);
}

int connection_poll_timeout(const struct connection *c) {
        int idle_ms = atomic_load_explicit(&c->server->shared->idle_timeout_ms, memory_order_relaxed), wait;
        long long deadline = c->handshaking ? c->handshake_deadline_ms
                             : idle_ms > 0 && c->pending_since_ms > 0 ? c->pending_since_ms + idle_ms : -1;

        if (server_stopping(c->server)) {
                long long drain = atomic_load(&c->server->drain_deadline);
                if (deadline < 0 || drain < deadline)
                        deadline = drain;
        }
        wait = ms_until(deadline);
        return wait < 0 || wait > CONNECTION_RECHECK_MS ? CONNECTION_RECHECK_MS : wait;
}

enum connection_end connection_deadline_reason(const struct connection *c) {
        return server_stopping(c->server) && now_ms() >= atomic_load(&c->server->drain_deadline)
                ? CONNECTION_DRAINED : CONNECTION_TIMED_OUT;
}

/* Reads what the peer has sent so far, until it pauses (-EAGAIN), ends (0),
 * fails, or a deadline passes while it keeps sending (> 0). The buffer is
 * the heap's only for that while: threads waiting in poll(2) for a quiet
 * peer (`thread` mode) then hold none, and their stacks stay at two pages
 * instead of three (make bench E, 10,000 idle connections: 150 MiB of RSS
 * with it on the stack, 112 without). */
static ssize_t receive_burst(struct connection *c) {
        char *buffer = malloc(READ_CHUNK);
        ssize_t n;

        if (!buffer)
                return c->error = -ENOMEM;
        /* A peer that never pauses still ends with the drain bound, and a
         * message that never ends with its timeout. */
        do
                n = connection_receive(c, buffer, READ_CHUNK);
        while (n > 0 && connection_poll_timeout(c) > 0);
        free(buffer);
        return n;
}

bool connection_serve(struct connection *c) {
        for (;;) {
                ssize_t n = receive_burst(c);
                struct pollfd pfd[2] = {
                        { .fd = c->fd, .events = connection_poll_events(c) },
                        { .fd = c->server->stop_fd, .events = POLLIN },
                };
                int r;

                if (n > 0)
                        break;
                if (n == 0)
                        return connection_end_waits(c, CONNECTION_EOF);
                if (n != -EAGAIN)
                        return connection_end_waits(c, CONNECTION_FAILED);
                connection_trim(c);
                /* After the stop request stop_fd stays readable: stop watching it. */
                r = poll(pfd, server_stopping(c->server) ? 1 : 2, connection_poll_timeout(c));
                /* A reload may have moved the deadline while we waited. */
                if (r == 0 && connection_poll_timeout(c) == 0)
                        break;
        }
        return connection_end_waits(c, connection_deadline_reason(c));
}

bool connection_handle(struct server *s, const struct accepted *a) {
        struct connection *c = malloc(sizeof(*c));

        if (!c) {
                log_error("Out of memory for the connection from %s, closing it", a->peer.name);
                (void) close(a->fd);
                return true;
        }
        connection_init(c, s, a);
        if (connection_serve(c)) {
                if (s->driver->hands_off_answers && answerer_take(c) == 0)
                        return false;
                answer_when_ready(c);
        }
        connection_done(c);
        free(c);
        return true;
}

void connection_free(struct connection *c) {
        struct admission_slot *slot = c->slot;
        struct server *s = c->server;

        connection_done(c);
        free(c);
        server_release(s, slot);
}

void connection_list_remove(struct connection *c) {
        struct list *list = c->list;

        *(c->prev ? &c->prev->next : &list->head) = c->next;
        *(c->next ? &c->next->prev : &list->tail) = c->prev;
        c->prev = c->next = NULL;
        c->list = NULL;
}

void connection_list_append(struct list *list, struct connection *c) {
        c->prev = list->tail;
        c->next = NULL;
        *(list->tail ? &list->tail->next : &list->head) = c;
        list->tail = c;
        c->list = list;
}
