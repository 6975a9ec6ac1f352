/* max_pending_bytes in every concurrency mode: clients that all hold an
 * unfinished line at once. The longest lines are logged as far as they
 * came, marked HARK_TRUNCATED=1, and the rest of each is skipped; the short
 * ones and every later message arrive whole; harkd's memory (the whole
 * process tree in `fork` mode) grows by about the bound, not by what the
 * lines would take; every client gets its "OK"; and the bytes counted
 * return to 0 once the connections are gone, also when a `fork` child
 * holding a line is killed. A reload lowers the bound for open
 * connections too. */
#include "support.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"

#define MIB (1024 * 1024)
#define MAX_MESSAGE (4 * MIB)
#define BOUND (8 * MIB)
#define LONG_LINE (3 * MIB)
#define SHORT_LINE (256 * 1024)
#define CLIENTS 8
#define SHORT_CLIENTS 2         /* the first ones */
#define JOURNAL_TIMEOUT_MS 20000

static bool mode_is(const char *mode) {
        return strcmp(it_mode, mode) == 0;
}

/* The config of these tests, with max_pending_bytes = bound (extra holds
 * that line). */
static struct harkd_options options(char extra[64], int bound) {
        snprintf(extra, 64, "max_pending_bytes = %d;\n", bound);
        /* workers: pool serves as many connections at once as it has. */
        return (struct harkd_options) { .max_message_size = MAX_MESSAGE, .extra = extra, .timeout = "30",
                                        .workers = CLIENTS };
}

static struct harkd *start(struct it_test *t) {
        char extra[64];
        struct harkd_options o = options(extra, BOUND);

        return it_test_harkd(t, 0, &o);
}

/* One client: its unfinished line, a wait for the others, then its end and
 * one more message. */
struct client {
        int fd, index;
        size_t size;
        pthread_mutex_t *lock;
        pthread_cond_t *changed;
        int *sent;              /* clients whose line is out */
        bool *go;
        int result;
        uint64_t confirmed;
};

static void *run_client(void *arg) {
        struct client *c = arg;
        char *line = malloc(c->size), tail[32];
        struct timespec until;

        assert_non_null(line);
        memset(line, 'a' + c->index, c->size);
        c->result = it_send(c->fd, line, c->size);
        free(line);
        pthread_mutex_lock(c->lock);
        ++*c->sent;
        pthread_cond_broadcast(c->changed);
        /* Bounded: in sequential mode the others wait unserved meanwhile. */
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 3;
        while (!*c->go && pthread_cond_timedwait(c->changed, c->lock, &until) == 0)
                ;
        pthread_mutex_unlock(c->lock);
        snprintf(tail, sizeof(tail), "\nafter %d\n", c->index);
        if (c->result == 0)
                c->result = it_send_str(c->fd, tail);
        if (c->result == 0)
                c->result = it_finish(c->fd, &c->confirmed, JOURNAL_TIMEOUT_MS);
        return NULL;
}

/* What the journal holds of client i's line: its size, whether truncated;
 * asserts that every byte is the client's. */
struct seen {
        size_t size;
        bool truncated, after;
};

static void check_entry(const struct it_entry *e, struct seen seen[CLIENTS]) {
        size_t length;
        const char *message = it_entry_field(e, "MESSAGE", &length);
        int index;

        assert_non_null(message);
        if (sscanf(message, "after %d", &index) == 1) {
                assert_true(index >= 0 && index < CLIENTS);
                assert_null(it_entry_field(e, "HARK_TRUNCATED", NULL));
                seen[index].after = true;
                return;
        }
        index = message[0] - 'a';
        assert_true(index >= 0 && index < CLIENTS);
        for (size_t i = 0; i < length; i++)
                if (message[i] != message[0])
                        fail_msg("client %d: byte %zu of its line is 0x%02x", index, i, (unsigned char) message[i]);
        seen[index].size = length;
        seen[index].truncated = it_entry_field(e, "HARK_TRUNCATED", NULL) != NULL;
}

