/* Proof under load: many clients flooding harkd at once (a soak), and a
 * storm of SIGHUPs during a flood. Each client sends numbered lines
 * ("soak <client> <line>"), half-closes and must be confirmed for every line
 * it sent; then the journal must hold each (client, line) exactly once, and
 * each client's lines in the order it sent them. */
#include "support.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <systemd/sd-journal.h>
#include <systemd/sd-messages.h>
#include <unistd.h>

#include "events.h"

#define SOAK_CLIENTS 100
#define SOAK_LINES 10000

#define STORM_CLIENTS 20
#define STORM_LINES 5000
#define STORM_SIGNALS 200
#define STORM_MS 2000
/* The storm's clients spread their lines over about this long, and each
 * holds back its last ones until the storm is over: every SIGHUP lands
 * while lines come in, however long the storm takes. */
#define STORM_FLOOD_MS 2000

/* Lines a client writes with one send. */
#define CHUNK_LINES 250
/* "soak <client> <line>\n" at most. */
#define LINE_MAX_BYTES 32

#define JOURNAL_TIMEOUT_MS 60000

static bool mode_is(const char *mode) {
        return strcmp(it_mode, mode) == 0;
}

/* How long a client waits for its "OK": the whole flood, as harkd may serve
 * it last (pool serves `workers` connections at a time). */
static int flood_bound_ms(void) {
        return it_sanitized() ? 600000 : 180000;
}

/* ---- harkd's sd_notify() messages ------------------------------------------------------- */

/* sd_notify() blocks while the datagram queue of NOTIFY_SOCKET is full
 * (net.unix.max_dgram_qlen, 10 by default), and the support code reads that
 * socket only while a test waits for a message. A harkd running for 20 s
 * unread (a STATUS= every 2 s), or reloading five times (RELOADING=1 and
 * READY=1 each), stops in sd_notify(): its main thread then accepts no
 * connection and acts on no signal, SIGTERM included. A service manager
 * reads its notify socket all the time; so does this thread, while harkd
 * runs. One at a time (the tests of a program run one after another). */
static struct {
        pthread_t thread;
        int fd;                 /* a dup of harkd's notify_fd: teardown may close that one */
        atomic_bool stop;
        bool running;
} notify_reader = { .fd = -1 };

static void *notify_reader_run(void *arg) {
        char message[4096];

        (void) arg;
        while (!atomic_load(&notify_reader.stop)) {
                struct pollfd pfd = { .fd = notify_reader.fd, .events = POLLIN };

                if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
                        break;
                while (recv(notify_reader.fd, message, sizeof(message), MSG_DONTWAIT) >= 0)
                        ;
                if (errno != EAGAIN && errno != EINTR)
                        break;
        }
        return NULL;
}

static void notify_reader_stop(void) {
        if (!notify_reader.running)
                return;
        atomic_store(&notify_reader.stop, true);
        pthread_join(notify_reader.thread, NULL);
        close(notify_reader.fd);
        notify_reader.fd = -1;
        notify_reader.running = false;
}

/* Reads (and drops) what h sends to its notify socket from now on; a
 * reader left running by a test that failed is stopped first. */
static void notify_reader_start(const struct harkd *h) {
        notify_reader_stop();
        notify_reader.fd = fcntl(h->notify_fd, F_DUPFD_CLOEXEC, 0);
        assert_true(notify_reader.fd >= 0);
        atomic_store(&notify_reader.stop, false);
        assert_int_equal(pthread_create(&notify_reader.thread, NULL, notify_reader_run, NULL), 0);
        notify_reader.running = true;
}

/* harkd started with a notify reader beside it. */
static struct harkd *start_harkd(struct it_test *t, const struct harkd_options *o) {
        struct harkd *h = it_test_harkd(t, 0, o);

        notify_reader_start(h);
        return h;
}

/* harkd stopped (exit 0 asserted), then its notify reader. */
static void stop_harkd(struct harkd *h) {
        it_assert_harkd_stops(h, 10000);
        notify_reader_stop();
}

/* ---- clients ------------------------------------------------------------------------- */

struct flood {
        const struct harkd *h;
        int lines;              /* per client */
        int pause_ms;           /* between two sends of a client; 0: none */
        /* Until it is true, each client holds back its last lines (NULL: no
         * such wait): the flood lasts as long as what happens beside it. */
        const atomic_bool *hold_last_until;
};

