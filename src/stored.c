#include "stored.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define BUCKETS 4096
/* journald tells followers of new entries (inotify) at most every 250 ms,
 * far longer than it takes to store them; while a connection waits for its
 * count the reader does not wait to be told, it looks this often. */
#define LOOK_WHILE_WAITING_MS 1
/* Otherwise it wakes when told, or at the latest after this. */
#define LOOK_WHEN_IDLE_MS 1000
/* Connection ids taken from the journal before the counts are updated
 * under the lock, once for all of them. */
#define IDS_PER_BATCH 256

struct tracked {
        struct tracked *next;
        uint64_t id;
        uint64_t stored;
        /* Journal files came or went since it was counted: journald deletes
         * its oldest files for room (a full store), and what they held is
         * no longer stored. Until counted again it has nothing stored. */
        bool uncertain;
        int wake_fd;                    /* of a waiting event loop; -1: none */
        bool waiting;                   /* stored_wait() sleeps on it */
};

/* Everything under lock but journal, which only the reader's thread uses
 * once it runs. */
static struct {
        pthread_mutex_t lock;
        pthread_cond_t grown;           /* on CLOCK_MONOTONIC, as now_ms() */
        bool cond_ready;
        bool running, stopping;
        bool open_failed;               /* logged once: every connection would try again */
        pthread_t thread;
        int wake_fd;                    /* eventfd: someone waits now, or stop */
        unsigned waiters;
        unsigned uncertain_waiters;     /* waiting and uncertain: to count again */
        struct tracked *buckets[BUCKETS];
        sd_journal *journal;
} reader = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake_fd = -1 };

static bool is_waiting(const struct tracked *t) {
        return t->waiting || t->wake_fd >= 0;
}

/* Under lock: what may be confirmed of t now. */
static uint64_t stored_now(const struct tracked *t) {
        return t->uncertain ? 0 : t->stored;
}

static struct tracked **slot_of(uint64_t id) {
        struct tracked **p = &reader.buckets[(id * 0x9e3779b97f4a7c15ULL) >> 52];

        while (*p && (*p)->id != id)
                p = &(*p)->next;
        return p;
}

/* The connection an entry is of: message entries carry HARK_CONNECTION and
 * never MESSAGE_ID; harkd's log lines about a connection carry both. */
static bool connection_of_entry(sd_journal *j, uint64_t *id) {
        static const char prefix[] = "HARK_CONNECTION=";
        const void *data;
        const char *digit, *end;
        size_t size;
        uint64_t n = 0;

        if (sd_journal_get_data(j, "MESSAGE_ID", &data, &size) >= 0)
                return false;
        if (sd_journal_get_data(j, "HARK_CONNECTION", &data, &size) < 0 || size <= sizeof(prefix) - 1 ||
            size - (sizeof(prefix) - 1) > 20)
                return false;
        end = (const char *) data + size;
        for (digit = (const char *) data + sizeof(prefix) - 1; digit < end; digit++) {
                if (*digit < '0' || *digit > '9' || n > (UINT64_MAX - 9) / 10)
                        return false;
                n = n * 10 + (uint64_t) (*digit - '0');
        }
        *id = n;
        return true;
}

static int open_journal(sd_journal **j) {
        const char *namespace = getenv("LOG_NAMESPACE");

        return namespace && *namespace ? sd_journal_open_namespace(j, namespace, SD_JOURNAL_LOCAL_ONLY)
                                       : sd_journal_open(j, SD_JOURNAL_LOCAL_ONLY);
}

/* When the reader started (CLOCK_REALTIME, as journald stamps entries):
 * entries of this process are not older. An entry of another process that
 * had the same PID, in an earlier boot, is. The boot ID would tell them
 * apart directly, but under ProcSubset=pid (the shipped units) harkd cannot
 * read it (/proc/sys/kernel/random/boot_id). */
static uint64_t reader_since_usec;

static uint64_t realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static int match_own_entries(sd_journal *j) {
        char match[32];

        snprintf(match, sizeof(match), "_PID=%d", (int) getpid());
        return sd_journal_add_match(j, match, 0);
}

/* Whether the entry j is at was written since the reader started. */
static bool entry_is_recent(sd_journal *j) {
        uint64_t usec;

        return sd_journal_get_realtime_usec(j, &usec) >= 0 && usec >= reader_since_usec;
}

static void wake(int fd) {
        (void) eventfd_write(fd, 1);
}

