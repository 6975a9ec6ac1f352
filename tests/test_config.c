/* Unit tests of the configuration (src/config.c): defaults, every key's type
 * and bounds, the exact error texts, and loading files (missing, included,
 * failing without touching the running config). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <errno.h>
#include <netdb.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

/* The name hark_config_load_string() is given in every test. */
#define NAME "t.conf"

struct fixture {
        struct hark_config config;
        char error[CONFIG_ERROR_MAX];
        char dir[64];                   /* a private temp dir, or "" */
        char path[PATH_MAX];            /* scratch for path_in() */
};

static int config_setup(void **state) {
        struct fixture *x = calloc(1, sizeof(*x));

        if (!x)
                return -1;
        hark_config_init(&x->config);
        *state = x;
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static int config_teardown(void **state) {
        struct fixture *x = *state;
        int r = 0;

        if (x->dir[0])
                r = nftw(x->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        hark_config_done(&x->config);
        free(x);
        return r;
}

static int files_setup(void **state) {
        struct fixture *x;

        if (config_setup(state) < 0)
                return -1;
        x = *state;
        snprintf(x->dir, sizeof(x->dir), "/tmp/test_config.XXXXXX");
        if (!mkdtemp(x->dir)) {
                x->dir[0] = 0;
                return -1;
        }
        return 0;
}

/* DIR/name, valid until the next call. */
static const char *path_in(struct fixture *x, const char *name) {
        snprintf(x->path, sizeof(x->path), "%s/%s", x->dir, name);
        return x->path;
}

static const char *write_file(struct fixture *x, const char *name, const char *text) {
        const char *path = path_in(x, name);
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
        return path;
}

static int load_text(struct fixture *x, const char *text) {
        x->error[0] = 0;
        return hark_config_load_string(&x->config, text, NAME, x->error);
}

/* The comparisons name the case (the config text) that failed. */
static void check_int(const char *context, const char *key, long long got, long long want) {
        if (got != want)
                fail_msg("%s: %s is %lld, expected %lld", context, key, got, want);
}

static void check_seconds(const char *context, double got, double want) {
        if (got != want)
                fail_msg("%s: timeout is %.17g, expected %.17g", context, got, want);
}

static void check_string(const char *context, const char *key, const char *got, const char *want) {
        if (!got || strcmp(got, want) != 0)
                fail_msg("%s: %s is \"%s\", expected \"%s\"", context, key, got ? got : "(null)", want);
}

static void assert_config_equal(const char *context, const struct hark_config *got, const struct hark_config *want) {
        check_string(context, "host", got->host, want->host);
        check_int(context, "port", got->port, want->port);
        check_int(context, "backlog", got->backlog, want->backlog);
        check_seconds(context, got->timeout, want->timeout);
        check_int(context, "concurrency", got->concurrency, want->concurrency);
        check_int(context, "workers", got->workers, want->workers);
        check_int(context, "max_connections", got->max_connections, want->max_connections);
        check_int(context, "max_connections_per_source", got->max_connections_per_source,
                   want->max_connections_per_source);
        check_int(context, "max_message_size", got->max_message_size, want->max_message_size);
        check_int(context, "max_pending_bytes", got->max_pending_bytes, want->max_pending_bytes);
        check_string(context, "identifier", got->identifier, want->identifier);
        check_int(context, "priority", got->priority, want->priority);
        check_int(context, "log_target", got->log_target, want->log_target);
}

/* A config with every key away from its default (every_key_at_once checks what it gives). */
static const char every_key_changed[] =
        "host = \"192.0.2.10\";\n"
        "port = 4242;\n"
        "backlog = 17;\n"
        "timeout = 2.5;\n"
        "concurrency = \"pool\";\n"
        "workers = 3;\n"
        "max_connections = 99;\n"
        "max_connections_per_source = 5;\n"
        "max_message_size = 512;\n"
        "identifier = \"base\";\n"
        "priority = \"notice\";\n"
        "log_target = \"stderr\";\n";

/* Loads every_key_changed into a fresh config, to compare against. */
static void every_key_changed_config(struct hark_config *c) {
        char error[CONFIG_ERROR_MAX];

        hark_config_init(c);
        if (hark_config_load_string(c, every_key_changed, NAME, error) != 0)
                fail_msg("every_key_changed: %s", error);
}

/* After a failed load: the config is still the one every_key_changed gave. */
static void assert_every_key_changed(const char *context, const struct hark_config *c) {
        struct hark_config want;

        every_key_changed_config(&want);
        assert_config_equal(context, c, &want);
        hark_config_done(&want);
}

/* ------------------------------------------------------------------------ */
/* Defaults */

static void init_sets_every_default(void **state) {
        struct fixture *x = *state;

        assert_string_equal(x->config.host, "127.0.0.1");
        assert_int_equal(x->config.port, 10001);
        assert_int_equal(x->config.backlog, SOMAXCONN);
        check_seconds("defaults", x->config.timeout, 30.0);
        assert_int_equal(x->config.concurrency, MODE_EPOLL);
        assert_int_equal(x->config.workers, 0);
        assert_int_equal(x->config.max_connections, 1024);
        assert_int_equal(x->config.max_connections_per_source, 0);
        assert_int_equal(x->config.max_message_size, 65536);
        assert_int_equal(x->config.max_pending_bytes, 64 * 1024 * 1024);
        assert_string_equal(x->config.identifier, "hark");
        assert_int_equal(x->config.priority, 6);
        assert_int_equal(x->config.log_target, LOG_TARGET_AUTO);
}

static void an_empty_config_gives_every_default(void **state) {
        struct fixture *x = *state;
        struct hark_config defaults;

        assert_int_equal(load_text(x, every_key_changed), 0);
        assert_int_equal(load_text(x, "# nothing but a comment\n"), 0);
        hark_config_init(&defaults);
        assert_config_equal("a comment only", &x->config, &defaults);
        hark_config_done(&defaults);
}

static void done_is_safe_on_a_zeroed_config_and_twice(void **state) {
        struct hark_config zeroed = { 0 };

        (void) state;
        hark_config_done(&zeroed);
        hark_config_init(&zeroed);
        hark_config_done(&zeroed);
        hark_config_done(&zeroed);
        assert_null(zeroed.host);
        assert_null(zeroed.identifier);
}

/* ------------------------------------------------------------------------ */
/* Values that are accepted: each key, exactly at both bounds, each type. */

enum value_kind { INT_VALUE, SECONDS_VALUE, STRING_VALUE };

struct accepted_case {
        const char *text;
        size_t offset;
        enum value_kind kind;
        long long integer;
        double seconds;
        const char *string;
};

#define INT(text, field, v) { text, offsetof(struct hark_config, field), INT_VALUE, .integer = v }
#define SECONDS(text, v) { text, offsetof(struct hark_config, timeout), SECONDS_VALUE, .seconds = v }
#define STRING(text, field, v) { text, offsetof(struct hark_config, field), STRING_VALUE, .string = v }

static const struct accepted_case accepted_cases[] = {
        STRING("host = \"::\";", host, "::"),
        STRING("host = \"harkd.example.org\";", host, "harkd.example.org"),
        INT("port = 1;", port, 1),
        INT("port = 65535;", port, 65535),
        INT("port = 0x50;", port, 80),
        INT("backlog = 1;", backlog, 1),
        INT("backlog = 2147483647;", backlog, INT_MAX),
        INT("backlog = 128L;", backlog, 128),
        SECONDS("timeout = 0;", 0.0),
        SECONDS("timeout = 0.0;", 0.0),
        SECONDS("timeout = 7;", 7.0),
        SECONDS("timeout = 2.5;", 2.5),
        SECONDS("timeout = 0.001;", 0.001),
        SECONDS("timeout = 2147483;", 2147483.0),
        SECONDS("timeout = 2147483.0;", 2147483.0),
        INT("concurrency = \"sequential\";", concurrency, MODE_SEQUENTIAL),
        INT("concurrency = \"thread\";", concurrency, MODE_THREAD),
        INT("concurrency = \"pool\";", concurrency, MODE_POOL),
        INT("concurrency = \"fork\";", concurrency, MODE_FORK),
        INT("concurrency = \"epoll\";", concurrency, MODE_EPOLL),
        INT("workers = 0;", workers, 0),
        INT("workers = 1024;", workers, 1024),
        INT("max_connections = 1;", max_connections, 1),
        INT("max_connections = 1048576;", max_connections, 1 << 20),
        INT("max_connections_per_source = 0;", max_connections_per_source, 0),
        INT("max_connections_per_source = 1048576;", max_connections_per_source, 1 << 20),
        INT("max_message_size = 1;", max_message_size, 1),
        INT("max_message_size = 67108864;", max_message_size, 64 * 1024 * 1024),
        INT("max_pending_bytes = 65536;", max_pending_bytes, 65536),
        INT("max_pending_bytes = 2147483647;", max_pending_bytes, INT_MAX),
        STRING("identifier = \"my-app\";", identifier, "my-app"),
        STRING("identifier = \"h\\xc3\\xb6rbar\";", identifier, "h\xc3\xb6rbar"),
        INT("priority = \"emerg\";", priority, 0),
        INT("priority = \"alert\";", priority, 1),
        INT("priority = \"crit\";", priority, 2),
        INT("priority = \"err\";", priority, 3),
        INT("priority = \"error\";", priority, 3),
        INT("priority = \"warning\";", priority, 4),
        INT("priority = \"warn\";", priority, 4),
        INT("priority = \"notice\";", priority, 5),
        INT("priority = \"info\";", priority, 6),
        INT("priority = \"debug\";", priority, 7),
        INT("priority = 0;", priority, 0),
        INT("priority = 7;", priority, 7),
        INT("priority = \"0\";", priority, 0),
        INT("priority = \"7\";", priority, 7),
        INT("log_target = \"auto\";", log_target, LOG_TARGET_AUTO),
        INT("log_target = \"journal\";", log_target, LOG_TARGET_JOURNAL),
        INT("log_target = \"stderr\";", log_target, LOG_TARGET_STDERR),
};

/* The defaults with the one value the case sets. */
static void expected_config(struct hark_config *want, const struct accepted_case *c) {
        char *slot = (char *) want + c->offset;

        hark_config_init(want);
        switch (c->kind) {
        case INT_VALUE:
                *(int *) slot = (int) c->integer;
                break;
        case SECONDS_VALUE:
                *(double *) slot = c->seconds;
                break;
        case STRING_VALUE:
                free(*(char **) slot);
                *(char **) slot = strdup(c->string);
                assert_non_null(*(char **) slot);
                break;
        }
}

static void every_key_accepts_its_valid_values(void **state) {
        struct fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(accepted_cases); i++) {
                const struct accepted_case *c = &accepted_cases[i];
                struct hark_config want;
                int r;

                r = load_text(x, c->text);
                if (r != 0)
                        fail_msg("'%s' was refused (%d): %s", c->text, r, x->error);
                expected_config(&want, c);
                assert_config_equal(c->text, &x->config, &want);
                hark_config_done(&want);
        }
}

static void every_key_at_once(void **state) {
        struct hark_config c;

        (void) state;
        every_key_changed_config(&c);
        assert_string_equal(c.host, "192.0.2.10");
        assert_int_equal(c.port, 4242);
        assert_int_equal(c.backlog, 17);
        check_seconds("every_key_changed", c.timeout, 2.5);
        assert_int_equal(c.concurrency, MODE_POOL);
        assert_int_equal(c.workers, 3);
        assert_int_equal(c.max_connections, 99);
        assert_int_equal(c.max_connections_per_source, 5);
        assert_int_equal(c.max_message_size, 512);
        assert_string_equal(c.identifier, "base");
        assert_int_equal(c.priority, 5);
        assert_int_equal(c.log_target, LOG_TARGET_STDERR);
        hark_config_done(&c);
}

static void a_load_resets_what_the_file_leaves_out(void **state) {
        struct fixture *x = *state;

        assert_int_equal(load_text(x, every_key_changed), 0);
        assert_int_equal(load_text(x, "port = 1234;"), 0);
        assert_int_equal(x->config.port, 1234);
        assert_string_equal(x->config.host, "127.0.0.1");
        assert_int_equal(x->config.backlog, SOMAXCONN);
        assert_string_equal(x->config.identifier, "hark");
        check_seconds("port only", x->config.timeout, 30.0);
        assert_int_equal(x->config.concurrency, MODE_EPOLL);
        assert_int_equal(x->config.priority, 6);
}

/* ------------------------------------------------------------------------ */
/* Values that are refused, with the exact error text. Each is loaded over
 * every_key_changed, which must come through untouched. */

struct refused_case {
        const char *text;
        const char *error;
};

static const struct refused_case refused_cases[] = {
        /* The types a key does not take. */
        { "port = \"80\";", NAME ":1: port: expected an integer, got a string" },
        { "port = 80.0;", NAME ":1: port: expected an integer, got a number" },
        { "port = true;", NAME ":1: port: expected an integer, got a boolean" },
        { "port = [1];", NAME ":1: port: expected an integer, got an array" },
        { "port = (1);", NAME ":1: port: expected an integer, got a list" },
        { "port = { a = 1; };", NAME ":1: port: expected an integer, got a group" },
        { "host = 1;", NAME ":1: host: expected a string, got an integer" },
        { "identifier = false;", NAME ":1: identifier: expected a string, got a boolean" },
        { "timeout = \"30\";", NAME ":1: timeout: expected a number of seconds, got a string" },
        { "timeout = true;", NAME ":1: timeout: expected a number of seconds, got a boolean" },
        { "concurrency = 1;", NAME ":1: concurrency: expected a string, got an integer" },
        { "log_target = 0;", NAME ":1: log_target: expected a string, got an integer" },
        { "priority = 6.0;", NAME ":1: priority: expected a level name or 0-7, got a number" },
        { "priority = [6];", NAME ":1: priority: expected a level name or 0-7, got an array" },

        /* Just outside each bound. */
        { "port = 0;", NAME ":1: port: 0 is out of range (1-65535)" },
        { "port = 65536;", NAME ":1: port: 65536 is out of range (1-65535)" },
        { "port = -1;", NAME ":1: port: -1 is out of range (1-65535)" },
        { "backlog = 0;", NAME ":1: backlog: 0 is out of range (1-2147483647)" },
        { "backlog = 2147483648L;", NAME ":1: backlog: 2147483648 is out of range (1-2147483647)" },
        { "timeout = -1;", NAME ":1: timeout: -1 is out of range (0-2147483 seconds)" },
        { "timeout = -0.5;", NAME ":1: timeout: -0.5 is out of range (0-2147483 seconds)" },
        { "workers = -1;", NAME ":1: workers: -1 is out of range (0-1024)" },
        { "workers = 1025;", NAME ":1: workers: 1025 is out of range (0-1024)" },
        { "max_connections = 0;", NAME ":1: max_connections: 0 is out of range (1-1048576)" },
        { "max_connections = 1048577;", NAME ":1: max_connections: 1048577 is out of range (1-1048576)" },
        { "max_connections_per_source = -1;",
          NAME ":1: max_connections_per_source: -1 is out of range (0-1048576)" },
        { "max_connections_per_source = 1048577;",
          NAME ":1: max_connections_per_source: 1048577 is out of range (0-1048576)" },
        { "max_message_size = 0;", NAME ":1: max_message_size: 0 is out of range (1-67108864)" },
        { "max_message_size = 67108865;", NAME ":1: max_message_size: 67108865 is out of range (1-67108864)" },
        { "max_pending_bytes = 0;", NAME ":1: max_pending_bytes: 0 is out of range (1-2147483647)" },
        { "max_pending_bytes = 65535;", NAME ":1: max_pending_bytes: 65535 is smaller than max_message_size (65536)" },
        { "max_message_size = 1024;\nmax_pending_bytes = 1000;\n",
          NAME ":2: max_pending_bytes: 1000 is smaller than max_message_size (1024)" },

        /* Choices. */
        { "concurrency = \"threads\";",
          NAME ":1: concurrency: \"threads\" is not one of sequential, thread, pool, fork, epoll" },
        { "concurrency = \"\";", NAME ":1: concurrency: \"\" is not one of sequential, thread, pool, fork, epoll" },
        { "log_target = \"syslog\";", NAME ":1: log_target: \"syslog\" is not one of auto, journal, stderr" },
        { "priority = 8;", NAME ":1: priority: 8 is out of range (0-7)" },
        { "priority = -1;", NAME ":1: priority: -1 is out of range (0-7)" },
        { "priority = \"8\";", NAME ":1: priority: \"8\" is not a syslog level (emerg, alert, crit, err, "
                               "warning, notice, info, debug or 0-7)" },
        { "priority = \"loud\";", NAME ":1: priority: \"loud\" is not a syslog level (emerg, alert, crit, err, "
                                  "warning, notice, info, debug or 0-7)" },
        /* A level is a name or one digit: these are mistakes, not 3 or 7. */
        { "priority = \"+3\";", NAME ":1: priority: \"+3\" is not a syslog level (emerg, alert, crit, err, "
                                "warning, notice, info, debug or 0-7)" },
        { "priority = \" 3\";", NAME ":1: priority: \" 3\" is not a syslog level (emerg, alert, crit, err, "
                                "warning, notice, info, debug or 0-7)" },
        { "priority = \"07\";", NAME ":1: priority: \"07\" is not a syslog level (emerg, alert, crit, err, "
                                "warning, notice, info, debug or 0-7)" },
        { "priority = \"Info\";", NAME ":1: priority: \"Info\" is not a syslog level (emerg, alert, crit, err, "
                                  "warning, notice, info, debug or 0-7)" },

        /* Unknown keys, duplicates and syntax, with their line. */
        { "prot = 1;", NAME ":1: prot: unknown setting" },
        { "port = 1;\n\nprot = 2;\n", NAME ":3: prot: unknown setting" },
        { "server = { port = 1; };", NAME ":1: server: unknown setting" },
        { "# harkd\nhost = \"h\";\nport = 70000;\n", NAME ":3: port: 70000 is out of range (1-65535)" },
        { "port = 1;\nhost = \"h\";\nport = 2;\n", NAME ":3: duplicate setting name" },
        { "port = 1;\nbacklog = 2;\ntimeout = ;\n", NAME ":3: syntax error" },
        { "port = 1;\nbacklog 2;\n", NAME ":2: syntax error" },
        { "identifier = \"open;\n", NAME ":1: unterminated string" },
        { "port = 1;\n/* open\nport = 2;\n", NAME ":2: unterminated comment" },
        { "port = 1;\nport = 2", NAME ":2: duplicate setting name" },
        { "port =", NAME ":1: syntax error" },
        { "port = 1;\n\nbacklog =\n", NAME ":3: syntax error" },
        { "port = 1;\n@ include \"x\"\n", NAME ":2: syntax error" },
        /* A bad key after good ones: nothing of the file is applied. */
        { "port = 1;\nhost = \"h\";\nworkers = 2000;\n", NAME ":3: workers: 2000 is out of range (0-1024)" },
};

static void check_refused(struct fixture *x, const char *text, const char *error) {
        int r;

        assert_int_equal(load_text(x, every_key_changed), 0);
        r = load_text(x, text);
        if (r != -EINVAL || strcmp(x->error, error) != 0)
                fail_msg("%s:\n  returned %d, error '%s'\n  expected %d, error '%s'", text, r, x->error,
                         -EINVAL, error);
        assert_every_key_changed(text, &x->config);
}

static void bad_values_are_refused_with_file_line_key_and_reason(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(refused_cases); i++)
                check_refused(*state, refused_cases[i].text, refused_cases[i].error);
}

