/* Connection limits in every concurrency mode: max_connections makes clients
 * wait in the backlog (nothing is refused) while the connections in are
 * busy, and evicts one that is quiet to let them in; max_connections_per_source
 * refuses, logs and counts the extra connections from one address. */
#include "support.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "admission.h"
#include "events.h"

#define JOURNAL_TIMEOUT_MS 10000

static bool sequential(void) {
        return strcmp(it_mode, "sequential") == 0;
}

/* Connections harkd serves at once under max_connections = 2. */
static int capacity(void) {
        return sequential() ? 1 : 2;
}

static void assert_journal_count(const char *identifier, size_t expected) {
        struct it_entries e;

        it_journal_messages(identifier, expected, JOURNAL_TIMEOUT_MS, &e);
        if (e.n != expected)
                it_entries_print(&e);
        assert_int_equal(e.n, expected);
        it_entries_free(&e);
}

static void assert_answer(int fd, const char *expected) {
        char reply[64];
        size_t length;
        int r = it_read_to_eof(fd, reply, sizeof(reply), &length, 5000);

        if (r != 0 || strcmp(reply, expected) != 0)
                fprintf(stderr, "answer: \"%s\" (%s), expected \"%s\"\n", reply, r ? strerror(-r) : "end of stream",
                        expected);
        assert_int_equal(r, 0);
        assert_string_equal(reply, expected);
}

/* Events of this harkd (SYSLOG_IDENTIFIER=harkd, its MESSAGE_ID, its pid). */
static void events(const struct harkd *h, const char *message_id, size_t expected, struct it_entries *e) {
        char pid[32], id[64];
        const char *matches[] = { "SYSLOG_IDENTIFIER=harkd", id, pid, NULL };

        snprintf(pid, sizeof(pid), "_PID=%d", (int) h->pid);
        snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_id);
        it_journal_collect(matches, expected, JOURNAL_TIMEOUT_MS, e);
        if (e->n != expected)
                it_entries_print(e);
        assert_int_equal(e->n, expected);
}

static void refusals(const struct harkd *h, size_t expected, struct it_entries *e) {
        events(h, EVENT_CONN_REFUSED, expected, e);
}

static bool fork_mode(void) {
        return strcmp(it_mode, "fork") == 0;
}

/* Whether harkd closed fd without a word: no "OK", the end of the stream
 * (or a reset) within timeout_ms. */
static bool closed_silently(int fd, int timeout_ms) {
        char reply[64];
        size_t length = 0;

        int r = it_read_to_eof(fd, reply, sizeof(reply), &length, timeout_ms);

        if (r != 0 || length != 0)
                fprintf(stderr, "expected harkd to close without a word; got %s after %zu bytes \"%s\"\n",
                        r ? strerror(-r) : "the end of the stream", length, reply);
        return r == 0 && length == 0;
}

/* max_connections = 2: a third client is not refused; it waits, unserved,
 * while the two have been quiet for less than ADMISSION_EVICT_IDLE_MS; then
 * the quietest is evicted, closed without an answer, and the third gets its
 * "OK". (sequential: one at a time. fork: a connection's process owns its
 * socket, nothing is evicted, the third waits until one closes.) */
static void test_max_connections(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_connections = 2 });
        int cap = capacity(), held[2], waiting, gone = -1;
        long long quiet_since;
        uint64_t confirmed;

        for (int i = 0; i < cap; i++) {
                char text[32];
                held[i] = it_test_connect(t, h->host, h->port);
                snprintf(text, sizeof(text), "held %d\n", i);
                assert_int_equal(it_send_str(held[i], text), 0);
        }
        /* harkd reads the last of them after this. */
        quiet_since = it_now_ms();
        /* Logged: both are accepted and being served. */
        assert_journal_count(h->identifier, (size_t) cap);

        waiting = it_test_connect(t, h->host, h->port);
        assert_int_equal(it_send_str(waiting, "waiting\n"), 0);
        assert_int_equal(shutdown(waiting, SHUT_WR), 0);
        if (fork_mode()) {
                /* Neither refused (closed) nor served (answered) while at the limit. */
                assert_false(it_readable(waiting, 500));
                assert_journal_count(h->identifier, (size_t) cap);
                assert_int_equal(it_finish(held[0], &confirmed, 5000), 0);
                assert_int_equal(confirmed, 1);
                assert_answer(waiting, "OK 1\n");
                gone = 0;        /* finished above */
        } else {
                struct it_entries e;

                assert_answer(waiting, "OK 1\n");
                /* Not before the held ones were quiet long enough. */
                assert_true(it_now_ms() - quiet_since >= ADMISSION_EVICT_IDLE_MS);
                /* One of them (they were quiet alike) was closed for it. */
                for (int i = 0; i < cap; i++)
                        if (it_readable(held[i], 0)) {
                                assert_int_equal(gone, -1);
                                gone = i;
                        }
                assert_true(gone >= 0);
                assert_true(closed_silently(held[gone], 5000));
                events(h, EVENT_CONN_EVICTED, 1, &e);
                it_entries_free(&e);
        }
        assert_journal_count(h->identifier, (size_t) cap + 1);
        for (int i = 0; i < cap; i++) {
                if (i == gone)
                        continue;
                assert_int_equal(it_finish(held[i], &confirmed, 5000), 0);
                assert_int_equal(confirmed, 1);
        }
        it_assert_harkd_stops(h, 5000);
}

