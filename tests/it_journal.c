/* harkd beside a journald that goes away in the middle of a batch, in every
 * concurrency mode, and what hark then exits with.
 *
 * The promise under test: "OK <n>" counts the messages that reached the
 * journal, not the ones harkd received. harkd confirms a batch (what one
 * read brought) only when journald's socket is the same file before and
 * after it: a journald replaced meanwhile may have lost part of it.
 *
 * Made deterministic like this: journald is stopped (SIGSTOP), so it reads
 * nothing and its socket's queue (net.unix.max_dgram_qlen datagrams) fills;
 * a client sends LINES lines in one write, which harkd reads as batches of
 * SMALLEST_BATCH or more, so harkd blocks writing in the middle of the first
 * one (the test waits until the kernel says so). What happens to journald
 * then differs per test; the entries in the stopped journald's queue are
 * lost with it in each. Every mode blocks the same way (a connection's
 * messages go out one by one, from whichever thread or process serves it).
 *
 * These tests stop the journald every test of the run writes to: their
 * groups run one after another, never side by side, and each test leaves a
 * journald that answers (it_teardown() too, after a failure). */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#define JOURNAL_TIMEOUT_MS 10000
#define BLOCK_TIMEOUT_MS 5000
#define WRITTEN_TIMEOUT_MS 3000
#define LINES 3000
/* The smallest batch: harkd's smallest read buffer (4 KiB, the blocking
 * modes) full of two-byte lines. */
#define SMALLEST_BATCH 2048
#define QUEUE_LENGTH_PATH "/proc/sys/net/unix/max_dgram_qlen"
/* harkd's documented bound on a stop: the drain (5 s) and its grace (2 s). */
#define STOP_BOUND_MS 7000

/* The recipe needs a batch longer than journald's socket queue. */
static void require_batches_longer_than_the_queue(void) {
        char *text = it_read_file(QUEUE_LENGTH_PATH, NULL);
        long queue = strtol(text, NULL, 10);

        free(text);
        if (queue <= 0 || queue >= SMALLEST_BATCH) {
                print_message("%s is %ld: a batch of harkd would fit into journald's socket queue: harkd would "
                              "never block in the middle of one; skipping\n", QUEUE_LENGTH_PATH, queue);
                skip();
        }
}

static void require_the_recipe(void) {
        it_journald_require_private();
        require_batches_longer_than_the_queue();
}

/* LINES lines "x\n" (malloc'd, NUL-terminated). */
static char *lines_of_x(void) {
        char *text = malloc(2 * LINES + 1);

        assert_non_null(text);
        for (size_t i = 0; i < LINES; i++)
                memcpy(text + 2 * i, "x\n", 2);
        text[2 * LINES] = 0;
        return text;
}

static void assert_blocked_in_a_journal_write(struct harkd *h) {
        if (!harkd_wait_journal_blocked(h, BLOCK_TIMEOUT_MS))
                fail_msg("harkd (%s) did not block writing to the stopped journald within %d ms", it_mode,
                         BLOCK_TIMEOUT_MS);
}

/* Whether the journal holds a message of h that contains needle. */
static bool logged(const struct harkd *h, const char *needle) {
        char match[128];
        const char *matches[] = { match, NULL };
        struct it_entries e;
        int n;

        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", h->identifier);
        n = it_journal_collect_matching(matches, needle, 1, JOURNAL_TIMEOUT_MS, &e);
        it_entries_free(&e);
        return n >= 1;
}

/* Starts harkd, has "before" logged and confirmed on a connection (returned),
 * then stops journald and sends LINES lines: returns once harkd blocks in
 * the middle of their batch. */
static int block_harkd_in_a_batch(struct it_test *t, struct harkd **h) {
        char *lines = lines_of_x();
        int fd;

        require_the_recipe();
        *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        fd = it_test_connect(t, (*h)->host, (*h)->port);
        assert_int_equal(it_send_str(fd, "before\n"), 0);
        assert_true(logged(*h, "before"));
        it_journald_stop(t);
        assert_int_equal(it_send_str(fd, lines), 0);
        free(lines);
        assert_blocked_in_a_journal_write(*h);
        return fd;
}

