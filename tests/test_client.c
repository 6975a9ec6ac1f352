/* Unit tests of the client's command line and target (src/client.c):
 * client_parse_args() (with the syslog, TLS and UDP options) and client_resolve_target(). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "client.h"
#include "util.h"

#define MAX_ARGS 16

/* A command line to parse and where its output goes. */
struct fixture {
        struct client_options options;
        char *argv[MAX_ARGS + 2];
        FILE *out, *err;
        char *out_text, *err_text;
        size_t out_size, err_size;
        char dir[64];                   /* a private temp dir, or "" */
        char path[PATH_MAX];            /* scratch for path_in() */
};

static void close_streams(struct fixture *x) {
        if (x->out)
                fclose(x->out);
        if (x->err)
                fclose(x->err);
        free(x->out_text);
        free(x->err_text);
        x->out = x->err = NULL;
        x->out_text = x->err_text = NULL;
}

/* Fresh, empty out and err. */
static int open_streams(struct fixture *x) {
        close_streams(x);
        x->out = open_memstream(&x->out_text, &x->out_size);
        x->err = open_memstream(&x->err_text, &x->err_size);
        return x->out && x->err ? 0 : -1;
}

static int fixture_setup(void **state) {
        struct fixture *x = calloc(1, sizeof(*x));

        if (!x)
                return -1;
        *state = x;
        return open_streams(x);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static void free_argv(struct fixture *x) {
        for (size_t i = 0; x->argv[i]; i++) {
                free(x->argv[i]);
                x->argv[i] = NULL;
        }
}

static int fixture_teardown(void **state) {
        struct fixture *x = *state;
        int r = 0;

        if (x->dir[0])
                r = nftw(x->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        free_argv(x);
        close_streams(x);
        free(x);
        return r;
}

static int files_setup(void **state) {
        struct fixture *x;

        if (fixture_setup(state) < 0)
                return -1;
        x = *state;
        snprintf(x->dir, sizeof(x->dir), "/tmp/test_client.XXXXXX");
        if (!mkdtemp(x->dir)) {
                x->dir[0] = 0;
                return -1;
        }
        return 0;
}

/* What was written to out and err so far. */
static const char *out_text(struct fixture *x) {
        fflush(x->out);
        return x->out_text;
}

static const char *err_text(struct fixture *x) {
        fflush(x->err);
        return x->err_text;
}

/* Parses "hark" followed by args (NULL-terminated). The strings are copies
 * owned by the fixture, so that the options may point into them. */
static int parse(struct fixture *x, const char *const *args) {
        int argc = 0;

        free_argv(x);
        x->argv[argc++] = strdup("hark");
        for (; args[argc - 1]; argc++) {
                assert_true(argc <= MAX_ARGS);
                x->argv[argc] = strdup(args[argc - 1]);
        }
        x->argv[argc] = NULL;
        return client_parse_args(argc, x->argv, &x->options, x->out, x->err);
}

#define ARGS(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define NO_ARGS ((const char *const[]) { NULL })

static void check_string(const char *context, const char *what, const char *got, const char *want) {
        if (got == want || (got && want && strcmp(got, want) == 0))
                return;
        fail_msg("%s: %s is %s%s%s, expected %s%s%s", context, what, got ? "\"" : "", got ? got : "NULL",
                 got ? "\"" : "", want ? "\"" : "", want ? want : "NULL", want ? "\"" : "");
}

/* ------------------------------------------------------------------------ */
/* Command lines that parse: the options they give. */

struct accepted_case {
        const char *name;
        const char *const *args;
        const char *host, *port;
        const char *config_path;        /* NULL: HARK_DEFAULT_CONFIG */
        bool config_given;
        double timeout;                 /* 0: CLIENT_DEFAULT_TIMEOUT */
        bool ping;
        const char *messages[5];        /* NULL-terminated */
};

static const struct accepted_case accepted_cases[] = {
        { "no arguments", NO_ARGS, .messages = { NULL } },
        { "-H", ARGS("-H", "example.org"), .host = "example.org" },
        { "--host", ARGS("--host", "::1"), .host = "::1" },
        { "--host=", ARGS("--host=192.0.2.1"), .host = "192.0.2.1" },
        { "-H attached", ARGS("-Hlocalhost"), .host = "localhost" },
        { "-p lowest", ARGS("-p", "1"), .port = "1" },
        { "-p highest", ARGS("-p", "65535"), .port = "65535" },
        { "--port", ARGS("--port", "10001"), .port = "10001" },
        { "--port=", ARGS("--port=8080"), .port = "8080" },
        { "-c", ARGS("-c", "/tmp/other.conf"), .config_path = "/tmp/other.conf", .config_given = true },
        { "--config", ARGS("--config", "rel.conf"), .config_path = "rel.conf", .config_given = true },
        { "-t fraction", ARGS("-t", "0.5"), .timeout = 0.5 },
        { "--timeout integer", ARGS("--timeout", "3"), .timeout = 3.0 },
        { "-t a day", ARGS("-t", "86400"), .timeout = 86400.0 },
        { "--ping", ARGS("--ping"), .ping = true },
        { "messages in order", ARGS("one", "two", "three"), .messages = { "one", "two", "three" } },
        { "\"-\" is a message: stdin", ARGS("-"), .messages = { "-" } },
        { "\"-\" among messages", ARGS("a", "-", "b"), .messages = { "a", "-", "b" } },
        { "-- then an option-like message", ARGS("--", "-x"), .messages = { "-x" } },
        { "-- then --", ARGS("-p", "2", "--", "--", "-p"), .port = "2", .messages = { "--", "-p" } },
        { "options end at the first message", ARGS("hello", "-p", "1"),
          .messages = { "hello", "-p", "1" } },
        { "an empty message", ARGS(""), .messages = { "" } },
        { "everything", ARGS("-H", "h", "--port=2", "-c", "c.conf", "-t", "1.5", "m1", "-"),
          .host = "h", .port = "2", .config_path = "c.conf", .config_given = true, .timeout = 1.5,
          .messages = { "m1", "-" } },
};

static void check_accepted(struct fixture *x, const struct accepted_case *c) {
        const struct client_options *o = &x->options;
        const char *config_path = c->config_path ? c->config_path : HARK_DEFAULT_CONFIG;
        double timeout = c->timeout ? c->timeout : CLIENT_DEFAULT_TIMEOUT;
        int status = parse(x, c->args), n = 0;

        if (status != CLIENT_CONTINUE)
                fail_msg("%s: status %d, err '%s'", c->name, status, err_text(x) ? err_text(x) : "");
        check_string(c->name, "host", o->host, c->host);
        check_string(c->name, "port", o->port, c->port);
        check_string(c->name, "config_path", o->config_path, config_path);
        if (o->config_given != c->config_given || o->ping != c->ping || o->timeout != timeout)
                fail_msg("%s: config_given %d ping %d timeout %g, expected %d %d %g", c->name, o->config_given,
                         o->ping, o->timeout, c->config_given, c->ping, timeout);
        while (n < (int) ELEMENTSOF(c->messages) && c->messages[n])
                n++;
        if (o->n_messages != n)
                fail_msg("%s: %d messages, expected %d", c->name, o->n_messages, n);
        for (int i = 0; i < n; i++)
                check_string(c->name, "message", o->messages[i], c->messages[i]);
        check_string(c->name, "output", out_text(x), "");
        check_string(c->name, "errors", err_text(x), "");
}

static void command_lines_that_parse(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(accepted_cases); i++)
                check_accepted(*state, &accepted_cases[i]);
}

static void defaults_without_arguments(void **state) {
        struct fixture *x = *state;

        assert_int_equal(parse(x, NO_ARGS), CLIENT_CONTINUE);
        assert_null(x->options.host);
        assert_null(x->options.port);
        assert_string_equal(x->options.config_path, HARK_DEFAULT_CONFIG);
        assert_false(x->options.config_given);
        assert_true(x->options.timeout == 10.0);
        assert_false(x->options.ping);
        assert_int_equal(x->options.n_messages, 0);
        assert_false(x->options.syslog);
        assert_int_equal(x->options.facility, 1);
        assert_int_equal(x->options.severity, 5);
        assert_null(x->options.tag);
        assert_int_equal(x->options.n_fields, 0);
        assert_false(x->options.octet_count);
        assert_false(x->options.tls);
        assert_null(x->options.tls_files.ca);
        assert_null(x->options.tls_files.certificate);
        assert_null(x->options.tls_files.key);
        assert_false(x->options.udp);
}

/* ------------------------------------------------------------------------ */
/* The syslog options: any of them makes the messages RFC 5424. */

struct syslog_case {
        const char *const *args;
        int facility, severity;
        const char *tag;
        const char *fields[4];          /* NULL-terminated */
        bool octet_count;
        int n_messages;
};

#define PRI(f, s) .facility = (f), .severity = (s)
#define USER_NOTICE PRI(1, 5)

static const struct syslog_case syslog_cases[] = {
        { ARGS("--priority", "local0.warning", "m"), PRI(16, 4), .n_messages = 1 },
        { ARGS("--priority=warning"), PRI(1, 4) },
        { ARGS("--priority", "err"), PRI(1, 3) },
        { ARGS("--priority", "error"), PRI(1, 3) },
        { ARGS("--priority", "warn"), PRI(1, 4) },
        { ARGS("--priority", "0"), PRI(1, 0) },
        { ARGS("--priority", "7"), PRI(1, 7) },
        { ARGS("--priority", "kern.emerg"), PRI(0, 0) },
        { ARGS("--priority", "authpriv.alert"), PRI(10, 1) },
        { ARGS("--priority", "ftp.crit"), PRI(11, 2) },
        { ARGS("--priority", "local7.debug"), PRI(23, 7) },
        { ARGS("--priority", "23.7"), PRI(23, 7) },
        { ARGS("--priority", "12.info"), PRI(12, 6) },
        { ARGS("--priority", "0.notice"), PRI(0, 5) },
        { ARGS("--priority", "daemon.6"), PRI(3, 6) },
        /* The last one counts, each part on its own. */
        { ARGS("--priority", "mail.info", "--priority", "debug"), PRI(2, 7) },
        { ARGS("--tag", "myapp"), USER_NOTICE, .tag = "myapp" },
        { ARGS("--tag=a[1]:"), USER_NOTICE, .tag = "a[1]:" },
        { ARGS("--tag", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl"), USER_NOTICE,
          .tag = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijkl" },
        { ARGS("--field", "ORDER_ID=4711"), USER_NOTICE, .fields = { "ORDER_ID=4711" } },
        { ARGS("--field", "A=", "--field=B=x=y", "--field", "A=again"), USER_NOTICE,
          .fields = { "A=", "B=x=y", "A=again" } },
        { ARGS("--field", "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345=32 bytes"), USER_NOTICE,
          .fields = { "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345=32 bytes" } },
        { ARGS("--field", "X=\"quoted\" ] \\"), USER_NOTICE, .fields = { "X=\"quoted\" ] \\" } },
        { ARGS("--octet-count", "--field", "TRACE=a\nb", "x"), USER_NOTICE, .fields = { "TRACE=a\nb" },
          .octet_count = true, .n_messages = 1 },
        { ARGS("--field", "TRACE=a\nb", "--octet-count"), USER_NOTICE, .fields = { "TRACE=a\nb" },
          .octet_count = true },
        { ARGS("--octet-count", "-", "two\nlines"), USER_NOTICE, .octet_count = true, .n_messages = 2 },
        { ARGS("--priority", "local0.warning", "--tag", "myapp", "--field", "ORDER_ID=4711", "disk almost full"),
          PRI(16, 4), .tag = "myapp", .fields = { "ORDER_ID=4711" }, .n_messages = 1 },
};

static void syslog_options_parse(void **state) {
        struct fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(syslog_cases); i++) {
                const struct syslog_case *c = &syslog_cases[i];
                const struct client_options *o = &x->options;
                int status, n = 0;

                assert_int_equal(open_streams(x), 0);
                status = parse(x, c->args);
                if (status != CLIENT_CONTINUE)
                        fail_msg("%s %s: status %d, err '%s'", c->args[0], c->args[1] ? c->args[1] : "", status,
                                 err_text(x));
                if (!o->syslog || o->facility != c->facility || o->severity != c->severity ||
                    o->octet_count != c->octet_count || o->n_messages != c->n_messages)
                        fail_msg("%s %s: syslog %d facility %d severity %d octets %d messages %d", c->args[0],
                                 c->args[1] ? c->args[1] : "", o->syslog, o->facility, o->severity, o->octet_count,
                                 o->n_messages);
                check_string(c->args[0], "tag", o->tag, c->tag);
                while (c->fields[n])
                        n++;
                assert_int_equal(o->n_fields, n);
                for (int f = 0; f < n; f++)
                        check_string(c->args[0], "field", o->fields[f], c->fields[f]);
                check_string(c->args[0], "errors", err_text(x), "");
        }
}

/* ------------------------------------------------------------------------ */
/* The TLS options: what they set, and nothing else. */

struct tls_case {
        const char *const *args;
        const char *ca, *certificate, *key;
        int n_messages;
};

static const struct tls_case tls_cases[] = {
        { ARGS("--tls"), .n_messages = 0 },
        { ARGS("--tls", "m"), .n_messages = 1 },
        { ARGS("--tls", "--tls-ca", "/etc/ca.pem"), .ca = "/etc/ca.pem" },
        { ARGS("--tls-ca=ca.pem", "--tls"), .ca = "ca.pem" },
        { ARGS("--tls", "--tls-certificate", "c.pem", "--tls-key", "k.pem", "a", "b"), .certificate = "c.pem",
          .key = "k.pem", .n_messages = 2 },
        { ARGS("--tls-key=k.pem", "--tls-certificate=c.pem", "--tls-ca=ca.pem", "--tls"), .ca = "ca.pem",
          .certificate = "c.pem", .key = "k.pem" },
        /* The last one counts. */
        { ARGS("--tls", "--tls-ca", "one.pem", "--tls-ca", "two.pem"), .ca = "two.pem" },
};

static void tls_options_parse(void **state) {
        struct fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(tls_cases); i++) {
                const struct tls_case *c = &tls_cases[i];
                const struct client_options *o = &x->options;
                int status;

                assert_int_equal(open_streams(x), 0);
                status = parse(x, c->args);
                if (status != CLIENT_CONTINUE)
                        fail_msg("%s %s: status %d, err '%s'", c->args[0], c->args[1] ? c->args[1] : "", status,
                                 err_text(x));
                if (!o->tls || o->syslog || o->n_messages != c->n_messages)
                        fail_msg("%s: tls %d syslog %d messages %d", c->args[0], o->tls, o->syslog, o->n_messages);
                check_string(c->args[0], "ca", o->tls_files.ca, c->ca);
                check_string(c->args[0], "certificate", o->tls_files.certificate, c->certificate);
                check_string(c->args[0], "key", o->tls_files.key, c->key);
                check_string(c->args[0], "errors", err_text(x), "");
        }
}

/* ------------------------------------------------------------------------ */
/* --udp: alone, with the syslog options, and a field value with a LF (a
 * datagram needs no line end, so no --octet-count either). */

struct udp_case {
        const char *const *args;
        bool syslog;
        int n_messages;
};

static const struct udp_case udp_cases[] = {
        { ARGS("--udp"), .syslog = false },
        { ARGS("--udp", "m", "-"), .n_messages = 2 },
        { ARGS("-p", "5140", "--udp", "-H", "::1", "m"), .n_messages = 1 },
        { ARGS("--udp", "--tag", "router", "--priority", "local7.err", "m"), .syslog = true, .n_messages = 1 },
        { ARGS("--field", "TRACE=a\nb", "--udp"), .syslog = true },
        { ARGS("--udp", "--udp", "-t", "2"), .syslog = false },
};

static void udp_options_parse(void **state) {
        struct fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(udp_cases); i++) {
                const struct udp_case *c = &udp_cases[i];
                const struct client_options *o = &x->options;
                int status;

                assert_int_equal(open_streams(x), 0);
                status = parse(x, c->args);
                if (status != CLIENT_CONTINUE)
                        fail_msg("case %zu: status %d, err '%s'", i, status, err_text(x));
                if (!o->udp || o->tls || o->octet_count || o->ping || o->syslog != c->syslog ||
                    o->n_messages != c->n_messages)
                        fail_msg("case %zu: udp %d tls %d octets %d ping %d syslog %d messages %d", i, o->udp, o->tls,
                                 o->octet_count, o->ping, o->syslog, o->n_messages);
                check_string(c->args[0], "errors", err_text(x), "");
        }
}

