/* `thread`: a new thread per connection.
 *
 * The threads run on stacks this driver keeps and hands on: glibc releases
 * the pages of each stack it owns when its thread ends (madvise), and on this
 * kind of VM that and the page faults of the next thread cost more than the
 * rest of a short connection (about 0.2 ms CPU each, make bench workload D).
 * A thread that has served its connection queues itself as finished; the
 * accept loop joins it, and its stack serves the next thread. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "connection.h"
#include "log.h"
#include "mode.h"
#include "util.h"

/* A connection thread needs little stack: its read buffer and the journal
 * call. The default 8 MiB would only reserve address space by the gigabyte.
 * Below each stack lies an inaccessible guard page, as glibc's own have. */
#define THREAD_STACK_SIZE (256 * 1024)
#define GUARD_SIZE 4096

struct threads;

struct job {
        struct job *next;
        struct threads *owner;
        pthread_t thread;
        char *mapping;                  /* guard page, then the stack */
        struct accepted connection;
};

struct threads {
        struct server *server;
        pthread_mutex_t lock;
        pthread_cond_t all_finished;
        unsigned running;               /* under lock: started, not yet finished */
        struct job *finished;           /* under lock: threads done with their connection */
        struct job *idle;               /* joined; their stacks wait for the next thread */
};

static void *connection_thread(void *arg) {
        struct job *job = arg;
        struct threads *t = job->owner;

        if (connection_handle(t->server, &job->connection))
                server_release(t->server, job->connection.slot);
        pthread_mutex_lock(&t->lock);
        job->next = t->finished;
        t->finished = job;
        if (--t->running == 0)
                pthread_cond_signal(&t->all_finished);
        pthread_mutex_unlock(&t->lock);
        return NULL;
}

/* Joins the threads that have finished and keeps their jobs for reuse. */
static void reap(struct threads *t) {
        struct job *done;

        pthread_mutex_lock(&t->lock);
        done = t->finished;
        t->finished = NULL;
        pthread_mutex_unlock(&t->lock);
        while (done) {
                struct job *next = done->next;

                pthread_join(done->thread, NULL);
                done->next = t->idle;
                t->idle = done;
                done = next;
        }
}

static void free_job(struct job *job) {
        munmap(job->mapping, GUARD_SIZE + THREAD_STACK_SIZE);
        free(job);
}

static struct job *take_job(struct threads *t) {
        struct job *job = t->idle;

        if (job) {
                t->idle = job->next;
                return job;
        }
        job = calloc(1, sizeof(*job));
        if (!job)
                return NULL;
        job->mapping = mmap(NULL, GUARD_SIZE + THREAD_STACK_SIZE, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (job->mapping == MAP_FAILED) {
                free(job);
                return NULL;
        }
        if (mprotect(job->mapping, GUARD_SIZE, PROT_NONE) < 0) {
                free_job(job);
                return NULL;
        }
        job->owner = t;
        return job;
}

/* Starts job's thread, counted as running from before it runs; returns as
 * pthread_create(). */
static int counted_start(struct threads *t, struct job *job, const pthread_attr_t *attr) {
        int r;

        pthread_mutex_lock(&t->lock);
        t->running++;
        pthread_mutex_unlock(&t->lock);
        r = pthread_create(&job->thread, attr, connection_thread, job);
        if (r != 0) {
                pthread_mutex_lock(&t->lock);
                t->running--;
                pthread_mutex_unlock(&t->lock);
        }
        return r;
}

static int start_thread(struct threads *t, const struct accepted *a) {
        struct job *job;
        pthread_attr_t attr;
        int r;

        reap(t);
        job = take_job(t);
        if (!job)
                return -ENOMEM;
        job->connection = *a;
        r = pthread_attr_init(&attr);
        if (r == 0) {
                r = pthread_attr_setstack(&attr, job->mapping + GUARD_SIZE, THREAD_STACK_SIZE);
                if (r == 0)
                        r = counted_start(t, job, &attr);
                pthread_attr_destroy(&attr);
        }
        if (r != 0) {
                job->next = t->idle;
                t->idle = job;
                return -r;
        }
        return 0;
}

static int run_thread(struct server *s) {
        struct threads t = { .server = s };
        struct accepted a;
        int r;

        pthread_mutex_init(&t.lock, NULL);
        pthread_cond_init(&t.all_finished, NULL);
        while ((r = server_accept(s, 0, &a)) >= 0) {
                int started = start_thread(&t, &a);
                if (started < 0)
                        server_abandon(s, &a, "start a thread for", started);
        }
        if (!server_drain(s))
                return -EBUSY;
        /* Every connection is released; the threads are a few steps from done.
         * Wait for them: they still use t and the server. */
        pthread_mutex_lock(&t.lock);
        while (t.running > 0)
                pthread_cond_wait(&t.all_finished, &t.lock);
        pthread_mutex_unlock(&t.lock);
        reap(&t);
        while (t.idle) {
                struct job *next = t.idle->next;
                free_job(t.idle);
                t.idle = next;
        }
        pthread_cond_destroy(&t.all_finished);
        pthread_mutex_destroy(&t.lock);
        return r == -ECANCELED ? 0 : r;
}

const struct server_driver mode_thread = { .name = "thread", .run = run_thread, .hands_off_answers = true };