/* The value in the error is the one the file has, not a rounded form of it. */
static void an_out_of_range_timeout_is_quoted_as_written(void **state) {
        static const struct refused_case cases[] = {
                { "timeout = 2147484;", NAME ":1: timeout: 2147484 is out of range (0-2147483 seconds)" },
                { "timeout = 2147483.5;", NAME ":1: timeout: 2147483.5 is out of range (0-2147483 seconds)" },
                { "timeout = 10000000;", NAME ":1: timeout: 10000000 is out of range (0-2147483 seconds)" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_refused(*state, cases[i].text, cases[i].error);
}

/* libconfig reads a plain integer literal as 32 bits: a value that does not
 * fit must be an error, not silently wrap around into range. */
static void an_integer_beyond_32_bits_is_refused_not_wrapped(void **state) {
        static const struct refused_case cases[] = {
                /* 2^32 + 1 would wrap to 1; with a leading zero too (decimal, not octal). */
                { "port = 4294967297;", NAME ":1: port: 4294967297 does not fit in a 32-bit integer" },
                { "port = 04294967297;", NAME ":1: port: 04294967297 does not fit in a 32-bit integer" },
                { "max_connections = 4294967396;", NAME ":1: max_connections: 4294967396 does not fit in a 32-bit integer" },
                { "workers = -2147483649;", NAME ":1: workers: -2147483649 does not fit in a 32-bit integer" },
                { "workers = -2147483648;", NAME ":1: workers: -2147483648 is out of range (0-1024)" },
                /* strtoul() into an int: 0xFFFFFFFF would be -1. */
                { "backlog = 0xFFFFFFFF;", NAME ":1: backlog: 0xFFFFFFFF does not fit in a 32-bit integer" },
                { "backlog = 0x7FFFFFFF1;", NAME ":1: backlog: 0x7FFFFFFF1 does not fit in a 32-bit integer" },
                { "backlog = 99999999999999999999L;", NAME ":1: backlog: 99999999999999999999 does not fit in a 64-bit integer" },
                { "backlog = 0x10000000000000000L;", NAME ":1: backlog: 0x10000000000000000 does not fit in a 64-bit integer" },
                /* The key named is the one the literal belongs to, on its line. */
                { "port = 1;\n# 99999999999\nidentifier = \"99999999999\";\nbacklog =\n  99999999999;\n",
                  NAME ":5: backlog: 99999999999 does not fit in a 32-bit integer" },
        };
        struct fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_refused(x, cases[i].text, cases[i].error);
        /* Floats may be of any size: the range check of the key has them. */
        check_refused(x, "timeout = 99999999999.5;", NAME ":1: timeout: 99999999999.5 is out of range (0-2147483 seconds)");
        check_refused(x, "timeout = 1e300;", NAME ":1: timeout: 1e+300 is out of range (0-2147483 seconds)");
}

/* ------------------------------------------------------------------------ */
/* host and identifier: not empty, at most 255 bytes, no control characters,
 * valid UTF-8; host an IP address or a DNS name. */

struct string_case {
        const char *value;      /* as written in the config, libconfig escapes */
        size_t repeat;          /* >0: value is one character, this many times */
        const char *reason;     /* NULL: accepted */
};

static const struct string_case identifier_cases[] = {
        { "a", 1, NULL },
        { "a", 255, NULL },
        { "a", 256, "longer than 255 bytes" },
        { "a", 1000, "longer than 255 bytes" },
        { "", 0, "must not be empty" },
        { "with space", 0, NULL },
        { "h\xc3\xb6rbar \xf0\x9f\x93\x9c", 0, NULL },
        { "tab\\there", 0, "must not contain control characters" },
        { "new\\nline", 0, "must not contain control characters" },
        { "cr\\r", 0, "must not contain control characters" },
        { "\\x01start", 0, "must not contain control characters" },
        { "unit\\x1f", 0, "must not contain control characters" },
        /* libconfig decodes \x00 and drops it: "a\x00b" would be "ab". */
        { "a\\x00b", 0, "must not contain control characters" },
        { "a\\X00", 0, "must not contain control characters" },
        { "\\x00", 0, "must not contain control characters" },
        { "\\\\x00", 0, NULL },                          /* a backslash, then "x00" */
        { "\\xff", 0, "is not valid UTF-8" },
        { "\\xc3", 0, "is not valid UTF-8" },             /* cut short */
        { "\\xc0\\x80", 0, "is not valid UTF-8" },        /* overlong NUL */
        { "\\xed\\xa0\\x80", 0, "is not valid UTF-8" },   /* a surrogate */
        { "\\xf4\\x90\\x80\\x80", 0, "is not valid UTF-8" }, /* above U+10FFFF */
};

static const struct string_case host_cases[] = {
        { "127.0.0.1", 0, NULL },
        { "0.0.0.0", 0, NULL },
        { "::", 0, NULL },
        { "::1", 0, NULL },
        { "::ffff:192.0.2.1", 0, NULL },
        { "fe80::1%lo", 0, NULL },
        { "fe80::1%1", 0, NULL },
        { "localhost", 0, NULL },
        { "harkd.example.org", 0, NULL },
        { "harkd.example.org.", 0, NULL },
        { "log-1.example_lan", 0, NULL },
        { "1host.example", 0, NULL },
        { "a", 63, NULL },
        { "", 0, "must not be empty" },
        { "a", 256, "longer than 255 bytes" },
        { "new\\nline", 0, "must not contain control characters" },
        { "a\\x00b", 0, "must not contain control characters" },
        /* What the first version took and then failed to bind. */
        { "127.0.0.1 ", 0, "\"127.0.0.1 \" is not an IP address or a host name" },
        { " 127.0.0.1", 0, "\" 127.0.0.1\" is not an IP address or a host name" },
        { "host name", 0, "\"host name\" is not an IP address or a host name" },
        /* inet_aton() forms and things like addresses that are none. */
        { "127.1", 0, "\"127.1\" is not an IP address or a host name" },
        { "10", 0, "\"10\" is not an IP address or a host name" },
        { "0x7f.0.0.1", 0, "\"0x7f.0.0.1\" is not an IP address or a host name" },
        { "1.2.3.4.5", 0, "\"1.2.3.4.5\" is not an IP address or a host name" },
        { "256.0.0.1", 0, "\"256.0.0.1\" is not an IP address or a host name" },
        { "[::1]", 0, "\"[::1]\" is not an IP address or a host name" },
        { "::1%", 0, "\"::1%\" is not an IP address or a host name" },
        { "fe80::1%no-such-interface-0", 0, "\"fe80::1%no-such-interface-0\" is not an IP address or a host name" },
        { "127.0.0.1:10001", 0, "\"127.0.0.1:10001\" is not an IP address or a host name" },
        { "a", 64, "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\" is not an IP address or a host name" },
        { "-lead.example", 0, "\"-lead.example\" is not an IP address or a host name" },
        { "trail-.example", 0, "\"trail-.example\" is not an IP address or a host name" },
        { "a..b", 0, "\"a..b\" is not an IP address or a host name" },
        { ".", 0, "\".\" is not an IP address or a host name" },
        { "a..", 0, "\"a..\" is not an IP address or a host name" },
        { "ex*ample", 0, "\"ex*ample\" is not an IP address or a host name" },
        { "h\xc3\xb6rbar", 0, "\"h\xc3\xb6rbar\" is not an IP address or a host name" },
        { "\\xff", 0, "is not valid UTF-8" },
};

/* DEL (0x7f) is a control character too (iscntrl(3)). */
static const struct string_case del_cases[] = {
        { "del\\x7f", 0, "must not contain control characters" },
        { "\\x7f", 0, "must not contain control characters" },
};

/* The value as libconfig gives it: "\\" is one backslash, the rest as written. */
static void unescape(char *s) {
        char *to = s;

        for (const char *p = s; *p; p++)
                *to++ = p[0] == '\\' && p[1] == '\\' ? *++p : *p;
        *to = 0;
}

static void check_string_cases(struct fixture *x, const char *key, const struct string_case *cases, size_t n) {
        char value[1024], text[1100], error[CONFIG_ERROR_MAX + 64];

        for (size_t i = 0; i < n; i++) {
                const struct string_case *c = &cases[i];

                if (c->repeat) {
                        memset(value, c->value[0], c->repeat);
                        value[c->repeat] = 0;
                } else
                        snprintf(value, sizeof(value), "%s", c->value);
                snprintf(text, sizeof(text), "%s = \"%s\";", key, value);
                if (!c->reason) {
                        if (load_text(x, text) != 0)
                                fail_msg("refused: %s: %s", text, x->error);
                        /* The accepted cases hold no escapes but "\\": the value is as written. */
                        unescape(value);
                        check_string(text, key, strcmp(key, "host") == 0 ? x->config.host : x->config.identifier, value);
                        continue;
                }
                snprintf(error, sizeof(error), NAME ":1: %s: %s", key, c->reason);
                check_refused(x, text, error);
        }
}

static void string_keys_have_length_and_character_rules(void **state) {
        check_string_cases(*state, "identifier", identifier_cases, ELEMENTSOF(identifier_cases));
        check_string_cases(*state, "host", host_cases, ELEMENTSOF(host_cases));
}

static void string_keys_refuse_del(void **state) {
        check_string_cases(*state, "identifier", del_cases, ELEMENTSOF(del_cases));
        check_string_cases(*state, "host", del_cases, ELEMENTSOF(del_cases));
}

/* ------------------------------------------------------------------------ */
/* Names of levels and modes. */

static void priority_from_string_takes_names_aliases_and_numbers(void **state) {
        static const struct {
                const char *s;
                int level;
        } cases[] = {
                { "emerg", 0 }, { "alert", 1 }, { "crit", 2 }, { "err", 3 }, { "error", 3 },
                { "warning", 4 }, { "warn", 4 }, { "notice", 5 }, { "info", 6 }, { "debug", 7 },
                { "0", 0 }, { "3", 3 }, { "7", 7 },
                { "8", -EINVAL }, { "-1", -EINVAL }, { "", -EINVAL }, { "6x", -EINVAL },
                { "+3", -EINVAL }, { " 3", -EINVAL }, { "3 ", -EINVAL }, { "07", -EINVAL }, { "-0", -EINVAL },
                { "0x3", -EINVAL }, { "INFO", -EINVAL }, { " info", -EINVAL },
                { "99999999999999999999", -EINVAL }, { "inf", -EINVAL }, { "information", -EINVAL },
        };

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                check_int(cases[i].s, "priority_from_string()", priority_from_string(cases[i].s), cases[i].level);
}

static void priority_name_names_each_level(void **state) {
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

        (void) state;
        for (int level = 0; level < 8; level++) {
                assert_string_equal(priority_name(level), names[level]);
                assert_int_equal(priority_from_string(priority_name(level)), level);
        }
        assert_string_equal(priority_name(-1), "unknown");
        assert_string_equal(priority_name(8), "unknown");
}

static void concurrency_mode_name_names_each_mode(void **state) {
        static const struct {
                enum concurrency_mode mode;
                const char *name;
        } modes[] = {
                { MODE_SEQUENTIAL, "sequential" }, { MODE_THREAD, "thread" }, { MODE_POOL, "pool" },
                { MODE_FORK, "fork" }, { MODE_EPOLL, "epoll" },
        };
        struct fixture *x = *state;
        char text[64];

        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                assert_string_equal(concurrency_mode_name(modes[i].mode), modes[i].name);
                /* The name is what the config takes. */
                snprintf(text, sizeof(text), "concurrency = \"%s\";", modes[i].name);
                assert_int_equal(load_text(x, text), 0);
                assert_int_equal(x->config.concurrency, modes[i].mode);
        }
        assert_string_equal(concurrency_mode_name((enum concurrency_mode) 99), "unknown");
}

/* ------------------------------------------------------------------------ */
/* Files */

static void load_reads_a_file(void **state) {
        struct fixture *x = *state;
        const char *path = write_file(x, "harkd.conf", every_key_changed);

        assert_int_equal(hark_config_load(&x->config, path, x->error), 0);
        assert_every_key_changed(path, &x->config);
}

static void a_missing_file_is_enoent_naming_the_path(void **state) {
        struct fixture *x = *state;
        char want[PATH_MAX + 64];

        assert_int_equal(hark_config_load(&x->config, write_file(x, "harkd.conf", every_key_changed), x->error), 0);
        path_in(x, "missing.conf");
        snprintf(want, sizeof(want), "%s: No such file or directory", x->path);
        assert_int_equal(hark_config_load(&x->config, x->path, x->error), -ENOENT);
        assert_string_equal(x->error, want);
        assert_every_key_changed(x->path, &x->config);
}

static void an_error_in_a_file_names_its_path_and_line(void **state) {
        static const struct {
                const char *text;
                const char *error;      /* after "PATH:" */
        } cases[] = {
                { "port = 1;\nport = 0;\n", "2: duplicate setting name" },
                { "host = \"h\";\nport = 0;\n", "2: port: 0 is out of range (1-65535)" },
                { "\n\n\ntimeout = ;\n", "4: syntax error" },
                { "port = 1;\nbogus = 1;\n", "2: bogus: unknown setting" },
        };
        struct fixture *x = *state;
        char want[PATH_MAX + CONFIG_ERROR_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *path = write_file(x, "harkd.conf", cases[i].text);

                snprintf(want, sizeof(want), "%s:%s", path, cases[i].error);
                assert_int_equal(hark_config_load(&x->config, path, x->error), -EINVAL);
                assert_string_equal(x->error, want);
        }
}

/* Loads path in a child, which must return want_r and the error want within
 * 5 s: a FIFO must not block the load, a directory must not end the process
 * inside libconfig (its scanner exit()s), and this program survives both. */
static void assert_load_fails_in_child(struct fixture *x, const char *path, int want_r, const char *want) {
        int status;
        pid_t pid;

        fflush(NULL);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r;

                alarm(5);
                r = hark_config_load(&x->config, path, x->error);
                if (r == want_r && strcmp(x->error, want) == 0)
                        _exit(0);
                fprintf(stderr, "hark_config_load(%s) = %d, error '%s'\n", path, r, x->error);
                _exit(1);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
                fail_msg("hark_config_load(%s) blocked for 5 s", path);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("hark_config_load(%s) did not return %d, \"%s\" (child status 0x%x)", path, want_r, want,
                         status);
}

static void a_directory_is_an_error_naming_the_path(void **state) {
        struct fixture *x = *state;
        char want[PATH_MAX + 64];

        snprintf(want, sizeof(want), "%s: Is a directory", x->dir);
        assert_load_fails_in_child(x, x->dir, -EISDIR, want);
}

/* Only a regular file is a config: a FIFO would block the reader until a
 * writer came (the reload, and SIGTERM behind it), a device would never end. */
static void what_is_not_a_regular_file_is_refused_without_blocking(void **state) {
        static const char *const devices[] = { "/dev/zero", "/dev/null", "/dev/tty" };
        struct fixture *x = *state;
        char want[PATH_MAX + 64];
        const char *fifo = path_in(x, "fifo");

        assert_int_equal(mkfifo(fifo, 0600), 0);
        snprintf(want, sizeof(want), "%s: not a regular file", fifo);
        assert_load_fails_in_child(x, fifo, -EINVAL, want);
        for (size_t i = 0; i < ELEMENTSOF(devices); i++) {
                if (access(devices[i], F_OK) < 0)
                        continue;
                snprintf(want, sizeof(want), "%s: not a regular file", devices[i]);
                assert_load_fails_in_child(x, devices[i], -EINVAL, want);
        }
}

/* The same for every @include, as an error on the @include's line. */
static void an_include_of_what_is_not_a_regular_file_is_an_error_on_its_line(void **state) {
        static const struct {
                const char *include;
                const char *reason;
        } cases[] = {
                { "conf.d", "Is a directory" },
                { "fifo", "not a regular file" },
                { "/dev/zero", "not a regular file" },
                { "absent.conf", "No such file or directory" },
                { "", "no file name" },
        };
        struct fixture *x = *state;
        char text[256], want[PATH_MAX + CONFIG_ERROR_MAX], main_path[PATH_MAX];

        assert_int_equal(mkdir(path_in(x, "conf.d"), 0700), 0);
        assert_int_equal(mkfifo(path_in(x, "fifo"), 0600), 0);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(text, sizeof(text), "port = 5555;\n# why\n@include \"%s\"\nworkers = 2;\n", cases[i].include);
                snprintf(main_path, sizeof(main_path), "%s", write_file(x, "harkd.conf", text));
                if (cases[i].include[0])
                        snprintf(want, sizeof(want), "%s:3: @include \"%s\": %s", main_path, cases[i].include,
                                 cases[i].reason);
                else
                        snprintf(want, sizeof(want), "%s:3: @include \"\": %s", main_path, cases[i].reason);
                assert_load_fails_in_child(x, main_path, -EINVAL, want);
        }
}

