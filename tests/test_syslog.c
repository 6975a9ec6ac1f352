/* Unit tests of the syslog parser (src/syslog_parse.c): every RFC 5424 header field
 * and its NILVALUE, structured data and its iterator, the BOM, the RFC 3164
 * shapes real senders use, every malformed form, truncation at every byte,
 * the bytes real senders were seen to send, and the field-name scheme and
 * checks.
 *
 * Every parse runs on a heap copy of exactly the message's size, so that
 * ASan catches a read past the length; after each parse every slice is
 * checked to lie inside the input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syslog_parse.h"
#include "util.h"

/* A string literal as bytes and size, NULs inside included. */
#define BYTES(s) (s), (sizeof(s) - 1)

/* The copy the last parse ran on (freed by the next parse and teardown) and
 * its result. */
static char *input;
static size_t input_size;
static struct syslog_message m;
/* The case a table-driven test is at, named in its failure messages. */
static const char *context = "";

static void assert_inside(struct syslog_slice s) {
        if (!s.data) {
                assert_int_equal(s.size, 0);
                return;
        }
        assert_true(s.data >= input && s.data <= input + input_size);
        assert_true(s.size <= (size_t) (input + input_size - s.data));
}

static enum syslog_format parse(const char *data, size_t size) {
        enum syslog_format format;

        free(input);
        input = malloc(size ? size : 1);
        assert_non_null(input);
        memcpy(input, data, size);
        input_size = size;

        format = syslog_parse(input, size, &m);
        assert_int_equal(format, m.format);
        assert_true(m.severity <= 7);
        assert_true(m.facility <= 23);
        assert_inside(m.timestamp);
        assert_inside(m.hostname);
        assert_inside(m.app_name);
        assert_inside(m.procid);
        assert_inside(m.msgid);
        assert_inside(m.structured_data);
        assert_inside(m.msg);
        assert_non_null(m.msg.data);
        switch (format) {
        case SYSLOG_NONE:
        case SYSLOG_MALFORMED:
                /* Raw: the whole input is the message, nothing else is set. */
                assert_ptr_equal(m.msg.data, input);
                assert_int_equal(m.msg.size, size);
                assert_false(syslog_slice_present(m.timestamp) || syslog_slice_present(m.hostname) ||
                             syslog_slice_present(m.app_name) || syslog_slice_present(m.procid) ||
                             syslog_slice_present(m.msgid) || syslog_slice_present(m.structured_data));
                assert_true(format == SYSLOG_NONE ? m.error == NULL : m.error != NULL);
                assert_true(m.error_offset <= size);
                break;
        case SYSLOG_RFC3164:
                assert_false(syslog_slice_present(m.msgid) || syslog_slice_present(m.structured_data));
                /* fall through */
        case SYSLOG_RFC5424:
                /* MSG is always the tail of the message. */
                assert_ptr_equal(m.msg.data + m.msg.size, input + size);
                assert_null(m.error);
                break;
        }
        return format;
}

static int parse_teardown(void **state) {
        (void) state;
        free(input);
        input = NULL;
        input_size = 0;
        context = "";
        return 0;
}

#define assert_absent(s) assert_null((s).data)

static void assert_slice_bytes(struct syslog_slice s, const char *want, size_t size) {
        assert_non_null(s.data);
        if (s.size != size || memcmp(s.data, want, size) != 0)
                fail_msg("%s: got '%.*s' (%zu bytes), want '%.*s' (%zu bytes)", context, (int) s.size, s.data,
                         s.size, (int) size, want, size);
}

/* want NULL: absent. */
static void assert_slice(struct syslog_slice s, const char *want) {
        if (!want && s.data)
                fail_msg("%s: got '%.*s', want it absent", context, (int) s.size, s.data);
        else if (want)
                assert_slice_bytes(s, want, strlen(want));
}

/* The params of a message, flattened for comparison: one string
 * "ID NAME=value" per param, "ID" for an element without any. */
struct sd_walk {
        char items[80][200];
        size_t count;
};

static void walk_sd(struct sd_walk *w) {
        struct syslog_sd_iterator it;
        struct syslog_slice id;
        char buf[4096];

        memset(w, 0, sizeof(*w));
        syslog_sd_iterator_init(&it, &m);
        while (syslog_sd_next_element(&it, &id)) {
                struct syslog_sd_param p;
                bool any = false;

                assert_inside(id);
                while (syslog_sd_next_param(&it, &p, buf, sizeof(buf)) == 1) {
                        assert_inside(p.name);
                        assert_inside(p.raw);
                        assert_true(p.value.size <= p.raw.size);
                        assert_true(w->count < ELEMENTSOF(w->items));
                        snprintf(w->items[w->count++], sizeof(w->items[0]), "%.*s %.*s=%.*s", (int) id.size, id.data,
                                 (int) p.name.size, p.name.data, (int) p.value.size, p.value.data);
                        any = true;
                }
                if (!any) {
                        assert_true(w->count < ELEMENTSOF(w->items));
                        snprintf(w->items[w->count++], sizeof(w->items[0]), "%.*s", (int) id.size, id.data);
                }
        }
}