static void test_longest_lines_are_cut(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start(t);
        pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
        struct client clients[CLIENTS];
        pthread_t threads[CLIENTS];
        struct seen seen[CLIENTS] = { 0 };
        int sent = 0, cut = 0;
        bool go = false;
        long before, during;
        struct it_entries e;
        struct timespec until;

        for (int i = 0; i < CLIENTS; i++) {
                clients[i] = (struct client) { .fd = it_test_connect(t, h->host, h->port), .index = i,
                                               .size = i < SHORT_CLIENTS ? SHORT_LINE : LONG_LINE,
                                               .lock = &lock, .changed = &changed, .sent = &sent, .go = &go };
        }
        /* Accepted: in `fork` mode every child is there to measure. */
        it_sleep_ms(300);
        before = it_proc_tree_status_kib(h->pid, "VmRSS:");
        for (int i = 0; i < CLIENTS; i++)
                assert_int_equal(pthread_create(&threads[i], NULL, run_client, &clients[i]), 0);
        pthread_mutex_lock(&lock);
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 3;
        while (sent < CLIENTS && pthread_cond_timedwait(&changed, &lock, &until) == 0)
                ;
        pthread_mutex_unlock(&lock);
        /* harkd has read what was sent. */
        it_sleep_ms(500);
        during = it_proc_tree_status_kib(h->pid, "VmRSS:");
        pthread_mutex_lock(&lock);
        go = true;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&lock);
        for (int i = 0; i < CLIENTS; i++) {
                assert_int_equal(pthread_join(threads[i], NULL), 0);
                if (clients[i].result != 0)
                        fail_msg("client %d: %s", i, strerror(-clients[i].result));
                /* The line (whole or cut) and "after i". */
                assert_int_equal(clients[i].confirmed, 2);
        }

        it_journal_messages(h->identifier, 2 * CLIENTS, JOURNAL_TIMEOUT_MS, &e);
        assert_int_equal(e.n, 2 * CLIENTS);
        for (size_t i = 0; i < e.n; i++)
                check_entry(&e.v[i], seen);
        it_entries_free(&e);
        for (int i = 0; i < CLIENTS; i++) {
                assert_true(seen[i].after);
                /* A line that had all arrived but for its end is cut whole. */
                if (seen[i].truncated) {
                        if (seen[i].size == 0 || seen[i].size > clients[i].size)
                                fail_msg("client %d: %zu of %zu bytes, truncated", i, seen[i].size, clients[i].size);
                        cut++;
                } else
                        assert_int_equal(seen[i].size, clients[i].size);
                /* The short lines are never the longest. */
                if (i < SHORT_CLIENTS)
                        assert_false(seen[i].truncated);
        }
        fprintf(stderr, "%s: %d of %d lines cut; harkd grew by %ld KiB while they were pending (bound %d KiB, "
                "the lines %d KiB)\n", it_mode, cut, CLIENTS, during - before, BOUND / 1024,
                (SHORT_CLIENTS * SHORT_LINE + (CLIENTS - SHORT_CLIENTS) * LONG_LINE) / 1024);
        if (mode_is("sequential")) {
                /* One connection at a time: one line pending at a time. */
                assert_int_equal(cut, 0);
        } else {
                /* At most one long line fits beside the short ones. */
                assert_true(cut >= CLIENTS - SHORT_CLIENTS - 1);
                /* Freed memory stays in ASan's quarantine. */
                if (IT_SANITIZER_FACTOR == 1)
                        assert_true(during - before < (BOUND + 2 * MIB) / 1024);
                assert_true(it_harkd_events((const char *const[]) { "MESSAGE_ID=" EVENT_PENDING_CUT, NULL }, NULL,
                                            1, JOURNAL_TIMEOUT_MS, NULL) >= 1);
        }
        /* Nothing is counted once they are gone. */
        assert_int_equal(harkd_wait_notify(h, "STATUS=0 open connections, 0 bytes pending,*", 10000, NULL, 0), 0);
        it_assert_harkd_stops(h, 10000);
}

