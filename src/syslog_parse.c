/* The syslog parser (see syslog_parse.h for what each result means).
 *
 * Every read goes through peek() or a check against end first, and every
 * loop either moves forward through the input or is bounded by a field's
 * length limit, so no input makes the parser read past its length or run
 * longer than linear in it.
 *
 * Where RFC 3164 and the senders leave room, these are the rules:
 * - TIMESTAMP: the month as in RFC 3164 ("Jan".."Dec", that case only); the
 *   day as " 1" (RFC 3164's padding), "01" or "1"; a four-digit year may sit
 *   between day and time; the time may carry a fraction of 1 to 9 digits.
 *   Or an RFC 3339 timestamp (rsyslog's RSYSLOG_ForwardFormat). It counts
 *   only when a space follows it; otherwise the bytes stay in MSG.
 * - HOSTNAME (only after a TIMESTAMP): 1 to 255 bytes of letters, digits,
 *   '.', '-', '_', or ':' for an IPv6 address (at least two of them, so that
 *   "tag:x" is not a host), not ending with ':', followed by a space.
 * - TAG: 1 to SYSLOG_APP_NAME_MAX printable US-ASCII bytes other than ':',
 *   '[' and ']', followed by ':' then a space or the end (journald's own
 *   rule for /dev/log, so that "http://host is down" is not the tag "http"),
 *   or by "[PID]" (1 to SYSLOG_PROCID_MAX printable bytes but '[' and ']')
 *   and then ':', a space, or the end (rsyslog's default template forwards
 *   "myapp[4711] disk almost full", without the ':'), or, after TIMESTAMP
 *   and HOSTNAME, by a space alone. One space after the tag's ':' belongs
 *   to the separator, not to MSG.
 * - A UTF-8 BOM right after the PRI (Python 2.7's SysLogHandler put it there)
 *   or at the start of MSG is stripped.
 *
 * And where RFC 5424 is stricter than needed to read a message, harkd is
 * lenient only where the meaning stays plain: a TIMESTAMP may have a leap
 * second (:60, as RFC 3339 allows) and up to 9 fraction digits; a
 * PARAM-VALUE may hold an unescaped ']' (only '"' ends it); an SD-ID may
 * repeat (journald keeps every value). Everything else in the header is as
 * the RFC's grammar says, or the message is SYSLOG_MALFORMED. MSG is kept
 * byte for byte, a leading space included (rsyslog's Protocol23 template
 * sends "- -  connect from ..." for a BSD message it relays). */
#include "syslog_parse.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

static const char BOM[3] = { '\xef', '\xbb', '\xbf' };

/* The byte i positions after p as 0-255, or -1 past end. */
static int peek(const char *p, const char *end, size_t i) {
        return (size_t) (end - p) > i ? (unsigned char) p[i] : -1;
}

static bool is_digit(int c) {
        return c >= '0' && c <= '9';
}

/* RFC 5424's PRINTUSASCII. */
static bool is_print(int c) {
        return c >= 33 && c <= 126;
}

static struct syslog_slice slice(const char *from, const char *to) {
        return (struct syslog_slice) { .data = from, .size = (size_t) (to - from) };
}

/* n digits at p with a value in [min, max]; returns the end or NULL. */
static const char *number(const char *p, const char *end, size_t n, unsigned min, unsigned max) {
        unsigned value = 0;

        for (size_t i = 0; i < n; i++) {
                int c = peek(p, end, i);

                if (!is_digit(c))
                        return NULL;
                value = value * 10 + (unsigned) (c - '0');
        }
        return value >= min && value <= max ? p + n : NULL;
}

/* The byte c at p; returns the position after it or NULL. */
static const char *expect(const char *p, const char *end, int c) {
        return p && peek(p, end, 0) == c ? p + 1 : NULL;
}

/* '.' and 1 to 9 digits, if there; returns the end (p when absent). */
static const char *fraction(const char *p, const char *end) {
        size_t n = 0;

        if (peek(p, end, 0) != '.')
                return p;
        while (n < 9 && is_digit(peek(p, end, n + 1)))
                n++;
        return n > 0 ? p + 1 + n : NULL;
}

/* "hh:mm:ss" and a fraction; returns the end or NULL. */
static const char *clock_time(const char *p, const char *end) {
        p = number(p, end, 2, 0, 23);
        p = expect(p, end, ':');
        p = p ? number(p, end, 2, 0, 59) : NULL;
        p = expect(p, end, ':');
        p = p ? number(p, end, 2, 0, 60) : NULL;
        return p ? fraction(p, end) : NULL;
}

