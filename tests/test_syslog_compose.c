/* Unit tests of the RFC 5424 composer (src/syslog_compose.c): exact bytes
 * for a fixed time, host and pid; escaping; both framings and their bounds;
 * the facility and level names; and that every composed message parses
 * back with syslog_parse() to what went in, and frames as one record. */
#include "test-main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "framer.h"
#include "syslog_compose.h"
#include "syslog_parse.h"
#include "util.h"

#define BOM "\xef\xbb\xbf"

/* 2026-12-02 01:07:16.799813 at UTC+01:00. */
static const struct syslog_time moment = {
        .year = 2026, .month = 12, .day = 2, .hour = 1, .minute = 7, .second = 16, .usec = 799813,
        .utc_offset = 3600,
};
#define MOMENT "2026-12-02T01:07:16.799813+01:00"

#define FIELD(n, v) { { n, sizeof(n) - 1 }, { v, sizeof(v) - 1 } }

static const struct syslog_compose_options base = {
        .facility = 1, .severity = 5, .hostname = "vm", .app_name = "hark", .procid = "42",
};

/* Composes msg with o at moment; out gets the bytes (free them). */
static int compose(const struct syslog_compose_options *o, const struct syslog_time *when, const char *msg,
                   size_t size, struct syslog_buffer *out) {
        struct syslog_composer c;
        int r = syslog_composer_init(&c, o);

        if (r < 0)
                return r;
        r = syslog_compose(&c, when, msg, size, out);
        syslog_composer_done(&c);
        return r;
}

static void expect_bytes(const struct syslog_compose_options *o, const char *msg, size_t size, const char *want,
                         size_t want_size) {
        struct syslog_buffer out = { 0 };

        assert_int_equal(compose(o, &moment, msg, size, &out), 0);
        if (out.size != want_size || memcmp(out.data, want, want_size) != 0)
                fail_msg("composed\n%.*s\nexpected\n%.*s", (int) out.size, out.data, (int) want_size, want);
        syslog_buffer_free(&out);
}

#define EXPECT(o, msg, want) expect_bytes(o, msg, sizeof(msg) - 1, want, sizeof(want) - 1)

/* ------------------------------------------------------------------------ */
/* Exact bytes. */

static void a_line_without_fields(void **state) {
        (void) state;
        EXPECT(&base, "hello", "<13>1 " MOMENT " vm hark 42 - - hello\n");
}

static void a_line_with_fields_in_order(void **state) {
        static const struct syslog_field fields[] = { FIELD("ORDER_ID", "4711"), FIELD("B", ""), FIELD("A", "x y") };
        struct syslog_compose_options o = base;

        (void) state;
        o.facility = 16;
        o.severity = 4;
        o.app_name = "myapp";
        o.fields = fields;
        o.n_fields = ELEMENTSOF(fields);
        EXPECT(&o, "disk almost full",
               "<132>1 " MOMENT " vm myapp 42 - [journal@hark ORDER_ID=\"4711\" B=\"\" A=\"x y\"] disk almost full\n");
}

/* RFC 5424 6.3.3: '"', '\' and ']' escaped in a PARAM-VALUE, nothing else. */
static void param_values_are_escaped(void **state) {
        static const struct syslog_field fields[] = {
                FIELD("Q", "a\"b\\c]d"), FIELD("E", "\"\"\\\\]]"), FIELD("N", "[=' \t\r}"),
        };
        struct syslog_compose_options o = base;

        (void) state;
        o.fields = fields;
        o.n_fields = ELEMENTSOF(fields);
        EXPECT(&o, "m",
               "<13>1 " MOMENT " vm hark 42 - [journal@hark Q=\"a\\\"b\\\\c\\]d\" E=\"\\\"\\\"\\\\\\\\\\]\\]\" "
               "N=\"[=' \t\r}\"] m\n");
}

/* Escapes in MSG are no escapes: it is taken as it is. */
static void the_message_is_not_escaped(void **state) {
        (void) state;
        EXPECT(&base, "a\"b\\c]d [x=\"1\"]", "<13>1 " MOMENT " vm hark 42 - - a\"b\\c]d [x=\"1\"]\n");
}

static void nil_values(void **state) {
        struct syslog_compose_options o = { .facility = 0, .severity = 0 };

        (void) state;
        EXPECT(&o, "x", "<0>1 " MOMENT " - - - - - x\n");
        o.facility = 23;
        o.severity = 7;
        EXPECT(&o, "", "<191>1 " MOMENT " - - - - - \n");
}

/* An invalid host name (journald or the kernel might hold anything) becomes
 * the NILVALUE rather than breaking the header. */
