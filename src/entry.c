#include "entry.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* The text a syslog message's fields need, besides the message's own bytes
 * (header slices and structured-data values are parts of it, so they take at
 * most its size twice: once decoded, once as a field): each field's name and
 * '='. */
#define NAMES_ROOM (SYSLOG_SD_PARAMS_MAX * (SYSLOG_FIELD_NAME_MAX + 1) + 256)
/* An idle connection keeps a text buffer up to this size. */
#define TEXT_KEEP (16 * 1024)

static const struct iovec truncated_field = { .iov_base = (char *) "HARK_TRUNCATED=1", .iov_len = 16 };
static const struct iovec incomplete_field = { .iov_base = (char *) "HARK_INCOMPLETE=1", .iov_len = 17 };

static const struct iovec priority_fields[] = {
        { (char *) "PRIORITY=0", 10 }, { (char *) "PRIORITY=1", 10 }, { (char *) "PRIORITY=2", 10 },
        { (char *) "PRIORITY=3", 10 }, { (char *) "PRIORITY=4", 10 }, { (char *) "PRIORITY=5", 10 },
        { (char *) "PRIORITY=6", 10 }, { (char *) "PRIORITY=7", 10 },
};

void entry_builder_init(struct entry_builder *b, const struct hark_config *config, const struct iovec *context,
                        size_t n_context) {
        assert(n_context <= ENTRY_CONTEXT_MAX);
        assert(config->priority >= 0 && config->priority <= PRIORITY_MAX);
        memset(b, 0, sizeof(*b));
        b->format = config->format;
        b->priority = config->priority;
        b->identifier = config->identifier;
        b->identifier_size = strlen(config->identifier);
        assert(b->identifier_size <= ENTRY_IDENTIFIER_MAX);
        b->context = context;
        b->n_context = n_context;
}

void entry_builder_done(struct entry_builder *b) {
        free(b->text);
        b->text = NULL;
        b->text_size = 0;
}

void entry_builder_trim(struct entry_builder *b) {
        if (b->text_size > TEXT_KEEP)
                entry_builder_done(b);
}

static int reserve_text(struct entry_builder *b, size_t want) {
        char *text;

        if (want <= b->text_size)
                return 0;
        text = realloc(b->text, want);
        if (!text)
                return -ENOMEM;
        b->text = text;
        b->text_size = want;
        return 0;
}

/* Appends fields to one entry, their text to the builder's buffer (sized
 * beforehand, so every write fits). */
struct fields {
        struct entry_builder *b;
        struct entry *e;
        size_t used;            /* of b->text */
};

static void add(struct fields *f, struct iovec field) {
        assert(f->e->n_fields < ENTRY_FIELDS_MAX);
        f->e->fields[f->e->n_fields++] = field;
}

/* SYSLOG_IDENTIFIER= the configured identifier. */
static struct iovec configured_identifier(struct fields *f) {
        static const char name[] = "SYSLOG_IDENTIFIER=";
        char *text = f->e->identifier_field;

        memcpy(text, name, sizeof(name) - 1);
        memcpy(text + sizeof(name) - 1, f->b->identifier, f->b->identifier_size);
        return (struct iovec) { text, sizeof(name) - 1 + f->b->identifier_size };
}

static char *text_at(struct fields *f) {
        return f->b->text + f->used;
}

/* name, '=' and value[0..size) as the next field. */
static void add_text(struct fields *f, const char *name, const char *value, size_t size) {
        size_t name_len = strlen(name);
        char *start = text_at(f);

        assert(f->used + name_len + 1 + size <= f->b->text_size);
        memcpy(start, name, name_len);
        start[name_len] = '=';
        memcpy(start + name_len + 1, value, size);
        f->used += name_len + 1 + size;
        add(f, (struct iovec) { start, name_len + 1 + size });
}

static void add_slice(struct fields *f, const char *name, struct syslog_slice s) {
        if (syslog_slice_present(s) && s.size > 0)
                add_text(f, name, s.data, s.size);
}

static void add_number(struct fields *f, const char *name, unsigned value) {
        char digits[16];
        int n = snprintf(digits, sizeof(digits), "%u", value);

        add_text(f, name, digits, (size_t) n);
}

/* The journal name of a structured-data param: its own for ENTRY_FIELDS_SD_ID
 * when that is a name a sender may use, else the SD_ scheme. Returns the
 * name's length, or -EINVAL for a param that has no name. */
static int sd_field_name(struct syslog_slice id, struct syslog_slice param, char name[SYSLOG_FIELD_NAME_MAX + 1]) {
        if (id.size == strlen(ENTRY_FIELDS_SD_ID) && memcmp(id.data, ENTRY_FIELDS_SD_ID, id.size) == 0 &&
            syslog_field_name_valid(param.data, param.size) && !syslog_field_name_reserved(param.data, param.size)) {
                assert(param.size <= SYSLOG_FIELD_NAME_MAX);
                memcpy(name, param.data, param.size);
                name[param.size] = 0;
                return (int) param.size;
        }
        return syslog_sd_field_name(id, param, name);
}

/* One field per param. A value is decoded into the buffer's tail (it is never
 * longer than the structured data), then written after its name. */
