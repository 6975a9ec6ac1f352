/* The entry builder: which journal fields a received message becomes, for
 * each format setting and each kind of message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"

static const struct iovec context[] = {
        { (char *) "REMOTE_ADDR=192.0.2.1", 21 },
        { (char *) "HARK_CONNECTION=7", 17 },
};

struct built {
        struct entry_builder builder;
        struct entry entry;
        char *buffer;
        /* The fields as NUL-terminated "NAME=value" strings. */
        char *fields[ENTRY_FIELDS_MAX];
        size_t n;
};

static void build_with(struct built *b, enum message_format format, const char *message, size_t size, bool truncated) {
        struct hark_config config = { .identifier = (char *) "hark", .priority = 6, .format = format };
        struct framed_message m;

        memset(b, 0, sizeof(*b));
        entry_builder_init(&b->builder, &config, context, 2);
        b->buffer = malloc(FRAMER_HEADROOM + size);
        assert_non_null(b->buffer);
        memcpy(b->buffer + FRAMER_HEADROOM, message, size);
        m = (struct framed_message) { .data = b->buffer + FRAMER_HEADROOM, .size = size, .truncated = truncated };
        entry_build(&b->builder, &m, &b->entry);
        for (size_t i = 0; i < b->entry.n_fields; i++) {
                const struct iovec *f = &b->entry.fields[i];

                b->fields[i] = calloc(1, f->iov_len + 1);
                assert_non_null(b->fields[i]);
                memcpy(b->fields[i], f->iov_base, f->iov_len);
        }
        b->n = b->entry.n_fields;
}

static void build(struct built *b, enum message_format format, const char *message) {
        build_with(b, format, message, strlen(message), false);
}

static void done(struct built *b) {
        for (size_t i = 0; i < b->n; i++)
                free(b->fields[i]);
        entry_builder_done(&b->builder);
        free(b->buffer);
}

/* The value of field name; NULL when absent; fails when it is there twice. */
static const char *field(const struct built *b, const char *name) {
        const char *found = NULL;
        size_t len = strlen(name);

        for (size_t i = 0; i < b->n; i++)
                if (strncmp(b->fields[i], name, len) == 0 && b->fields[i][len] == '=') {
                        if (found)
                                fail_msg("%s is there twice", name);
                        found = b->fields[i] + len + 1;
                }
        return found;
}

static void assert_field(const struct built *b, const char *name, const char *value) {
        const char *v = field(b, name);

        if (!v)
                fail_msg("no %s (expected \"%s\")", name, value);
        assert_string_equal(v, value);
}

static void assert_context(const struct built *b) {
        assert_field(b, "REMOTE_ADDR", "192.0.2.1");
        assert_field(b, "HARK_CONNECTION", "7");
}

static void test_rfc5424_every_field(void **state) {
        struct built b;

        (void) state;
        build(&b, FORMAT_AUTO,
              "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 "
              "[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]"
              "[examplePriority@32473 class=\"high\"] \xef\xbb\xbf" "An application event log entry...");
        assert_int_equal(b.entry.syslog, SYSLOG_RFC5424);
        assert_null(b.entry.syslog_error);
        assert_string_equal(b.fields[0], "MESSAGE=An application event log entry...");
        assert_field(&b, "PRIORITY", "5");
        assert_field(&b, "SYSLOG_FACILITY", "20");
        assert_field(&b, "SYSLOG_IDENTIFIER", "evntslog");
        assert_field(&b, "SYSLOG_PID", "1234");
        assert_field(&b, "SYSLOG_MSGID", "ID47");
        assert_field(&b, "SYSLOG_TIMESTAMP", "2003-10-11T22:14:15.003Z");
        assert_field(&b, "SYSLOG_HOSTNAME", "mymachine.example.com");
        assert_field(&b, "SD_EXAMPLESDID_32473_IUT", "3");
        assert_field(&b, "SD_EXAMPLESDID_32473_EVENTSOURCE", "Application");
        assert_field(&b, "SD_EXAMPLESDID_32473_EVENTID", "1011");
        assert_field(&b, "SD_EXAMPLEPRIORITY_32473_CLASS", "high");
        assert_null(field(&b, "_HOSTNAME"));
        assert_null(field(&b, "HARK_SYSLOG_ERROR"));
        assert_context(&b);
        assert_int_equal(b.n, 14);
        done(&b);
}

