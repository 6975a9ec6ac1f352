/* Who may have a connection slot: the global limit (max_connections, or a
 * driver's own lower cap) and the per-source limit, with the table of open
 * connections per source behind them. Thread-safe; one per server, held by
 * the process that accepts (in `fork` mode the parent). */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "net.h"
#include "stats.h"

struct source;

/* One admitted connection, as admission sees it: what it needs to pick a
 * connection to close when a newcomer needs the room. */
struct admission_slot {
        struct admission_slot *prev, *next;     /* of its source */
        struct source *source;
        int fd;                 /* -1 once its socket is being closed, or is another process's */
        atomic_llong progress_ms;       /* now_ms() of its admission or its last ended message */
        atomic_bool serving;    /* a driver serves it (not waiting in a queue) */
        atomic_bool delivering; /* writing its messages to the journal */
        uint64_t admitted;      /* its rank in admission order */
        atomic_bool evicted;
};

struct admission {
        pthread_mutex_t lock;
        unsigned max_connections;
        unsigned max_per_source;        /* 0 = no limit */
        unsigned mode_limit;            /* a driver's own cap below max_connections; 0 = none */
        unsigned active;                /* connections holding a slot */
        bool paused;                    /* has_room() said no; release() reports the room again */
        unsigned evicting;              /* evicted, not yet released */
        uint64_t admitted;              /* admissions so far */
        struct source **sources;        /* hash table: open connections per source */
        struct counters *counters;      /* refusals are counted there */
};

/* Returns 0 or -ENOMEM. counters must outlive the admission. */
int admission_init(struct admission *a, unsigned max_connections, unsigned max_per_source,
                   struct counters *counters);
void admission_done(struct admission *a);

/* New limits (a reload): they apply to the next admissions; connections
 * already open keep their slots. */
void admission_set_limits(struct admission *a, unsigned max_connections, unsigned max_per_source);

/* A driver that can hold fewer connections than max_connections (sequential:
 * one) caps admissions at limit; 0 removes the cap. */
void admission_set_mode_limit(struct admission *a, unsigned limit);

/* Takes a slot for peer, whose socket is fd. Returns 0 and sets *slot, -EBUSY
 * when its source already holds max_per_source connections
 * (*open_from_source says how many), or -ENOMEM. */
int admission_admit(struct admission *a, const struct peer *peer, int fd, unsigned *open_from_source,
                    struct admission_slot **slot);

/* The connection of slot ended a message at now (a relaxed store: called for
 * every read that ends one). */
static inline void admission_progress(struct admission_slot *slot, long long now) {
        atomic_store_explicit(&slot->progress_ms, now, memory_order_relaxed);
}

/* The connection of slot is being served from now on (see
 * server_note_serving()). */
static inline void admission_serving(struct admission_slot *slot, long long now) {
        atomic_store_explicit(&slot->progress_ms, now, memory_order_relaxed);
        atomic_store(&slot->serving, true);
}

/* The socket of slot is about to be closed, or belongs to another process
 * from now on: eviction must no longer touch the descriptor. */
void admission_forget_fd(struct admission *a, struct admission_slot *slot);

/* Whether slot's connection was closed by eviction. */
static inline bool admission_evicted(const struct admission_slot *slot) {
        return atomic_load(&slot->evicted);
}

/* Gives back the slot (and frees it). Returns true when accepting had paused
 * for lack of room and now may resume; *still_open gets the connections left. */
bool admission_release(struct admission *a, struct admission_slot *slot, unsigned *still_open);

/* Whether another connection fits now. A no pauses accepting until a release
 * reports room again. */
bool admission_has_room(struct admission *a);

/* While `waiting` newcomers wait for room (in the listen queue while
 * accepting is paused, or accepted, for a worker): connections being served
 * that have made no progress (ended no message, received few bytes) for
 * ADMISSION_EVICT_IDLE_MS and are not writing to the journal make room for them,
 * as many as wait (counting evictions not yet released). Those of the source
 * holding the most slots go first, the longest quiet first. Their sockets are
 * shut down, which ends them in their drivers as evicted. So one address
 * holding every slot with silent or slow-drip connections cannot lock out the
 * others, while a busy harkd whose connections all make progress keeps its
 * newcomers waiting in the queue, as before. Returns how many were evicted. */
unsigned admission_evict(struct admission *a, long long now, unsigned waiting);

#define ADMISSION_EVICT_IDLE_MS 500

/* Whether accepting is paused for lack of room. */
bool admission_paused(struct admission *a);

unsigned admission_open(struct admission *a);

/* Closes fd of a peer admission_admit() turned away, counts it and logs it
 * (rate-limited: peers can cause this at will). */
void admission_refuse(struct admission *a, int fd, const struct peer *peer, unsigned open_from_source);

/* The same for a peer outside the `allow` list: closed before a byte of it
 * is read (fd -1: a datagram's sender, nothing to close). */
void admission_refuse_stranger(struct admission *a, int fd, const struct peer *peer);
