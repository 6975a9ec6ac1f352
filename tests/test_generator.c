/* harkd-socket-generator's drop-ins: what systemd will read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "generator.h"

struct fixture {
        char dir[64];
        struct hark_config config;
};

static int setup(void **state) {
        struct fixture *x = calloc(1, sizeof(*x));

        strcpy(x->dir, "/tmp/hark-generator-XXXXXX");
        assert_non_null(mkdtemp(x->dir));
        hark_config_init(&x->config);
        *state = x;
        return 0;
}

static int teardown(void **state) {
        struct fixture *x = *state;
        char command[128];

        snprintf(command, sizeof(command), "rm -rf '%s'", x->dir);
        assert_int_equal(system(command), 0);
        hark_config_done(&x->config);
        free(x);
        return 0;
}

static void read_dropin(const struct fixture *x, const char *unit, char *text, size_t size) {
        char path[256];
        FILE *f;
        size_t n;

        snprintf(path, sizeof(path), "%s/%s.d/50-harkd-conf.conf", x->dir, unit);
        f = fopen(path, "re");
        assert_non_null(f);
        n = fread(text, 1, size - 1, f);
        text[n] = 0;
        fclose(f);
}

static void generate(struct fixture *x, const char *host, int port, int backlog) {
        char error[256] = "";

        free(x->config.host);
        x->config.host = strdup(host);
        x->config.port = port;
        x->config.backlog = backlog;
        if (generator_write_dropins(&x->config, x->dir, error, sizeof(error)) != 0)
                fail_msg("generator failed: %s", error);
}

static void assert_dropin_body(const struct fixture *x, const char *body) {
        static const char *const units[] = GENERATOR_SOCKET_UNITS;
        char text[1024];

        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                read_dropin(x, units[i], text, sizeof(text));
                /* The first line is a comment for the admin who finds the file. */
                assert_string_equal(strchr(text, '\n') + 1, body);
        }
}

static void ipv4_address_and_backlog_replace_the_units_own(void **state) {
        struct fixture *x = *state;

        generate(x, "127.0.0.1", 10002, 77);
        assert_dropin_body(x, "[Socket]\nListenStream=\nListenStream=127.0.0.1:10002\nBacklog=77\n");
}

static void ipv6_address_is_bracketed(void **state) {
        struct fixture *x = *state;

        generate(x, "::", 4711, 4096);
        assert_dropin_body(x, "[Socket]\nListenStream=\nListenStream=[::]:4711\nBacklog=4096\n");
}

static void running_twice_overwrites(void **state) {
        struct fixture *x = *state;

        generate(x, "127.0.0.1", 1000, 1);
        generate(x, "127.0.0.1", 2000, 2);
        assert_dropin_body(x, "[Socket]\nListenStream=\nListenStream=127.0.0.1:2000\nBacklog=2\n");
}

static void unresolvable_host_is_an_error_and_leaves_no_dropin(void **state) {
        struct fixture *x = *state;
        char error[256] = "", path[256];

        free(x->config.host);
        x->config.host = strdup("no-such-host.invalid");
        assert_int_not_equal(generator_write_dropins(&x->config, x->dir, error, sizeof(error)), 0);
        assert_non_null(strstr(error, "no-such-host.invalid"));
        snprintf(path, sizeof(path), "%s/harkd.socket.d/50-harkd-conf.conf", x->dir);
        assert_int_not_equal(access(path, F_OK), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(ipv4_address_and_backlog_replace_the_units_own, setup, teardown),
                cmocka_unit_test_setup_teardown(ipv6_address_is_bracketed, setup, teardown),
                cmocka_unit_test_setup_teardown(running_twice_overwrites, setup, teardown),
                cmocka_unit_test_setup_teardown(unresolvable_host_is_an_error_and_leaves_no_dropin, setup, teardown),
        };

        return hark_test_main("generator", tests);
}
