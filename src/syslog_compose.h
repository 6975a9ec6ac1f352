/* Building the RFC 5424 messages hark sends, and the names of the syslog
 * facilities and levels its --priority takes.
 *
 * A message is
 *
 *     <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID - SD MSG
 *
 * with PRI = facility * 8 + severity, TIMESTAMP RFC 3339 with microseconds
 * and the sender's UTC offset, MSGID always the NILVALUE, and SD either "-"
 * or one SD-ELEMENT [journal@hark KEY="VALUE" ...] holding the fields, which
 * harkd logs under their own names. Framed as a line (the message and a LF)
 * or as an RFC 6587 octet-counted frame (MSG-LEN SP message).
 *
 * Pure but for syslog_time_now(): the time, host name and PROCID are the
 * caller's, so that tests get exact bytes. Every message composed here
 * parses back with syslog_parse() to the same facility, severity, header
 * fields, params and MSG. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "syslog_parse.h"

#define SYSLOG_FACILITY_MAX 23
#define SYSLOG_SEVERITY_MAX 7

/* logger(1)'s default priority, and hark's: user.notice. */
#define SYSLOG_DEFAULT_FACILITY 1
#define SYSLOG_DEFAULT_SEVERITY 5

/* The largest message an octet-counted frame carries: MSG-LEN has at most
 * 9 digits (FRAMER_LENGTH_DIGITS_MAX), the most harkd reads. */
#define SYSLOG_OCTET_MESSAGE_MAX 999999999u

/* The SD-ID of the element that carries hark's fields. */
#define SYSLOG_HARK_SD_ID "journal@hark"

/* A facility by name (kern user mail daemon auth syslog lpr news uucp cron
 * authpriv ftp local0 ... local7) or number (0-23). Returns it, or -EINVAL. */
int syslog_facility_from_string(const char *s);

/* The name of a facility, or NULL for 12-15 (no name) and out of range. */
const char *syslog_facility_name(int facility);

/* A level by name (emerg alert crit err warning notice info debug, and
 * error, warn) or number (0-7). Returns it, or -EINVAL. */
int syslog_severity_from_string(const char *s);

/* A moment in local time as TIMESTAMP shows it. */
struct syslog_time {
        int year;               /* 0-9999 */
        int month;              /* 1-12 */
        int day;                /* 1-31 */
        int hour;               /* 0-23 */
        int minute;             /* 0-59 */
        int second;             /* 0-60 */
        long usec;              /* 0-999999 */
        long utc_offset;        /* seconds east of UTC, under 24 hours either way */
};

/* seconds and usec since the epoch in the local time zone (TZ). Returns 0,
 * or -EOVERFLOW when localtime_r() cannot say. */
int syslog_time_local(time_t seconds, long usec, struct syslog_time *t);

/* The realtime clock, as syslog_time_local(). */
int syslog_time_now(struct syslog_time *t);

/* "2026-12-02T01:07:16.799813+01:00" is the longest. */
#define SYSLOG_TIMESTAMP_MAX 32

/* Writes TIMESTAMP and a NUL to buf: t as RFC 3339 with microseconds and a
 * numeric offset ("+00:00" for UTC), or the NILVALUE "-" when t is NULL or a
 * field is out of range. Returns the length. */
size_t syslog_format_timestamp(const struct syslog_time *t, char buf[static SYSLOG_TIMESTAMP_MAX + 1]);

/* Whether s[0..size) is a HOSTNAME (1-255) or an APP-NAME (1-48) RFC 5424
 * takes: printable US-ASCII, no spaces. */
bool syslog_hostname_valid(const char *s, size_t size);
bool syslog_app_name_valid(const char *s, size_t size);

/* Why a field name cannot be sent. */
enum syslog_field_problem {
        SYSLOG_FIELD_OK,
        SYSLOG_FIELD_EMPTY,
        SYSLOG_FIELD_TOO_LONG,  /* over SYSLOG_SD_NAME_MAX: no PARAM-NAME */
        SYSLOG_FIELD_INVALID,   /* not syslog_field_name_valid() */
        SYSLOG_FIELD_RESERVED,  /* syslog_field_name_reserved() */
};

/* Whether name[0..size) can be a field harkd logs under exactly that name. */
enum syslog_field_problem syslog_field_name_check(const char *name, size_t size);

struct syslog_field {
        struct syslog_slice name;
        struct syslog_slice value;      /* any bytes; '"', '\' and ']' are escaped */
};

/* What every message of a run has in common. */
struct syslog_compose_options {
        int facility;                   /* 0-23 */
        int severity;                   /* 0-7 */
        const char *hostname;           /* NULL or not syslog_hostname_valid(): "-" */
        const char *app_name;           /* NULL: "-"; else syslog_app_name_valid() */
        const char *procid;             /* NULL: "-"; else 1-128 printable US-ASCII */
        const struct syslog_field *fields;
        size_t n_fields;                /* at most SYSLOG_SD_PARAMS_MAX */
        bool octet_count;               /* RFC 6587 frames, else LF-ended lines */
};

/* The parts that stay the same, composed once. */
struct syslog_composer {
        char pri[8];                    /* "<PRI>1 " */
        size_t pri_size;
        char *tail;                     /* " HOSTNAME APP-NAME PROCID - SD " */
        size_t tail_size;
        bool octet_count;
};

/* Sets up *c. Returns 0; -EINVAL for a facility, severity, APP-NAME, PROCID
 * or field name out of bounds, or (lines) a field value holding LF or NUL,
 * which would end the line; -E2BIG for more than SYSLOG_SD_PARAMS_MAX fields
 * (harkd would not log the rest); -ENOMEM. */
int syslog_composer_init(struct syslog_composer *c, const struct syslog_compose_options *o);

/* Frees what init allocated; safe to call twice. */
void syslog_composer_done(struct syslog_composer *c);

/* Bytes composed and not yet sent. */
struct syslog_buffer {
        char *data;
        size_t size;
        size_t capacity;
};

void syslog_buffer_free(struct syslog_buffer *b);

/* Appends one framed message with the text msg[0..size) stamped at *when
 * (NULL: the NILVALUE) to out. When msg starts with a UTF-8 BOM another one
 * goes in front of it, since a receiver strips one (RFC 5424 6.4): MESSAGE
 * is then msg as given. Returns 0; -EINVAL (lines) when msg holds LF or
 * NUL, which would make it two records, or ends with CR, which the receiver
 * would drop as part of a CRLF; -EMSGSIZE (octets) when the message
 * exceeds SYSLOG_OCTET_MESSAGE_MAX; -ENOMEM. out is unchanged on error. */
int syslog_compose(const struct syslog_composer *c, const struct syslog_time *when, const char *msg, size_t size,
                   struct syslog_buffer *out);
