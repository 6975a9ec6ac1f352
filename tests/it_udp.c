/* Syslog over UDP against a real harkd and the real journal: util-linux
 * logger --udp and an rsyslog relay (omfwd protocol="udp") as senders,
 * IPv6 and the dual-stack wildcard, datagrams of every awkward size, a
 * flood beside a trickle under udp_rate_per_source, the allow list, the
 * kernel's drops made on purpose and counted exactly, reload and stop.
 *
 * Loopback has a whole /8: a socket bound to 127.0.0.2 is another source
 * than one from 127.0.0.1, for the allow list and for the rate limit.
 * Nothing confirms a datagram, so every count here is read back: from the
 * journal, from STATUS= (harkd's sd_notify, every 2 s) and from the reports
 * harkd logs about what it dropped.
 *
 * The per-mode tests run in every concurrency mode (one UDP thread reads
 * beside each driver; fork mode forks children while it runs); the others
 * are about the UDP thread alone and run once, in epoll mode, or name the
 * modes they need. Tests that stop journald run one after another. */
#include "support.h"
#include "support-syslog.h"

#include "events.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define JOURNAL_TIMEOUT_MS 10000
/* STATUS= comes every 2 s. */
#define STATUS_TIMEOUT_MS 8000
/* harkd's bound on a stop: the drain (5 s) and its grace (2 s). */
#define STOP_BOUND_MS 7000
/* The largest UDP payloads: IPv4 (65,535 - 20 - 8), IPv6 (65,535 - 8). */
#define UDP4_MAX 65507
#define UDP6_MAX 65527

/* ---- harkd with a UDP listener ------------------------------------------------- */

struct udp_options {
        const char *mode;               /* NULL: it_mode */
        const char *host;               /* NULL: 127.0.0.1 */
        int max_message_size;           /* 0: harkd's default */
        const char *settings;           /* more lines of harkd.conf */
};

/* A harkd started with a UDP listener, and what its config says of it. */
struct udp_harkd {
        struct harkd *h;
        int port;                       /* udp_port */
        char extra[1024];               /* harkd_options.extra, kept for rewrites */
};

static void udp_config(struct udp_harkd *u, const char *settings) {
        snprintf(u->extra, sizeof(u->extra), "%s", settings ? settings : "");
}

/* Starts t->harkd[i] with a UDP listener on a free port (another one when
 * the picked port was taken meanwhile). */
static struct harkd *start_udp(struct it_test *t, size_t i, const struct udp_options *o, struct udp_harkd *u) {
        struct harkd *h;

        udp_config(u, o->settings);
        h = it_test_harkd(t, i, &(struct harkd_options) {
                .mode = o->mode, .host = o->host, .max_message_size = o->max_message_size,
                .extra = u->extra, .second_port_key = "udp_port", .second_port_udp = true });
        u->h = h;
        u->port = h->second_port;
        return h;
}

/* The config's settings lines replaced (udp_port kept), then SIGHUP:
 * returns once the count-th reload is done. */
static void reload_udp(struct udp_harkd *u, const char *settings, size_t count) {
        struct harkd *h = u->h;
        struct harkd_options o = h->options;
        char pid[32];
        const char *const reloaded[] = { harkd_pid_match(h, pid, sizeof(pid)), "MESSAGE_ID=" EVENT_RELOADED, NULL };

        udp_config(u, settings);
        o.extra = u->extra;
        h->second_port = u->port;
        assert_int_equal(harkd_write_config(h, &o), 0);
        assert_int_equal(harkd_signal(h, SIGHUP), 0);
        if (it_harkd_events(reloaded, NULL, count, 3000, NULL) != (int) count)
                fail_msg("reload %zu was not logged", count);
        assert_int_equal(harkd_wait_notify(h, "READY=1", 3000, NULL, 0), 0);
}

/* ---- senders ------------------------------------------------------------------- */

/* A datagram socket from source (an address; NULL: any) connected to
 * target:port, kept for teardown. */
