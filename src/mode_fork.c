/* `fork`: a process per connection, like inetd's "nowait". The parent accepts,
 * holds the limits and reaps; each child serves one connection and exits. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "connection.h"
#include "log.h"
#include "mode.h"
#include "util.h"

struct child {
        pid_t pid;
        struct peer peer;
};

struct children {
        struct child *list;
        size_t n, capacity;
};

static int remember(struct children *c, pid_t pid, const struct peer *peer) {
        if (c->n == c->capacity) {
                size_t capacity = c->capacity ? c->capacity * 2 : 64;
                struct child *list = realloc(c->list, capacity * sizeof(*list));
                if (!list)
                        return -ENOMEM;
                c->list = list;
                c->capacity = capacity;
        }
        c->list[c->n++] = (struct child) { .pid = pid, .peer = *peer };
        return 0;
}

static void reap(struct server *s, void *userdata) {
        struct children *c = userdata;
        pid_t pid;
        int status;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                for (size_t i = 0; i < c->n; i++)
                        if (c->list[i].pid == pid) {
                                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                                        log_warning("Process %d serving %s ended abnormally (status 0x%x)",
                                                    (int) pid, c->list[i].peer.name, (unsigned) status);
                                server_release(s, &c->list[i].peer);
                                c->list[i] = c->list[--c->n];
                                break;
                        }
}

/* The child must not share the parent's event counters: a signal to one
 * child would otherwise wake, or stop, the parent. */
static void become_child(struct server *s) {
        close(s->stop_fd);
        close(s->wake_fd);
        s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        s->on_wake = NULL;
        listeners_close(&s->listeners);
}

static void spawn(struct server *s, struct children *c, int fd, const struct peer *peer) {
        uint64_t id = server_next_connection_id(s);
        long long accepted_ms = now_ms();
        sigset_t all, saved;
        pid_t pid;

        /* Until the child has counters of its own, a signal must not reach its
         * handler: it would write to the parent's. */
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &saved);
        pid = fork();
        if (pid == 0) {
                become_child(s);
                sigprocmask(SIG_SETMASK, &saved, NULL);
                connection_handle(s, fd, peer, id, accepted_ms);
                _exit(0);
        }
        sigprocmask(SIG_SETMASK, &saved, NULL);
        close(fd);
        if (pid < 0 || remember(c, pid, peer) < 0) {
                if (pid < 0)
                        log_error("Failed to fork for the connection from %s, closed it: %m", peer->name);
                else
                        log_error("Out of memory tracking the process for %s", peer->name);
                server_release(s, peer);
        }
}

static int run_fork(struct server *s) {
        struct children c = { 0 };
        struct peer peer;
        int fd;

        s->on_wake = reap;
        s->on_wake_userdata = &c;
        while ((fd = server_accept(s, &peer)) >= 0)
                spawn(s, &c, fd, &peer);
        server_begin_drain(s);
        /* Children drain on their own bound; they may not have had the signal. */
        for (size_t i = 0; i < c.n; i++)
                kill(c.list[i].pid, SIGTERM);
        if (!server_wait_idle(s, atomic_load(&s->drain_deadline) + DRAIN_GRACE_MS))
                log_warning("Connection processes still busy after the drain bound; exiting anyway");
        s->on_wake = NULL;
        free(c.list);
        return fd == -ECANCELED ? 0 : fd;
}

const struct mode_driver mode_fork = { MODE_FORK, run_fork };