struct client {
        const struct flood *flood;
        int index;
        pthread_t thread;
        const char *failed_at;  /* NULL, or the step that failed: "connect", "send", "OK" */
        int error;              /* -errno of that step */
        int sent;               /* lines */
        uint64_t confirmed;     /* harkd's "OK <n>"; UINT64_MAX: none */
};

static void format_line(char *buffer, size_t size, int client, int line) {
        snprintf(buffer, size, "soak %d %d", client, line);
}

/* Lines [first, first + n) of client, each ending in "\n". Returns the bytes. */
static size_t format_chunk(char *buffer, size_t size, int client, int first, int n) {
        size_t used = 0;

        for (int line = first; line < first + n; line++) {
                format_line(buffer + used, size - used, client, line);
                /* size holds LINE_MAX_BYTES per line: none is cut. */
                used += strlen(buffer + used);
                buffer[used++] = '\n';
        }
        return used;
}

static void *client_run(void *arg) {
        struct client *c = arg;
        const struct flood *f = c->flood;
        char chunk[CHUNK_LINES * LINE_MAX_BYTES];
        int fd = it_connect(f->h->host, f->h->port, 10000);

        c->confirmed = UINT64_MAX;
        if (fd < 0) {
                c->failed_at = "connect";
                c->error = fd;
                return NULL;
        }
        while (c->sent < f->lines) {
                int n = f->lines - c->sent < CHUNK_LINES ? f->lines - c->sent : CHUNK_LINES;
                size_t size = format_chunk(chunk, sizeof(chunk), c->index, c->sent, n);
                int r;

                while (c->sent + n == f->lines && f->hold_last_until && !atomic_load(f->hold_last_until))
                        it_sleep_ms(10);
                r = it_send(fd, chunk, size);
                if (r < 0) {
                        c->failed_at = "send";
                        c->error = r;
                        break;
                }
                c->sent += n;
                if (f->pause_ms > 0 && c->sent < f->lines)
                        it_sleep_ms(f->pause_ms);
        }
        if (!c->failed_at) {
                c->error = it_finish(fd, &c->confirmed, flood_bound_ms());
                if (c->error < 0)
                        c->failed_at = "OK";
        }
        close(fd);
        return NULL;
}

/* Starts n clients numbered first, first + 1, ... on threads of their own. */
static void clients_start(struct client *clients, int n, int first, const struct flood *f) {
        for (int i = 0; i < n; i++) {
                clients[i] = (struct client) { .flood = f, .index = first + i };
                assert_int_equal(pthread_create(&clients[i].thread, NULL, client_run, &clients[i]), 0);
        }
}

/* Joins the clients, then asserts that each sent all its lines and was
 * confirmed for exactly those (after printing every one that was not). */
static void clients_finish(struct client *clients, int n) {
        int wrong = 0;

        for (int i = 0; i < n; i++)
                pthread_join(clients[i].thread, NULL);
        for (int i = 0; i < n; i++) {
                const struct client *c = &clients[i];

                if (!c->failed_at && c->sent == c->flood->lines && c->confirmed == (uint64_t) c->sent)
                        continue;
                wrong++;
                if (c->failed_at)
                        fprintf(stderr, "client %d: %s failed: %s (%d lines sent)\n", c->index, c->failed_at,
                                strerror(-c->error), c->sent);
                else
                        fprintf(stderr, "client %d: sent %d lines, harkd confirmed %llu\n", c->index, c->sent,
                                (unsigned long long) c->confirmed);
        }
        if (wrong)
                fail_msg("%d of %d clients were not confirmed for exactly the lines they sent", wrong, n);
}

/* ---- the journal ----------------------------------------------------------------------- */

/* journald reads the datagrams of its socket in the order they came, from
 * every sender alike: once an entry sent now is in the journal, so is all
 * that harkd sent before (its "OK" says only that journald's socket took
 * the lines). Waiting for it spares polling a million entries. */
static void journal_catch_up(const char *identifier) {
        char marker[128];
        struct it_entries e;

        snprintf(marker, sizeof(marker), "%s-marker-%u", identifier, it_next_serial());
        assert_int_equal(sd_journal_send("MESSAGE=after the lines of %s", identifier, "SYSLOG_IDENTIFIER=%s", marker,
                                         NULL),
                         0);
        it_journal_messages(marker, 1, JOURNAL_TIMEOUT_MS, &e);
        if (e.n != 1)
                fail_msg("journald did not store an entry within %d ms", JOURNAL_TIMEOUT_MS);
        it_entries_free(&e);
}

/* What the journal holds of one flood: how often each (client, line) came,
 * and what did not fit. */
