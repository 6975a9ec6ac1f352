/* The journal as the integration tests read it back: entries matching
 * fields, through sd-journal, waiting for journald to have written them. */
#pragma once

#include <stddef.h>

struct harkd;

struct it_field {
        char *name;
        char *value;            /* NUL-terminated copy; may hold NULs: see length */
        size_t length;
};

struct it_entry {
        struct it_field *fields;
        size_t n_fields;
};

struct it_entries {
        struct it_entry *v;
        size_t n;
};

/* Reads the journal entries matching all of matches ("FIELD=value", up to a
 * NULL), waiting at most timeout_ms until at least expected are there, and
 * then a little more to catch extra ones. Entries come in journal order.
 * Returns the number found (-errno on failure). */
int it_journal_collect(const char *const *matches, size_t expected, int timeout_ms, struct it_entries *out);

/* The same, counting only the entries whose MESSAGE contains needle (NULL: all). */
int it_journal_collect_matching(const char *const *matches, const char *needle, size_t expected, int timeout_ms,
                                struct it_entries *out);

/* harkd's own events (SYSLOG_IDENTIFIER=harkd) matching matches (may be
 * NULL) and needle, as it_journal_collect_matching(); out may be NULL. */
int it_harkd_events(const char *const *matches, const char *needle, size_t expected, int timeout_ms,
                    struct it_entries *out);

/* "_PID=<harkd's pid>": events of harkd's main process. */
const char *harkd_pid_match(const struct harkd *h, char *buffer, size_t size);

/* The same for the messages of identifier (SYSLOG_IDENTIFIER=identifier). */
int it_journal_messages(const char *identifier, size_t expected, int timeout_ms, struct it_entries *out);

void it_entries_free(struct it_entries *e);

/* A field of an entry (NULL when absent); *length gets its size. */
const char *it_entry_field(const struct it_entry *e, const char *name, size_t *length);

/* Prints every entry (MESSAGE escaped and the hark fields) to stderr. */
void it_entries_print(const struct it_entries *e);

/* Asserts that the MESSAGEs of e are exactly expected, in order. */
void it_assert_messages(const struct it_entries *e, const char *const *expected, size_t n);

/* Asserts that field name of e is value. */
void it_assert_field(const struct it_entry *e, const char *name, const char *value);