static void add_structured_data(struct fields *f, const struct syslog_message *m) {
        struct syslog_sd_iterator it;
        struct syslog_slice id;
        char *decoded = f->b->text + f->b->text_size - m->structured_data.size;

        syslog_sd_iterator_init(&it, m);
        while (syslog_sd_next_element(&it, &id)) {
                struct syslog_sd_param param;
                char name[SYSLOG_FIELD_NAME_MAX + 1];
                int r;

                while ((r = syslog_sd_next_param(&it, &param, decoded, m->structured_data.size)) != 0) {
                        /* A value that does not fit cannot happen (see above);
                         * a nameless param cannot be parsed: skip both. */
                        if (r < 0 || sd_field_name(id, param.name, name) < 0)
                                continue;
                        add_text(f, name, param.value.data, param.value.size);
                }
        }
}

/* MESSAGE: its name goes into the bytes right before its text, which are
 * either the framer's headroom or header bytes already copied out. */
static struct iovec message_field(const struct framed_message *m, const char *text, size_t size) {
        char *start = (char *) text - FRAMER_HEADROOM;

        assert(text >= m->data && text + size <= m->data + m->size);
        memcpy(start, "MESSAGE=", FRAMER_HEADROOM);
        return (struct iovec) { start, size + FRAMER_HEADROOM };
}

/* A syslog MSG without the spaces before it and the line ends after it:
 * senders that count octets often keep the LF a line sender would have
 * ended it with, and relays the space after an RFC 3164 tag's colon
 * (rsyslog's RSYSLOG_SyslogProtocol23Format does both), so the same message
 * would land differently by the way it came; journald trims its own syslog
 * messages so too. Spaces and LFs inside stay. */
static struct syslog_slice message_text(struct syslog_slice msg) {
        while (msg.size > 0 && msg.data[0] == ' ') {
                msg.data++;
                msg.size--;
        }
        while (msg.size > 0 && (msg.data[msg.size - 1] == '\n' || msg.data[msg.size - 1] == '\r'))
                msg.size--;
        return msg;
}

/* MESSAGE last, since its name overwrites header bytes, but as the first
 * field (readers look there). */
static void add_syslog_fields(struct fields *f, const struct framed_message *m, const struct syslog_message *s) {
        size_t message = f->e->n_fields;
        struct syslog_slice text;

        add(f, (struct iovec) { 0 });
        add_number(f, "PRIORITY", s->severity);
        add_number(f, "SYSLOG_FACILITY", s->facility);
        if (syslog_slice_present(s->app_name))
                add_slice(f, "SYSLOG_IDENTIFIER", s->app_name);
        else
                add(f, configured_identifier(f));
        add_slice(f, "SYSLOG_PID", s->procid);
        add_slice(f, "SYSLOG_MSGID", s->msgid);
        add_slice(f, "SYSLOG_TIMESTAMP", s->timestamp);
        add_slice(f, "SYSLOG_HOSTNAME", s->hostname);
        if (syslog_slice_present(s->structured_data))
                add_structured_data(f, s);
        text = message_text(s->msg);
        f->e->fields[message] = message_field(m, text.data, text.size);
}

static void add_raw_fields(struct fields *f, const struct framed_message *m) {
        add(f, message_field(m, m->data, m->size));
        add(f, priority_fields[f->b->priority]);
        add(f, configured_identifier(f));
}

/* Reads the header as the format says; SYSLOG_NONE when the message is
 * logged raw, and then *error says why if it should not have been. */
static enum syslog_format read_header(const struct entry_builder *b, const struct framed_message *m,
                                      struct syslog_message *s, const char **error) {
        enum syslog_format format;

        *error = NULL;
        if (b->format == FORMAT_RAW)
                return SYSLOG_NONE;
        format = syslog_parse(m->data, m->size, s);
        if (format == SYSLOG_MALFORMED)
                *error = s->error;
        else if (format == SYSLOG_NONE && b->format == FORMAT_SYSLOG)
                *error = "the message does not start with a valid <PRI>";
        return format == SYSLOG_MALFORMED ? SYSLOG_NONE : format;
}

void entry_build(struct entry_builder *b, const struct framed_message *m, struct entry *e) {
        struct fields f = { .b = b, .e = e };
        struct syslog_message s;
        const char *error;
        enum syslog_format format = read_header(b, m, &s, &error);

        e->n_fields = 0;
        if (format != SYSLOG_NONE && reserve_text(b, 2 * m->size + NAMES_ROOM) < 0) {
                format = SYSLOG_NONE;
                error = "no memory for the header's fields";
        }
        if (format != SYSLOG_NONE)
                add_syslog_fields(&f, m, &s);
        else
                add_raw_fields(&f, m);

        for (size_t i = 0; i < b->n_context; i++)
                add(&f, b->context[i]);
        if (m->truncated)
                add(&f, truncated_field);
        if (m->incomplete)
                add(&f, incomplete_field);
        if (error) {
                int n = snprintf(e->error_field, sizeof(e->error_field), "HARK_SYSLOG_ERROR=%s", error);

                assert(n > 0 && (size_t) n < sizeof(e->error_field));
                add(&f, (struct iovec) { e->error_field, (size_t) n });
        }
        e->syslog = format;
        e->syslog_error = error;
}