/* RFC 3339 as RFC 5424 profiles it: FULL-DATE "T" FULL-TIME. */
static const char *rfc3339(const char *p, const char *end) {
        int c;

        p = number(p, end, 4, 0, 9999);
        p = expect(p, end, '-');
        p = p ? number(p, end, 2, 1, 12) : NULL;
        p = expect(p, end, '-');
        p = p ? number(p, end, 2, 1, 31) : NULL;
        p = expect(p, end, 'T');
        p = p ? clock_time(p, end) : NULL;
        if (!p)
                return NULL;
        c = peek(p, end, 0);
        if (c == 'Z')
                return p + 1;
        if (c != '+' && c != '-')
                return NULL;
        p = number(p + 1, end, 2, 0, 23);
        p = expect(p, end, ':');
        return p ? number(p, end, 2, 0, 59) : NULL;
}

/* An RFC 3164 TIMESTAMP in any of the shapes above; returns its end or NULL. */
static const char *bsd_timestamp(const char *p, const char *end) {
        static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
        const char *q;
        bool month = false;

        if (is_digit(peek(p, end, 0)))
                return rfc3339(p, end);
        if (end - p < 3)
                return NULL;
        for (size_t i = 0; i < 12 && !month; i++)
                month = memcmp(p, months + 3 * i, 3) == 0;
        if (!month)
                return NULL;
        p = expect(p + 3, end, ' ');
        if (!p)
                return NULL;
        if (peek(p, end, 0) == ' ')
                p = number(p + 1, end, 1, 1, 9);
        else if (peek(p, end, 1) == ' ')
                p = number(p, end, 1, 1, 9);
        else
                p = number(p, end, 2, 1, 31);
        p = expect(p, end, ' ');
        if (!p)
                return NULL;
        q = number(p, end, 4, 0, 9999);
        if (q && peek(q, end, 0) == ' ')
                p = q + 1;
        return clock_time(p, end);
}

/* The RFC 3164 HOSTNAME word at p and the space after it; returns the
 * position after the space, or NULL when the word is no host name. */
static const char *bsd_hostname(const char *p, const char *end, struct syslog_slice *host) {
        size_t n = 0, colons = 0;
        int c;

        while (n <= SYSLOG_HOSTNAME_MAX && (c = peek(p, end, n)) != ' ') {
                if (c == ':')
                        colons++;
                else if (!(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                           c == '.' || c == '-' || c == '_'))
                        return NULL;    /* also the end of the input (-1) */
                n++;
        }
        if (n == 0 || n > SYSLOG_HOSTNAME_MAX || p[n - 1] == ':' || colons == 1)
                return NULL;
        *host = slice(p, p + n);
        return p + n + 1;
}

/* Bytes of printable US-ASCII other than the three that end a TAG or PID,
 * at most max + 1 of them (enough to tell "too long"). */
static size_t tag_run(const char *p, const char *end, size_t max, bool colon_ends) {
        size_t n = 0;
        int c;

        while (n <= max && is_print(c = peek(p, end, n)) && c != '[' && c != ']' && !(colon_ends && c == ':'))
                n++;
        return n;
}

/* The RFC 3164 TAG, its "[PID]" and their separator at p; returns where MSG
 * starts (p when there is no tag). full_header: TIMESTAMP and HOSTNAME came
 * before, so a tag may end with a space alone. */
static const char *bsd_tag(const char *p, const char *end, bool full_header, struct syslog_message *m) {
        size_t n = tag_run(p, end, SYSLOG_APP_NAME_MAX, true), k;
        const char *q = p + n;
        int c;

        if (n == 0 || n > SYSLOG_APP_NAME_MAX)
                return p;
        c = peek(q, end, 0);
        if (c == ':') {
                c = peek(q, end, 1);
                if (c != ' ' && c != -1)
                        return p;
                m->app_name = slice(p, q);
                return c == ' ' ? q + 2 : q + 1;
        }
        if (c == ' ' && full_header) {
                m->app_name = slice(p, q);
                return q + 1;
        }
        if (c != '[')
                return p;
        k = tag_run(q + 1, end, SYSLOG_PROCID_MAX, false);
        if (k == 0 || k > SYSLOG_PROCID_MAX || peek(q, end, k + 1) != ']')
                return p;
        m->app_name = slice(p, q);
        m->procid = slice(q + 1, q + 1 + k);
        q += k + 2;
        c = peek(q, end, 0);
        if (c == ':' && peek(q, end, 1) == ' ')
                return q + 2;
        if (c == ':' || c == ' ')
                return q + 1;
        if (c == -1)
                return q;
        m->app_name = m->procid = (struct syslog_slice) { 0 };
        return p;
}

