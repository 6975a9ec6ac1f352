/* What a peer can make harkd spend, in every concurrency mode: descriptors
 * (EMFILE on accept backs off instead of spinning, and open connections go
 * on), memory per idle connection, and memory per slow, endless line. */
#include "support.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"

#define JOURNAL_TIMEOUT_MS 10000

static bool mode_is(const char *mode) {
        return strcmp(it_mode, mode) == 0;
}

/* utime + stime of pid, in clock ticks. */
static long cpu_ticks(pid_t pid) {
        char path[64], *text, *p;
        long utime, stime;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        text = it_read_file(path, NULL);
        assert_non_null(text);
        p = strrchr(text, ')');
        assert_non_null(p);
        /* Fields after "(comm)": state is 3rd; utime and stime are 14th, 15th. */
        assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &utime, &stime), 2);
        free(text);
        return utime + stime;
}

/* The descriptor number the process would get next: RLIMIT_NOFILE limits
 * numbers, not how many are open. */
static int lowest_free_fd(pid_t pid) {
        char path[64];
        bool used[1024] = { false };
        struct dirent *d;
        DIR *dir;
        int n = 0;

        snprintf(path, sizeof(path), "/proc/%d/fd", (int) pid);
        dir = opendir(path);
        assert_non_null(dir);
        while ((d = readdir(dir))) {
                int fd = atoi(d->d_name);
                if (d->d_name[0] != '.' && fd < 1024)
                        used[fd] = true;
        }
        closedir(dir);
        while (n < 1024 && used[n])
                n++;
        return n;
}

/* The soft limit only: raising a hard limit again takes CAP_SYS_RESOURCE. */
static void set_fd_limit(pid_t pid, rlim_t limit) {
        struct rlimit rl;

        assert_int_equal(prlimit(pid, RLIMIT_NOFILE, NULL, &rl), 0);
        rl.rlim_cur = limit < rl.rlim_max ? limit : rl.rlim_max;
        assert_int_equal(prlimit(pid, RLIMIT_NOFILE, &rl, NULL), 0);
}

/* harkd out of descriptors: accept fails with EMFILE. It must back off (not
 * spin), keep serving the connection it has, log the cause, and accept the
 * waiting clients once descriptors are free again. */
static void test_emfile_backs_off(void **state) {
        enum { WAITING = 5 };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_connections = 100 });
        int open_before = -1, waiting[WAITING];
        long ticks;
        uint64_t confirmed;
        struct it_entries e;

        /* `sequential` serves one connection at a time: an open one would stop
         * it from accepting at all, so only the other modes hold one. */
        if (!mode_is("sequential")) {
                open_before = it_test_connect(t, h->host, h->port);
                assert_int_equal(it_send_str(open_before, "before the limit\n"), 0);
                assert_int_equal(it_journal_messages(h->identifier, 1, JOURNAL_TIMEOUT_MS, &e), 1);
                it_entries_free(&e);
        }
        {
                /* harkd opens short-lived descriptors too (sd_notify's socket):
                 * the lowest of a few looks is the one that stays free. */
                int lowest = lowest_free_fd(h->pid);

                for (int i = 0; i < 5; i++) {
                        int now;

                        it_sleep_ms(20);
                        now = lowest_free_fd(h->pid);
                        lowest = now < lowest ? now : lowest;
                }
                set_fd_limit(h->pid, (rlim_t) lowest);
        }

        for (int i = 0; i < WAITING; i++)
                waiting[i] = it_test_connect(t, h->host, h->port);
        {
                char pid_match[32];
                const char *const matches[] = { harkd_pid_match(h, pid_match, sizeof(pid_match)), NULL };

                assert_true(it_harkd_events(matches, "Too many open files", 1, 5000, NULL) >= 1);
        }

        ticks = cpu_ticks(h->pid);
        it_sleep_ms(1000);
        ticks = cpu_ticks(h->pid) - ticks;
        if (ticks > sysconf(_SC_CLK_TCK) / 4)
                fail_msg("harkd used %ld ticks of CPU in 1 s out of descriptors: it spins", ticks);

        if (open_before >= 0) {
                assert_int_equal(it_send_str(open_before, "during the limit\n"), 0);
                assert_int_equal(it_finish(open_before, &confirmed, 5000), 0);
                assert_int_equal(confirmed, 2);
        }

        set_fd_limit(h->pid, 65536);
        for (int i = 0; i < WAITING; i++) {
                char text[32];

                snprintf(text, sizeof(text), "waited %d\n", i);
                assert_int_equal(it_send_str(waiting[i], text), 0);
                assert_int_equal(it_finish(waiting[i], &confirmed, 5000), 0);
                assert_int_equal(confirmed, 1);
        }
        assert_int_equal(it_journal_messages(h->identifier, WAITING + (open_before >= 0 ? 2 : 0),
                                             JOURNAL_TIMEOUT_MS, &e),
                         WAITING + (open_before >= 0 ? 2 : 0));
        it_entries_free(&e);
        it_assert_harkd_stops(h, 8000);
}

