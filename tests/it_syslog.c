/* Real syslog senders against a real harkd, in every concurrency mode:
 * util-linux logger, rsyslogd and syslog-ng relaying over TCP, Python's
 * logging.handlers.SysLogHandler; each entry read back from the journal
 * with the fields harkd maps from the syslog header. */
#include "support.h"
#include "support-syslog.h"

#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A timestamp as each shape is sent: RFC 3339 (logger, RFC 5424) and
 * RFC 3164's "Mmm dd hh:mm:ss" (day padded with a space). */
#define RFC3339 "[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]*"
#define RFC3164 "[A-Z][a-z][a-z] [ 123][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]"

/* The field specs of one entry (see it_assert_syslog_entry()), formatted. */
struct specs {
        char text[32][256];
        const char *v[33];
        size_t n;
};

static void spec(struct specs *s, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void spec(struct specs *s, const char *format, ...) {
        va_list ap;

        assert_true(s->n < 32);
        va_start(ap, format);
        vsnprintf(s->text[s->n], sizeof(s->text[0]), format, ap);
        va_end(ap);
        s->v[s->n] = s->text[s->n];
        s->v[++s->n] = NULL;
}

static void specs_reset(struct specs *s) {
        s->n = 0;
        s->v[0] = NULL;
}

/* The index of the one entry whose MESSAGE is text. */
static size_t entry_with_message(const struct it_entries *e, const char *text) {
        size_t found = e->n;

        for (size_t i = 0; i < e->n; i++) {
                size_t length;
                const char *m = it_entry_field(&e->v[i], "MESSAGE", &length);

                if (m && length == strlen(text) && memcmp(m, text, length) == 0) {
                        if (found < e->n)
                                fail_msg("\"%s\" is in the journal twice", text);
                        found = i;
                }
        }
        if (found == e->n) {
                it_entries_print_all(e);
                fail_msg("no entry with MESSAGE=%s", text);
        }
        return found;
}

/* Asserts the specs of s (the first "MESSAGE=...") on the entry with that
 * MESSAGE: entries of different connections may land in any order. */
static size_t assert_entry(const struct it_entries *e, const struct specs *s) {
        size_t i;

        assert_true(s->n > 0 && strncmp(s->v[0], "MESSAGE=", 8) == 0);
        i = entry_with_message(e, s->v[0] + 8);
        it_assert_syslog_entry(e, i, s->v);
        return i;
}

static struct harkd *start_harkd(struct it_test *t) {
        return it_test_harkd(t, 0, &(struct harkd_options) { 0 });
}

/* ---- util-linux logger ---- */

/* logger's default for a remote server: RFC 5424 ended by LF, with its
 * timeQuality element, user.notice. */
static void test_logger_plain(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s = { 0 };
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        it_logger(h->port, NULL, "-t", tag, "plain message", NULL);
        it_syslog_entries(tag, NULL, 1, &e);
        spec(&s, "MESSAGE=plain message");
        spec(&s, "PRIORITY=5");
        spec(&s, "SYSLOG_FACILITY=1");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "SYSLOG_HOSTNAME=%s", it_hostname(false));
        spec(&s, "SYSLOG_TIMESTAMP~" RFC3339);
        spec(&s, "!SYSLOG_PID");
        spec(&s, "!SYSLOG_MSGID");
        spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
        spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
        it_assert_syslog_entry(&e, 0, s.v);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

static void test_logger_rfc3164(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s = { 0 };
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        it_logger(h->port, NULL, "--rfc3164", "-t", tag, "--id=4711", "with a pid", NULL);
        it_logger(h->port, NULL, "--rfc3164", "-t", tag, "-p", "mail.err", "no pid: the tag ends with a colon", NULL);
        it_syslog_entries(tag, NULL, 2, &e);
        spec(&s, "MESSAGE=with a pid");
        spec(&s, "PRIORITY=5");
        spec(&s, "SYSLOG_FACILITY=1");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "SYSLOG_PID=4711");
        spec(&s, "SYSLOG_HOSTNAME=%s", it_hostname(true));
        spec(&s, "SYSLOG_TIMESTAMP~" RFC3164);
        spec(&s, "!SYSLOG_MSGID");
        assert_entry(&e, &s);
        specs_reset(&s);
        spec(&s, "MESSAGE=no pid: the tag ends with a colon");
        spec(&s, "PRIORITY=3");
        spec(&s, "SYSLOG_FACILITY=2");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "!SYSLOG_PID");
        spec(&s, "SYSLOG_HOSTNAME=%s", it_hostname(true));
        spec(&s, "SYSLOG_TIMESTAMP~" RFC3164);
        assert_entry(&e, &s);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