struct census {
        int clients, lines;
        unsigned char *seen;    /* [client * lines + line]: times found (at most 255) */
        int *last;              /* [client]: the line found last; -1: none yet */
        size_t entries, malformed, repeated, out_of_order, missing;
        int reported;           /* problems printed so far */
};

#define CENSUS_REPORTS_MAX 10

static void census_init(struct census *c, int clients, int lines) {
        *c = (struct census) { .clients = clients, .lines = lines };
        c->seen = calloc((size_t) clients * (size_t) lines, 1);
        c->last = malloc((size_t) clients * sizeof(*c->last));
        assert_non_null(c->seen);
        assert_non_null(c->last);
        for (int i = 0; i < clients; i++)
                c->last[i] = -1;
}

static void census_done(struct census *c) {
        free(c->seen);
        free(c->last);
}

static void census_report(struct census *c, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void census_report(struct census *c, const char *format, ...) {
        va_list ap;

        if (c->reported++ >= CENSUS_REPORTS_MAX)
                return;
        va_start(ap, format);
        vfprintf(stderr, format, ap);
        va_end(ap);
}

/* Whether message is exactly "soak <client> <line>" of this flood. */
static bool parse_line(const struct census *c, const char *message, size_t length, int *client, int *line) {
        char copy[LINE_MAX_BYTES], expected[LINE_MAX_BYTES];

        if (length >= sizeof(copy))
                return false;
        memcpy(copy, message, length);
        copy[length] = 0;
        if (sscanf(copy, "soak %d %d", client, line) != 2 || *client < 0 || *client >= c->clients || *line < 0 ||
            *line >= c->lines)
                return false;
        /* Nothing more, nothing less: no merged, cut or padded lines. */
        format_line(expected, sizeof(expected), *client, *line);
        return strcmp(copy, expected) == 0;
}

static void census_count(struct census *c, const char *message, size_t length) {
        unsigned char *seen;
        int client, line;

        c->entries++;
        if (!parse_line(c, message, length, &client, &line)) {
                c->malformed++;
                census_report(c, "entry %zu: MESSAGE \"%.*s\" is none of the lines sent\n", c->entries,
                              (int) (length < 64 ? length : 64), message);
                return;
        }
        seen = &c->seen[(size_t) client * (size_t) c->lines + (size_t) line];
        if (*seen > 0) {
                c->repeated++;
                census_report(c, "entry %zu: \"soak %d %d\" again\n", c->entries, client, line);
        }
        if (*seen < 255)
                (*seen)++;
        if (line < c->last[client]) {
                c->out_of_order++;
                census_report(c, "entry %zu: \"soak %d %d\" after \"soak %d %d\"\n", c->entries, client, line,
                              client, c->last[client]);
        }
        c->last[client] = line;
}

/* Counts the MESSAGE of every entry of identifier, in journal order. Only
 * that field, through sd-journal directly: it_journal_collect() would copy
 * every field of a million entries. Returns 0 or -errno. */
static int census_take(struct census *c, const char *identifier) {
        char match[128];
        sd_journal *j = NULL;
        const void *data;
        size_t length;
        int r;

        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", identifier);
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        r = sd_journal_add_match(j, match, 0);
        if (r >= 0)
                r = sd_journal_seek_head(j);
        while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                r = sd_journal_get_data(j, "MESSAGE", &data, &length);
                if (r < 0)
                        break;
                /* Past "MESSAGE=". */
                census_count(c, (const char *) data + 8, length - 8);
        }
        sd_journal_close(j);
        return r < 0 ? r : 0;
}

/* Lines of the flood that the journal does not hold at all. */
static void census_find_missing(struct census *c) {
        for (int client = 0; client < c->clients; client++)
                for (int line = 0; line < c->lines; line++)
                        if (c->seen[(size_t) client * (size_t) c->lines + (size_t) line] == 0) {
                                c->missing++;
                                census_report(c, "\"soak %d %d\" is not in the journal\n", client, line);
                        }
}

/* journald drops what a unit logs beyond its rate limit, and says so: a
 * cause outside harkd, named when lines are missing. */
static void print_journald_drops(void) {
        const char *matches[] = { "MESSAGE_ID=" SD_MESSAGE_JOURNAL_DROPPED_STR, NULL };
        struct it_entries e;

        if (it_journal_collect(matches, 0, 0, &e) > 0) {
                fprintf(stderr, "journald says it dropped messages (its rate limit):\n");
                it_entries_print(&e);
        }
        it_entries_free(&e);
}

/* Asserts that the journal holds every line of clients × lines of
 * identifier exactly once, each client's in order, and nothing else. */
