/* sources: src/syslog_parse.c */
/* libFuzzer target: the syslog parser. Each input is parsed as it is, and
 * behind "<13>" and "<13>1 " (so that the fuzzer reaches deep into RFC 3164
 * and RFC 5424 without first finding a PRI), each from a heap copy of
 * exactly its size (AddressSanitizer catches a read past the length). Then
 * every SD-ELEMENT and SD-PARAM is walked through the iterator, with a
 * buffer that holds every value and with one that holds few, and every name
 * goes through the field-name scheme.
 *
 * Invariants: every slice lies inside the input; severity 0-7, facility
 * 0-23; NONE exactly when the input does not start with a valid PRI;
 * NONE and MALFORMED give the whole input as msg and nothing else, MALFORMED
 * with a reason and an offset inside; otherwise msg is the input's tail and
 * the fields come before it, in order, within their RFC 5424 bounds, made of
 * the bytes their grammar allows; the iterator reports min(count, bound)
 * elements and params, each value decoded as an independent decoder here
 * does it, never longer than it was sent; every SD field name is a valid
 * journal field name and never a reserved one; parsing is deterministic.
 * And the iterator, handed the raw input as a slice no parse checked, stays
 * inside it, within its bounds, and ends.
 *
 * Build (from the top of the tree):
 *   clang -std=gnu11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
 *         tests/fuzz/fuzz_syslog.c src/syslog_parse.c -o build/fuzz/fuzz_syslog
 *   build/fuzz/fuzz_syslog -max_total_time=60 tests/fuzz/corpus/syslog */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syslog_parse.h"
#include "fuzz-check.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool inside(struct syslog_slice s, const char *input, size_t size) {
        if (!s.data)
                return s.size == 0;
        return s.data >= input && s.data <= input + size && s.size <= (size_t) (input + size - s.data);
}

static bool present(struct syslog_slice s) {
        return s.data != NULL;
}

/* Where a valid "<PRI>" ends, or 0; written apart from src/syslog_parse.c. */
static size_t pri_length(const char *p, size_t size) {
        size_t digits = 0;
        unsigned value = 0;

        if (size < 3 || p[0] != '<')
                return 0;
        while (1 + digits < size && digits < 4 && p[1 + digits] >= '0' && p[1 + digits] <= '9')
                value = value * 10 + (unsigned) (p[1 + digits++] - '0');
        if (digits < 1 || digits > 3 || value > 191 || (digits > 1 && p[1] == '0'))
                return 0;
        return 1 + digits < size && p[1 + digits] == '>' ? digits + 2 : 0;
}

static bool printable(struct syslog_slice s) {
        for (size_t i = 0; i < s.size; i++)
                if ((unsigned char) s.data[i] < 33 || (unsigned char) s.data[i] > 126)
                        return false;
        return true;
}

/* 1 to 32 printable bytes but '=', ' ', ']', '"'. */
static bool sd_name(struct syslog_slice s) {
        if (s.size < 1 || s.size > SYSLOG_SD_NAME_MAX || !printable(s))
                return false;
        for (size_t i = 0; i < s.size; i++)
                if (s.data[i] == '=' || s.data[i] == ']' || s.data[i] == '"')
                        return false;
        return true;
}

/* A header field: absent, or 1 to max bytes, never the NILVALUE itself. */
static bool field(struct syslog_slice s, size_t max, bool strict) {
        if (!s.data)
                return true;
        if (s.size < 1 || s.size > max)
                return false;
        if (strict && (!printable(s) || (s.size == 1 && s.data[0] == '-')))
                return false;
        return true;
}

/* Fields of one message appear in this order, all before msg. */
static void check_order(const struct syslog_message *m) {
        const struct syslog_slice fields[] = {
                m->timestamp, m->hostname, m->app_name, m->procid, m->msgid, m->structured_data,
        };
        const char *at = NULL;

        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                if (!fields[i].data)
                        continue;
                fuzz_check(!at || fields[i].data >= at);
                at = fields[i].data + fields[i].size;
        }
        fuzz_check(!at || m->msg.data >= at);
}

static size_t decode(struct syslog_slice raw, char *out) {
        size_t n = 0;

        for (size_t i = 0; i < raw.size; i++) {
                if (raw.data[i] == '\\' && i + 1 < raw.size &&
                    (raw.data[i + 1] == '"' || raw.data[i + 1] == '\\' || raw.data[i + 1] == ']'))
                        i++;
                out[n++] = raw.data[i];
        }
        return n;
}

static void check_name(struct syslog_slice id, struct syslog_slice param) {
        char name[SYSLOG_FIELD_NAME_MAX + 1];
        int n = syslog_sd_field_name(id, param, name);

        fuzz_check(n > 0 && n <= SYSLOG_FIELD_NAME_MAX);
        fuzz_check(strlen(name) == (size_t) n);
        fuzz_check(syslog_field_name_valid(name, (size_t) n));
        fuzz_check(!syslog_field_name_reserved(name, (size_t) n));
}

