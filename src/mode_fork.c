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
#include "journal.h"
#include "log.h"
#include "mode.h"
#include "pending.h"
#include "stored.h"
#include "util.h"

struct child {
        pid_t pid;
        struct peer peer;
        struct admission_slot *slot;
};

struct children {
        struct child *list;
        size_t n, capacity;
};

/* The parent's children. One harkd runs one driver: a static is enough, and
 * it lets reap() be the driver's on_wake without state in the server. */
static struct children children;

static int remember(struct children *c, pid_t pid, const struct accepted *a) {
        if (c->n == c->capacity) {
                size_t capacity = c->capacity ? c->capacity * 2 : 64;
                struct child *list = realloc(c->list, capacity * sizeof(*list));
                if (!list)
                        return -ENOMEM;
                c->list = list;
                c->capacity = capacity;
        }
        c->list[c->n++] = (struct child) { .pid = pid, .peer = a->peer, .slot = a->slot };
        return 0;
}

static void reap(struct server *s) {
        struct children *c = &children;
        pid_t pid;
        int status;

        while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
                /* Killed, it could not give back what it held. */
                pending_forget_process(s->pending, pid);
                for (size_t i = 0; i < c->n; i++)
                        if (c->list[i].pid == pid) {
                                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                                        log_warning("Process %d serving %s ended abnormally (status 0x%x)",
                                                    (int) pid, c->list[i].peer.name, (unsigned) status);
                                server_release(s, c->list[i].slot);
                                c->list[i] = c->list[--c->n];
                                break;
                        }
        }
}

/* The child must not share the parent's event counters: a signal to one
 * child would otherwise wake, or stop, the parent. It serves one connection
 * and never runs the main loop, so the driver's on_wake never runs there. */
static void become_child(struct server *s) {
        /* Locks the UDP receiver's thread may have held at fork(2): it does
         * not exist here. */
        journal_after_fork();
        stored_after_fork();
        pthread_mutex_init(&s->lock, NULL);
        (void) close(s->stop_fd);
        (void) close(s->wake_fd);
        s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        listeners_close(&s->listeners);
        free(children.list);
        children = (struct children) { 0 };
}

static void spawn(struct server *s, const struct accepted *a) {
        sigset_t all, saved;
        pid_t pid;

        /* Until the child has counters of its own, a signal must not reach its
         * handler: it would write to the parent's. */
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &saved);
        pid = fork();
        if (pid == 0) {
                /* The slot is the parent's: the child must not touch it. */
                struct accepted mine = *a;

                mine.slot = NULL;
                become_child(s);
                sigprocmask(SIG_SETMASK, &saved, NULL);
                (void) connection_handle(s, &mine);
                _exit(0);
        }
        sigprocmask(SIG_SETMASK, &saved, NULL);
        /* The child serves it; eviction cannot reach it from here. */
        server_forget_fd(s, a->slot);
        (void) close(a->fd);
        if (pid < 0 || remember(&children, pid, a) < 0) {
                if (pid < 0)
                        log_error("Failed to fork for the connection from %s, closed it: %m", a->peer.name);
                else
                        log_error("Out of memory tracking the process for %s", a->peer.name);
                server_release(s, a->slot);
        }
}

static int run_fork(struct server *s) {
        struct accepted a;
        int r;

        while ((r = server_accept(s, 0, &a)) >= 0)
                spawn(s, &a);
        /* Children drain on their own bound; they may not have had the signal. */
        for (size_t i = 0; i < children.n; i++)
                (void) kill(children.list[i].pid, SIGTERM);
        /* The bound holds for the whole tree: a child still busy then is
         * blocked writing to a journald that does not read, and what it
         * holds was never confirmed. */
        if (!server_drain(s)) {
                log_warning("%zu connection processes still busy after the drain bound; killing them",
                            children.n);
                for (size_t i = 0; i < children.n; i++)
                        (void) kill(children.list[i].pid, SIGKILL);
                /* Killed, they end at once: collect them and their slots. */
                for (size_t i = 0; i < children.n; i++) {
                        (void) waitpid(children.list[i].pid, NULL, 0);
                        pending_forget_process(s->pending, children.list[i].pid);
                        server_release(s, children.list[i].slot);
                }
        }
        free(children.list);
        children = (struct children) { 0 };
        return r == -ECANCELED ? 0 : r;
}

const struct server_driver mode_fork = { .name = "fork", .run = run_fork, .on_wake = reap };
