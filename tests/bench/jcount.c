/* jcount: counts the journal entries of one SYSLOG_IDENTIFIER, waiting for
 * them to arrive.
 *
 *   jcount --identifier ID [--expect N] [--timeout SECONDS] [--settle SECONDS]
 *
 * Reads the local journal from its start and follows it until N entries are
 * there, or no new one arrived for --settle seconds (default 5), or --timeout
 * (default 60) passed. Prints "result count=C first_us=F last_us=L waited_s=W":
 * first_us/last_us are the __REALTIME_TIMESTAMP (when journald received them)
 * of the earliest and latest entry, 0 when none. Exit status 0 when C == N
 * (or no N was given), 1 otherwise, 2 for usage or journal errors.
 *
 * --check-syslog: once counting ends, reads every counted entry again and
 * checks that it holds what the RFC 5424 frame of `loadgen --syslog` carried,
 * parsed (PRIORITY, SYSLOG_FACILITY, SYSLOG_PID, SYSLOG_MSGID,
 * SYSLOG_HOSTNAME, SYSLOG_TIMESTAMP, the structured data as
 * SD_META_32473_SEQ/CONN, MESSAGE = "bench <conn> <seq> x..." agreeing with
 * them, REMOTE_ADDR), and that no (conn, seq) came twice. Adds
 * "checked=K bad=B duplicates=D" to the result line; the first bad entry is
 * described on stderr. The second pass runs after the last entry was
 * stamped, so it does not slow what is measured.
 *
 * --check-lines: the same second pass for loadgen's plain lines: MESSAGE is
 * "bench <conn> <seq> x...", no (conn, seq) twice. --check-field NAME=VALUE
 * (up to 4 times; implies --check-lines without --check-syslog): every
 * counted entry carries that field with that value as well (workload T:
 * the client certificate's REMOTE_TLS_SUBJECT and REMOTE_TLS_SHA256). */
#include <errno.h>
#include <stdbool.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

#define CHECK_FIELDS_MAX 4

struct check {
        bool syslog;            /* the entries are parsed RFC 5424 frames, else lines */
        const char *fields[CHECK_FIELDS_MAX];   /* NAME=VALUE each entry must hold */
        size_t n_fields;
        uint64_t *keys;         /* conn << 32 | seq of every good entry */
        size_t n_keys, cap;
        unsigned long long checked, bad, duplicates;
};

/* The value of FIELD in the current entry, NUL-terminated in buf; NULL when absent. */
static const char *field(sd_journal *j, const char *name, char *buf, size_t size) {
        const void *data;
        size_t len, skip = strlen(name) + 1;

        if (sd_journal_get_data(j, name, &data, &len) < 0 || len < skip)
                return NULL;
        len -= skip;
        if (len >= size)
                len = size - 1;
        memcpy(buf, (const char *) data + skip, len);
        buf[len] = '\0';
        return buf;
}

/* NULL when the entry carries the parsed frame, else what is wrong with it. */
static const char *check_entry(sd_journal *j, unsigned long *conn, unsigned long *seq) {
        static const char *const fixed[][2] = {
                { "PRIORITY", "6" },
                { "SYSLOG_FACILITY", "16" },
                { "SYSLOG_PID", "1234" },
                { "SYSLOG_MSGID", "ID47" },
                { "SYSLOG_HOSTNAME", "benchhost" },
                { "SYSLOG_TIMESTAMP", "2026-12-02T01:02:03.456789+00:00" },
                { "REMOTE_ADDR", "127.0.0.1" },
        };
        static char why[128];
        char buf[512], prefix[64];
        const char *v;
        int n;

        for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
                v = field(j, fixed[i][0], buf, sizeof(buf));
                if (!v || strcmp(v, fixed[i][1]) != 0) {
                        snprintf(why, sizeof(why), "%s=%s, not %s", fixed[i][0], v ? v : "(absent)", fixed[i][1]);
                        return why;
                }
        }
        v = field(j, "SD_META_32473_SEQ", buf, sizeof(buf));
        if (!v || sscanf(v, "%lu", seq) != 1)
                return "no SD_META_32473_SEQ";
        v = field(j, "SD_META_32473_CONN", buf, sizeof(buf));
        if (!v || sscanf(v, "%lu", conn) != 1)
                return "no SD_META_32473_CONN";
        n = snprintf(prefix, sizeof(prefix), "bench %lu %lu x", *conn, *seq);
        v = field(j, "MESSAGE", buf, sizeof(buf));
        if (!v || strncmp(v, prefix, (size_t) n) != 0) {
                snprintf(why, sizeof(why), "MESSAGE does not start with \"%s\"", prefix);
                return why;
        }
        return NULL;
}

/* NULL when MESSAGE is loadgen's line "bench <conn> <seq> x...", else why not. */
static const char *check_line(sd_journal *j, unsigned long *conn, unsigned long *seq) {
        char buf[512];
        const char *v = field(j, "MESSAGE", buf, sizeof(buf));
        int n = 0;

        if (!v || sscanf(v, "bench %lu %lu x%n", conn, seq, &n) != 2 || n == 0)
                return "MESSAGE is not a line of loadgen";
        return NULL;
}