static void assert_journal_holds_each_line_once(const char *identifier, int clients, int lines) {
        long long start = it_now_ms();
        struct census c;
        int r;

        journal_catch_up(identifier);
        census_init(&c, clients, lines);
        r = census_take(&c, identifier);
        if (r < 0)
                fail_msg("reading the journal: %s", strerror(-r));
        census_find_missing(&c);
        print_message("%s: %zu journal entries read back in %.1f s\n", it_mode, c.entries,
                      (double) (it_now_ms() - start) / 1000);
        if (c.malformed || c.repeated || c.out_of_order || c.missing) {
                print_journald_drops();
                fail_msg("%d clients x %d lines: %zu entries, %zu missing, %zu repeated, %zu out of order, "
                         "%zu not a line sent",
                         clients, lines, c.entries, c.missing, c.repeated, c.out_of_order, c.malformed);
        }
        assert_int_equal(c.entries, (size_t) clients * (size_t) lines);
        census_done(&c);
}

/* ---- the soak ------------------------------------------------------------------------- */

/* journald keeps its runtime journal within a LIMIT (a tenth of the
 * tmpfs it is on, by default), deleting the oldest archived files beyond
 * it: the first lines of a soak among them would look lost. It says the
 * LIMIT in its usage message; -1 when it did not. */
static long long journal_limit(void) {
        const char *matches[] = { "MESSAGE_ID=" SD_MESSAGE_JOURNAL_USAGE_STR, NULL };
        struct it_entries e;
        const char *limit;
        long long bytes = -1;

        if (it_journal_collect(matches, 1, 1000, &e) > 0) {
                limit = it_entry_field(&e.v[e.n - 1], "LIMIT", NULL);
                bytes = limit ? atoll(limit) : -1;
        }
        it_entries_free(&e);
        return bytes;
}

/* An entry of the soak takes about 520 bytes of journal (1.1 GB for 2.1
 * million); twice that per line must fit below journald's limit. */
#define JOURNAL_BYTES_PER_LINE 1024

/* The soak's entries go into a journal of their own, a tmpfs that
 * teardown unmounts: a gigabyte of them would slow every later reader of
 * the run's journal (the next programs waited for their entries past their
 * bounds). */
#define SOAK_JOURNALD_CONF "[Journal]\nStorage=volatile\nRuntimeMaxUse=1400M\nRuntimeKeepFree=16M\n"
#define SOAK_STORE_SIZE "1500m"

static int soak_lines(void) {
        long long limit = journal_limit();
        int fit;

        if (limit <= 0 || (long long) SOAK_LINES * SOAK_CLIENTS * JOURNAL_BYTES_PER_LINE <= limit)
                return SOAK_LINES;
        fit = (int) (limit / JOURNAL_BYTES_PER_LINE / SOAK_CLIENTS);
        print_message("journald keeps %lld MB at most: %d lines per client instead of %d\n", limit / 1000000, fit,
                      SOAK_LINES);
        return fit;
}

/* SOAK_CLIENTS clients at once, each sending its lines as fast as harkd
 * takes them: all confirmed, all in the journal once, each in order. In the
 * modes made for many connections (epoll) and for a fixed set of threads
 * (pool); thread, fork and sequential get the storm below. */
static void test_soak(void **state) {
        /* Static: a failed assertion leaves the test with clients still running. */
        static struct client clients[SOAK_CLIENTS];
        static struct flood f;
        struct it_test *t = *state;
        long long start;
        struct harkd *h;

        if (!mode_is("epoll") && !mode_is("pool")) {
                print_message("%s: the soak runs in epoll and pool only\n", it_mode);
                skip();
        }
        it_journald_configure(t, SOAK_JOURNALD_CONF, SOAK_STORE_SIZE);
        h = start_harkd(t, &(struct harkd_options) { 0 });
        f = (struct flood) { .h = h, .lines = soak_lines() };
        start = it_now_ms();
        clients_start(clients, SOAK_CLIENTS, 0, &f);
        clients_finish(clients, SOAK_CLIENTS);
        print_message("%s: %d clients x %d lines confirmed in %.1f s\n", it_mode, SOAK_CLIENTS, f.lines,
                      (double) (it_now_ms() - start) / 1000);
        stop_harkd(h);
        assert_journal_holds_each_line_once(h->identifier, SOAK_CLIENTS, f.lines);
}

/* ---- the SIGHUP storm ----------------------------------------------------------------- */

/* Reload events of harkd so far: in the journal, and on its stderr, where
 * they go when journald's queue stays full (a flood fills it). */
