/* Every setting is declared once, in config_keys[]: name, type, bounds and
 * default. Parsing, validation and the defaults all come from that table. */
#include "config.h"
#include "util.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <syslog.h>

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
/* A config file is a few dozen lines; refuse what cannot be one. */
#define CONFIG_FILE_MAX (1024 * 1024)
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

const char *concurrency_mode_name(enum concurrency_mode mode) {
        return (size_t) mode < ELEMENTSOF(mode_names) ? mode_names[mode] : "unknown";
}

const char *priority_name(int priority) {
        return priority >= 0 && (size_t) priority < ELEMENTSOF(priority_names) ? priority_names[priority] : "unknown";
}

int priority_from_string(const char *s) {
        char *end;
        long n;

        if (strcmp(s, "error") == 0)
                return LOG_ERR;
        if (strcmp(s, "warn") == 0)
                return LOG_WARNING;
        n = lookup_name(priority_names, ELEMENTSOF(priority_names), s);
        if (n >= 0)
                return (int) n;
        errno = 0;
        n = strtol(s, &end, 10);
        if (errno || end == s || *end || n < 0 || n > PRIORITY_MAX)
                return -EINVAL;
        return (int) n;
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
        int n = snprintf(error, CONFIG_ERROR_MAX, "%s:%d: %s: ", o->file, o->line, o->key);
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

static int apply_settings(struct hark_config *c, config_t *cf, const char *name, char error[CONFIG_ERROR_MAX]) {
        const config_setting_t *root = config_root_setting(cf);
        int n = config_setting_length(root);

        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(root, (unsigned) i);
                const char *file = config_setting_source_file(s);
                struct origin o = {
                        .file = file ? file : name,
                        .line = (int) config_setting_source_line(s),
                        .key = config_setting_name(s),
                };
                const struct config_key *k = find_key(o.key);
                int r;

                if (!k)
                        return fail(error, &o, "unknown setting");
                r = parse_setting(c, k, s, &o, error);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Parses into a scratch copy so that a bad file leaves *config as it was. */
static int load(struct hark_config *config, config_t *cf, int read_ok, const char *name,
                char error[CONFIG_ERROR_MAX]) {
        struct hark_config next;
        int r;

        if (!read_ok) {
                snprintf(error, CONFIG_ERROR_MAX, "%s:%d: %s",
                         config_error_file(cf) ? config_error_file(cf) : name,
                         config_error_line(cf), config_error_text(cf));
                return -EINVAL;
        }
        hark_config_init(&next);
        r = apply_settings(&next, cf, name, error);
        if (r < 0) {
                hark_config_done(&next);
                return r;
        }
        hark_config_done(config);
        *config = next;
        return 0;
}

/* "@include" paths are relative to the including file, not to harkd's cwd. */
static void set_include_dir(config_t *cf, const char *path) {
        char *copy = strdup(path);

        if (copy) {
                config_set_include_dir(cf, dirname(copy));
                free(copy);
        }
}

/* Reads the whole file; a directory or a huge file is refused here, as
 * libconfig's scanner would exit() the process on the former. */
static int read_text(const char *path, char **text, char error[CONFIG_ERROR_MAX]) {
        struct stat st;
        size_t size = 0;
        char *buffer = NULL;
        FILE *f;
        int r = 0;

        f = fopen(path, "re");
        if (!f)
                r = -errno;
        else if (fstat(fileno(f), &st) < 0)
                r = -errno;
        else if (S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (st.st_size > CONFIG_FILE_MAX)
                r = -EFBIG;
        else if (!(buffer = malloc((size_t) st.st_size + 1)))
                r = -ENOMEM;
        else {
                size = fread(buffer, 1, (size_t) st.st_size, f);
                if (ferror(f))
                        r = -EIO;
                buffer[size] = 0;
        }
        if (f)
                fclose(f);
        if (r < 0) {
                free(buffer);
                snprintf(error, CONFIG_ERROR_MAX, "%s: %s", path, strerror(-r));
                return r;
        }
        *text = buffer;
        return 0;
}

static const char *skip_comment_or_string(const char *p, int *line) {
        if (*p == '#' || (p[0] == '/' && p[1] == '/'))
                return p + strcspn(p, "\n");
        if (p[0] == '/' && p[1] == '*') {
                for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++)
                        *line += *p == '\n';
                return *p ? p + 2 : p;
        }
        if (*p == '"') {
                for (p++; *p && *p != '"'; p++) {
                        if (*p == '\\' && p[1])
                                p++;
                        *line += *p == '\n';
                }
                return *p ? p + 1 : p;
        }
        return NULL;
}

/* libconfig 1.5 reads a plain integer with atoi(): a literal beyond 32 bits
 * wraps round without a word (port = 4294967297 would be port 1). Find such
 * literals in the text first. Included files are not scanned. */
static int check_integer_literals(const char *text, const char *name, char error[CONFIG_ERROR_MAX]) {
        const char *key = "", *p = text;
        int key_len = 0, line = 1;

        while (*p) {
                const char *next = skip_comment_or_string(p, &line);
                char *end;

                if (next) {
                        p = next;
                } else if (isalpha((unsigned char) *p) || *p == '*') {
                        for (key = p; isalnum((unsigned char) *p) || strchr("-_*", *p); p++)
                                ;
                        key_len = (int) (p - key);
                } else if (isdigit((unsigned char) *p) || (strchr("+-", *p) && isdigit((unsigned char) p[1]))) {
                        long long v;

                        errno = 0;
                        v = strtoll(p, &end, 0);
                        if (strchr(".eE", *end))
                                strtod(p, &end);        /* a float: any size will do */
                        else if (*end == 'L')
                                end++;                  /* a 64-bit literal */
                        else if (errno == ERANGE || v > INT_MAX || v < INT_MIN) {
                                snprintf(error, CONFIG_ERROR_MAX, "%s:%d: %.*s: %.*s does not fit in a 32-bit integer",
                                         name, line, key_len, key, (int) (end - p), p);
                                return -EINVAL;
                        }
                        p = end;
                } else
                        line += *p++ == '\n';
        }
        return 0;
}

int hark_config_load(struct hark_config *config, const char *path, char error[CONFIG_ERROR_MAX]) {
        config_t cf;
        char *text;
        int r;

        r = read_text(path, &text, error);
        if (r < 0)
                return r;
        r = check_integer_literals(text, path, error);
        if (r >= 0) {
                config_init(&cf);
                set_include_dir(&cf, path);
                r = load(config, &cf, config_read_string(&cf, text), path, error);
                config_destroy(&cf);
        }
        free(text);
        return r;
}

int hark_config_load_string(struct hark_config *config, const char *text, const char *name,
                       char error[CONFIG_ERROR_MAX]) {
        config_t cf;
        int r;

        r = check_integer_literals(text, name, error);
        if (r < 0)
                return r;
        config_init(&cf);
        r = load(config, &cf, config_read_string(&cf, text), name, error);
        config_destroy(&cf);
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