static void test_logger_rfc5424(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s = { 0 };
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        it_logger(h->port, NULL, "--rfc5424", "-t", tag, "--id=4711", "--msgid", "ID47", "-p", "daemon.crit",
                  "every header field", NULL);
        /* NILVALUEs for TIMESTAMP, HOSTNAME, STRUCTURED-DATA. */
        it_logger(h->port, NULL, "--rfc5424=notime,notq,nohost", "-t", tag, "nothing but the tag", NULL);
        it_syslog_entries(tag, NULL, 2, &e);
        spec(&s, "MESSAGE=every header field");
        spec(&s, "PRIORITY=2");
        spec(&s, "SYSLOG_FACILITY=3");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "SYSLOG_PID=4711");
        spec(&s, "SYSLOG_MSGID=ID47");
        spec(&s, "SYSLOG_HOSTNAME=%s", it_hostname(false));
        spec(&s, "SYSLOG_TIMESTAMP~" RFC3339);
        spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
        spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
        assert_entry(&e, &s);
        specs_reset(&s);
        spec(&s, "MESSAGE=nothing but the tag");
        spec(&s, "PRIORITY=5");
        spec(&s, "SYSLOG_FACILITY=1");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "!SYSLOG_PID");
        spec(&s, "!SYSLOG_MSGID");
        spec(&s, "!SYSLOG_HOSTNAME");
        spec(&s, "!SYSLOG_TIMESTAMP");
        assert_entry(&e, &s);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* Octet counting: a frame holds an LF, and is still one entry. */
static void test_logger_octet_count(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s = { 0 };
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        it_logger(h->port, NULL, "--octet-count", "-t", tag, "one frame", NULL);
        it_logger(h->port, NULL, "--octet-count", "-t", tag, "-p", "local7.debug", "two\nlines, one frame", NULL);
        it_syslog_entries(tag, NULL, 2, &e);
        spec(&s, "MESSAGE=one frame");
        spec(&s, "PRIORITY=5");
        spec(&s, "SYSLOG_FACILITY=1");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "SYSLOG_HOSTNAME=%s", it_hostname(false));
        spec(&s, "SYSLOG_TIMESTAMP~" RFC3339);
        spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
        spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
        assert_entry(&e, &s);
        specs_reset(&s);
        spec(&s, "MESSAGE=two\nlines, one frame");
        spec(&s, "PRIORITY=7");
        spec(&s, "SYSLOG_FACILITY=23");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
        spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
        assert_entry(&e, &s);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* Asserts that entry i's MESSAGE is a run of at least min and fewer than max
 * bytes c. */
static void assert_run_of(const struct it_entries *e, size_t i, char c, size_t min, size_t max) {
        size_t length;
        const char *m = it_entry_field(&e->v[i], "MESSAGE", &length);

        assert_non_null(m);
        for (size_t k = 0; k < length; k++)
                if (m[k] != c)
                        fail_msg("entry [%zu]: MESSAGE byte %zu is 0x%02x, not '%c'", i, k, (unsigned char) m[k], c);
        if (length < min || length >= max)
                fail_msg("entry [%zu]: MESSAGE of %zu bytes, expected %zu to %zu", i, length, min, max - 1);
}

/* A message longer than max_message_size, then a short one, over one
 * connection, in both framings: the long one is logged cut (its header
 * parsed), the short one after it whole: the octet framer skipped exactly
 * the rest of the long frame, the line framer the rest of the line. */
static void test_logger_longer_than_max(void **state) {
        enum { MAX = 1000, LONG = 3000 };
        static const char *const framings[] = { "--octet-count", "--rfc5424" };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_message_size = MAX });
        char tag[64], input[LONG + 64];
        struct it_entries e;
        struct specs s = { 0 };

        memset(input, 'A', LONG);
        snprintf(input + LONG, sizeof(input) - LONG, "\nafter the long one\n");
        for (size_t f = 0; f < 2; f++) {
                it_unique_identifier(tag, sizeof(tag));
                it_logger(h->port, input, framings[f], "-S", "10000", "-t", tag, NULL);
                it_syslog_entries(tag, NULL, 2, &e);
                specs_reset(&s);
                spec(&s, "PRIORITY=5");
                spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
                spec(&s, "SYSLOG_HOSTNAME=%s", it_hostname(false));
                spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
                spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
                spec(&s, "HARK_TRUNCATED=1");
                it_assert_syslog_entry(&e, 0, s.v);
                /* What the header left of the first MAX bytes. */
                assert_run_of(&e, 0, 'A', MAX - 200, MAX - 60);
                specs_reset(&s);
                spec(&s, "MESSAGE=after the long one");
                spec(&s, "PRIORITY=5");
                spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
                spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
                spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
                it_assert_syslog_entry(&e, 1, s.v);
                it_assert_one_connection(&e, 0, 2);
                it_entries_free(&e);
        }
        it_assert_harkd_stops(h, 5000);
}