/* Adds one stored entry to each of ids that is tracked, and tells its waiter. */
static void count(const uint64_t *ids, size_t n) {
        bool grown = false;

        if (n == 0)
                return;
        pthread_mutex_lock(&reader.lock);
        for (size_t i = 0; i < n; i++) {
                struct tracked *t = *slot_of(ids[i]);

                if (!t)
                        continue;       /* a connection that is gone, or another process's */
                t->stored++;
                grown |= t->waiting;
                if (t->wake_fd >= 0 && !t->uncertain)
                        wake(t->wake_fd);
        }
        if (grown)
                pthread_cond_broadcast(&reader.grown);
        pthread_mutex_unlock(&reader.lock);
}

/* Where an entry is in the order journald wrote it: its monotonic
 * timestamp (all of ours are of this boot), then its sequence number (of
 * one journald's numbering; entries stamped in the same microsecond). */
struct position {
        uint64_t usec;
        sd_id128_t numbering;
        uint64_t seqnum;
        bool valid;
};

static struct position position_of(sd_journal *j) {
        struct position p = { 0 };
        char *cursor = NULL, *field;

        if (sd_journal_get_monotonic_usec(j, &p.usec, NULL) < 0 || sd_journal_get_cursor(j, &cursor) < 0)
                return p;
        /* "s=<numbering>;i=<seqnum in hex>;..." */
        field = strstr(cursor, "s=");
        if (field && strlen(field) >= 34) {
                char id[33];

                memcpy(id, field + 2, 32);
                id[32] = 0;
                p.valid = sd_id128_from_string(id, &p.numbering) >= 0;
        }
        field = strstr(cursor, ";i=");
        if (field) {
                char *end;

                errno = 0;
                p.seqnum = strtoull(field + 3, &end, 16);
                p.valid &= errno == 0 && end > field + 3 && (*end == ';' || *end == 0);
        } else
                p.valid = false;
        free(cursor);
        return p;
}

/* Whether a was written no later than b: only what is surely so. */
static bool at_or_before(const struct position *a, const struct position *b) {
        if (!a->valid || !b->valid)
                return false;
        if (a->usec != b->usec)
                return a->usec < b->usec;
        return sd_id128_equal(a->numbering, b->numbering) && a->seqnum <= b->seqnum;
}

static void mark_all_uncertain(void) {
        pthread_mutex_lock(&reader.lock);
        for (size_t b = 0; b < BUCKETS; b++)
                for (struct tracked *t = reader.buckets[b]; t; t = t->next)
                        if (!t->uncertain) {
                                t->uncertain = true;
                                reader.uncertain_waiters += is_waiting(t);
                        }
        pthread_mutex_unlock(&reader.lock);
}

/* The reader thread's: where the last entry of this process it read is. A
 * journal file that goes (rotation renames it) takes the reader's current
 * entry along, so it is kept from when it was there. */
static struct position last_read;

/* Counts the entries journald stored since the last look. */
static void read_new_entries(sd_journal *j) {
        static long long warned = -1;
        uint64_t ids[IDS_PER_BATCH];
        size_t n = 0;
        int r;

        /* Takes in the files journald created or deleted meanwhile. */
        if (sd_journal_process(j) == SD_JOURNAL_INVALIDATE)
                mark_all_uncertain();
        while ((r = sd_journal_next(j)) > 0) {
                if (entry_is_recent(j) && connection_of_entry(j, &ids[n]) && ++n == IDS_PER_BATCH) {
                        count(ids, n);
                        n = 0;
                }
        }
        count(ids, n);
        if (r == 0) {
                struct position p = position_of(j);

                if (p.valid)
                        last_read = p;
        }
        if (r < 0 && once_per(&warned, 10000))
                log_warning("Failed to read the journal back (confirm = \"stored\"): %s; entries it does not "
                            "show are not confirmed", strerror(-r));
}

/* The entries of connection id in the files there are now (q, a journal
 * opened afresh) up to through, the last the reader has read: those after
 * it the reader counts as they come. Returns the count or -errno. */
static int64_t count_again(sd_journal *q, uint64_t id, const struct position *through) {
        char match[64];
        int64_t n = 0;
        uint64_t ignored;
        int r;

        sd_journal_flush_matches(q);
        snprintf(match, sizeof(match), "HARK_CONNECTION=%" PRIu64, id);
        r = match_own_entries(q);
        if (r >= 0)
                r = sd_journal_add_match(q, match, 0);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(q, reader_since_usec);
        while (r >= 0 && (r = sd_journal_next(q)) > 0) {
                struct position p = position_of(q);

                if (!entry_is_recent(q))
                        continue;
                if (!at_or_before(&p, through))
                        break;
                n += connection_of_entry(q, &ignored);
        }
        return r < 0 ? r : n;
}

