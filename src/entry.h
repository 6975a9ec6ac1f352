/* A received message -> the fields of its journal entry.
 *
 * The format setting says whether a message's syslog header is read. When it
 * is, the header becomes fields of their own (PRIORITY from the severity,
 * SYSLOG_FACILITY, SYSLOG_IDENTIFIER, SYSLOG_PID, SYSLOG_MSGID,
 * SYSLOG_TIMESTAMP, SYSLOG_HOSTNAME, one field per structured-data param) and
 * MESSAGE is the text after it; otherwise MESSAGE is the message as it came,
 * under the configured identifier and priority. The connection's own facts
 * (the peer, the connection id) follow, as the caller gave them; a field
 * named by the sender never has their names or any other reserved name
 * (syslog_field_name_reserved()), so they cannot be set or shadowed. No
 * sd-journal here: the result is a list of "NAME=value" buffers, for
 * journal_send(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>

#include "config.h"
#include "framer.h"
#include "syslog_parse.h"

/* The SD-ID whose params are journal fields under their own names (as `hark
 * --field NAME=VALUE` sends them), when those names are allowed; other SD-IDs'
 * params become SD_<ID>_<PARAM>. Private SD-IDs are "name@enterprise" in RFC
 * 5424; hark has no enterprise number, and any relay passes this one on. */
#define ENTRY_FIELDS_SD_ID "journal@hark"

/* At most this many fields of the connection's own facts. */
#define ENTRY_CONTEXT_MAX 8

/* MESSAGE, PRIORITY, the six SYSLOG_* fields, the structured data, the
 * context, and HARK_TRUNCATED, HARK_INCOMPLETE, HARK_SYSLOG_ERROR. */
#define ENTRY_FIELDS_MAX (8 + SYSLOG_SD_PARAMS_MAX + ENTRY_CONTEXT_MAX + 3)

/* Kept small: every open connection has one (10,000 idle connections are a
 * workload harkd serves). What an entry needs only while it is built lives
 * in struct entry, on the caller's stack. */
struct entry_builder {
        enum message_format format;
        int priority;                   /* of a raw message: the configured one */
        const char *identifier;         /* the configured one, in the caller's config */
        size_t identifier_size;
        const struct iovec *context;    /* the caller's; outlives the builder */
        size_t n_context;
        char *text;                     /* the "NAME=value" of header fields, per message */
        size_t text_size;
};

/* An identifier has at most this many bytes (config.c). */
#define ENTRY_IDENTIFIER_MAX 255

/* What entry_build() made of a message: its fields, valid until the
 * builder's next entry_build(), and the buffers of some of them. */
struct entry {
        struct iovec fields[ENTRY_FIELDS_MAX];
        size_t n_fields;
        enum syslog_format syslog;      /* SYSLOG_NONE for a message logged raw by format */
        /* Why a message that should have had a syslog header is logged raw
         * (a static phrase; also sent as HARK_SYSLOG_ERROR), or NULL. */
        const char *syslog_error;
        char identifier_field[sizeof("SYSLOG_IDENTIFIER=") + ENTRY_IDENTIFIER_MAX];
        char error_field[160];          /* HARK_SYSLOG_ERROR= and a phrase */
};

/* Sets b up for the messages of one connection under config (format,
 * identifier, priority). config must outlive the builder (the connection
 * holds its snapshot). context[0..n_context) are "NAME=value" fields added
 * to every entry, in that order. */
void entry_builder_init(struct entry_builder *b, const struct hark_config *config, const struct iovec *context,
                        size_t n_context);

/* Frees what the builder holds; safe to call twice. */
void entry_builder_done(struct entry_builder *b);

/* Frees the text buffer when it has grown large: called when the connection
 * idles, so an idle connection keeps no large buffer. */
void entry_builder_trim(struct entry_builder *b);

/* The entry of message m, into *e. Writes into the FRAMER_HEADROOM bytes before
 * m->data and into m->data itself (the MESSAGE field's name goes right
 * before its text), so m is spent afterwards. Never fails: a message whose
 * header fields find no memory is logged raw, with the reason in
 * e->syslog_error. */
void entry_build(struct entry_builder *b, const struct framed_message *m, struct entry *e);