static void an_include_is_relative_to_the_including_file(void **state) {
        struct fixture *x = *state;
        char cwd[PATH_MAX];
        const char *path;

        /* The include must not be found through the working directory. */
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_string_not_equal(cwd, x->dir);
        assert_int_equal(mkdir(path_in(x, "conf.d"), 0700), 0);
        write_file(x, "limits.conf", "max_connections = 7;\n");
        write_file(x, "conf.d/source.conf", "max_connections_per_source = 2;\n");
        path = write_file(x, "harkd.conf", "port = 5555;\n@include \"limits.conf\"\n@include \"conf.d/source.conf\"\n");

        assert_int_equal(hark_config_load(&x->config, path, x->error), 0);
        assert_int_equal(x->config.port, 5555);
        assert_int_equal(x->config.max_connections, 7);
        assert_int_equal(x->config.max_connections_per_source, 2);
}

/* An absolute path is taken as it is (libconfig 1.5 would have put the
 * include directory in front of it). */
static void an_include_with_an_absolute_path_is_read(void **state) {
        struct fixture *x = *state;
        char text[PATH_MAX + 64];

        snprintf(text, sizeof(text), "port = 5555;\n@include \"%s\"\n", write_file(x, "limits.conf", "workers = 9;\n"));
        assert_int_equal(hark_config_load(&x->config, write_file(x, "harkd.conf", text), x->error), 0);
        assert_int_equal(x->config.port, 5555);
        assert_int_equal(x->config.workers, 9);
}