/* --sd-id/--sd-param: SD_<ID>_<PARAM>, names mapped, escapes decoded. */
static void test_logger_structured_data(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s = { 0 };
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        it_logger(h->port, NULL, "-t", tag, "--sd-id", "zoo@32473", "--sd-param", "tiger=\"hungry\"", "--sd-param",
                  "in-stock=\"yes\"", "--sd-param", "zebra=\"stripes \\\"black\\\" \\\\ white \\] ok\"", "--sd-id",
                  "origin", "--sd-param", "ip=\"10.0.0.1\"", "--sd-param", "software=\"logger\"", "the animals",
                  NULL);
        it_syslog_entries(tag, NULL, 1, &e);
        spec(&s, "MESSAGE=the animals");
        spec(&s, "PRIORITY=5");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
        spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
        spec(&s, "SD_ZOO_32473_TIGER=hungry");
        spec(&s, "SD_ZOO_32473_IN_STOCK=yes");
        spec(&s, "SD_ZOO_32473_ZEBRA=stripes \"black\" \\ white ] ok");
        spec(&s, "SD_ORIGIN_IP=10.0.0.1");
        spec(&s, "SD_ORIGIN_SOFTWARE=logger");
        it_assert_syslog_entry(&e, 0, s.v);
        it_show_entry_json(&e.v[0]);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* The first example: found by journalctl -t myapp -p warning. */
static void test_logger_priority_and_tag(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s = { 0 };
        struct it_proc p;
        char token[64], message[128], bsd[128];

        it_unique_identifier(token, sizeof(token));
        snprintf(message, sizeof(message), "disk almost full %s", token);
        snprintf(bsd, sizeof(bsd), "disk almost full (RFC 3164) %s", token);
        it_logger(h->port, NULL, "-p", "local0.warning", "-t", "myapp", "--id=31337", message, NULL);
        it_logger(h->port, NULL, "--rfc3164", "-p", "local0.warning", "-t", "myapp", "--id=31338", bsd, NULL);
        it_syslog_entries("myapp", token, 2, &e);
        spec(&s, "MESSAGE=%s", message);
        spec(&s, "PRIORITY=4");
        spec(&s, "SYSLOG_FACILITY=16");
        spec(&s, "SYSLOG_IDENTIFIER=myapp");
        spec(&s, "SYSLOG_PID=31337");
        spec(&s, "SYSLOG_HOSTNAME=%s", it_hostname(false));
        spec(&s, "SYSLOG_TIMESTAMP~" RFC3339);
        spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
        spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
        assert_entry(&e, &s);
        specs_reset(&s);
        spec(&s, "MESSAGE=%s", bsd);
        spec(&s, "PRIORITY=4");
        spec(&s, "SYSLOG_FACILITY=16");
        spec(&s, "SYSLOG_IDENTIFIER=myapp");
        spec(&s, "SYSLOG_PID=31338");
        spec(&s, "SYSLOG_HOSTNAME=%s", it_hostname(true));
        spec(&s, "SYSLOG_TIMESTAMP~" RFC3164);
        assert_entry(&e, &s);
        it_show_entry_json(&e.v[entry_with_message(&e, message)]);
        it_entries_free(&e);

        /* What an admin types finds both. */
        char *const argv[] = { (char *) it_require_program("journalctl", "systemd"), (char *) "--no-pager",
                               (char *) "-o", (char *) "cat", (char *) "-t", (char *) "myapp", (char *) "-p",
                               (char *) "warning", NULL };
        assert_int_equal(it_run(argv, NULL, 0, 10000, &p), 0);
        assert_int_equal(it_exit_code(&p), 0);
        if (!strstr(p.out, message) || !strstr(p.out, bsd))
                fail_msg("journalctl -t myapp -p warning shows:\n%s", p.out);
        it_proc_free(&p);
        it_assert_harkd_stops(h, 5000);
}

/* seq 1 2000 | logger --octet-count: 2,000 frames, 2,000 entries, in order. */
static void test_logger_2000_frames(void **state) {
        enum { N = 2000 };
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s = { 0 };
        char tag[64], *input = malloc(N * 6);
        size_t used = 0;

        assert_non_null(input);
        for (int i = 1; i <= N; i++)
                used += (size_t) sprintf(input + used, "%d\n", i);
        it_unique_identifier(tag, sizeof(tag));
        it_logger(h->port, input, "--octet-count", "-t", tag, NULL);
        free(input);
        it_syslog_entries(tag, NULL, N, &e);
        spec(&s, "MESSAGE=");
        spec(&s, "PRIORITY=5");
        spec(&s, "SYSLOG_FACILITY=1");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
        spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
        for (int i = 0; i < N; i++) {
                snprintf(s.text[0], sizeof(s.text[0]), "MESSAGE=%d", i + 1);
                it_assert_syslog_entry(&e, (size_t) i, s.v);
        }
        it_assert_one_connection(&e, 0, N);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* ---- relays: rsyslogd, syslog-ng ---- */

/* What the tests inject into a relay's TCP input: RFC 3164 as a device
 * sends it, and one RFC 3339 timestamp; hosts other than this one. */
static void relay_input(char *buffer, size_t size, const char *tag) {
        snprintf(buffer, size,
                 "<132>Dec  1 10:00:00 webhost01 %s[42]: relayed from webhost01\n"
                 "<13>2026-12-01T10:00:01.5+01:00 webhost01 %s: second\n"
                 "<11>Dec  1 10:00:02 webhost02 %s: third, from webhost02\n",
                 tag, tag, tag);
}

/* The fields that survive any relay: priority, facility, tag, pid, host,
 * the text. */
static void relay_specs(struct specs *s, size_t i, const char *tag) {
        static const char *const messages[] = { "relayed from webhost01", "second", "third, from webhost02" };
        static const char *const priority[] = { "4", "5", "3" };
        static const char *const facility[] = { "16", "1", "1" };
        static const char *const host[] = { "webhost01", "webhost01", "webhost02" };

        specs_reset(s);
        spec(s, "MESSAGE=%s", messages[i]);
        spec(s, "PRIORITY=%s", priority[i]);
        spec(s, "SYSLOG_FACILITY=%s", facility[i]);
        spec(s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(s, "SYSLOG_HOSTNAME=%s", host[i]);
        if (i == 0)
                spec(s, "SYSLOG_PID=42");
        else
                spec(s, "!SYSLOG_PID");
        spec(s, "!SYSLOG_MSGID");
}

/* Starts rsyslogd forwarding to h with action_options, sends it the three
 * messages, and returns their entries (once each, in order, over one
 * connection) after stopping it. */
static void rsyslog_relay(struct it_test *t, struct harkd *h, const char *action_options, const char *tag,
                          struct it_entries *e) {
        struct it_relay r;
        char input[1024];

        it_rsyslog_start(t, &r, h->port, action_options);
        relay_input(input, sizeof(input), tag);
        it_relay_send(t, &r, input);
        it_syslog_entries(tag, NULL, 3, e);
        it_relay_stop(t, &r);
        it_assert_one_connection(e, 0, 3);
}

/* omfwd's default template, RSYSLOG_TraditionalForwardFormat: RFC 3164
 * lines ended by LF. */
static void test_rsyslog_traditional(void **state) {
        static const char *const stamps[] = { "Dec  1 10:00:00", "Dec  1 10:00:01", "Dec  1 10:00:02" };
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s;
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        rsyslog_relay(t, h, NULL, tag, &e);
        for (size_t i = 0; i < 3; i++) {
                relay_specs(&s, i, tag);
                spec(&s, "SYSLOG_TIMESTAMP=%s", stamps[i]);
                it_assert_syslog_entry(&e, i, s.v);
        }
        it_show_entry_json(&e.v[0]);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* RSYSLOG_SyslogProtocol23Format: RFC 5424 lines ended by LF. rsyslog's
 * msg property of an RFC 3164 message keeps the space after the tag's
 * colon, and the template puts it after the SP that ends the header:
 * "<132>1 2026-12-01T10:00:00+00:00 webhost01 TAG 42 - -  relayed ...".
 * harkd drops the spaces before MSG: the text lands as through the other
 * templates. */
static void test_rsyslog_protocol23(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s;
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        rsyslog_relay(t, h, "template=\"RSYSLOG_SyslogProtocol23Format\"", tag, &e);
        for (size_t i = 0; i < 3; i++) {
                relay_specs(&s, i, tag);
                /* rsyslog gives a timestamp without a year this year's. */
                if (i == 1)
                        spec(&s, "SYSLOG_TIMESTAMP=2026-12-01T10:00:01.5+01:00");
                else
                        spec(&s, "SYSLOG_TIMESTAMP~[0-9][0-9][0-9][0-9]-12-01T10:00:0%zu*", i);
                it_assert_syslog_entry(&e, i, s.v);
        }
        it_show_entry_json(&e.v[0]);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* TCP_Framing="octet-counted" with RFC 5424: each frame ends with the LF
 * of the template; and RFC 5424 structured data relayed, journal@hark
 * names included. */
static void test_rsyslog_octet_counted(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct it_relay r;
        struct specs s;
        char tag[64], input[1024], sd[512];

        it_unique_identifier(tag, sizeof(tag));
        it_rsyslog_start(t, &r, h->port, "template=\"RSYSLOG_SyslogProtocol23Format\" TCP_Framing=\"octet-counted\"");
        relay_input(input, sizeof(input), tag);
        snprintf(sd, sizeof(sd),
                 "<165>1 2026-12-01T10:00:03.25Z webhost01 %s 77 ORDER [journal@hark ORDER_ID=\"4711\" "
                 "PRIORITY=\"0\"][zoo@32473 tiger=\"hungry \\\"now\\\"\"] with structured data\n",
                 tag);
        strcat(input, sd);
        it_relay_send(t, &r, input);
        it_syslog_entries(tag, NULL, 4, &e);
        it_relay_stop(t, &r);
        it_assert_one_connection(&e, 0, 4);
        for (size_t i = 0; i < 3; i++) {
                relay_specs(&s, i, tag);
                it_assert_syslog_entry(&e, i, s.v);
        }
        specs_reset(&s);
        spec(&s, "MESSAGE=with structured data");
        spec(&s, "PRIORITY=5");
        spec(&s, "SYSLOG_FACILITY=20");
        spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
        spec(&s, "SYSLOG_PID=77");
        spec(&s, "SYSLOG_MSGID=ORDER");
        spec(&s, "SYSLOG_HOSTNAME=webhost01");
        spec(&s, "SYSLOG_TIMESTAMP~2026-12-01T10:00:03*");
        spec(&s, "ORDER_ID=4711");
        /* PRIORITY is not a sender's to set: under the SD_ scheme instead. */
        spec(&s, "SD_JOURNAL_HARK_PRIORITY=0");
        spec(&s, "SD_ZOO_32473_TIGER=hungry \"now\"");
        it_assert_syslog_entry(&e, 3, s.v);
        it_show_entry_json(&e.v[3]);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* Starts syslog-ng with destination (a printf format taking harkd's port),
 * sends it the three messages; their entries, over one connection. */
static void syslog_ng_relay(struct it_test *t, struct harkd *h, const char *destination_format, const char *tag,
                            struct it_entries *e) {
        struct it_relay r;
        char destination[256], input[1024];

        snprintf(destination, sizeof(destination), destination_format, h->port);
        it_syslog_ng_start(t, &r, destination);
        relay_input(input, sizeof(input), tag);
        it_relay_send(t, &r, input);
        it_syslog_entries(tag, NULL, 3, e);
        it_relay_stop(t, &r);
        it_assert_one_connection(e, 0, 3);
}

/* network(): RFC 3164 lines ended by LF. */
static void test_syslog_ng_network(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s;
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        syslog_ng_relay(t, h, "network(\"127.0.0.1\" port(%d) transport(\"tcp\"))", tag, &e);
        for (size_t i = 0; i < 3; i++) {
                relay_specs(&s, i, tag);
                /* The second one's time in this machine's zone. */
                spec(&s, "SYSLOG_TIMESTAMP~Dec  1 [0-2][0-9]:00:0%zu", i);
                it_assert_syslog_entry(&e, i, s.v);
        }
        it_show_entry_json(&e.v[0]);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* syslog(): RFC 5424 in octet-counted frames, each ending with an LF. */
static void test_syslog_ng_syslog(void **state) {
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s;
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        syslog_ng_relay(t, h, "syslog(\"127.0.0.1\" port(%d) transport(\"tcp\"))", tag, &e);
        for (size_t i = 0; i < 3; i++) {
                relay_specs(&s, i, tag);
                spec(&s, "SYSLOG_TIMESTAMP~[0-9][0-9][0-9][0-9]-12-01T*:00:0%zu*", i);
                it_assert_syslog_entry(&e, i, s.v);
        }
        it_show_entry_json(&e.v[0]);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* ---- Python ---- */

/* argv: port, tag. Three records with the handler's ident, then one through
 * a formatter in the "tag[pid]: " convention on another handler, facility
 * local3; prints its pid. */
static const char python_records[] =
        "import logging, logging.handlers, os, socket, sys\n"
        "port, tag = int(sys.argv[1]), sys.argv[2]\n"
        "log = logging.getLogger('hark-it')\n"
        "log.setLevel(logging.DEBUG)\n"
        "log.propagate = False\n"
        "def handler(**kw):\n"
        "    return logging.handlers.SysLogHandler(address=('127.0.0.1', port), socktype=socket.SOCK_STREAM, **kw)\n"
        "h = handler()\n"
        "h.ident = tag + ': '\n"
        "log.addHandler(h)\n"
        "log.warning('first record')\n"
        "log.error('second record: %s', 'an error')\n"
        "log.info('third record')\n"
        "log.removeHandler(h)\n"
        "h.close()\n"
        "h = handler(facility=logging.handlers.SysLogHandler.LOG_LOCAL3)\n"
        "h.setFormatter(logging.Formatter(tag + '[%(process)d]: %(message)s'))\n"
        "log.addHandler(h)\n"
        "log.debug('fourth record')\n"
        "log.removeHandler(h)\n"
        "h.close()\n"
        "print(os.getpid())\n";

static void test_python(void **state) {
        static const char *const messages[] = { "first record", "second record: an error", "third record",
                                                "fourth record" };
        static const char *const priority[] = { "4", "3", "6", "7" };
        struct it_test *t = *state;
        struct harkd *h = start_harkd(t);
        struct it_entries e;
        struct specs s;
        char tag[64], port[16], log[256], *out;
        pid_t pid;

        it_unique_identifier(tag, sizeof(tag));
        snprintf(port, sizeof(port), "%d", h->port);
        it_tmp_path(log, sizeof(log), "python", ".log");
        it_test_keep_file(t, log);
        pid = it_python_spawn(t, python_records, NULL, log, port, tag, NULL);
        it_python_wait(t, pid, log, 20000);
        out = it_read_file(log, NULL);
        it_syslog_entries(tag, NULL, 4, &e);
        /* One connection's entries come in its order; the second
         * connection's may land before the first one's last ones. */
        for (size_t i = 0, previous = 0; i < 4; i++) {
                size_t k = entry_with_message(&e, messages[i]);

                specs_reset(&s);
                spec(&s, "MESSAGE=%s", messages[i]);
                spec(&s, "PRIORITY=%s", priority[i]);
                spec(&s, "SYSLOG_FACILITY=%s", i < 3 ? "1" : "19");
                spec(&s, "SYSLOG_IDENTIFIER=%s", tag);
                if (i < 3)
                        spec(&s, "!SYSLOG_PID");
                else
                        spec(&s, "SYSLOG_PID=%d", atoi(out));
                spec(&s, "!SYSLOG_HOSTNAME");
                spec(&s, "!SYSLOG_TIMESTAMP");
                it_assert_syslog_entry(&e, k, s.v);
                if (i > 0 && i < 3 && k < previous) {
                        it_entries_print_all(&e);
                        fail_msg("\"%s\" came before \"%s\"", messages[i], messages[i - 1]);
                }
                previous = k;
        }
        free(out);
        const char *first = it_entry_field(&e.v[entry_with_message(&e, messages[0])], "REMOTE_PORT", NULL);
        for (size_t i = 1; i < 4; i++) {
                const char *port_i = it_entry_field(&e.v[entry_with_message(&e, messages[i])], "REMOTE_PORT", NULL);
                if ((strcmp(first, port_i) == 0) != (i < 3))
                        fail_msg("\"%s\" came over %s connection than the first record", messages[i],
                                 i < 3 ? "another" : "the same");
        }
        it_show_entry_json(&e.v[entry_with_message(&e, messages[0])]);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* ---- persistent senders ---- */

/* argv: port, tag. Two records, silence until a line comes on stdin, two
 * more, over one connection. */
static const char python_persistent[] =
        "import logging, logging.handlers, socket, sys\n"
        "port, tag = int(sys.argv[1]), sys.argv[2]\n"
        "h = logging.handlers.SysLogHandler(address=('127.0.0.1', port), socktype=socket.SOCK_STREAM)\n"
        "h.ident = tag + ': '\n"
        "log = logging.getLogger('hark-it')\n"
        "log.addHandler(h)\n"
        "log.warning('before the silence, 1')\n"
        "log.warning('before the silence, 2')\n"
        "sys.stdin.readline()\n"
        "log.warning('after the silence, 1')\n"
        "log.warning('after the silence, 2')\n"
        "h.close()\n";

static const char *const before_after[] = { "before the silence, 1", "before the silence, 2", "after the silence, 1",
                                            "after the silence, 2" };

/* A FIFO for a child's stdin, held open for writing by the test. */
static int open_fifo(struct it_test *t, char *path, size_t size) {
        int fd;

        it_tmp_path(path, size, "stdin", ".fifo");
        assert_int_equal(mkfifo(path, 0600), 0);
        it_test_keep_file(t, path);
        /* O_RDWR: it never blocks, and the child's reader never sees EOF
         * before the test closes it. */
        fd = open(path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        return it_test_keep_fd(t, fd);
}

/* Waits at most timeout_ms for pid to end, leaving it to be reaped. */
static void wait_ended(pid_t pid, int timeout_ms) {
        long long deadline = it_now_ms() + timeout_ms;
        siginfo_t info = { 0 };

        while (waitid(P_PID, (id_t) pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0 &&
               it_ms_left(deadline) > 0)
                it_sleep_ms(10);
}

static void fifo_write(int fd, const char *text) {
        size_t size = strlen(text);

        assert_true(write(fd, text, size) == (ssize_t) size);
}

/* Prints harkd's events about the connection from port, and those of its
 * main process, waiting 3 s for them to reach the journal. */
static void print_events(const struct harkd *h, const char *port) {
        char match[64], pid[64];
        const char *by_port[] = { match, NULL }, *by_pid[] = { harkd_pid_match(h, pid, sizeof(pid)), NULL };
        struct it_entries e;

        snprintf(match, sizeof(match), "REMOTE_PORT=%s", port);
        fprintf(stderr, "harkd's events about port %s (this connection's and older ones):\n", port);
        if (it_harkd_events(by_port, NULL, SIZE_MAX, 3000, &e) >= 0)
                it_entries_print(&e);
        it_entries_free(&e);
        fprintf(stderr, "harkd's main process' events:\n");
        if (it_harkd_events(by_pid, NULL, SIZE_MAX, 0, &e) >= 0)
                it_entries_print(&e);
        it_entries_free(&e);
}

/* One persistent sender of test_persistent_senders. */
struct persistent {
        char tag[80];
        char in[256], log[256];         /* its stdin (a FIFO), its output */
        int fd;                         /* the FIFO's writing end; -1 once closed */
        pid_t pid;
        /* Its connection: REMOTE_PORT, HARK_CONNECTION, and when its
         * first message was logged (_SOURCE_REALTIME_TIMESTAMP, µs). */
        char port[16], connection[32];
        unsigned long long since;
        struct it_relay relay;          /* rsyslogd */
};

/* Whether harkd logged a timeout or an eviction of p's connection. Events
 * are told apart by port and connection number, and by time: the journal
 * holds the events of every harkd of the run, and ports come back. */
static bool closed_by_harkd(const struct persistent *p, bool print) {
        static const char *const ids[] = { EVENT_CONN_TIMED_OUT, EVENT_CONN_EVICTED };
        bool closed = false;

        for (size_t i = 0; i < 2; i++) {
                char port_match[64], connection_match[64], id_match[64];
                const char *matches[] = { port_match, connection_match, id_match, NULL };
                struct it_entries e;

                snprintf(port_match, sizeof(port_match), "REMOTE_PORT=%s", p->port);
                snprintf(connection_match, sizeof(connection_match), "HARK_CONNECTION=%s", p->connection);
                snprintf(id_match, sizeof(id_match), "MESSAGE_ID=%s", ids[i]);
                assert_true(it_harkd_events(matches, NULL, 0, 0, &e) >= 0);
                for (size_t k = 0; k < e.n; k++) {
                        const char *when = it_entry_field(&e.v[k], "_SOURCE_REALTIME_TIMESTAMP", NULL);

                        if (when && strtoull(when, NULL, 10) >= p->since) {
                                closed = true;
                                if (print)
                                        it_entries_print(&e);
                        }
                }
                it_entries_free(&e);
        }
        return closed;
}

static void assert_not_closed_by_harkd(const struct persistent *p) {
        if (closed_by_harkd(p, true))
                fail_msg("harkd closed the connection of %s (port %s)", p->tag, p->port);
}

static void persistent_init(struct persistent *p, const char *tag, const char *suffix) {
        memset(p, 0, sizeof(*p));
        snprintf(p->tag, sizeof(p->tag), "%s-%s", tag, suffix);
        p->fd = -1;
}

/* Waits for the first n entries of p; notes its connection. */
static void persistent_started(struct persistent *p, size_t n) {
        struct it_entries e;
        const char *when;

        it_syslog_entries(p->tag, NULL, n, &e);
        snprintf(p->port, sizeof(p->port), "%s", it_entry_field(&e.v[0], "REMOTE_PORT", NULL));
        snprintf(p->connection, sizeof(p->connection), "%s", it_entry_field(&e.v[0], "HARK_CONNECTION", NULL));
        when = it_entry_field(&e.v[0], "_SOURCE_REALTIME_TIMESTAMP", NULL);
        assert_non_null(when);
        p->since = strtoull(when, NULL, 10);
        it_entries_free(&e);
}

/* Python writes two records, and two more after a line on its stdin. */
static void python_begin(struct it_test *t, const struct harkd *h, struct persistent *p) {
        char port[16];

        snprintf(port, sizeof(port), "%d", h->port);
        p->fd = open_fifo(t, p->in, sizeof(p->in));
        it_tmp_path(p->log, sizeof(p->log), "python", ".log");
        it_test_keep_file(t, p->log);
        p->pid = it_python_spawn(t, python_persistent, p->in, p->log, port, p->tag, NULL);
        persistent_started(p, 2);
}

static void python_resume(struct persistent *p) {
        fifo_write(p->fd, "go\n");
}

static void python_end(struct it_test *t, const struct harkd *h, struct persistent *p) {
        char *out;

        wait_ended(p->pid, 10000);
        out = it_read_file(p->log, NULL);
        /* Python's own complaint (BrokenPipeError) would hide harkd's
         * reason: its events, once journald has them. */
        if (strstr(out, "Error"))
                print_events(h, p->port);
        free(out);
        assert_not_closed_by_harkd(p);
        it_python_wait(t, p->pid, p->log, 10000);
}

/* logger reads lines from its stdin and sends each over one connection. */
static void logger_begin(struct it_test *t, const struct harkd *h, struct persistent *p) {
        char port[16], line[128];

        snprintf(port, sizeof(port), "%d", h->port);
        p->fd = open_fifo(t, p->in, sizeof(p->in));
        it_tmp_path(p->log, sizeof(p->log), "logger", ".log");
        it_test_keep_file(t, p->log);
        char *const argv[] = { (char *) it_require_program("logger", "bsdutils"), (char *) "--tcp", (char *) "-n",
                               (char *) "127.0.0.1", (char *) "-P", port, (char *) "-t", p->tag, NULL };
        p->pid = it_spawn_with_stdin(argv, p->in, p->log);
        assert_true(p->pid > 0);
        it_test_keep_pid(t, p->pid);
        snprintf(line, sizeof(line), "%s\n%s\n", before_after[0], before_after[1]);
        fifo_write(p->fd, line);
        persistent_started(p, 2);
}

static void logger_resume(struct it_test *t, struct persistent *p) {
        char line[128];

        snprintf(line, sizeof(line), "%s\n%s\n", before_after[2], before_after[3]);
        fifo_write(p->fd, line);
        it_test_close(t, p->fd);        /* EOF: logger ends */
        p->fd = -1;
}

static void logger_end(struct it_test *t, struct persistent *p) {
        char *out;

        it_assert_exited_0(it_test_wait_pid(t, p->pid, 10000), "logger");
        out = it_read_file(p->log, NULL);
        if (out[0])
                fail_msg("logger wrote: %s", out);
        free(out);
}

/* rsyslogd relays one message before the silence, one after. */
static void rsyslog_send(struct it_test *t, struct persistent *p, const char *text) {
        char line[128];

        snprintf(line, sizeof(line), "<12>%s: %s\n", p->tag, text);
        it_relay_send(t, &p->relay, line);
}

static void rsyslog_begin(struct it_test *t, const struct harkd *h, struct persistent *p) {
        it_rsyslog_start(t, &p->relay, h->port, NULL);
        rsyslog_send(t, p, before_after[0]);
        persistent_started(p, 1);
}

/* Asserts that p's n entries are before_after[0, step, 2 * step, ...] with
 * priority, over one connection that harkd never closed. */
static void persistent_assert(const struct persistent *p, size_t n, size_t step, const char *priority,
                              bool time_quality) {
        struct it_entries e;
        struct specs s;

        it_syslog_entries(p->tag, NULL, n, &e);
        for (size_t i = 0; i < n; i++) {
                specs_reset(&s);
                spec(&s, "MESSAGE=%s", before_after[i * step]);
                spec(&s, "PRIORITY=%s", priority);
                spec(&s, "SYSLOG_IDENTIFIER=%s", p->tag);
                if (time_quality) {
                        spec(&s, "SD_TIMEQUALITY_TZKNOWN=1");
                        spec(&s, "SD_TIMEQUALITY_ISSYNCED~[01]");
                }
                it_assert_syslog_entry(&e, i, s.v);
        }
        it_assert_one_connection(&e, 0, n);
        it_entries_free(&e);
        assert_not_closed_by_harkd(p);
}

/* Syslog senders keep one connection and go quiet for longer than harkd's
 * timeout between messages: with the shipped settings (the timeout 1 s
 * here instead of 30) nothing they send is lost and none of them sees its
 * connection closed. Python writes without reading (a closed connection is
 * a BrokenPipeError on its next record but one), logger reads its stdin,
 * rsyslogd relays.
 *
 * The three at once, except where harkd serves fewer connections at a time
 * than that: sequential serves one, so Python alone there (a sender waiting
 * for its turn gets a quiet one closed: see harkd.conf(5), max_connections);
 * pool serves one per worker, so it gets a worker for each. */
static void test_persistent_senders(void **state) {
        struct it_test *t = *state;
        bool all = strcmp(it_mode, "sequential") != 0;
        /* conf/harkd.conf's values, its timeout cut to 1 s. */
        struct harkd *h = it_test_harkd(t, 0,
                                        &(struct harkd_options) { .timeout = "1", .max_connections = 1024,
                                                                  .max_message_size = 65536, .priority = "info",
                                                                  .workers = strcmp(it_mode, "pool") == 0 ? 3 : 0 });
        struct persistent py, lg, rs;
        char tag[64];

        it_unique_identifier(tag, sizeof(tag));
        persistent_init(&py, tag, "py");
        persistent_init(&lg, tag, "lg");
        persistent_init(&rs, tag, "rs");
        python_begin(t, h, &py);
        if (all) {
                logger_begin(t, h, &lg);
                rsyslog_begin(t, h, &rs);
        }

        it_sleep_ms(3000);              /* three times harkd's timeout */

        python_resume(&py);
        if (all) {
                logger_resume(t, &lg);
                rsyslog_send(t, &rs, before_after[2]);
        }
        python_end(t, h, &py);
        persistent_assert(&py, 4, 1, "4", false);
        if (all) {
                logger_end(t, &lg);
                persistent_assert(&lg, 4, 1, "5", true);
                persistent_assert(&rs, 2, 2, "4", false);
                it_relay_stop(t, &rs.relay);
        }
        it_assert_harkd_stops(h, 5000);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_logger_plain),
        IT_TEST(test_logger_rfc3164),
        IT_TEST(test_logger_rfc5424),
        IT_TEST(test_logger_octet_count),
        IT_TEST(test_logger_structured_data),
        IT_TEST(test_logger_priority_and_tag),
        IT_TEST(test_logger_2000_frames),
        IT_TEST(test_logger_longer_than_max),
        IT_TEST(test_rsyslog_traditional),
        IT_TEST(test_rsyslog_protocol23),
        IT_TEST(test_rsyslog_octet_counted),
        IT_TEST(test_syslog_ng_network),
        IT_TEST(test_syslog_ng_syslog),
        IT_TEST(test_python),
        IT_TEST(test_persistent_senders),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "syslog",
                .per_mode = IT_TESTS(per_mode),
                /* The senders mostly wait (on the journal, on the silence);
                 * none stops or replaces journald. */
                .side_by_side = true,
        });
}