static void set_msg(struct syslog_message *m, const char *p, const char *end) {
        if (end - p >= 3 && memcmp(p, BOM, 3) == 0) {
                p += 3;
                m->bom = true;
        }
        m->msg = slice(p, end);
}

static void parse_rfc3164(const char *p, const char *end, struct syslog_message *m) {
        const char *q;
        bool full_header = false;

        m->format = SYSLOG_RFC3164;
        if (end - p >= 3 && memcmp(p, BOM, 3) == 0) {
                p += 3;
                m->bom = true;
        }
        q = bsd_timestamp(p, end);
        if (q && peek(q, end, 0) == ' ') {
                m->timestamp = slice(p, q);
                p = q + 1;
                q = bsd_hostname(p, end, &m->hostname);
                if (q) {
                        p = q;
                        full_header = true;
                }
        }
        p = bsd_tag(p, end, full_header, m);
        set_msg(m, p, end);
}

/* An SD-NAME (SD-ID or PARAM-NAME) at p; returns its end or NULL. */
static const char *sd_name(const char *p, const char *end) {
        size_t n = 0;
        int c;

        while (n <= SYSLOG_SD_NAME_MAX && is_print(c = peek(p, end, n)) && c != '=' && c != ']' && c != '"')
                n++;
        return n > 0 && n <= SYSLOG_SD_NAME_MAX ? p + n : NULL;
}

/* An SD-PARAM with the space before it (at p): SP PARAM-NAME "=" '"'
 * PARAM-VALUE '"'. Returns the position after the closing quote, or NULL
 * with *error set and *at where it went wrong. */
static const char *sd_param(const char *p, const char *end, struct syslog_slice *name, struct syslog_slice *raw,
                            const char **error, const char **at) {
        const char *q, *v;

        *at = p + 1;
        q = sd_name(p + 1, end);
        if (!q) {
                *error = "a PARAM-NAME is empty, too long or has a byte it may not have";
                return NULL;
        }
        *name = slice(p + 1, q);
        *at = q;
        if (peek(q, end, 0) != '=' || peek(q, end, 1) != '"') {
                *error = "a PARAM-NAME is not followed by =\"";
                return NULL;
        }
        v = q = q + 2;
        /* Only '"' ends the value: RFC 5424 wants ']' escaped too, but an
         * unescaped one inside the quotes is still unambiguous. */
        while (q < end && *q != '"') {
                if (*q == '\\' && (peek(q, end, 1) == '"' || peek(q, end, 1) == '\\' || peek(q, end, 1) == ']'))
                        q++;
                q++;
        }
        if (q >= end) {
                *error = "a PARAM-VALUE has no closing quote";
                *at = end;
                return NULL;
        }
        *raw = slice(v, q);
        return q + 1;
}

/* One SD-ELEMENT at p ('['); returns the position after its ']', or NULL
 * with *error and *at set. Adds its params to *params. */
static const char *sd_element(const char *p, const char *end, size_t *params, const char **error, const char **at) {
        struct syslog_slice name, raw;
        const char *q = sd_name(p + 1, end);

        if (!q) {
                *error = "an SD-ID is empty, too long or has a byte it may not have";
                *at = p + 1;
                return NULL;
        }
        for (;;) {
                int c = peek(q, end, 0);

                if (c == ']')
                        return q + 1;
                if (c != ' ') {
                        *error = c < 0 ? "STRUCTURED-DATA ends inside an SD-ELEMENT"
                                       : "an SD-ELEMENT has a byte where a space or ']' belongs";
                        *at = q;
                        return NULL;
                }
                q = sd_param(q, end, &name, &raw, error, at);
                if (!q)
                        return NULL;
                (*params)++;
        }
}

/* A header field of RFC 5424 (1 to max printable US-ASCII bytes, or the
 * NILVALUE, left absent) and the space after it. Returns the position after
 * the space, or NULL with *error set and *at where it went wrong. */
static const char *header_field(const char *p, const char *end, size_t max, struct syslog_slice *field,
                                const char **error, const char **at) {
        size_t n = 0;
        int c;

        while (n <= max && is_print(peek(p, end, n)))
                n++;
        *at = p + n;
        if (n > max) {
                *error = "a header field is longer than RFC 5424 allows";
                return NULL;
        }
        c = peek(p, end, n);
        if (c < 0) {
                *error = "the header ends early";
                return NULL;
        }
        if (c != ' ') {
                *error = "a header field has a byte that is not printable US-ASCII";
                return NULL;
        }
        if (n == 0) {
                *error = "a header field is empty";
                return NULL;
        }
        if (!(n == 1 && *p == '-'))
                *field = slice(p, p + n);
        return p + n + 1;
}

