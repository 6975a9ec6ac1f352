#include "syslog_compose.h"

#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

/* RFC 5424 6.2.1 table; 12-15 (ntp, security, console, clock daemon) have
 * names nobody agrees on, so they are taken by number only. */
static const char *const facility_names[SYSLOG_FACILITY_MAX + 1] = {
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp",
        NULL, NULL, NULL, NULL,
        "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
};

static const char BOM[3] = { '\xef', '\xbb', '\xbf' };

/* 1 to digits decimal digits and nothing else, no leading zero (as in a
 * PRI), of value at most max. */
static int small_number(const char *s, size_t digits, int max) {
        int value = 0;
        size_t n = 0;

        for (; s[n] >= '0' && s[n] <= '9'; n++) {
                if (n == digits || (n == 1 && s[0] == '0'))
                        return -EINVAL;
                value = value * 10 + (s[n] - '0');
        }
        return n > 0 && !s[n] && value <= max ? value : -EINVAL;
}

int syslog_facility_from_string(const char *s) {
        assert(s);
        for (size_t i = 0; i < ELEMENTSOF(facility_names); i++)
                if (facility_names[i] && strcmp(facility_names[i], s) == 0)
                        return (int) i;
        return small_number(s, 2, SYSLOG_FACILITY_MAX);
}

const char *syslog_facility_name(int facility) {
        return facility >= 0 && facility <= SYSLOG_FACILITY_MAX ? facility_names[facility] : NULL;
}

int syslog_severity_from_string(const char *s) {
        assert(s);
        /* Names from priority_from_string(); numbers strictly here, since
         * its strtol() would also take " 3" and "+3". */
        if (*s >= 'a' && *s <= 'z')
                return priority_from_string(s);
        return small_number(s, 1, SYSLOG_SEVERITY_MAX);
}

int syslog_time_local(time_t seconds, long usec, struct syslog_time *t) {
        struct tm tm;

        assert(t);
        if (usec < 0 || usec > 999999 || !localtime_r(&seconds, &tm))
                return -EOVERFLOW;
        *t = (struct syslog_time) {
                .year = tm.tm_year + 1900,
                .month = tm.tm_mon + 1,
                .day = tm.tm_mday,
                .hour = tm.tm_hour,
                .minute = tm.tm_min,
                .second = tm.tm_sec,
                .usec = usec,
                .utc_offset = tm.tm_gmtoff,
        };
        return 0;
}

int syslog_time_now(struct syslog_time *t) {
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return -errno;
        return syslog_time_local(ts.tv_sec, ts.tv_nsec / 1000, t);
}

static bool time_in_range(const struct syslog_time *t) {
        return t->year >= 0 && t->year <= 9999 && t->month >= 1 && t->month <= 12 && t->day >= 1 &&
               t->day <= 31 && t->hour >= 0 && t->hour <= 23 && t->minute >= 0 && t->minute <= 59 &&
               t->second >= 0 && t->second <= 60 && t->usec >= 0 && t->usec <= 999999 &&
               t->utc_offset > -24 * 3600 && t->utc_offset < 24 * 3600;
}

size_t syslog_format_timestamp(const struct syslog_time *t, char buf[static SYSLOG_TIMESTAMP_MAX + 1]) {
        long offset;
        int n;

        if (!t || !time_in_range(t)) {
                memcpy(buf, "-", sizeof("-"));
                return 1;
        }
        /* RFC 3339 offsets have minutes only; a zone's seconds (historic
         * local mean times) are dropped, towards UTC. */
        offset = t->utc_offset < 0 ? -t->utc_offset : t->utc_offset;
        n = snprintf(buf, SYSLOG_TIMESTAMP_MAX + 1, "%04d-%02d-%02dT%02d:%02d:%02d.%06ld%c%02ld:%02ld", t->year,
                     t->month, t->day, t->hour, t->minute, t->second, t->usec, t->utc_offset < 0 ? '-' : '+',
                     offset / 3600, offset % 3600 / 60);
        assert(n == SYSLOG_TIMESTAMP_MAX);
        return (size_t) n;
}

