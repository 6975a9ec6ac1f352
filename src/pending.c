#include "pending.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

struct pending {
        pthread_mutex_t lock;           /* process-shared, robust */
        size_t total;                   /* the sum of the charges, under lock */
        atomic_size_t limit;
        unsigned used;                  /* entries [0, used) have been handed out */
        struct pending_entry entries[PENDING_ENTRIES_MAX];
};

/* Reserved, not committed: only the entries handed out take memory. */
struct pending *pending_new(size_t limit) {
        struct pending *p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
                                 MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        pthread_mutexattr_t attr;
        int r;

        if (p == MAP_FAILED)
                return NULL;
        r = pthread_mutexattr_init(&attr);
        if (r == 0) {
                (void) pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
                (void) pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
                r = pthread_mutex_init(&p->lock, &attr);
                (void) pthread_mutexattr_destroy(&attr);
        }
        if (r != 0) {
                (void) munmap(p, sizeof(*p));
                return NULL;
        }
        atomic_init(&p->limit, limit);
        return p;
}

void pending_free(struct pending *p) {
        if (!p)
                return;
        (void) pthread_mutex_destroy(&p->lock);
        (void) munmap(p, sizeof(*p));
}

/* The owner of the lock died (a `fork` child killed), maybe between its
 * charge and the total: the charges are the truth. */
static void recount(struct pending *p) {
        p->total = 0;
        for (unsigned i = 0; i < p->used; i++)
                p->total += p->entries[i].charged;
}

static void lock(struct pending *p) {
        if (pthread_mutex_lock(&p->lock) == EOWNERDEAD) {
                recount(p);
                (void) pthread_mutex_consistent(&p->lock);
        }
}

static void unlock(struct pending *p) {
        (void) pthread_mutex_unlock(&p->lock);
}

void pending_set_limit(struct pending *p, size_t limit) {
        atomic_store(&p->limit, limit);
}

size_t pending_limit(struct pending *p) {
        return atomic_load(&p->limit);
}

size_t pending_total(struct pending *p) {
        size_t total;

        if (!p)
                return 0;
        lock(p);
        total = p->total;
        unlock(p);
        return total;
}

static pid_t thread_id(void) {
        return (pid_t) syscall(SYS_gettid);
}

struct pending_entry *pending_join(struct pending *p, uint64_t owner, pending_give_back_fn give_back,
                                   void *context) {
        struct pending_entry *e = NULL;

        assert(owner != 0 && give_back);
        if (!p)
                return NULL;
        lock(p);
        for (unsigned i = 0; i < p->used && !e; i++)
                if (atomic_load(&p->entries[i].owner) == 0)
                        e = &p->entries[i];
        if (!e && p->used < PENDING_ENTRIES_MAX)
                e = &p->entries[p->used++];
        if (e) {
                *e = (struct pending_entry) { .pid = getpid(), .tid = thread_id(), .give_back = give_back,
                                              .context = context };
                atomic_store(&e->owner, owner);
        }
        unlock(p);
        return e;
}

/* Under lock. */
static void discharge(struct pending *p, struct pending_entry *e) {
        assert(p->total >= e->charged);
        p->total -= e->charged;
        e->charged = 0;
        atomic_store(&e->asked, false);
        atomic_store_explicit(&e->length, 0, memory_order_relaxed);
}

void pending_leave(struct pending *p, struct pending_entry *e) {
        if (!e)
                return;
        lock(p);
        discharge(p, e);
        atomic_store(&e->owner, 0);
        unlock(p);
}

void pending_release(struct pending *p, struct pending_entry *e) {
        lock(p);
        discharge(p, e);
        unlock(p);
}

void pending_shrink(struct pending *p, struct pending_entry *e, size_t less) {
        lock(p);
        /* An ask may have taken the charge to 0 meanwhile. */
        if (less > e->charged)
                less = e->charged;
        e->charged -= less;
        p->total -= less;
        unlock(p);
}

void pending_forget_process(struct pending *p, pid_t pid) {
        lock(p);
        for (unsigned i = 0; i < p->used; i++) {
                struct pending_entry *e = &p->entries[i];

                if (atomic_load(&e->owner) != 0 && e->pid == pid) {
                        discharge(p, e);
                        atomic_store(&e->owner, 0);
                }
        }
        unlock(p);
}

/* Whether a holds more than b would: the larger buffer, or at equal
 * buffers the longer line. */
static bool holds_more(const struct pending_entry *a, size_t charged, size_t length) {
        size_t a_length = atomic_load_explicit(&a->length, memory_order_relaxed);

        return a->charged > charged || (a->charged == charged && a_length > length);
}

/* Under lock: the entry other than me that holds more than I would with
 * charged bytes for length, the most of those; NULL if none. */
static struct pending_entry *longest_other(struct pending *p, const struct pending_entry *me, size_t charged,
                                           size_t length) {
        struct pending_entry *best = NULL;

        for (unsigned i = 0; i < p->used; i++) {
                struct pending_entry *e = &p->entries[i];

                if (e == me || atomic_load(&e->owner) == 0 || e->charged == 0)
                        continue;
                if (best ? holds_more(e, best->charged, atomic_load(&best->length)) : holds_more(e, charged, length))
                        best = e;
        }
        return best;
}

/* Whom to ask, copied out of the table before the lock goes. */
struct ask {
        struct pending_entry *entry;
        pid_t pid, tid;
        pending_give_back_fn give_back;
        void *context;
};

enum step {
        STEP_GRANTED,
        STEP_REFUSED,           /* cut my own line */
        STEP_ASKED,             /* another gives its buffer back: wait for it */
};

/* One try under the lock; *ask gets the entry asked. */
static enum step try_grow(struct pending *p, struct pending_entry *e, size_t more, size_t length,
                          struct ask *ask) {
        struct pending_entry *other;

        if (pending_asked(e))
                return STEP_REFUSED;
        if (p->total + more <= atomic_load(&p->limit)) {
                e->charged += more;
                p->total += more;
                return STEP_GRANTED;
        }
        other = longest_other(p, e, e->charged + more, length);
        if (!other)
                return STEP_REFUSED;
        atomic_store(&other->asked, true);
        *ask = (struct ask) { .entry = other, .pid = other->pid, .tid = other->tid, .give_back = other->give_back,
                              .context = other->context };
        return STEP_ASKED;
}

static void sleep_ms(long ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

        /* EINTR: a signal, maybe an ask of our own; looking again is right. */
        (void) nanosleep(&ts, NULL);
}

int pending_grow(struct pending *p, struct pending_entry *e, size_t more, size_t length) {
        long long deadline = now_ms() + PENDING_WAIT_MS;

        assert(p && e && more > 0);
        for (;;) {
                struct ask ask;
                enum step step;

                lock(p);
                step = try_grow(p, e, more, length, &ask);
                unlock(p);
                if (step != STEP_ASKED)
                        return step == STEP_GRANTED ? 0 : -ENOBUFS;
                /* Not inside the framer of that connection: this thread
                 * frames one connection at a time. */
                if (ask.pid == e->pid && ask.tid == e->tid) {
                        ask.give_back(ask.context);
                        continue;
                }
                if (ms_until(deadline) == 0) {
                        /* It was not cut, ours is: it need not be any more. */
                        atomic_store(&ask.entry->asked, false);
                        return -ENOBUFS;
                }
                /* ESRCH: it has ended, and its charge is going. */
                (void) syscall(SYS_tgkill, ask.pid, ask.tid, PENDING_SIGNAL);
                sleep_ms(1);
        }
}