static void assert_sd(const char *const *want, size_t n) {
        struct sd_walk w;

        walk_sd(&w);
        assert_int_equal(w.count, n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(w.items[i], want[i]);
}

/* ---- RFC 5424 ---- */

static void rfc5424_maps_every_header_field(void **state) {
        (void) state;
        assert_int_equal(parse(BYTES("<165>1 2026-11-28T03:04:52.123Z web01.example.org billing 4711 ORDER42 "
                                     "[order@32473 id=\"4711\"] paid in full")),
                         SYSLOG_RFC5424);
        assert_int_equal(m.facility, 20);
        assert_int_equal(m.severity, 5);
        assert_slice(m.timestamp, "2026-11-28T03:04:52.123Z");
        assert_slice(m.hostname, "web01.example.org");
        assert_slice(m.app_name, "billing");
        assert_slice(m.procid, "4711");
        assert_slice(m.msgid, "ORDER42");
        assert_slice(m.structured_data, "[order@32473 id=\"4711\"]");
        assert_int_equal(m.sd_elements, 1);
        assert_int_equal(m.sd_params, 1);
        assert_slice(m.msg, "paid in full");
        assert_false(m.bom);
}

static void rfc5424_nilvalues_leave_fields_absent(void **state) {
        (void) state;
        assert_int_equal(parse(BYTES("<14>1 - - - - - -")), SYSLOG_RFC5424);
        assert_absent(m.timestamp);
        assert_absent(m.hostname);
        assert_absent(m.app_name);
        assert_absent(m.procid);
        assert_absent(m.msgid);
        assert_absent(m.structured_data);
        assert_int_equal(m.sd_elements, 0);
        assert_slice(m.msg, "");

        assert_int_equal(parse(BYTES("<14>1 - - - - - - text")), SYSLOG_RFC5424);
        assert_slice(m.msg, "text");

        /* A space and no MSG: MSG is present and empty. */
        assert_int_equal(parse(BYTES("<14>1 - - - - - - ")), SYSLOG_RFC5424);
        assert_slice(m.msg, "");

        /* "-" is NILVALUE only as the whole field. */
        assert_int_equal(parse(BYTES("<14>1 - -host -app- -- x- - m")), SYSLOG_RFC5424);
        assert_slice(m.hostname, "-host");
        assert_slice(m.app_name, "-app-");
        assert_slice(m.procid, "--");
        assert_slice(m.msgid, "x-");
}

static void severity_is_the_pri_modulo_8_never_the_whole_pri(void **state) {
        char text[64];

        (void) state;
        for (unsigned pri = 0; pri <= 191; pri++) {
                int n = snprintf(text, sizeof(text), "<%u>1 - - - - - - x", pri);

                assert_int_equal(parse(text, (size_t) n), SYSLOG_RFC5424);
                assert_int_equal(m.facility, pri / 8);
                assert_int_equal(m.severity, pri % 8);

                n = snprintf(text, sizeof(text), "<%u>tag: x", pri);
                assert_int_equal(parse(text, (size_t) n), SYSLOG_RFC3164);
                assert_int_equal(m.facility, pri / 8);
                assert_int_equal(m.severity, pri % 8);
        }
}

static void rfc5424_timestamps_are_rfc3339(void **state) {
        static const char *const good[] = {
                "2026-11-28T03:04:52Z",
                "2026-11-28T03:04:52+01:00",
                "2026-11-28T03:04:52-05:30",
                "2026-11-28T03:04:52.1Z",
                "2026-11-28T03:04:52.123456+00:00",
                "2026-11-28T03:04:52.123456789Z",       /* nanoseconds: lenient */
                "2016-12-31T23:59:60Z",                 /* a leap second */
                "0000-01-01T00:00:00Z",
                "9999-12-31T23:59:59+23:59",
        };
        static const char *const bad[] = {
                "2026-11-28t03:04:52Z",
                "2026-11-28T03:04:52z",
                "2026-11-28T03:04:52",
                "2026-11-28 03:04:52Z",
                "2026-13-28T03:04:52Z",
                "2026-00-28T03:04:52Z",
                "2026-11-00T03:04:52Z",
                "2026-11-32T03:04:52Z",
                "2026-11-28T24:04:52Z",
                "2026-11-28T03:60:52Z",
                "2026-11-28T03:04:61Z",
                "2026-11-28T03:04:52.Z",
                "2026-11-28T03:04:52.1234567890Z",
                "2026-11-28T03:04:52+0100",
                "2026-11-28T03:04:52+01",
                "2026-11-28T03:04:52+24:00",
                "2026-11-28T03:04:52ZZ",
                "2026-1-28T03:04:52Z",
                "26-11-28T03:04:52Z",
                "Nov 28 03:04:52",
                "now",
        };
        char text[128];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                int n = snprintf(text, sizeof(text), "<13>1 %s h a p m - x", good[i]);

                assert_int_equal(parse(text, (size_t) n), SYSLOG_RFC5424);
                assert_slice(m.timestamp, good[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int n = snprintf(text, sizeof(text), "<13>1 %s h a p m - x", bad[i]);

                if (parse(text, (size_t) n) != SYSLOG_MALFORMED)
                        fail_msg("timestamp '%s' was taken", bad[i]);
        }
}

static void rfc5424_field_length_limits(void **state) {
        static const struct {
                const char *name;
                size_t max;
                const char *format;
        } fields[] = {
                { "HOSTNAME", SYSLOG_HOSTNAME_MAX, "<13>1 - %s a p m - x" },
                { "APP-NAME", SYSLOG_APP_NAME_MAX, "<13>1 - h %s p m - x" },
                { "PROCID", SYSLOG_PROCID_MAX, "<13>1 - h a %s m - x" },
                { "MSGID", SYSLOG_MSGID_MAX, "<13>1 - h a p %s - x" },
                { "SD-ID", SYSLOG_SD_NAME_MAX, "<13>1 - h a p m [%s] x" },
                { "PARAM-NAME", SYSLOG_SD_NAME_MAX, "<13>1 - h a p m [id %s=\"v\"] x" },
        };
        char value[300], text[400];

        (void) state;
        assert_int_equal(SYSLOG_HOSTNAME_MAX, 255);
        assert_int_equal(SYSLOG_APP_NAME_MAX, 48);
        assert_int_equal(SYSLOG_PROCID_MAX, 128);
        assert_int_equal(SYSLOG_MSGID_MAX, 32);
        assert_int_equal(SYSLOG_SD_NAME_MAX, 32);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                int n;

                memset(value, 'x', fields[i].max + 1);
                value[fields[i].max] = '\0';
                n = snprintf(text, sizeof(text), fields[i].format, value);
                if (parse(text, (size_t) n) != SYSLOG_RFC5424)
                        fail_msg("%s of %zu bytes refused", fields[i].name, fields[i].max);
                value[fields[i].max] = 'x';
                value[fields[i].max + 1] = '\0';
                n = snprintf(text, sizeof(text), fields[i].format, value);
                if (parse(text, (size_t) n) != SYSLOG_MALFORMED)
                        fail_msg("%s of %zu bytes taken", fields[i].name, fields[i].max + 1);
        }
}

static void rfc5424_header_fields_are_printable_ascii(void **state) {
        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - ho\0st a p m - x")), SYSLOG_MALFORMED);
        assert_int_equal(m.error_offset, 10);
        assert_int_equal(parse(BYTES("<13>1 - host \xc3\xa4pp p m - x")), SYSLOG_MALFORMED);
        assert_int_equal(parse(BYTES("<13>1 - host app p\tq m - x")), SYSLOG_MALFORMED);
        assert_int_equal(parse(BYTES("<13>1 - host app p m\x7f - x")), SYSLOG_MALFORMED);
        /* MSG is anything. */
        assert_int_equal(parse(BYTES("<13>1 - h a p m - \0\xff\xfe \x01")), SYSLOG_RFC5424);
        assert_slice_bytes(m.msg, BYTES("\0\xff\xfe \x01"));
}

static void rfc5424_missing_spaces_are_malformed(void **state) {
        static const char *const bad[] = {
                "<13>1  - h a p m - x",         /* an empty TIMESTAMP */
                "<13>1 -  a p m - x",
                "<13>1 - h  p m - x",
                "<13>1 - h a  m - x",
                "<13>1 - h a p  - x",
                "<13>1 - h a p m  x",           /* no STRUCTURED-DATA */
                "<13>1 - h a p m -x",           /* NILVALUE glued to MSG */
                "<13>1 - h a p m [a]x",
                "<13>1 -h a p m - x",
                "<13>1 - h a p m",
                "<13>1 - h a p m ",
                "<13>1 - h a p",
                "<13>1 ",
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (parse(bad[i], strlen(bad[i])) != SYSLOG_MALFORMED)
                        fail_msg("'%s': format %d", bad[i], m.format);
        /* After the SD and its space everything is MSG, brackets too. */
        assert_int_equal(parse(BYTES("<13>1 - h a p m [a] [b")), SYSLOG_RFC5424);
        assert_slice(m.msg, "[b");
        assert_int_equal(m.sd_elements, 1);
}

static void malformed_says_what_and_where(void **state) {
        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - h a p m - x")), SYSLOG_RFC5424);

        assert_int_equal(parse(BYTES("<13>1 2026-11-28T03:04:52 h a p m - x")), SYSLOG_MALFORMED);
        assert_string_equal(m.error, "the TIMESTAMP is not RFC 3339");
        assert_int_equal(m.error_offset, 6);
        /* The PRI is kept for a caller that wants it. */
        assert_int_equal(m.facility, 1);
        assert_int_equal(m.severity, 5);

        assert_int_equal(parse(BYTES("<13>1 - h a p m -x")), SYSLOG_MALFORMED);
        assert_string_equal(m.error, "no space between STRUCTURED-DATA and MSG");
        assert_int_equal(m.error_offset, 17);

        assert_int_equal(parse(BYTES("<13>1 - h a p m x")), SYSLOG_MALFORMED);
        assert_string_equal(m.error, "STRUCTURED-DATA is neither '-' nor '['");
        assert_int_equal(m.error_offset, 16);

        assert_int_equal(parse(BYTES("<13>")), SYSLOG_MALFORMED);
        assert_string_equal(m.error, "nothing follows the PRI");
        assert_int_equal(m.error_offset, 4);
}

static void version_other_than_1_is_rfc3164_content(void **state) {
        (void) state;
        /* Only "1 " commits to RFC 5424. */
        assert_int_equal(parse(BYTES("<13>100 bottles")), SYSLOG_RFC3164);
        assert_slice(m.msg, "100 bottles");
        assert_int_equal(parse(BYTES("<13>2 - - - - - - x")), SYSLOG_RFC3164);
        assert_slice(m.msg, "2 - - - - - - x");
        assert_int_equal(parse(BYTES("<13>1")), SYSLOG_RFC3164);
        assert_slice(m.msg, "1");
        assert_int_equal(parse(BYTES("<13>1x")), SYSLOG_RFC3164);
        /* And once committed, a message that does not fit is malformed. */
        assert_int_equal(parse(BYTES("<13>1 apple")), SYSLOG_MALFORMED);
}

/* ---- structured data ---- */

static void sd_escapes_are_decoded(void **state) {
        static const char *const want[] = {
                "esc q=a\"b",
                "esc b=back\\slash",
                "esc r=]",
                "esc all=\"\\]",
                /* A backslash before anything else stays, with that byte. */
                "esc other=\\n\\x\\",
                "esc tail=x\\",
        };

        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - - - - - [esc q=\"a\\\"b\" b=\"back\\\\slash\" r=\"\\]\" "
                                     "all=\"\\\"\\\\\\]\" other=\"\\n\\x\\\\\" tail=\"x\\\\\"] m")),
                         SYSLOG_RFC5424);
        assert_int_equal(m.sd_params, 6);
        assert_sd(want, ELEMENTSOF(want));
}