/* max_connections = 1 and one client streaming a long message (10 KiB every
 * 10 ms) while a second waits: the streaming one has ended no message for a
 * second, yet it is busy, not quiet; it is never evicted, and the second is
 * served once the first is done. */
static void test_streaming_connection_is_not_evicted(void **state) {
        enum { CHUNK = 10 * 1024, CHUNKS = 150 };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_connections = 1,
                                                                           .max_message_size = 4 * 1024 * 1024 });
        int streaming = it_test_connect(t, h->host, h->port), waiting = -1;
        char *chunk = malloc(CHUNK + 1);
        uint64_t confirmed;

        assert_non_null(chunk);
        memset(chunk, 'x', CHUNK);
        chunk[CHUNK] = 0;
        for (int i = 0; i < CHUNKS; i++) {
                if (it_send_str(streaming, chunk) != 0)
                        fail_msg("harkd closed the streaming connection after %d of %d chunks", i, CHUNKS);
                if (i == 20) {
                        waiting = it_test_connect(t, h->host, h->port);
                        assert_int_equal(it_send_str(waiting, "waiting\n"), 0);
                        assert_int_equal(shutdown(waiting, SHUT_WR), 0);
                }
                it_sleep_ms(10);
        }
        free(chunk);
        assert_int_equal(it_send_str(streaming, "\n"), 0);
        assert_int_equal(it_finish(streaming, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);
        assert_answer(waiting, "OK 1\n");
        it_assert_harkd_stops(h, 5000);
}

#define BUSY_CLIENTS 12
#define BUSY_MESSAGES 25

struct busy_job {
        const struct harkd *h;
        int index;
        int result;
        uint64_t confirmed;
};

static void *busy_client(void *arg) {
        struct busy_job *job = arg;
        int fd = it_connect(job->h->host, job->h->port, 5000);

        if (fd < 0) {
                job->result = fd;
                return NULL;
        }
        for (int m = 0; m < BUSY_MESSAGES && job->result == 0; m++) {
                char text[64];
                snprintf(text, sizeof(text), "busy %02d %02d\n", job->index, m);
                job->result = it_send_str(fd, text);
        }
        if (job->result == 0)
                job->result = it_finish(fd, &job->confirmed, 20000);
        close(fd);
        return NULL;
}

/* Many more clients than max_connections at once: all served in turn. */
static void test_max_connections_busy(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_connections = 2 });
        struct busy_job jobs[BUSY_CLIENTS];
        pthread_t threads[BUSY_CLIENTS];
        struct it_entries e;
        bool seen[BUSY_CLIENTS][BUSY_MESSAGES] = { { false } };

        for (int i = 0; i < BUSY_CLIENTS; i++) {
                jobs[i] = (struct busy_job) { .h = h, .index = i };
                assert_int_equal(pthread_create(&threads[i], NULL, busy_client, &jobs[i]), 0);
        }
        for (int i = 0; i < BUSY_CLIENTS; i++)
                pthread_join(threads[i], NULL);
        for (int i = 0; i < BUSY_CLIENTS; i++) {
                if (jobs[i].result)
                        fprintf(stderr, "client %d: %s\n", i, strerror(-jobs[i].result));
                assert_int_equal(jobs[i].result, 0);
                assert_int_equal(jobs[i].confirmed, BUSY_MESSAGES);
        }
        it_journal_messages(h->identifier, BUSY_CLIENTS * BUSY_MESSAGES, JOURNAL_TIMEOUT_MS, &e);
        assert_int_equal(e.n, BUSY_CLIENTS * BUSY_MESSAGES);
        for (size_t i = 0; i < e.n; i++) {
                const char *m = it_entry_field(&e.v[i], "MESSAGE", NULL);
                int c, n;
                assert_int_equal(sscanf(m, "busy %d %d", &c, &n), 2);
                assert_true(c >= 0 && c < BUSY_CLIENTS && n >= 0 && n < BUSY_MESSAGES);
                assert_false(seen[c][n]);
                seen[c][n] = true;
        }
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

