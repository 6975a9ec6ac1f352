/* confirm = "stored" against a real journald that drops what harkd hands it:
 * MaxLevelStore=, its rate limit, Storage=none, a full store, and a journald
 * killed in the middle of a flood. In each case the count harkd confirms is
 * at most what the journal holds (exactly that where journald is done by
 * then), and the figure confirm = "sent" gives in the same case is printed
 * beside it, so that the difference shows. journald's settings come from a
 * journald.conf of the test's own, bind-mounted in the private mount
 * namespace of tests/with-journald (support-journald.h); these tests replace
 * the journald every program of the run writes to, so they run one by one
 * and put the usual one back. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "events.h"

#define ANSWER_TIMEOUT_MS 20000
#define JOURNAL_TIMEOUT_MS 10000
/* How long a count of entries journald may still be writing waits for more. */
#define SETTLE_MS 1500

/* What one sender's messages became. */
struct outcome {
        uint64_t sent, confirmed;
        int stored;                     /* entries in the journal */
};

/* Sends lines "<tag> <i>" 0..n-1 on a connection of its own, chunk lines
 * at a time with a pause of pause_ms between (0: all at once), and reads
 * the answer into *confirmed. No cmocka assertion: senders run in threads
 * too. Returns 0 or -errno. */
static int try_send_numbered(const struct harkd *h, const char *tag, int n, int chunk, int pause_ms,
                             uint64_t *confirmed) {
        char line[64];
        int fd = it_connect(h->host, h->port, 5000), r = fd < 0 ? fd : 0;

        for (int i = 0; i < n && r == 0; i += chunk) {
                size_t size = (size_t) chunk * sizeof(line), used = 0;
                char *text = malloc(size);

                if (!text) {
                        r = -ENOMEM;
                        break;
                }
                for (int k = i; k < i + chunk && k < n; k++) {
                        int length = snprintf(line, sizeof(line), "%s %d\n", tag, k);

                        memcpy(text + used, line, (size_t) length);
                        used += (size_t) length;
                }
                r = it_send(fd, text, used);
                free(text);
                if (pause_ms > 0)
                        it_sleep_ms(pause_ms);
        }
        if (r == 0)
                r = it_finish(fd, confirmed, ANSWER_TIMEOUT_MS);
        if (fd >= 0)
                close(fd);
        return r;
}

static uint64_t send_numbered(const struct harkd *h, const char *tag, int n) {
        uint64_t confirmed = 0;
        int r = try_send_numbered(h, tag, n, n > 0 ? n : 1, 0, &confirmed);

        if (r < 0)
                fail_msg("sending %d lines \"%s ...\": %s", n, tag, strerror(-r));
        return confirmed;
}

/* Entries of h whose MESSAGE holds "<tag> ", waiting at most for expected. */
static int stored_of(const struct harkd *h, const char *tag, int expected) {
        char match[128], needle[64];
        const char *matches[] = { match, NULL };
        struct it_entries e;
        int n;

        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", h->identifier);
        snprintf(needle, sizeof(needle), "%s ", tag);
        n = it_journal_collect_matching(matches, needle, (size_t) expected, SETTLE_MS, &e);
        it_entries_free(&e);
        assert_true(n >= 0);
        return n;
}

static struct harkd *start_confirming_within(struct it_test *t, size_t i, const char *confirm,
                                             const char *priority, int timeout_s) {
        char extra[128];

        snprintf(extra, sizeof(extra), "confirm = \"%s\";\nconfirm_timeout = %d;\n", confirm, timeout_s);
        return it_test_harkd(t, i, &(struct harkd_options) { .extra = extra, .priority = priority });
}

static struct harkd *start_confirming(struct it_test *t, size_t i, const char *confirm, const char *priority) {
        return start_confirming_within(t, i, confirm, priority, 1);
}

/* One sender of n lines under each setting, side by side; prints the row. */
static void run_case(struct it_test *t, const char *name, const char *priority, int n, struct outcome *sent,
                     struct outcome *stored) {
        /* Started already by the test (harkd 0 "sent", harkd 1 "stored"), or now. */
        struct harkd *by_sent = t->harkd[0].pid > 0 ? &t->harkd[0] : start_confirming(t, 0, "sent", priority);
        struct harkd *by_stored = t->harkd[1].pid > 0 ? &t->harkd[1] : start_confirming(t, 1, "stored", priority);

        sent->sent = stored->sent = (uint64_t) n;
        sent->confirmed = send_numbered(by_sent, "sent", n);
        stored->confirmed = send_numbered(by_stored, "stored", n);
        sent->stored = stored_of(by_sent, "sent", n);
        stored->stored = stored_of(by_stored, "stored", n);
        print_message("%-34s sent %5d, stored %5d/%5d (sent/stored setting), confirmed: sent %5llu, stored %5llu\n",
                      name, n, sent->stored, stored->stored, (unsigned long long) sent->confirmed,
                      (unsigned long long) stored->confirmed);
        assert_true(stored->confirmed <= (uint64_t) stored->stored);
}