static int udp_open(struct it_test *t, const char *source, const char *target, int port) {
        struct addrinfo hints = { .ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
        struct addrinfo *to, *from;
        char service[16];
        int fd;

        snprintf(service, sizeof(service), "%d", port);
        assert_int_equal(getaddrinfo(target, service, &hints, &to), 0);
        fd = socket(to->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        it_test_keep_fd(t, fd);
        if (source) {
                assert_int_equal(getaddrinfo(source, NULL, &hints, &from), 0);
                if (bind(fd, from->ai_addr, from->ai_addrlen) < 0)
                        fail_msg("cannot bind a datagram socket to %s: %s", source, strerror(errno));
                freeaddrinfo(from);
        }
        if (connect(fd, to->ai_addr, to->ai_addrlen) < 0)
                fail_msg("cannot connect a datagram socket to %s port %d: %s", target, port, strerror(errno));
        freeaddrinfo(to);
        return fd;
}

static void udp_send(int fd, const void *data, size_t size) {
        ssize_t n = send(fd, data, size, 0);

        if (n < 0)
                fail_msg("send of a %zu-byte datagram: %s", size, strerror(errno));
        if ((size_t) n != size)
                fail_msg("send of a %zu-byte datagram sent %zd bytes", size, n);
}

static void udp_send_str(int fd, const char *text) {
        udp_send(fd, text, strlen(text));
}

static void udp_sendf(int fd, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void udp_sendf(int fd, const char *format, ...) {
        char text[512];
        va_list ap;

        va_start(ap, format);
        vsnprintf(text, sizeof(text), format, ap);
        va_end(ap);
        udp_send_str(fd, text);
}

/* logger --udp -n host -P port with the further arguments (up to a NULL);
 * asserts that it exits 0 and writes nothing. */
static void logger_udp(const char *host, int port, ...) __attribute__((sentinel));
static void logger_udp(const char *host, int port, ...) {
        char *argv[32], port_text[16];
        struct it_proc p;
        size_t n = 0;
        va_list ap;

        snprintf(port_text, sizeof(port_text), "%d", port);
        argv[n++] = (char *) it_require_program("logger", "bsdutils");
        argv[n++] = (char *) "--udp";
        argv[n++] = (char *) "-n";
        argv[n++] = (char *) host;
        argv[n++] = (char *) "-P";
        argv[n++] = port_text;
        va_start(ap, port);
        for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *)) {
                assert_true(n < 31);
                argv[n++] = (char *) a;
        }
        va_end(ap);
        argv[n] = NULL;
        assert_int_equal(it_run(argv, NULL, 0, 10000, &p), 0);
        if (it_exit_code(&p) != 0 || p.out_len > 0 || p.err_len > 0) {
                fprintf(stderr, "logger: stdout: %s\nstderr: %s\n", p.out, p.err);
                it_proc_free(&p);
                fail_msg("logger --udp did not send cleanly");
        }
        it_proc_free(&p);
}

/* ---- reading back -------------------------------------------------------------- */

/* The entries of h (its identifier: raw messages) that also match the
 * given "FIELD=value" (up to a NULL), waiting for at least expected. */
static int entries_of(const struct harkd *h, size_t expected, int timeout_ms, struct it_entries *out, ...)
        __attribute__((sentinel));
static int entries_of(const struct harkd *h, size_t expected, int timeout_ms, struct it_entries *out, ...) {
        char identifier[128];
        const char *matches[8] = { identifier };
        size_t n = 1;
        va_list ap;

        snprintf(identifier, sizeof(identifier), "SYSLOG_IDENTIFIER=%s", h->identifier);
        va_start(ap, out);
        for (const char *m = va_arg(ap, const char *); m; m = va_arg(ap, const char *)) {
                assert_true(n < 7);
                matches[n++] = m;
        }
        va_end(ap);
        matches[n] = NULL;
        return it_journal_collect(matches, expected, timeout_ms, out);
}

/* How many entries of h came from address (REMOTE_ADDR), waiting for at
 * least expected. */
static int count_from(const struct harkd *h, const char *address, size_t expected, int timeout_ms) {
        char match[80];
        struct it_entries e;
        int n;

        snprintf(match, sizeof(match), "REMOTE_ADDR=%s", address);
        n = entries_of(h, expected, timeout_ms, &e, match, NULL);
        it_entries_free(&e);
        return n;
}

static bool message_is(const struct it_entry *e, const void *data, size_t size) {
        size_t length;
        const char *m = it_entry_field(e, "MESSAGE", &length);

        return m && length == size && memcmp(m, data, size) == 0;
}

/* The counters of one STATUS= line. */
struct status {
        unsigned long long logged, truncated, not_allowed, failed, datagrams, over_rate, kernel;
        char text[1024];
};

/* The number just before label in text (", 12 truncated"). */
static bool number_before(const char *text, const char *label, unsigned long long *value) {
        const char *p = strstr(text, label), *start;

        if (!p || p == text)
                return false;
        start = p;
        while (start > text && isdigit((unsigned char) start[-1]))
                start--;
        if (start == p)
                return false;
        *value = strtoull(start, NULL, 10);
        return true;
}

static bool parse_status(const char *message, struct status *s) {
        const char *line = strstr(message, "STATUS=");
        size_t n;

        if (!line)
                return false;
        n = strcspn(line, "\n");
        snprintf(s->text, sizeof(s->text), "%.*s", (int) n, line);
        return number_before(s->text, " messages logged", &s->logged) &&
               number_before(s->text, " truncated", &s->truncated) &&
               number_before(s->text, " not allowed", &s->not_allowed) &&
               number_before(s->text, " not delivered", &s->failed) &&
               number_before(s->text, " datagrams", &s->datagrams) &&
               number_before(s->text, " over the UDP rate", &s->over_rate) &&
               number_before(s->text, " dropped by the kernel", &s->kernel);
}

/* Whether every datagram harkd received is accounted for: logged, over the
 * rate, not allowed, failed, or one of the `ignored` that were empty. */
static bool status_settled(const struct status *s, unsigned long long ignored) {
        return s->datagrams == s->logged + s->over_rate + s->not_allowed + s->failed + ignored;
}

/* Waits for a STATUS= whose datagrams and kernel drops add up to sent and
 * that is settled; fails printing the last one after timeout_ms. */
static void wait_status(struct harkd *h, unsigned long long sent, unsigned long long ignored, struct status *s) {
        long long deadline = it_now_ms() + STATUS_TIMEOUT_MS * (it_sanitized() ? 2 : 1);
        char message[4096];

        memset(s, 0, sizeof(*s));
        for (;;) {
                int r = harkd_wait_notify(h, "STATUS=*", it_ms_left(deadline), message, sizeof(message));

                if (r == 0 && !parse_status(message, s))
                        fail_msg("STATUS= without the expected counters: %s", message);
                if (r == 0 && s->datagrams + s->kernel == sent && status_settled(s, ignored))
                        return;
                if (r == 0 && s->datagrams + s->kernel > sent)
                        fail_msg("%llu datagrams sent, harkd counts more: %s", sent, s->text);
                if (r != 0)
                        fail_msg("no STATUS= accounting for %llu datagrams sent (%llu ignored as empty) within "
                                 "%d ms; the last: %s",
                                 sent, ignored, STATUS_TIMEOUT_MS, s->text[0] ? s->text : "(none)");
        }
}

/* The reports of harkd (pid match, taken while it ran) with MESSAGE_ID id
 * and, if given, REMOTE_ADDR=address, after its "stopped" event: the
 * counts they give (the first number of each MESSAGE after word) added up. */
static unsigned long long reported(const char *pid, const char *id, const char *address, const char *word,
                                   size_t *n_reports) {
        char message_id[64], source[80];
        const char *const stopped[] = { pid, "MESSAGE_ID=" EVENT_STOPPED, NULL };
        const char *matches[] = { pid, message_id, address ? source : NULL, NULL };
        unsigned long long sum = 0;
        struct it_entries e;

        snprintf(message_id, sizeof(message_id), "MESSAGE_ID=%s", id);
        snprintf(source, sizeof(source), "REMOTE_ADDR=%s", address ? address : "");
        if (it_harkd_events(stopped, NULL, 1, JOURNAL_TIMEOUT_MS, NULL) != 1)
                fail_msg("harkd's \"stopped\" event is not in the journal");
        /* Written before the "stopped" event, on the same socket: there by now. */
        it_harkd_events(matches, NULL, 0, 0, &e);
        for (size_t i = 0; i < e.n; i++) {
                const char *m = it_entry_field(&e.v[i], "MESSAGE", NULL);
                const char *p = m ? strstr(m, word) : NULL;

                if (!p || !isdigit((unsigned char) p[strlen(word)])) {
                        it_entries_print(&e);
                        fail_msg("a report without a count after \"%s\"", word);
                }
                sum += strtoull(p + strlen(word), NULL, 10);
        }
        *n_reports = e.n;
        it_entries_free(&e);
        return sum;
}

static bool ipv6_loopback(void) {
        int port = it_free_udp_port(AF_INET6);

        if (port < 0)
                print_message("no IPv6 loopback (::1) here (%s): skipping this IPv6 case\n", strerror(-port));
        return port >= 0;
}

/* ---- per mode ------------------------------------------------------------------ */

/* logger --udp in both syslog forms: one datagram each, the header's
 * fields mapped, HARK_TRANSPORT=udp, no HARK_CONNECTION. */
static void test_logger(void **state) {
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h = start_udp(t, 0, &(struct udp_options) { 0 }, &u);
        const char *const specs_3164[] = {
                "MESSAGE=rfc 3164 over udp", "PRIORITY=4", "SYSLOG_FACILITY=19", "SYSLOG_PID=4711",
                "SYSLOG_TIMESTAMP", "SYSLOG_HOSTNAME", "HARK_TRANSPORT=udp", "!HARK_CONNECTION", NULL,
        };
        const char *const specs_5424[] = {
                "MESSAGE=rfc 5424 over udp", "PRIORITY=3", "SYSLOG_FACILITY=3", "SYSLOG_PID=4712",
                "SYSLOG_MSGID=ID42", "SYSLOG_TIMESTAMP", "SYSLOG_HOSTNAME", "SD_TIMEQUALITY_TZKNOWN=1",
                "SD_TIMEQUALITY_ISSYNCED~[01]", "HARK_TRANSPORT=udp", "!HARK_CONNECTION", NULL,
        };
        struct it_entries e;
        char tag[64], identifier[96];

        it_unique_identifier(tag, sizeof(tag));
        snprintf(identifier, sizeof(identifier), "SYSLOG_IDENTIFIER=%s", tag);
        logger_udp("127.0.0.1", u.port, "--rfc3164", "-t", tag, "--id=4711", "-p", "local3.warning",
                   "rfc 3164 over udp", NULL);
        logger_udp("127.0.0.1", u.port, "--rfc5424", "-t", tag, "--id=4712", "--msgid", "ID42", "-p", "daemon.err",
                   "rfc 5424 over udp", NULL);
        it_syslog_entries(tag, NULL, 2, &e);
        for (size_t i = 0; i < e.n; i++)
                if (message_is(&e.v[i], "rfc 3164 over udp", 17))
                        it_assert_syslog_entry(&e, i, specs_3164);
                else
                        it_assert_syslog_entry(&e, i, specs_5424);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* TCP connections held open (fork mode: a child each) while datagrams come
 * in between their lines: every line confirmed and logged as tcp with its
 * connection, every datagram logged as udp from its port. */
static void test_tcp_beside_udp(void **state) {
        enum { CONNECTIONS = 8, LINES = 40, PER_LINE = 3, DATAGRAMS = CONNECTIONS * LINES * PER_LINE };
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h = start_udp(t, 0, &(struct udp_options) { 0 }, &u);
        int sender = udp_open(t, "127.0.0.1", "127.0.0.1", u.port), fds[CONNECTIONS];
        char port[32];
        static bool seen[DATAGRAMS];
        struct it_entries e;
        unsigned k = 0;

        snprintf(port, sizeof(port), "REMOTE_PORT=%d", it_local_port(sender));
        for (int c = 0; c < CONNECTIONS; c++)
                fds[c] = it_test_connect(t, h->host, h->port);
        for (int l = 0; l < LINES; l++)
                for (int c = 0; c < CONNECTIONS; c++) {
                        char line[64];

                        snprintf(line, sizeof(line), "tcp %d %d\n", c, l);
                        assert_int_equal(it_send_str(fds[c], line), 0);
                        for (int d = 0; d < PER_LINE; d++, k++)
                                udp_sendf(sender, "udp %u", k);
                }
        for (int c = 0; c < CONNECTIONS; c++) {
                uint64_t confirmed;

                assert_int_equal(it_finish(fds[c], &confirmed, 15000), 0);
                assert_int_equal(confirmed, LINES);
                it_test_close(t, fds[c]);
        }
        assert_int_equal(entries_of(h, CONNECTIONS * LINES, JOURNAL_TIMEOUT_MS, &e, "HARK_TRANSPORT=tcp", NULL),
                         CONNECTIONS * LINES);
        for (size_t i = 0; i < e.n; i++) {
                assert_non_null(it_entry_field(&e.v[i], "HARK_CONNECTION", NULL));
                it_assert_field(&e.v[i], "REMOTE_ADDR", "127.0.0.1");
        }
        it_entries_free(&e);
        if (entries_of(h, DATAGRAMS, JOURNAL_TIMEOUT_MS, &e, "HARK_TRANSPORT=udp", NULL) != DATAGRAMS)
                fail_msg("%zu of %d datagrams in the journal", e.n, DATAGRAMS);
        memset(seen, 0, sizeof(seen));
        for (size_t i = 0; i < e.n; i++) {
                const char *m = it_entry_field(&e.v[i], "MESSAGE", NULL);
                unsigned n = 0;

                assert_null(it_entry_field(&e.v[i], "HARK_CONNECTION", NULL));
                it_assert_field(&e.v[i], "REMOTE_ADDR", "127.0.0.1");
                it_assert_field(&e.v[i], "REMOTE_PORT", port + strlen("REMOTE_PORT="));
                if (!m || sscanf(m, "udp %u", &n) != 1 || n >= DATAGRAMS || seen[n])
                        fail_msg("datagram entry [%zu] \"%s\": not one of those sent, or twice", i, m ? m : "");
                seen[n] = true;
        }
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* harkd frozen (SIGSTOP to its process group) while datagrams queue on its
 * socket, SIGTERM, then thawed: it reads what was queued before it exits 0,
 * and logs all of it. */
static void test_stop_logs_what_is_queued(void **state) {
        enum { QUEUED = 400 };
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h = start_udp(t, 0, &(struct udp_options) { 0 }, &u);
        int sender = udp_open(t, "127.0.0.1", "127.0.0.1", u.port), status;
        struct it_entries e;
        long long began;

        udp_send_str(sender, "before the freeze");
        assert_int_equal(entries_of(h, 1, JOURNAL_TIMEOUT_MS, &e, NULL), 1);
        it_entries_free(&e);
        assert_int_equal(harkd_signal_all(h, SIGSTOP), 0);
        for (int i = 0; i < QUEUED; i++)
                udp_sendf(sender, "queued %d", i);
        assert_int_equal(harkd_signal(h, SIGTERM), 0);
        began = it_now_ms();
        assert_int_equal(harkd_signal_all(h, SIGCONT), 0);
        status = harkd_wait(h, STOP_BOUND_MS + 3000);
        it_assert_exited_0(status, "harkd");
        if (it_now_ms() - began > STOP_BOUND_MS + (it_sanitized() ? 3000 : 1000))
                fail_msg("harkd took %lld ms to stop", it_now_ms() - began);
        if (entries_of(h, 1 + QUEUED, JOURNAL_TIMEOUT_MS, &e, NULL) != 1 + QUEUED)
                fail_msg("%zu of %d datagrams queued at the stop were logged", e.n - 1, QUEUED);
        for (size_t i = 1; i < e.n; i++) {
                char text[32];

                snprintf(text, sizeof(text), "queued %zu", i - 1);
                if (!message_is(&e.v[i], text, strlen(text))) {
                        it_entries_print(&e);
                        fail_msg("entry [%zu] is not \"%s\"", i, text);
                }
        }
        it_entries_free(&e);
        assert_false(harkd_sanitizer_report(h));
}

/* ---- once: real relays, addresses, sizes --------------------------------------- */

/* rsyslogd with two imtcp inputs relaying over UDP (omfwd protocol="udp"):
 * one in its traditional form (RFC 3164), one as RFC 5424
 * (RSYSLOG_SyslogProtocol23Format). */
static void write_rsyslog_config(const char *dir, int traditional, int protocol23, int harkd_port) {
        char path[300], text[3072];

        snprintf(text, sizeof(text),
                 "# written by the hark integration tests\n"
                 "global(workDirectory=\"%s/work\" processInternalMessages=\"on\")\n"
                 "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
                 "module(load=\"imtcp\")\n"
                 "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"traditional\")\n"
                 "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"protocol23\")\n"
                 "ruleset(name=\"traditional\") {\n"
                 "        action(type=\"omfwd\" target=\"127.0.0.1\" port=\"%d\" protocol=\"udp\")\n"
                 "}\n"
                 "ruleset(name=\"protocol23\") {\n"
                 "        action(type=\"omfwd\" target=\"127.0.0.1\" port=\"%d\" protocol=\"udp\"\n"
                 "               template=\"RSYSLOG_SyslogProtocol23Format\")\n"
                 "}\n"
                 "*.* action(type=\"omfile\" file=\"%s/internal.log\")\n",
                 dir, traditional, protocol23, harkd_port, harkd_port, dir);
        snprintf(path, sizeof(path), "%s/rsyslog.conf", dir);
        assert_int_equal(it_write_file(path, text), 0);
}

/* Starts rsyslogd relaying to harkd_port over UDP; returns once both of
 * its inputs listen (r->port the traditional one, *protocol23 the other). */
static void rsyslog_udp_start(struct it_test *t, struct it_relay *r, int harkd_port, int *protocol23) {
        const char *rsyslogd = it_require_program("rsyslogd", "rsyslog");
        char conf[300];

        memset(r, 0, sizeof(*r));
        r->name = "rsyslogd";
        it_tmp_path(r->dir, sizeof(r->dir), "rsyslogd-udp", ".d");
        assert_int_equal(mkdir(r->dir, 0700), 0);
        snprintf(r->log_path, sizeof(r->log_path), "%s/stderr", r->dir);
        snprintf(r->pid_path, sizeof(r->pid_path), "%s/pid", r->dir);
        snprintf(r->work_path, sizeof(r->work_path), "%s/work", r->dir);
        snprintf(r->internal_path, sizeof(r->internal_path), "%s/internal.log", r->dir);
        snprintf(conf, sizeof(conf), "%s/rsyslog.conf", r->dir);
        assert_int_equal(mkdir(r->work_path, 0700), 0);
        r->port = it_free_port(AF_INET);
        do
                *protocol23 = it_free_port(AF_INET);
        while (*protocol23 == r->port);
        write_rsyslog_config(r->dir, r->port, *protocol23, harkd_port);
        char *const argv[] = { (char *) rsyslogd, (char *) "-n", (char *) "-f", conf, (char *) "-i", r->pid_path, NULL };
        r->pid = it_spawn(argv, NULL, r->log_path, false);
        assert_true(r->pid > 0);
        it_test_keep_pid(t, r->pid);
        it_wait_listening(r->port, r->pid, r->log_path, 5000);
        it_wait_listening(*protocol23, r->pid, r->log_path, 5000);
}

static void test_rsyslog_relay(void **state) {
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll" }, &u);
        struct it_relay r, other;
        struct it_entries e;
        char tag[64], input[1024];
        int protocol23;

        it_unique_identifier(tag, sizeof(tag));
        rsyslog_udp_start(t, &r, u.port, &protocol23);
        snprintf(input, sizeof(input),
                 "<131>Dec  1 10:00:00 relayhost %s[100]: traditional, local0.err\n"
                 "<14>Dec  1 10:00:01 relayhost %s: traditional, user.info, no pid\n",
                 tag, tag);
        it_relay_send(t, &r, input);
        other = r;
        other.port = protocol23;
        snprintf(input, sizeof(input), "<165>Dec  1 10:00:02 relayhost %s[300]: as RFC 5424, local4.notice\n", tag);
        it_relay_send(t, &other, input);
        it_syslog_entries(tag, NULL, 3, &e);
        it_relay_stop(t, &r);
        for (size_t i = 0; i < e.n; i++) {
                const char *m = it_entry_field(&e.v[i], "MESSAGE", NULL);
                const char *specs[16] = { "HARK_TRANSPORT=udp", "!HARK_CONNECTION", "SYSLOG_HOSTNAME=relayhost",
                                          "SYSLOG_TIMESTAMP" };
                size_t n = 4;

                assert_non_null(m);
                if (strcmp(m, "traditional, local0.err") == 0) {
                        specs[n++] = "PRIORITY=3";
                        specs[n++] = "SYSLOG_FACILITY=16";
                        specs[n++] = "SYSLOG_PID=100";
                } else if (strcmp(m, "traditional, user.info, no pid") == 0) {
                        specs[n++] = "PRIORITY=6";
                        specs[n++] = "SYSLOG_FACILITY=1";
                        specs[n++] = "!SYSLOG_PID";
                } else if (strcmp(m, "as RFC 5424, local4.notice") == 0) {
                        specs[n++] = "PRIORITY=5";
                        specs[n++] = "SYSLOG_FACILITY=20";
                        specs[n++] = "SYSLOG_PID=300";
                        specs[n++] = "SYSLOG_TIMESTAMP~[0-9][0-9][0-9][0-9]-12-01T10:00:02*";
                } else {
                        it_entries_print_all(&e);
                        fail_msg("an entry not relayed: \"%s\"", m);
                }
                specs[n] = NULL;
                it_assert_syslog_entry(&e, i, specs);
        }
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* host = "::1": datagrams from ::1, the largest IPv6 payload whole. */
static void test_ipv6(void **state) {
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h;
        struct it_entries e;
        char *big, port[16];
        int fd;

        if (!ipv6_loopback())
                skip();
        h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll", .host = "::1", .max_message_size = 65536 }, &u);
        fd = udp_open(t, "::1", "::1", u.port);
        snprintf(port, sizeof(port), "%d", it_local_port(fd));
        udp_send_str(fd, "over ipv6");
        big = malloc(UDP6_MAX);
        assert_non_null(big);
        for (size_t i = 0; i < UDP6_MAX; i++)
                big[i] = (char) ('a' + i % 26);
        udp_send(fd, big, UDP6_MAX);
        assert_int_equal(entries_of(h, 2, JOURNAL_TIMEOUT_MS, &e, NULL), 2);
        assert_true(message_is(&e.v[0], "over ipv6", 9));
        if (!message_is(&e.v[1], big, UDP6_MAX))
                fail_msg("the %d-byte IPv6 datagram did not land whole", UDP6_MAX);
        for (size_t i = 0; i < 2; i++) {
                it_assert_field(&e.v[i], "REMOTE_ADDR", "::1");
                it_assert_field(&e.v[i], "REMOTE_PORT", port);
                it_assert_field(&e.v[i], "HARK_TRANSPORT", "udp");
                assert_null(it_entry_field(&e.v[i], "HARK_TRUNCATED", NULL));
        }
        free(big);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* host = "::": an IPv4 sender lands as 127.0.0.x (not ::ffff:127.0.0.x),
 * is matched as IPv4 by the allow list and named so by the rate limit's
 * report; ::1 beside it. */
static void test_dual_stack(void **state) {
        enum { RATE = 5, SENT = 20 };
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h;
        struct it_entries e;
        char settings[256], pid[32], *v6only;
        size_t length = 0, n_reports, mapped;
        unsigned long long dropped;
        struct status s;
        bool dual;
        int v4, v6, stranger, noisy;

        if (!ipv6_loopback())
                skip();
        v6only = it_read_file("/proc/sys/net/ipv6/bindv6only", &length);
        dual = length > 0 && v6only[0] == '0';
        free(v6only);
        if (!dual) {
                print_message("net.ipv6.bindv6only is set: \"::\" takes no IPv4; skipping\n");
                skip();
        }
        snprintf(settings, sizeof(settings),
                 "allow = [ \"127.0.0.1\", \"127.0.0.3\", \"::1\" ];\nudp_rate_per_source = %d;\n", RATE);
        h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll", .host = "::", .settings = settings }, &u);
        harkd_pid_match(h, pid, sizeof(pid));
        v4 = udp_open(t, "127.0.0.1", "127.0.0.1", u.port);
        v6 = udp_open(t, "::1", "::1", u.port);
        stranger = udp_open(t, "127.0.0.2", "127.0.0.1", u.port);
        noisy = udp_open(t, "127.0.0.3", "127.0.0.1", u.port);
        udp_send_str(v4, "ipv4 to the wildcard");
        udp_send_str(v6, "ipv6 to the wildcard");
        udp_send_str(stranger, "a stranger to the wildcard");
        for (int i = 0; i < SENT; i++)
                udp_sendf(noisy, "noisy %d", i);
        wait_status(h, 3 + SENT, 0, &s);
        assert_int_equal(s.not_allowed, 1);
        assert_true(s.over_rate >= SENT - RATE - 1 && s.over_rate <= SENT - RATE);
        assert_int_equal(count_from(h, "127.0.0.1", 1, JOURNAL_TIMEOUT_MS), 1);
        assert_int_equal(count_from(h, "::1", 1, JOURNAL_TIMEOUT_MS), 1);
        assert_int_equal(count_from(h, "127.0.0.2", 0, 100), 0);
        assert_int_equal((unsigned long long) count_from(h, "127.0.0.3", SENT - s.over_rate, JOURNAL_TIMEOUT_MS),
                         SENT - s.over_rate);
        assert_int_equal(entries_of(h, 0, 100, &e, "REMOTE_ADDR=::ffff:127.0.0.1", NULL), 0);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
        /* Named as its entries name it, never in the mapped spelling. */
        dropped = reported(pid, EVENT_UDP_RATE_LIMITED, "127.0.0.3", "Dropped ", &n_reports);
        reported(pid, EVENT_UDP_RATE_LIMITED, "::ffff:127.0.0.3", "Dropped ", &mapped);
        if (n_reports == 0 || mapped > 0)
                fail_msg("%zu rate limit reports name 127.0.0.3, %zu name ::ffff:127.0.0.3", n_reports, mapped);
        assert_int_equal(dropped, s.over_rate);
}

/* max_message_size = 1024: datagrams empty after the trim (0 bytes, a NUL,
 * LF, CRLF, CRLF NUL) are ignored; exactly 1024 bytes lands whole, also
 * with an LF after it; 1025 is cut to 1024 with HARK_TRUNCATED=1. */
static void test_sizes(void **state) {
        static const struct { const char *data; size_t size; } empty[] = {
                { "", 0 }, { "\0", 1 }, { "\n", 1 }, { "\r\n", 2 }, { "\r\n\0", 3 }, { "\n\0", 2 },
        };
        enum { MAX = 1024, N_EMPTY = sizeof(empty) / sizeof(empty[0]) };
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll", .max_message_size = MAX,
                                                                    .settings = "format = \"raw\";" }, &u);
        int fd = udp_open(t, NULL, "127.0.0.1", u.port);
        char exact[MAX + 1], over[MAX + 1];
        struct it_entries e;
        struct status s;

        for (size_t i = 0; i < N_EMPTY; i++)
                udp_send(fd, empty[i].data, empty[i].size);
        memset(exact, 'e', MAX);
        exact[MAX] = '\n';
        udp_send(fd, exact, MAX);
        udp_send(fd, exact, MAX + 1);
        memset(over, 'o', MAX + 1);
        udp_send(fd, over, MAX + 1);
        udp_send_str(fd, "after them\r\n");
        wait_status(h, N_EMPTY + 4, N_EMPTY, &s);
        assert_int_equal(s.logged, 4);
        assert_int_equal(s.truncated, 1);
        assert_int_equal(entries_of(h, 4, JOURNAL_TIMEOUT_MS, &e, NULL), 4);
        if (!message_is(&e.v[0], exact, MAX) || !message_is(&e.v[1], exact, MAX) || !message_is(&e.v[2], over, MAX) ||
            !message_is(&e.v[3], "after them", 10)) {
                it_entries_print(&e);
                fail_msg("not the messages sent, cut where expected");
        }
        for (size_t i = 0; i < 4; i++)
                if (i == 2)
                        it_assert_field(&e.v[i], "HARK_TRUNCATED", "1");
                else
                        assert_null(it_entry_field(&e.v[i], "HARK_TRUNCATED", NULL));
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* The largest IPv4 datagram (65,507 bytes) with max_message_size = 65536:
 * logged whole, in auto format (not syslog: it is raw); one byte under the
 * size: cut. */
static void test_largest_datagram(void **state) {
        struct it_test *t = *state;
        struct udp_harkd u, cut;
        struct harkd *h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll", .max_message_size = 65536 }, &u);
        struct harkd *small = start_udp(t, 1, &(struct udp_options) { .mode = "epoll", .max_message_size = UDP4_MAX - 1 },
                                        &cut);
        int fd = udp_open(t, NULL, "127.0.0.1", u.port), fd_cut = udp_open(t, NULL, "127.0.0.1", cut.port);
        char *big = malloc(UDP4_MAX);
        struct it_entries e;

        assert_non_null(big);
        for (size_t i = 0; i < UDP4_MAX; i++)
                big[i] = (char) ('A' + i % 26);
        udp_send(fd, big, UDP4_MAX);
        udp_send(fd_cut, big, UDP4_MAX);
        assert_int_equal(entries_of(h, 1, JOURNAL_TIMEOUT_MS, &e, NULL), 1);
        if (!message_is(&e.v[0], big, UDP4_MAX))
                fail_msg("the %d-byte datagram did not land whole", UDP4_MAX);
        assert_null(it_entry_field(&e.v[0], "HARK_TRUNCATED", NULL));
        it_entries_free(&e);
        assert_int_equal(entries_of(small, 1, JOURNAL_TIMEOUT_MS, &e, NULL), 1);
        if (!message_is(&e.v[0], big, UDP4_MAX - 1))
                fail_msg("the %d-byte datagram was not cut to %d", UDP4_MAX, UDP4_MAX - 1);
        it_assert_field(&e.v[0], "HARK_TRUNCATED", "1");
        it_entries_free(&e);
        free(big);
        it_assert_harkd_stops(h, 5000);
        it_assert_harkd_stops(small, 5000);
}

/* format = "raw": every byte value survives, NULs inside included; only
 * one trailing NUL goes (a sender's terminator). */
static void test_binary(void **state) {
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll", .settings = "format = \"raw\";" },
                                    &u);
        int fd = udp_open(t, NULL, "127.0.0.1", u.port);
        unsigned char all[256 + 3];
        static const char nul_inside[] = "a\0b\0\0c";
        struct it_entries e;

        /* 0x01 .. 0xff and 0x00 in the middle, ended by "x\0\0": one NUL trimmed. */
        for (int i = 0; i < 256; i++)
                all[i] = (unsigned char) (i + 1);
        all[256] = 'x';
        all[257] = 0;
        all[258] = 0;
        udp_send(fd, all, sizeof(all));
        udp_send(fd, nul_inside, sizeof(nul_inside) - 1);
        assert_int_equal(entries_of(h, 2, JOURNAL_TIMEOUT_MS, &e, NULL), 2);
        if (!message_is(&e.v[0], all, sizeof(all) - 1) || !message_is(&e.v[1], nul_inside, sizeof(nul_inside) - 1)) {
                it_entries_print(&e);
                fail_msg("binary datagrams did not land byte for byte");
        }
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* ---- once: limits and accounting ----------------------------------------------- */

/* allow = ["127.0.0.1"]: a datagram from 127.0.0.2 never lands, is counted
 * as not allowed, and its refusal is logged with its address. */
static void test_allow(void **state) {
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll", .settings = "allow = [ \"127.0.0.1\" ];" },
                                    &u);
        int friend = udp_open(t, "127.0.0.1", "127.0.0.1", u.port);
        int stranger = udp_open(t, "127.0.0.2", "127.0.0.1", u.port);
        char pid[32];
        const char *const refusals[] = { harkd_pid_match(h, pid, sizeof(pid)), "MESSAGE_ID=" EVENT_CONN_NOT_ALLOWED,
                                         "REMOTE_ADDR=127.0.0.2", NULL };
        struct it_entries e;
        struct status s;

        for (int i = 0; i < 3; i++)
                udp_sendf(stranger, "from a stranger %d", i);
        udp_send_str(friend, "from the allowed address");
        wait_status(h, 4, 0, &s);
        assert_int_equal(s.not_allowed, 3);
        assert_int_equal(s.logged, 1);
        assert_int_equal(entries_of(h, 1, JOURNAL_TIMEOUT_MS, &e, NULL), 1);
        assert_true(message_is(&e.v[0], "from the allowed address", 24));
        it_assert_field(&e.v[0], "REMOTE_ADDR", "127.0.0.1");
        it_entries_free(&e);
        if (it_harkd_events(refusals, NULL, 3, JOURNAL_TIMEOUT_MS, NULL) != 3)
                fail_msg("not every refused datagram was logged (3 in a second are under the event burst)");
        it_assert_harkd_stops(h, 5000);
}

/* 20,000 datagrams from 127.0.0.2 in 20 bursts over a second, 50 from
 * 127.0.0.3 among them, udp_rate_per_source = 1000: the trickle lands
 * whole, the flood is cut to about its burst and 1000 a second, and what
 * was cut is counted in STATUS= and reported for 127.0.0.2 alone. */
static void test_flood_beside_trickle(void **state) {
        enum { RATE = 1000, FLOOD = 20000, ROUNDS = 20, TRICKLE = 50, GAP_MS = 50 };
        struct it_test *t = *state;
        struct udp_harkd u;
        char settings[128], pid[32];
        struct harkd *h;
        int flood, trickle, k = 0, flooded;
        long long first, last, landed;
        double expected, low, high;
        unsigned long long dropped;
        size_t n_reports, none;
        struct status s;

        /* Room for the whole flood: the kernel must drop none of the trickle. */
        snprintf(settings, sizeof(settings), "udp_rate_per_source = %d;\nudp_receive_buffer = %d;\n", RATE, 64 << 20);
        h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll", .settings = settings }, &u);
        harkd_pid_match(h, pid, sizeof(pid));
        flood = udp_open(t, "127.0.0.2", "127.0.0.1", u.port);
        trickle = udp_open(t, "127.0.0.3", "127.0.0.1", u.port);
        first = it_now_ms();
        for (int r = 0; r < ROUNDS; r++) {
                if (r > 0)
                        it_sleep_ms(GAP_MS);
                for (int i = 0; i < FLOOD / ROUNDS; i++) {
                        udp_sendf(flood, "flood %d", r * (FLOOD / ROUNDS) + i);
                        if ((r * (FLOOD / ROUNDS) + i) % (FLOOD / TRICKLE) == FLOOD / TRICKLE / 2)
                                udp_sendf(trickle, "trickle %d", k++);
                }
        }
        last = it_now_ms();
        assert_int_equal(k, TRICKLE);
        if (count_from(h, "127.0.0.3", TRICKLE, JOURNAL_TIMEOUT_MS) != TRICKLE)
                fail_msg("the trickle did not land whole: %d of %d", count_from(h, "127.0.0.3", TRICKLE, 0), TRICKLE);
        landed = it_now_ms();
        wait_status(h, FLOOD + TRICKLE, 0, &s);
        assert_int_equal(s.kernel, 0);
        assert_int_equal(s.not_allowed, 0);
        flooded = count_from(h, "127.0.0.2", FLOOD - s.over_rate, JOURNAL_TIMEOUT_MS);
        assert_int_equal((unsigned long long) flooded, FLOOD - s.over_rate);
        /* The bucket starts full (RATE) and refills while the flood lasts;
         * harkd may read the last of it up to when the trickle had landed. */
        expected = RATE + RATE * (double) (last - first) / 1000;
        low = RATE + 0.5 * RATE * (double) (last - first) / 1000;
        high = RATE + RATE * (double) (landed - first) / 1000 + 2;
        print_message("flood: %d of %d logged in %lld ms (about %.0f expected), %llu over the rate; trickle %d of %d\n",
                      flooded, FLOOD, last - first, expected, s.over_rate, TRICKLE, TRICKLE);
        if (flooded < low || flooded > high)
                fail_msg("%d of the flood logged, expected %.0f to %.0f", flooded, low, high);
        it_assert_harkd_stops(h, 5000);
        dropped = reported(pid, EVENT_UDP_RATE_LIMITED, "127.0.0.2", "Dropped ", &n_reports);
        print_message("reports for 127.0.0.2: %zu, %llu datagrams in all\n", n_reports, dropped);
        assert_true(n_reports >= 1);
        assert_int_equal(dropped, s.over_rate);
        reported(pid, EVENT_UDP_RATE_LIMITED, "127.0.0.3", "Dropped ", &none);
        assert_int_equal(none, 0);
}

/* Drops made on purpose, every way, and counted exactly: a receive buffer
 * of 4096 bytes (a handful of datagrams), a source over its rate, one not
 * allowed, and then journald stopped while sources send bursts until
 * harkd blocks in a journal write, and the kernel drops what does not
 * fit. Sent = logged + over the rate + not allowed + dropped by the kernel,
 * by STATUS=, by the journal, and by the reports at the stop. */
static void test_drop_accounting(void **state) {
        enum { RATE = 200, NOISY = 600, STRANGER = 50, SOURCES = 10, BURST = 150, ROUNDS_MAX = 20 };
        struct it_test *t = *state;
        struct udp_harkd u;
        char settings[256], pid[32], needle[96];
        unsigned long long sent = 0, kernel_reported, rate_reported;
        size_t n_kernel, n_rate;
        struct it_entries e;
        struct harkd *h;
        struct status s;
        int noisy, stranger, marker, burst[SOURCES];

        it_journald_require_private();
        snprintf(settings, sizeof(settings),
                 "udp_rate_per_source = %d;\nudp_receive_buffer = 4096;\nallow = [ \"127.0.0.0/24\" ];\n", RATE);
        h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll", .settings = settings }, &u);
        harkd_pid_match(h, pid, sizeof(pid));
        snprintf(needle, sizeof(needle), "Listening on 127.0.0.1:%d (UDP, receive buffer 4096 bytes)", u.port);
        {
                const char *const listening[] = { pid, "MESSAGE_ID=" EVENT_LISTENING, NULL };

                if (it_harkd_events(listening, needle, 1, JOURNAL_TIMEOUT_MS, NULL) != 1)
                        fail_msg("harkd did not say \"%s\"", needle);
        }
        noisy = udp_open(t, "127.0.0.3", "127.0.0.1", u.port);
        stranger = udp_open(t, "127.1.0.2", "127.0.0.1", u.port);
        marker = udp_open(t, "127.0.0.250", "127.0.0.1", u.port);
        /* Over the rate, paced so that the buffer mostly keeps up. */
        for (int i = 0; i < NOISY; i++, sent++) {
                udp_sendf(noisy, "noisy %d", i);
                if (i % 10 == 9)
                        it_sleep_ms(2);
        }
        for (int i = 0; i < STRANGER; i++, sent++) {
                udp_sendf(stranger, "stranger %d", i);
                if (i % 5 == 4)
                        it_sleep_ms(2);
        }
        it_journald_stop(t);
        /* Rounds of bursts from sources new each round (buckets full) until
         * journald's socket queue is full and harkd waits on it. */
        for (int round = 0;; round++) {
                for (int k = 0; k < SOURCES; k++) {
                        char source[32];

                        snprintf(source, sizeof(source), "127.0.0.%d", 10 + round * SOURCES + k);
                        burst[k] = udp_open(t, source, "127.0.0.1", u.port);
                }
                for (int i = 0; i < BURST; i++)
                        for (int k = 0; k < SOURCES; k++, sent++)
                                udp_sendf(burst[k], "burst %d from %d of round %d", i, k, round);
                for (int k = 0; k < SOURCES; k++)
                        it_test_close(t, burst[k]);
                if (harkd_wait_journal_blocked(h, 200))
                        break;
                if (round == ROUNDS_MAX - 1)
                        fail_msg("harkd did not block writing to the stopped journald after %d rounds", ROUNDS_MAX);
        }
        it_journald_continue(t);
        /* A datagram after it all: once one lands, harkd has read what its
         * buffer held, and knows the kernel's drop count (SO_RXQ_OVFL). */
        for (int i = 0;; i++) {
                it_sleep_ms(100);
                udp_sendf(marker, "marker %d", i);
                sent++;
                if (count_from(h, "127.0.0.250", 1, 500) >= 1)
                        break;
                if (i == 20)
                        fail_msg("no marker datagram landed after journald went on");
        }
        wait_status(h, sent, 0, &s);
        print_message("sent %llu = %llu logged + %llu over the rate + %llu not allowed + %llu dropped by the kernel "
                      "(%llu not delivered)\n",
                      sent, s.logged, s.over_rate, s.not_allowed, s.kernel, s.failed);
        assert_int_equal(s.failed, 0);
        assert_true(s.kernel > 0);
        assert_true(s.over_rate > 0);
        assert_true(s.not_allowed > 0);
        assert_int_equal(entries_of(h, s.logged, JOURNAL_TIMEOUT_MS, &e, NULL), s.logged);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
        kernel_reported = reported(pid, EVENT_UDP_KERNEL_DROPS, NULL, "dropped ", &n_kernel);
        rate_reported = reported(pid, EVENT_UDP_RATE_LIMITED, NULL, "Dropped ", &n_rate);
        print_message("reported: %llu kernel drops in %zu reports, %llu over the rate in %zu\n", kernel_reported,
                      n_kernel, rate_reported, n_rate);
        assert_int_equal(kernel_reported, s.kernel);
        assert_int_equal(rate_reported, s.over_rate);
}

/* SIGHUP applies a new udp_rate_per_source to the datagrams after it:
 * 10 a second, none, then 2 a second. A new udp_port needs a restart: the
 * reload says so, and the old port keeps serving. Each phase ends with a
 * datagram from a source of its own (a full bucket): harkd reads one
 * socket in order, so once that one is in, the phase was read. */
static void test_reload_changes_rate(void **state) {
        enum { SENT = 50 };
        static const struct { int rate; const char *name; } phases[] = { { 10, "ten" }, { 0, "none" }, { 2, "two" } };
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll",
                                                                    .settings = "udp_rate_per_source = 10;" }, &u);
        int fd = udp_open(t, "127.0.0.1", "127.0.0.1", u.port);
        char identifier[128], pid[32];
        const char *const matches[] = { identifier, NULL };
        const char *const warned[] = { harkd_pid_match(h, pid, sizeof(pid)), NULL };
        long long quiet_since = 0;

        snprintf(identifier, sizeof(identifier), "SYSLOG_IDENTIFIER=%s", h->identifier);
        for (size_t p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
                int rate = phases[p].rate, low = rate ? rate : SENT, high, n;
                char settings[128], needle[32], source[32], end[32];
                struct it_entries e;
                long long began;

                if (p > 0) {
                        int port = u.port;

                        snprintf(settings, sizeof(settings), "udp_rate_per_source = %d;\n", rate);
                        /* The last reload asks for another udp_port as well; and
                         * comes a second after the source last met its bucket,
                         * which is full again then (the unlimited phase looks
                         * at no bucket). */
                        if (p == 2) {
                                u.port = port == 65535 ? port - 1 : port + 1;
                                it_sleep_ms(it_ms_left(quiet_since + 1100));
                        }
                        reload_udp(&u, settings, p);
                        u.port = port;
                }
                began = it_now_ms();
                for (int i = 0; i < SENT; i++)
                        udp_sendf(fd, "%s %d", phases[p].name, i);
                snprintf(source, sizeof(source), "127.0.0.%zu", 50 + p);
                snprintf(end, sizeof(end), "end of %s", phases[p].name);
                udp_send_str(udp_open(t, source, "127.0.0.1", u.port), end);
                if (count_from(h, source, 1, JOURNAL_TIMEOUT_MS) != 1)
                        fail_msg("the end of phase \"%s\" did not land", phases[p].name);
                /* Tokens for the time the phase took, rounded up. */
                high = rate ? rate + 1 + (int) ((it_now_ms() - began) * rate / 1000) : SENT;
                snprintf(needle, sizeof(needle), "%s ", phases[p].name);
                n = it_journal_collect_matching(matches, needle, 0, 0, &e);
                it_entries_free(&e);
                if (p == 0)
                        quiet_since = it_now_ms();
                print_message("udp_rate_per_source = %d: %d of %d logged\n", rate, n, SENT);
                if (n < low || n > high)
                        fail_msg("udp_rate_per_source = %d: %d of %d logged, expected %d to %d", rate, n, SENT, low,
                                 high);
        }
        if (it_harkd_events(warned, "Setting 'udp_port' changed", 1, JOURNAL_TIMEOUT_MS, NULL) != 1)
                fail_msg("the reload did not say that udp_port takes a restart");
        it_assert_harkd_stops(h, 5000);
}

