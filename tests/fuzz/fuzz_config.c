/* sources: src/config.c src/config_source.c src/framer.c src/pending.c src/allowlist.c */
/* libFuzzer target: the config parser (src/config.c, reading through
 * src/config_source.c), hark_config_load_string() on arbitrary text:
 * harkd's own scan of the text (comments, strings,
 * integer literals, @include lines) in front of libconfig, then every key's
 * type and bounds.
 *
 * Invariants: the load either fails with -EINVAL or -EFBIG, an error that
 * names the source ("fuzz.conf:") and a config left exactly as it was; or
 * succeeds with every value within its bounds: port 1-65535, backlog >= 1, a
 * finite timeout 0-2147483, a known mode, log target, framing and format,
 * workers 0-1024, max_connections 1-2^20, max_connections_per_source
 * 0-2^20, max_message_size 1-64 MiB, priority 0-7, host and identifier of
 * 1-255 bytes of valid UTF-8 without control characters, host without
 * spaces. A loaded config written back as text loads to the same config.
 * Loading is deterministic. And libconfig never opens a file: a config given
 * as text cannot include one, so any fopen() while loading (libconfig's way
 * to follow an @include that harkd's scan missed) is a failure.
 *
 * Build: `make fuzz` (see the Makefile), or by hand:
 *   clang -std=gnu11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
 *         tests/fuzz/fuzz_config.c src/config.c src/config_source.c src/framer.c -lconfig \
 *         -o build/fuzz/fuzz_config
 *   build/fuzz/fuzz_config -max_total_time=60 tests/fuzz/corpus/config */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "fuzz-check.h"

#define NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool loading;

/* libconfig 1.5's parser drops a string token it did not expect without
 * freeing it (no %destructor in its grammar): `port = 1 "x"` leaks the "x",
 * allocated in its scanner (strbuf_append, or libconfig_yylex for ""). Its
 * bug, not this parser's; every other leak still fails the run. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
        return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* libconfig 1.5 opens an @include with fopen(). The resolver reads its own
 * files under /etc (gai.conf, hosts) the same way, which is fine. */