/* Counts again, in the journal files there are now, the connections that
 * wait for their answer and were counted before files came or went. */
static void count_uncertain_waiters(void) {
        struct position through = last_read;
        sd_journal *q;

        pthread_mutex_lock(&reader.lock);
        if (reader.uncertain_waiters == 0) {
                pthread_mutex_unlock(&reader.lock);
                return;
        }
        pthread_mutex_unlock(&reader.lock);
        /* Nothing read yet: nothing to count again (an invalid position
         * counts nothing). */
        if (open_journal(&q) < 0)
                return;         /* they stay uncertain: nothing confirmed */
        for (size_t b = 0; b < BUCKETS; b++) {
                pthread_mutex_lock(&reader.lock);
                for (struct tracked *t = reader.buckets[b]; t; t = t->next) {
                        int64_t n;

                        if (!t->uncertain || !is_waiting(t))
                                continue;
                        /* Under the lock: the only thread that counts is this one. */
                        n = count_again(q, t->id, &through);
                        if (n < 0)
                                continue;
                        t->stored = (uint64_t) n;
                        t->uncertain = false;
                        reader.uncertain_waiters--;
                        if (t->wake_fd >= 0)
                                wake(t->wake_fd);
                        if (t->waiting)
                                pthread_cond_broadcast(&reader.grown);
                }
                pthread_mutex_unlock(&reader.lock);
        }
        sd_journal_close(q);
}

static void wait_for_news(sd_journal *j, bool someone_waits) {
        struct pollfd p[2] = { { .fd = reader.wake_fd, .events = POLLIN },
                               { .fd = sd_journal_get_fd(j), .events = (short) sd_journal_get_events(j) } };

        if (poll(p, p[1].fd >= 0 && p[1].events > 0 ? 2 : 1,
                 someone_waits ? LOOK_WHILE_WAITING_MS : LOOK_WHEN_IDLE_MS) > 0 && p[0].revents) {
                eventfd_t ignored;

                (void) eventfd_read(reader.wake_fd, &ignored);
        }
}

static void *follow(void *arg) {
        sd_journal *j = arg;

        for (;;) {
                bool someone_waits;

                pthread_mutex_lock(&reader.lock);
                someone_waits = reader.waiters > 0;
                if (reader.stopping) {
                        pthread_mutex_unlock(&reader.lock);
                        break;
                }
                pthread_mutex_unlock(&reader.lock);
                read_new_entries(j);
                count_uncertain_waiters();
                wait_for_news(j, someone_waits);
        }
        return NULL;
}

/* The journal this process writes to, matched on its _PID and positioned
 * where its entries from now on begin. */
static int open_own_entries(sd_journal **out) {
        sd_journal *j;
        int r;

        reader_since_usec = realtime_usec();
        r = open_journal(&j);
        if (r < 0)
                return r;
        r = match_own_entries(j);
        if (r >= 0)
                r = sd_journal_seek_realtime_usec(j, reader_since_usec);
        /* Watching the directories from now on: no file created later is missed. */
        if (r >= 0)
                r = sd_journal_get_fd(j);
        if (r < 0) {
                sd_journal_close(j);
                return r;
        }
        *out = j;
        return 0;
}

static void warn_if_nothing_readable(sd_journal *j) {
        uint64_t bytes = 0;

        if (sd_journal_get_usage(j, &bytes) >= 0 && bytes == 0)
                log_warning("confirm = \"stored\", but harkd can read no journal file (not in group "
                            "systemd-journal or adm, or journald stores nothing: Storage=none): until it can, "
                            "no message is confirmed");
}

static void prepare_locked(void) {
        pthread_condattr_t attr;

        if (reader.cond_ready)
                return;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&reader.grown, &attr);
        pthread_condattr_destroy(&attr);
        reader.cond_ready = true;
}

int stored_start(void) {
        sd_journal *j = NULL;
        int r = 0;

        pthread_mutex_lock(&reader.lock);
        if (reader.running)
                goto out;
        prepare_locked();
        r = open_own_entries(&j);
        if (r >= 0) {
                reader.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                r = reader.wake_fd < 0 ? -errno : 0;
        }
        if (r >= 0) {
                warn_if_nothing_readable(j);
                reader.stopping = false;
                last_read = (struct position) { 0 };
                r = -pthread_create(&reader.thread, NULL, follow, j);
        }
        if (r < 0) {
                if (!reader.open_failed)
                        log_error("Failed to read the journal back (confirm = \"stored\"): %s; no message is "
                                  "confirmed", strerror(-r));
                reader.open_failed = true;
                if (j)
                        sd_journal_close(j);
                if (reader.wake_fd >= 0)
                        (void) close(reader.wake_fd);
                reader.wake_fd = -1;
                goto out;
        }
        reader.journal = j;
        reader.running = true;
out:
        pthread_mutex_unlock(&reader.lock);
        return r;
}