/* The hark client, as a user runs it: its exit status for one message. */
static int hark_exit_status(const struct harkd *h, const char *message) {
        char port[16];
        char *argv[] = { (char *) it_hark_path(), (char *) "-H", (char *) h->host, (char *) "-p", port,
                         (char *) message, NULL };
        struct it_proc p;
        int code;

        snprintf(port, sizeof(port), "%d", h->port);
        assert_int_equal(it_run(argv, NULL, 0, ANSWER_TIMEOUT_MS, &p), 0);
        code = it_exit_code(&p);
        it_proc_free(&p);
        return code;
}

/* ---- with the usual journald -------------------------------------------------- */

/* Every message stored is confirmed, in every mode, and promptly. */
static void test_stored_confirms_what_landed(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_confirming(t, 0, "stored", NULL);
        long long began = it_now_ms();
        uint64_t confirmed = send_numbered(h, "landed", 2000);
        long long took = it_now_ms() - began;

        print_message("2000 lines confirmed as stored in %lld ms\n", took);
        assert_int_equal(confirmed, 2000);
        assert_int_equal(stored_of(h, "landed", 2000), 2000);
        /* Nothing sent: nothing to wait for. */
        assert_int_equal(send_numbered(h, "none", 0), 0);
        assert_int_equal(hark_exit_status(h, "landed by hark"), 0);
}

/* ---- journald dropping -------------------------------------------------------- */

/* MaxLevelStore=notice stores nothing at harkd's priority info: confirm =
 * "stored" confirms none (hark exits 75) and says why; at warning all. */
static void test_level_filtered(void **state) {
        struct it_test *t = *state;
        struct outcome sent, stored;
        char pid[32];
        const char *matches[] = { "MESSAGE_ID=" EVENT_NOT_STORED, pid, NULL };
        struct harkd *h;

        it_journald_configure(t, "[Journal]\nMaxLevelStore=notice\n", NULL);
        run_case(t, "MaxLevelStore=notice, priority info", NULL, 100, &sent, &stored);
        assert_int_equal(stored.stored, 0);
        assert_int_equal(stored.confirmed, 0);
        assert_int_equal(hark_exit_status(&t->harkd[1], "filtered"), 75);
        harkd_pid_match(&t->harkd[1], pid, sizeof(pid));
        if (it_harkd_events(matches, "journald stored none of them", 1, JOURNAL_TIMEOUT_MS, NULL) < 1)
                fail_msg("harkd did not say that journald stored none of its messages");
        assert_int_equal(harkd_wait_notify(&t->harkd[1], "STATUS=* 101 not confirmed*", 3000, NULL, 0), 0);

        assert_int_equal(harkd_stop(&t->harkd[0], 10000), 0);
        assert_int_equal(harkd_stop(&t->harkd[1], 10000), 0);
        run_case(t, "MaxLevelStore=notice, priority warning", "warning", 100, &sent, &stored);
        assert_int_equal(stored.confirmed, 100);
        assert_int_equal(stored.stored, 100);
        h = &t->harkd[1];
        assert_int_equal(hark_exit_status(h, "not filtered"), 0);
}

/* Where the cgroup2 hierarchy is mounted (on a hybrid machine, beside the v1 ones). */
static const char *cgroup2_root(void) {
        static char root[256];
        char *mounts = it_read_file("/proc/self/mounts", NULL), *line = mounts;

        root[0] = 0;
        for (char *next; line && *line; line = next) {
                char device[64], path[256], type[32];

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (sscanf(line, "%63s %255s %31s", device, path, type) == 3 && strcmp(type, "cgroup2") == 0) {
                        snprintf(root, sizeof(root), "%s", path);
                        break;
                }
        }
        free(mounts);
        return root[0] ? root : NULL;
}

/* Moves harkd h into a cgroup named as a service: journald rate-limits the
 * entries of units only, and takes the unit from the cgroup. Teardown
 * removes the cgroup once harkd is gone. */
static void run_as_a_unit(struct it_test *t, const struct harkd *h) {
        const char *root = cgroup2_root();
        char path[512], procs[600], pid[32];
        int fd;

        if (!root)
                fail_msg("no cgroup2 hierarchy to make harkd a unit in");
        snprintf(path, sizeof(path), "%s/hark-it-%d-%d.service", root, (int) getpid(), (int) h->pid);
        if (mkdir(path, 0755) < 0)
                fail_msg("mkdir %s: %s", path, strerror(errno));
        it_test_keep_file(t, path);
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", path);
        snprintf(pid, sizeof(pid), "%d\n", (int) h->pid);
        /* In place: cgroupfs makes no temporary files. */
        fd = open(procs, O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, pid, strlen(pid)) != (ssize_t) strlen(pid))
                fail_msg("cannot move harkd into %s: %s", path, strerror(errno));
        close(fd);
        /* journald caches what it knows of a sender for up to a second or so. */
        it_sleep_ms(2500);
}