static void sd_several_elements_and_empty_values(void **state) {
        static const char *const want[] = {
                "a x=",
                "b@32473 y=1",
                "b@32473 z=",
                "c",
                "d@1 k=v w",
        };

        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - - - - - [a x=\"\"][b@32473 y=\"1\" z=\"\"][c][d@1 k=\"v w\"] msg")),
                         SYSLOG_RFC5424);
        assert_int_equal(m.sd_elements, 4);
        assert_int_equal(m.sd_params, 4);
        assert_slice(m.structured_data, "[a x=\"\"][b@32473 y=\"1\" z=\"\"][c][d@1 k=\"v w\"]");
        assert_slice(m.msg, "msg");
        assert_sd(want, ELEMENTSOF(want));
}

static void sd_value_may_hold_an_unescaped_bracket_and_any_byte(void **state) {
        static const char *const want[] = { "id v=a]b", "id w=caf\xc3\xa9 \xff" };

        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - - - - - [id v=\"a]b\" w=\"caf\xc3\xa9 \xff\"] m")), SYSLOG_RFC5424);
        assert_sd(want, ELEMENTSOF(want));

        assert_int_equal(parse(BYTES("<13>1 - - - - - [id v=\"a\0b\"] m")), SYSLOG_RFC5424);
        {
                struct syslog_sd_iterator it;
                struct syslog_sd_param p;
                struct syslog_slice id;
                char buf[16];

                syslog_sd_iterator_init(&it, &m);
                assert_true(syslog_sd_next_element(&it, &id));
                assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 1);
                assert_slice_bytes(p.value, BYTES("a\0b"));
        }
}

static void sd_duplicate_ids_are_kept(void **state) {
        static const char *const want[] = { "x a=1", "x a=2" };

        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - - - - - [x a=\"1\"][x a=\"2\"]")), SYSLOG_RFC5424);
        assert_sd(want, ELEMENTSOF(want));
}

static void malformed_sd_is_malformed(void **state) {
        static const char *const bad[] = {
                "[",
                "[]",
                "[a",
                "[a ",
                "[a ]",
                "[a x]",
                "[a x=]",
                "[a x=1]",
                "[a x=\"1]",
                "[a x=\"1\\\"]",
                "[a x=\"1\"",
                "[a x=\"1\"y=\"2\"]",
                "[a  x=\"1\"]",
                "[a x =\"1\"]",
                "[a x= \"1\"]",
                "[a=b]",
                "[a\"b]",
                "[a b]c]",
                "[ a]",
                "[a\tb=\"1\"]",
                "[\xc3\xa4 x=\"1\"]",
                "[a \xc3\xa4=\"1\"]",
                "[a x=\"1\"]]",
                "[a x=\"1\"][",
                "[a x=\"1\"]x",
                "[a x=\"1\"]\"",
        };
        char text[128];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                int n = snprintf(text, sizeof(text), "<13>1 - - - - - %s", bad[i]);

                if (parse(text, (size_t) n) != SYSLOG_MALFORMED)
                        fail_msg("'%s' was taken", bad[i]);
                n = snprintf(text, sizeof(text), "<13>1 - - - - - %s msg", bad[i]);
                if (parse(text, (size_t) n) != SYSLOG_MALFORMED)
                        fail_msg("'%s msg' was taken", bad[i]);
        }
}

static void sd_counts_all_but_reports_a_bounded_number(void **state) {
        char text[8192];
        size_t n = 0, elements = 0, params = 0;
        struct syslog_sd_iterator it;
        struct syslog_slice id;

        (void) state;
        n += (size_t) snprintf(text + n, sizeof(text) - n, "<13>1 - - - - - ");
        for (int e = 0; e < 20; e++) {
                n += (size_t) snprintf(text + n, sizeof(text) - n, "[e%d", e);
                for (int p = 0; p < 5; p++)
                        n += (size_t) snprintf(text + n, sizeof(text) - n, " p%d=\"%d\"", p, e * 5 + p);
                n += (size_t) snprintf(text + n, sizeof(text) - n, "]");
        }
        n += (size_t) snprintf(text + n, sizeof(text) - n, " msg");
        assert_true(n < sizeof(text));

        assert_int_equal(parse(text, n), SYSLOG_RFC5424);
        assert_int_equal(m.sd_elements, 20);
        assert_int_equal(m.sd_params, 100);
        assert_slice(m.msg, "msg");

        syslog_sd_iterator_init(&it, &m);
        while (syslog_sd_next_element(&it, &id)) {
                struct syslog_sd_param p;
                char buf[16];

                elements++;
                while (syslog_sd_next_param(&it, &p, buf, sizeof(buf)) == 1)
                        params++;
        }
        assert_int_equal(elements, SYSLOG_SD_ELEMENTS_MAX);
        assert_int_equal(params, SYSLOG_SD_PARAMS_MAX);
        /* Stays at the end. */
        assert_false(syslog_sd_next_element(&it, &id));
}

static void sd_next_element_skips_the_params_not_read(void **state) {
        struct syslog_sd_iterator it;
        struct syslog_sd_param p;
        struct syslog_slice id;
        char buf[16];

        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - - - - - [a x=\"1\" y=\"\\]\"][b z=\"2\"] m")), SYSLOG_RFC5424);
        syslog_sd_iterator_init(&it, &m);
        assert_true(syslog_sd_next_element(&it, &id));
        assert_slice(id, "a");
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 1);
        assert_slice(p.name, "x");
        assert_true(syslog_sd_next_element(&it, &id));
        assert_slice(id, "b");
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 1);
        assert_slice(p.name, "z");
        assert_slice(p.value, "2");
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 0);
        assert_false(syslog_sd_next_element(&it, &id));
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 0);
}

static void sd_value_too_big_for_the_buffer_is_skipped_with_enobufs(void **state) {
        struct syslog_sd_iterator it;
        struct syslog_sd_param p;
        struct syslog_slice id;
        char buf[4];

        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - - - - - [a x=\"12345\" y=\"1\\\"34\" z=\"1234\"] m")), SYSLOG_RFC5424);
        syslog_sd_iterator_init(&it, &m);
        assert_true(syslog_sd_next_element(&it, &id));
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), -ENOBUFS);
        assert_slice(p.name, "x");
        assert_slice(p.raw, "12345");
        assert_int_equal(p.value.size, 0);
        /* Decoded it fits: 1"34. */
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 1);
        assert_slice_bytes(p.value, BYTES("1\"34"));
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 1);
        assert_slice(p.value, "1234");
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, 0), 0);
}

static void sd_iterator_without_sd_or_on_a_bad_slice_stops(void **state) {
        struct syslog_message hand = { 0 };
        struct syslog_sd_iterator it;
        struct syslog_sd_param p;
        struct syslog_slice id;
        char buf[16];
        static const char broken[] = "[a x=\"1\"][b y=";

        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - - - - - - m")), SYSLOG_RFC5424);
        syslog_sd_iterator_init(&it, &m);
        assert_false(syslog_sd_next_element(&it, &id));
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 0);

        /* A caller's own slice, not from syslog_parse(): the iterator reads
         * what is good and stops at the break. */
        hand.structured_data = (struct syslog_slice) { .data = broken, .size = sizeof(broken) - 1 };
        syslog_sd_iterator_init(&it, &hand);
        assert_true(syslog_sd_next_element(&it, &id));
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 1);
        assert_true(syslog_sd_next_element(&it, &id));
        assert_int_equal(syslog_sd_next_param(&it, &p, buf, sizeof(buf)), 0);
        assert_false(syslog_sd_next_element(&it, &id));
}

/* ---- BOM ---- */