/* NULL when the entry holds every --check-field, else which it lacks. */
static const char *check_fields(sd_journal *j, const struct check *k) {
        static char why[768];
        char name[128], buf[512];

        for (size_t i = 0; i < k->n_fields; i++) {
                size_t len = strcspn(k->fields[i], "=");
                const char *v;

                snprintf(name, sizeof(name), "%.*s", (int) len, k->fields[i]);
                v = field(j, name, buf, sizeof(buf));
                if (!v || strcmp(v, k->fields[i] + len + 1) != 0) {
                        snprintf(why, sizeof(why), "%s=%s, not %s", name, v ? v : "(absent)", k->fields[i] + len + 1);
                        return why;
                }
        }
        return NULL;
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

/* The second pass (--check-syslog, --check-lines) over the entries that matched. */
static int check_all(sd_journal *j, struct check *k) {
        int r = sd_journal_seek_head(j);

        while (r >= 0 && (r = sd_journal_next(j)) > 0) {
                unsigned long conn = 0, seq = 0;
                const char *why = k->syslog ? check_entry(j, &conn, &seq) : check_line(j, &conn, &seq);

                if (!why)
                        why = check_fields(j, k);

                k->checked++;
                if (why) {
                        if (!k->bad++)
                                fprintf(stderr, "jcount: entry %llu: %s\n", k->checked, why);
                        continue;
                }
                if (k->n_keys == k->cap) {
                        size_t cap = k->cap ? 2 * k->cap : 4096;
                        uint64_t *keys = realloc(k->keys, cap * sizeof(*keys));

                        if (!keys)
                                return -ENOMEM;
                        k->keys = keys;
                        k->cap = cap;
                }
                k->keys[k->n_keys++] = (uint64_t) conn << 32 | (seq & 0xffffffffu);
        }
        if (r < 0)
                return r;
        qsort(k->keys, k->n_keys, sizeof(*k->keys), cmp_u64);
        for (size_t i = 1; i < k->n_keys; i++)
                k->duplicates += k->keys[i] == k->keys[i - 1];
        return 0;
}

static double mono(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "identifier", required_argument, NULL, 'i' },
                { "expect", required_argument, NULL, 'n' },
                { "timeout", required_argument, NULL, 't' },
                { "settle", required_argument, NULL, 's' },
                { "check-syslog", no_argument, NULL, 'c' },
                { "check-lines", no_argument, NULL, 'l' },
                { "check-field", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *identifier = NULL;
        unsigned long long expect = 0, count = 0;
        double timeout = 60, settle = 5, t0, last_progress;
        uint64_t first_us = 0, last_us = 0;
        char match[300];
        sd_journal *j = NULL;
        struct check k = { 0 };
        bool check = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "i:n:t:s:clf:h", options, NULL)) != -1)
                switch (c) {
                case 'i':
                        identifier = optarg;
                        break;
                case 'n':
                        expect = strtoull(optarg, NULL, 10);
                        break;
                case 't':
                        timeout = strtod(optarg, NULL);
                        break;
                case 's':
                        settle = strtod(optarg, NULL);
                        break;
                case 'c':
                        check = k.syslog = true;
                        break;
                case 'l':
                        check = true;
                        break;
                case 'f':
                        if (k.n_fields == CHECK_FIELDS_MAX || !strchr(optarg, '=') || optarg[0] == '=') {
                                fprintf(stderr, "jcount: --check-field NAME=VALUE, at most %d times\n", CHECK_FIELDS_MAX);
                                return 2;
                        }
                        k.fields[k.n_fields++] = optarg;
                        check = true;
                        break;
                case 'h':
                        printf("Usage: jcount --identifier ID [--expect N] [--timeout S] [--settle S]\n"
                               "              [--check-syslog | --check-lines] [--check-field NAME=VALUE]...\n");
                        return 0;
                default:
                        return 2;
                }
        if (!identifier || strlen(identifier) > 255 || !(timeout >= 0) || !(settle >= 0)) {
                fprintf(stderr, "Usage: jcount --identifier ID [--expect N] [--timeout S] [--settle S]\n");
                return 2;
        }
        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", identifier);
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r >= 0)
                r = sd_journal_add_match(j, match, 0);
        if (r >= 0)
                r = sd_journal_seek_head(j);
        if (r < 0) {
                fprintf(stderr, "jcount: cannot read the journal: %s\n", strerror(-r));
                return 2;
        }

        t0 = last_progress = mono();
        for (;;) {
                unsigned long long before = count;
                double now;

                while ((r = sd_journal_next(j)) > 0) {
                        uint64_t t;

                        count++;
                        if (sd_journal_get_realtime_usec(j, &t) >= 0) {
                                if (first_us == 0 || t < first_us)
                                        first_us = t;
                                if (t > last_us)
                                        last_us = t;
                        }
                }
                if (r < 0) {
                        fprintf(stderr, "jcount: reading the journal failed: %s\n", strerror(-r));
                        break;
                }
                now = mono();
                if (count > before)
                        last_progress = now;
                if ((expect > 0 && count >= expect) || now - t0 >= timeout || now - last_progress >= settle)
                        break;
                r = sd_journal_wait(j, 100000);
                if (r < 0) {
                        fprintf(stderr, "jcount: waiting for the journal failed: %s\n", strerror(-r));
                        break;
                }
        }
        printf("result count=%llu first_us=%" PRIu64 " last_us=%" PRIu64 " waited_s=%.3f", count, first_us,
               last_us, mono() - t0);
        if (check && r >= 0) {
                r = check_all(j, &k);
                if (r < 0)
                        fprintf(stderr, "jcount: checking the entries failed: %s\n", strerror(-r));
                printf(" checked=%llu bad=%llu duplicates=%llu", k.checked, k.bad, k.duplicates);
        }
        printf("\n");
        free(k.keys);
        sd_journal_close(j);
        if (r < 0)
                return 2;
        return (expect == 0 || count == expect) && !k.bad && !k.duplicates ? 0 : 1;
}
