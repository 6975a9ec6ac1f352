/* Reading the journal back in the integration tests; see support-journal.h. */
#include "support-journal.h"

#include "support-harkd.h"
#include "support-time.h"
#include "test-main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

/* After the expected entries arrived: how long to look for extra ones. */
#define SETTLE_MS 100

static void collect_entry(sd_journal *j, struct it_entries *out) {
        struct it_entry e = { 0 };
        size_t capacity = 0;
        const void *data;
        size_t length;

        SD_JOURNAL_FOREACH_DATA(j, data, length) {
                const char *eq = memchr(data, '=', length);
                struct it_field *f;
                size_t name_len;

                if (!eq)
                        continue;
                if (e.n_fields == capacity) {
                        capacity = capacity ? capacity * 2 : 32;
                        e.fields = realloc(e.fields, capacity * sizeof(*e.fields));
                        assert_non_null(e.fields);
                }
                f = &e.fields[e.n_fields++];
                name_len = (size_t) (eq - (const char *) data);
                f->name = strndup(data, name_len);
                f->length = length - name_len - 1;
                f->value = malloc(f->length + 1);
                assert_non_null(f->name);
                assert_non_null(f->value);
                memcpy(f->value, eq + 1, f->length);
                f->value[f->length] = 0;
        }
        /* The capacity is 16, then the next power of two: grow when full. */
        if (out->n == 0 || (out->n >= 16 && (out->n & (out->n - 1)) == 0)) {
                struct it_entry *v = realloc(out->v, (out->n ? out->n * 2 : 16) * sizeof(*v));
                assert_non_null(v);
                out->v = v;
        }
        out->v[out->n++] = e;
}

static bool message_contains(sd_journal *j, const char *needle) {
        const void *data;
        size_t length, n = strlen(needle);

        if (sd_journal_get_data(j, "MESSAGE", &data, &length) < 0)
                return false;
        data = (const char *) data + 8;
        length -= 8;
        return memmem(data, length, needle, n) != NULL;
}

int it_journal_collect(const char *const *matches, size_t expected, int timeout_ms, struct it_entries *out) {
        return it_journal_collect_matching(matches, NULL, expected, timeout_ms, out);
}

/* One pass over the journal with a fresh reader. Once, a reader kept open
 * while journald appended never saw an entry that was there (systemd 252;
 * likely one it met half-written): so each poll opens the journal anew. */
static int read_journal(const char *const *matches, const char *needle, struct it_entries *out) {
        sd_journal *j = NULL;
        int r;

        memset(out, 0, sizeof(*out));
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        r = sd_journal_set_data_threshold(j, 0);
        for (size_t i = 0; r >= 0 && matches[i]; i++)
                r = sd_journal_add_match(j, matches[i], 0);
        if (r >= 0)
                r = sd_journal_seek_head(j);
        while (r >= 0 && (r = sd_journal_next(j)) > 0)
                if (!needle || message_contains(j, needle))
                        collect_entry(j, out);
        sd_journal_close(j);
        return r < 0 ? r : (int) out->n;
}

int it_journal_collect_matching(const char *const *matches, const char *needle, size_t expected, int timeout_ms,
                                struct it_entries *out) {
        long long deadline = it_now_ms() + timeout_ms;
        int r;

        for (;;) {
                r = read_journal(matches, needle, out);
                if (r < 0)
                        goto fail;
                if ((size_t) r >= expected)
                        break;
                if (it_ms_left(deadline) == 0)
                        return r;
                it_entries_free(out);
                it_sleep_ms(it_ms_left(deadline) < 30 ? it_ms_left(deadline) : 30);
        }
        /* journald writes asynchronously: look a little longer for extra ones. */
        it_sleep_ms(SETTLE_MS);
        it_entries_free(out);
        r = read_journal(matches, needle, out);
        if (r >= 0)
                return r;
fail:
        fprintf(stderr, "support: reading the journal: %s\n", strerror(-r));
        return r;
}