/* Walks the SD with a buffer of buffer_size bytes per value; returns the
 * number of values that did not fit. */
static size_t walk(const struct syslog_message *m, const char *input, size_t size, char *buffer,
                   size_t buffer_size, char *model) {
        struct syslog_sd_iterator it;
        struct syslog_slice id;
        size_t elements = 0, params = 0, params_in_reported = 0, skipped = 0;
        const char *last = NULL;

        syslog_sd_iterator_init(&it, m);
        while (syslog_sd_next_element(&it, &id)) {
                struct syslog_sd_param p;
                int r;

                fuzz_check(++elements <= SYSLOG_SD_ELEMENTS_MAX);
                fuzz_check(inside(id, input, size));
                fuzz_check(inside(id, m->structured_data.data, m->structured_data.size));
                fuzz_check(sd_name(id));
                fuzz_check(!last || id.data > last);
                last = id.data;
                while ((r = syslog_sd_next_param(&it, &p, buffer, buffer_size)) != 0) {
                        size_t n;

                        fuzz_check(r == 1 || r == -ENOBUFS);
                        fuzz_check(++params <= SYSLOG_SD_PARAMS_MAX);
                        fuzz_check(inside(p.name, m->structured_data.data, m->structured_data.size));
                        fuzz_check(inside(p.raw, m->structured_data.data, m->structured_data.size));
                        fuzz_check(p.name.data > id.data && p.raw.data > p.name.data);
                        fuzz_check(sd_name(p.name));
                        n = decode(p.raw, model);
                        if (r == -ENOBUFS) {
                                fuzz_check(n > buffer_size);
                                fuzz_check(p.value.size == 0);
                                skipped++;
                        } else {
                                fuzz_check(p.value.data == buffer);
                                fuzz_check(p.value.size == n && p.value.size <= p.raw.size);
                                fuzz_check(memcmp(p.value.data, model, n) == 0);
                        }
                        check_name(id, p.name);
                }
        }
        /* The iterator only stops at the end, or at a bound. */
        if (m->sd_elements <= SYSLOG_SD_ELEMENTS_MAX) {
                fuzz_check(elements == m->sd_elements);
                params_in_reported = m->sd_params;
                fuzz_check(params == (params_in_reported < SYSLOG_SD_PARAMS_MAX ? params_in_reported
                                                                                : SYSLOG_SD_PARAMS_MAX));
        } else {
                fuzz_check(elements == SYSLOG_SD_ELEMENTS_MAX);
                fuzz_check(params <= m->sd_params);
        }
        return skipped;
}

static void check(const char *input, size_t size) {
        struct syslog_message m, again;
        enum syslog_format format = syslog_parse(input, size, &m);
        size_t pri = pri_length(input, size);

        fuzz_check(format == m.format);
        fuzz_check(m.severity <= 7 && m.facility <= 23);
        fuzz_check(inside(m.timestamp, input, size) && inside(m.hostname, input, size) &&
                   inside(m.app_name, input, size) && inside(m.procid, input, size) &&
                   inside(m.msgid, input, size) && inside(m.structured_data, input, size) &&
                   inside(m.msg, input, size));
        fuzz_check((format == SYSLOG_NONE) == (pri == 0));
        if (pri) {
                unsigned value = 0;

                for (size_t i = 1; i + 1 < pri; i++)
                        value = value * 10 + (unsigned) (input[i] - '0');
                fuzz_check(m.facility == value / 8 && m.severity == value % 8);
        }

        switch (format) {
        case SYSLOG_NONE:
        case SYSLOG_MALFORMED:
                fuzz_check(m.msg.data == input && m.msg.size == size);
                fuzz_check(!present(m.timestamp) && !present(m.hostname) && !present(m.app_name) &&
                           !present(m.procid) && !present(m.msgid) && !present(m.structured_data));
                fuzz_check(m.sd_elements == 0 && m.sd_params == 0 && !m.bom);
                fuzz_check((format == SYSLOG_MALFORMED) == (m.error != NULL));
                fuzz_check(m.error_offset <= size);
                /* Malformed is only ever "<PRI>" alone or a broken RFC 5424 header. */
                fuzz_check(format == SYSLOG_NONE || pri == size ||
                           (size >= pri + 2 && input[pri] == '1' && input[pri + 1] == ' '));
                break;
        case SYSLOG_RFC5424:
                fuzz_check(size >= pri + 2 && input[pri] == '1' && input[pri + 1] == ' ');
                fuzz_check(field(m.timestamp, SIZE_MAX, true));
                fuzz_check(field(m.hostname, SYSLOG_HOSTNAME_MAX, true));
                fuzz_check(field(m.app_name, SYSLOG_APP_NAME_MAX, true));
                fuzz_check(field(m.procid, SYSLOG_PROCID_MAX, true));
                fuzz_check(field(m.msgid, SYSLOG_MSGID_MAX, true));
                fuzz_check(!present(m.structured_data) ||
                           (m.structured_data.size >= 3 && m.structured_data.data[0] == '[' &&
                            m.structured_data.data[m.structured_data.size - 1] == ']' && m.sd_elements >= 1));
                fuzz_check(present(m.structured_data) || (m.sd_elements == 0 && m.sd_params == 0));
                goto parsed;
        case SYSLOG_RFC3164:
                fuzz_check(pri > 0 && pri < size);
                fuzz_check(!(size >= pri + 2 && input[pri] == '1' && input[pri + 1] == ' '));
                fuzz_check(!present(m.msgid) && !present(m.structured_data) && m.sd_elements == 0);
                fuzz_check(field(m.timestamp, 64, false));
                fuzz_check(field(m.hostname, SYSLOG_HOSTNAME_MAX, false) && printable(m.hostname));
                fuzz_check(field(m.app_name, SYSLOG_APP_NAME_MAX, false) && printable(m.app_name));
                fuzz_check(field(m.procid, SYSLOG_PROCID_MAX, false) && printable(m.procid));
                fuzz_check(!present(m.procid) || present(m.app_name));
        parsed:
                fuzz_check(m.error == NULL);
                fuzz_check(m.msg.data && m.msg.data + m.msg.size == input + size);
                fuzz_check(m.msg.data >= input + pri);
                check_order(&m);
                break;
        default:
                fuzz_check(!"unknown format");
        }

        /* Deterministic. */
        fuzz_check(syslog_parse(input, size, &again) == format);
        fuzz_check(memcmp(&m, &again, sizeof(m)) == 0);

        if (present(m.structured_data)) {
                size_t sd = m.structured_data.size;
                char *buffer = malloc(sd), *model = malloc(sd);

                fuzz_check(buffer && model);
                /* structured_data.size bytes hold any one value. */
                fuzz_check(walk(&m, input, size, buffer, sd, model) == 0);
                (void) walk(&m, input, size, buffer, sd % 7, model);
                free(buffer);
                free(model);
        }
}

