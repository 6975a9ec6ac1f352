/* Every setting is declared once, in config_keys[]: name, type, bounds and
 * default. Parsing, validation and the defaults all come from that table. */
#include "config.h"
#include "util.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

enum key_type {
        KEY_STRING,
        KEY_INT,
        KEY_SECONDS,
        KEY_CHOICE,             /* one of names[]; stored as its index */
        KEY_PRIORITY,
        KEY_PATH,               /* an absolute path; absent: NULL */
        KEY_ALLOW,              /* a list of addresses and CIDR blocks */
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

static const char *const confirm_names[] = {
        [CONFIRM_SENT] = "sent",
        [CONFIRM_STORED] = "stored",
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
        /* The default is what the defaults of the two above allow anyway
         * (1024 × 64 KiB), and no max_message_size is larger. */
        { "max_pending_bytes",  KEY_INT,         FIELD(max_pending_bytes), OPEN, 1, INT_MAX, .def_int = MESSAGE_SIZE_MAX },
        { "identifier",         KEY_STRING,      FIELD(identifier),       NEW, 1, 255, .def_string = "hark" },
        { "priority",           KEY_PRIORITY,    FIELD(priority),         NEW, 0, PRIORITY_MAX, .def_int = LOG_INFO },
        { "log_target",         KEY_CHOICE,      FIELD(log_target),       NEW, .def_int = LOG_TARGET_AUTO, CHOICES(log_target_names) },
        { "framing",            KEY_CHOICE,      FIELD(framing),          NEW, .def_int = FRAMING_AUTO, CHOICES(framing_names) },
        { "format",             KEY_CHOICE,      FIELD(format),           NEW, .def_int = FORMAT_AUTO, CHOICES(format_names) },
        { "allow",              KEY_ALLOW,       FIELD(allow),            NEW, 1, ALLOWLIST_MAX, .def_int = 0 },
        /* 0, the default, is outside the bounds: absent, no TLS listener. */
        { "tls_port",           KEY_INT,         FIELD(tls_port),         RESTART, 1, 65535, .def_int = 0 },
        /* A reload reads the files again, changed or not: certificate rotation. */
        { "tls_certificate",    KEY_PATH,        FIELD(tls_certificate),  NEW, 1, 4095, .def_int = 0 },
        { "tls_key",            KEY_PATH,        FIELD(tls_key),          NEW, 1, 4095, .def_int = 0 },
        { "tls_client_ca",      KEY_PATH,        FIELD(tls_client_ca),    NEW, 1, 4095, .def_int = 0 },
        /* 0, the default, is outside the bounds: absent, no UDP listener. */
        { "udp_port",           KEY_INT,         FIELD(udp_port),         RESTART, 1, 65535, .def_int = 0 },
        { "udp_receive_buffer", KEY_INT,         FIELD(udp_receive_buffer), RESTART, 0, 1 << 30, .def_int = 8 << 20 },
        { "udp_rate_per_source", KEY_INT,        FIELD(udp_rate_per_source), NEW, 0, 1 << 24, .def_int = 0 },
        { "confirm",            KEY_CHOICE,      FIELD(confirm),          NEW, .def_int = CONFIRM_SENT, CHOICES(confirm_names) },
        { "confirm_timeout",    KEY_SECONDS,     FIELD(confirm_timeout),  NEW, 0, 3600, .def_seconds = 5.0 },
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

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
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

static struct allowlist *allow_slot(struct hark_config *c, const struct config_key *k) {
        return (struct allowlist *) ((char *) c + k->offset);
}

static bool is_string(const struct config_key *k) {
        return k->type == KEY_STRING || k->type == KEY_PATH;
}

void hark_config_init(struct hark_config *config) {
        memset(config, 0, sizeof(*config));
        for (size_t i = 0; i < ELEMENTSOF(config_keys); i++) {
                const struct config_key *k = &config_keys[i];

                switch (k->type) {
                case KEY_STRING:
                        *string_slot(config, k) = strdup(k->def_string);
                        break;
                case KEY_PATH:
                case KEY_ALLOW:
                        break;          /* absent */
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
                if (is_string(&config_keys[i])) {
                        char **s = string_slot(config, &config_keys[i]);
                        free(*s);
                        *s = NULL;
                } else if (config_keys[i].type == KEY_ALLOW)
                        allowlist_done(allow_slot(config, &config_keys[i]));
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
        /* harkd runs in / under systemd: a relative path would mean another
         * file there than where the admin tried it. */
        if (k->type == KEY_PATH && v[0] != '/')
                return fail(error, o, "\"%s\" is not an absolute path", v);
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

/* A list (or array) of strings; an empty one is an error: it would refuse
 * everyone, which removing the setting does not. */
static int parse_allow(const config_setting_t *s, const struct config_key *k, const struct origin *o,
                       struct allowlist *out, char error[CONFIG_ERROR_MAX]) {
        int type = config_setting_type(s), n = config_setting_length(s);
        struct allowlist list = { .set = true };

        if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY)
                return fail(error, o, "expected a list of addresses, got %s", type_name(type));
        if (n < k->min || n > k->max) {
                allowlist_done(&list);
                return n < k->min ? fail(error, o, "is empty: it would refuse everyone (remove it to allow everyone)")
                                  : fail(error, o, "has more than %lld entries", k->max);
        }
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(s, (unsigned) i);
                struct allow_rule rule;
                const char *why = NULL;
                int r;

                if (config_setting_type(e) != CONFIG_TYPE_STRING) {
                        allowlist_done(&list);
                        return fail(error, o, "entry %d: expected a string, got %s", i + 1,
                                    type_name(config_setting_type(e)));
                }
                if (allow_rule_parse(&rule, config_setting_get_string(e), &why) < 0) {
                        struct origin at = *o;

                        /* A list lies in one file: its entries' lines
                         * count on from the setting's. */
                        if (at.line > 0 && config_setting_source_line(e) >= config_setting_source_line(s))
                                at.line += (int) (config_setting_source_line(e) - config_setting_source_line(s));
                        allowlist_done(&list);
                        return fail(error, &at, "\"%.64s\" %s", config_setting_get_string(e), why);
                }
                r = allowlist_add(&list, &rule);
                if (r < 0) {
                        allowlist_done(&list);
                        return r;
                }
        }
        allowlist_done(out);
        *out = list;
        return 0;
}

static int parse_setting(struct hark_config *c, const struct config_key *k, const config_setting_t *s,
                         const struct origin *o, char error[CONFIG_ERROR_MAX]) {
        switch (k->type) {
        case KEY_ALLOW:
                return parse_allow(s, k, o, allow_slot(c, k), error);
        case KEY_PATH:
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

/* Where the text's line came from, for the setting called key. */
static struct origin source_origin(const struct config_source *src, int line, const char *key) {
        struct origin o = { .key = key };

        config_source_locate(src, line, &o.file, &o.line);
        return o;
}

/* Where each key was set: seen[i] for config_keys[i], key NULL when not. */
static int apply_settings(struct hark_config *c, config_t *cf, const struct config_source *src, struct origin *seen,
                          char error[CONFIG_ERROR_MAX]) {
        const config_setting_t *root = config_root_setting(cf);
        int n = config_setting_length(root);

        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(root, (unsigned) i);
                struct origin o = source_origin(src, (int) config_setting_source_line(s), config_setting_name(s));
                const struct config_key *k = find_key(o.key);
                int r;


                if (!k)
                        return fail(error, &o, "unknown setting");
                r = parse_setting(c, k, s, &o, error);
                if (r < 0)
                        return r;
                seen[k - config_keys] = o;
        }
        return 0;
}

/* The origin of key for an error about it: where it was set, else the file. */
static struct origin origin_of(const struct origin *seen, const char *name, const char *file) {
        const struct config_key *k = find_key(name);
        struct origin o = { .file = file, .key = name };

        assert(k);
        return seen[k - config_keys].key ? seen[k - config_keys] : o;
}

/* The TLS settings go together: a listener needs its certificate and key,
 * and files without the listener would be a silent no-op. */
static int check_tls(const struct hark_config *c, const struct origin *seen, const char *file,
                     char error[CONFIG_ERROR_MAX]) {
        struct origin o;

        if (c->tls_port) {
                o = origin_of(seen, "tls_port", file);
                if (!c->tls_certificate || !c->tls_key)
                        return fail(error, &o, "needs tls_certificate and tls_key");
                if (c->tls_port == c->port)
                        return fail(error, &o, "%d is also the plain port", c->tls_port);
                return 0;
        }
        if (c->tls_certificate || c->tls_key || c->tls_client_ca) {
                o = origin_of(seen, c->tls_certificate ? "tls_certificate" : c->tls_key ? "tls_key" : "tls_client_ca", file);
                return fail(error, &o, "has no effect without tls_port");
        }
        return 0;
}

/* All connections together must be able to hold one message of the
 * largest size, or the bound would cut every message of that size. (The
 * default is never smaller: it is MESSAGE_SIZE_MAX.) */
static int check_pending(const struct hark_config *c, const struct origin *seen, const char *file,
                         char error[CONFIG_ERROR_MAX]) {
        struct origin o;

        if (c->max_pending_bytes >= c->max_message_size)
                return 0;
        o = origin_of(seen, "max_pending_bytes", file);
        return fail(error, &o, "%d is smaller than max_message_size (%d)", c->max_pending_bytes,
                    c->max_message_size);
}

/* What harkd -t adds: host resolves as the listener will resolve it. */
static int resolve_host(const struct hark_config *c, const struct origin *seen, const char *file,
                        char error[CONFIG_ERROR_MAX]) {
        struct origin o = origin_of(seen, "host", file);
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *list;
        char service[16];
        int r;

        snprintf(service, sizeof(service), "%d", c->port);
        r = getaddrinfo(c->host, service, &hints, &list);
        if (r == 0) {
                freeaddrinfo(list);
                return 0;
        }
        return fail(error, &o, "\"%s\" does not resolve: %s", c->host, r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
}

/* Parses into a scratch copy so that a bad file leaves *config as it was. */
static int parse_source(struct hark_config *config, const struct config_source *src, const char *name,
                        bool resolve, char error[CONFIG_ERROR_MAX]) {
        struct origin seen[ELEMENTSOF(config_keys)] = { 0 };
        struct hark_config next;
        config_t cf;
        int r;

        config_init(&cf);
        if (!config_read_string(&cf, config_source_text(src))) {
                struct origin o = source_origin(src, config_error_line(&cf), NULL);

                snprintf(error, CONFIG_ERROR_MAX, "%s:%d: %s", o.file, o.line, config_error_text(&cf));
                config_destroy(&cf);
                return -EINVAL;
        }
        hark_config_init(&next);
        r = apply_settings(&next, &cf, src, seen, error);
        if (r >= 0)
                r = check_tls(&next, seen, name, error);
        if (r >= 0)
                r = check_pending(&next, seen, name, error);
        if (r >= 0 && resolve)
                r = resolve_host(&next, seen, name, error);
        config_destroy(&cf);
        if (r < 0) {
                if (!error[0])
                        snprintf(error, CONFIG_ERROR_MAX, "%s: %s", name, strerror(-r));
                hark_config_done(&next);
                return r;
        }
        hark_config_done(config);
        *config = next;
        return 0;
}

static int load_path(struct hark_config *config, const char *path, bool resolve, char error[CONFIG_ERROR_MAX]) {
        struct config_source *src = NULL;
        int r = config_source_read_file(&src, path, error);

        if (r >= 0)
                r = parse_source(config, src, path, resolve, error);
        config_source_free(src);
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
        struct config_source *src = NULL;
        int r;

        assert(config && text && name && error);
        r = config_source_from_string(&src, text, name, error);
        if (r >= 0)
                r = parse_source(config, src, name, false, error);
        config_source_free(src);
        return r;
}

static bool same_string(const char *a, const char *b) {
        return a == b || (a && b && strcmp(a, b) == 0);
}

static bool same_value(const struct hark_config *a, const struct hark_config *b, const struct config_key *k) {
        switch (k->type) {
        case KEY_STRING:
        case KEY_PATH:
                return same_string(*string_slot((struct hark_config *) a, k), *string_slot((struct hark_config *) b, k));
        case KEY_ALLOW:
                return allowlist_equal(allow_slot((struct hark_config *) a, k), allow_slot((struct hark_config *) b, k));
        case KEY_SECONDS:
                return *seconds_slot((struct hark_config *) a, k) == *seconds_slot((struct hark_config *) b, k);
        default:
                return *int_slot((struct hark_config *) a, k) == *int_slot((struct hark_config *) b, k);
        }
}

static int copy_value(struct hark_config *to, const struct hark_config *from, const struct config_key *k) {
        switch (k->type) {
        case KEY_ALLOW:
                return allowlist_copy(allow_slot(to, k), allow_slot((struct hark_config *) from, k));
        case KEY_PATH:
        case KEY_STRING: {
                const char *value = *string_slot((struct hark_config *) from, k);
                char *copy = value ? strdup(value) : NULL;
                if (value && !copy)
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
