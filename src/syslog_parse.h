/* The syslog parser: one received message (bytes and a length; NULs and
 * invalid UTF-8 allowed) -> its RFC 5424 or RFC 3164 header as slices of the
 * input. Pure: no allocation, no I/O, never reads past the length, every loop
 * bounded by it; callable from unit tests and fuzzers without a journal.
 *
 * What a message is:
 *
 * - Syslog at all: it starts with "<PRI>", 1 to 3 digits of value 0-191,
 *   without leading zeros ("<0>" is the one PRI with a 0 first). Anything
 *   else ("<>", "<1234>", "<192>", "<013>", text that starts with '<') is
 *   SYSLOG_NONE: not syslog, to be logged raw as it came.
 * - RFC 5424: "<PRI>1 " commits to it (VERSION 1 and a space); from there
 *   TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [SP MSG] must
 *   follow exactly, or the message is SYSLOG_MALFORMED. A "1" that is not
 *   followed by a space ("<13>100 bottles") is RFC 3164 content.
 * - RFC 3164: every other message after a valid PRI. RFC 3164 (4.3.2) makes
 *   whatever follows a PRI without a valid header that message's CONTENT, so
 *   no RFC 3164 message is malformed; the parser takes what it recognises
 *   and leaves the rest in MSG (see syslog_parse.c for the exact rules):
 *     [BOM] [TIMESTAMP SP [HOSTNAME SP]] [TAG-PART] MSG
 *     TAG-PART = TAG ":" (SP | the end) | TAG "[" PID "]" (":" [SP] | SP | the end)
 *              | TAG SP (only after TIMESTAMP and HOSTNAME)
 *   TIMESTAMP is "Mmm dd hh:mm:ss" (day space- or zero-padded or a single
 *   digit, optional ".fraction"), "Mmm dd yyyy hh:mm:ss", or an RFC 3339
 *   timestamp. A HOSTNAME is taken only after a TIMESTAMP: in
 *   "<13>host tag: x" the first word ends with neither ':' nor "[pid]", so
 *   there is no tag and all of "host tag: x" is MSG. After a TIMESTAMP the
 *   next word is the HOSTNAME unless it ends with ':' or holds a byte no host
 *   name or address has ('[', '/', ...); then it is the TAG, as in the local
 *   shape "<142>Dec  2 00:59:55 myapp[27693]: x". A TAG ended by a space
 *   alone counts only after both TIMESTAMP and HOSTNAME (rsyslog forwards
 *   "<26>Dec  2 00:59:30 vm myapp no pid here"); without them a tag needs its
 *   ':' or "[pid]", so that Python's plain "<14>plain, no ident" keeps its
 *   text.
 * - SYSLOG_MALFORMED otherwise: "<PRI>" and nothing after it, or an RFC 5424
 *   header that breaks the grammar (a field missing, too long, not printable
 *   US-ASCII, a bad TIMESTAMP, bad STRUCTURED-DATA, no space before MSG).
 *
 * In every result msg is what the journal's MESSAGE is to be: for
 * SYSLOG_NONE and SYSLOG_MALFORMED the whole input (logged raw, never
 * dropped), else the MSG part.
 *
 * (Not "syslog.h": with -Isrc that name would hide the system's <syslog.h>
 * and its LOG_* levels from every file.) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 5424 section 6 field lengths; also the bounds of the RFC 3164 fields
 * they are mapped from (TAG like APP-NAME: both become SYSLOG_IDENTIFIER). */
#define SYSLOG_HOSTNAME_MAX 255
#define SYSLOG_APP_NAME_MAX 48
#define SYSLOG_PROCID_MAX 128
#define SYSLOG_MSGID_MAX 32
#define SYSLOG_SD_NAME_MAX 32

/* The most SD-ELEMENTs and SD-PARAMs (over all elements) the iterator
 * reports; more are parsed and checked, counted in sd_elements/sd_params,
 * but not reported. Each reported PARAM becomes one journal field, so this
 * bounds the fields a sender adds to an entry. */
#define SYSLOG_SD_ELEMENTS_MAX 16
#define SYSLOG_SD_PARAMS_MAX 64

/* journald's bound on a field name (and what syslog_sd_field_name writes at
 * most, plus a NUL). */
#define SYSLOG_FIELD_NAME_MAX 64

/* Bytes of the input; data is NULL and size 0 when the field is absent (also
 * when the sender sent the NILVALUE "-"). */
struct syslog_slice {
        const char *data;
        size_t size;
};

static inline bool syslog_slice_present(struct syslog_slice s) {
        return s.data != NULL;
}

enum syslog_format {
        SYSLOG_NONE,            /* no valid <PRI>: not syslog */
        SYSLOG_MALFORMED,       /* a valid <PRI>, then a broken header */
        SYSLOG_RFC3164,
        SYSLOG_RFC5424,
};

struct syslog_message {
        enum syslog_format format;
        /* From the PRI, for every format but SYSLOG_NONE (also for
         * SYSLOG_MALFORMED, should the caller want it). severity is the
         * journal's PRIORITY as it is; never facility * 8 + severity. */
        uint8_t facility;       /* 0-23 */
        uint8_t severity;       /* 0-7 */

        /* The sender's claims, as sent (nothing is converted or checked
         * beyond the grammar: a timestamp is the sender's text). All absent
         * for SYSLOG_NONE and SYSLOG_MALFORMED; RFC 3164 never has msgid or
         * structured_data. */
        struct syslog_slice timestamp;
        struct syslog_slice hostname;
        struct syslog_slice app_name;   /* RFC 3164: the TAG */
        struct syslog_slice procid;     /* RFC 3164: the PID inside "[...]" */
        struct syslog_slice msgid;
        /* RFC 5424: the SD-ELEMENTs as sent, from the first '[' to the last
         * ']', escapes still in (walk it with struct syslog_sd_iterator);
         * absent for the NILVALUE. */
        struct syslog_slice structured_data;
        size_t sd_elements;     /* all of them, even past SYSLOG_SD_ELEMENTS_MAX */
        size_t sd_params;       /* all of them, even past SYSLOG_SD_PARAMS_MAX */

