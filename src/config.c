/* Every setting is declared once, in config_keys[]: name, type, bounds and
 * default. Parsing, validation and the defaults all come from that table. */
#include "config.h"
#include "util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

enum key_type {
        KEY_STRING,
        KEY_INT,
        KEY_SECONDS,
        KEY_CHOICE,             /* one of names[]; stored as its index */
        KEY_PRIORITY,
};

struct config_key {
        const char *name;
        enum key_type type;
        size_t offset;
        enum config_reload reload;
        long long min, max;     /* value bounds; for KEY_STRING, length bounds */
        long long def_int;      /* KEY_INT and the enumerated types */
        double def_seconds;
        const char *def_string;
        const char *const *names;       /* KEY_CHOICE */
        size_t n_names;
};

/* A timeout is kept in milliseconds in an int by the drivers. */
#define SECONDS_MAX (INT_MAX / 1000)
/* The main file and every @include: bounds on what a reload may read. A
 * real config is a few dozen lines in one or two files. */
#define CONFIG_FILES_MAX 32
#define INCLUDE_DEPTH_MAX 8
#define CONFIG_NAMES_MAX 256
/* journald refuses larger fields; keep well below. */
#define MESSAGE_SIZE_MAX (64 * 1024 * 1024)

#define FIELD(f) offsetof(struct hark_config, f)

static const char *const mode_names[] = {
        [MODE_SEQUENTIAL] = "sequential",
        [MODE_THREAD] = "thread",
        [MODE_POOL] = "pool",
        [MODE_FORK] = "fork",
        [MODE_EPOLL] = "epoll",
};