static int reloads_logged(struct harkd *h, const char *needle, const char *message_id) {
        char pid[32], id[64];
        const char *matches[] = { harkd_pid_match(h, pid, sizeof(pid)), message_id ? id : NULL, NULL };
        int in_journal;

        snprintf(id, sizeof(id), "MESSAGE_ID=%s", message_id ? message_id : "");
        in_journal = it_harkd_events(matches, needle, 0, 0, NULL);
        assert_true(in_journal >= 0);
        return in_journal + harkd_log_count(h, needle);
}

static int reloads_done(struct harkd *h) {
        return reloads_logged(h, "Reloaded configuration", EVENT_RELOADED);
}

/* STORM_SIGNALS SIGHUPs evenly over STORM_MS, each onto a config whose
 * timeout differs from the one before: a setting that reaches the open
 * connections, so each reload has something to hand over. */
static void sighup_storm(struct harkd *h, struct harkd_options *o) {
        long long start = it_now_ms();

        for (int i = 0; i < STORM_SIGNALS; i++) {
                long long due = start + (long long) i * STORM_MS / STORM_SIGNALS;

                if (it_ms_left(due) > 0)
                        it_sleep_ms(it_ms_left(due));
                o->timeout = i % 2 ? "10" : "11";
                assert_int_equal(harkd_write_config(h, o), 0);
                assert_int_equal(harkd_signal(h, SIGHUP), 0);
        }
        print_message("%s: %d SIGHUPs sent in %lld ms\n", it_mode, STORM_SIGNALS, it_now_ms() - start);
}

/* Waits until harkd has logged at least count reloads. */
static bool wait_for_reloads(struct harkd *h, int count, int timeout_ms) {
        long long deadline = it_now_ms() + timeout_ms;

        while (reloads_done(h) < count)
                if (it_ms_left(deadline) == 0)
                        return false;
                else
                        it_sleep_ms(50);
        return true;
}

/* STORM_CLIENTS clients send their lines while harkd gets STORM_SIGNALS
 * SIGHUPs: nothing lost or doubled, every client confirmed for all it
 * sent, the SIGHUPs answered by reloads (several may make one). Afterwards harkd still serves and reloads, and stops
 * cleanly. (sequential serves one client at a time: the flood would last
 * STORM_CLIENTS times as long.) */
static void test_sighup_storm(void **state) {
        /* Static: a failed assertion leaves the test with clients still running. */
        static struct client clients[STORM_CLIENTS], after[1];
        static struct flood f;
        static atomic_bool storm_over;
        struct it_test *t = *state;
        struct harkd_options o = { 0 };
        struct harkd *h;
        int reloads;

        if (mode_is("sequential")) {
                print_message("sequential: the storm needs clients served side by side\n");
                skip();
        }
        it_journald_configure(t, SOAK_JOURNALD_CONF, SOAK_STORE_SIZE);
        h = start_harkd(t, &o);
        atomic_store(&storm_over, false);
        f = (struct flood) { .h = h,
                             .lines = STORM_LINES,
                             .pause_ms = STORM_FLOOD_MS / (STORM_LINES / CHUNK_LINES),
                             .hold_last_until = &storm_over };
        clients_start(clients, STORM_CLIENTS, 0, &f);
        sighup_storm(h, &o);
        atomic_store(&storm_over, true);
        clients_finish(clients, STORM_CLIENTS);

        /* Every reload event in harkd's log is older than this marker. */
        journal_catch_up(h->identifier);
        reloads = reloads_done(h);
        print_message("%s: %d SIGHUPs made %d reloads\n", it_mode, STORM_SIGNALS, reloads);
        assert_true(reloads >= 1 && reloads <= STORM_SIGNALS);
        assert_int_equal(reloads_logged(h, "Failed to reload configuration", NULL), 0);

        /* Still serving and reloading. */
        f.pause_ms = 0;
        f.hold_last_until = NULL;
        clients_start(after, 1, STORM_CLIENTS, &f);
        clients_finish(after, 1);
        assert_int_equal(harkd_signal(h, SIGHUP), 0);
        if (!wait_for_reloads(h, reloads + 1, 10000))
                fail_msg("no reload within 10 s of a SIGHUP after the storm");
        stop_harkd(h);
        assert_journal_holds_each_line_once(h->identifier, STORM_CLIENTS + 1, STORM_LINES);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_soak),
        IT_TEST(test_sighup_storm),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "soak",
                .per_mode = IT_TESTS(per_mode),
        });
}