static void a_host_name_rfc_5424_does_not_take_is_nil(void **state) {
        static const char *const bad[] = { "", "a b", "tab\there", "caf\xc3\xa9", "del\x7f" };
        struct syslog_compose_options o = base;
        char long_name[SYSLOG_HOSTNAME_MAX + 2], want[SYSLOG_HOSTNAME_MAX + 128];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                o.hostname = bad[i];
                EXPECT(&o, "x", "<13>1 " MOMENT " - hark 42 - - x\n");
        }
        memset(long_name, 'h', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = 0;
        o.hostname = long_name;
        EXPECT(&o, "x", "<13>1 " MOMENT " - hark 42 - - x\n");
        long_name[SYSLOG_HOSTNAME_MAX] = 0;
        snprintf(want, sizeof(want), "<13>1 " MOMENT " %s hark 42 - - x\n", long_name);
        expect_bytes(&o, "x", 1, want, strlen(want));
}

static void the_time_missing_is_nil(void **state) {
        struct syslog_buffer out = { 0 };
        static const char want[] = "<13>1 - vm hark 42 - - x\n";

        (void) state;
        assert_int_equal(compose(&base, NULL, "x", 1, &out), 0);
        assert_int_equal(out.size, strlen(want));
        assert_memory_equal(out.data, want, out.size);
        syslog_buffer_free(&out);
}

/* A receiver strips one BOM from MSG: a message that starts with one gets
 * another in front, so that MESSAGE keeps the sender's. */
static void a_leading_bom_is_kept_by_doubling(void **state) {
        (void) state;
        EXPECT(&base, BOM "text", "<13>1 " MOMENT " vm hark 42 - - " BOM BOM "text\n");
        EXPECT(&base, "a" BOM, "<13>1 " MOMENT " vm hark 42 - - a" BOM "\n");
        EXPECT(&base, "\xef\xbb", "<13>1 " MOMENT " vm hark 42 - - \xef\xbb\n");
}

/* ------------------------------------------------------------------------ */
/* Octet counting (RFC 6587): MSG-LEN SP MSG, no LF; MSG may hold LF, NUL. */

static void an_octet_frame(void **state) {
        static const char frame[] = "59 <13>1 " MOMENT " vm hark 42 - - a\nb\0c";
        struct syslog_compose_options o = base;

        (void) state;
        o.octet_count = true;
        expect_bytes(&o, "a\nb\0c", 5, frame, sizeof(frame) - 1);
        assert_int_equal(sizeof(frame) - 1 - strlen("59 "), 59);
}

/* MSG-LEN counts every byte, a doubled BOM too, across changes of digits
 * (99 -> 100, 999 -> 1000). */
static void octet_lengths_are_exact(void **state) {
        struct syslog_compose_options o = base;
        size_t header = strlen("<13>1 " MOMENT " vm hark 42 - - ");
        char msg[2000];

        (void) state;
        o.octet_count = true;
        memset(msg, 'm', sizeof(msg));
        for (int bom = 0; bom < 2; bom++) {
                if (bom)
                        memcpy(msg, BOM, 3);
                for (size_t size = 3; size <= sizeof(msg); size++) {
                        struct syslog_buffer out = { 0 };
                        size_t total = header + (bom ? 3 : 0) + size;
                        char prefix[16];
                        int n = snprintf(prefix, sizeof(prefix), "%zu ", total);

                        assert_int_equal(compose(&o, &moment, msg, size, &out), 0);
                        assert_int_equal(out.size, (size_t) n + total);
                        assert_memory_equal(out.data, prefix, (size_t) n);
                        assert_memory_equal(out.data + out.size - size, msg, size);
                        syslog_buffer_free(&out);
                }
        }
}

/* More than 9 digits of MSG-LEN is what harkd (and every sane receiver)
 * rejects: such a message is refused here instead. */
static void an_octet_frame_past_nine_digits_is_refused(void **state) {
        static const char some[16] = "xxxxxxxxxxxxxxx";
        struct syslog_compose_options o = base;
        struct syslog_composer c;
        struct syslog_buffer out = { 0 };
        size_t header = strlen("<13>1 " MOMENT " vm hark 42 - - ");

        (void) state;
        o.octet_count = true;
        assert_int_equal(syslog_composer_init(&c, &o), 0);
        /* Refused before a byte of msg past the first three is read. */
        assert_int_equal(syslog_compose(&c, &moment, some, SYSLOG_OCTET_MESSAGE_MAX - header + 1, &out), -EMSGSIZE);
        assert_int_equal(syslog_compose(&c, &moment, some, (size_t) -1, &out), -EMSGSIZE);
        assert_null(out.data);
        assert_int_equal(out.size, 0);
        syslog_composer_done(&c);
}