/* journald's rate limit drops most of a flood: what is confirmed is what
 * the journal holds, exactly. */
static void test_rate_limited(void **state) {
        struct it_test *t = *state;
        struct outcome sent, stored;

        it_journald_configure(t, "[Journal]\nRateLimitIntervalSec=60s\nRateLimitBurst=100\n", NULL);
        run_as_a_unit(t, start_confirming(t, 0, "sent", NULL));
        run_as_a_unit(t, start_confirming(t, 1, "stored", NULL));
        run_case(t, "RateLimitBurst=100 per 60 s", NULL, 5000, &sent, &stored);
        if (stored.stored >= 5000)
                fail_msg("journald's rate limit dropped nothing: the case proves nothing");
        assert_int_equal(stored.confirmed, (uint64_t) stored.stored);
}

/* Storage=none: journald keeps nothing, harkd confirms nothing. */
static void test_storage_none(void **state) {
        struct it_test *t = *state;
        struct outcome sent, stored;

        it_journald_configure(t, "[Journal]\nStorage=none\n", NULL);
        run_case(t, "Storage=none", NULL, 100, &sent, &stored);
        assert_int_equal(stored.confirmed, 0);
}

/* A store of 2 MiB fills: what does not fit is not confirmed. */
static void test_store_full(void **state) {
        struct it_test *t = *state;
        struct outcome sent, stored;

        it_journald_configure(t, "[Journal]\nStorage=volatile\n", "2m");
        run_case(t, "a full store (tmpfs of 2 MiB)", NULL, 30000, &sent, &stored);
        if (stored.stored >= 30000)
                fail_msg("the store did not fill: the case proves nothing");
}

/* ---- journald killed in the middle of a flood --------------------------------- */

#define FLOOD_SENDERS 6
#define FLOOD_LINES 6000
/* In chunks, with pauses: many batches, so that most end well before or
 * begin well after journald's death. */
#define FLOOD_CHUNK 200
#define FLOOD_PAUSE_MS 10

struct flood_sender {
        const struct harkd *h;
        char tag[32];
        uint64_t confirmed;
        int error;
};

static void *flood(void *arg) {
        struct flood_sender *s = arg;

        s->error = try_send_numbered(s->h, s->tag, FLOOD_LINES, FLOOD_CHUNK, FLOOD_PAUSE_MS, &s->confirmed);
        return NULL;
}

/* Senders in threads beside each other under setting confirm; journald is
 * SIGKILLed and started again meanwhile. Returns how many confirmations
 * exceeded what landed, printing the totals. */
static int flood_through_a_journald_kill(struct it_test *t, size_t i, const char *confirm) {
        struct harkd *h = start_confirming(t, i, confirm, NULL);
        struct flood_sender senders[FLOOD_SENDERS];
        pthread_t threads[FLOOD_SENDERS];
        uint64_t confirmed = 0;
        int stored = 0, lies = 0;

        for (int k = 0; k < FLOOD_SENDERS; k++) {
                senders[k] = (struct flood_sender) { .h = h };
                snprintf(senders[k].tag, sizeof(senders[k].tag), "%s-%d", confirm, k);
                assert_int_equal(pthread_create(&threads[k], NULL, flood, &senders[k]), 0);
        }
        it_sleep_ms(150);
        it_journald_replace(t);
        for (int k = 0; k < FLOOD_SENDERS; k++) {
                int landed;

                pthread_join(threads[k], NULL);
                if (senders[k].error < 0)
                        fail_msg("sender %d: %s", k, strerror(-senders[k].error));
                landed = stored_of(h, senders[k].tag, FLOOD_LINES);
                lies += senders[k].confirmed > (uint64_t) landed;
                confirmed += senders[k].confirmed;
                stored += landed;
        }
        print_message("journald killed mid-flood, confirm = %-6s: sent %d, stored %d, confirmed %llu, %d of %d "
                      "senders confirmed more than landed\n", confirm, FLOOD_SENDERS * FLOOD_LINES, stored,
                      (unsigned long long) confirmed, lies, FLOOD_SENDERS);
        return lies;
}

/* Under setting confirm, with a confirm_timeout long enough not to end the
 * wait: LINES_QUEUED messages are handed to a stopped journald (they wait in
 * its socket's queue, which holds 10 datagrams on a machine without systemd
 * as PID 1, so few), which is killed with them there while the answer
 * waits. Returns what harkd confirmed, which came once journald was gone,
 * not at the timeout; afterwards a new journald's entries are confirmed
 * again. */