/* A `fork` child killed while it holds a line cannot give its bytes back:
 * the parent forgets them when it reaps the child. */
static void test_killed_child_gives_back(void **state) {
        struct it_test *t = *state;
        struct harkd *h;
        char *line = malloc(LONG_LINE), path[64], *children;
        int fd;
        pid_t child;

        assert_non_null(line);
        if (!mode_is("fork")) {
                free(line);
                skip();
        }
        h = start(t);
        fd = it_test_connect(t, h->host, h->port);
        memset(line, 'k', LONG_LINE);
        assert_int_equal(it_send(fd, line, LONG_LINE), 0);
        free(line);
        assert_int_equal(harkd_wait_notify(h, "STATUS=1 open connections, 4194304 bytes pending,*", 10000, NULL, 0),
                         0);
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) h->pid, (int) h->pid);
        children = it_read_file(path, NULL);
        assert_non_null(children);
        child = (pid_t) strtol(children, NULL, 10);
        free(children);
        assert_true(child > 0);
        assert_int_equal(kill(child, SIGKILL), 0);
        assert_int_equal(harkd_wait_notify(h, "STATUS=0 open connections, 0 bytes pending,*", 10000, NULL, 0), 0);
        it_assert_harkd_stops(h, 10000);
}

/* A reload lowers the bound for open connections too: a line that fitted
 * is cut when another one needs the room. */
static void test_reload_applies_to_open_connections(void **state) {
        struct it_test *t = *state;
        struct harkd *h;
        char extra[64], *line = malloc(LONG_LINE);
        struct harkd_options o;
        int held, newcomer;
        uint64_t confirmed;
        struct it_entries e;
        struct seen seen[CLIENTS] = { 0 };

        assert_non_null(line);
        if (mode_is("sequential")) {
                free(line);
                skip();         /* one connection at a time */
        }
        h = start(t);
        held = it_test_connect(t, h->host, h->port);
        memset(line, 'a', LONG_LINE);
        assert_int_equal(it_send(held, line, LONG_LINE), 0);
        assert_int_equal(harkd_wait_notify(h, "STATUS=1 open connections, 4194304 bytes pending,*", 10000, NULL, 0),
                         0);
        o = options(extra, MAX_MESSAGE);
        assert_int_equal(harkd_write_config(h, &o), 0);
        assert_int_equal(harkd_signal(h, SIGHUP), 0);
        assert_int_equal(harkd_wait_notify(h, "RELOADING=1", 5000, NULL, 0), 0);
        assert_int_equal(harkd_wait_notify(h, "READY=1", 5000, NULL, 0), 0);
        newcomer = it_test_connect(t, h->host, h->port);
        memset(line, 'b', SHORT_LINE);
        assert_int_equal(it_send(newcomer, line, SHORT_LINE), 0);
        free(line);
        assert_int_equal(it_send_str(newcomer, "\n"), 0);
        assert_int_equal(it_finish(newcomer, &confirmed, JOURNAL_TIMEOUT_MS), 0);
        assert_int_equal(confirmed, 1);
        assert_int_equal(it_send_str(held, "\n"), 0);
        assert_int_equal(it_finish(held, &confirmed, JOURNAL_TIMEOUT_MS), 0);
        assert_int_equal(confirmed, 1);
        it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e);
        assert_int_equal(e.n, 2);
        for (size_t i = 0; i < e.n; i++)
                check_entry(&e.v[i], seen);
        it_entries_free(&e);
        /* All of the held line had come: it is logged whole, but marked. */
        assert_true(seen[0].truncated);
        assert_int_equal(seen[0].size, LONG_LINE);
        assert_false(seen[1].truncated);
        assert_int_equal(seen[1].size, SHORT_LINE);
        it_assert_harkd_stops(h, 10000);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_longest_lines_are_cut),
        IT_TEST(test_killed_child_gives_back),
        IT_TEST(test_reload_applies_to_open_connections),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "pending",
                .per_mode = IT_TESTS(per_mode),
        });
}