static void an_error_in_an_included_file_names_that_file_and_line(void **state) {
        static const char tail[] = "limits.conf:2: backlog: 0 is out of range (1-2147483647)";
        struct fixture *x = *state;
        size_t length;

        write_file(x, "limits.conf", "workers = 1;\nbacklog = 0;\n");
        assert_int_equal(hark_config_load(&x->config, write_file(x, "harkd.conf", "port = 5555;\n@include \"limits.conf\"\n"),
                                          x->error), -EINVAL);
        /* Either "limits.conf" as written or its full path names the file. */
        length = strlen(x->error);
        if (length < strlen(tail) || strcmp(x->error + length - strlen(tail), tail) != 0)
                fail_msg("error '%s' does not end in '%s'", x->error, tail);
        assert_null(strstr(x->error, "harkd.conf"));
        assert_int_equal(x->config.port, 10001);
}

/* Errors name the file and line where the text is, wherever includes put it. */
static void lines_stay_exact_across_includes(void **state) {
        static const struct {
                const char *main, *included;
                const char *file;       /* "main" or "a.conf" */
                const char *error;      /* after "FILE:" */
        } cases[] = {
                { "port = 5555;\n@include \"a.conf\"\n\nbogus = 1;\n", "workers = 1;\n\nbacklog = 2;\n", "main",
                  "4: bogus: unknown setting" },
                /* The included file's last line has no line end. */
                { "port = 5555;\n@include \"a.conf\"\nbogus = 1;\n", "workers = 1;\nbacklog = 2;", "main",
                  "3: bogus: unknown setting" },
                { "port = 5555;\n@include \"a.conf\"\n", "workers = 1;\n# two\nbacklog = 0;\n", "a.conf",
                  "3: backlog: 0 is out of range (1-2147483647)" },
                { "\n\n@include \"a.conf\"\nport = 1;\n", "workers = ;\n", "a.conf", "1: syntax error" },
                { "port = 1;\n@include \"a.conf\"\n", "\nport = 2;\n", "a.conf", "2: duplicate setting name" },
                { "@include \"a.conf\"\n\nport = 2;\n", "port = 1;\n", "main", "3: duplicate setting name" },
                { "port = 1;\n@include \"a.conf\"\n", "identifier = \"open;\n", "a.conf", "1: unterminated string" },
                { "port = 1;\n@include \"a.conf\"\n", "/* open\n", "a.conf", "1: unterminated comment" },
                { "port = 1;\n@include \"a.conf\"\n", "\nport = 4294967297;\n", "a.conf",
                  "2: port: 4294967297 does not fit in a 32-bit integer" },
                { "port = 1;\n@include \"a.conf\"\n", "identifier = \"a\\x00b\";\n", "a.conf",
                  "1: identifier: must not contain control characters" },
                { "port = 1;\n@include \"a.conf\"\nworkers =\n", "backlog = 2;\n", "main", "3: syntax error" },
                { "port = 1;\n@include \"a.conf\" port = 2;\n", "", "main",
                  "2: @include \"a.conf\": only a comment may follow on its line" },
                { "port = 1;\n@include \"a\\nb.conf\"\n", "", "main",
                  "2: @include: a file name may escape only \\ and \"" },
                { "port = 1;\n@include \"a.conf\n\"\n", "", "main", "2: @include: the file name does not end on its line" },
                /* Inside a string, an @include line is text. */
                { "identifier = \"x\n@include \\\"a.conf\\\"\";\n", "", "main",
                  "1: identifier: must not contain control characters" },
        };
        struct fixture *x = *state;
        char main_path[PATH_MAX], included[PATH_MAX], want[2 * PATH_MAX];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(included, sizeof(included), "%s", write_file(x, "a.conf", cases[i].included));
                snprintf(main_path, sizeof(main_path), "%s", write_file(x, "harkd.conf", cases[i].main));
                snprintf(want, sizeof(want), "%s:%s", strcmp(cases[i].file, "main") == 0 ? main_path : included,
                         cases[i].error);
                x->error[0] = 0;
                if (hark_config_load(&x->config, main_path, x->error) != -EINVAL || strcmp(x->error, want) != 0)
                        fail_msg("main:\n%s\na.conf:\n%s\n  error '%s'\n  expected '%s'", cases[i].main,
                                 cases[i].included, x->error, want);
        }
}