static void bom_is_stripped_from_msg(void **state) {
        (void) state;
        assert_int_equal(parse(BYTES("<13>1 - - - - - - \xef\xbb\xbf" "caf\xc3\xa9")), SYSLOG_RFC5424);
        assert_true(m.bom);
        assert_slice(m.msg, "caf\xc3\xa9");

        assert_int_equal(parse(BYTES("<13>1 - - - - - - \xef\xbb\xbf")), SYSLOG_RFC5424);
        assert_true(m.bom);
        assert_slice(m.msg, "");

        /* Only at the start, and only whole. */
        assert_int_equal(parse(BYTES("<13>1 - - - - - - a\xef\xbb\xbf")), SYSLOG_RFC5424);
        assert_false(m.bom);
        assert_slice(m.msg, "a\xef\xbb\xbf");
        assert_int_equal(parse(BYTES("<13>1 - - - - - - \xef\xbb")), SYSLOG_RFC5424);
        assert_false(m.bom);
        assert_slice(m.msg, "\xef\xbb");
        assert_int_equal(parse(BYTES("<13>1 - - - - - -  \xef\xbb\xbfx")), SYSLOG_RFC5424);
        assert_false(m.bom);

        /* RFC 3164: after the PRI (Python 2.7) and at the start of MSG. */
        assert_int_equal(parse(BYTES("<14>\xef\xbb\xbfmyapp: hello")), SYSLOG_RFC3164);
        assert_true(m.bom);
        assert_slice(m.app_name, "myapp");
        assert_slice(m.msg, "hello");
        assert_int_equal(parse(BYTES("<14>Dec  1 10:00:00 vm myapp: \xef\xbb\xbfhello")), SYSLOG_RFC3164);
        assert_true(m.bom);
        assert_slice(m.msg, "hello");
}

/* ---- RFC 3164 ---- */

struct bsd_case {
        const char *in;
        const char *timestamp, *hostname, *tag, *pid, *msg;
};

static void assert_bsd_cases(const struct bsd_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const struct bsd_case *c = &cases[i];

                context = c->in;
                if (parse(c->in, strlen(c->in)) != SYSLOG_RFC3164)
                        fail_msg("'%s': format %d", c->in, m.format);
                assert_slice(m.timestamp, c->timestamp);
                assert_slice(m.hostname, c->hostname);
                assert_slice(m.app_name, c->tag);
                assert_slice(m.procid, c->pid);
                assert_slice(m.msg, c->msg);
        }
}

static void rfc3164_timestamps(void **state) {
        static const struct bsd_case cases[] = {
                /* The day padded with a space, as RFC 3164 says. */
                { "<13>Dec  1 10:00:00 vm su: x", "Dec  1 10:00:00", "vm", "su", NULL, "x" },
                { "<13>Dec 11 10:00:00 vm su: x", "Dec 11 10:00:00", "vm", "su", NULL, "x" },
                /* Zero-padded, or a single digit. */
                { "<13>Dec 01 10:00:00 vm su: x", "Dec 01 10:00:00", "vm", "su", NULL, "x" },
                { "<13>Dec 1 10:00:00 vm su: x", "Dec 1 10:00:00", "vm", "su", NULL, "x" },
                /* With a year, or a fraction. */
                { "<13>Dec  1 2026 10:00:00 vm su: x", "Dec  1 2026 10:00:00", "vm", "su", NULL, "x" },
                { "<13>Mar  1 18:46:11.123 vm su: x", "Mar  1 18:46:11.123", "vm", "su", NULL, "x" },
                /* RFC 3339 in its place (rsyslog's RSYSLOG_ForwardFormat). */
                { "<13>2026-12-02T00:57:50.086104+00:00 vm su: x", "2026-12-02T00:57:50.086104+00:00", "vm", "su",
                  NULL, "x" },
                { "<13>2026-12-02T00:57:50Z vm su: x", "2026-12-02T00:57:50Z", "vm", "su", NULL, "x" },
                /* Every month. */
                { "<13>Jan 31 23:59:59 h t: x", "Jan 31 23:59:59", "h", "t", NULL, "x" },
                { "<13>Feb  2 00:00:00 h t: x", "Feb  2 00:00:00", "h", "t", NULL, "x" },
                { "<13>Mar  3 00:00:00 h t: x", "Mar  3 00:00:00", "h", "t", NULL, "x" },
                { "<13>Apr  4 00:00:00 h t: x", "Apr  4 00:00:00", "h", "t", NULL, "x" },
                { "<13>May  5 00:00:00 h t: x", "May  5 00:00:00", "h", "t", NULL, "x" },
                { "<13>Jun  6 00:00:00 h t: x", "Jun  6 00:00:00", "h", "t", NULL, "x" },
                { "<13>Jul  7 00:00:00 h t: x", "Jul  7 00:00:00", "h", "t", NULL, "x" },
                { "<13>Aug  8 00:00:00 h t: x", "Aug  8 00:00:00", "h", "t", NULL, "x" },
                { "<13>Sep  9 00:00:00 h t: x", "Sep  9 00:00:00", "h", "t", NULL, "x" },
                { "<13>Oct 10 00:00:00 h t: x", "Oct 10 00:00:00", "h", "t", NULL, "x" },
                { "<13>Nov 11 00:00:00 h t: x", "Nov 11 00:00:00", "h", "t", NULL, "x" },
                /* Not a timestamp: the bytes stay in MSG. */
                { "<13>Dec 32 10:00:00 vm su: x", NULL, NULL, NULL, NULL, "Dec 32 10:00:00 vm su: x" },
                { "<13>Dec  0 10:00:00 vm su: x", NULL, NULL, NULL, NULL, "Dec  0 10:00:00 vm su: x" },
                { "<13>DEC  1 10:00:00 vm su: x", NULL, NULL, NULL, NULL, "DEC  1 10:00:00 vm su: x" },
                { "<13>Dez  1 10:00:00 vm su: x", NULL, NULL, NULL, NULL, "Dez  1 10:00:00 vm su: x" },
                { "<13>Dec  1 25:00:00 vm su: x", NULL, NULL, NULL, NULL, "Dec  1 25:00:00 vm su: x" },
                { "<13>Dec  1 10:00 vm su: x", NULL, NULL, NULL, NULL, "Dec  1 10:00 vm su: x" },
                { "<13>Dec   1 10:00:00 vm su: x", NULL, NULL, NULL, NULL, "Dec   1 10:00:00 vm su: x" },
                { "<13>Dec  1 10:00:00", NULL, NULL, NULL, NULL, "Dec  1 10:00:00" },
                { "<13>Dec  1 10:00:00vm su: x", NULL, NULL, NULL, NULL, "Dec  1 10:00:00vm su: x" },
                { "<13>May I help: x", NULL, NULL, NULL, NULL, "May I help: x" },
                { "<13>2026-12-02 00:57:50 vm su: x", NULL, NULL, NULL, NULL, "2026-12-02 00:57:50 vm su: x" },
        };

        (void) state;
        assert_bsd_cases(cases, ELEMENTSOF(cases));
}

static void rfc3164_hostname_only_after_a_timestamp(void **state) {
        static const struct bsd_case cases[] = {
                /* No timestamp, no hostname: "host" has no ':' or "[pid]", so no tag either. */
                { "<13>host tag: msg", NULL, NULL, NULL, NULL, "host tag: msg" },
                { "<13>tag: msg", NULL, NULL, "tag", NULL, "msg" },
                /* After a timestamp a word ending in ':' is the tag (the local shape). */
                { "<13>Dec  1 10:00:00 tag: msg", "Dec  1 10:00:00", NULL, "tag", NULL, "msg" },
                { "<13>Dec  1 10:00:00 tag[12]: msg", "Dec  1 10:00:00", NULL, "tag", "12", "msg" },
                { "<13>Dec  1 10:00:00 postfix/smtpd: msg", "Dec  1 10:00:00", NULL, "postfix/smtpd", NULL, "msg" },
                /* Addresses. */
                { "<13>Dec  1 10:00:00 192.0.2.7 su: x", "Dec  1 10:00:00", "192.0.2.7", "su", NULL, "x" },
                { "<13>Dec  1 10:00:00 2001:db8::7 su: x", "Dec  1 10:00:00", "2001:db8::7", "su", NULL, "x" },
                { "<13>Dec  1 10:00:00 host_name.example-1.org su: x", "Dec  1 10:00:00",
                  "host_name.example-1.org", "su", NULL, "x" },
                /* One colon inside is a tag, not a host ("tag:x" has no tag: see the tag rules). */
                { "<13>Dec  1 10:00:00 tag:x y", "Dec  1 10:00:00", NULL, NULL, NULL, "tag:x y" },
                /* Timestamp and then the end, or two spaces. */
                { "<13>Dec  1 10:00:00 ", "Dec  1 10:00:00", NULL, NULL, NULL, "" },
                { "<13>Dec  1 10:00:00 vm", "Dec  1 10:00:00", NULL, NULL, NULL, "vm" },
                { "<13>Dec  1 10:00:00  vm su: x", "Dec  1 10:00:00", NULL, NULL, NULL, " vm su: x" },
                /* A hostname and no tag: a full header makes the next word the tag. */
                { "<13>Dec  1 10:00:00 vm ", "Dec  1 10:00:00", "vm", NULL, NULL, "" },
                { "<13>Dec  1 10:00:00 vm myapp no pid here", "Dec  1 10:00:00", "vm", "myapp", NULL,
                  "no pid here" },
                /* Whatever the word is, as rsyslog reads it; unless it cannot be a tag. */
                { "<13>Dec  1 10:00:00 vm myapp, x", "Dec  1 10:00:00", "vm", "myapp,", NULL, "x" },
                { "<13>Dec  1 10:00:00 vm \xc3\xa4rger x", "Dec  1 10:00:00", "vm", NULL, NULL, "\xc3\xa4rger x" },
                { "<13>Dec  1 10:00:00 vm :x", "Dec  1 10:00:00", "vm", NULL, NULL, ":x" },
        };

        (void) state;
        assert_bsd_cases(cases, ELEMENTSOF(cases));
}

