/* One client connection: its bytes go through the framer, each message into
 * the journal, and "OK <n>" goes back when the client half-closes. Shared by
 * every concurrency mode; the drivers only decide when to read. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "entry.h"
#include "framer.h"
#include "journal.h"
#include "net.h"
#include "server.h"

/* Why a connection ends. */
enum connection_end {
        CONNECTION_EOF,         /* the peer closed or half-closed: answer "OK <n>" */
        CONNECTION_TIMED_OUT,
        CONNECTION_DRAINED,     /* harkd is stopping */
        CONNECTION_FAILED,      /* read error, reset, or a framing error */
        CONNECTION_EVICTED,     /* closed to make room (admission_evict()) */
};

/* A list of connections, for drivers that keep them in lists. */
struct list {
        struct connection *head, *tail;
};

struct connection {
        int fd;
        uint64_t id;
        struct peer peer;
        struct server *server;
        struct admission_slot *slot;    /* the server's; NULL in a process of its own */
        struct framer framer;
        struct pending_entry *pending;  /* its part of max_pending_bytes; NULL: not bounded */
        const struct hark_config *config; /* the one in force when it opened */
        uint64_t received;              /* messages framed */
        uint64_t delivered;             /* of those, handed to journald */
        struct journal_stream journal;  /* its own socket to journald */
        uint64_t lost_counted;          /* of journal.lost, counted as failed */
        long long opened_ms;
        /* When the first byte of the message not yet ended arrived; 0 when
         * none is pending. The idle timeout runs from there. */
        long long pending_since_ms;
        bool stream_started;            /* a byte has arrived */
        size_t bytes_since_progress;    /* received since admission last heard of progress */
        bool failure_logged;
        int error;                      /* -errno of a failed read (-EBADMSG: framing), for the log */
        /* On a TLS listener: the session, NULL on plain TCP and unix. Until
         * its handshake is done no byte reaches the framer, and it has a
         * deadline of its own (connection_poll_timeout()). */
        struct tls_session *tls;
        bool handshaking;
        long long handshake_deadline_ms;
        int handshake_bound_ms;
        bool wants_write;               /* the session waits for room in the socket, not for bytes */
        /* The facts about the connection in each of its entries and in
         * harkd's log lines about it: the peer, HARK_CONNECTION. */
        struct iovec context[ENTRY_CONTEXT_MAX];
        size_t n_context;
        char context_text[1024];        /* room for a TLS subject (TLS_SUBJECT_MAX) */
        struct entry_builder entry;
        /* For lists of drivers (epoll) and of the answerer. */
        struct connection *prev, *next;
        struct list *list;
        bool watching_write;            /* epoll: registered for EPOLLOUT */
        /* confirm = "stored": the journal counts its entries (stored.h);
         * after the half-close "OK <n>" waits for them from answer_from_ms. */
        bool stored_tracked;
        bool answer_waits;
        long long answer_from_ms;
        unsigned answer_checks;         /* looks at journald so far that found the answer not ready */
};

/* Takes over the accepted connection a (its fd is then the connection's). */
void connection_init(struct connection *c, struct server *s, const struct accepted *a);

/* Closes the socket and frees buffers. Giving the connection's slot back to
 * the server (server_release()) is the driver's job: in `fork` mode only the
 * parent holds slots. */
void connection_done(struct connection *c);

/* Reads what the socket holds, once, without blocking, and frames it into
 * journal entries. Returns bytes read, 0 at end of stream, -EAGAIN when there
 * is nothing to read, or another -errno. */
ssize_t connection_receive(struct connection *c, char *buffer, size_t size);

/* Frees the buffers a connection between messages does not need: when it
 * has nothing more to read. Also gives back the buffer of its unfinished
 * message when max_pending_bytes asks for it (pending.h): after a wait that
 * PENDING_SIGNAL interrupted, drivers call this. */
void connection_trim(struct connection *c);

/* Whether the peer has sent bytes that are not read yet. */
bool connection_has_unread_data(const struct connection *c);

/* Reads what the peer has already sent (bounded), logs the unterminated tail
 * as a last message and, after a clean end of stream, answers "OK <n>" at
 * once, or returns true when the answer waits for journald: until the count
 * is known (journald has read the messages; under confirm = "stored", the
 * journal holds them) or confirm_timeout has passed. Then connection_answer()
 * once connection_answer_ready(), looking again at the latest after
 * connection_answer_timeout_us() microseconds, or when the wake_fd given to
 * stored_add_waiter() is written (answerer.h does that). */
bool connection_end_waits(struct connection *c, enum connection_end why);
bool connection_answer_ready(struct connection *c);
long long connection_answer_timeout_us(const struct connection *c);
void connection_answer(struct connection *c);

/* The events a driver waits for before calling connection_receive() again
 * after -EAGAIN: POLLIN, or POLLOUT while a TLS handshake waits to write. */
short connection_poll_events(const struct connection *c);

/* A TLS handshake must end within the idle timeout, and never takes longer
 * than this (also with timeout = 0): a peer that stalls it holds a slot. */
#define CONNECTION_HANDSHAKE_MAX_MS 10000

/* A reload may shorten the idle timeout of connections that are waiting:
 * they look at it again at least this often. */
#define CONNECTION_RECHECK_MS 1000

/* Milliseconds to wait for the connection: until its deadline (a TLS
 * handshake's bound; the idle timeout, which runs only while a message is
 * pending, from its first byte:
 * a connection between messages may stay silent for ever, and a sender that
 * drips a message byte by byte does not restart the clock; or the drain
 * bound once stopping) but at most CONNECTION_RECHECK_MS; 0 when the
 * deadline has passed. */
int connection_poll_timeout(const struct connection *c);

/* Why the connection should end now that its deadline passed. */
enum connection_end connection_deadline_reason(const struct connection *c);

/* Serves the connection to its end on a blocking socket: the loop of the
 * sequential, thread, pool and fork drivers. Returns whether its answer
 * waits, as connection_end_waits(). */
bool connection_serve(struct connection *c);

/* A connection of the heap from a, served to its end (connection_serve()).
 * One whose answer waits goes to the answerer when the driver hands off
 * answers (struct server_driver), and is answered here otherwise. Returns
 * true when it is done here and the caller gives its slot back, false when
 * the answerer took it (and gives the slot back). */
bool connection_handle(struct server *s, const struct accepted *a);

/* connection_done(), frees a connection of the heap and gives its slot back. */
void connection_free(struct connection *c);

/* The lists of drivers and of the answerer. */
void connection_list_append(struct list *list, struct connection *c);
void connection_list_remove(struct connection *c);