/* The iterator on a slice syslog_parse() never checked: it must stay inside
 * it and end. */
static void walk_unchecked(const uint8_t *data, size_t size) {
        struct syslog_message hand = { 0 };
        struct syslog_sd_iterator it;
        struct syslog_slice id;
        char *input = malloc(size + 1), buffer[64];
        size_t elements = 0, params = 0;

        fuzz_check(input);
        if (size)
                memcpy(input, data, size);
        hand.structured_data = (struct syslog_slice) { .data = input, .size = size };
        syslog_sd_iterator_init(&it, &hand);
        while (syslog_sd_next_element(&it, &id)) {
                struct syslog_sd_param p;
                int r;

                fuzz_check(++elements <= SYSLOG_SD_ELEMENTS_MAX);
                fuzz_check(inside(id, input, size) && sd_name(id));
                while ((r = syslog_sd_next_param(&it, &p, buffer, sizeof(buffer))) != 0) {
                        fuzz_check(r == 1 || r == -ENOBUFS);
                        fuzz_check(++params <= SYSLOG_SD_PARAMS_MAX);
                        fuzz_check(inside(p.name, input, size) && inside(p.raw, input, size) && sd_name(p.name));
                        fuzz_check(p.value.size <= p.raw.size && p.value.size <= sizeof(buffer));
                }
        }
        free(input);
}

/* prefix and the input, in a heap block of exactly their size. */
static void check_with(const char *prefix, const uint8_t *data, size_t size) {
        size_t n = strlen(prefix);
        char *input = malloc(n + size + 1);

        fuzz_check(input);
        memcpy(input, prefix, n);
        if (size)
                memcpy(input + n, data, size);
        check(input, n + size);
        free(input);
}

/* The name checks, on the input's bytes as a name. */
static void check_names(const uint8_t *data, size_t size) {
        const char *name = (const char *) data;
        size_t n = size < 80 ? size : 80;
        bool valid = n >= 1 && n <= SYSLOG_FIELD_NAME_MAX && !(name[0] >= '0' && name[0] <= '9') && name[0] != '_';

        for (size_t i = 0; i < n && valid; i++)
                valid = (name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_';
        fuzz_check(syslog_field_name_valid(name, n) == valid);
        if (n > 0 && name[0] == '_')
                fuzz_check(syslog_field_name_reserved(name, n));
        if (n >= 2)
                check_name((struct syslog_slice) { .data = name, .size = n / 2 },
                           (struct syslog_slice) { .data = name + n / 2, .size = n - n / 2 });
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_with("", data, size);
        check_with("<13>", data, size);
        check_with("<13>1 ", data, size);
        check_names(data, size);
        walk_unchecked(data, size);
        return 0;
}