/* Idle connections, some in the middle of a line, with a large
 * max_message_size: none may cost a max-size buffer (300 of them would be
 * 2.4 GiB), and together they stay within a few tens of KiB each. */
static void test_idle_connections_are_cheap(void **state) {
        enum { IDLE = 300, MAX_MESSAGE = 8 * 1024 * 1024, GROWTH_LIMIT_KIB = 24 * 1024 * IT_SANITIZER_FACTOR };
        struct it_test *t = *state;
        /* `sequential` and `pool` read only the connections they serve: fill
         * the workers' hands too, then the rest wait unread. */
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) {
                .max_connections = IDLE + 10, .max_message_size = MAX_MESSAGE, .timeout = "60" });
        int fds[IDLE];
        long before, after;

        before = it_proc_status_kib(h->pid, "VmRSS:");
        for (int i = 0; i < IDLE; i++) {
                fds[i] = it_connect(h->host, h->port, 5000);
                assert_true(fds[i] >= 0);
                assert_int_equal(it_send_str(fds[i], i % 2 ? "a complete line\n" : "half a li"), 0);
        }
        /* Every connection open, its bytes received and framed. */
        it_sleep_ms(1000);
        after = it_proc_status_kib(h->pid, "VmRSS:");
        for (int i = 0; i < IDLE; i++)
                close(fds[i]);
        if (after - before > GROWTH_LIMIT_KIB)
                fail_msg("%d idle connections grew harkd by %ld KiB", IDLE, after - before);
        it_assert_harkd_stops(h, 8000);
}

/* A line that never ends, sent for as long as the peer likes: harkd holds at
 * most max_message_size of it, logs that much, truncated, and goes on. */
static void test_endless_line_is_bounded(void **state) {
        enum { MAX_MESSAGE = 4096, SENT = 64 * 1024 * 1024, CHUNK = 64 * 1024, GROWTH_LIMIT_KIB = 8 * 1024 };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_message_size = MAX_MESSAGE });
        char *chunk = malloc(CHUNK);
        long before, after;
        uint64_t confirmed;
        struct it_entries e;
        size_t length;
        int fd;

        assert_non_null(chunk);
        memset(chunk, 'x', CHUNK);
        fd = it_test_connect(t, h->host, h->port);
        before = it_proc_status_kib(h->pid, "VmRSS:");
        for (size_t sent = 0; sent < SENT; sent += CHUNK)
                assert_int_equal(it_send(fd, chunk, CHUNK), 0);
        after = it_proc_status_kib(h->pid, "VmRSS:");
        free(chunk);
        assert_int_equal(it_send_str(fd, "\nnext line\n"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 10000), 0);
        assert_int_equal(confirmed, 2);

        /* In `fork` mode a child holds the line; the parent must not grow either. */
        if (after - before > GROWTH_LIMIT_KIB)
                fail_msg("a %d MiB line grew harkd by %ld KiB", SENT >> 20, after - before);
        assert_int_equal(it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e), 2);
        assert_non_null(it_entry_field(&e.v[0], "MESSAGE", &length));
        assert_int_equal(length, MAX_MESSAGE);
        it_assert_field(&e.v[0], "HARK_TRUNCATED", "1");
        it_assert_field(&e.v[1], "MESSAGE", "next line");
        assert_null(it_entry_field(&e.v[1], "HARK_TRUNCATED", NULL));
        it_entries_free(&e);
        it_assert_harkd_stops(h, 8000);
}

/* A peer that opens connection after connection beyond its per-source limit
 * gets each one refused and counted, but cannot make harkd log each one. */