/* journald stopped, harkd blocked writing to it with datagrams queued
 * behind: SIGTERM ends harkd within its bound, exit 0. */
static void test_stop_is_bounded(void **state) {
        struct it_test *t = *state;
        struct udp_harkd u;
        struct harkd *h;
        int fd, status;
        long long began, took;

        it_journald_require_private();
        h = start_udp(t, 0, &(struct udp_options) { .mode = "epoll" }, &u);
        fd = udp_open(t, "127.0.0.1", "127.0.0.1", u.port);
        it_journald_stop(t);
        for (int i = 0; i < 2000; i++)
                udp_sendf(fd, "blocked %d", i);
        if (!harkd_wait_journal_blocked(h, 5000))
                fail_msg("harkd did not block writing to the stopped journald");
        began = it_now_ms();
        assert_int_equal(harkd_signal(h, SIGTERM), 0);
        status = harkd_wait(h, STOP_BOUND_MS + 5000);
        took = it_now_ms() - began;
        it_journald_continue(t);
        it_assert_exited_0(status, "harkd");
        print_message("harkd stopped %lld ms after SIGTERM, blocked in a journal write\n", took);
        if (took > STOP_BOUND_MS + (it_sanitized() ? 3000 : 1000))
                fail_msg("harkd took %lld ms to stop (bound %d ms)", took, STOP_BOUND_MS);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_logger),
        IT_TEST(test_tcp_beside_udp),
        IT_TEST(test_stop_logs_what_is_queued),
};

static const struct CMUnitTest once[] = {
        IT_TEST(test_rsyslog_relay),
        IT_TEST(test_ipv6),
        IT_TEST(test_dual_stack),
        IT_TEST(test_sizes),
        IT_TEST(test_largest_datagram),
        IT_TEST(test_binary),
        IT_TEST(test_allow),
        IT_TEST(test_flood_beside_trickle),
        IT_TEST(test_drop_accounting),
        IT_TEST(test_reload_changes_rate),
        IT_TEST(test_stop_is_bounded),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "udp",
                /* The per-mode tests mostly wait on the journal and stop no
                 * journald; the ones that do are run once, after them. */
                .side_by_side = true,
                .per_mode = IT_TESTS(per_mode),
                .once = IT_TESTS(once),
        });
}
