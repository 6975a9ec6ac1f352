#include "admission.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"
#include "log.h"
#include "util.h"

#define SOURCE_BUCKETS 1024

struct source {
        struct source *next;
        unsigned count;
        struct admission_slot *slots;   /* its connections */
        char address[];
};

int admission_init(struct admission *a, unsigned max_connections, unsigned max_per_source,
                   struct counters *counters) {
        assert(counters);
        memset(a, 0, sizeof(*a));
        a->counters = counters;
        a->sources = calloc(SOURCE_BUCKETS, sizeof(struct source *));
        if (!a->sources)
                return -ENOMEM;
        pthread_mutex_init(&a->lock, NULL);
        admission_set_limits(a, max_connections, max_per_source);
        return 0;
}

void admission_done(struct admission *a) {
        if (!a->sources)
                return;
        for (size_t i = 0; i < SOURCE_BUCKETS; i++)
                while (a->sources[i]) {
                        struct source *next = a->sources[i]->next;
                        free(a->sources[i]);
                        a->sources[i] = next;
                }
        free(a->sources);
        a->sources = NULL;
        pthread_mutex_destroy(&a->lock);
}

void admission_set_limits(struct admission *a, unsigned max_connections, unsigned max_per_source) {
        assert(max_connections > 0);
        pthread_mutex_lock(&a->lock);
        a->max_connections = max_connections;
        a->max_per_source = max_per_source;
        pthread_mutex_unlock(&a->lock);
}

void admission_set_mode_limit(struct admission *a, unsigned limit) {
        pthread_mutex_lock(&a->lock);
        a->mode_limit = limit;
        pthread_mutex_unlock(&a->lock);
}

/* FNV-1a: spreads addresses over the buckets well enough. */
static struct source **source_slot(struct admission *a, const char *address) {
        uint32_t h = 2166136261u;
        struct source **p;

        for (const char *c = address; *c; c++)
                h = (h ^ (unsigned char) *c) * 16777619u;
        for (p = &a->sources[h % SOURCE_BUCKETS]; *p; p = &(*p)->next)
                if (strcmp((*p)->address, address) == 0)
                        break;
        return p;
}

static struct source *source_new(const char *address) {
        size_t len = strlen(address) + 1;
        struct source *s = malloc(sizeof(*s) + len);

        if (!s)
                return NULL;
        s->next = NULL;
        s->count = 0;
        s->slots = NULL;
        memcpy(s->address, address, len);
        return s;
}

int admission_admit(struct admission *a, const struct peer *peer, int fd, unsigned *open_from_source,
                    struct admission_slot **slot) {
        struct source **source;
        struct admission_slot *new;
        int r = 0;

        new = calloc(1, sizeof(*new));
        if (!new)
                return -ENOMEM;
        new->fd = fd;
        atomic_init(&new->progress_ms, now_ms());
        pthread_mutex_lock(&a->lock);
        source = source_slot(a, peer->address);
        *open_from_source = *source ? (*source)->count : 0;
        if (a->max_per_source > 0 && *open_from_source >= a->max_per_source) {
                r = -EBUSY;
                goto out;
        }
        if (!*source && !(*source = source_new(peer->address))) {
                r = -ENOMEM;
                goto out;
        }
        new->source = *source;
        new->admitted = ++a->admitted;
        new->next = (*source)->slots;
        if (new->next)
                new->next->prev = new;
        (*source)->slots = new;
        (*source)->count++;
        a->active++;
        *slot = new;
        new = NULL;
out:
        pthread_mutex_unlock(&a->lock);
        free(new);
        return r;
}

void admission_forget_fd(struct admission *a, struct admission_slot *slot) {
        pthread_mutex_lock(&a->lock);
        slot->fd = -1;
        pthread_mutex_unlock(&a->lock);
}

/* Under lock. */
static unsigned connection_limit(const struct admission *a) {
        return a->mode_limit > 0 && a->mode_limit < a->max_connections ? a->mode_limit : a->max_connections;
}

bool admission_release(struct admission *a, struct admission_slot *slot, unsigned *still_open) {
        struct source *source = slot->source;
        bool resume = false;

        pthread_mutex_lock(&a->lock);
        assert(source->count > 0 && a->active > 0);
        if (slot->prev)
                slot->prev->next = slot->next;
        else
                source->slots = slot->next;
        if (slot->next)
                slot->next->prev = slot->prev;
        if (atomic_load(&slot->evicted))
                a->evicting--;
        if (--source->count == 0) {
                struct source **p = source_slot(a, source->address);
                assert(*p == source);
                *p = source->next;
                free(source);
        }
        a->active--;
        if (a->paused && a->active < connection_limit(a)) {
                a->paused = false;
                resume = true;
        }
        *still_open = a->active;
        pthread_mutex_unlock(&a->lock);
        free(slot);
        return resume;
}

bool admission_has_room(struct admission *a) {
        bool room;

        pthread_mutex_lock(&a->lock);
        room = a->active < connection_limit(a);
        a->paused = !room;
        pthread_mutex_unlock(&a->lock);
        return room;
}

/* A connection that may be evicted, and what orders them: those of the
 * source with the most slots first, then the longest quiet, then the oldest. */
struct candidate {
        struct admission_slot *slot;
        unsigned source_count;
        long long progress_ms;
        uint64_t admitted;
};