static enum syslog_format malformed(struct syslog_message *m, const char *data, size_t size, const char *at,
                                    const char *error) {
        uint8_t facility = m->facility, severity = m->severity;

        *m = (struct syslog_message) {
                .format = SYSLOG_MALFORMED,
                .facility = facility,
                .severity = severity,
                .msg = { .data = data, .size = size },
                .error = error,
                .error_offset = (size_t) (at - data),
        };
        return SYSLOG_MALFORMED;
}

/* p is after "<PRI>1 ". */
static enum syslog_format parse_rfc5424(const char *data, size_t size, const char *p, struct syslog_message *m) {
        const char *end = data + size, *at = p, *q, *error = NULL;
        struct syslog_slice timestamp = { 0 };

        m->format = SYSLOG_RFC5424;
        if (!(p = header_field(p, end, SIZE_MAX, &timestamp, &error, &at)))
                return malformed(m, data, size, at, error);
        if (syslog_slice_present(timestamp)) {
                q = rfc3339(timestamp.data, end);
                if (q != timestamp.data + timestamp.size)
                        return malformed(m, data, size, q ? q : timestamp.data, "the TIMESTAMP is not RFC 3339");
                m->timestamp = timestamp;
        }
        if (!(p = header_field(p, end, SYSLOG_HOSTNAME_MAX, &m->hostname, &error, &at)) ||
            !(p = header_field(p, end, SYSLOG_APP_NAME_MAX, &m->app_name, &error, &at)) ||
            !(p = header_field(p, end, SYSLOG_PROCID_MAX, &m->procid, &error, &at)) ||
            !(p = header_field(p, end, SYSLOG_MSGID_MAX, &m->msgid, &error, &at)))
                return malformed(m, data, size, at, error);

        if (peek(p, end, 0) == '-') {
                p++;
        } else if (peek(p, end, 0) == '[') {
                q = p;
                while (peek(q, end, 0) == '[') {
                        q = sd_element(q, end, &m->sd_params, &error, &at);
                        if (!q)
                                return malformed(m, data, size, at, error);
                        m->sd_elements++;
                }
                m->structured_data = slice(p, q);
                p = q;
        } else {
                return malformed(m, data, size, p, p < end ? "STRUCTURED-DATA is neither '-' nor '['"
                                                           : "the header ends before STRUCTURED-DATA");
        }

        if (p == end)
                m->msg = slice(end, end);
        else if (*p == ' ')
                set_msg(m, p + 1, end);
        else
                return malformed(m, data, size, p, "no space between STRUCTURED-DATA and MSG");
        return SYSLOG_RFC5424;
}

enum syslog_format syslog_parse(const char *data, size_t size, struct syslog_message *m) {
        const char *end, *p;
        unsigned pri = 0;
        size_t n = 0;

        assert(m);
        assert(data || size == 0);

        *m = (struct syslog_message) { .format = SYSLOG_NONE, .msg = { .data = data, .size = size } };
        if (size == 0 || data[0] != '<')
                return SYSLOG_NONE;
        end = data + size;
        while (n < 4 && is_digit(peek(data + 1, end, n)))
                pri = pri * 10 + (unsigned) (data[1 + n++] - '0');
        if (n == 0 || n > 3 || pri > 191 || (n > 1 && data[1] == '0') || peek(data + 1, end, n) != '>')
                return SYSLOG_NONE;
        p = data + 1 + n + 1;

        m->facility = (uint8_t) (pri >> 3);
        m->severity = (uint8_t) (pri & 7);
        if (p == end)
                return malformed(m, data, size, p, "nothing follows the PRI");
        if (peek(p, end, 0) == '1' && peek(p, end, 1) == ' ')
                return parse_rfc5424(data, size, p + 2, m);
        parse_rfc3164(p, end, m);
        return SYSLOG_RFC3164;
}

void syslog_sd_iterator_init(struct syslog_sd_iterator *it, const struct syslog_message *m) {
        assert(it);
        assert(m);

        *it = (struct syslog_sd_iterator) { .stopped = true };
        if (m->structured_data.data) {
                it->p = m->structured_data.data;
                it->end = it->p + m->structured_data.size;
                it->stopped = false;
        }
}

static bool stop(struct syslog_sd_iterator *it) {
        it->stopped = true;
        it->in_element = false;
        return false;
}