/* In lines framing a LF or NUL would end the record early, and a CR at the
 * end would go with the LF: refused, the buffer left as it was. A CR inside
 * is data. */
static void a_line_with_a_line_end_inside_is_refused(void **state) {
        struct syslog_composer c;
        struct syslog_buffer out = { 0 };

        (void) state;
        assert_int_equal(syslog_composer_init(&c, &base), 0);
        assert_int_equal(syslog_compose(&c, &moment, "first", 5, &out), 0);
        assert_int_equal(syslog_compose(&c, &moment, "a\nb", 3, &out), -EINVAL);
        assert_int_equal(syslog_compose(&c, &moment, "a\0b", 3, &out), -EINVAL);
        assert_int_equal(syslog_compose(&c, &moment, "\n", 1, &out), -EINVAL);
        assert_int_equal(syslog_compose(&c, &moment, "a\r", 2, &out), -EINVAL);
        assert_int_equal(syslog_compose(&c, &moment, "\r", 1, &out), -EINVAL);
        assert_int_equal(out.size, strlen("<13>1 " MOMENT " vm hark 42 - - first\n"));
        /* Appends, one message after the other. */
        assert_int_equal(syslog_compose(&c, NULL, "se\rcond", 7, &out), 0);
        assert_int_equal(out.size, strlen("<13>1 " MOMENT " vm hark 42 - - first\n<13>1 - vm hark 42 - - se\rcond\n"));
        assert_memory_equal(out.data, "<13>1 " MOMENT " vm hark 42 - - first\n<13>1 - vm hark 42 - - se\rcond\n",
                            out.size);
        syslog_buffer_free(&out);
        syslog_composer_done(&c);
        syslog_composer_done(&c);
}

/* ------------------------------------------------------------------------ */
/* Options out of bounds. */

static void options_out_of_bounds_are_refused(void **state) {
        static const struct syslog_field newline = FIELD("A", "x\ny"), nul = FIELD("A", "x\0y");
        static const char *const bad_names[] = {
                "", "order_id", "Order", "1ABC", "_PID", "A-B", "A B", "A=B", "A\"", "MESSAGE", "PRIORITY",
                "SYSLOG_IDENTIFIER", "SYSLOG_X", "REMOTE_ADDR", "HARK_CONNECTION", "OBJECT_SYSTEMD_UNIT",
                "COREDUMP_UNIT", "_SYSTEMD_UNIT", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456",
        };
        struct syslog_field fields[SYSLOG_SD_PARAMS_MAX + 1];
        char names[SYSLOG_SD_PARAMS_MAX + 1][8];
        struct syslog_compose_options o;
        struct syslog_composer c;
        char app[SYSLOG_APP_NAME_MAX + 2], procid[SYSLOG_PROCID_MAX + 2];

        (void) state;
#define REFUSED(change, code) do { o = base; change; assert_int_equal(syslog_composer_init(&c, &o), code); } while (0)
#define TAKEN(change) do { o = base; change; assert_int_equal(syslog_composer_init(&c, &o), 0); \
                           syslog_composer_done(&c); } while (0)
        REFUSED(o.facility = 24, -EINVAL);
        REFUSED(o.facility = -1, -EINVAL);
        REFUSED(o.severity = 8, -EINVAL);
        REFUSED(o.severity = -1, -EINVAL);
        REFUSED(o.app_name = "", -EINVAL);
        REFUSED(o.app_name = "my app", -EINVAL);
        REFUSED(o.app_name = "caf\xc3\xa9", -EINVAL);
        REFUSED(o.procid = "", -EINVAL);
        memset(app, 'a', sizeof(app) - 1);
        app[sizeof(app) - 1] = 0;
        REFUSED(o.app_name = app, -EINVAL);
        app[SYSLOG_APP_NAME_MAX] = 0;
        TAKEN(o.app_name = app);
        memset(procid, '9', sizeof(procid) - 1);
        procid[sizeof(procid) - 1] = 0;
        REFUSED(o.procid = procid, -EINVAL);
        procid[SYSLOG_PROCID_MAX] = 0;
        TAKEN(o.procid = procid);

        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
                fields[0] = (struct syslog_field) { { bad_names[i], strlen(bad_names[i]) }, { "v", 1 } };
                REFUSED((o.fields = fields, o.n_fields = 1), -EINVAL);
        }
        fields[0] = (struct syslog_field) { { "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", 32 }, { "v", 1 } };
        TAKEN((o.fields = fields, o.n_fields = 1));

        REFUSED((o.fields = &newline, o.n_fields = 1), -EINVAL);
        REFUSED((o.fields = &nul, o.n_fields = 1), -EINVAL);
        TAKEN((o.fields = &newline, o.n_fields = 1, o.octet_count = true));
        TAKEN((o.fields = &nul, o.n_fields = 1, o.octet_count = true));

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                snprintf(names[i], sizeof(names[i]), "F%zu", i);
                fields[i] = (struct syslog_field) { { names[i], strlen(names[i]) }, { "v", 1 } };
        }
        TAKEN((o.fields = fields, o.n_fields = SYSLOG_SD_PARAMS_MAX));
        REFUSED((o.fields = fields, o.n_fields = SYSLOG_SD_PARAMS_MAX + 1), -E2BIG);
