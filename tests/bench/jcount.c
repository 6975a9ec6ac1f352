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
 * (or no N was given), 1 otherwise, 2 for usage or journal errors. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>
#include <time.h>

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
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *identifier = NULL;
        unsigned long long expect = 0, count = 0;
        double timeout = 60, settle = 5, t0, last_progress;
        uint64_t first_us = 0, last_us = 0;
        char match[300];
        sd_journal *j = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "i:n:t:s:h", options, NULL)) != -1)
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
                case 'h':
                        printf("Usage: jcount --identifier ID [--expect N] [--timeout S] [--settle S]\n");
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
        printf("result count=%llu first_us=%" PRIu64 " last_us=%" PRIu64 " waited_s=%.3f\n", count, first_us,
               last_us, mono() - t0);
        sd_journal_close(j);
        if (r < 0)
                return 2;
        return expect == 0 || count == expect ? 0 : 1;
}