#define LINES_QUEUED 3
#define DEAD_QUEUE_TIMEOUT_S 15

struct queued_sender {
        const struct harkd *h;
        const char *tag;
        uint64_t confirmed;
        int error;
};

static void *send_queued(void *arg) {
        struct queued_sender *s = arg;

        s->error = try_send_numbered(s->h, s->tag, LINES_QUEUED, LINES_QUEUED, 0, &s->confirmed);
        return NULL;
}

static uint64_t confirmed_of_a_dead_queue(struct it_test *t, size_t i, const char *confirm) {
        struct harkd *h = start_confirming_within(t, i, confirm, NULL, DEAD_QUEUE_TIMEOUT_S);
        struct queued_sender sender = { .h = h, .tag = confirm };
        pthread_t thread;
        long long killed_ms;
        int landed;

        it_journald_stop(t);
        assert_int_equal(pthread_create(&thread, NULL, send_queued, &sender), 0);
        it_sleep_ms(300);
        it_journald_kill_stopped(t);
        killed_ms = it_now_ms();
        it_journald_start(t);
        pthread_join(thread, NULL);
        if (sender.error < 0)
                fail_msg("sending: %s", strerror(-sender.error));
        landed = stored_of(h, confirm, 0);
        print_message("%d lines queued to a journald that was then killed, confirm = %-6s: confirmed %llu, "
                      "landed %d, answered %lld ms after the kill\n", LINES_QUEUED, confirm,
                      (unsigned long long) sender.confirmed, landed, it_now_ms() - killed_ms);
        assert_int_equal(landed, 0);
        assert_true(it_now_ms() - killed_ms < DEAD_QUEUE_TIMEOUT_S * 1000 / 2);
        assert_int_equal(send_numbered(h, "after", 10), 10);
        return sender.confirmed;
}

/* Neither setting confirms them: the journal never shows them, and the
 * journald they were queued to never read them. */
static void test_queued_on_a_dead_journald(void **state) {
        struct it_test *t = *state;

        it_journald_require_private();
        assert_int_equal(confirmed_of_a_dead_queue(t, 0, "sent"), 0);
        assert_int_equal(confirmed_of_a_dead_queue(t, 1, "stored"), 0);
}

/* confirm = "sent" and a journald that stalls (SIGSTOP) with harkd's lines
 * queued: the answer comes at confirm_timeout and confirms none of them,
 * harkd says why and counts them in STATUS=. They land once journald goes
 * on: an undercount, never the other way. */
static void test_stalled_journald(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_confirming(t, 0, "sent", NULL);
        char pid_match[64];
        const char *not_read[] = { "MESSAGE_ID=" EVENT_NOT_READ, harkd_pid_match(h, pid_match, sizeof(pid_match)),
                                   NULL };
        long long started;
        uint64_t confirmed;

        it_journald_require_private();
        it_journald_stop(t);
        started = it_now_ms();
        confirmed = send_numbered(h, "stalled", LINES_QUEUED);
        print_message("%d lines to a stalled journald, confirm = sent: confirmed %llu after %lld ms\n",
                      LINES_QUEUED, (unsigned long long) confirmed, it_now_ms() - started);
        assert_int_equal(confirmed, 0);
        assert_int_equal(harkd_wait_notify(h, "STATUS=* 3 not confirmed*", 3000, NULL, 0), 0);
        it_journald_continue(t);
        assert_int_equal(stored_of(h, "stalled", LINES_QUEUED), LINES_QUEUED);
        assert_int_equal(it_harkd_events(not_read, NULL, 1, JOURNAL_TIMEOUT_MS, NULL), 1);
        assert_int_equal(send_numbered(h, "after", 10), 10);
}

static void test_journald_killed_mid_flood(void **state) {
        struct it_test *t = *state;

        it_journald_require_private();
        assert_int_equal(flood_through_a_journald_kill(t, 0, "sent"), 0);
        assert_int_equal(flood_through_a_journald_kill(t, 1, "stored"), 0);
        /* The new journald's entries are confirmed again. */
        assert_int_equal(send_numbered(&t->harkd[1], "after", 100), 100);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_stored_confirms_what_landed),
};

static const struct CMUnitTest once[] = {
        IT_TEST(test_level_filtered),
        IT_TEST(test_rate_limited),
        IT_TEST(test_storage_none),
        IT_TEST(test_store_full),
        IT_TEST(test_queued_on_a_dead_journald),
        IT_TEST(test_stalled_journald),
        IT_TEST(test_journald_killed_mid_flood),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "confirm",
                .per_mode = IT_TESTS(per_mode),
                .once = IT_TESTS(once),
        });
}