/* A NUL byte would end the text libconfig reads: the rest of the file unseen. */
static void a_nul_byte_in_a_file_is_an_error_on_its_line(void **state) {
        static const char text[] = "port = 1;\n\nworkers = 2; \0 backlog = 0;\n";
        struct fixture *x = *state;
        const char *path = path_in(x, "harkd.conf");
        char want[PATH_MAX + 64];
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, sizeof(text) - 1, f), sizeof(text) - 1);
        assert_int_equal(fclose(f), 0);
        snprintf(want, sizeof(want), "%s:3: contains a NUL byte", path);
        assert_int_equal(hark_config_load(&x->config, path, x->error), -EINVAL);
        assert_string_equal(x->error, want);
}

/* The forms an @include line may take, and lines that only look like one. */
static void include_lines_are_read_as_libconfig_reads_them(void **state) {
        static const struct {
                const char *main;
                int workers;    /* 9: a.conf was read; 0: it was not */
        } cases[] = {
                { "@include \"a.conf\"\n", 9 },
                { "  \t@include \t\"a.conf\"  # limits\n", 9 },
                { "@include \"a.conf\" // limits\n", 9 },
                { "@include \"a.conf\"\r\n", 9 },
                { "@include \"a.conf\"", 9 },
                { "@include \"a\\\\b.conf\"\n", 7 },
                { "@include \"q\\\"uote.conf\"\n", 8 },
                { "/*\n@include \"a.conf\"\n*/\n", 0 },
                { "# @include \"a.conf\"\n", 0 },
        };
        struct fixture *x = *state;

        write_file(x, "a.conf", "workers = 9;\n");
        write_file(x, "a\\b.conf", "workers = 7;\n");
        write_file(x, "q\"uote.conf", "workers = 8;\n");
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                if (hark_config_load(&x->config, write_file(x, "harkd.conf", cases[i].main), x->error) != 0)
                        fail_msg("%s: %s", cases[i].main, x->error);
                check_int(cases[i].main, "workers", x->config.workers, cases[i].workers);
        }
}