/* NILVALUEs are absent fields; the configured identifier stands in. */
static void test_rfc5424_nil_values(void **state) {
        struct built b;

        (void) state;
        build(&b, FORMAT_AUTO, "<0>1 - - - - - - emergency");
        assert_string_equal(b.fields[0], "MESSAGE=emergency");
        assert_field(&b, "PRIORITY", "0");
        assert_field(&b, "SYSLOG_FACILITY", "0");
        assert_field(&b, "SYSLOG_IDENTIFIER", "hark");
        assert_null(field(&b, "SYSLOG_PID"));
        assert_null(field(&b, "SYSLOG_MSGID"));
        assert_null(field(&b, "SYSLOG_TIMESTAMP"));
        assert_null(field(&b, "SYSLOG_HOSTNAME"));
        done(&b);
}

/* Never facility * 8 + severity (omjournal's bug): local7.debug is 7. */
static void test_priority_is_the_severity(void **state) {
        struct built b;

        (void) state;
        build(&b, FORMAT_AUTO, "<191>1 - - app - - - x");
        assert_field(&b, "PRIORITY", "7");
        assert_field(&b, "SYSLOG_FACILITY", "23");
        done(&b);
}

static void test_structured_data_escapes_and_journal_fields(void **state) {
        struct built b;

        (void) state;
        build(&b, FORMAT_AUTO,
              "<13>1 - - - - - [journal@hark ORDER_ID=\"4711\" QUOTE=\"a\\\"b\\\\c\\]d\" REMOTE_ADDR=\"6.6.6.6\" "
              "_PID=\"1\" lower=\"x\" MESSAGE=\"evil\"] text\n");
        assert_string_equal(b.fields[0], "MESSAGE=text");
        assert_field(&b, "ORDER_ID", "4711");
        assert_field(&b, "QUOTE", "a\"b\\c]d");
        /* Names a sender may not use keep the SD_ scheme: kept, never trusted. */
        assert_field(&b, "SD_JOURNAL_HARK_REMOTE_ADDR", "6.6.6.6");
        assert_field(&b, "SD_JOURNAL_HARK__PID", "1");
        assert_field(&b, "SD_JOURNAL_HARK_LOWER", "x");
        assert_field(&b, "SD_JOURNAL_HARK_MESSAGE", "evil");
        assert_context(&b);
        assert_null(field(&b, "_PID"));
        done(&b);
}

static void test_rfc3164_shapes(void **state) {
        static const struct {
                const char *message, *identifier, *pid, *timestamp, *hostname, *text;
        } cases[] = {
                { "<14>pyapp[42]: hello", "pyapp", "42", NULL, NULL, "hello" },
                { "<30>Dec  1 00:59:55 webhost01 sshd[27693]: Accepted key", "sshd", "27693", "Dec  1 00:59:55",
                  "webhost01", "Accepted key" },
                { "<30>Dec  2 00:59:55 cron: tick", "cron", NULL, "Dec  2 00:59:55", NULL, "tick" },
                { "<13>plain, no ident", "hark", NULL, NULL, NULL, "plain, no ident" },
        };

        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct built b;
                char message[128];

                build(&b, FORMAT_AUTO, cases[i].message);
                assert_int_equal(b.entry.syslog, SYSLOG_RFC3164);
                snprintf(message, sizeof(message), "MESSAGE=%s", cases[i].text);
                assert_string_equal(b.fields[0], message);
                assert_field(&b, "SYSLOG_IDENTIFIER", cases[i].identifier);
                if (cases[i].pid)
                        assert_field(&b, "SYSLOG_PID", cases[i].pid);
                else
                        assert_null(field(&b, "SYSLOG_PID"));
                if (cases[i].timestamp)
                        assert_field(&b, "SYSLOG_TIMESTAMP", cases[i].timestamp);
                if (cases[i].hostname)
                        assert_field(&b, "SYSLOG_HOSTNAME", cases[i].hostname);
                else
                        assert_null(field(&b, "SYSLOG_HOSTNAME"));
                done(&b);
        }
}

/* A valid PRI and a broken RFC 5424 header: raw, whole, with the reason. */
static void test_malformed_is_logged_raw(void **state) {
        struct built b;

        (void) state;
        build(&b, FORMAT_AUTO, "<13>1 broken");
        assert_int_equal(b.entry.syslog, SYSLOG_NONE);
        assert_non_null(b.entry.syslog_error);
        assert_string_equal(b.fields[0], "MESSAGE=<13>1 broken");
        assert_field(&b, "PRIORITY", "6");
        assert_field(&b, "SYSLOG_IDENTIFIER", "hark");
        assert_field(&b, "HARK_SYSLOG_ERROR", b.entry.syslog_error);
        assert_null(field(&b, "SYSLOG_FACILITY"));
        assert_context(&b);
        done(&b);
}