static bool printable_run(const char *s, size_t size, size_t max) {
        if (!s || size == 0 || size > max)
                return false;
        for (size_t i = 0; i < size; i++)
                if ((unsigned char) s[i] < 33 || (unsigned char) s[i] > 126)
                        return false;
        return true;
}

bool syslog_hostname_valid(const char *s, size_t size) {
        return printable_run(s, size, SYSLOG_HOSTNAME_MAX);
}

bool syslog_app_name_valid(const char *s, size_t size) {
        return printable_run(s, size, SYSLOG_APP_NAME_MAX);
}

enum syslog_field_problem syslog_field_name_check(const char *name, size_t size) {
        if (size == 0)
                return SYSLOG_FIELD_EMPTY;
        if (size > SYSLOG_SD_NAME_MAX)
                return SYSLOG_FIELD_TOO_LONG;
        if (!syslog_field_name_valid(name, size))
                return SYSLOG_FIELD_INVALID;
        if (syslog_field_name_reserved(name, size))
                return SYSLOG_FIELD_RESERVED;
        return SYSLOG_FIELD_OK;
}

static int buffer_reserve(struct syslog_buffer *b, size_t more) {
        size_t capacity;
        char *data;

        if (more > SIZE_MAX - b->size)
                return -ENOMEM;
        if (b->size + more <= b->capacity)
                return 0;
        capacity = b->capacity ? b->capacity : 256;
        while (capacity < b->size + more)
                capacity = capacity > SIZE_MAX / 2 ? b->size + more : capacity * 2;
        data = realloc(b->data, capacity);
        if (!data)
                return -ENOMEM;
        b->data = data;
        b->capacity = capacity;
        return 0;
}

static void append(struct syslog_buffer *b, const void *data, size_t size) {
        memcpy(b->data + b->size, data, size);
        b->size += size;
}

static void append_str(struct syslog_buffer *b, const char *s) {
        append(b, s, strlen(s));
}

void syslog_buffer_free(struct syslog_buffer *b) {
        if (!b)
                return;
        free(b->data);
        *b = (struct syslog_buffer) { 0 };
}

/* The three bytes RFC 5424 6.3.3 wants escaped in a PARAM-VALUE. */
static bool needs_escape(char c) {
        return c == '"' || c == '\\' || c == ']';
}

static size_t escaped_size(struct syslog_slice value) {
        size_t n = value.size;

        for (size_t i = 0; i < value.size; i++)
                n += needs_escape(value.data[i]);
        return n;
}

static void append_escaped(struct syslog_buffer *b, struct syslog_slice value) {
        for (size_t i = 0; i < value.size; i++) {
                if (needs_escape(value.data[i]))
                        b->data[b->size++] = '\\';
                b->data[b->size++] = value.data[i];
        }
}

static bool holds_line_end(struct syslog_slice s) {
        return s.size > 0 && (memchr(s.data, '\n', s.size) || memchr(s.data, 0, s.size));
}

static int check_options(const struct syslog_compose_options *o) {
        if (o->facility < 0 || o->facility > SYSLOG_FACILITY_MAX || o->severity < 0 ||
            o->severity > SYSLOG_SEVERITY_MAX)
                return -EINVAL;
        if (o->app_name && !syslog_app_name_valid(o->app_name, strlen(o->app_name)))
                return -EINVAL;
        if (o->procid && !printable_run(o->procid, strlen(o->procid), SYSLOG_PROCID_MAX))
                return -EINVAL;
        if (o->n_fields > SYSLOG_SD_PARAMS_MAX)
                return -E2BIG;
        for (size_t i = 0; i < o->n_fields; i++) {
                const struct syslog_field *f = &o->fields[i];

                if (syslog_field_name_check(f->name.data, f->name.size) != SYSLOG_FIELD_OK)
                        return -EINVAL;
                if (!f->value.data && f->value.size > 0)
                        return -EINVAL;
                if (!o->octet_count && holds_line_end(f->value))
                        return -EINVAL;
        }
        return 0;
}

