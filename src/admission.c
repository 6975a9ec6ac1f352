#include "admission.h"

#include <assert.h>
#include <errno.h>
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
        a->sources = calloc(SOURCE_BUCKETS, sizeof(*a->sources));
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

/* Under lock: the quiet connection to evict next, from the source with the
 * most slots that has one; NULL when none is quiet enough. */
static struct admission_slot *pick_victim(struct admission *a, long long now) {
        struct admission_slot *victim = NULL;
        unsigned victim_count = 0;

        for (size_t i = 0; i < SOURCE_BUCKETS; i++)
                for (struct source *source = a->sources[i]; source; source = source->next) {
                        if (source->count < victim_count)
                                continue;
                        for (struct admission_slot *slot = source->slots; slot; slot = slot->next) {
                                long long progress = atomic_load_explicit(&slot->progress_ms, memory_order_relaxed);

                                if (slot->fd < 0 || !atomic_load(&slot->serving) || atomic_load(&slot->evicted) ||
                                    now - progress < ADMISSION_EVICT_IDLE_MS)
                                        continue;
                                /* A source's list runs from its newest connection
                                 * to its oldest: on a tie the older one goes. */
                                if (!victim || source->count > victim_count ||
                                    progress <= atomic_load_explicit(&victim->progress_ms, memory_order_relaxed)) {
                                        victim = slot;
                                        victim_count = source->count;
                                }
                        }
                }
        return victim;
}

unsigned admission_evict(struct admission *a, long long now, unsigned waiting) {
        unsigned evicted = 0;

        pthread_mutex_lock(&a->lock);
        /* Evictions still ending count: a second call before they are
         * released evicts no more for the same newcomers. */
        while (a->evicting < waiting) {
                struct admission_slot *victim = pick_victim(a, now);

                if (!victim)
                        break;
                atomic_store(&victim->evicted, true);
                a->evicting++;
                evicted++;
                /* Wakes whoever serves it: it reads the end of the stream. The
                 * descriptor is still open: its owner forgets it here (under
                 * this lock) before closing it. */
                (void) shutdown(victim->fd, SHUT_RDWR);
        }
        pthread_mutex_unlock(&a->lock);
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

void admission_refuse(struct admission *a, int fd, const struct peer *peer, unsigned open_from_source) {
        struct iovec fields[2];
        char source[96];
        unsigned suppressed;

        atomic_fetch_add(&a->counters->refused, 1);
        (void) close(fd);
        if (!log_ratelimit_pass(&a->counters->logs.refused, &suppressed))
                return;

        /* For a unix peer the source is its user (see peer_from_address()). */
        if (peer->family == AF_UNIX)
                snprintf(source, sizeof(source), "REMOTE_UID=%u", (unsigned) peer->uid);
        else
                snprintf(source, sizeof(source), "REMOTE_ADDR=%s", peer->address);
        fields[0] = (struct iovec) { source, strlen(source) };
        fields[1] = (struct iovec) { (char *) "HARK_REFUSED=per-source", 23 };
        log_event(LOG_WARNING, EVENT_CONN_REFUSED, fields, 2,
                  "Refused connection from %s: %u connections from this source already open "
                  "(max_connections_per_source); %u similar refusals not logged before this one",
                  peer->name, open_from_source, suppressed);
}