#undef REFUSED
#undef TAKEN
}

static void field_name_problems(void **state) {
        (void) state;
        assert_int_equal(syslog_field_name_check("ORDER_ID", 8), SYSLOG_FIELD_OK);
        assert_int_equal(syslog_field_name_check("A", 1), SYSLOG_FIELD_OK);
        assert_int_equal(syslog_field_name_check("X9_", 3), SYSLOG_FIELD_OK);
        assert_int_equal(syslog_field_name_check("", 0), SYSLOG_FIELD_EMPTY);
        assert_int_equal(syslog_field_name_check("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", 33), SYSLOG_FIELD_TOO_LONG);
        assert_int_equal(syslog_field_name_check("order", 5), SYSLOG_FIELD_INVALID);
        assert_int_equal(syslog_field_name_check("9A", 2), SYSLOG_FIELD_INVALID);
        assert_int_equal(syslog_field_name_check("_A", 2), SYSLOG_FIELD_INVALID);
        assert_int_equal(syslog_field_name_check("MESSAGE", 7), SYSLOG_FIELD_RESERVED);
        assert_int_equal(syslog_field_name_check("SYSLOG_PID", 10), SYSLOG_FIELD_RESERVED);
        assert_int_equal(syslog_field_name_check("HARK_X", 6), SYSLOG_FIELD_RESERVED);
        /* Only the first size bytes count. */
        assert_int_equal(syslog_field_name_check("AB=c", 2), SYSLOG_FIELD_OK);
}

/* ------------------------------------------------------------------------ */
/* Names and numbers of facilities and levels. */

static void facility_names_and_numbers(void **state) {
        static const char *const names[] = {
                "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
                NULL, NULL, NULL, NULL, "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
        };
        static const char *const bad[] = {
                "", "24", "99", "100", "-1", "+1", " 1", "1 ", "01", "1x", "local8", "Local0", "LOCAL0", "USER", "local",
                "security", "0x1",
        };

        (void) state;
        for (int i = 0; i <= SYSLOG_FACILITY_MAX; i++) {
                char number[8];

                snprintf(number, sizeof(number), "%d", i);
                assert_int_equal(syslog_facility_from_string(number), i);
                if (names[i]) {
                        assert_int_equal(syslog_facility_from_string(names[i]), i);
                        assert_string_equal(syslog_facility_name(i), names[i]);
                } else {
                        assert_null(syslog_facility_name(i));
                }
        }
        assert_null(syslog_facility_name(-1));
        assert_null(syslog_facility_name(24));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (syslog_facility_from_string(bad[i]) != -EINVAL)
                        fail_msg("facility '%s' taken", bad[i]);
}

static void level_names_and_numbers(void **state) {
        static const struct { const char *name; int level; } good[] = {
                { "emerg", 0 }, { "alert", 1 }, { "crit", 2 }, { "err", 3 }, { "error", 3 }, { "warning", 4 },
                { "warn", 4 }, { "notice", 5 }, { "info", 6 }, { "debug", 7 }, { "0", 0 }, { "7", 7 }, { "4", 4 },
        };
        static const char *const bad[] = { "", "8", "10", "-1", "+1", " 1", "01", "1x", "Info", "WARNING", "panic",
                                           "local0", "information" };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_int_equal(syslog_severity_from_string(good[i].name), good[i].level);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (syslog_severity_from_string(bad[i]) != -EINVAL)
                        fail_msg("level '%s' taken", bad[i]);
}

/* ------------------------------------------------------------------------ */
/* TIMESTAMP. */

static void timestamp_of(const struct syslog_time *t, const char *want) {
        char buf[SYSLOG_TIMESTAMP_MAX + 1];
        size_t n = syslog_format_timestamp(t, buf);

        assert_string_equal(buf, want);
        assert_int_equal(n, strlen(want));
}

