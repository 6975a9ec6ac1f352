#include "answerer.h"

#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "stored.h"

/* Guarded by lock: connections handed over and not yet taken by the thread,
 * which it is told of through wake_fd (written too by the journal reader,
 * stored.c, when a waiting connection has more entries stored). */
static struct {
        pthread_mutex_t lock;
        bool started, stopping;
        pthread_t thread;
        int wake_fd;
        struct list inbox;
} answerer = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake_fd = -1 };

/* Moves what was handed over into waiting, the thread's own list; returns
 * whether the answerer is to stop once that is empty. */
static bool take_inbox(struct list *waiting) {
        struct connection *c, *next;
        bool stopping;

        pthread_mutex_lock(&answerer.lock);
        c = answerer.inbox.head;
        answerer.inbox = (struct list) { 0 };
        stopping = answerer.stopping;
        pthread_mutex_unlock(&answerer.lock);
        for (; c; c = next) {
                next = c->next;
                connection_list_append(waiting, c);
                stored_add_waiter(c->id, answerer.wake_fd);
        }
        return stopping;
}

/* Answers the connections whose count is known; returns how long the
 * others may wait before they look again, in microseconds (-1: none waits). */
static long long answer_ready(struct list *waiting) {
        struct connection *c = waiting->head, *next;
        long long timeout = -1;

        for (; c; c = next) {
                next = c->next;
                if (connection_answer_ready(c)) {
                        connection_list_remove(c);
                        connection_answer(c);
                        connection_free(c);
                } else {
                        long long us = connection_answer_timeout_us(c);

                        if (timeout < 0 || us < timeout)
                                timeout = us;
                }
        }
        return timeout;
}

static void *answerer_run(void *arg) {
        struct list waiting = { 0 };

        (void) arg;
        for (;;) {
                long long timeout;
                struct pollfd pfd = { .fd = answerer.wake_fd, .events = POLLIN };
                bool stopping = take_inbox(&waiting);

                timeout = answer_ready(&waiting);
                if (stopping && !waiting.head)
                        break;
                if (ppoll(&pfd, 1, timeout < 0 ? NULL : &(struct timespec) { timeout / 1000000,
                                                                          timeout % 1000000 * 1000 }, NULL) > 0)
                        (void) eventfd_read(answerer.wake_fd, &(eventfd_t) { 0 });
        }
        return NULL;
}

int answerer_start(void) {
        int r = 0;

        pthread_mutex_lock(&answerer.lock);
        assert(!answerer.started);
        answerer.stopping = false;
        if (answerer.wake_fd < 0)
                answerer.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (answerer.wake_fd < 0)
                r = -errno;
        else
                r = -pthread_create(&answerer.thread, NULL, answerer_run, NULL);
        answerer.started = r == 0;
        pthread_mutex_unlock(&answerer.lock);
        return r;
}

int answerer_take(struct connection *c) {
        bool was_empty = false;
        int r;

        assert(c->answer_waits && !c->list);
        pthread_mutex_lock(&answerer.lock);
        /* Its connections hold slots, so a stop waits for them (within the
         * drain bound and its grace), as for any other. */
        r = !answerer.started ? -ENOTCONN : answerer.stopping ? -ECANCELED : 0;
        if (r == 0) {
                was_empty = !answerer.inbox.head;
                connection_list_append(&answerer.inbox, c);
        }
        pthread_mutex_unlock(&answerer.lock);
        if (r == 0 && was_empty)
                (void) eventfd_write(answerer.wake_fd, 1);
        return r;
}

void answerer_stop(void) {
        bool started;

        pthread_mutex_lock(&answerer.lock);
        answerer.stopping = true;
        started = answerer.started;
        pthread_mutex_unlock(&answerer.lock);
        if (!started)
                return;
        (void) eventfd_write(answerer.wake_fd, 1);
        (void) pthread_join(answerer.thread, NULL);
        pthread_mutex_lock(&answerer.lock);
        answerer.started = false;
        pthread_mutex_unlock(&answerer.lock);
}
