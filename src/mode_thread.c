/* `thread`: a new thread per connection. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connection.h"
#include "log.h"
#include "mode.h"
#include "util.h"

/* A connection thread needs little stack: its read buffer and the journal
 * call. The default 8 MiB would only reserve address space by the gigabyte. */
#define THREAD_STACK_SIZE (256 * 1024)

struct job {
        struct server *server;
        int fd;
        struct peer peer;
        uint64_t id;
};

static void *connection_thread(void *arg) {
        struct job *job = arg;

        connection_handle(job->server, job->fd, &job->peer, job->id);
        server_release(job->server, &job->peer);
        free(job);
        return NULL;
}

static int start_thread(struct server *s, const pthread_attr_t *attr, int fd, const struct peer *peer) {
        struct job *job = malloc(sizeof(*job));
        pthread_t thread;
        int r;

        if (!job)
                return -ENOMEM;
        *job = (struct job) { .server = s, .fd = fd, .peer = *peer, .id = server_next_connection_id(s) };
        r = pthread_create(&thread, attr, connection_thread, job);
        if (r != 0) {
                free(job);
                return -r;
        }
        return 0;
}

static int run_thread(struct server *s) {
        pthread_attr_t attr;
        struct peer peer;
        int fd, r;

        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE);
        while ((fd = server_accept(s, &peer)) >= 0) {
                r = start_thread(s, &attr, fd, &peer);
                if (r < 0) {
                        log_error("Failed to start a thread for the connection from %s, closing it: %s",
                                  peer.name, strerror(-r));
                        close(fd);
                        server_release(s, &peer);
                }
        }
        pthread_attr_destroy(&attr);
        server_begin_drain(s);
        if (!server_wait_idle(s, atomic_load(&s->drain_deadline) + DRAIN_GRACE_MS))
                return -EBUSY;
        return fd == -ECANCELED ? 0 : fd;
}

const struct mode_driver mode_thread = { MODE_THREAD, run_thread };