static void timestamps(void **state) {
        struct syslog_time t = moment;

        (void) state;
        timestamp_of(&t, MOMENT);
        t.utc_offset = 0;
        timestamp_of(&t, "2026-12-02T01:07:16.799813+00:00");
        t.utc_offset = -(5 * 3600 + 30 * 60);
        timestamp_of(&t, "2026-12-02T01:07:16.799813-05:30");
        t.utc_offset = 5 * 3600 + 45 * 60 + 59; /* seconds of an offset are dropped */
        timestamp_of(&t, "2026-12-02T01:07:16.799813+05:45");
        t.utc_offset = 14 * 3600;
        timestamp_of(&t, "2026-12-02T01:07:16.799813+14:00");
        t = (struct syslog_time) { .year = 42, .month = 1, .day = 1 };
        timestamp_of(&t, "0042-01-01T00:00:00.000000+00:00");
        t = (struct syslog_time) { .year = 9999, .month = 12, .day = 31, .hour = 23, .minute = 59, .second = 60,
                                   .usec = 999999, .utc_offset = -(23 * 3600 + 59 * 60) };
        timestamp_of(&t, "9999-12-31T23:59:60.999999-23:59");
        timestamp_of(NULL, "-");
}

static void timestamps_out_of_range_are_nil(void **state) {
        struct syslog_time t;

        (void) state;
#define NIL(change) do { t = moment; change; timestamp_of(&t, "-"); } while (0)
        NIL(t.year = 10000);
        NIL(t.year = -1);
        NIL(t.month = 0);
        NIL(t.month = 13);
        NIL(t.day = 0);
        NIL(t.day = 32);
        NIL(t.hour = 24);
        NIL(t.minute = 60);
        NIL(t.second = 61);
        NIL(t.usec = 1000000);
        NIL(t.usec = -1);
        NIL(t.utc_offset = 24 * 3600);
        NIL(t.utc_offset = -24 * 3600);
#undef NIL
}

/* The local time zone from TZ (POSIX rules, no zone files needed). */
static void local_time_follows_tz(void **state) {
        static const struct { const char *tz; const char *want; } cases[] = {
                { "UTC0", "2026-12-02T01:07:16.000042+00:00" },
                { "XYZ-5:30", "2026-12-02T06:37:16.000042+05:30" },
                { "EST5", "2026-12-01T20:07:16.000042-05:00" },
                { "ABC-1", "2026-12-02T02:07:16.000042+01:00" },
        };
        char *saved = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
        struct syslog_time t;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(setenv("TZ", cases[i].tz, 1), 0);
                tzset();
                /* 2026-12-02 01:07:16 UTC */
                assert_int_equal(syslog_time_local(1796173636, 42, &t), 0);
                timestamp_of(&t, cases[i].want);
        }
        assert_int_equal(syslog_time_local(1796173636, 1000000, &t), -EOVERFLOW);
        assert_int_equal(syslog_time_local(1796173636, -1, &t), -EOVERFLOW);
        if (saved)
                setenv("TZ", saved, 1);
        else
                unsetenv("TZ");
        free(saved);
        tzset();
        assert_int_equal(syslog_time_now(&t), 0);
        assert_true(t.year >= 2024 && t.year <= 9999);
}

/* ------------------------------------------------------------------------ */
/* Round trip: everything composed parses back to what went in, and frames
 * as exactly one record, the way harkd frames a connection. */

struct framed {
        size_t n;
        char *data;
        size_t size;
};

static void keep_framed(void *userdata, const struct framed_message *m) {
        struct framed *f = userdata;

        f->n++;
        free(f->data);
        f->data = malloc(m->size);
        assert_non_null(f->data);
        memcpy(f->data, m->data, m->size);
        f->size = m->size;
        assert_false(m->truncated);
        assert_false(m->incomplete);
}

/* The one message harkd would take out of bytes: framing auto, and in lines
 * a NUL ends a record too (as harkd's syslog format has it). */
static void frame_one(const struct syslog_buffer *out, bool octets, struct framed *f) {
        struct framer framer;

        framer_init_framing(&framer, 1 << 20, FRAMING_AUTO, FRAMER_NUL_ENDS_LINE);
        assert_int_equal(framer_feed(&framer, out->data, out->size, keep_framed, f), 0);
        assert_int_equal(framer_finish(&framer, keep_framed, f), 0);
        assert_int_equal(framer_framing(&framer), octets ? FRAMING_OCTETS : FRAMING_LINES);
        framer_done(&framer);
        assert_int_equal(f->n, 1);
}