/* As many fields as harkd logs of one message, and not one more. */
static void at_most_64_fields(void **state) {
        struct fixture *x = *state;
        char *argv[2 * CLIENT_FIELDS_MAX + 4], names[CLIENT_FIELDS_MAX + 1][16];
        int argc = 0;

        argv[argc++] = "hark";
        for (int i = 0; i <= CLIENT_FIELDS_MAX; i++) {
                snprintf(names[i], sizeof(names[i]), "F%d=%d", i, i);
                argv[argc++] = "--field";
                argv[argc++] = names[i];
        }
        argv[argc] = NULL;
        assert_int_equal(client_parse_args(argc - 2, argv, &x->options, x->out, x->err), CLIENT_CONTINUE);
        assert_int_equal(x->options.n_fields, CLIENT_FIELDS_MAX);
        assert_string_equal(x->options.fields[CLIENT_FIELDS_MAX - 1], "F63=63");
        assert_int_equal(client_parse_args(argc, argv, &x->options, x->out, x->err), EX_USAGE);
        assert_string_equal(err_text(x), "hark: more than 64 --field options (harkd logs no more fields of a message)"
                                         "\nTry 'hark --help'.\n");
}

/* ------------------------------------------------------------------------ */
/* Usage errors: status 64 and one exact message on err, nothing on out. */

