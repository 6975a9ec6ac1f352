/* `pool`: `workers` threads, created at start, take accepted connections from
 * a queue guarded by a mutex and a condition variable. The queue is fair
 * between sources: one address that opens a thousand connections waits
 * behind the others' (see take()). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connection.h"
#include "log.h"
#include "mode.h"
#include "util.h"

struct queued {
        struct queued *next;
        struct accepted connection;
        long long queued_ms;
};

/* How long a connection from a source that already held one more
 * connection waits behind one from a source that held one fewer. */
#define FAIR_MS_PER_CONNECTION 100

struct pool {
        struct server *server;
        pthread_mutex_t lock;
        pthread_cond_t ready;           /* a connection was queued, or closing */
        struct queued *head, **tail;
        unsigned queued;                /* in the queue */
        unsigned idle;                  /* workers serving no connection */
        bool closing;                   /* no more connections will be queued */
};

/* Under lock: the connections no idle worker is about to take are waiting
 * for a worker (and quiet ones are evicted for them). */
static void count_waiting(struct pool *p) {
        atomic_store(&p->server->waiting_for_worker, p->queued > p->idle ? p->queued - p->idle : 0);
}

/* Under lock: the link to the connection to serve next: the one whose
 * source held the fewest connections when it came, the waiting time
 * making up for it at FAIR_MS_PER_CONNECTION (so nothing waits for ever);
 * the first of equals. */
static struct queued **next_to_serve(struct pool *p) {
        long long now = now_ms(), best_score = 0;
        struct queued **best = NULL;

        for (struct queued **link = &p->head; *link; link = &(*link)->next) {
                long long score = (long long) (*link)->connection.from_source * FAIR_MS_PER_CONNECTION -
                                  (now - (*link)->queued_ms);

                if (!best || score < best_score) {
                        best = link;
                        best_score = score;
                }
        }
        return best;
}

static struct queued *take(struct pool *p) {
        struct queued **link, *q = NULL;

        pthread_mutex_lock(&p->lock);
        while (!p->head && !p->closing)
                pthread_cond_wait(&p->ready, &p->lock);
        link = next_to_serve(p);
        if (link) {
                q = *link;
                *link = q->next;
                if (p->tail == &q->next)
                        p->tail = link;
                p->queued--;
                p->idle--;
        }
        count_waiting(p);
        pthread_mutex_unlock(&p->lock);
        return q;
}

/* Before the slot is given back: the connection it lets in is then counted
 * as this worker's next, not as one waiting (for which a quiet connection of
 * another worker would be evicted). */
static void become_idle(struct pool *p) {
        pthread_mutex_lock(&p->lock);
        p->idle++;
        count_waiting(p);
        pthread_mutex_unlock(&p->lock);
}

static void *worker(void *arg) {
        struct pool *p = arg;
        struct queued *q;

        while ((q = take(p))) {
                bool done = connection_handle(p->server, &q->connection);

                become_idle(p);
                if (done)
                        server_release(p->server, q->connection.slot);
                free(q);
        }
        return NULL;
}

static int enqueue(struct pool *p, const struct accepted *a) {
        struct queued *q = malloc(sizeof(*q));

        if (!q)
                return -ENOMEM;
        *q = (struct queued) { .connection = *a, .queued_ms = now_ms() };
        pthread_mutex_lock(&p->lock);
        *p->tail = q;
        p->tail = &q->next;
        p->queued++;
        count_waiting(p);
        pthread_cond_signal(&p->ready);
        pthread_mutex_unlock(&p->lock);
        return 0;
}

static int start_workers(struct pool *p, pthread_t *threads, int n) {
        for (int i = 0; i < n; i++) {
                int r = pthread_create(&threads[i], NULL, worker, p);
                if (r != 0)
                        return i > 0 ? i : -r;
        }
        return n;
}

/* Returns false when connections are still busy after the drain bound. */
static bool stop_workers(struct pool *p, pthread_t *threads, int n) {
        pthread_mutex_lock(&p->lock);
        p->closing = true;
        pthread_cond_broadcast(&p->ready);
        pthread_mutex_unlock(&p->lock);
        /* Queued connections are served too: each drains what it was sent. */
        if (!server_drain(p->server))
                return false;
        for (int i = 0; i < n; i++)
                pthread_join(threads[i], NULL);
        return true;
}

int mode_pool_serve(struct server *s, int want) {
        struct pool p = { .server = s };
        int started, r;
        pthread_t *threads = calloc((size_t) want, sizeof(*threads));
        struct accepted a;

        if (!threads)
                return -ENOMEM;
        p.tail = &p.head;
        pthread_mutex_init(&p.lock, NULL);
        pthread_cond_init(&p.ready, NULL);
        started = start_workers(&p, threads, want);
        if (started < 0) {
                log_error("Failed to start worker threads: %s", strerror(-started));
                free(threads);
                return started;
        }
        if (started < want)
                log_warning("Started only %d of %d worker threads", started, want);
        pthread_mutex_lock(&p.lock);
        p.idle = (unsigned) started;
        pthread_mutex_unlock(&p.lock);
        while ((r = server_accept(s, 0, &a)) >= 0) {
                int queued = enqueue(&p, &a);
                if (queued < 0)
                        server_abandon(s, &a, "queue", queued);
        }
        if (!stop_workers(&p, threads, started))
                return -EBUSY;
        free(threads);
        pthread_cond_destroy(&p.ready);
        pthread_mutex_destroy(&p.lock);
        return r == -ECANCELED ? 0 : r;
}

static int run_pool(struct server *s) {
        return mode_pool_serve(s, mode_worker_count(s));
}

const struct server_driver mode_pool = { .name = "pool", .run = run_pool, .hands_off_answers = true };