static void assert_slice(struct syslog_slice got, const char *want) {
        if (!want || strcmp(want, "-") == 0) {
                assert_false(syslog_slice_present(got));
                return;
        }
        assert_true(syslog_slice_present(got));
        if (got.size != strlen(want) || memcmp(got.data, want, got.size) != 0)
                fail_msg("'%.*s', expected '%s'", (int) got.size, got.data, want);
}

static void assert_round_trip(const struct syslog_compose_options *o, const struct syslog_time *when,
                              const char *msg, size_t size) {
        struct syslog_buffer out = { 0 };
        struct framed f = { 0 };
        struct syslog_message m;
        struct syslog_sd_iterator it;
        struct syslog_slice id;
        struct syslog_sd_param param;
        char timestamp[SYSLOG_TIMESTAMP_MAX + 1], *values;
        const char *host = o->hostname && syslog_hostname_valid(o->hostname, strlen(o->hostname)) ? o->hostname : NULL;

        assert_int_equal(compose(o, when, msg, size, &out), 0);
        frame_one(&out, o->octet_count, &f);
        assert_int_equal(syslog_parse(f.data, f.size, &m), SYSLOG_RFC5424);
        assert_int_equal(m.facility, o->facility);
        assert_int_equal(m.severity, o->severity);
        syslog_format_timestamp(when, timestamp);
        assert_slice(m.timestamp, timestamp);
        assert_slice(m.hostname, host);
        assert_slice(m.app_name, o->app_name);
        assert_slice(m.procid, o->procid);
        assert_false(syslog_slice_present(m.msgid));
        assert_true(syslog_slice_present(m.msg));
        if (m.msg.size != size || (size && memcmp(m.msg.data, msg, size) != 0))
                fail_msg("MSG '%.*s', expected '%.*s'", (int) m.msg.size, m.msg.data, (int) size, msg);

        assert_int_equal(m.sd_elements, o->n_fields ? 1 : 0);
        assert_int_equal(m.sd_params, o->n_fields);
        syslog_sd_iterator_init(&it, &m);
        if (o->n_fields) {
                values = malloc(m.structured_data.size + 1);
                assert_non_null(values);
                assert_true(syslog_sd_next_element(&it, &id));
                assert_slice(id, SYSLOG_HARK_SD_ID);
                for (size_t i = 0; i < o->n_fields; i++) {
                        assert_int_equal(syslog_sd_next_param(&it, &param, values, m.structured_data.size + 1), 1);
                        assert_int_equal(param.name.size, o->fields[i].name.size);
                        assert_memory_equal(param.name.data, o->fields[i].name.data, param.name.size);
                        assert_int_equal(param.value.size, o->fields[i].value.size);
                        if (param.value.size)
                                assert_memory_equal(param.value.data, o->fields[i].value.data, param.value.size);
                }
                assert_int_equal(syslog_sd_next_param(&it, &param, values, m.structured_data.size + 1), 0);
                free(values);
        }
        assert_false(syslog_sd_next_element(&it, &id));
        free(f.data);
        syslog_buffer_free(&out);
}

static void every_priority_parses_back(void **state) {
        struct syslog_compose_options o = base;

        (void) state;
        for (int octets = 0; octets < 2; octets++)
                for (o.facility = 0; o.facility <= SYSLOG_FACILITY_MAX; o.facility++)
                        for (o.severity = 0; o.severity <= SYSLOG_SEVERITY_MAX; o.severity++) {
                                o.octet_count = octets;
                                assert_round_trip(&o, &moment, "msg", 3);
                        }
}