struct usage_case {
        const char *const *args;
        const char *error;
};

#define TRY "\nTry 'hark --help'.\n"

static const struct usage_case usage_cases[] = {
        { ARGS("-p", "0"), "hark: invalid port '0' (1-65535)" TRY },
        { ARGS("-p", "65536"), "hark: invalid port '65536' (1-65535)" TRY },
        { ARGS("-p", "abc"), "hark: invalid port 'abc' (1-65535)" TRY },
        { ARGS("-p", "-1"), "hark: invalid port '-1' (1-65535)" TRY },
        { ARGS("-p", "80x"), "hark: invalid port '80x' (1-65535)" TRY },
        { ARGS("-p", ""), "hark: invalid port '' (1-65535)" TRY },
        { ARGS("--port=99999999999999999999"), "hark: invalid port '99999999999999999999' (1-65535)" TRY },
        { ARGS("-t", "0"), "hark: invalid timeout '0' (seconds, > 0)" TRY },
        { ARGS("-t", "-1"), "hark: invalid timeout '-1' (seconds, > 0)" TRY },
        { ARGS("-t", "-0.5"), "hark: invalid timeout '-0.5' (seconds, > 0)" TRY },
        { ARGS("-t", "abc"), "hark: invalid timeout 'abc' (seconds, > 0)" TRY },
        { ARGS("-t", "1.5s"), "hark: invalid timeout '1.5s' (seconds, > 0)" TRY },
        { ARGS("-t", ""), "hark: invalid timeout '' (seconds, > 0)" TRY },
        { ARGS("-t", "nan"), "hark: invalid timeout 'nan' (seconds, > 0)" TRY },
        { ARGS("-t", "inf"), "hark: invalid timeout 'inf' (seconds, > 0)" TRY },
        { ARGS("--timeout", "86401"), "hark: invalid timeout '86401' (seconds, > 0)" TRY },
        { ARGS("-H", ""), "hark: empty host" TRY },
        { ARGS("--ping", "hello"), "hark: --ping takes no messages" TRY },
        { ARGS("--ping", "-"), "hark: --ping takes no messages" TRY },
        { ARGS("--bogus"), "hark: unknown option '--bogus'" TRY },
        { ARGS("-x"), "hark: unknown option '-x'" TRY },
        { ARGS("-P"), "hark: unknown option '-P'" TRY },
        { ARGS("-H", "h", "-x", "message"), "hark: unknown option '-x'" TRY },
        /* getopt_long() gives these the option's code as if it were a letter. */
        { ARGS("--ping=yes"), "hark: option '--ping' takes no value" TRY },
        { ARGS("--help=me"), "hark: option '--help' takes no value" TRY },
        { ARGS("--version="), "hark: option '--version' takes no value" TRY },
        { ARGS("--host=a", "-xV"), "hark: unknown option '-x'" TRY },
};