/* Not syslog at all: raw; only the syslog format calls that an error. */
static void test_not_syslog(void **state) {
        static const char *const messages[] = { "plain text", "<999>x", "<>x", "<013>x", "<13" };
        struct built b;

        (void) state;
        for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++) {
                char expected[64];

                snprintf(expected, sizeof(expected), "MESSAGE=%s", messages[i]);
                build(&b, FORMAT_AUTO, messages[i]);
                assert_string_equal(b.fields[0], expected);
                assert_null(b.entry.syslog_error);
                assert_int_equal(b.n, 5);
                done(&b);
                build(&b, FORMAT_SYSLOG, messages[i]);
                assert_string_equal(b.fields[0], expected);
                assert_non_null(field(&b, "HARK_SYSLOG_ERROR"));
                done(&b);
        }
}

/* raw: a syslog header is left alone, in the MESSAGE. */
static void test_raw_format(void **state) {
        struct built b;

        (void) state;
        build(&b, FORMAT_RAW, "<13>1 - - app - - - x");
        assert_string_equal(b.fields[0], "MESSAGE=<13>1 - - app - - - x");
        assert_field(&b, "PRIORITY", "6");
        assert_field(&b, "SYSLOG_IDENTIFIER", "hark");
        assert_int_equal(b.n, 5);
        done(&b);
}

/* Binary-safe: a raw message's NULs and bytes all arrive. */
static void test_raw_is_binary_safe(void **state) {
        static const char message[] = "a\0b\xff\n c";
        struct built b;

        (void) state;
        build_with(&b, FORMAT_AUTO, message, sizeof(message) - 1, true);
        assert_int_equal(b.entry.fields[0].iov_len, FRAMER_HEADROOM + sizeof(message) - 1);
        assert_memory_equal((char *) b.entry.fields[0].iov_base + FRAMER_HEADROOM, message, sizeof(message) - 1);
        assert_field(&b, "HARK_TRUNCATED", "1");
        done(&b);
}

/* The line ends an octet-counting sender leaves on MSG go, and the spaces a
 * relay leaves before it; inner LFs and spaces stay. */
static void test_trailing_line_ends_stripped(void **state) {
        struct built b;

        (void) state;
        build(&b, FORMAT_AUTO, "<13>1 - - - - - -   Traceback:\n  line 1\r\n");
        assert_string_equal(b.fields[0], "MESSAGE=Traceback:\n  line 1");
        done(&b);
        build(&b, FORMAT_AUTO, "<13>1 - - - - - -  \n");
        assert_string_equal(b.fields[0], "MESSAGE=");
        done(&b);
}

/* More params than the bound: the first SYSLOG_SD_PARAMS_MAX become fields. */
static void test_structured_data_is_bounded(void **state) {
        char message[8192] = "<13>1 - - - - - [a@1";
        struct built b;
        size_t sd = 0;

        (void) state;
        for (int i = 0; i < 200; i++)
                snprintf(message + strlen(message), sizeof(message) - strlen(message), " p%d=\"%d\"", i, i);
        strcat(message, "] x");
        build(&b, FORMAT_AUTO, message);
        for (size_t i = 0; i < b.n; i++)
                sd += strncmp(b.fields[i], "SD_A_1_P", 8) == 0;
        assert_int_equal(sd, SYSLOG_SD_PARAMS_MAX);
        assert_field(&b, "SD_A_1_P0", "0");
        assert_string_equal(b.fields[0], "MESSAGE=x");
        done(&b);
}

int main(void) {
        static const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rfc5424_every_field),
                cmocka_unit_test(test_rfc5424_nil_values),
                cmocka_unit_test(test_priority_is_the_severity),
                cmocka_unit_test(test_structured_data_escapes_and_journal_fields),
                cmocka_unit_test(test_rfc3164_shapes),
                cmocka_unit_test(test_malformed_is_logged_raw),
                cmocka_unit_test(test_not_syslog),
                cmocka_unit_test(test_raw_format),
                cmocka_unit_test(test_raw_is_binary_safe),
                cmocka_unit_test(test_trailing_line_ends_stripped),
                cmocka_unit_test(test_structured_data_is_bounded),
        };

        return hark_test_main("entry", tests);
}
