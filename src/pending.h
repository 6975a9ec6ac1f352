/* max_pending_bytes: one bound on the memory that every connection of one
 * harkd holds for messages not yet ended, `fork` children included (the
 * table lives in memory shared by all its processes, under a robust
 * process-shared lock, so a child killed while holding it does not stop
 * the others).
 *
 * Each connection has an entry: the bytes its framer's message buffer
 * counts (its charge) and the length of its message so far. A framer that
 * must grow its buffer past the bound asks the connection with the largest
 * buffer (the longest line among equals) to give its buffer back: that
 * connection logs its line as far as it came, marked truncated, and skips
 * the rest of it. One in the same thread (an epoll loop's own) does so at
 * once; one served elsewhere is woken with SIGURG and waited for, at most
 * PENDING_WAIT_MS. When the asking one holds the longest line itself, or
 * the other does not answer in time (blocked writing to the journal), the
 * asking one's own line is cut instead: the bound holds either way. */
#pragma once

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* As many entries as max_connections may ever admit. */
#define PENDING_ENTRIES_MAX (1u << 20)

/* How long a connection over the bound waits for another to give its
 * buffer back before it cuts its own line. */
#define PENDING_WAIT_MS 100

/* What wakes a connection that is asked to give its buffer back: its
 * thread's poll(2) or epoll_wait(2) returns EINTR. */
#define PENDING_SIGNAL SIGURG

/* Gives the entry's buffer back now; called in the thread that serves it. */
typedef void (*pending_give_back_fn)(void *context);

struct pending_entry {
        atomic_ullong owner;            /* HARK_CONNECTION; 0: free */
        size_t charged;                 /* under the table's lock */
        atomic_size_t length;           /* of its message so far */
        atomic_bool asked;              /* to give its buffer back */
        pid_t pid, tid;                 /* who serves it */
        pending_give_back_fn give_back; /* valid in process pid only */
        void *context;
};

struct pending;

/* A table that bounds the charges at limit bytes; NULL when out of memory. */
struct pending *pending_new(size_t limit);
void pending_free(struct pending *p);

/* A new bound (a reload); lines over it are cut as they grow. */
void pending_set_limit(struct pending *p, size_t limit);

size_t pending_limit(struct pending *p);

/* Bytes charged now, by every connection. */
size_t pending_total(struct pending *p);

/* An entry for connection owner, served by the calling thread, which
 * give_back(context) may be asked of; NULL when the table is full (p NULL
 * too): the connection is then not bounded. */
struct pending_entry *pending_join(struct pending *p, uint64_t owner, pending_give_back_fn give_back,
                                   void *context);

/* Releases the entry and its charge (NULL: none). */
void pending_leave(struct pending *p, struct pending_entry *e);

/* The entry's buffer grows by more bytes for a message of length bytes.
 * Returns 0, or -ENOBUFS when its own line must be cut instead (the bound
 * holds no more and this is the longest line, or the entry was asked). */
int pending_grow(struct pending *p, struct pending_entry *e, size_t more, size_t length);

/* The growth failed after all (no memory): takes back less bytes. */
void pending_shrink(struct pending *p, struct pending_entry *e, size_t less);

/* The entry's buffer is gone: its charge is 0, which answers an ask. */
void pending_release(struct pending *p, struct pending_entry *e);

/* Process pid ended (a `fork` child, maybe killed): its entries go. */
void pending_forget_process(struct pending *p, pid_t pid);

static inline void pending_note_length(struct pending_entry *e, size_t length) {
        atomic_store_explicit(&e->length, length, memory_order_relaxed);
}

static inline bool pending_asked(const struct pending_entry *e) {
        return atomic_load_explicit(&e->asked, memory_order_relaxed);
}