#define FACILITIES "(kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, " \
                   "local0 to local7, or 0-23)"
#define LEVELS "(emerg, alert, crit, err, warning, notice, info, debug, or 0-7)"
#define A_NAME "a journal field name is A-Z, 0-9 and '_', starting with a letter"
#define RESERVED "reserved, harkd or journald sets it " \
                 "(_*, MESSAGE, PRIORITY, SYSLOG_*, REMOTE_*, HARK_*, OBJECT_*, COREDUMP_*)"

static const struct usage_case syslog_usage_cases[] = {
        { ARGS("--priority", "bogus"), "hark: invalid priority 'bogus': unknown level 'bogus' " LEVELS TRY },
        { ARGS("--priority", ""), "hark: invalid priority '': unknown level '' " LEVELS TRY },
        { ARGS("--priority", "8"), "hark: invalid priority '8': unknown level '8' " LEVELS TRY },
        { ARGS("--priority", "-1"), "hark: invalid priority '-1': unknown level '-1' " LEVELS TRY },
        { ARGS("--priority", " 3"), "hark: invalid priority ' 3': unknown level ' 3' " LEVELS TRY },
        { ARGS("--priority", "INFO"), "hark: invalid priority 'INFO': unknown level 'INFO' " LEVELS TRY },
        { ARGS("--priority", "local0"),
          "hark: invalid priority 'local0': a facility alone, give a level too, as in local0.info" TRY },
        { ARGS("--priority", "local0."), "hark: invalid priority 'local0.': unknown level '' " LEVELS TRY },
        { ARGS("--priority", "local0.warning.x"),
          "hark: invalid priority 'local0.warning.x': unknown level 'warning.x' " LEVELS TRY },
        { ARGS("--priority", ".info"), "hark: invalid priority '.info': unknown facility '' " FACILITIES TRY },
        { ARGS("--priority", "local8.info"),
          "hark: invalid priority 'local8.info': unknown facility 'local8' " FACILITIES TRY },
        { ARGS("--priority", "24.info"), "hark: invalid priority '24.info': unknown facility '24' " FACILITIES TRY },
        { ARGS("--priority", "averyveryverylongfacility.info"),
          "hark: invalid priority 'averyveryverylongfacility.info': unknown facility 'averyveryverylongfacility' "
          FACILITIES TRY },
        { ARGS("--tag", ""), "hark: invalid tag '' (1-48 printable ASCII characters, no spaces)" TRY },
        { ARGS("--tag", "my app"), "hark: invalid tag 'my app' (1-48 printable ASCII characters, no spaces)" TRY },
        { ARGS("--tag", "caf\xc3\xa9"),
          "hark: invalid tag 'caf\xc3\xa9' (1-48 printable ASCII characters, no spaces)" TRY },
        { ARGS("--tag", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklm"),
          "hark: invalid tag 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklm' "
          "(1-48 printable ASCII characters, no spaces)" TRY },
        { ARGS("--field", "ORDER_ID"), "hark: invalid field 'ORDER_ID' (expected KEY=VALUE)" TRY },
        { ARGS("--field", ""), "hark: invalid field '' (expected KEY=VALUE)" TRY },
        { ARGS("--field", "=4711"), "hark: invalid field '=4711': the name before '=' is empty" TRY },
        { ARGS("--field", "order_id=4711"), "hark: invalid field name 'order_id': " A_NAME TRY },
        { ARGS("--field", "1ST=x"), "hark: invalid field name '1ST': " A_NAME TRY },
        { ARGS("--field", "A-B=x"), "hark: invalid field name 'A-B': " A_NAME TRY },
        { ARGS("--field", "A B=x"), "hark: invalid field name 'A B': " A_NAME TRY },
        { ARGS("--field", "_PID=1"), "hark: invalid field name '_PID': " A_NAME TRY },
        { ARGS("--field", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456=x"),
          "hark: invalid field name 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456': longer than 32 bytes (RFC 5424's PARAM-NAME)"
          TRY },
        { ARGS("--field", "MESSAGE=x"), "hark: invalid field name 'MESSAGE': " RESERVED TRY },
        { ARGS("--field", "PRIORITY=0"), "hark: invalid field name 'PRIORITY': " RESERVED TRY },
        { ARGS("--field", "SYSLOG_IDENTIFIER=x"), "hark: invalid field name 'SYSLOG_IDENTIFIER': " RESERVED TRY },
        { ARGS("--field", "REMOTE_ADDR=1.2.3.4"), "hark: invalid field name 'REMOTE_ADDR': " RESERVED TRY },
        { ARGS("--field", "HARK_CONNECTION=1"), "hark: invalid field name 'HARK_CONNECTION': " RESERVED TRY },
        { ARGS("--field", "OBJECT_SYSTEMD_UNIT=ssh.service"),
          "hark: invalid field name 'OBJECT_SYSTEMD_UNIT': " RESERVED TRY },
        { ARGS("--field", "COREDUMP_UNIT=x"), "hark: invalid field name 'COREDUMP_UNIT': " RESERVED TRY },
        { ARGS("--field", "A=1", "--field", "TRACE=a\nb", "m"),
          "hark: the value of field 'TRACE' holds a newline: that needs --octet-count" TRY },
        { ARGS("--octet-count=yes"), "hark: option '--octet-count' takes no value" TRY },
        { ARGS("--octet=yes"), "hark: option '--octet' takes no value" TRY },
        { ARGS("--priority"), "hark: option '--priority' needs a value" TRY },
        { ARGS("--tag"), "hark: option '--tag' needs a value" TRY },
        { ARGS("--field"), "hark: option '--field' needs a value" TRY },
};

/* A TLS file is for --tls only, and a certificate goes with its key. */
static const struct usage_case tls_usage_cases[] = {
        { ARGS("--tls-ca", "ca.pem"), "hark: --tls-ca needs --tls" TRY },
        { ARGS("--tls-certificate", "c.pem", "--tls-key", "k.pem"), "hark: --tls-certificate needs --tls" TRY },
        { ARGS("--tls-key", "k.pem"), "hark: --tls-key needs --tls" TRY },
        { ARGS("--tls", "--tls-certificate", "c.pem"), "hark: --tls-certificate needs --tls-key" TRY },
        { ARGS("--tls", "--tls-ca", "ca.pem", "--tls-key", "k.pem", "m"),
          "hark: --tls-key needs --tls-certificate" TRY },
        { ARGS("--tls=yes"), "hark: option '--tls' takes no value" TRY },
        { ARGS("--tls", "--tls-ca"), "hark: option '--tls-ca' needs a value" TRY },
        { ARGS("--tls", "--tls-certificate"), "hark: option '--tls-certificate' needs a value" TRY },
        { ARGS("--tls", "--tls-key"), "hark: option '--tls-key' needs a value" TRY },
};

/* What UDP cannot do: TLS, octet frames, an answer to --ping. */
static const struct usage_case udp_usage_cases[] = {
        { ARGS("--udp", "--tls"), "hark: --tls and --udp exclude each other (TLS runs over TCP)" TRY },
        { ARGS("--tls", "--tls-ca", "ca.pem", "--udp", "m"),
          "hark: --tls and --udp exclude each other (TLS runs over TCP)" TRY },
        { ARGS("--udp", "--tls-ca", "ca.pem"), "hark: --tls-ca needs --tls" TRY },
        { ARGS("--octet-count", "--udp"),
          "hark: --octet-count frames a stream; with --udp each datagram is one message" TRY },
        { ARGS("--udp", "--ping"), "hark: --ping waits for an answer, which --udp never gets" TRY },
        { ARGS("--udp", "--ping", "m"), "hark: --ping takes no messages" TRY },
        { ARGS("--udp=yes"), "hark: option '--udp' takes no value" TRY },
};

/* Which option lacks its value, named as it was written. */
static const struct usage_case missing_value_cases[] = {
        { ARGS("-p"), "hark: option '-p' needs a value" TRY },
        { ARGS("-H"), "hark: option '-H' needs a value" TRY },
        { ARGS("-c"), "hark: option '-c' needs a value" TRY },
        { ARGS("-H", "h", "-t"), "hark: option '-t' needs a value" TRY },
        { ARGS("--port"), "hark: option '--port' needs a value" TRY },
        { ARGS("--timeout"), "hark: option '--timeout' needs a value" TRY },
};

/* An unknown letter inside a group of short options is named itself. */
static const struct usage_case unknown_in_group_cases[] = {
        { ARGS("-xV"), "hark: unknown option '-x'" TRY },
        { ARGS("-p", "1", "-xh"), "hark: unknown option '-x'" TRY },
};

static void check_usage_errors(struct fixture *x, const struct usage_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int status;

                assert_int_equal(open_streams(x), 0);
                status = parse(x, cases[i].args);
                if (status != EX_USAGE)
                        fail_msg("%s: status %d, expected %d (EX_USAGE)", cases[i].error, status, EX_USAGE);
                check_string(cases[i].args[0], "the error", err_text(x), cases[i].error);
                check_string(cases[i].args[0], "the output", out_text(x), "");
        }
}

static void bad_values_and_options_are_usage_errors(void **state) {
        check_usage_errors(*state, usage_cases, ELEMENTSOF(usage_cases));
}

static void bad_syslog_options_are_usage_errors(void **state) {
        check_usage_errors(*state, syslog_usage_cases, ELEMENTSOF(syslog_usage_cases));
}

static void bad_tls_options_are_usage_errors(void **state) {
        check_usage_errors(*state, tls_usage_cases, ELEMENTSOF(tls_usage_cases));
}

static void what_udp_cannot_do_is_a_usage_error(void **state) {
        check_usage_errors(*state, udp_usage_cases, ELEMENTSOF(udp_usage_cases));
}

static void an_option_without_its_value_is_named(void **state) {
        check_usage_errors(*state, missing_value_cases, ELEMENTSOF(missing_value_cases));
}

static void an_unknown_option_in_a_group_is_named(void **state) {
        check_usage_errors(*state, unknown_in_group_cases, ELEMENTSOF(unknown_in_group_cases));
}

/* ------------------------------------------------------------------------ */
/* --help and --version end the program with 0. */

static void help_prints_usage_on_out(void **state) {
        const char *const *const lines[] = { ARGS("--help"), ARGS("-h"), ARGS("-p", "1", "-h", "msg") };
        struct fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                assert_int_equal(open_streams(x), 0);
                assert_int_equal(parse(x, lines[i]), EX_OK);
                assert_true(strncmp(out_text(x), "Usage: hark ", strlen("Usage: hark ")) == 0);
                assert_non_null(strstr(out_text(x), HARK_DEFAULT_CONFIG));
                assert_string_equal(err_text(x), "");
        }
}