/* Half-closes fd and checks "OK <n>": "before" counts, the batch that was
 * blocked does not (so n < all sent), and the journal holds at least n
 * messages of the connection: n counts delivered, not received. Then harkd
 * must log to the new journald and confirm a new connection. */
static void assert_only_delivered_confirmed(struct it_test *t, struct harkd *h, int fd) {
        struct it_entries e;
        uint64_t confirmed;
        size_t in_journal;

        assert_int_equal(it_finish(fd, &confirmed, 20000), 0);
        if (confirmed < 1 || confirmed >= 1 + LINES)
                fail_msg("harkd confirmed %llu of 1 + %d messages; expected \"before\" and not all of the batch "
                         "that spanned journald's going", (unsigned long long) confirmed, LINES);
        /* harkd answers after its last write: journald has little left to do. */
        it_journal_messages(h->identifier, confirmed, WRITTEN_TIMEOUT_MS, &e);
        in_journal = e.n;
        it_entries_free(&e);
        print_message("harkd confirmed %llu of %d messages, the journal holds %zu of them\n",
                      (unsigned long long) confirmed, 1 + LINES, in_journal);
        if (in_journal < confirmed)
                fail_msg("harkd confirmed %llu messages, the journal holds %zu of them",
                         (unsigned long long) confirmed, in_journal);

        it_send_and_confirm(t, h, "after\n", 1);
        assert_true(logged(h, "after"));
        it_assert_harkd_stops(h, 5000);
}

/* A new journald (a new socket file) starts while harkd is blocked writing
 * to the stopped one, which is killed then: harkd's write goes on to the new
 * socket, and the batch, whose start saw the old socket and whose end the
 * new one, stays out of "OK <n>". */
static void test_replaced_journal_leaves_its_batch_unconfirmed(void **state) {
        struct it_test *t = *state;
        struct harkd *h;
        int fd = block_harkd_in_a_batch(t, &h);

        it_journald_start(t);
        it_journald_kill_stopped(t);
        assert_only_delivered_confirmed(t, h, fd);
}

/* The stopped journald is killed while harkd is blocked writing to it, and a
 * new one starts only after harkd has had time to finish the batch. The rest
 * of the batch fails (ECONNREFUSED: the socket file is still there, nobody
 * behind it) while that file stays the same to the batch's end; the entries
 * that sat in the dead journald's queue are lost all the same, so the batch
 * must stay out of "OK <n>". (harkd once confirmed them: about
 * max_dgram_qlen messages that the journal never held.) */
static void test_dead_journal_leaves_its_batch_unconfirmed(void **state) {
        struct it_test *t = *state;
        struct harkd *h;
        int fd = block_harkd_in_a_batch(t, &h);

        it_journald_kill(t);
        /* The rest of the batch fails at once, without a journald to wait for. */
        it_sleep_ms(500);
        it_journald_start(t);
        assert_only_delivered_confirmed(t, h, fd);
}

/* hark, whose messages harkd was writing when journald was replaced, is
 * told of fewer than it sent: it exits 75 and says how many were confirmed. */
