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
 * like a line of loadgen without its newline.
 *
 * With --syslog the entries are those harkd writes for `loadgen --syslog ID
 * --size BYTES` (the bench's workload S): the parsed RFC 5424 fields, the
 * structured data as SD_META_32473_SEQ/CONN, MESSAGE = the frame's MSG, and
 * the messages spread over --connections N (default 100) as loadgen sends
 * them (REMOTE_PORT and HARK_CONNECTION per connection): journald's ceiling
 * for entries of that shape, 13 fields instead of 6.
 *
 * --field NAME=VALUE (up to 8 times) adds a field to every entry: the bench's
 * TLS workload T adds the client certificate's REMOTE_TLS_SUBJECT and
 * REMOTE_TLS_SHA256, as harkd does for a certified client. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

/* The MSG part of loadgen's --syslog frame of `size` bytes (see format_frame()
 * in loadgen.c; keep the two in step), NUL-terminated in msg. */
static void syslog_msg(char *msg, size_t room, const char *app, unsigned long size, unsigned long conn,
                       unsigned long seq) {
        char head[512];
        size_t len = 0, head_len;
        int n;

        /* MSG-LEN counts what follows "MSG-LEN SP". */
        for (size_t digits = 1; digits <= 9 && !len; digits++) {
                size_t candidate = size > digits + 1 ? size - digits - 1 : 0;
                char probe[16];

                if (candidate > 0 && (size_t) snprintf(probe, sizeof(probe), "%zu", candidate) == digits)
                        len = candidate;
        }
        n = snprintf(head, sizeof(head),
                     "<134>1 2026-12-02T01:02:03.456789+00:00 benchhost %s 1234 ID47 "
                     "[meta@32473 seq=\"%lu\" conn=\"%lu\"] ",
                     app, seq, conn);
        head_len = n > 0 && (size_t) n < len ? (size_t) n : 0;
        n = snprintf(msg, room, "bench %lu %lu ", conn, seq);
        if (n < 0 || (size_t) n >= room)
                return;
        while ((size_t) n < len - head_len && (size_t) n + 1 < room)
                msg[n++] = 'x';
        msg[n] = '\0';
}

#define EXTRA_MAX 8

/* --field: added to every entry. */
static struct iovec extra[EXTRA_MAX];
static int n_extra;

static double mono(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double tv_seconds(struct timeval tv) {
        return (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
}

/* The fields harkd writes for one line of loadgen (6). */
static int send_line(const char *ident, unsigned long size, unsigned long seq) {
        char message[4096 + 8];
        struct iovec iov[6 + EXTRA_MAX];
        /* "MESSAGE=" + the line loadgen would send, without its '\n'. */
        int n = snprintf(message, sizeof(message), "MESSAGE=bench 0 %lu ", seq);

        memset(message + n, 'x', 8 + size - 1 - (size_t) n);
        iov[0] = (struct iovec) { message, 8 + size - 1 };
        iov[1] = (struct iovec) { (char *) "PRIORITY=6", 10 };
        iov[2] = (struct iovec) { (char *) ident, strlen(ident) };
        iov[3] = (struct iovec) { (char *) "REMOTE_ADDR=127.0.0.1", 21 };
        iov[4] = (struct iovec) { (char *) "REMOTE_PORT=40000", 17 };
        iov[5] = (struct iovec) { (char *) "HARK_CONNECTION=1", 17 };
        memcpy(iov + 6, extra, sizeof(extra[0]) * (size_t) n_extra);
        return sd_journal_sendv(iov, 6 + n_extra);
}

/* The fields harkd writes for one frame of `loadgen --syslog` (13): message
 * number seq of the run goes to connection seq % connections, as the
 * connections of the workload interleave. */
static int send_syslog(const char *app, const char *ident, unsigned long size, unsigned long connections,
                       unsigned long seq) {
        unsigned long conn = seq % connections, nr = seq / connections;
        char message[4096 + 8], sd_seq[64], sd_conn[64], port[32], id[48];
        struct iovec iov[13 + EXTRA_MAX];
        int i = 0;

        memcpy(message, "MESSAGE=", 8);
        syslog_msg(message + 8, sizeof(message) - 8, app, size, conn, nr);
        snprintf(sd_seq, sizeof(sd_seq), "SD_META_32473_SEQ=%lu", nr);
        snprintf(sd_conn, sizeof(sd_conn), "SD_META_32473_CONN=%lu", conn);
        snprintf(port, sizeof(port), "REMOTE_PORT=%lu", 40000 + conn);
        snprintf(id, sizeof(id), "HARK_CONNECTION=%lu", conn + 1);
#define FIELD(s) iov[i++] = (struct iovec) { (char *) (s), strlen(s) }
        FIELD(message);
        FIELD("PRIORITY=6");
        FIELD("SYSLOG_FACILITY=16");
        FIELD(ident);
        FIELD("SYSLOG_PID=1234");
        FIELD("SYSLOG_MSGID=ID47");
        FIELD("SYSLOG_TIMESTAMP=2026-12-02T01:02:03.456789+00:00");
        FIELD("SYSLOG_HOSTNAME=benchhost");
        FIELD(sd_seq);
        FIELD(sd_conn);
        FIELD("REMOTE_ADDR=127.0.0.1");
        FIELD(port);
        FIELD(id);
#undef FIELD
        memcpy(iov + i, extra, sizeof(extra[0]) * (size_t) n_extra);
        return sd_journal_sendv(iov, i + n_extra);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "identifier", required_argument, NULL, 'i' },
                { "messages", required_argument, NULL, 'n' },
                { "size", required_argument, NULL, 's' },
                { "syslog", no_argument, NULL, 'S' },
                { "connections", required_argument, NULL, 'c' },
                { "field", required_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        static const char usage[] =
                "Usage: ceiling --identifier ID [--messages K] [--size 40..4096] [--syslog [--connections N]]\n"
                "               [--field NAME=VALUE]...\n";
        const char *identifier = NULL;
        unsigned long messages = 100000, size = 100, errors = 0, connections = 100;
        char ident[300];
        bool syslog = false;
        struct timespec rt;
        struct rusage ru;
        uint64_t start_us;
        double t0, seconds;
        int c;

        while ((c = getopt_long(argc, argv, "i:n:s:Sc:f:h", options, NULL)) != -1)
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
                case 'S':
                        syslog = true;
                        break;
                case 'c':
                        connections = strtoul(optarg, NULL, 10);
                        break;
                case 'f':
                        /* journald takes upper-case letters, digits and '_' before the '='. */
                        if (n_extra == EXTRA_MAX || !strchr(optarg, '=') || optarg[0] == '=' ||
                            strspn(optarg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strcspn(optarg, "=")) {
                                fprintf(stderr, "%s", usage);
                                return 2;
                        }
                        extra[n_extra++] = (struct iovec) { optarg, strlen(optarg) };
                        break;
                case 'h':
                        printf("%s", usage);
                        return 0;
                default:
                        return 2;
                }
        /* --syslog: the identifier is the frame's APP-NAME, at most 48 bytes. */
        if (!identifier || strlen(identifier) > (syslog ? 48 : 255) || messages < 1 || size < 40 || size > 4096 ||
            connections < 1) {
                fprintf(stderr, "%s", usage);
                return 2;
        }

        snprintf(ident, sizeof(ident), "SYSLOG_IDENTIFIER=%s", identifier);
        clock_gettime(CLOCK_REALTIME, &rt);
        start_us = (uint64_t) rt.tv_sec * 1000000u + (uint64_t) rt.tv_nsec / 1000u;
        t0 = mono();
        for (unsigned long seq = 0; seq < messages; seq++) {
                int r = syslog ? send_syslog(identifier, ident, size, connections, seq)
                               : send_line(ident, size, seq);

                if (r < 0)
                        errors++;
        }
        seconds = mono() - t0;
        getrusage(RUSAGE_SELF, &ru);
        printf("result messages=%lu errors=%lu start_us=%" PRIu64 " seconds=%.3f cpu_user=%.3f cpu_sys=%.3f\n",
               messages, errors, start_us, seconds, tv_seconds(ru.ru_utime), tv_seconds(ru.ru_stime));
        return errors ? 1 : 0;
}