static int candidate_order(const void *x, const void *y) {
        const struct candidate *a = x, *b = y;

        if (a->source_count != b->source_count)
                return a->source_count > b->source_count ? -1 : 1;
        if (a->progress_ms != b->progress_ms)
                return a->progress_ms < b->progress_ms ? -1 : 1;
        return a->admitted < b->admitted ? -1 : a->admitted > b->admitted;
}

static bool evictable(const struct admission_slot *slot, long long now) {
        return slot->fd >= 0 && atomic_load(&slot->serving) && !atomic_load(&slot->evicted) &&
               !atomic_load_explicit(&slot->delivering, memory_order_relaxed) &&
               now - atomic_load_explicit(&slot->progress_ms, memory_order_relaxed) >= ADMISSION_EVICT_IDLE_MS;
}

/* Under lock: the evictable connections, in the order they go, in one pass
 * and one sort (a scan per victim cost seconds with 100,000 connections).
 * Returns how many, with *out malloc'd (NULL when there was nothing to
 * allocate, or no memory: then 0). */
static size_t candidates(struct admission *a, long long now, struct candidate **out) {
        struct candidate *list;
        size_t n = 0;

        *out = NULL;
        if (a->active == 0 || !(list = malloc(a->active * sizeof(*list))))
                return 0;
        for (size_t i = 0; i < SOURCE_BUCKETS; i++)
                for (struct source *source = a->sources[i]; source; source = source->next)
                        for (struct admission_slot *slot = source->slots; slot; slot = slot->next)
                                if (evictable(slot, now)) {
                                        assert(n < a->active);
                                        list[n++] = (struct candidate) {
                                                .slot = slot,
                                                .source_count = source->count,
                                                .progress_ms = atomic_load_explicit(&slot->progress_ms,
                                                                                    memory_order_relaxed),
                                                .admitted = slot->admitted,
                                        };
                                }
        qsort(list, n, sizeof(*list), candidate_order);
        *out = list;
        return n;
}

unsigned admission_evict(struct admission *a, long long now, unsigned waiting) {
        struct candidate *list = NULL;
        unsigned evicted = 0;
        size_t n;

        pthread_mutex_lock(&a->lock);
        /* Evictions still ending count: a second call before they are
         * released evicts no more for the same newcomers. */
        n = a->evicting < waiting ? candidates(a, now, &list) : 0;
        for (size_t i = 0; i < n && a->evicting < waiting; i++) {
                struct admission_slot *victim = list[i].slot;

                atomic_store(&victim->evicted, true);
                a->evicting++;
                evicted++;
                /* Wakes whoever serves it: it reads the end of the stream. The
                 * descriptor is still open: its owner forgets it here (under
                 * this lock) before closing it. */
                (void) shutdown(victim->fd, SHUT_RDWR);
        }
        pthread_mutex_unlock(&a->lock);
        free(list);
        if (evicted)
                atomic_fetch_add(&a->counters->evicted, evicted);
        return evicted;
}

bool admission_paused(struct admission *a) {
        bool paused;

        pthread_mutex_lock(&a->lock);
        paused = a->paused;
        pthread_mutex_unlock(&a->lock);
        return paused;
}

unsigned admission_open(struct admission *a) {
        unsigned open;

        pthread_mutex_lock(&a->lock);
        open = a->active;
        pthread_mutex_unlock(&a->lock);
        return open;
}

/* Logs a refusal of peer's connection or datagram (what): the source, why
 * (HARK_REFUSED=reason) and text. */
#if defined(__GNUC__)
__attribute__((format(printf, 6, 7)))
#endif
static void log_refusal(const char *id, struct log_ratelimit *rl, const char *what, const struct peer *peer,
                        const char *reason, const char *format, ...) {
        char source[96], why[64], text[512];
        struct iovec fields[2];
        unsigned suppressed;
        va_list ap;

        if (!log_ratelimit_pass(rl, &suppressed))
                return;
        /* For a unix peer the source is its user (see peer_from_address()). */
        if (peer->family == AF_UNIX)
                snprintf(source, sizeof(source), "REMOTE_UID=%u", (unsigned) peer->uid);
        else
                snprintf(source, sizeof(source), "REMOTE_ADDR=%s", peer->address);
        snprintf(why, sizeof(why), "HARK_REFUSED=%s", reason);
        fields[0] = (struct iovec) { source, strlen(source) };
        fields[1] = (struct iovec) { why, strlen(why) };
        va_start(ap, format);
        vsnprintf(text, sizeof(text), format, ap);
        va_end(ap);
        log_event(LOG_WARNING, id, fields, 2, "Refused %s from %s: %s; %u similar refusals not logged "
                  "before this one", what, peer->name, text, suppressed);
}

void admission_refuse(struct admission *a, int fd, const struct peer *peer, unsigned open_from_source) {
        atomic_fetch_add(&a->counters->refused, 1);
        (void) close(fd);
        log_refusal(EVENT_CONN_REFUSED, &a->counters->logs.refused, "connection", peer, "per-source",
                    "%u connections from this source already open (max_connections_per_source)", open_from_source);
}

void admission_refuse_stranger(struct admission *a, int fd, const struct peer *peer) {
        atomic_fetch_add(&a->counters->not_allowed, 1);
        if (fd >= 0)
                (void) close(fd);
        log_refusal(EVENT_CONN_NOT_ALLOWED, &a->counters->logs.not_allowed, fd >= 0 ? "connection" : "datagram",
                    peer, "not-allowed",
                    "its address is not in the allow list");
}