/* Includes nest up to 8 deep, relative to the main file's directory; a
 * file that includes itself is that bound, not a loop. */
static void includes_nest_eight_deep(void **state) {
        struct fixture *x = *state;
        char name[32], text[64], want[PATH_MAX + 128], main_path[PATH_MAX];

        assert_int_equal(mkdir(path_in(x, "conf.d"), 0700), 0);
        for (int i = 1; i <= 9; i++) {
                snprintf(name, sizeof(name), "conf.d/%d.conf", i);
                snprintf(text, sizeof(text), "\n@include \"conf.d/%d.conf\"\n", i + 1);
                write_file(x, name, text);
        }
        write_file(x, "conf.d/9.conf", "workers = 9;\n");
        snprintf(main_path, sizeof(main_path), "%s", write_file(x, "harkd.conf", "@include \"conf.d/2.conf\"\n"));
        assert_int_equal(hark_config_load(&x->config, main_path, x->error), 0);
        assert_int_equal(x->config.workers, 9);

        write_file(x, "harkd.conf", "@include \"conf.d/1.conf\"\n");
        snprintf(want, sizeof(want), "%s/conf.d/8.conf:2: @include \"conf.d/9.conf\": nested more than 8 deep", x->dir);
        assert_int_equal(hark_config_load(&x->config, main_path, x->error), -EINVAL);
        assert_string_equal(x->error, want);

        write_file(x, "harkd.conf", "port = 1;\n@include \"harkd.conf\"\n");
        snprintf(want, sizeof(want), "%s:2: @include \"harkd.conf\": nested more than 8 deep", main_path);
        assert_int_equal(hark_config_load(&x->config, main_path, x->error), -EINVAL);
        assert_string_equal(x->error, want);
}

static void at_most_32_files(void **state) {
        struct fixture *x = *state;
        char text[64 * 32], want[PATH_MAX + 128];
        const char *path;

        write_file(x, "empty.conf", "");
        text[0] = 0;
        for (int i = 0; i < 31; i++)
                strcat(text, "@include \"empty.conf\"\n");
        path = write_file(x, "harkd.conf", text);
        assert_int_equal(hark_config_load(&x->config, path, x->error), 0);
        strcat(text, "@include \"empty.conf\"\n");
        path = write_file(x, "harkd.conf", text);
        snprintf(want, sizeof(want), "%s:32: @include \"empty.conf\": more than 32 files", path);
        assert_int_equal(hark_config_load(&x->config, path, x->error), -EINVAL);
        assert_string_equal(x->error, want);
}