static void version_prints_the_version_on_out(void **state) {
        const char *const *const lines[] = { ARGS("--version"), ARGS("-V") };
        struct fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                assert_int_equal(open_streams(x), 0);
                assert_int_equal(parse(x, lines[i]), EX_OK);
                fflush(x->out);
                assert_int_equal(x->out_size, strlen("hark " HARK_VERSION "\n"));
                assert_string_equal(out_text(x), "hark " HARK_VERSION "\n");
                assert_string_equal(err_text(x), "");
        }
}

/* getopt keeps state between calls: each parse must start afresh, also after
 * one that stopped inside a group of short options. */
static void each_parse_starts_afresh(void **state) {
        struct fixture *x = *state;

        assert_int_equal(parse(x, ARGS("-H", "first", "-t", "2", "message")), CLIENT_CONTINUE);
        assert_int_equal(parse(x, ARGS("-Vx")), EX_OK);
        assert_int_equal(parse(x, ARGS("-p")), EX_USAGE);
        assert_int_equal(parse(x, ARGS("-p", "3", "only")), CLIENT_CONTINUE);
        assert_null(x->options.host);
        assert_string_equal(x->options.port, "3");
        assert_true(x->options.timeout == CLIENT_DEFAULT_TIMEOUT);
        assert_int_equal(x->options.n_messages, 1);
        assert_string_equal(x->options.messages[0], "only");
}