static void rfc3164_hostname_limit(void **state) {
        char text[400];
        int n;

        (void) state;
        memset(text, 0, sizeof(text));
        memcpy(text, "<13>Dec  1 10:00:00 ", 20);
        memset(text + 20, 'h', 255);
        memcpy(text + 275, " su: x", 6);
        n = 281;
        assert_int_equal(parse(text, (size_t) n), SYSLOG_RFC3164);
        assert_int_equal(m.hostname.size, 255);
        assert_slice(m.app_name, "su");

        memset(text + 20, 'h', 256);
        memcpy(text + 276, " su: x", 6);
        n = 282;
        assert_int_equal(parse(text, (size_t) n), SYSLOG_RFC3164);
        assert_absent(m.hostname);
        assert_absent(m.app_name);
        assert_int_equal(m.msg.size, 256 + 6);
}

static void rfc3164_tags(void **state) {
        static const struct bsd_case cases[] = {
                { "<13>tag: msg", NULL, NULL, "tag", NULL, "msg" },
                { "<13>tag:  msg", NULL, NULL, "tag", NULL, " msg" },
                { "<13>tag:", NULL, NULL, "tag", NULL, "" },
                { "<13>tag: ", NULL, NULL, "tag", NULL, "" },
                { "<13>tag[123]: msg", NULL, NULL, "tag", "123", "msg" },
                { "<13>tag[123]:msg", NULL, NULL, "tag", "123", "msg" },
                { "<13>tag[123] msg", NULL, NULL, "tag", "123", "msg" },
                { "<13>tag[123]", NULL, NULL, "tag", "123", "" },
                { "<13>tag[123]:", NULL, NULL, "tag", "123", "" },
                { "<13>tag[abc-1]: msg", NULL, NULL, "tag", "abc-1", "msg" },
                { "<13>postfix/smtpd[99]: x", NULL, NULL, "postfix/smtpd", "99", "x" },
                { "<13>org.gnome.Shell.desktop[2007]: x", NULL, NULL, "org.gnome.Shell.desktop", "2007", "x" },
                /* Not tags. */
                { "<13>tag:msg", NULL, NULL, NULL, NULL, "tag:msg" },
                { "<13>http://example.org is down", NULL, NULL, NULL, NULL, "http://example.org is down" },
                { "<13>tag msg", NULL, NULL, NULL, NULL, "tag msg" },
                { "<13>tag[]: msg", NULL, NULL, NULL, NULL, "tag[]: msg" },
                { "<13>tag[12: msg", NULL, NULL, NULL, NULL, "tag[12: msg" },
                { "<13>tag[1 2]: msg", NULL, NULL, NULL, NULL, "tag[1 2]: msg" },
                { "<13>tag[12]x msg", NULL, NULL, NULL, NULL, "tag[12]x msg" },
                { "<13>tag[1[2]: msg", NULL, NULL, NULL, NULL, "tag[1[2]: msg" },
                { "<13>[12]: msg", NULL, NULL, NULL, NULL, "[12]: msg" },
                { "<13>: msg", NULL, NULL, NULL, NULL, ": msg" },
                { "<13> tag: msg", NULL, NULL, NULL, NULL, " tag: msg" },
                { "<13>t\xc3\xa4g: msg", NULL, NULL, NULL, NULL, "t\xc3\xa4g: msg" },
                { "<13>ta]g: msg", NULL, NULL, NULL, NULL, "ta]g: msg" },
        };
        char text[400];

        (void) state;
        assert_bsd_cases(cases, ELEMENTSOF(cases));

        /* Lengths: a tag like APP-NAME, a pid like PROCID. */
        memset(text, 0, sizeof(text));
        memcpy(text, "<13>", 4);
        memset(text + 4, 't', SYSLOG_APP_NAME_MAX);
        memcpy(text + 4 + SYSLOG_APP_NAME_MAX, ": x", 3);
        assert_int_equal(parse(text, strlen(text)), SYSLOG_RFC3164);
        assert_int_equal(m.app_name.size, SYSLOG_APP_NAME_MAX);
        memset(text + 4, 't', SYSLOG_APP_NAME_MAX + 1);
        memcpy(text + 5 + SYSLOG_APP_NAME_MAX, ": x", 3);
        assert_int_equal(parse(text, strlen(text)), SYSLOG_RFC3164);
        assert_absent(m.app_name);
        assert_int_equal(m.msg.size, SYSLOG_APP_NAME_MAX + 4);

        memset(text, 0, sizeof(text));
        memcpy(text, "<13>t[", 6);
        memset(text + 6, '7', SYSLOG_PROCID_MAX);
        memcpy(text + 6 + SYSLOG_PROCID_MAX, "]: x", 4);
        assert_int_equal(parse(text, strlen(text)), SYSLOG_RFC3164);
        assert_int_equal(m.procid.size, SYSLOG_PROCID_MAX);
        memset(text + 6, '7', SYSLOG_PROCID_MAX + 1);
        memcpy(text + 7 + SYSLOG_PROCID_MAX, "]: x", 4);
        assert_int_equal(parse(text, strlen(text)), SYSLOG_RFC3164);
        assert_absent(m.app_name);
        assert_absent(m.procid);
}

static void rfc3164_msg_is_binary_safe(void **state) {
        (void) state;
        /* Python's SysLogHandler ends each record with a NUL; should one
         * reach the parser it stays in MSG. */
        assert_int_equal(parse(BYTES("<14>app: caf\xc3\xa9 \xff\0")), SYSLOG_RFC3164);
        assert_slice(m.app_name, "app");
        assert_slice_bytes(m.msg, BYTES("caf\xc3\xa9 \xff\0"));
        assert_int_equal(parse(BYTES("<14>\0")), SYSLOG_RFC3164);
        assert_slice_bytes(m.msg, BYTES("\0"));
}

/* ---- not syslog, malformed ---- */