int it_harkd_events(const char *const *matches, const char *needle, size_t expected, int timeout_ms,
                    struct it_entries *out) {
        const char *all[8] = { "SYSLOG_IDENTIFIER=harkd" };
        struct it_entries scratch;
        size_t n = 1;
        int r;

        for (size_t i = 0; matches && matches[i] && n < 7; i++)
                all[n++] = matches[i];
        all[n] = NULL;
        r = it_journal_collect_matching(all, needle, expected, timeout_ms, out ? out : &scratch);
        if (!out)
                it_entries_free(&scratch);
        return r;
}

const char *harkd_pid_match(const struct harkd *h, char *buffer, size_t size) {
        snprintf(buffer, size, "_PID=%d", (int) h->pid);
        return buffer;
}

int it_journal_messages(const char *identifier, size_t expected, int timeout_ms, struct it_entries *out) {
        char match[128];
        const char *matches[] = { match, NULL };

        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", identifier);
        return it_journal_collect(matches, expected, timeout_ms, out);
}

void it_entries_free(struct it_entries *e) {
        for (size_t i = 0; i < e->n; i++) {
                for (size_t k = 0; k < e->v[i].n_fields; k++) {
                        free(e->v[i].fields[k].name);
                        free(e->v[i].fields[k].value);
                }
                free(e->v[i].fields);
        }
        free(e->v);
        e->v = NULL;
        e->n = 0;
}

const char *it_entry_field(const struct it_entry *e, const char *name, size_t *length) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (strcmp(e->fields[i].name, name) == 0) {
                        if (length)
                                *length = e->fields[i].length;
                        return e->fields[i].value;
                }
        if (length)
                *length = 0;
        return NULL;
}

static void print_escaped(FILE *f, const char *data, size_t length) {
        for (size_t i = 0; i < length; i++) {
                unsigned char c = (unsigned char) data[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        fputc(c, f);
                else
                        fprintf(f, "\\x%02x", c);
        }
}

void it_entries_print(const struct it_entries *e) {
        static const char *const shown[] = { "PRIORITY", "SYSLOG_IDENTIFIER", "REMOTE_ADDR", "REMOTE_PORT",
                                             "REMOTE_PID", "REMOTE_UID", "REMOTE_GID", "HARK_CONNECTION",
                                             "HARK_TRUNCATED", "MESSAGE_ID" };

        fprintf(stderr, "%zu journal entries:\n", e->n);
        for (size_t i = 0; i < e->n; i++) {
                size_t length;
                const char *m = it_entry_field(&e->v[i], "MESSAGE", &length);

                fprintf(stderr, "  [%zu] MESSAGE=\"", i);
                if (m)
                        print_escaped(stderr, m, length);
                fputc('"', stderr);
                for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
                        const char *v = it_entry_field(&e->v[i], shown[k], NULL);
                        if (v)
                                fprintf(stderr, " %s=%s", shown[k], v);
                }
                fputc('\n', stderr);
        }
}

void it_assert_messages(const struct it_entries *e, const char *const *expected, size_t n) {
        bool same = e->n == n;

        for (size_t i = 0; same && i < n; i++) {
                size_t length;
                const char *m = it_entry_field(&e->v[i], "MESSAGE", &length);
                same = m && length == strlen(expected[i]) && memcmp(m, expected[i], length) == 0;
        }
        if (!same) {
                fprintf(stderr, "expected %zu messages:\n", n);
                for (size_t i = 0; i < n; i++) {
                        fprintf(stderr, "  [%zu] \"", i);
                        print_escaped(stderr, expected[i], strlen(expected[i]));
                        fprintf(stderr, "\"\n");
                }
                it_entries_print(e);
                fail_msg("the journal does not hold exactly the expected messages");
        }
}

void it_assert_field(const struct it_entry *e, const char *name, const char *value) {
        const char *v = it_entry_field(e, name, NULL);

        if (!v) {
                fprintf(stderr, "field %s missing (expected \"%s\")\n", name, value);
                fail();
        }
        assert_string_equal(v, value);
}