/* ------------------------------------------------------------------------ */
/* client_resolve_target(): host and port from the command line, the config,
 * or the built-in defaults. */

static const char *path_in(struct fixture *x, const char *name) {
        snprintf(x->path, sizeof(x->path), "%s/%s", x->dir, name);
        return x->path;
}

static const char *write_config(struct fixture *x, const char *text) {
        const char *path = path_in(x, "harkd.conf");
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        assert_true(fputs(text, f) >= 0);
        assert_int_equal(fclose(f), 0);
        return path;
}

/* Options as a command line without -H and -p leaves them. */
static void use_config(struct fixture *x, const char *path, bool given) {
        assert_int_equal(parse(x, NO_ARGS), CLIENT_CONTINUE);
        x->options.config_path = path;
        x->options.config_given = given;
}

static void with_host_and_port_given_no_config_is_read(void **state) {
        struct fixture *x = *state;

        assert_int_equal(parse(x, ARGS("-H", "192.0.2.1", "-p", "7", "-c", path_in(x, "missing.conf"))),
                         CLIENT_CONTINUE);
        assert_int_equal(client_resolve_target(&x->options, x->err), 0);
        assert_string_equal(x->options.host, "192.0.2.1");
        assert_string_equal(x->options.port, "7");
        assert_string_equal(err_text(x), "");
}