static void messages_and_fields_parse_back(void **state) {
        static const struct syslog_field fields[] = {
                FIELD("ORDER_ID", "4711"), FIELD("EMPTY", ""), FIELD("QUOTES", "\"a\" \\b\\ ]c] \\\"]"),
                FIELD("SPACES", "  lead and trail  "), FIELD("UTF8", "gr\xc3\xbc\xc3\x9f" BOM "e"),
                FIELD("BRACKETS", "[x=\"1\"] [y]"), FIELD("ORDER_ID", "second value"),
        };
        static const struct syslog_field multiline[] = { FIELD("TRACE", "line 1\nline 2\0nul\r\n") };
        static const struct { const char *msg; size_t size; bool octets_only; } messages[] = {
                { "disk almost full", 16, false },
                { "", 0, false },
                { " leading space", 14, false },
                { "- looks like nil", 16, false },
                { "[journal@hark X=\"1\"] not SD", 27, false },
                { BOM "starts with a BOM", 20, false },
                { BOM, 3, false },
                { "tab\there\rcr", 11, false },
                { "\xff\xfe invalid UTF-8", 16, false },
                { "line 1\nline 2\n", 14, true },
                { "nul\0inside", 10, true },
                { "\n", 1, true },
                { "cr at the end\r", 14, true },
                { "\r", 1, true },
        };
        static const char *const hosts[] = { "vm", NULL, "a b", "host.example.org", "2001:db8::1" };
        static const char *const tags[] = { "hark", NULL, "myapp", "a[1]:", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl" };
        struct syslog_compose_options o = base;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(messages); i++)
                for (int octets = 0; octets < 2; octets++) {
                        if (messages[i].octets_only && !octets)
                                continue;
                        o = base;
                        o.octet_count = octets;
                        o.hostname = hosts[i % ELEMENTSOF(hosts)];
                        o.app_name = tags[i % ELEMENTSOF(tags)];
                        o.procid = i % 3 ? "42" : NULL;
                        assert_round_trip(&o, &moment, messages[i].msg, messages[i].size);
                        assert_round_trip(&o, NULL, messages[i].msg, messages[i].size);
                        o.fields = fields;
                        o.n_fields = ELEMENTSOF(fields);
                        assert_round_trip(&o, &moment, messages[i].msg, messages[i].size);
                        if (octets) {
                                o.fields = multiline;
                                o.n_fields = 1;
                                assert_round_trip(&o, &moment, messages[i].msg, messages[i].size);
                        }
                }
}

/* All the params harkd reports, each logged: the most a composer takes. */
static void the_most_fields_parse_back(void **state) {
        struct syslog_field fields[SYSLOG_SD_PARAMS_MAX];
        char names[SYSLOG_SD_PARAMS_MAX][SYSLOG_SD_NAME_MAX + 1], values[SYSLOG_SD_PARAMS_MAX][8];
        struct syslog_compose_options o = base;

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                /* 32-byte names, the longest a PARAM-NAME may be */
                snprintf(names[i], sizeof(names[i]), "F%031zu", i);
                snprintf(values[i], sizeof(values[i]), "]%zu\"", i);
                fields[i] = (struct syslog_field) { { names[i], SYSLOG_SD_NAME_MAX }, { values[i], strlen(values[i]) } };
        }
        o.fields = fields;
        o.n_fields = ELEMENTSOF(fields);
        assert_round_trip(&o, &moment, "many", 4);
        o.octet_count = true;
        assert_round_trip(&o, &moment, "many", 4);
}

/* A fixed-seed generator: the same "random" cases on every run. */
static uint32_t next_random(uint32_t *state) {
        *state ^= *state << 13;
        *state ^= *state >> 17;
        *state ^= *state << 5;
        return *state;
}

/* size random bytes; in lines framing never LF or NUL (refused there). */
static void random_bytes(uint32_t *state, char *buf, size_t size, bool octets) {
        for (size_t i = 0; i < size; i++) {
                char c = (char) next_random(state);

                /* Lean on the bytes with a meaning in SD. */
                if (next_random(state) % 4 == 0)
                        c = "\"\\][= \n"[next_random(state) % 7];
                if (!octets && (c == '\n' || c == 0))
                        c = 'x';
                buf[i] = c;
        }
}