static int run_hark(const struct harkd *h, const char *message) {
        char port[16];
        char *argv[] = { (char *) it_hark_path(), (char *) "-H", (char *) h->host, (char *) "-p", port,
                         (char *) "-t", (char *) "1", (char *) message, NULL };
        struct it_proc p;
        int code;

        snprintf(port, sizeof(port), "%d", h->port);
        assert_int_equal(it_run(argv, NULL, 0, 10000, &p), 0);
        code = it_exit_code(&p);
        if (code != 0)
                fprintf(stderr, "hark exited %d: %s", code, p.err);
        it_proc_free(&p);
        return code;
}

/* max_connections_per_source = 1: a second connection from 127.0.0.1 is
 * closed at once, logged ("Refused connection from ...") and counted; hark
 * reports it (75); 127.0.0.2 is another source and is served; once the
 * first connection ends, 127.0.0.1 is served again. */
static void test_per_source(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_connections_per_source = 1,
                                                                           .log_target = "journal" });
        struct it_entries e;
        uint64_t confirmed;
        char needle[64], reply[64];
        size_t length;
        long long start;
        int a, b, other, r;

        a = it_test_connect(t, h->host, h->port);
        assert_int_equal(it_send_str(a, "from a\n"), 0);
        assert_journal_count(h->identifier, 1);

        b = it_test_connect(t, h->host, h->port);
        start = it_now_ms();
        r = it_read_to_eof(b, reply, sizeof(reply), &length, 2000);
        if (r != 0 && r != -ECONNRESET)
                fprintf(stderr, "second connection: %s after %lld ms\n", strerror(-r), it_now_ms() - start);
        assert_true(r == 0 || r == -ECONNRESET);
        assert_int_equal(length, 0);

        refusals(h, 1, &e);
        snprintf(needle, sizeof(needle), "Refused connection from 127.0.0.1:%d", it_local_port(b));
        if (!strstr(it_entry_field(&e.v[0], "MESSAGE", NULL), needle))
                it_entries_print(&e);
        assert_non_null(strstr(it_entry_field(&e.v[0], "MESSAGE", NULL), needle));
        it_assert_field(&e.v[0], "REMOTE_ADDR", "127.0.0.1");
        it_assert_field(&e.v[0], "PRIORITY", "4");
        it_entries_free(&e);

        /* hark is refused too, and says its message was not confirmed. */
        assert_int_equal(run_hark(h, "from hark, refused"), 75);
        refusals(h, 2, &e);
        it_entries_free(&e);

        /* Another source address is another source. */
        other = it_connect_from(h->host, h->port, "127.0.0.2", 5000);
        assert_true(other >= 0);
        it_test_keep_fd(t, other);
        assert_int_equal(it_send_str(other, "from 127.0.0.2\n"), 0);
        assert_int_equal(it_finish(other, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);

        assert_int_equal(it_finish(a, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);
        /* The slot is given back (counted in STATUS=); then 127.0.0.1 is welcome again. */
        assert_int_equal(harkd_wait_notify(h, "STATUS=0 open connections,*, 2 refused,*", 5000, NULL, 0), 0);
        assert_int_equal(run_hark(h, "from hark, accepted"), 0);

        it_journal_messages(h->identifier, 3, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, (const char *const[]) { "from a", "from 127.0.0.2", "from hark, accepted" }, 3);
        it_assert_field(&e.v[1], "REMOTE_ADDR", "127.0.0.2");
        it_entries_free(&e);
        refusals(h, 2, &e);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* sequential serves one connection at a time, so a second one from the same
 * source waits in the backlog like any other: never refused. b is queued
 * before a ends its message, and looked at briefly: a that stays quiet for
 * ADMISSION_EVICT_IDLE_MS with b waiting is evicted for it (ThreadSanitizer
 * made the journal wait long enough for that once in CI). */
static void test_per_source_sequential(struct it_test *t) {
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_connections_per_source = 1,
                                                                           .log_target = "journal" });
        struct it_entries e;
        uint64_t confirmed;
        int a = it_test_connect(t, h->host, h->port), b = it_test_connect(t, h->host, h->port);

        assert_int_equal(it_send_str(b, "from b\n"), 0);
        assert_int_equal(it_send_str(a, "from a\n"), 0);
        assert_journal_count(h->identifier, 1);
        assert_false(it_readable(b, 100));
        assert_int_equal(it_finish(a, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);
        assert_int_equal(it_finish(b, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);
        it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, (const char *const[]) { "from a", "from b" }, 2);
        it_entries_free(&e);
        refusals(h, 0, &e);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

static void test_max_connections_per_source(void **state) {
        if (sequential())
                test_per_source_sequential(*state);
        else
                test_per_source(state);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_max_connections),
        IT_TEST(test_max_connections_busy),
        IT_TEST(test_streaming_connection_is_not_evicted),
        IT_TEST(test_max_connections_per_source),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "limits",
                .per_mode = IT_TESTS(per_mode),
                .side_by_side = true,
        });
}
