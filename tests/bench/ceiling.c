/* ceiling: journald's own ceiling for the benchmark. Sends K entries straight
 * to the journal with sd_journal_sendv(), with the fields harkd writes for a
 * TCP peer (MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, REMOTE_ADDR, REMOTE_PORT,
 * HARK_CONNECTION), from one process in a tight loop.
 *
 *   ceiling --identifier ID [--messages K] [--size BYTES]
 *
 * Prints "result messages=K errors=E start_us=T seconds=S cpu_user=U cpu_sys=Y":
 * start_us is the CLOCK_REALTIME of the first send (to compare with the journal
 * timestamp of the last entry, see jcount), seconds the time the loop took,
 * cpu_* this process's CPU time (getrusage). MESSAGE is BYTES - 1 bytes long,
 * like a line of loadgen without its newline. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

static double mono(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double tv_seconds(struct timeval tv) {
        return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "identifier", required_argument, NULL, 'i' },
                { "messages", required_argument, NULL, 'n' },
                { "size", required_argument, NULL, 's' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *identifier = NULL;
        unsigned long messages = 100000, size = 100, errors = 0;
        char message[4096 + 8], ident[300];
        struct iovec iov[6];
        struct timespec rt;
        struct rusage ru;
        uint64_t start_us;
        double t0, seconds;
        int c;

        while ((c = getopt_long(argc, argv, "i:n:s:h", options, NULL)) != -1)
                switch (c) {
                case 'i':
                        identifier = optarg;
                        break;
                case 'n':
                        messages = strtoul(optarg, NULL, 10);
                        break;
                case 's':
                        size = strtoul(optarg, NULL, 10);
                        break;
                case 'h':
                        printf("Usage: ceiling --identifier ID [--messages K] [--size BYTES]\n");
                        return 0;
                default:
                        return 2;
                }
        if (!identifier || strlen(identifier) > 255 || messages < 1 || size < 40 || size > 4096) {
                fprintf(stderr, "Usage: ceiling --identifier ID [--messages K] [--size 40..4096]\n");
                return 2;
        }

        snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", identifier);
        iov[1] = (struct iovec) { (char *) "PRIORITY=6", 10 };
        iov[2] = (struct iovec) { ident, strlen(ident) };
        iov[3] = (struct iovec) { (char *) "REMOTE_ADDR=127.0.0.1", 21 };
        iov[4] = (struct iovec) { (char *) "REMOTE_PORT=40000", 17 };
        iov[5] = (struct iovec) { (char *) "HARK_CONNECTION=1", 17 };

        clock_gettime(CLOCK_REALTIME, &rt);
        start_us = (uint64_t) rt.tv_sec * 1000000u + (uint64_t) rt.tv_nsec / 1000u;
        t0 = mono();
        for (unsigned long seq = 0; seq < messages; seq++) {
                /* "MESSAGE=" + the line loadgen would send, without its '\n'. */
                int n = snprintf(message, sizeof(message), "MESSAGE=bench 0 %lu ", seq);

                memset(message + n, 'x', 8 + size - 1 - (size_t) n);
                iov[0] = (struct iovec) { message, 8 + size - 1 };
                if (sd_journal_sendv(iov, 6) < 0)
                        errors++;
        }
        seconds = mono() - t0;
        getrusage(RUSAGE_SELF, &ru);
        printf("result messages=%lu errors=%lu start_us=%" PRIu64 " seconds=%.3f cpu_user=%.3f cpu_sys=%.3f\n",
               messages, errors, start_us, seconds, tv_seconds(ru.ru_utime), tv_seconds(ru.ru_stime));
        return errors ? 1 : 0;
}