struct target_case {
        const char *config;             /* the file's text */
        const char *host_arg, *port_arg; /* as if given with -H, -p; or NULL */
        const char *host, *port;        /* the result */
};

static const struct target_case target_cases[] = {
        { "host = \"192.0.2.7\";\nport = 4242;\n", NULL, NULL, "192.0.2.7", "4242" },
        { "host = \"harkd.example.org\";\n", NULL, NULL, "harkd.example.org", "10001" },
        { "port = 2000;\n", NULL, NULL, "127.0.0.1", "2000" },
        { "", NULL, NULL, "127.0.0.1", "10001" },
        { "host = \"0.0.0.0\";\nport = 3000;\n", NULL, NULL, "127.0.0.1", "3000" },
        { "host = \"::\";\nport = 3001;\n", NULL, NULL, "::1", "3001" },
        { "host = \"::1\";\n", NULL, NULL, "::1", "10001" },
        { "host = \"192.0.2.7\";\nport = 4242;\n", "cli-host", NULL, "cli-host", "4242" },
        { "host = \"192.0.2.7\";\nport = 4242;\n", NULL, "99", "192.0.2.7", "99" },
};

static void host_and_port_come_from_the_config(void **state) {
        struct fixture *x = *state;

        for (size_t i = 0; i < ELEMENTSOF(target_cases); i++) {
                const struct target_case *c = &target_cases[i];
                int status;

                use_config(x, write_config(x, c->config), true);
                x->options.host = c->host_arg;
                x->options.port = c->port_arg;
                status = client_resolve_target(&x->options, x->err);
                if (status != 0)
                        fail_msg("'%s': status %d, err '%s'", c->config, status, err_text(x));
                check_string(c->config, "host", x->options.host, c->host);
                check_string(c->config, "port", x->options.port, c->port);
                check_string(c->config, "errors", err_text(x), "");
        }
}

/* With --tls the port is the config's tls_port, else syslog over TLS's. */
static const struct target_case tls_target_cases[] = {
        { "host = \"192.0.2.7\";\nport = 4242;\ntls_port = 6600;\ntls_certificate = \"/c.pem\";\n"
          "tls_key = \"/k.pem\";\n", NULL, NULL, "192.0.2.7", "6600" },
        { "host = \"192.0.2.7\";\nport = 4242;\n", NULL, NULL, "192.0.2.7", "6514" },
        { "", NULL, NULL, "127.0.0.1", "6514" },
        { "tls_port = 6600;\ntls_certificate = \"/c.pem\";\ntls_key = \"/k.pem\";\n", NULL, "99", "127.0.0.1",
          "99" },
        { "host = \"::\";\ntls_port = 7000;\ntls_certificate = \"/c.pem\";\ntls_key = \"/k.pem\";\n", NULL, NULL,
          "::1", "7000" },
};