        /* The MESSAGE: the MSG part without a leading UTF-8 BOM, or the whole
         * input when the format is SYSLOG_NONE or SYSLOG_MALFORMED. Present
         * (data not NULL) even when empty, unless the input was NULL. */
        struct syslog_slice msg;
        bool bom;               /* a BOM was stripped from MSG */

        /* SYSLOG_MALFORMED only: a static English phrase saying what was
         * wrong, and the offset into the input where it was found. */
        const char *error;
        size_t error_offset;
};

/* Parses size bytes at data (NULL allowed when size is 0) into *m; returns
 * m->format. */
enum syslog_format syslog_parse(const char *data, size_t size, struct syslog_message *m);

/* Walks the STRUCTURED-DATA of a parsed RFC 5424 message: elements, then
 * the params of each. Safe on any slice (it stops at the first byte that
 * breaks the grammar), bounded by SYSLOG_SD_ELEMENTS_MAX and
 * SYSLOG_SD_PARAMS_MAX. */
struct syslog_sd_iterator {
        const char *p, *end;
        size_t elements;        /* reported so far */
        size_t params;          /* reported so far, over all elements */
        bool in_element;        /* between an element's SD-ID and its ']' */
        bool stopped;
};

struct syslog_sd_param {
        struct syslog_slice name;       /* PARAM-NAME, in the input */
        struct syslog_slice raw;        /* PARAM-VALUE as sent, escapes in */
        struct syslog_slice value;      /* decoded, in the caller's buffer */
};

void syslog_sd_iterator_init(struct syslog_sd_iterator *it, const struct syslog_message *m);

/* Moves to the next SD-ELEMENT (skipping any params of the current one not
 * read) and sets *id to its SD-ID. Returns false at the end, after
 * SYSLOG_SD_ELEMENTS_MAX elements, or at a grammar error. */
bool syslog_sd_next_element(struct syslog_sd_iterator *it, struct syslog_slice *id);

/* Reads the next SD-PARAM of the current element and decodes its value
 * (\" \\ \] -> " \ ]; a backslash before anything else stays, as RFC 5424
 * says) into buf[0..size). Returns 1, 0 when the element has no more params
 * (or SYSLOG_SD_PARAMS_MAX have been reported), or -ENOBUFS when the decoded
 * value does not fit: the param is then consumed all the same, name and raw
 * set and value empty. A decoded value is never longer than raw, so a
 * buffer of structured_data.size bytes holds all values of a message. */
int syslog_sd_next_param(struct syslog_sd_iterator *it, struct syslog_sd_param *param, char *buf, size_t size);

/* The journal field name of PARAM-NAME param in the SD-ELEMENT id, under
 * harkd's one scheme: "SD_" ID "_" PARAM, ASCII letters upper-cased, every
 * other byte outside [A-Z0-9_] replaced by '_', cut at SYSLOG_FIELD_NAME_MAX
 * bytes. The "@" of a private SD-ID "name@enterprise" becomes '_' like any
 * other such byte, so the enterprise number stays in the name and the same
 * name from two enterprises gives two fields: [exampleSDID@32473 iut="3"]
 * gives SD_EXAMPLESDID_32473_IUT=3. Distinct params may still meet under one
 * name ("a.b" and "a_b", or past the cut); journald then keeps both values.
 * Writes the name and a NUL to buf; returns its length, or -EINVAL when id
 * or param is empty. The name is always syslog_field_name_valid() and never
 * syslog_field_name_reserved(). */
int syslog_sd_field_name(struct syslog_slice id, struct syslog_slice param, char buf[static SYSLOG_FIELD_NAME_MAX + 1]);

/* Whether name[0..size) is a journal field name a client may set: 1 to
 * SYSLOG_FIELD_NAME_MAX bytes of [A-Z0-9_], the first neither a digit nor
 * '_' (journald keeps names with a leading '_' for the fields it adds). */
bool syslog_field_name_valid(const char *name, size_t size);

/* Whether name[0..size) is a field no sender may set or shadow: journald's
 * trusted fields (a leading '_'); the fields harkd sets itself (MESSAGE,
 * PRIORITY, SYSLOG_*); the facts harkd adds about the peer and the
 * connection (REMOTE_*, e.g. REMOTE_ADDR, REMOTE_PORT, REMOTE_PID/UID/GID,
 * REMOTE_TLS_SUBJECT, REMOTE_TLS_SHA256; HARK_*, e.g. HARK_CONNECTION,
 * HARK_TRUNCATED, HARK_TRANSPORT: whole prefixes, so that a field added
 * later is covered); and OBJECT_* and COREDUMP_*, which journald and
 * journalctl trust in entries of privileged writers (`journalctl -u UNIT`
 * matches OBJECT_SYSTEMD_UNIT=UNIT, and COREDUMP_UNIT=UNIT with the
 * coredump MESSAGE_ID, in entries with _UID=0: a harkd running as root
 * would otherwise let a sender put lines under any unit); UNIT, USER_UNIT,
 * INVOCATION_ID and USER_INVOCATION_ID, which journalctl trusts in the
 * entries of service managers and a sender has no business claiming; and
 * MESSAGE_ID, which names a catalog entry and marks harkd's own events (a
 * received message never has one, so it cannot pass for such an event). */
bool syslog_field_name_reserved(const char *name, size_t size);