static const char *const priority_names[PRIORITY_MAX + 1] = {
        [LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "crit", [LOG_ERR] = "err",
        [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static const char *const log_target_names[] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_JOURNAL] = "journal",
        [LOG_TARGET_STDERR] = "stderr",
};

static const char *const format_names[] = {
        [FORMAT_AUTO] = "auto",
        [FORMAT_RAW] = "raw",
        [FORMAT_SYSLOG] = "syslog",
};

#define CHOICES(table) .names = table, .n_names = ELEMENTSOF(table)


/* NEW: a reload applies it to connections opened afterwards; OPEN: also to
 * the open ones; RESTART: it needs new sockets or another driver, so a reload
 * keeps the running value and says so. */
#define NEW RELOAD_NEW_CONNECTIONS
#define OPEN RELOAD_OPEN_CONNECTIONS
#define RESTART RELOAD_RESTART

static const struct config_key config_keys[] = {
        { "host",               KEY_STRING,      FIELD(host),             RESTART, 1, 255, .def_string = "127.0.0.1" },
        { "port",               KEY_INT,         FIELD(port),             RESTART, 1, 65535, .def_int = 10001 },
        { "backlog",            KEY_INT,         FIELD(backlog),          RESTART, 1, INT_MAX, .def_int = SOMAXCONN },
        { "timeout",            KEY_SECONDS,     FIELD(timeout),          OPEN, 0, SECONDS_MAX, .def_seconds = 30.0 },
        { "concurrency",        KEY_CHOICE,      FIELD(concurrency),      RESTART, .def_int = MODE_EPOLL, CHOICES(mode_names) },
        { "workers",            KEY_INT,         FIELD(workers),          RESTART, 0, 1024, .def_int = 0 },
        { "max_connections",    KEY_INT,         FIELD(max_connections),  NEW, 1, 1 << 20, .def_int = 1024 },
        { "max_connections_per_source", KEY_INT, FIELD(max_connections_per_source), NEW, 0, 1 << 20, .def_int = 0 },
        { "max_message_size",   KEY_INT,         FIELD(max_message_size), NEW, 1, MESSAGE_SIZE_MAX, .def_int = 65536 },
        { "identifier",         KEY_STRING,      FIELD(identifier),       NEW, 1, 255, .def_string = "hark" },
        { "priority",           KEY_PRIORITY,    FIELD(priority),         NEW, 0, PRIORITY_MAX, .def_int = LOG_INFO },
        { "log_target",         KEY_CHOICE,      FIELD(log_target),       NEW, .def_int = LOG_TARGET_AUTO, CHOICES(log_target_names) },
        { "framing",            KEY_CHOICE,      FIELD(framing),          NEW, .def_int = FRAMING_AUTO, CHOICES(framing_names) },
        { "format",             KEY_CHOICE,      FIELD(format),           NEW, .def_int = FORMAT_AUTO, CHOICES(format_names) },
};

#undef NEW
#undef OPEN
#undef RESTART

static int lookup_name(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (names[i] && strcmp(names[i], s) == 0)
                        return (int) i;
        return -EINVAL;
}

/* Character classes in ASCII, whatever the locale. */
static bool is_letter(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_name_start(char c) {
        return is_letter(c) || c == '*';
}

static bool is_name_char(char c) {
        return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_hex_digit(char c) {
        return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static int hex_value(char c) {
        return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

const char *concurrency_mode_name(enum concurrency_mode mode) {
        return (size_t) mode < ELEMENTSOF(mode_names) ? mode_names[mode] : "unknown";
}

const char *priority_name(int priority) {
        return priority >= 0 && (size_t) priority < ELEMENTSOF(priority_names) ? priority_names[priority] : "unknown";
}

int priority_from_string(const char *s) {
        assert(s);
        if (strcmp(s, "error") == 0)
                return LOG_ERR;
        if (strcmp(s, "warn") == 0)
                return LOG_WARNING;
        /* A number is one digit: "+3", " 3" and "07" are typing mistakes. */
        if (s[0] >= '0' && s[0] <= '0' + PRIORITY_MAX && !s[1])
                return s[0] - '0';
        return lookup_name(priority_names, ELEMENTSOF(priority_names), s);
}

static char **string_slot(struct hark_config *c, const struct config_key *k) {
        return (char **) ((char *) c + k->offset);
}

static int *int_slot(struct hark_config *c, const struct config_key *k) {
        return (int *) ((char *) c + k->offset);
}

static double *seconds_slot(struct hark_config *c, const struct config_key *k) {
        return (double *) ((char *) c + k->offset);
}

void hark_config_init(struct hark_config *config) {
        memset(config, 0, sizeof(*config));
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                const struct config_key *k = &config_keys[i];

                switch (k->type) {
                case KEY_STRING:
                        *string_slot(config, k) = strdup(k->def_string);
                        break;
                case KEY_SECONDS:
                        *seconds_slot(config, k) = k->def_seconds;
                        break;
                default:
                        *int_slot(config, k) = (int) k->def_int;
                }
        }
}

void hark_config_done(struct hark_config *config) {
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (config_keys[i].type == KEY_STRING) {
                        char **s = string_slot(config, &config_keys[i]);
                        free(*s);
                        *s = NULL;
                }
}

/* Where a setting came from, for error messages. */
struct origin {
        const char *file;
        int line;
        const char *key;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(char error[CONFIG_ERROR_MAX], const struct origin *o, const char *fmt, ...) {
        int n = o->line > 0 ? snprintf(error, CONFIG_ERROR_MAX, "%s:%d: %s: ", o->file, o->line, o->key)
                            : snprintf(error, CONFIG_ERROR_MAX, "%s: %s: ", o->file, o->key);
        va_list ap;

        if (n >= 0 && n < CONFIG_ERROR_MAX) {
                va_start(ap, fmt);
                vsnprintf(error + n, (size_t) (CONFIG_ERROR_MAX - n), fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

static const char *type_name(int type) {
        switch (type) {
        case CONFIG_TYPE_GROUP: return "a group";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64: return "an integer";
        case CONFIG_TYPE_FLOAT: return "a number";
        case CONFIG_TYPE_STRING: return "a string";
        case CONFIG_TYPE_BOOL: return "a boolean";
        case CONFIG_TYPE_ARRAY: return "an array";
        case CONFIG_TYPE_LIST: return "a list";
        default: return "of an unknown type";
        }
}

static bool is_integer(int type) {
        return type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64;
}

/* RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool valid_utf8(const char *s) {
        const unsigned char *p = (const unsigned char *) s;

        while (*p) {
                unsigned c = *p, n = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2
                                                 : c >= 0xf0 && c < 0xf5 ? 3 : 4;
                unsigned min = n == 2 ? 0x800 : 0x10000, cp;

                if (n == 4)
                        return false;
                cp = n ? c & (0x3f >> n) : c;
                for (unsigned i = 1; i <= n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return false;
                        cp = (cp << 6) | (p[i] & 0x3f);
                }
                if (n >= 2 && (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)))
                        return false;
                p += n + 1;
        }
        return true;
}

/* An IPv4 address in dotted quad (not inet_aton()'s "127.1" or "0x7f.1"),
 * or an IPv6 one, with a scope (fe80::1%eth0) the resolver knows. */
static bool is_ip_address(const char *s) {
        struct addrinfo hints = { .ai_flags = AI_NUMERICHOST }, *list;
        const char *scope = strchr(s, '%');
        unsigned char address[sizeof(struct in6_addr)];
        char copy[INET6_ADDRSTRLEN];
        bool ok;

        if (inet_pton(AF_INET, s, address) == 1)
                return true;
        if (!scope)
                return inet_pton(AF_INET6, s, address) == 1;
        if ((size_t) (scope - s) >= sizeof(copy))
                return false;
        memcpy(copy, s, (size_t) (scope - s));
        copy[scope - s] = 0;
        if (inet_pton(AF_INET6, copy, address) != 1)
                return false;
        /* Numeric: it looks up an interface name, never a DNS name. */
        ok = getaddrinfo(s, NULL, &hints, &list) == 0;
        if (ok)
                freeaddrinfo(list);
        return ok;
}

/* A DNS name: labels of letters, digits, '-' and '_' (as /etc/hosts may
 * have) up to 63 bytes, no '-' at either end, one final dot, and the last
 * label not all digits: getaddrinfo() would take "10.1" for 10.0.0.1. */
static bool is_host_name(const char *s) {
        size_t length = strlen(s);
        const char *label = s, *end;
        bool numeric;

        if (length > 0 && s[length - 1] == '.')
                length--;
        if (length == 0 || length > 253)
                return false;
        end = s + length;
        for (;;) {
                const char *dot = memchr(label, '.', (size_t) (end - label));
                size_t n = (size_t) ((dot ? dot : end) - label);

                if (n == 0 || n > 63 || label[0] == '-' || label[n - 1] == '-')
                        return false;
                numeric = true;
                for (size_t i = 0; i < n; i++) {
                        if (!is_digit(label[i]) && !is_letter(label[i]) && label[i] != '-' && label[i] != '_')
                                return false;
                        numeric &= is_digit(label[i]);
                }
                if (!dot)
                        return !numeric;
                label = dot + 1;
        }
}

static int parse_string(const config_setting_t *s, const struct config_key *k, const struct origin *o,
                        char **out, char error[CONFIG_ERROR_MAX]) {
        const char *v;

        if (config_setting_type(s) != CONFIG_TYPE_STRING)
                return fail(error, o, "expected a string, got %s", type_name(config_setting_type(s)));
        v = config_setting_get_string(s);
        if (!*v)
                return fail(error, o, "must not be empty");
        if (strlen(v) > (size_t) k->max)
                return fail(error, o, "longer than %lld bytes", k->max);
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < ' ' || *p == 0x7f)
                        return fail(error, o, "must not contain control characters");
        if (!valid_utf8(v))
                return fail(error, o, "is not valid UTF-8");
        if (k->offset == FIELD(host) && !is_ip_address(v) && !is_host_name(v))
                return fail(error, o, "\"%s\" is not an IP address or a host name", v);
        *out = strdup(v);
        return *out ? 0 : -ENOMEM;
}

static int parse_int(const config_setting_t *s, const struct config_key *k, const struct origin *o,
                     int *out, char error[CONFIG_ERROR_MAX]) {
        long long v;

        if (!is_integer(config_setting_type(s)))
                return fail(error, o, "expected an integer, got %s", type_name(config_setting_type(s)));
        v = config_setting_get_int64(s);
        if (v < k->min || v > k->max)
                return fail(error, o, "%lld is out of range (%lld-%lld)", v, k->min, k->max);
        *out = (int) v;
        return 0;
}

static int parse_seconds(const config_setting_t *s, const struct config_key *k, const struct origin *o,
                         double *out, char error[CONFIG_ERROR_MAX]) {
        int type = config_setting_type(s);
        double v;

        if (type == CONFIG_TYPE_FLOAT)
                v = config_setting_get_float(s);
        else if (is_integer(type))
                v = (double) config_setting_get_int64(s);
        else
                return fail(error, o, "expected a number of seconds, got %s", type_name(type));
        if (!isfinite(v) || v < (double) k->min || v > (double) k->max)
                return fail(error, o, "%.15g is out of range (%lld-%lld seconds)", v, k->min, k->max);
        *out = v;
        return 0;
}

/* "a, b, c" for error messages. */
static void join_names(const char *const *names, size_t n, char *text, size_t size) {
        text[0] = 0;
        for (size_t i = 0; i < n; i++) {
                strncat(text, i ? ", " : "", size - strlen(text) - 1);
                strncat(text, names[i], size - strlen(text) - 1);
        }
}

static int parse_choice(const config_setting_t *s, const struct origin *o, const char *const *names,
                        size_t n, int *out, char error[CONFIG_ERROR_MAX]) {
        char choices[256] = "";
        int v;

        if (config_setting_type(s) != CONFIG_TYPE_STRING)
                return fail(error, o, "expected a string, got %s", type_name(config_setting_type(s)));
        v = lookup_name(names, n, config_setting_get_string(s));
        if (v >= 0) {
                *out = v;
                return 0;
        }
        join_names(names, n, choices, sizeof(choices));
        return fail(error, o, "\"%s\" is not one of %s", config_setting_get_string(s), choices);
}

static int parse_priority(const config_setting_t *s, const struct config_key *k, const struct origin *o,
                          int *out, char error[CONFIG_ERROR_MAX]) {
        int type = config_setting_type(s);
        long long v;

        if (type == CONFIG_TYPE_STRING) {
                char names[128] = "";

                v = priority_from_string(config_setting_get_string(s));
                if (v >= 0) {
                        *out = (int) v;
                        return 0;
                }
                join_names(priority_names, ELEMENTSOF(priority_names), names, sizeof(names));
                return fail(error, o, "\"%s\" is not a syslog level (%s or %lld-%lld)",
                            config_setting_get_string(s), names, k->min, k->max);
        }
        if (!is_integer(type))
                return fail(error, o, "expected a level name or %lld-%lld, got %s", k->min, k->max, type_name(type));
        return parse_int(s, k, o, out, error);
}

static int parse_setting(struct hark_config *c, const struct config_key *k, const config_setting_t *s,
                         const struct origin *o, char error[CONFIG_ERROR_MAX]) {
        switch (k->type) {
        case KEY_STRING: {
                char *v = NULL;
                int r = parse_string(s, k, o, &v, error);
                if (r < 0)
                        return r;
                free(*string_slot(c, k));
                *string_slot(c, k) = v;
                return 0;
        }
        case KEY_INT:
                return parse_int(s, k, o, int_slot(c, k), error);
        case KEY_SECONDS:
                return parse_seconds(s, k, o, seconds_slot(c, k), error);
        case KEY_CHOICE:
                return parse_choice(s, o, k->names, k->n_names, int_slot(c, k), error);
        case KEY_PRIORITY:
                return parse_priority(s, k, o, int_slot(c, k), error);
        }
        return -EINVAL;
}

static const struct config_key *find_key(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++)
                if (strcmp(config_keys[i].name, name) == 0)
                        return &config_keys[i];
        return NULL;
}

/* ------------------------------------------------------------------------ */
/* The text libconfig parses. harkd reads every file itself and hands
 * libconfig one string: libconfig 1.5 would open an @include with fopen()
 * (a FIFO blocks it for good, a directory makes its scanner exit() the
 * process) and scans a long line read from a FILE in quadratic time. Each
 * @include line is replaced by the text of its file, and a map of segments
 * takes every line of that text back to its file and line. */

/* Lines from out_line on in the text are lines from file_line on in file. */
struct segment {
        int out_line;
        size_t file;
        int file_line;
};

struct source_file {
        char *name;             /* as errors name it */
        int lines;              /* how many it has, for errors at its end */
};

struct source {
        char *text;                     /* what libconfig parses, NUL-terminated */
        size_t length, size;
        int out_lines;                  /* line ends in text */
        char *include_dir;              /* NULL: @include refused (a config given as text) */
        struct source_file files[CONFIG_FILES_MAX];
        size_t n_files;
        struct segment segments[2 * CONFIG_FILES_MAX];
        size_t n_segments;
        size_t bytes;                   /* of every file together */
        int names;                      /* setting names in every file */
};

/* One file's text being scanned, as libconfig's flex scanner would. */
struct lexer {
        struct source *src;
        size_t file;
        int depth;                      /* of @include; the main file is 0 */
        const char *p, *end;
        const char *copied;             /* text before this is in src->text */
        int line;
        const char *key;                /* the last setting name, for errors */
        int key_length;
};

static void source_init(struct source *src) {
        memset(src, 0, sizeof(*src));
}

static void source_done(struct source *src) {
        for (size_t i = 0; i < src->n_files; i++)
                free(src->files[i].name);
        free(src->include_dir);
        free(src->text);
}

static int append(struct source *src, const char *bytes, size_t n) {
        if (src->length + n + 1 > src->size) {
                size_t size = src->size ? src->size : 4096;
                char *text;

                while (size < src->length + n + 1)
                        size *= 2;
                text = realloc(src->text, size);
                if (!text)
                        return -ENOMEM;
                src->text = text;
                src->size = size;
        }
        memcpy(src->text + src->length, bytes, n);
        src->length += n;
        src->text[src->length] = 0;
        for (const char *nl = bytes; (nl = memchr(nl, '\n', n - (size_t) (nl - bytes))); nl++)
                src->out_lines++;
        return 0;
}

/* What follows in the text comes from file, from file_line on. The text
 * always ends at a line end here. */
static void add_segment(struct source *src, size_t file, int file_line) {
        assert(src->n_segments < ELEMENTSOF(src->segments));
        src->segments[src->n_segments++] = (struct segment) {
                .out_line = src->out_lines + 1,
                .file = file,
                .file_line = file_line,
        };
}

/* The file and line of the text's line out_line. Past the end of a file
 * (an error at its end) it is that file's last line. */
static struct origin source_origin(const struct source *src, int out_line) {
        const struct segment *s = NULL;
        struct origin o;
        int lines;

        for (size_t i = 0; i < src->n_segments; i++)
                if (src->segments[i].out_line <= out_line)
                        s = &src->segments[i];
        if (!s)
                return (struct origin) { .file = src->files[0].name, .line = out_line };
        o = (struct origin) { .file = src->files[s->file].name, .line = s->file_line + out_line - s->out_line };
        lines = src->files[s->file].lines;
        if (o.line > lines)
                o.line = lines > 0 ? lines : 1;
        return o;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail_at(char error[CONFIG_ERROR_MAX], const struct lexer *lx, const char *fmt, ...) {
        int n = snprintf(error, CONFIG_ERROR_MAX, "%s:%d: ", lx->src->files[lx->file].name, lx->line);
        va_list ap;

        if (n >= 0 && n < CONFIG_ERROR_MAX) {
                va_start(ap, fmt);
                vsnprintf(error + n, (size_t) (CONFIG_ERROR_MAX - n), fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Moves what the lexer passed over into the text, up to p. */
static int flush(struct lexer *lx, const char *p) {
        int r = append(lx->src, lx->copied, (size_t) (p - lx->copied));

        lx->copied = p;
        return r;
}

/* A string literal, from its opening quote. libconfig turns the escape
 * \x00 into nothing at all ("a\x00b" would be "ab"); it becomes \x01 here,
 * which the setting's own check then refuses with the setting's name and line. */
static int lex_string(struct lexer *lx) {
        int start = lx->line, r;

        for (lx->p++; lx->p < lx->end; lx->p++) {
                if (*lx->p == '"') {
                        lx->p++;
                        return 0;
                }
                if (*lx->p == '\n') {
                        lx->line++;
                } else if (*lx->p == '\\' && lx->p + 1 < lx->end) {
                        if (lx->end - lx->p >= 4 && (lx->p[1] | 0x20) == 'x' && lx->p[2] == '0' && lx->p[3] == '0') {
                                r = flush(lx, lx->p);
                                if (r < 0 || (r = append(lx->src, "\\x01", 4)) < 0)
                                        return r;
                                lx->p += 3;
                                lx->copied = lx->p + 1;
                                continue;
                        }
                        lx->p++;
                        lx->line += *lx->p == '\n';
                }
        }
        lx->line = start;
        return -EPIPE;
}

static int lex_block_comment(struct lexer *lx) {
        int start = lx->line;

        for (lx->p += 2; lx->p < lx->end; lx->p++) {
                if (lx->p[0] == '*' && lx->p + 1 < lx->end && lx->p[1] == '/') {
                        lx->p += 2;
                        return 0;
                }
                lx->line += *lx->p == '\n';
        }
        lx->line = start;
        return -EPIPE;
}

/* libconfig 1.5 takes any name as a setting and checks each new one against
 * all before it: a file of 100,000 names took minutes. No valid config has
 * more names than harkd has settings, so a bound far above that costs
 * nothing and keeps the check short. */
static int lex_name(struct lexer *lx, char error[CONFIG_ERROR_MAX]) {
        const char *name = lx->p;
        size_t n;

        while (lx->p < lx->end && is_name_char(*lx->p))
                lx->p++;
        n = (size_t) (lx->p - name);
        if ((n == 4 && strncasecmp(name, "true", 4) == 0) || (n == 5 && strncasecmp(name, "false", 5) == 0))
                return 0;
        lx->key = name;
        lx->key_length = (int) n;
        if (++lx->src->names > CONFIG_NAMES_MAX)
                return fail_at(error, lx, "more than %d setting names", CONFIG_NAMES_MAX);
        return 0;
}

/* libconfig 1.5 reads a plain integer literal with atoi() and a hex one
 * with strtoul() into an int: one beyond 32 bits would wrap round without a
 * word (port = 4294967297 would be port 1). Such literals are refused here,
 * in every file; floats may have any size. */
static int lex_number(struct lexer *lx, char error[CONFIG_ERROR_MAX]) {
        const char *start = lx->p, *p = lx->p;
        bool negative = *p == '-', wide, overflow = false;
        unsigned long long value = 0, limit;

        if (*p == '-' || *p == '+')
                p++;
        if (p == start && p[0] == '0' && p + 2 < lx->end && (p[1] | 0x20) == 'x' && is_hex_digit(p[2])) {
                for (p += 2; p < lx->end && is_hex_digit(*p); p++) {
                        overflow |= value > (ULLONG_MAX >> 4);
                        value = (value << 4) | (unsigned) hex_value(*p);
                }
        } else {
                for (; p < lx->end && is_digit(*p); p++) {
                        overflow |= value > (ULLONG_MAX - 9) / 10;
                        value = value * 10 + (unsigned) (*p - '0');
                }
                if (p < lx->end && (*p == '.' || *p == 'e' || *p == 'E')) {
                        /* A float: skip its fraction and exponent. */
                        for (p += *p == '.'; p < lx->end && is_digit(*p); p++)
                                ;
                        if (p < lx->end && (*p | 0x20) == 'e') {
                                const char *e = p + 1 + (p + 1 < lx->end && (p[1] == '-' || p[1] == '+'));

                                if (e < lx->end && is_digit(*e))
                                        for (p = e; p < lx->end && is_digit(*p); p++)
                                                ;
                        }
                        lx->p = p;
                        return 0;
                }
        }
        wide = p < lx->end && *p == 'L';
        limit = wide ? (unsigned long long) LLONG_MAX + negative : (unsigned long long) INT_MAX + negative;
        lx->p = p + wide + (wide && p + 1 < lx->end && p[1] == 'L');
        if (overflow || value > limit) {
                if (lx->key)
                        return fail_at(error, lx, "%.*s: %.*s does not fit in a %d-bit integer", lx->key_length,
                                       lx->key, (int) (p - start), start, wide ? 64 : 32);
                return fail_at(error, lx, "%.*s does not fit in a %d-bit integer", (int) (p - start), start,
                               wide ? 64 : 32);
        }
        return 0;
}

static int include_file(struct lexer *lx, const char *name, char error[CONFIG_ERROR_MAX]);

/* At the start of a line: libconfig's `^[ \t]*@include[ \t]+"`. Returns 1
 * when the line was an @include (replaced by its file), 0 when it is not
 * one, or an error. */
static int lex_include(struct lexer *lx, char error[CONFIG_ERROR_MAX]) {
        const char *p = lx->p, *end = lx->end;
        char name[PATH_MAX];
        size_t n = 0;
        int r;

        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        if (end - p < 9 || memcmp(p, "@include", 8) != 0 || (p[8] != ' ' && p[8] != '\t'))
                return 0;
        for (p += 8; p < end && (*p == ' ' || *p == '\t'); p++)
                ;
        if (p == end || *p != '"')
                return 0;
        for (p++; p < end && *p != '"' && *p != '\n'; p++) {
                if (*p == '\\') {
                        if (p + 1 == end || (p[1] != '\\' && p[1] != '"'))
                                return fail_at(error, lx, "@include: a file name may escape only \\ and \"");
                        p++;
                }
                if (n + 1 == sizeof(name))
                        return fail_at(error, lx, "@include: the file name is too long");
                name[n++] = *p;
        }
        if (p == end || *p != '"')
                return fail_at(error, lx, "@include: the file name does not end on its line");
        name[n] = 0;
        for (p++; p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f'); p++)
                ;
        if (p < end && (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')))
                p += strcspn(p, "\n");  /* the text is NUL-terminated */
        if (p < end && *p != '\n')
                return fail_at(error, lx, "@include \"%s\": only a comment may follow on its line", name);
        r = flush(lx, lx->p);
        if (r >= 0)
                r = include_file(lx, name, error);
        if (r < 0)
                return r;
        /* The @include line is gone; the file goes on after it. */
        lx->p = p < end ? p + 1 : p;
        lx->copied = lx->p;
        lx->line++;
        add_segment(lx->src, lx->file, lx->line);
        return 1;
}

/* Copies one file's text into the source, as libconfig's scanner would read
 * it, with every @include resolved. */
static int scan_file(struct source *src, size_t file, int depth, const char *text, size_t length,
                     char error[CONFIG_ERROR_MAX]) {
        struct lexer lx = {
                .src = src, .file = file, .depth = depth,
                .p = text, .end = text + length, .copied = text, .line = 1,
        };
        const char *nul = memchr(text, 0, length);
        bool line_start = true;
        int r = 0;

        if (nul) {
                /* It would end libconfig's text early, silently. */
                for (const char *p = text; p < nul; p++)
                        lx.line += *p == '\n';
                return fail_at(error, &lx, "contains a NUL byte");
        }
        add_segment(src, file, 1);
        while (r >= 0 && lx.p < lx.end) {
                const char *p = lx.p;

                if (line_start && (r = lex_include(&lx, error)) != 0)
                        continue;
                line_start = *p == '\n';
                if (*p == '\n') {
                        lx.line++;
                        lx.p++;
                } else if (*p == '"') {
                        if ((r = lex_string(&lx)) == -EPIPE)
                                r = fail_at(error, &lx, "unterminated string");
                } else if (*p == '#' || (*p == '/' && p + 1 < lx.end && p[1] == '/')) {
                        lx.p += strcspn(p, "\n");
                } else if (*p == '/' && p + 1 < lx.end && p[1] == '*') {
                        if ((r = lex_block_comment(&lx)) == -EPIPE)
                                r = fail_at(error, &lx, "unterminated comment");
                } else if (is_name_start(*p)) {
                        r = lex_name(&lx, error);
                } else if (is_digit(*p) || ((*p == '-' || *p == '+') && p + 1 < lx.end && is_digit(p[1]))) {
                        r = lex_number(&lx, error);
                } else
                        lx.p++;
        }
        if (r < 0)
                return r;
        src->files[file].lines = lx.line - (length > 0 && text[length - 1] == '\n');
        r = flush(&lx, lx.end);
        /* The next file's text starts on a line of its own (and a comment
         * on the last line ends, which libconfig needs a line end for). */
        if (r >= 0 && length > 0 && text[length - 1] != '\n')
                r = append(src, "\n", 1);
        return r;
}

static int add_file_name(struct source *src, const char *name, size_t *file) {
        assert(src->n_files < CONFIG_FILES_MAX);
        src->files[src->n_files].name = strdup(name);
        if (!src->files[src->n_files].name)
                return -ENOMEM;
        *file = src->n_files++;
        return 0;
}

/* Reads the file at path if it is a regular file of at most max bytes.
 * Neither open() nor read() may block on what it is: a FIFO is refused by
 * stat() before it is opened, and O_NONBLOCK covers one put in its place
 * between the two. A device would act on being opened. */
static int read_regular_file(const char *path, size_t max, char **text, size_t *length, const char **reason) {
        struct stat st;
        size_t n = 0, size;
        char *buffer = NULL;
        int fd, r = 0;

        *reason = NULL;
        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode)) {
                *reason = "not a regular file";
                return -EINVAL;
        }
        if ((unsigned long long) st.st_size > max)
                return -EFBIG;
        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode)) {
                *reason = "not a regular file";
                r = -EINVAL;
        }
        /* Room for one byte more than allowed, to see that there is one. */
        size = (size_t) st.st_size < max ? (size_t) st.st_size + 1 : max + 1;
        if (r >= 0 && !(buffer = malloc(size + 1)))
                r = -ENOMEM;
        while (r >= 0) {
                ssize_t got;

                if (n == size) {
                        char *bigger;

                        if (size > max)
                                break;
                        size = size * 2 < max + 1 ? size * 2 : max + 1;
                        if (!(bigger = realloc(buffer, size + 1))) {
                                r = -ENOMEM;
                                break;
                        }
                        buffer = bigger;
                }
                got = read(fd, buffer + n, size - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        r = -errno;
                else if (got == 0)
                        break;
                else
                        n += (size_t) got;
        }
        close(fd);
        if (r >= 0 && n > max)
                r = -EFBIG;
        if (r < 0) {
                free(buffer);
                return r;
        }
        buffer[n] = 0;
        *text = buffer;
        *length = n;
        return 0;
}

/* Reads the file at path into *text for the source; on failure, says why
 * in reason. */
static int read_config_file(struct source *src, const char *path, char **text, size_t *length,
                            char *reason, size_t reason_size) {
        const char *why;
        int r = read_regular_file(path, CONFIG_TEXT_MAX - src->bytes, text, length, &why);

        if (r == -EFBIG)
                snprintf(reason, reason_size, "more than %d bytes with every included file", CONFIG_TEXT_MAX);
        else if (r < 0)
                snprintf(reason, reason_size, "%s", why ? why : strerror(-r));
        else
                src->bytes += *length;
        return r;
}

/* The path of an @include: relative ones are taken from the main file's
 * directory, as libconfig 1.5 takes them. */
static int include_path(const struct source *src, const char *name, char *path, size_t size) {
        int n;

        if (name[0] == '/' || strcmp(src->include_dir, ".") == 0)
                n = snprintf(path, size, "%s", name);
        else
                n = snprintf(path, size, "%s/%s", src->include_dir, name);
        return n >= 0 && (size_t) n < size ? 0 : -ENAMETOOLONG;
}

static int include_file(struct lexer *lx, const char *name, char error[CONFIG_ERROR_MAX]) {
        struct source *src = lx->src;
        char path[PATH_MAX], reason[128];
        char *text = NULL;
        size_t length = 0, file;
        int r;

        if (!src->include_dir)
                return fail_at(error, lx, "@include \"%s\": only a config file can include one", name);
        if (!name[0])
                return fail_at(error, lx, "@include \"\": no file name");
        if (lx->depth == INCLUDE_DEPTH_MAX)
                return fail_at(error, lx, "@include \"%s\": nested more than %d deep", name, INCLUDE_DEPTH_MAX);
        if (include_path(src, name, path, sizeof(path)) < 0)
                return fail_at(error, lx, "@include \"%s\": the path is too long", name);
        if (src->n_files == CONFIG_FILES_MAX)
                return fail_at(error, lx, "@include \"%s\": more than %d files", name, CONFIG_FILES_MAX);
        r = read_config_file(src, path, &text, &length, reason, sizeof(reason));
        if (r < 0)
                return r == -ENOMEM ? r : fail_at(error, lx, "@include \"%s\": %s", name, reason);
        r = add_file_name(src, path, &file);
        if (r >= 0)
                r = scan_file(src, file, lx->depth + 1, text, length, error);
        free(text);
        return r;
}

/* The directory of the main file, for its includes. */
static int set_include_dir(struct source *src, const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                src->include_dir = strdup(".");
        else
                src->include_dir = strndup(path, slash == path ? 1 : (size_t) (slash - path));
        return src->include_dir ? 0 : -ENOMEM;
}

static int apply_settings(struct hark_config *c, config_t *cf, const struct source *src, struct origin *host,
                          char error[CONFIG_ERROR_MAX]) {
        const config_setting_t *root = config_root_setting(cf);
        int n = config_setting_length(root);

        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(root, (unsigned) i);
                struct origin o = source_origin(src, (int) config_setting_source_line(s));
                const struct config_key *k;
                int r;

                o.key = config_setting_name(s);
                k = find_key(o.key);
                if (!k)
                        return fail(error, &o, "unknown setting");
                r = parse_setting(c, k, s, &o, error);
                if (r < 0)
                        return r;
                if (k->offset == FIELD(host))
                        *host = o;
        }
        return 0;
}

/* What harkd -t adds: host resolves as the listener will resolve it. */
static int resolve_host(const struct hark_config *c, const struct origin *o, char error[CONFIG_ERROR_MAX]) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *list;
        char service[16];
        int r;

        snprintf(service, sizeof(service), "%d", c->port);
        r = getaddrinfo(c->host, service, &hints, &list);
        if (r == 0) {
                freeaddrinfo(list);
                return 0;
        }
        return fail(error, o, "\"%s\" does not resolve: %s", c->host, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
}

/* Parses into a scratch copy so that a bad file leaves *config as it was. */
static int parse_source(struct hark_config *config, const struct source *src, bool resolve,
                        char error[CONFIG_ERROR_MAX]) {
        struct origin host = { .file = src->files[0].name, .key = "host" };
        struct hark_config next;
        config_t cf;
        int r;

        config_init(&cf);
        if (!config_read_string(&cf, src->text ? src->text : "")) {
                struct origin o = source_origin(src, config_error_line(&cf));

                snprintf(error, CONFIG_ERROR_MAX, "%s:%d: %s", o.file, o.line, config_error_text(&cf));
                config_destroy(&cf);
                return -EINVAL;
        }
        hark_config_init(&next);
        r = apply_settings(&next, &cf, src, &host, error);
        if (r >= 0 && resolve)
                r = resolve_host(&next, &host, error);
        config_destroy(&cf);
        if (r < 0) {
                hark_config_done(&next);
                return r;
        }
        hark_config_done(config);
        *config = next;
        return 0;
}

static int load_path(struct hark_config *config, const char *path, bool resolve, char error[CONFIG_ERROR_MAX]) {
        struct source src;
        char reason[128];
        char *text = NULL;
        size_t length = 0, file;
        int r;

        error[0] = 0;
        source_init(&src);
        r = set_include_dir(&src, path);
        if (r >= 0) {
                r = read_config_file(&src, path, &text, &length, reason, sizeof(reason));
                if (r < 0)
                        snprintf(error, CONFIG_ERROR_MAX, "%s: %s", path, reason);
        }
        if (r >= 0)
                r = add_file_name(&src, path, &file);
        if (r >= 0)
                r = scan_file(&src, file, 0, text, length, error);
        if (r >= 0)
                r = parse_source(config, &src, resolve, error);
        if (r < 0 && !error[0])
                snprintf(error, CONFIG_ERROR_MAX, "%s: %s", path, strerror(-r));
        free(text);
        source_done(&src);
        return r;
}

int hark_config_load(struct hark_config *config, const char *path, char error[CONFIG_ERROR_MAX]) {
        assert(config && path && error);
        return load_path(config, path, false, error);
}

int hark_config_load_resolving(struct hark_config *config, const char *path, char error[CONFIG_ERROR_MAX]) {
        assert(config && path && error);
        return load_path(config, path, true, error);
}

int hark_config_load_string(struct hark_config *config, const char *text, const char *name,
                            char error[CONFIG_ERROR_MAX]) {
        struct source src;
        size_t file, length;
        int r;

        assert(config && text && name && error);
        error[0] = 0;
        length = strlen(text);
        if (length > CONFIG_TEXT_MAX) {
                snprintf(error, CONFIG_ERROR_MAX, "%s: more than %d bytes", name, CONFIG_TEXT_MAX);
                return -EFBIG;
        }
        source_init(&src);
        r = add_file_name(&src, name, &file);
        if (r >= 0)
                r = scan_file(&src, file, 0, text, length, error);
        if (r >= 0)
                r = parse_source(config, &src, false, error);
        if (r < 0 && !error[0])
                snprintf(error, CONFIG_ERROR_MAX, "%s: %s", name, strerror(-r));
        source_done(&src);
        return r;
}

static bool same_value(const struct hark_config *a, const struct hark_config *b, const struct config_key *k) {
        switch (k->type) {
        case KEY_STRING:
                return strcmp(*string_slot((struct hark_config *) a, k), *string_slot((struct hark_config *) b, k)) == 0;
        case KEY_SECONDS:
                return *seconds_slot((struct hark_config *) a, k) == *seconds_slot((struct hark_config *) b, k);
        default:
                return *int_slot((struct hark_config *) a, k) == *int_slot((struct hark_config *) b, k);
        }
}

static int copy_value(struct hark_config *to, const struct hark_config *from, const struct config_key *k) {
        switch (k->type) {
        case KEY_STRING: {
                char *copy = strdup(*string_slot((struct hark_config *) from, k));
                if (!copy)
                        return -ENOMEM;
                free(*string_slot(to, k));
                *string_slot(to, k) = copy;
                return 0;
        }
        case KEY_SECONDS:
                *seconds_slot(to, k) = *seconds_slot((struct hark_config *) from, k);
                return 0;
        default:
                *int_slot(to, k) = *int_slot((struct hark_config *) from, k);
                return 0;
        }
}

int hark_config_keep_restart_settings(struct hark_config *next, const struct hark_config *running,
                                      const char **changed, size_t max_changed) {
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                const struct config_key *k = &config_keys[i];
                int r;

                if (k->reload != RELOAD_RESTART || same_value(next, running, k))
                        continue;
                r = copy_value(next, running, k);
                if (r < 0)
                        return r;
                if (n < max_changed)
                        changed[n++] = k->name;
        }
        return (int) n;
}

enum config_reload hark_config_reload_kind(const char *name) {
        const struct config_key *k = find_key(name);

        assert(k);
        return k->reload;
}