static void bad_pri_is_not_syslog(void **state) {
        static const char *const bad[] = {
                "",
                "plain text",
                "<",
                "<>",
                "<>x",
                "<1",
                "<13",
                "<13 >x",
                "< 13>x",
                "<1234>x",
                "<192>x",
                "<999>x",
                "<00>x",
                "<01>x",
                "<013>x",
                "<000>x",
                "<-1>x",
                "<+1>x",
                "<a>x",
                "<1a>x",
                " <13>x",
                "13>x",
                "<99999999999999999999>x",
                "<html><body>",
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (parse(bad[i], strlen(bad[i])) != SYSLOG_NONE)
                        fail_msg("'%s': format %d", bad[i], m.format);
        assert_int_equal(syslog_parse(NULL, 0, &m), SYSLOG_NONE);
        assert_null(m.msg.data);
        assert_int_equal(m.msg.size, 0);
}

static void pri_edges(void **state) {
        static const struct {
                const char *in;
                unsigned facility, severity;
        } cases[] = {
                { "<0>x", 0, 0 },
                { "<7>x", 0, 7 },
                { "<8>x", 1, 0 },
                { "<10>x", 1, 2 },
                { "<99>x", 12, 3 },
                { "<100>x", 12, 4 },
                { "<191>x", 23, 7 },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_int_equal(parse(cases[i].in, strlen(cases[i].in)), SYSLOG_RFC3164);
                assert_int_equal(m.facility, cases[i].facility);
                assert_int_equal(m.severity, cases[i].severity);
                assert_slice(m.msg, "x");
        }
}

static void nothing_after_the_pri_is_malformed(void **state) {
        (void) state;
        assert_int_equal(parse(BYTES("<13>")), SYSLOG_MALFORMED);
        assert_int_equal(parse(BYTES("<0>")), SYSLOG_MALFORMED);
        assert_int_equal(parse(BYTES("<191>")), SYSLOG_MALFORMED);
        assert_int_equal(m.severity, 7);
}

/* logger --tcp -n 127.0.0.1 -P PORT -p auth.err -t myapp --id=4711 --msgid ID47 \
 *     --sd-id zoo@32473 --sd-param tiger=\"hungry\" \
 *     --sd-param "zebra=\"stripes \\\"black\\\" \\\\ white \\] ok\"" "the animals"
 * (util-linux 2.38.1) to a TCP listener on 127.0.0.1, without its '\n'. */
static const char logger_sd[] =
        "<35>1 2026-12-02T00:57:18.335747+00:00 vm myapp 4711 ID47 [timeQuality tzKnown=\"1\" isSynced=\"0\"]"
        "[zoo@32473 tiger=\"hungry\" zebra=\"stripes \\\"black\\\" \\\\ white \\] ok\"] the animals";

static void truncated_rfc5424_at_every_byte(void **state) {
        const size_t size = sizeof(logger_sd) - 1;
        const size_t first_element_end = (size_t) (strstr(logger_sd, "][zoo") + 1 - logger_sd);
        const size_t sd_end = (size_t) (strstr(logger_sd, "] the animals") + 1 - logger_sd);

        (void) state;
        for (size_t n = 0; n <= size; n++) {
                enum syslog_format f = parse(logger_sd, n), want;

                if (n < 4)
                        want = SYSLOG_NONE;             /* "<35" */
                else if (n == 5)
                        want = SYSLOG_RFC3164;          /* "<35>1" */
                else if (n < sd_end && n != first_element_end)
                        want = SYSLOG_MALFORMED;        /* "<35>" too */
                else
                        want = SYSLOG_RFC5424;
                if (f != want)
                        fail_msg("cut at %zu: format %d, want %d", n, f, want);
                if (f == SYSLOG_RFC5424) {
                        assert_slice(m.procid, "4711");
                        assert_slice(m.msgid, "ID47");
                        assert_int_equal(m.sd_elements, n == first_element_end ? 1 : 2);
                        assert_int_equal(m.msg.size, n > sd_end ? n - sd_end - 1 : 0);
                }
        }
}

/* logger --rfc3164 --tcp -n 127.0.0.1 -P PORT -p local0.warning -t myapp -i "disk almost full" */
static const char logger_3164[] = "<132>Dec  2 00:57:15 vm myapp[18271]: disk almost full";

static void truncated_rfc3164_at_every_byte(void **state) {
        const size_t size = sizeof(logger_3164) - 1;

        (void) state;
        for (size_t n = 0; n <= size; n++) {
                enum syslog_format f = parse(logger_3164, n);

                if (n < 5) {
                        assert_int_equal(f, SYSLOG_NONE);
                        continue;
                }
                if (n == 5) {
                        assert_int_equal(f, SYSLOG_MALFORMED);
                        continue;
                }
                assert_int_equal(f, SYSLOG_RFC3164);
                /* A field is only ever reported whole. */
                if (syslog_slice_present(m.timestamp))
                        assert_slice(m.timestamp, "Dec  2 00:57:15");
                if (syslog_slice_present(m.hostname))
                        assert_slice(m.hostname, "vm");
                if (syslog_slice_present(m.app_name))
                        assert_slice(m.app_name, "myapp");
                if (syslog_slice_present(m.procid))
                        assert_slice(m.procid, "18271");
                if (n >= 21)
                        assert_slice(m.timestamp, "Dec  2 00:57:15");
                if (n >= 37)
                        assert_slice(m.procid, "18271");
        }
}

/* ---- real senders ---- */

struct real_case {
        const char *how;
        const char *in;
        size_t size;
        enum syslog_format format;
        unsigned facility, severity;
        const char *timestamp, *hostname, *app_name, *procid, *msgid, *sd, *msg;
};

/* Captured on Debian 12 (util-linux 2.38.1, rsyslog 8.2302.0, Python 3.11.7)
 * with a TCP listener on 127.0.0.1 (a Python socket that wrote what it
 * received to a file) or a unix datagram socket for the local shapes; the
 * bytes are exact, without the framing ('\n', the octet count, Python's
 * NUL). */
static const struct real_case real[] = {
        {
                "logger --tcp -n 127.0.0.1 -P PORT -p local0.warning -t myapp \"disk almost full\"",
                BYTES("<132>1 2026-12-02T00:57:12.938552+00:00 vm myapp - - [timeQuality tzKnown=\"1\" isSynced=\"0\"] "
                      "disk almost full"),
                SYSLOG_RFC5424, 16, 4, "2026-12-02T00:57:12.938552+00:00", "vm", "myapp", NULL, NULL,
                "[timeQuality tzKnown=\"1\" isSynced=\"0\"]", "disk almost full",
        },
        {
                "logger --rfc5424=notime,notq,nohost --tcp -n 127.0.0.1 -P PORT -p user.notice \"no time no host\"",
                BYTES("<13>1 - - root - - - no time no host"),
                SYSLOG_RFC5424, 1, 5, NULL, NULL, "root", NULL, NULL, NULL, "no time no host",
        },
        {
                "logger --octet-count --tcp -n 127.0.0.1 -P PORT -t myapp one two (the frame after \"98 \")",
                BYTES("<13>1 2026-12-02T00:57:23.782825+00:00 vm myapp - - [timeQuality tzKnown=\"1\" isSynced=\"0\"] "
                      "one two"),
                SYSLOG_RFC5424, 1, 5, "2026-12-02T00:57:23.782825+00:00", "vm", "myapp", NULL, NULL,
                "[timeQuality tzKnown=\"1\" isSynced=\"0\"]", "one two",
        },
        {
                "logger --rfc3164 --tcp -n 127.0.0.1 -P PORT -p local0.warning -t myapp -i \"disk almost full\"",
                BYTES("<132>Dec  2 00:57:15 vm myapp[18271]: disk almost full"),
                SYSLOG_RFC3164, 16, 4, "Dec  2 00:57:15", "vm", "myapp", "18271", NULL, NULL, "disk almost full",
        },
        {
                "logger -u SOCKET -t myapp -i -p local1.info \"local default\"",
                BYTES("<142>Dec  2 00:59:55 myapp[27693]: local default"),
                SYSLOG_RFC3164, 17, 6, "Dec  2 00:59:55", NULL, "myapp", "27693", NULL, NULL, "local default",
        },
        {
                "logger -u SOCKET --rfc3164 -t myapp -p local1.info \"local 3164\"",
                BYTES("<142>Dec  2 00:59:55 vm myapp: local 3164"),
                SYSLOG_RFC3164, 17, 6, "Dec  2 00:59:55", "vm", "myapp", NULL, NULL, NULL, "local 3164",
        },
        {
                "logger -u SOCKET --rfc5424 -t myapp -p local1.info --msgid M1 \"local 5424\"",
                BYTES("<142>1 2026-12-02T00:59:55.385067+00:00 vm myapp - M1 [timeQuality tzKnown=\"1\" isSynced=\"0\"] "
                      "local 5424"),
                SYSLOG_RFC5424, 17, 6, "2026-12-02T00:59:55.385067+00:00", "vm", "myapp", NULL, "M1",
                "[timeQuality tzKnown=\"1\" isSynced=\"0\"]", "local 5424",
        },
        /* logging.handlers.SysLogHandler(address=("127.0.0.1", PORT), socktype=socket.SOCK_STREAM,
         * facility=LOG_LOCAL3), logger "app"; each record ended by a NUL. */
        {
                "Python SysLogHandler, no ident, log.warning(\"plain, no ident\")",
                BYTES("<156>plain, no ident"),
                SYSLOG_RFC3164, 19, 4, NULL, NULL, NULL, NULL, NULL, NULL, "plain, no ident",
        },
        {
                "Python SysLogHandler, h.ident = \"myapp: \", log.error(\"with ident\")",
                BYTES("<155>myapp: with ident"),
                SYSLOG_RFC3164, 19, 3, NULL, NULL, "myapp", NULL, NULL, NULL, "with ident",
        },
        {
                "Python SysLogHandler, Formatter(\"%(name)s[%(process)d]: %(message)s\"), log.info(\"tag and pid\")",
                BYTES("<158>app[19996]: tag and pid"),
                SYSLOG_RFC3164, 19, 6, NULL, NULL, "app", "19996", NULL, NULL, "tag and pid",
        },
        {
                "Python SysLogHandler, log.debug(\"caf\\u00e9 \\u2603\")",
                BYTES("<159>caf\xc3\xa9 \xe2\x98\x83"),
                SYSLOG_RFC3164, 19, 7, NULL, NULL, NULL, NULL, NULL, NULL, "caf\xc3\xa9 \xe2\x98\x83",
        },
        /* rsyslogd -n with imtcp and omfwd (protocol="tcp") relaying what
         * "logger --tcp -p local0.warning -t myapp --id=4711 \"disk almost full\"" (RFC 5424) and
         * "logger --rfc3164 --tcp -p mail.info -t postfix/smtpd --id=99 \"connect from webhost01\""
         * and, without --id, "-p daemon.crit -t myapp \"no pid here\"" (RFC 5424) and
         * "--rfc3164 -p user.debug -t sshd \"no pid either\"" sent it. */
        {
                "rsyslog omfwd, default template (RSYSLOG_TraditionalForwardFormat), RFC 5424 input",
                BYTES("<132>Dec  2 00:57:50 vm myapp[4711] disk almost full"),
                SYSLOG_RFC3164, 16, 4, "Dec  2 00:57:50", "vm", "myapp", "4711", NULL, NULL, "disk almost full",
        },
        {
                "rsyslog omfwd, default template, RFC 3164 input",
                BYTES("<22>Dec  2 00:57:50 vm postfix/smtpd[99]: connect from webhost01"),
                SYSLOG_RFC3164, 2, 6, "Dec  2 00:57:50", "vm", "postfix/smtpd", "99", NULL, NULL,
                "connect from webhost01",
        },
        {
                "rsyslog omfwd, default template, RFC 5424 input without PROCID",
                BYTES("<26>Dec  2 00:59:30 vm myapp no pid here"),
                SYSLOG_RFC3164, 3, 2, "Dec  2 00:59:30", "vm", "myapp", NULL, NULL, NULL, "no pid here",
        },
        {
                "rsyslog omfwd, default template, RFC 3164 input without pid",
                BYTES("<15>Dec  2 00:59:30 vm sshd: no pid either"),
                SYSLOG_RFC3164, 1, 7, "Dec  2 00:59:30", "vm", "sshd", NULL, NULL, NULL, "no pid either",
        },
        {
                "rsyslog omfwd, template RSYSLOG_ForwardFormat, RFC 5424 input",
                BYTES("<132>2026-12-02T00:57:50.086104+00:00 vm myapp[4711] disk almost full"),
                SYSLOG_RFC3164, 16, 4, "2026-12-02T00:57:50.086104+00:00", "vm", "myapp", "4711", NULL, NULL,
                "disk almost full",
        },
        {
                "rsyslog omfwd, template RSYSLOG_ForwardFormat, RFC 3164 input",
                BYTES("<22>2026-12-02T00:57:50+00:00 vm postfix/smtpd[99]: connect from webhost01"),
                SYSLOG_RFC3164, 2, 6, "2026-12-02T00:57:50+00:00", "vm", "postfix/smtpd", "99", NULL, NULL,
                "connect from webhost01",
        },
        {
                "rsyslog omfwd, template RSYSLOG_ForwardFormat, RFC 5424 input without PROCID",
                BYTES("<26>2026-12-02T00:59:30.182081+00:00 vm myapp no pid here"),
                SYSLOG_RFC3164, 3, 2, "2026-12-02T00:59:30.182081+00:00", "vm", "myapp", NULL, NULL, NULL,
                "no pid here",
        },
        {
                "rsyslog omfwd, template RSYSLOG_SyslogProtocol23Format, RFC 5424 input",
                BYTES("<132>1 2026-12-02T00:57:50.086104+00:00 vm myapp 4711 - [timeQuality tzKnown=\"1\" isSynced=\"0\"] "
                      "disk almost full"),
                SYSLOG_RFC5424, 16, 4, "2026-12-02T00:57:50.086104+00:00", "vm", "myapp", "4711", NULL,
                "[timeQuality tzKnown=\"1\" isSynced=\"0\"]", "disk almost full",
        },
        {
                /* rsyslog keeps the space that followed the tag's ':' in MSG. */
                "rsyslog omfwd, template RSYSLOG_SyslogProtocol23Format, RFC 3164 input",
                BYTES("<22>1 2026-12-02T00:57:50+00:00 vm postfix 99 - -  connect from webhost01"),
                SYSLOG_RFC5424, 2, 6, "2026-12-02T00:57:50+00:00", "vm", "postfix", "99", NULL, NULL,
                " connect from webhost01",
        },
};

static void real_senders(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(real); i++) {
                const struct real_case *c = &real[i];

                context = c->how;
                if (parse(c->in, c->size) != c->format || m.facility != c->facility || m.severity != c->severity)
                        fail_msg("%s: format %d, facility %u, severity %u", c->how, m.format, m.facility, m.severity);
                assert_slice(m.timestamp, c->timestamp);
                assert_slice(m.hostname, c->hostname);
                assert_slice(m.app_name, c->app_name);
                assert_slice(m.procid, c->procid);
                assert_slice(m.msgid, c->msgid);
                assert_slice(m.structured_data, c->sd);
                assert_slice(m.msg, c->msg);
        }
}