static double seconds_since(const struct timespec *start) {
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double) (now.tv_sec - start->tv_sec) + (double) (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* A file of n bytes: text, then a comment line filling the rest. */
static const char *write_padded(struct fixture *x, const char *name, const char *text, size_t n) {
        const char *path = path_in(x, name);
        size_t length = strlen(text);
        char *buffer = malloc(n);
        FILE *f = fopen(path, "we");

        assert_non_null(buffer);
        assert_non_null(f);
        assert_true(n >= length + 2);
        memcpy(buffer, text, length);
        buffer[length] = '#';
        memset(buffer + length + 1, 'x', n - length - 2);
        buffer[n - 1] = '\n';
        assert_int_equal(fwrite(buffer, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
        free(buffer);
        return path;
}

/* CONFIG_TEXT_MAX bounds all files together, and reading that much is
 * quick: libconfig took 47 s for one 10 MiB comment line it read itself. */
static void the_size_bound_covers_every_file_and_reads_fast(void **state) {
        static const char main_text[] = "port = 5555;\n@include \"big.conf\"\n";
        struct fixture *x = *state;
        char want[PATH_MAX + 128], main_path[PATH_MAX];
        struct timespec start;
        double took;

        snprintf(main_path, sizeof(main_path), "%s", write_file(x, "harkd.conf", main_text));
        write_padded(x, "big.conf", "workers = 3;\n", CONFIG_TEXT_MAX - strlen(main_text));
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(hark_config_load(&x->config, main_path, x->error), 0);
        took = seconds_since(&start);
        assert_int_equal(x->config.workers, 3);
        if (took > 1.0)
                fail_msg("reading %d bytes took %.2f s", CONFIG_TEXT_MAX, took);

        write_padded(x, "big.conf", "workers = 3;\n", CONFIG_TEXT_MAX - strlen(main_text) + 1);
        snprintf(want, sizeof(want), "%s:2: @include \"big.conf\": more than %d bytes with every included file",
                 main_path, CONFIG_TEXT_MAX);
        assert_int_equal(hark_config_load(&x->config, main_path, x->error), -EINVAL);
        assert_string_equal(x->error, want);
        assert_int_equal(x->config.workers, 3);

        write_padded(x, "harkd.conf", "workers = 4;\n", 10 * 1024 * 1024);
        snprintf(want, sizeof(want), "%s: more than %d bytes with every included file", main_path, CONFIG_TEXT_MAX);
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(hark_config_load(&x->config, main_path, x->error), -EFBIG);
        assert_true(seconds_since(&start) < 1.0);
        assert_string_equal(x->error, want);
}

/* libconfig checks each new setting name against all before it: 1 MiB of
 * names took minutes. More than 256 is an error before libconfig sees them. */
static void at_most_256_setting_names(void **state) {
        struct fixture *x = *state;
        size_t size = CONFIG_TEXT_MAX, n = 0;
        char *text = malloc(size + 1);
        struct timespec start;

        (void) state;
        assert_non_null(text);
        for (int i = 0; n + 32 < size; i++)
                n += (size_t) sprintf(text + n, "name%d = %d;\n", i, i);
        clock_gettime(CLOCK_MONOTONIC, &start);
        assert_int_equal(load_text(x, text), -EINVAL);
        assert_true(seconds_since(&start) < 1.0);
        assert_string_equal(x->error, NAME ":257: more than 256 setting names");
        /* true and false are values, not names. */
        n = 0;
        for (int i = 0; i < 300; i++)
                n += (size_t) sprintf(text + n, "# true\n");
        sprintf(text + n, "x = [true, false, TRUE, False];\n");
        assert_int_equal(load_text(x, text), -EINVAL);
        assert_string_equal(x->error, NAME ":301: x: unknown setting");
        free(text);
}

static void a_config_given_as_text_cannot_include(void **state) {
        struct fixture *x = *state;

        assert_int_equal(load_text(x, "port = 1;\n@include \"/etc/passwd\"\n"), -EINVAL);
        assert_string_equal(x->error, NAME ":2: @include \"/etc/passwd\": only a config file can include one");
}

static void a_comment_on_the_last_line_needs_no_line_end(void **state) {
        struct fixture *x = *state;

        if (load_text(x, "port = 5555; # no line end") != 0)
                fail_msg("%s", x->error);
        assert_int_equal(x->config.port, 5555);
        if (load_text(x, "port = 5556;\n// no line end") != 0)
                fail_msg("%s", x->error);
        assert_int_equal(x->config.port, 5556);
}

/* hark_config_load() checks the form of host only; the resolving load, for
 * harkd -t, also looks it up, and names the line when it does not resolve. */
static void the_resolving_load_looks_host_up(void **state) {
        struct fixture *x = *state;
        const char *path = write_file(x, "harkd.conf", "port = 5555;\nhost = \"no-such-host.invalid\";\n");
        char want[PATH_MAX + 128];
        struct addrinfo *ai;

        assert_int_equal(hark_config_load(&x->config, path, x->error), 0);
        assert_string_equal(x->config.host, "no-such-host.invalid");
        hark_config_done(&x->config);
        hark_config_init(&x->config);
        snprintf(want, sizeof(want), "%s:2: host: \"no-such-host.invalid\" does not resolve: ", path);
        assert_int_equal(hark_config_load_resolving(&x->config, path, x->error), -EINVAL);
        if (strncmp(x->error, want, strlen(want)) != 0)
                fail_msg("error '%s' does not start with '%s'", x->error, want);
        assert_string_equal(x->config.host, "127.0.0.1");

        /* A name passes when it resolves here (a minimal root may lack the
         * /etc/hosts that makes "localhost" one). */
        if (getaddrinfo("localhost", NULL, NULL, &ai) == 0) {
                freeaddrinfo(ai);
                path = write_file(x, "harkd.conf", "host = \"localhost\";\n");
                if (hark_config_load_resolving(&x->config, path, x->error) != 0)
                        fail_msg("%s", x->error);
        }
        path = write_file(x, "harkd.conf", "host = \"::1\";\n");
        if (hark_config_load_resolving(&x->config, path, x->error) != 0)
                fail_msg("%s", x->error);
        path = write_file(x, "harkd.conf", "port = 1;\n");
        if (hark_config_load_resolving(&x->config, path, x->error) != 0)
                fail_msg("%s", x->error);
}

/* ------------------------------------------------------------------------ */
/* allow */

static void check_allow(const char *context, const struct allowlist *list, const char *const *want) {
        size_t n = 0;

        while (want[n])
                n++;
        if (!list->set || list->n != n)
                fail_msg("%s: allow has %zu rules (%s), expected %zu", context, list->n, list->set ? "set" : "absent", n);
        for (size_t i = 0; i < n; i++) {
                char text[ALLOW_TEXT_MAX];

                allow_rule_format(&list->rules[i], text, sizeof(text));
                if (strcmp(text, want[i]) != 0)
                        fail_msg("%s: rule %zu is %s, expected %s", context, i + 1, text, want[i]);
        }
}

static void allow_takes_a_list_or_an_array_of_addresses_and_blocks(void **state) {
        static const struct {
                const char *text;
                const char *want[5];
        } cases[] = {
                { "allow = [ \"127.0.0.1\" ];", { "127.0.0.1/32" } },
                { "allow = ( \"10.0.0.0/8\", \"2001:db8::/32\", \"127.0.0.1\" );",
                  { "10.0.0.0/8", "2001:db8::/32", "127.0.0.1/32" } },
                { "allow = [ \"::1\", \"0.0.0.0/0\", \"::/0\" ];", { "::1/128", "0.0.0.0/0", "::/0" } },
                { "allow = [\n  \"192.0.2.0/24\",\n  # a comment\n  \"198.51.100.7\"\n];\n",
                  { "192.0.2.0/24", "198.51.100.7/32" } },
        };
        struct fixture *x = *state;

        assert_false(x->config.allow.set);
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                if (load_text(x, cases[i].text) != 0)
                        fail_msg("%s: %s", cases[i].text, x->error);
                check_allow(cases[i].text, &x->config.allow, cases[i].want);
        }
        /* A file without it: everyone again. */
        assert_int_equal(load_text(x, "port = 4000;\n"), 0);
        assert_false(x->config.allow.set);
        assert_int_equal(x->config.allow.n, 0);
}

static const struct refused_case allow_refused_cases[] = {
        { "allow = \"127.0.0.1\";", NAME ":1: allow: expected a list of addresses, got a string" },
        { "allow = 1;", NAME ":1: allow: expected a list of addresses, got an integer" },
        { "allow = true;", NAME ":1: allow: expected a list of addresses, got a boolean" },
        { "allow = { a = \"127.0.0.1\"; };", NAME ":1: allow: expected a list of addresses, got a group" },
        { "allow = [ 1, 2 ];", NAME ":1: allow: entry 1: expected a string, got an integer" },
        { "allow = ( \"127.0.0.1\", 2 );", NAME ":1: allow: entry 2: expected a string, got an integer" },
        { "allow = ( \"127.0.0.1\", ( \"::1\" ) );", NAME ":1: allow: entry 2: expected a string, got a list" },
        { "allow = ( [ \"::1\" ] );", NAME ":1: allow: entry 1: expected a string, got an array" },
        { "allow = ( { a = 1; } );", NAME ":1: allow: entry 1: expected a string, got a group" },
        { "allow = [];", NAME ":1: allow: is empty: it would refuse everyone (remove it to allow everyone)" },
        { "allow = ();", NAME ":1: allow: is empty: it would refuse everyone (remove it to allow everyone)" },
        { "allow = [ \"\" ];", NAME ":1: allow: \"\" is not an IP address or CIDR block" },
        { "allow = [ \"localhost\" ];", NAME ":1: allow: \"localhost\" is not an IP address or CIDR block" },
        { "allow = [ \"127.1\" ];", NAME ":1: allow: \"127.1\" is not an IP address or CIDR block" },
        { "allow = [ \" 127.0.0.1\" ];", NAME ":1: allow: \" 127.0.0.1\" is not an IP address or CIDR block" },
        { "allow = [ \"10.0.0.0/33\" ];", NAME ":1: allow: \"10.0.0.0/33\" has a prefix length that is not 0-32" },
        { "allow = [ \"::/129\" ];", NAME ":1: allow: \"::/129\" has a prefix length that is not 0-128" },
        { "allow = [ \"10.0.0.0/08\" ];", NAME ":1: allow: \"10.0.0.0/08\" has a prefix length that is not 0-32" },
        { "allow = [ \"10.1.2.3/8\" ];",
          NAME ":1: allow: \"10.1.2.3/8\" has bits set beyond its prefix length (write the network's first address)" },
        { "allow = [ \"2001:db8::1/32\" ];",
          NAME ":1: allow: \"2001:db8::1/32\" has bits set beyond its prefix length (write the network's first "
               "address)" },
        /* The entry's line, also deep in a list that spans lines. */
        { "port = 1;\nallow = [ \"10.0.0.0/8\", \"bogus\" ];\n",
          NAME ":2: allow: \"bogus\" is not an IP address or CIDR block" },
        { "# who may write\nallow = [\n  \"10.0.0.0/8\",\n  \"::1\",\n  \"10.1.2.3/8\",\n  \"::2\"\n];\n",
          NAME ":5: allow: \"10.1.2.3/8\" has bits set beyond its prefix length (write the network's first "
               "address)" },
        { "allow = (\n  \"10.0.0.0/8\",\n\n  \"::1\",\n  7\n);\n", NAME ":1: allow: entry 3: expected a string, got an integer" },
        { "allow = [ \"127.0.0.1\" ];\nallow = [ \"::1\" ];\n", NAME ":2: duplicate setting name" },
        { "alow = [ \"127.0.0.1\" ];", NAME ":1: alow: unknown setting" },
};

/* A refused allow leaves the running config, its allow list included, as
 * it was. */
static void allow_errors_name_the_line_of_the_entry(void **state) {
        static const char *const running[] = { "192.0.2.0/24", NULL };
        struct fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(allow_refused_cases); i++) {
                const struct refused_case *c = &allow_refused_cases[i];
                int r;

                assert_int_equal(load_text(x, "allow = [ \"192.0.2.0/24\" ];\nport = 4000;\n"), 0);
                r = load_text(x, c->text);
                if (r != -EINVAL || strcmp(x->error, c->error) != 0)
                        fail_msg("%s:\n  returned %d, error '%s'\n  expected %d, error '%s'", c->text, r, x->error,
                                 -EINVAL, c->error);
                check_allow(c->text, &x->config.allow, running);
                check_int(c->text, "port", x->config.port, 4000);
        }
}

/* Writes "allow = [ ... ]" with n distinct addresses (10.0.x.y), one a line. */
static char *allow_of(size_t n) {
        size_t size = 32 + n * 24, used;
        char *text = malloc(size);

        assert_non_null(text);
        used = (size_t) snprintf(text, size, "allow = [\n");
        for (size_t i = 0; i < n; i++)
                used += (size_t) snprintf(text + used, size - used, "  \"10.0.%zu.%zu\"%s\n", i / 256, i % 256,
                                          i + 1 < n ? "," : "");
        snprintf(text + used, size - used, "];\n");
        return text;
}

static void allow_takes_at_most_1024_entries(void **state) {
        struct fixture *x = *state;
        char *text = allow_of(ALLOWLIST_MAX);

        if (load_text(x, text) != 0)
                fail_msg("%d entries: %s", ALLOWLIST_MAX, x->error);
        assert_int_equal(x->config.allow.n, ALLOWLIST_MAX);
        free(text);
        text = allow_of(ALLOWLIST_MAX + 1);
        assert_int_equal(load_text(x, text), -EINVAL);
        assert_string_equal(x->error, NAME ":1: allow: has more than 1024 entries");
        assert_int_equal(x->config.allow.n, ALLOWLIST_MAX);
        free(text);
}

static void allow_errors_in_a_file_name_its_path_and_line(void **state) {
        struct fixture *x = *state;
        char want[PATH_MAX + CONFIG_ERROR_MAX];
        const char *path;
        size_t length;

        path = write_file(x, "harkd.conf",
                          "port = 5555;\n"
                          "allow = [\n"
                          "        \"127.0.0.1\",\n"
                          "        \"::1/128\",\n"
                          "        \"127.0.0.1/24\",\n"
                          "        \"::2\"\n"
                          "];\n");
        snprintf(want, sizeof(want),
                 "%s:5: allow: \"127.0.0.1/24\" has bits set beyond its prefix length (write the network's first "
                 "address)", path);
        assert_int_equal(hark_config_load(&x->config, path, x->error), -EINVAL);
        assert_string_equal(x->error, want);
        assert_false(x->config.allow.set);

        /* In an included file: that file and its line. */
        write_file(x, "allow.conf", "\n# the networks\nallow = (\n  \"10.0.0.0/8\",\n  \"172.16.0.0/12\",\n  \"192.168.1.0/16\",\n  \"::1\"\n);\n");
        path = write_file(x, "harkd.conf", "port = 5555;\n\n@include \"allow.conf\"\nworkers = 1;\n");
        assert_int_equal(hark_config_load(&x->config, path, x->error), -EINVAL);
        {
                static const char tail[] = "allow.conf:6: allow: \"192.168.1.0/16\" has bits set beyond its prefix "
                                           "length (write the network's first address)";

                length = strlen(x->error);
                if (length < strlen(tail) || strcmp(x->error + length - strlen(tail), tail) != 0)
                        fail_msg("error '%s' does not end in '%s'", x->error, tail);
        }
        write_file(x, "allow.conf", "allow = (\n  \"10.0.0.0/8\",\n  \"172.16.0.0/12\",\n  \"192.168.0.0/16\"\n);\n");
        if (hark_config_load(&x->config, path, x->error) != 0)
                fail_msg("%s", x->error);
        check_allow(path, &x->config.allow, (const char *const[]) { "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", NULL });
}

/* A reload applies allow to new connections: no restart. */
static void allow_applies_on_reload(void **state) {
        struct fixture *x = *state;
        struct hark_config running;
        const char *changed[8];

        (void) x;
        assert_int_not_equal(hark_config_reload_kind("allow"), RELOAD_RESTART);
        hark_config_init(&running);
        assert_int_equal(hark_config_load_string(&running, "allow = [ \"127.0.0.1\" ];\n", NAME, x->error), 0);
        assert_int_equal(load_text(x, "allow = [ \"127.0.0.0/30\" ];\n"), 0);
        assert_int_equal(hark_config_keep_restart_settings(&x->config, &running, changed, ELEMENTSOF(changed)), 0);
        check_allow("reload", &x->config.allow, (const char *const[]) { "127.0.0.0/30", NULL });
        hark_config_done(&running);
}

/* ------------------------------------------------------------------------ */
/* TLS */

#define TLS_FILES "tls_certificate = \"/etc/hark/cert.pem\";\ntls_key = \"/etc/hark/key.pem\";\n"

static void tls_settings_go_together(void **state) {
        struct fixture *x = *state;

        assert_int_equal(x->config.tls_port, 0);
        assert_null(x->config.tls_certificate);
        assert_null(x->config.tls_key);
        assert_null(x->config.tls_client_ca);
        if (load_text(x, "tls_port = 6514;\n" TLS_FILES) != 0)
                fail_msg("%s", x->error);
        assert_int_equal(x->config.tls_port, 6514);
        assert_string_equal(x->config.tls_certificate, "/etc/hark/cert.pem");
        assert_string_equal(x->config.tls_key, "/etc/hark/key.pem");
        assert_null(x->config.tls_client_ca);
        if (load_text(x, "port = 514;\ntls_port = 6514;\n" TLS_FILES "tls_client_ca = \"/etc/hark/ca.pem\";\n") != 0)
                fail_msg("%s", x->error);
        assert_string_equal(x->config.tls_client_ca, "/etc/hark/ca.pem");
        /* Left out again: absent again. */
        assert_int_equal(load_text(x, "port = 514;\n"), 0);
        assert_int_equal(x->config.tls_port, 0);
        assert_null(x->config.tls_certificate);
        assert_null(x->config.tls_key);
        assert_null(x->config.tls_client_ca);
        /* A new TLS port needs a new socket. */
        assert_int_equal(hark_config_reload_kind("tls_port"), RELOAD_RESTART);
}

static const struct refused_case tls_refused_cases[] = {
        { "tls_port = 6514;", NAME ":1: tls_port: needs tls_certificate and tls_key" },
        { "port = 1;\n\ntls_port = 6514;\ntls_certificate = \"/c.pem\";\n",
          NAME ":3: tls_port: needs tls_certificate and tls_key" },
        { "tls_port = 6514;\ntls_key = \"/k.pem\";\n", NAME ":1: tls_port: needs tls_certificate and tls_key" },
        { "tls_port = 6514;\ntls_client_ca = \"/ca.pem\";\n", NAME ":1: tls_port: needs tls_certificate and tls_key" },
        { "tls_key = \"/k.pem\";", NAME ":1: tls_key: has no effect without tls_port" },
        { "port = 1;\ntls_certificate = \"/c.pem\";\n", NAME ":2: tls_certificate: has no effect without tls_port" },
        { "tls_client_ca = \"/ca.pem\";", NAME ":1: tls_client_ca: has no effect without tls_port" },
        { TLS_FILES, NAME ":1: tls_certificate: has no effect without tls_port" },
        { "tls_port = 6514;\ntls_certificate = \"cert.pem\";\ntls_key = \"/k.pem\";\n",
          NAME ":2: tls_certificate: \"cert.pem\" is not an absolute path" },
        { "tls_port = 6514;\ntls_certificate = \"/c.pem\";\ntls_key = \"./k.pem\";\n",
          NAME ":3: tls_key: \"./k.pem\" is not an absolute path" },
        { "tls_port = 6514;\n" TLS_FILES "tls_client_ca = \"~/ca.pem\";\n",
          NAME ":4: tls_client_ca: \"~/ca.pem\" is not an absolute path" },
        { "tls_port = 6514;\ntls_certificate = \"\";\ntls_key = \"/k.pem\";\n",
          NAME ":2: tls_certificate: must not be empty" },
        { "tls_port = 6514;\ntls_certificate = 1;\ntls_key = \"/k.pem\";\n",
          NAME ":2: tls_certificate: expected a string, got an integer" },
        { "port = 6514;\ntls_port = 6514;\n" TLS_FILES, NAME ":2: tls_port: 6514 is also the plain port" },
        /* The plain port's default counts too. */
        { "tls_port = 10001;\n" TLS_FILES, NAME ":1: tls_port: 10001 is also the plain port" },
        { "tls_port = 0;\n" TLS_FILES, NAME ":1: tls_port: 0 is out of range (1-65535)" },
        { "tls_port = 65536;\n" TLS_FILES, NAME ":1: tls_port: 65536 is out of range (1-65535)" },
        { "tls_port = \"6514\";\n" TLS_FILES, NAME ":1: tls_port: expected an integer, got a string" },
};

static void tls_errors_name_the_setting_and_line(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(tls_refused_cases); i++)
                check_refused(*state, tls_refused_cases[i].text, tls_refused_cases[i].error);
}