/* " HOSTNAME APP-NAME PROCID - SD ": how long, then the bytes. */
static size_t tail_size(const struct syslog_compose_options *o, const char *hostname) {
        size_t n = 1 + strlen(hostname) + 1 + strlen(o->app_name ? o->app_name : "-") + 1 +
                   strlen(o->procid ? o->procid : "-") + strlen(" - ");

        if (o->n_fields == 0)
                return n + strlen("- ");
        n += strlen("[" SYSLOG_HARK_SD_ID "] ");
        for (size_t i = 0; i < o->n_fields; i++)
                n += 1 + o->fields[i].name.size + strlen("=\"\"") + escaped_size(o->fields[i].value);
        return n;
}

static void write_tail(struct syslog_buffer *b, const struct syslog_compose_options *o, const char *hostname) {
        append_str(b, " ");
        append_str(b, hostname);
        append_str(b, " ");
        append_str(b, o->app_name ? o->app_name : "-");
        append_str(b, " ");
        append_str(b, o->procid ? o->procid : "-");
        append_str(b, " - ");
        if (o->n_fields == 0) {
                append_str(b, "- ");
                return;
        }
        append_str(b, "[" SYSLOG_HARK_SD_ID);
        for (size_t i = 0; i < o->n_fields; i++) {
                append_str(b, " ");
                append(b, o->fields[i].name.data, o->fields[i].name.size);
                append_str(b, "=\"");
                append_escaped(b, o->fields[i].value);
                append_str(b, "\"");
        }
        append_str(b, "] ");
}

int syslog_composer_init(struct syslog_composer *c, const struct syslog_compose_options *o) {
        struct syslog_buffer tail = { 0 };
        const char *hostname;
        size_t size;
        int r;

        assert(c);
        assert(o);
        *c = (struct syslog_composer) { 0 };
        r = check_options(o);
        if (r < 0)
                return r;
        hostname = o->hostname && syslog_hostname_valid(o->hostname, strlen(o->hostname)) ? o->hostname : "-";
        size = tail_size(o, hostname);
        if (buffer_reserve(&tail, size) < 0)
                return -ENOMEM;
        write_tail(&tail, o, hostname);
        assert(tail.size == size);
        c->tail = tail.data;
        c->tail_size = tail.size;
        c->pri_size = (size_t) snprintf(c->pri, sizeof(c->pri), "<%d>1 ", o->facility * 8 + o->severity);
        c->octet_count = o->octet_count;
        return 0;
}

void syslog_composer_done(struct syslog_composer *c) {
        if (!c)
                return;
        free(c->tail);
        c->tail = NULL;
        c->tail_size = 0;
}

int syslog_compose(const struct syslog_composer *c, const struct syslog_time *when, const char *msg, size_t size,
                   struct syslog_buffer *out) {
        char timestamp[SYSLOG_TIMESTAMP_MAX + 1], length[16] = "";
        size_t timestamp_size, bom, message_size, length_size = 0;

        assert(c && c->tail);
        assert(msg || size == 0);
        assert(out);
        /* A line's final CR is dropped by its receiver (CRLF senders). */
        if (!c->octet_count && (holds_line_end((struct syslog_slice) { msg, size }) || (size && msg[size - 1] == '\r')))
                return -EINVAL;
        timestamp_size = syslog_format_timestamp(when, timestamp);
        bom = size >= sizeof(BOM) && memcmp(msg, BOM, sizeof(BOM)) == 0 ? sizeof(BOM) : 0;
        if (size > SIZE_MAX / 2)
                return -EMSGSIZE;
        message_size = c->pri_size + timestamp_size + c->tail_size + bom + size;
        if (c->octet_count) {
                if (message_size > SYSLOG_OCTET_MESSAGE_MAX)
                        return -EMSGSIZE;
                length_size = (size_t) snprintf(length, sizeof(length), "%zu ", message_size);
        }
        if (buffer_reserve(out, length_size + message_size + !c->octet_count) < 0)
                return -ENOMEM;
        append(out, length, length_size);
        append(out, c->pri, c->pri_size);
        append(out, timestamp, timestamp_size);
        append(out, c->tail, c->tail_size);
        append(out, BOM, bom);
        if (size > 0)
                append(out, msg, size);
        if (!c->octet_count)
                append(out, "\n", 1);
        return 0;
}
