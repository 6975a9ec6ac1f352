/* sources: src/entry.c src/syslog_parse.c */
/* libFuzzer target: a received message -> its journal entry (src/entry.c),
 * the code that sizes buffers from what a sender claims. The first input
 * byte picks the format and whether the message is marked truncated or
 * incomplete; the rest is the message, in a heap buffer of exactly
 * FRAMER_HEADROOM + its size (AddressSanitizer catches a write or read past
 * it), parsed as it is and behind "<13>1 " (to reach RFC 5424's structured
 * data without first finding a header).
 *
 * Invariants: every field is "NAME=value" with a valid journal field name
 * and lies inside the message buffer, the builder's buffers or static text;
 * exactly one MESSAGE, PRIORITY and SYSLOG_IDENTIFIER, at most one of each
 * other SYSLOG_* field; the connection's fields come exactly once and
 * nothing else is named REMOTE_*, HARK_CONNECTION, or starts with '_';
 * HARK_TRUNCATED and HARK_INCOMPLETE exactly when the message was so
 * marked, HARK_SYSLOG_ERROR exactly when the entry says why it is raw; a raw
 * entry's MESSAGE is the whole message; at most ENTRY_FIELDS_MAX fields.
 *
 * Build: `make fuzz` (see the Makefile), or by hand:
 *   clang -std=gnu11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
 *         tests/fuzz/fuzz_entry.c src/entry.c src/syslog_parse.c -o build/fuzz/fuzz_entry */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "fuzz-check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct iovec context[] = {
        { (char *) "REMOTE_ADDR=192.0.2.1", 21 },
        { (char *) "REMOTE_PORT=4711", 16 },
        { (char *) "HARK_CONNECTION=7", 17 },
};

static bool starts_with(const struct iovec *f, const char *prefix) {
        size_t n = strlen(prefix);

        return f->iov_len >= n && memcmp(f->iov_base, prefix, n) == 0;
}

/* How many fields are named name. */
static size_t count(const struct entry *e, const char *name) {
        size_t n = 0, len = strlen(name);

        for (size_t i = 0; i < e->n_fields; i++) {
                const struct iovec *f = &e->fields[i];
                n += f->iov_len > len && memcmp(f->iov_base, name, len) == 0 && ((char *) f->iov_base)[len] == '=';
        }
        return n;
}

static bool inside(const struct iovec *f, const char *start, size_t size) {
        const char *p = f->iov_base;

        return p >= start && p + f->iov_len <= start + size;
}

/* In the builder's text, the entry's own buffers, or static text. */
static bool from_builder(const struct iovec *f, const struct entry_builder *b, const struct entry *e) {
        const char *p = f->iov_base;

        return (b->text && inside(f, b->text, b->text_size)) ||
               (p >= (const char *) e && p + f->iov_len <= (const char *) (e + 1)) ||
               (f->iov_len == 10 && memcmp(p, "PRIORITY=", 9) == 0);
}

static bool is_context(const struct iovec *f) {
        for (size_t i = 0; i < sizeof(context) / sizeof(context[0]); i++)
                if (f->iov_base == context[i].iov_base)
                        return true;
        return false;
}

static void check_entry(const struct entry_builder *b, const struct entry *e, const char *buffer,
                        const struct framed_message *m) {
        static const char *const once[] = { "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "REMOTE_ADDR",
                                            "REMOTE_PORT", "HARK_CONNECTION" };
        static const char *const at_most_once[] = { "SYSLOG_FACILITY", "SYSLOG_PID", "SYSLOG_MSGID",
                                                    "SYSLOG_TIMESTAMP", "SYSLOG_HOSTNAME", "HARK_TRUNCATED",
                                                    "HARK_INCOMPLETE", "HARK_SYSLOG_ERROR" };

        fuzz_check(e->n_fields <= ENTRY_FIELDS_MAX);
        for (size_t i = 0; i < e->n_fields; i++) {
                const struct iovec *f = &e->fields[i];
                const char *eq = memchr(f->iov_base, '=', f->iov_len);

                fuzz_check(eq && syslog_field_name_valid(f->iov_base, (size_t) (eq - (const char *) f->iov_base)));
                fuzz_check(inside(f, buffer, FRAMER_HEADROOM + m->size) || from_builder(f, b, e) || is_context(f) ||
                           starts_with(f, "HARK_TRUNCATED=1") || starts_with(f, "HARK_INCOMPLETE=1"));
                if (!is_context(f))
                        fuzz_check(!starts_with(f, "REMOTE_") && !starts_with(f, "HARK_CONNECTION="));
        }
        for (size_t i = 0; i < sizeof(once) / sizeof(once[0]); i++)
                fuzz_check(count(e, once[i]) == 1);
        for (size_t i = 0; i < sizeof(at_most_once) / sizeof(at_most_once[0]); i++)
                fuzz_check(count(e, at_most_once[i]) <= 1);
        fuzz_check(count(e, "HARK_TRUNCATED") == m->truncated);
        fuzz_check(count(e, "HARK_INCOMPLETE") == m->incomplete);
        fuzz_check(count(e, "HARK_SYSLOG_ERROR") == (e->syslog_error != NULL));
        if (e->syslog == SYSLOG_NONE)
                fuzz_check(e->fields[0].iov_len == FRAMER_HEADROOM + m->size);
}

static void build_one(struct entry_builder *b, const char *prefix, const uint8_t *data, size_t size,
                      uint8_t flags) {
        size_t prefix_len = strlen(prefix), total = prefix_len + size;
        char *buffer;
        struct framed_message m;
        struct entry e;

        if (total == 0)
                return;
        buffer = malloc(FRAMER_HEADROOM + total);
        fuzz_check(buffer);
        memcpy(buffer + FRAMER_HEADROOM, prefix, prefix_len);
        if (size)
                memcpy(buffer + FRAMER_HEADROOM + prefix_len, data, size);
        m = (struct framed_message) { .data = buffer + FRAMER_HEADROOM, .size = total,
                                      .truncated = flags & 4, .incomplete = flags & 8 };
        entry_build(b, &m, &e);
        check_entry(b, &e, buffer, &m);
        free(buffer);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const enum message_format formats[] = { FORMAT_AUTO, FORMAT_SYSLOG, FORMAT_RAW, FORMAT_AUTO };
        struct hark_config config = { .identifier = (char *) "fuzz", .priority = 6 };
        struct entry_builder b;
        uint8_t flags;

        if (size < 1)
                return 0;
        flags = data[0];
        config.format = formats[flags & 3];
        entry_builder_init(&b, &config, context, sizeof(context) / sizeof(context[0]));
        build_one(&b, "", data + 1, size - 1, flags);
        build_one(&b, "<13>1 - - - - - ", data + 1, size - 1, flags);
        /* Once more after a trim: the builder must regrow its buffer. */
        entry_builder_trim(&b);
        build_one(&b, "<13>1 - - - - - ", data + 1, size - 1, flags);
        entry_builder_done(&b);
        return 0;
}