static void test_refusal_flood_is_rate_limited(void **state) {
        enum { FLOOD = 200 };
        struct it_test *t = *state;
        struct harkd *h;
        char pid_match[32], status[512];
        int held, logged;

        /* `sequential` holds one connection at a time: the rest wait, unrefused. */
        if (mode_is("sequential"))
                skip();
        h = it_test_harkd(t, 0, &(struct harkd_options) { .max_connections_per_source = 1 });
        held = it_test_connect(t, h->host, h->port);
        assert_int_equal(it_send_str(held, "held\n"), 0);
        /* Admitted before the flood: with two event loops the next
         * connection could otherwise take the one slot first. */
        {
                struct it_entries e;

                it_journal_messages(h->identifier, 1, JOURNAL_TIMEOUT_MS, &e);
                assert_int_equal(e.n, 1);
                it_entries_free(&e);
        }
        for (int i = 0; i < FLOOD; i++) {
                int fd = it_connect(h->host, h->port, 5000);
                char buffer[16];
                size_t length;

                assert_true(fd >= 0);
                /* Refused: harkd closes it without an answer. */
                assert_int_equal(it_read_to_eof(fd, buffer, sizeof(buffer), &length, 5000), 0);
                assert_int_equal(length, 0);
                close(fd);
        }
        if (harkd_wait_notify(h, "STATUS=*200 refused*", 5000, status, sizeof(status)) != 0)
                fail_msg("STATUS= never counted %d refusals", FLOOD);
        {
                const char *const matches[] = { harkd_pid_match(h, pid_match, sizeof(pid_match)),
                                                "MESSAGE_ID=0397afe29ed64b988ad68c27dad96302", NULL };

                logged = it_harkd_events(matches, NULL, FLOOD, 2000, NULL);
        }
        /* At most a burst per second and kind; the flood takes a second or two. */
        if (logged < 1 || logged >= FLOOD / 2)
                fail_msg("%d of %d refusals logged", logged, FLOOD);
        it_assert_harkd_stops(h, 8000);
}

/* A peer that sends broken octet frames on connection after connection gets
 * each closed, logged at most a burst a second: in `fork` mode too, where
 * each connection is a process of its own (each once had a limit of its
 * own: 1,250 failures gave 1,252 log entries). */
static void test_failure_flood_is_rate_limited(void **state) {
        enum { FLOOD = 200 };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .extra = "framing = \"octets\";\n" });
        char source[32], source_match[48], status[512];
        const char *const matches[] = { source_match, "MESSAGE_ID=" EVENT_FRAMING_ERROR, NULL };
        int logged;

        /* An address of this test alone: its events are told apart by it. */
        snprintf(source, sizeof(source), "127.%d.%d.%d", 1 + (int) (getpid() % 250), 1 + rand() % 250,
                 1 + rand() % 250);
        snprintf(source_match, sizeof(source_match), "REMOTE_ADDR=%s", source);
        for (int i = 0; i < FLOOD; i++) {
                int fd = it_connect_from(h->host, h->port, source, 5000);
                char buffer[16];
                size_t length;

                assert_true(fd >= 0);
                assert_int_equal(it_send_str(fd, "0 broken\n"), 0);
                /* A framing error: closed without an answer. */
                assert_int_equal(it_read_to_eof(fd, buffer, sizeof(buffer), &length, 5000), 0);
                assert_int_equal(length, 0);
                close(fd);
        }
        if (harkd_wait_notify(h, "STATUS=*200 framing errors*", 5000, status, sizeof(status)) != 0)
                fail_msg("STATUS= never counted %d framing errors", FLOOD);
        logged = it_harkd_events(matches, NULL, FLOOD, 2000, NULL);
        if (logged < 1 || logged >= FLOOD / 2)
                fail_msg("%d of %d framing errors logged", logged, FLOOD);
        it_assert_harkd_stops(h, 8000);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_emfile_backs_off),
        IT_TEST(test_idle_connections_are_cheap),
        IT_TEST(test_endless_line_is_bounded),
        IT_TEST(test_refusal_flood_is_rate_limited),
        IT_TEST(test_failure_flood_is_rate_limited),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "resources",
                .per_mode = IT_TESTS(per_mode),
        });
}