static void test_hark_exits_75_when_messages_are_lost(void **state) {
        struct it_test *t = *state;
        char in_path[256], log_path[256], port[16], expected[64];
        char *argv[] = { (char *) it_hark_path(), (char *) "-H", (char *) "127.0.0.1", (char *) "-p", port,
                         (char *) "-t", (char *) "20", NULL };
        struct harkd *h;
        char *lines, *log;
        bool told;
        pid_t pid;
        int status;

        require_the_recipe();
        h = it_test_harkd(t, 0, &(struct harkd_options) { .mode = "epoll" });
        snprintf(port, sizeof(port), "%d", h->port);
        it_tmp_path(in_path, sizeof(in_path), "lines", NULL);
        it_tmp_path(log_path, sizeof(log_path), "hark", ".log");
        it_test_keep_file(t, in_path);
        it_test_keep_file(t, log_path);
        lines = lines_of_x();
        assert_int_equal(it_write_file(in_path, lines), 0);
        free(lines);

        it_journald_stop(t);
        pid = it_test_keep_pid(t, it_spawn_with_stdin(argv, in_path, log_path));
        assert_true(pid > 0);
        assert_blocked_in_a_journal_write(h);
        it_journald_replace(t);
        status = it_test_wait_pid(t, pid, 30000);

        log = it_read_file(log_path, NULL);
        snprintf(expected, sizeof(expected), " of %d messages", LINES);
        told = strstr(log, "confirmed ") && strstr(log, expected);
        if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 75 || !told)
                fprintf(stderr, "hark: wait status 0x%x, output:\n%s\n", (unsigned) status, log);
        free(log);
        assert_true(status >= 0 && WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 75);
        assert_true(told);
        it_assert_harkd_stops(h, 5000);
}

/* How many processes of process group `group` run (zombies, which an
 * orphan becomes until a reaper gets to it, do not count). */
static int group_running(pid_t group) {
        DIR *proc = opendir("/proc");
        struct dirent *d;
        int n = 0;

        assert_non_null(proc);
        while ((d = readdir(proc))) {
                char path[300], *text, *end;
                char state;
                int pgrp;

                if (d->d_name[0] < '0' || d->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/stat", d->d_name);
                text = it_read_file(path, NULL);
                /* pid (comm) state ppid pgrp ...; comm may hold spaces. */
                end = text ? strrchr(text, ')') : NULL;
                if (end && sscanf(end + 1, " %c %*d %d", &state, &pgrp) == 2 && pgrp == group && state != 'Z')
                        n++;
                free(text);
        }
        closedir(proc);
        return n;
}

/* SIGTERM while harkd is blocked writing to a journald that reads nothing:
 * harkd ends within its drain bound and grace, logging its stop without
 * waiting for journald; in fork mode its whole process tree does. (harkd
 * once hung there for good: the log line of its stop waited behind the
 * blocked write.) */
static void test_stop_bound_holds_while_journald_stalls(void **state) {
        struct it_test *t = *state;
        struct harkd *h;
        long long start, took;
        pid_t group;
        int status;

        (void) block_harkd_in_a_batch(t, &h);
        group = h->pid;
        start = it_now_ms();
        status = harkd_stop(h, STOP_BOUND_MS + 3000);
        took = it_now_ms() - start;
        it_journald_continue(t);
        print_message("%s: harkd ended %lld ms after SIGTERM (bound %d ms)\n", it_mode, took, STOP_BOUND_MS);
        if (status < 0)
                fail_msg("harkd (%s) still ran %d ms after SIGTERM", it_mode, STOP_BOUND_MS + 3000);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        /* A sanitizer's exit takes its time too. */
        assert_true(took <= STOP_BOUND_MS + (getenv("SANITIZE") && *getenv("SANITIZE") ? 3000 : 1000));
        /* Nothing of harkd's process group is left (fork's children). */
        for (int i = 0; i < 20 && group_running(group) > 0; i++)
                it_sleep_ms(50);
        if (group_running(group) > 0)
                fail_msg("%d processes of harkd's group (%d) still run after it ended", group_running(group),
                         (int) group);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_replaced_journal_leaves_its_batch_unconfirmed),
        IT_TEST(test_dead_journal_leaves_its_batch_unconfirmed),
        IT_TEST(test_stop_bound_holds_while_journald_stalls),
};

static const struct CMUnitTest once[] = {
        IT_TEST(test_hark_exits_75_when_messages_are_lost),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "journal",
                .per_mode = IT_TESTS(per_mode),
                .once = IT_TESTS(once),
        });
}