static void real_logger_structured_data(void **state) {
        static const char *const want[] = {
                "timeQuality tzKnown=1",
                "timeQuality isSynced=0",
                "zoo@32473 tiger=hungry",
                "zoo@32473 zebra=stripes \"black\" \\ white ] ok",
        };

        (void) state;
        assert_int_equal(parse(logger_sd, sizeof(logger_sd) - 1), SYSLOG_RFC5424);
        assert_int_equal(m.facility, 4);
        assert_int_equal(m.severity, 3);
        assert_slice(m.timestamp, "2026-12-02T00:57:18.335747+00:00");
        assert_slice(m.hostname, "vm");
        assert_slice(m.app_name, "myapp");
        assert_slice(m.procid, "4711");
        assert_slice(m.msgid, "ID47");
        assert_slice(m.msg, "the animals");
        assert_sd(want, ELEMENTSOF(want));
}

/* ---- field names ---- */

static struct syslog_slice text(const char *s) {
        return (struct syslog_slice) { .data = s, .size = strlen(s) };
}

static void sd_field_names(void **state) {
        static const struct {
                const char *id, *param, *name;
        } cases[] = {
                { "timeQuality", "tzKnown", "SD_TIMEQUALITY_TZKNOWN" },
                { "origin", "ip", "SD_ORIGIN_IP" },
                { "exampleSDID@32473", "iut", "SD_EXAMPLESDID_32473_IUT" },
                { "zoo@32473.1", "tiger", "SD_ZOO_32473_1_TIGER" },
                { "a-b.c/d", "x:y", "SD_A_B_C_D_X_Y" },
                { "1", "2", "SD_1_2" },
                { "_", "_", "SD____" },
                { "ALREADY_UPPER", "Mixed9", "SD_ALREADY_UPPER_MIXED9" },
        };
        char name[SYSLOG_FIELD_NAME_MAX + 1], want[SYSLOG_FIELD_NAME_MAX + 1];
        char id[SYSLOG_SD_NAME_MAX + 1], param[SYSLOG_SD_NAME_MAX + 1];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                int n = syslog_sd_field_name(text(cases[i].id), text(cases[i].param), name);

                assert_int_equal(n, strlen(cases[i].name));
                assert_string_equal(name, cases[i].name);
                assert_true(syslog_field_name_valid(name, (size_t) n));
                assert_false(syslog_field_name_reserved(name, (size_t) n));
        }

        /* The longest SD-ID and PARAM-NAME: cut at journald's limit. */
        memset(id, 'i', SYSLOG_SD_NAME_MAX);
        id[SYSLOG_SD_NAME_MAX] = '\0';
        memset(param, 'p', SYSLOG_SD_NAME_MAX);
        param[SYSLOG_SD_NAME_MAX] = '\0';
        assert_int_equal(syslog_sd_field_name(text(id), text(param), name), SYSLOG_FIELD_NAME_MAX);
        assert_int_equal(strlen(name), SYSLOG_FIELD_NAME_MAX);
        /* "SD_", 32 I, "_", and the first 28 P. */
        memcpy(want, "SD_", 3);
        memset(want + 3, 'I', 32);
        want[35] = '_';
        memset(want + 36, 'P', 28);
        want[64] = '\0';
        assert_string_equal(name, want);
        assert_true(syslog_field_name_valid(name, SYSLOG_FIELD_NAME_MAX));

        assert_int_equal(syslog_sd_field_name(text(""), text("p"), name), -EINVAL);
        assert_int_equal(syslog_sd_field_name(text("i"), text(""), name), -EINVAL);
        assert_int_equal(syslog_sd_field_name((struct syslog_slice) { 0 }, text("p"), name), -EINVAL);
}