/* Resolves each case with --udp, else --tls, and checks the target. */
static void check_target_cases(struct fixture *x, const struct target_case *cases, size_t n, bool udp) {
        for (size_t i = 0; i < n; i++) {
                const struct target_case *c = &cases[i];
                int status;

                use_config(x, write_config(x, c->config), true);
                x->options.tls = !udp;
                x->options.udp = udp;
                x->options.host = c->host_arg;
                x->options.port = c->port_arg;
                status = client_resolve_target(&x->options, x->err);
                if (status != 0)
                        fail_msg("'%s': status %d, err '%s'", c->config, status, err_text(x));
                check_string(c->config, "host", x->options.host, c->host);
                check_string(c->config, "port", x->options.port, c->port);
                check_string(c->config, "errors", err_text(x), "");
        }
        /* No config at all. */
        use_config(x, path_in(x, "missing.conf"), false);
        x->options.tls = !udp;
        x->options.udp = udp;
        assert_int_equal(client_resolve_target(&x->options, x->err), 0);
        assert_string_equal(x->options.host, "127.0.0.1");
        assert_string_equal(x->options.port, udp ? "514" : "6514");
}

static void with_tls_the_port_is_the_tls_port(void **state) {
        check_target_cases(*state, tls_target_cases, ELEMENTSOF(tls_target_cases), false);
}

/* With --udp the port is the config's udp_port, else syslog's (514); -p
 * wins, as with --tls. */
static const struct target_case udp_target_cases[] = {
        { "host = \"192.0.2.7\";\nport = 4242;\nudp_port = 5140;\n", NULL, NULL, "192.0.2.7", "5140" },
        { "host = \"192.0.2.7\";\nport = 4242;\n", NULL, NULL, "192.0.2.7", "514" },
        { "", NULL, NULL, "127.0.0.1", "514" },
        { "udp_port = 5140;\n", NULL, "99", "127.0.0.1", "99" },
        { "udp_port = 5140;\n", "cli-host", NULL, "cli-host", "5140" },
        { "host = \"::\";\nudp_port = 5141;\n", NULL, NULL, "::1", "5141" },
        { "host = \"0.0.0.0\";\nudp_port = 5142;\ntls_port = 6600;\ntls_certificate = \"/c.pem\";\n"
          "tls_key = \"/k.pem\";\n", NULL, NULL, "127.0.0.1", "5142" },
};

static void with_udp_the_port_is_the_udp_port(void **state) {
        check_target_cases(*state, udp_target_cases, ELEMENTSOF(udp_target_cases), true);
}

static void a_missing_default_config_falls_back_to_loopback(void **state) {
        struct fixture *x = *state;

        use_config(x, path_in(x, "missing.conf"), false);
        assert_int_equal(client_resolve_target(&x->options, x->err), 0);
        assert_string_equal(x->options.host, "127.0.0.1");
        assert_string_equal(x->options.port, "10001");
        assert_string_equal(err_text(x), "");
}

static void a_missing_config_given_with_c_is_a_config_error(void **state) {
        struct fixture *x = *state;
        char want[PATH_MAX + 64];

        assert_int_equal(parse(x, ARGS("-c", path_in(x, "missing.conf"))), CLIENT_CONTINUE);
        snprintf(want, sizeof(want), "hark: %s: No such file or directory\n", x->path);
        assert_int_equal(client_resolve_target(&x->options, x->err), EX_CONFIG);
        assert_string_equal(err_text(x), want);
        assert_null(x->options.host);
        assert_null(x->options.port);
}

/* Only a missing default config is passed over: a broken one is an error
 * whether or not -c named it. */
static void an_invalid_config_is_a_config_error_naming_file_line_and_key(void **state) {
        static const bool given[] = { true, false };
        struct fixture *x = *state;
        char want[PATH_MAX + 128];

        for (size_t i = 0; i < ELEMENTSOF(given); i++) {
                const char *path = write_config(x, "host = \"192.0.2.7\";\nport = 0;\n");

                snprintf(want, sizeof(want), "hark: %s:2: port: 0 is out of range (1-65535)\n", path);
                use_config(x, path, given[i]);
                assert_int_equal(open_streams(x), 0);
                assert_int_equal(client_resolve_target(&x->options, x->err), EX_CONFIG);
                assert_string_equal(err_text(x), want);
                assert_null(x->options.host);
                assert_null(x->options.port);
        }
}

int main(void) {
        static const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(defaults_without_arguments, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(command_lines_that_parse, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(bad_values_and_options_are_usage_errors, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(syslog_options_parse, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(at_most_64_fields, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(bad_syslog_options_are_usage_errors, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(tls_options_parse, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(bad_tls_options_are_usage_errors, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(udp_options_parse, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(what_udp_cannot_do_is_a_usage_error, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(an_option_without_its_value_is_named, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(an_unknown_option_in_a_group_is_named, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(help_prints_usage_on_out, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(version_prints_the_version_on_out, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(each_parse_starts_afresh, fixture_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(with_host_and_port_given_no_config_is_read, files_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(host_and_port_come_from_the_config, files_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(with_tls_the_port_is_the_tls_port, files_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(with_udp_the_port_is_the_udp_port, files_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(a_missing_default_config_falls_back_to_loopback, files_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(a_missing_config_given_with_c_is_a_config_error, files_setup, fixture_teardown),
                cmocka_unit_test_setup_teardown(an_invalid_config_is_a_config_error_naming_file_line_and_key,
                                                files_setup, fixture_teardown),
        };

        return hark_test_main("client", tests);
}