FILE *fopen(const char *path, const char *mode) {
        static FILE *(*real)(const char *, const char *);

        if (loading && strncmp(path, "/etc/", 5) != 0) {
                fprintf(stderr, "fopen(\"%s\") while loading a config given as text\n", path);
                abort();
        }
        if (!real)
                real = (FILE * (*) (const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
        fuzz_check(real);
        return real(path, mode);
}

/* An independent check of RFC 3629 UTF-8 (the parser has its own). */
static bool utf8_ok(const unsigned char *s) {
        while (*s) {
                size_t n;
                unsigned long cp;

                if (*s < 0x80) {
                        s++;
                        continue;
                }
                if ((*s & 0xe0) == 0xc0)
                        n = 1, cp = *s & 0x1f;
                else if ((*s & 0xf0) == 0xe0)
                        n = 2, cp = *s & 0x0f;
                else if ((*s & 0xf8) == 0xf0)
                        n = 3, cp = *s & 0x07;
                else
                        return false;
                for (size_t i = 1; i <= n; i++) {
                        if ((s[i] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i] & 0x3f);
                }
                if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                s += n + 1;
        }
        return true;
}

static void check_text_value(const char *s, bool host) {
        size_t n;

        fuzz_check(s);
        n = strlen(s);
        fuzz_check(n >= 1 && n <= 255);
        for (size_t i = 0; i < n; i++) {
                fuzz_check((unsigned char) s[i] >= ' ' && s[i] != 0x7f);
                fuzz_check(!host || s[i] != ' ');
        }
        fuzz_check(utf8_ok((const unsigned char *) s));
}

static void check_bounds(const struct hark_config *c) {
        check_text_value(c->host, true);
        check_text_value(c->identifier, false);
        fuzz_check(c->port >= 1 && c->port <= 65535);
        fuzz_check(c->backlog >= 1);
        fuzz_check(isfinite(c->timeout) && c->timeout >= 0 && c->timeout <= 2147483);
        fuzz_check((unsigned) c->concurrency <= MODE_EPOLL);
        fuzz_check(c->workers >= 0 && c->workers <= 1024);
        fuzz_check(c->max_connections >= 1 && c->max_connections <= 1 << 20);
        fuzz_check(c->max_connections_per_source >= 0 && c->max_connections_per_source <= 1 << 20);
        fuzz_check(c->max_message_size >= 1 && c->max_message_size <= 64 * 1024 * 1024);
        fuzz_check(c->priority >= 0 && c->priority <= PRIORITY_MAX);
        fuzz_check((unsigned) c->log_target <= LOG_TARGET_STDERR);
        fuzz_check((unsigned) c->framing < FRAMING_COUNT);
        fuzz_check((unsigned) c->format <= FORMAT_SYSLOG);
}

static bool same_config(const struct hark_config *a, const struct hark_config *b) {
        return strcmp(a->host, b->host) == 0 && strcmp(a->identifier, b->identifier) == 0 && a->port == b->port &&
               a->backlog == b->backlog && a->timeout == b->timeout && a->concurrency == b->concurrency &&
               a->workers == b->workers && a->max_connections == b->max_connections &&
               a->max_connections_per_source == b->max_connections_per_source &&
               a->max_message_size == b->max_message_size && a->priority == b->priority &&
               a->log_target == b->log_target && a->framing == b->framing && a->format == b->format;
}

/* s as a libconfig string literal. */
static char *quote(char *out, const char *s) {
        *out++ = '"';
        for (; *s; s++) {
                if (*s == '"' || *s == '\\')
                        *out++ = '\\';
                *out++ = *s;
        }
        *out++ = '"';
        *out = 0;
        return out;
}

static const char *const mode_names[] = { "sequential", "thread", "pool", "fork", "epoll" };
static const char *const target_names[] = { "auto", "journal", "stderr" };
static const char *const format_names[] = { "auto", "raw", "syslog" };

/* Every value of c as a config text, and that text loads to c again. */
static void check_round_trip(const struct hark_config *c) {
        static char text[4096];
        struct hark_config again;
        char error[CONFIG_ERROR_MAX], *p = text;
        int r;

        p += sprintf(p, "host = ");
        p = quote(p, c->host);
        p += sprintf(p, ";\nidentifier = ");
        p = quote(p, c->identifier);
        p += sprintf(p, ";\nport = %d;\nbacklog = %d;\ntimeout = %.17g;\nconcurrency = \"%s\";\nworkers = %d;\n"
                        "max_connections = %d;\nmax_connections_per_source = %d;\nmax_message_size = %d;\n"
                        "priority = %d;\nlog_target = \"%s\";\nframing = \"%s\";\nformat = \"%s\";\n",
                     c->port, c->backlog, c->timeout, mode_names[c->concurrency], c->workers, c->max_connections,
                     c->max_connections_per_source, c->max_message_size, c->priority, target_names[c->log_target],
                     framing_name(c->framing), format_names[c->format]);
        hark_config_init(&again);
        loading = true;
        r = hark_config_load_string(&again, text, NAME, error);
        loading = false;
        if (r != 0)
                fprintf(stderr, "the written-back config was refused: %s\n%s", error, text);
        fuzz_check(r == 0);
        fuzz_check(same_config(c, &again));
        hark_config_done(&again);
}

static int load(struct hark_config *c, const char *text, char error[CONFIG_ERROR_MAX]) {
        int r;

        hark_config_init(c);
        memset(error, 0x55, CONFIG_ERROR_MAX);
        loading = true;
        r = hark_config_load_string(c, text, NAME, error);
        loading = false;
        return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = malloc(size + 1);
        char error[CONFIG_ERROR_MAX], again_error[CONFIG_ERROR_MAX];
        struct hark_config c, again, defaults;
        int r, r2;

        fuzz_check(text);
        memcpy(text, data, size);
        text[size] = 0;

        r = load(&c, text, error);
        if (r < 0) {
                fuzz_check(r == -EINVAL || r == -EFBIG);
                fuzz_check(memchr(error, 0, CONFIG_ERROR_MAX));
                fuzz_check(strncmp(error, NAME ":", strlen(NAME ":")) == 0);
                /* A failed load leaves the config as it was: the defaults. */
                hark_config_init(&defaults);
                fuzz_check(same_config(&c, &defaults));
                hark_config_done(&defaults);
        } else {
                fuzz_check(r == 0);
                check_bounds(&c);
                check_round_trip(&c);
        }

        r2 = load(&again, text, again_error);
        fuzz_check(r2 == r);
        fuzz_check(r < 0 ? strcmp(error, again_error) == 0 : same_config(&c, &again));

        hark_config_done(&again);
        hark_config_done(&c);
        free(text);
        return 0;
}