/* Random names, values, messages and settings: all parse back. */
static void random_messages_parse_back(void **state) {
        enum { FIELDS = 8, VALUE_MAX = 40, MSG_MAX = 200 };
        static const char name_bytes[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_";
        char names[FIELDS][SYSLOG_SD_NAME_MAX + 1], values[FIELDS][VALUE_MAX], msg[MSG_MAX];
        char host[SYSLOG_HOSTNAME_MAX + 1], app[SYSLOG_APP_NAME_MAX + 1];
        struct syslog_field fields[FIELDS];
        uint32_t seed = 0x5eed1234;

        (void) state;
        for (int round = 0; round < 3000; round++) {
                struct syslog_compose_options o = base;
                struct syslog_time t = moment;
                size_t size = next_random(&seed) % MSG_MAX;

                o.octet_count = next_random(&seed) % 2;
                o.facility = (int) (next_random(&seed) % 24);
                o.severity = (int) (next_random(&seed) % 8);
                o.n_fields = next_random(&seed) % (FIELDS + 1);
                for (size_t i = 0; i < o.n_fields; i++) {
                        size_t n = 1 + next_random(&seed) % SYSLOG_SD_NAME_MAX;

                        names[i][0] = (char) ('A' + next_random(&seed) % 26);
                        for (size_t j = 1; j < n; j++)
                                names[i][j] = name_bytes[next_random(&seed) % (sizeof(name_bytes) - 1)];
                        if (syslog_field_name_reserved(names[i], n))
                                names[i][0] = 'Z';      /* no reserved prefix starts with Z */
                        fields[i].name = (struct syslog_slice) { names[i], n };
                        fields[i].value = (struct syslog_slice) { values[i], next_random(&seed) % VALUE_MAX };
                        random_bytes(&seed, values[i], fields[i].value.size, o.octet_count);
                }
                o.fields = fields;
                for (size_t i = 0, n = 1 + next_random(&seed) % 20; i <= n; i++)
                        host[i] = i < n ? (char) (33 + next_random(&seed) % 94) : 0;
                for (size_t i = 0, n = 1 + next_random(&seed) % SYSLOG_APP_NAME_MAX; i <= n; i++)
                        app[i] = i < n ? (char) (33 + next_random(&seed) % 94) : 0;
                o.hostname = host;
                o.app_name = app;
                random_bytes(&seed, msg, size, o.octet_count);
                if (!o.octet_count && size > 0 && msg[size - 1] == '\r')
                        msg[size - 1] = 'x';
                if (size >= 3 && next_random(&seed) % 8 == 0)
                        memcpy(msg, BOM, 3);
                t.utc_offset = (long) (next_random(&seed) % (2 * 14 * 60)) * 60 - 14 * 3600;
                t.usec = next_random(&seed) % 1000000;
                assert_round_trip(&o, &t, msg, size);
        }
}

/* Several messages in one buffer frame as that many records. */
static void a_buffer_of_messages_frames_as_that_many(void **state) {
        struct syslog_compose_options o = base;
        struct syslog_composer c;

        (void) state;
        for (int octets = 0; octets < 2; octets++) {
                struct syslog_buffer out = { 0 };
                struct framed f = { 0 };
                struct framer framer;

                o.octet_count = octets;
                assert_int_equal(syslog_composer_init(&c, &o), 0);
                for (int i = 0; i < 100; i++) {
                        char msg[32];
                        int n = snprintf(msg, sizeof(msg), octets ? "m\n%d" : "m %d", i);

                        assert_int_equal(syslog_compose(&c, &moment, msg, (size_t) n, &out), 0);
                }
                syslog_composer_done(&c);
                framer_init_framing(&framer, 1 << 20, FRAMING_AUTO, FRAMER_NUL_ENDS_LINE);
                assert_int_equal(framer_feed(&framer, out.data, out.size, keep_framed, &f), 0);
                assert_int_equal(framer_finish(&framer, keep_framed, &f), 0);
                framer_done(&framer);
                assert_int_equal(f.n, 100);
                assert_int_equal(f.size, strlen(octets ? "<13>1 " MOMENT " vm hark 42 - - m\n99"
                                                       : "<13>1 " MOMENT " vm hark 42 - - m 99"));
                free(f.data);
                syslog_buffer_free(&out);
        }
}

int main(void) {
        static const struct CMUnitTest tests[] = {
                cmocka_unit_test(a_line_without_fields),
                cmocka_unit_test(a_line_with_fields_in_order),
                cmocka_unit_test(param_values_are_escaped),
                cmocka_unit_test(the_message_is_not_escaped),
                cmocka_unit_test(nil_values),
                cmocka_unit_test(a_host_name_rfc_5424_does_not_take_is_nil),
                cmocka_unit_test(the_time_missing_is_nil),
                cmocka_unit_test(a_leading_bom_is_kept_by_doubling),
                cmocka_unit_test(an_octet_frame),
                cmocka_unit_test(octet_lengths_are_exact),
                cmocka_unit_test(an_octet_frame_past_nine_digits_is_refused),
                cmocka_unit_test(a_line_with_a_line_end_inside_is_refused),
                cmocka_unit_test(options_out_of_bounds_are_refused),
                cmocka_unit_test(field_name_problems),
                cmocka_unit_test(facility_names_and_numbers),
                cmocka_unit_test(level_names_and_numbers),
                cmocka_unit_test(timestamps),
                cmocka_unit_test(timestamps_out_of_range_are_nil),
                cmocka_unit_test(local_time_follows_tz),
                cmocka_unit_test(every_priority_parses_back),
                cmocka_unit_test(messages_and_fields_parse_back),
                cmocka_unit_test(the_most_fields_parse_back),
                cmocka_unit_test(random_messages_parse_back),
                cmocka_unit_test(a_buffer_of_messages_frames_as_that_many),
        };

        return hark_test_main("syslog_compose", tests);
}