bool syslog_sd_next_element(struct syslog_sd_iterator *it, struct syslog_slice *id) {
        struct syslog_slice name, raw;
        const char *q, *error, *at;

        assert(it);
        assert(id);

        if (it->stopped)
                return false;
        if (it->in_element) {
                /* The params the caller did not read (or past the bound). */
                while (peek(it->p, it->end, 0) == ' ') {
                        it->p = sd_param(it->p, it->end, &name, &raw, &error, &at);
                        if (!it->p)
                                return stop(it);
                }
                if (peek(it->p, it->end, 0) != ']')
                        return stop(it);
                it->p++;
                it->in_element = false;
        }
        if (peek(it->p, it->end, 0) != '[' || it->elements >= SYSLOG_SD_ELEMENTS_MAX)
                return stop(it);
        q = sd_name(it->p + 1, it->end);
        if (!q)
                return stop(it);
        *id = slice(it->p + 1, q);
        it->p = q;
        it->in_element = true;
        it->elements++;
        return true;
}

int syslog_sd_next_param(struct syslog_sd_iterator *it, struct syslog_sd_param *param, char *buf, size_t size) {
        const char *q, *error, *at;
        size_t n = 0;

        assert(it);
        assert(param);
        assert(buf || size == 0);

        if (it->stopped || !it->in_element || it->params >= SYSLOG_SD_PARAMS_MAX ||
            peek(it->p, it->end, 0) != ' ')
                return 0;
        *param = (struct syslog_sd_param) { 0 };
        q = sd_param(it->p, it->end, &param->name, &param->raw, &error, &at);
        if (!q) {
                stop(it);
                return 0;
        }
        it->p = q;
        it->params++;

        /* The escapes as sd_param() skipped them. */
        for (const char *r = param->raw.data, *e = r + param->raw.size; r < e; r++) {
                int next = peek(r, e, 1);

                if (*r == '\\' && (next == '"' || next == '\\' || next == ']'))
                        r++;
                if (n == size) {
                        param->value = (struct syslog_slice) { .data = buf, .size = 0 };
                        return -ENOBUFS;
                }
                buf[n++] = *r;
        }
        param->value = (struct syslog_slice) { .data = buf, .size = n };
        return 1;
}

/* A byte of an SD-NAME as a byte of a journal field name. */
static char field_char(unsigned char c) {
        if (c >= 'a' && c <= 'z')
                return (char) (c - 'a' + 'A');
        if ((c >= 'A' && c <= 'Z') || is_digit(c))
                return (char) c;
        return '_';
}

int syslog_sd_field_name(struct syslog_slice id, struct syslog_slice param, char buf[static SYSLOG_FIELD_NAME_MAX + 1]) {
        size_t n = 0;

        if (!id.data || id.size == 0 || !param.data || param.size == 0)
                return -EINVAL;
        memcpy(buf, "SD_", 3);
        n = 3;
        for (size_t i = 0; i < id.size && n < SYSLOG_FIELD_NAME_MAX; i++)
                buf[n++] = field_char((unsigned char) id.data[i]);
        if (n < SYSLOG_FIELD_NAME_MAX)
                buf[n++] = '_';
        for (size_t i = 0; i < param.size && n < SYSLOG_FIELD_NAME_MAX; i++)
                buf[n++] = field_char((unsigned char) param.data[i]);
        buf[n] = '\0';
        return (int) n;
}

bool syslog_field_name_valid(const char *name, size_t size) {
        if (!name || size == 0 || size > SYSLOG_FIELD_NAME_MAX || is_digit(name[0]) || name[0] == '_')
                return false;
        for (size_t i = 0; i < size; i++)
                if (!((name[i] >= 'A' && name[i] <= 'Z') || is_digit(name[i]) || name[i] == '_'))
                        return false;
        return true;
}

static bool has_prefix(const char *name, size_t size, const char *prefix) {
        size_t n = strlen(prefix);

        return size >= n && memcmp(name, prefix, n) == 0;
}

static bool is(const char *name, size_t size, const char *word) {
        return size == strlen(word) && memcmp(name, word, size) == 0;
}

bool syslog_field_name_reserved(const char *name, size_t size) {
        static const char *const prefixes[] = { "_", "SYSLOG_", "REMOTE_", "HARK_", "OBJECT_", "COREDUMP_" };
        static const char *const names[] = { "MESSAGE", "PRIORITY", "MESSAGE_ID", "UNIT", "USER_UNIT",
                                             "INVOCATION_ID", "USER_INVOCATION_ID" };

        if (!name)
                return false;
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (has_prefix(name, size, prefixes[i]))
                        return true;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (is(name, size, names[i]))
                        return true;
        return false;
}
