/* Who may have a connection slot: the global limit (max_connections, or a
 * driver's own lower cap) and the per-source limit, with the table of open
 * connections per source behind them. Thread-safe; one per server, held by
 * the process that accepts (in `fork` mode the parent). */
#pragma once

#include <pthread.h>
#include <stdbool.h>

#include "net.h"
#include "stats.h"

struct source;

struct admission {
        pthread_mutex_t lock;
        unsigned max_connections;
        unsigned max_per_source;        /* 0 = no limit */
        unsigned mode_limit;            /* a driver's own cap below max_connections; 0 = none */
        unsigned active;                /* connections holding a slot */
        bool paused;                    /* has_room() said no; release() reports the room again */
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

/* Takes a slot for peer. Returns 0, -EBUSY when its source already holds
 * max_per_source connections (*open_from_source says how many), -ENOMEM. */
int admission_admit(struct admission *a, const struct peer *peer, unsigned *open_from_source);

/* Gives back peer's slot. Returns true when accepting had paused for lack of
 * room and now may resume; *still_open gets the connections left. */
bool admission_release(struct admission *a, const struct peer *peer, unsigned *still_open);

/* Whether another connection fits now; a no pauses accepting until a
 * release reports room again. */
bool admission_has_room(struct admission *a);

unsigned admission_open(struct admission *a);

/* Closes fd of a peer admission_admit() turned away, counts it and logs it
 * (rate-limited: peers can cause this at will). */
void admission_refuse(struct admission *a, int fd, const struct peer *peer, unsigned open_from_source);