static void forget_all_locked(void) {
        for (size_t b = 0; b < BUCKETS; b++)
                while (reader.buckets[b]) {
                        struct tracked *t = reader.buckets[b];

                        reader.buckets[b] = t->next;
                        free(t);
                }
}

void stored_stop(void) {
        pthread_mutex_lock(&reader.lock);
        if (!reader.running) {
                forget_all_locked();
                pthread_mutex_unlock(&reader.lock);
                return;
        }
        reader.stopping = true;
        wake(reader.wake_fd);
        pthread_mutex_unlock(&reader.lock);
        pthread_join(reader.thread, NULL);
        pthread_mutex_lock(&reader.lock);
        sd_journal_close(reader.journal);
        reader.journal = NULL;
        (void) close(reader.wake_fd);
        reader.wake_fd = -1;
        reader.running = false;
        forget_all_locked();
        pthread_mutex_unlock(&reader.lock);
}

void stored_after_fork(void) {
        /* The child has one thread: nobody holds the lock. sd-journal
         * refuses an object from another process; the parent still owns
         * this one and its descriptors. */
        pthread_mutex_init(&reader.lock, NULL);
        reader.running = false;
        reader.journal = NULL;
        reader.wake_fd = -1;
        reader.waiters = reader.uncertain_waiters = 0;
        last_read = (struct position) { 0 };
        forget_all_locked();
}

int stored_track(uint64_t id) {
        struct tracked *t = calloc(1, sizeof(*t));
        struct tracked **slot;

        if (!t)
                return -ENOMEM;
        *t = (struct tracked) { .id = id, .wake_fd = -1 };
        pthread_mutex_lock(&reader.lock);
        slot = slot_of(id);
        if (*slot)
                free(t);        /* ids are unique: tracked already */
        else
                *slot = t;
        pthread_mutex_unlock(&reader.lock);
        return 0;
}

/* Under lock: t waits from now on, or no longer; the reader looks often
 * while anyone does. */
static void begin_waiting_locked(const struct tracked *t) {
        if (is_waiting(t))
                return;
        reader.uncertain_waiters += t->uncertain;
        reader.waiters++;
        /* It looks now: journald has often written the entries already. */
        if (reader.running)
                wake(reader.wake_fd);
}

static void end_waiting_locked(const struct tracked *t) {
        if (!is_waiting(t))
                return;
        reader.uncertain_waiters -= t->uncertain;
        reader.waiters--;
}

void stored_untrack(uint64_t id) {
        struct tracked **slot, *t;

        pthread_mutex_lock(&reader.lock);
        slot = slot_of(id);
        t = *slot;
        if (t) {
                *slot = t->next;
                end_waiting_locked(t);
                free(t);
        }
        pthread_mutex_unlock(&reader.lock);
}

uint64_t stored_count(uint64_t id) {
        struct tracked *t;
        uint64_t n;

        pthread_mutex_lock(&reader.lock);
        t = *slot_of(id);
        n = t ? stored_now(t) : 0;
        pthread_mutex_unlock(&reader.lock);
        return n;
}

uint64_t stored_wait(uint64_t id, uint64_t want, long long deadline) {
        struct tracked *t;
        uint64_t n;

        pthread_mutex_lock(&reader.lock);
        t = *slot_of(id);
        if (t && stored_now(t) < want && reader.running) {
                begin_waiting_locked(t);
                t->waiting = true;
                while (stored_now(t) < want && ms_until(deadline) > 0) {
                        struct timespec until = { .tv_sec = deadline / 1000,
                                                  .tv_nsec = (deadline % 1000) * 1000000 };

                        (void) pthread_cond_timedwait(&reader.grown, &reader.lock, &until);
                }
                end_waiting_locked(t);
                t->waiting = false;
        }
        n = t ? stored_now(t) : 0;
        pthread_mutex_unlock(&reader.lock);
        return n;
}

void stored_add_waiter(uint64_t id, int wake_fd) {
        struct tracked *t;

        pthread_mutex_lock(&reader.lock);
        t = *slot_of(id);
        if (t && t->wake_fd < 0) {
                begin_waiting_locked(t);
                t->wake_fd = wake_fd;
        }
        pthread_mutex_unlock(&reader.lock);
}