static void sd_field_name_of_any_bytes_is_valid(void **state) {
        char name[SYSLOG_FIELD_NAME_MAX + 1];

        (void) state;
        for (unsigned c = 0; c < 256; c++) {
                char id[3] = { (char) c, 'a', (char) c };
                int n = syslog_sd_field_name((struct syslog_slice) { .data = id, .size = 3 },
                                             (struct syslog_slice) { .data = id, .size = 1 }, name);

                assert_int_equal(n, 3 + 3 + 1 + 1);
                assert_true(syslog_field_name_valid(name, (size_t) n));
                assert_false(syslog_field_name_reserved(name, (size_t) n));
        }
}

static void field_name_valid(void **state) {
        static const char *const good[] = {
                "A", "ORDER_ID", "X1", "A_", "MESSAGE", "SD_X",
                "A234567890123456789012345678901234567890123456789012345678901234",
        };
        static const char *const bad[] = {
                "_", "_PID", "1A", "9", "a", "Order", "A-B", "A.B", "A B", "A=B", "\xc3\x84",
                "A2345678901234567890123456789012345678901234567890123456789012345",
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                if (!syslog_field_name_valid(good[i], strlen(good[i])))
                        fail_msg("'%s' refused", good[i]);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (syslog_field_name_valid(bad[i], strlen(bad[i])))
                        fail_msg("'%s' taken", bad[i]);
        assert_false(syslog_field_name_valid("", 0));
        assert_false(syslog_field_name_valid(NULL, 0));
        assert_false(syslog_field_name_valid("A\0B", 3));
        /* Only size bytes count. */
        assert_true(syslog_field_name_valid("AB-", 2));
}

static void field_name_reserved(void **state) {
        static const char *const reserved[] = {
                "_PID", "_HOSTNAME", "__CURSOR", "_", "_x",
                "MESSAGE", "PRIORITY",
                "SYSLOG_IDENTIFIER", "SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_MSGID", "SYSLOG_TIMESTAMP",
                "SYSLOG_HOSTNAME", "SYSLOG_",
                "REMOTE_ADDR", "REMOTE_PORT", "REMOTE_PID", "REMOTE_UID", "REMOTE_GID", "REMOTE_TLS_SUBJECT",
                "REMOTE_TLS_SHA256", "REMOTE_ANYTHING",
                "HARK_CONNECTION", "HARK_TRUNCATED", "HARK_TRANSPORT", "HARK_LATER",
                "OBJECT_PID", "OBJECT_SYSTEMD_UNIT", "COREDUMP_UNIT", "COREDUMP_USER_UNIT",
                "MESSAGE_ID", "UNIT", "USER_UNIT", "INVOCATION_ID", "USER_INVOCATION_ID",
        };
        static const char *const free_names[] = {
                "ORDER_ID", "MESSAGES", "PRIORITY2", "SYSLOG", "REMOTE", "HARK", "HARKD_X",
                "SD_ORIGIN_IP", "CODE_FILE", "UNITS", "MESSAGE_IDS", "OBJECT", "A_REMOTE_ADDR",
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (!syslog_field_name_reserved(reserved[i], strlen(reserved[i])))
                        fail_msg("'%s' not reserved", reserved[i]);
        for (size_t i = 0; i < ELEMENTSOF(free_names); i++)
                if (syslog_field_name_reserved(free_names[i], strlen(free_names[i])))
                        fail_msg("'%s' reserved", free_names[i]);
        /* Only size bytes count: "MESSAGE" inside a longer string. */
        assert_true(syslog_field_name_reserved("MESSAGE_ID", 7));
        assert_false(syslog_field_name_reserved("MESSAGE", 6));
        assert_false(syslog_field_name_reserved(NULL, 0));
        assert_false(syslog_field_name_reserved("", 0));
}

int main(void) {
        static const struct CMUnitTest tests[] = {
                cmocka_unit_test_teardown(rfc5424_maps_every_header_field, parse_teardown),
                cmocka_unit_test_teardown(rfc5424_nilvalues_leave_fields_absent, parse_teardown),
                cmocka_unit_test_teardown(severity_is_the_pri_modulo_8_never_the_whole_pri, parse_teardown),
                cmocka_unit_test_teardown(rfc5424_timestamps_are_rfc3339, parse_teardown),
                cmocka_unit_test_teardown(rfc5424_field_length_limits, parse_teardown),
                cmocka_unit_test_teardown(rfc5424_header_fields_are_printable_ascii, parse_teardown),
                cmocka_unit_test_teardown(rfc5424_missing_spaces_are_malformed, parse_teardown),
                cmocka_unit_test_teardown(malformed_says_what_and_where, parse_teardown),
                cmocka_unit_test_teardown(version_other_than_1_is_rfc3164_content, parse_teardown),
                cmocka_unit_test_teardown(sd_escapes_are_decoded, parse_teardown),
                cmocka_unit_test_teardown(sd_several_elements_and_empty_values, parse_teardown),
                cmocka_unit_test_teardown(sd_value_may_hold_an_unescaped_bracket_and_any_byte, parse_teardown),
                cmocka_unit_test_teardown(sd_duplicate_ids_are_kept, parse_teardown),
                cmocka_unit_test_teardown(malformed_sd_is_malformed, parse_teardown),
                cmocka_unit_test_teardown(sd_counts_all_but_reports_a_bounded_number, parse_teardown),
                cmocka_unit_test_teardown(sd_next_element_skips_the_params_not_read, parse_teardown),
                cmocka_unit_test_teardown(sd_value_too_big_for_the_buffer_is_skipped_with_enobufs, parse_teardown),
                cmocka_unit_test_teardown(sd_iterator_without_sd_or_on_a_bad_slice_stops, parse_teardown),
                cmocka_unit_test_teardown(bom_is_stripped_from_msg, parse_teardown),
                cmocka_unit_test_teardown(rfc3164_timestamps, parse_teardown),
                cmocka_unit_test_teardown(rfc3164_hostname_only_after_a_timestamp, parse_teardown),
                cmocka_unit_test_teardown(rfc3164_hostname_limit, parse_teardown),
                cmocka_unit_test_teardown(rfc3164_tags, parse_teardown),
                cmocka_unit_test_teardown(rfc3164_msg_is_binary_safe, parse_teardown),
                cmocka_unit_test_teardown(bad_pri_is_not_syslog, parse_teardown),
                cmocka_unit_test_teardown(pri_edges, parse_teardown),
                cmocka_unit_test_teardown(nothing_after_the_pri_is_malformed, parse_teardown),
                cmocka_unit_test_teardown(truncated_rfc5424_at_every_byte, parse_teardown),
                cmocka_unit_test_teardown(truncated_rfc3164_at_every_byte, parse_teardown),
                cmocka_unit_test_teardown(real_senders, parse_teardown),
                cmocka_unit_test_teardown(real_logger_structured_data, parse_teardown),
                cmocka_unit_test(sd_field_names),
                cmocka_unit_test(sd_field_name_of_any_bytes_is_valid),
                cmocka_unit_test(field_name_valid),
                cmocka_unit_test(field_name_reserved),
        };

        return hark_test_main("syslog", tests);
}