int main(void) {
        static const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(init_sets_every_default, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(an_empty_config_gives_every_default, config_setup, config_teardown),
                cmocka_unit_test(done_is_safe_on_a_zeroed_config_and_twice),
                cmocka_unit_test_setup_teardown(every_key_accepts_its_valid_values, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(every_key_at_once, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(a_load_resets_what_the_file_leaves_out, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(bad_values_are_refused_with_file_line_key_and_reason, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(an_out_of_range_timeout_is_quoted_as_written, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(an_integer_beyond_32_bits_is_refused_not_wrapped, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(string_keys_have_length_and_character_rules, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(string_keys_refuse_del, config_setup, config_teardown),
                cmocka_unit_test(priority_from_string_takes_names_aliases_and_numbers),
                cmocka_unit_test(priority_name_names_each_level),
                cmocka_unit_test_setup_teardown(concurrency_mode_name_names_each_mode, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(load_reads_a_file, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(a_missing_file_is_enoent_naming_the_path, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(an_error_in_a_file_names_its_path_and_line, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(a_directory_is_an_error_naming_the_path, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(what_is_not_a_regular_file_is_refused_without_blocking, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(an_include_of_what_is_not_a_regular_file_is_an_error_on_its_line, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(an_include_is_relative_to_the_including_file, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(an_include_with_an_absolute_path_is_read, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(an_error_in_an_included_file_names_that_file_and_line, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(lines_stay_exact_across_includes, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(a_nul_byte_in_a_file_is_an_error_on_its_line, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(include_lines_are_read_as_libconfig_reads_them, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(includes_nest_eight_deep, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(at_most_32_files, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(the_size_bound_covers_every_file_and_reads_fast, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(at_most_256_setting_names, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(a_config_given_as_text_cannot_include, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(a_comment_on_the_last_line_needs_no_line_end, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(the_resolving_load_looks_host_up, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(allow_takes_a_list_or_an_array_of_addresses_and_blocks, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(allow_errors_name_the_line_of_the_entry, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(allow_takes_at_most_1024_entries, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(allow_errors_in_a_file_name_its_path_and_line, files_setup, config_teardown),
                cmocka_unit_test_setup_teardown(allow_applies_on_reload, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(tls_settings_go_together, config_setup, config_teardown),
                cmocka_unit_test_setup_teardown(tls_errors_name_the_setting_and_line, config_setup, config_teardown),
        };

        return hark_test_main("config", tests);
}
