/* harkd-socket-generator's output: exactly the files systemd will read. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "generator.h"

#define HEADER "# Written by harkd-socket-generator from harkd.conf: edit that file instead.\n"

struct fixture {
        char dir[64];
        char path[PATH_MAX];
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

/* DIR/name, valid until the next call. */
static const char *path_in(struct fixture *x, const char *name) {
        snprintf(x->path, sizeof(x->path), "%s/%s", x->dir, name);
        return x->path;
}

static bool exists(struct fixture *x, const char *name) {
        struct stat st;

        return lstat(path_in(x, name), &st) == 0;
}

/* The whole of DIR/name (which must exist) into text. */
static void read_output(struct fixture *x, const char *name, char *text, size_t size) {
        FILE *f = fopen(path_in(x, name), "re");
        size_t n;

        if (!f)
                fail_msg("%s was not written", x->path);
        n = fread(text, 1, size - 1, f);
        text[n] = 0;
        assert_true(feof(f));
        fclose(f);
}

static void assert_output(struct fixture *x, const char *name, const char *want) {
        char text[8192];

        read_output(x, name, text, sizeof(text));
        if (strcmp(text, want) != 0)
                fail_msg("%s is\n%s\nexpected\n%s", name, text, want);
}

/* Loads text as harkd.conf into the fixture's config. */
static void configure(struct fixture *x, const char *text) {
        char error[CONFIG_ERROR_MAX];

        if (hark_config_load_string(&x->config, text, "harkd.conf", error) != 0)
                fail_msg("test config: %s", error);
}

static void run(struct fixture *x) {
        char error[256] = "";

        if (generator_write_units(&x->config, x->dir, error, sizeof(error)) != 0)
                fail_msg("generator failed: %s", error);
}

static void generate(struct fixture *x, const char *host, int port, int backlog) {
        free(x->config.host);
        x->config.host = strdup(host);
        x->config.port = port;
        x->config.backlog = backlog;
        run(x);
}

/* Each socket unit's drop-in is the header and then body. */
static void assert_dropin_body(struct fixture *x, const char *body) {
        static const char *const units[] = GENERATOR_SOCKET_UNITS;
        char name[128], want[8192];

        snprintf(want, sizeof(want), HEADER "%s", body);
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                snprintf(name, sizeof(name), "%s.d/" GENERATOR_DROPIN, units[i]);
                assert_output(x, name, want);
        }
}

static void assert_no_tls(struct fixture *x) {
        assert_false(exists(x, GENERATOR_TLS_SOCKET));
        assert_false(exists(x, "sockets.target.wants/" GENERATOR_TLS_SOCKET));
        assert_false(exists(x, "harkd.service.d/" GENERATOR_DROPIN));
}

static void ipv4_address_and_backlog_replace_the_units_own(void **state) {
        struct fixture *x = *state;

        generate(x, "127.0.0.1", 10002, 77);
        assert_dropin_body(x, "[Socket]\nListenStream=\nListenStream=127.0.0.1:10002\nBacklog=77\n");
        /* Neither an allow list nor TLS: nothing of either. */
        assert_no_tls(x);
        assert_false(exists(x, "harkd.service.d"));
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
        char error[256] = "";

        free(x->config.host);
        x->config.host = strdup("no-such-host.invalid");
        assert_int_not_equal(generator_write_units(&x->config, x->dir, error, sizeof(error)), 0);
        assert_non_null(strstr(error, "no-such-host.invalid"));
        assert_false(exists(x, "harkd.socket.d/" GENERATOR_DROPIN));
}

/* ---- allow: the kernel's filter on the socket units --------------------- */

static void allow_becomes_the_socket_units_ip_filter(void **state) {
        struct fixture *x = *state;

        configure(x, "host = \"127.0.0.1\";\nport = 3000;\nbacklog = 8;\n"
                     "allow = [ \"127.0.0.1\", \"10.0.0.0/8\", \"2001:DB8:0::/32\", \"::1\", \"0.0.0.0/0\" ];\n");
        run(x);
        /* Each rule as IPAddressAllow= takes it; the empty assignment first
         * replaces what the units or earlier drop-ins allowed. */
        assert_dropin_body(x, "[Socket]\nListenStream=\nListenStream=127.0.0.1:3000\nBacklog=8\n"
                              "IPAddressAllow=\n"
                              "IPAddressAllow=127.0.0.1/32\n"
                              "IPAddressAllow=10.0.0.0/8\n"
                              "IPAddressAllow=2001:db8::/32\n"
                              "IPAddressAllow=::1/128\n"
                              "IPAddressAllow=0.0.0.0/0\n"
                              "IPAddressDeny=any\n");
        /* The filter is the sockets' business: no service drop-in for it. */
        assert_false(exists(x, "harkd.service.d"));
}

/* The kernel sees a mapped peer as IPv4 too: the rule is written as one. */
static void an_ipv4_mapped_rule_is_written_as_ipv4(void **state) {
        struct fixture *x = *state;

        configure(x, "port = 3000;\nallow = [ \"::ffff:192.0.2.1\" ];\n");
        run(x);
        assert_dropin_body(x, "[Socket]\nListenStream=\nListenStream=127.0.0.1:3000\nBacklog=4096\n"
                              "IPAddressAllow=\nIPAddressAllow=192.0.2.1/32\nIPAddressDeny=any\n");
}

static void every_one_of_1024_rules_is_written(void **state) {
        struct fixture *x = *state;
        char *text = malloc(64 * 1024), line[64], *out;
        size_t used;
        FILE *f;
        long size;

        assert_non_null(text);
        used = (size_t) sprintf(text, "allow = [");
        for (int i = 0; i < ALLOWLIST_MAX; i++)
                used += (size_t) sprintf(text + used, "%s\"10.%d.%d.0/24\"", i ? ", " : "", i / 256, i % 256);
        sprintf(text + used, " ];\n");
        configure(x, text);
        free(text);
        run(x);

        f = fopen(path_in(x, "harkd.socket.d/" GENERATOR_DROPIN), "re");
        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        size = ftell(f);
        rewind(f);
        out = calloc(1, (size_t) size + 1);
        assert_non_null(out);
        assert_int_equal(fread(out, 1, (size_t) size, f), (size_t) size);
        fclose(f);
        for (int i = 0; i < ALLOWLIST_MAX; i++) {
                snprintf(line, sizeof(line), "\nIPAddressAllow=10.%d.%d.0/24\n", i / 256, i % 256);
                if (!strstr(out, line))
                        fail_msg("rule %d (%s) missing", i + 1, line + 1);
        }
        assert_non_null(strstr(out, "/24\nIPAddressDeny=any\n"));
        free(out);
}

/* ---- tls_port: a socket unit of its own, passed to harkd.service -------- */

#define TLS_KEYS "tls_certificate = \"/etc/hark/cert.pem\";\ntls_key = \"/etc/hark/key.pem\";\n"

static const char tls_unit_head[] =
        HEADER
        "[Unit]\n"
        "Description=hark: TCP messages into the journal over TLS (socket)\n"
        "Documentation=man:harkd(8) man:harkd.conf(5)\n"
        "\n"
        "[Socket]\n";

static const char service_dropin[] =
        HEADER
        "[Unit]\n"
        "Wants=harkd-tls.socket\n"
        "After=harkd-tls.socket\n"
        "\n"
        "[Service]\n"
        "Sockets=harkd.socket harkd-tls.socket\n";

static void tls_port_gets_a_socket_unit_named_tls(void **state) {
        struct fixture *x = *state;
        char want[4096], target[PATH_MAX];
        struct stat st;
        ssize_t n;

        configure(x, "host = \"127.0.0.1\";\nport = 514;\nbacklog = 64;\ntls_port = 6514;\n" TLS_KEYS);
        run(x);
        snprintf(want, sizeof(want), "%sListenStream=127.0.0.1:6514\nBacklog=64\nFileDescriptorName=tls\n"
                                     "Service=harkd.service\n", tls_unit_head);
        assert_output(x, GENERATOR_TLS_SOCKET, want);
        /* Enabled from the generator's directory, the link resolving there. */
        n = readlink(path_in(x, "sockets.target.wants/" GENERATOR_TLS_SOCKET), target, sizeof(target) - 1);
        assert_true(n > 0);
        target[n] = 0;
        assert_string_equal(target, "../harkd-tls.socket");
        assert_int_equal(stat(x->path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_output(x, "harkd.service.d/" GENERATOR_DROPIN, service_dropin);
        /* The plain socket keeps its default name and its own port. */
        assert_dropin_body(x, "[Socket]\nListenStream=\nListenStream=127.0.0.1:514\nBacklog=64\n");
}

static void the_tls_socket_listens_where_host_resolves_and_filters_alike(void **state) {
        struct fixture *x = *state;
        char want[4096];

        configure(x, "host = \"::\";\nport = 10001;\ntls_port = 6514;\n" TLS_KEYS
                     "allow = [ \"192.0.2.0/24\", \"2001:db8::/32\" ];\n");
        run(x);
        snprintf(want, sizeof(want), "%sListenStream=[::]:6514\nBacklog=4096\nFileDescriptorName=tls\n"
                                     "Service=harkd.service\n"
                                     "IPAddressAllow=\nIPAddressAllow=192.0.2.0/24\nIPAddressAllow=2001:db8::/32\n"
                                     "IPAddressDeny=any\n", tls_unit_head);
        assert_output(x, GENERATOR_TLS_SOCKET, want);
        assert_dropin_body(x, "[Socket]\nListenStream=\nListenStream=[::]:10001\nBacklog=4096\n"
                              "IPAddressAllow=\nIPAddressAllow=192.0.2.0/24\nIPAddressAllow=2001:db8::/32\n"
                              "IPAddressDeny=any\n");
        assert_output(x, "harkd.service.d/" GENERATOR_DROPIN, service_dropin);
}

/* A second run into the same directory writes exactly what its config says:
 * without tls_port the TLS unit, its link and the service drop-in go. */
static const char udp_unit_head[] =
        HEADER
        "[Unit]\n"
        "Description=hark: syslog datagrams into the journal (socket)\n"
        "Documentation=man:harkd(8) man:harkd.conf(5)\n"
        "\n"
        "[Socket]\n";

/* udp_port: a datagram socket unit of its own, so that its ReceiveBuffer=
 * never reaches the stream listener; with tls_port too the service takes
 * all three. */
static void udp_port_gets_a_datagram_socket_unit(void **state) {
        struct fixture *x = *state;
        char want[4096], target[PATH_MAX];
        ssize_t n;

        configure(x, "port = 3000;\nudp_port = 514;\nudp_receive_buffer = 1048576;\nallow = [ \"10.0.0.0/8\" ];\n");
        run(x);
        snprintf(want, sizeof(want), "%sListenDatagram=127.0.0.1:514\nReceiveBuffer=1048576\n"
                                     "FileDescriptorName=udp\nService=harkd.service\n"
                                     "IPAddressAllow=\nIPAddressAllow=10.0.0.0/8\nIPAddressDeny=any\n", udp_unit_head);
        assert_output(x, GENERATOR_UDP_SOCKET, want);
        n = readlink(path_in(x, "sockets.target.wants/" GENERATOR_UDP_SOCKET), target, sizeof(target) - 1);
        assert_true(n > 0);
        target[n] = 0;
        assert_string_equal(target, "../harkd-udp.socket");
        assert_output(x, "harkd.service.d/" GENERATOR_DROPIN,
                      HEADER "[Unit]\nWants=harkd-udp.socket\nAfter=harkd-udp.socket\n\n"
                      "[Service]\nSockets=harkd.socket harkd-udp.socket\n");
        assert_false(exists(x, GENERATOR_TLS_SOCKET));

        configure(x, "port = 3000;\nudp_port = 514;\ntls_port = 6514;\n" TLS_KEYS);
        run(x);
        assert_true(exists(x, GENERATOR_TLS_SOCKET));
        assert_output(x, "harkd.service.d/" GENERATOR_DROPIN,
                      HEADER "[Unit]\nWants=harkd-tls.socket\nAfter=harkd-tls.socket\n"
                      "Wants=harkd-udp.socket\nAfter=harkd-udp.socket\n\n"
                      "[Service]\nSockets=harkd.socket harkd-tls.socket harkd-udp.socket\n");

        configure(x, "port = 3000;\n");
        run(x);
        assert_false(exists(x, GENERATOR_UDP_SOCKET));
        assert_false(exists(x, "sockets.target.wants/" GENERATOR_UDP_SOCKET));
        assert_no_tls(x);
}

static void a_run_without_tls_port_leaves_none_of_it(void **state) {
        struct fixture *x = *state;
        char want[4096];

        configure(x, "port = 514;\ntls_port = 6514;\n" TLS_KEYS);
        run(x);
        run(x);
        snprintf(want, sizeof(want), "%sListenStream=127.0.0.1:6514\nBacklog=4096\nFileDescriptorName=tls\n"
                                     "Service=harkd.service\n", tls_unit_head);
        assert_output(x, GENERATOR_TLS_SOCKET, want);
        configure(x, "port = 514;\n");
        run(x);
        assert_no_tls(x);
        assert_dropin_body(x, "[Socket]\nListenStream=\nListenStream=127.0.0.1:514\nBacklog=4096\n");
}

/* When a part cannot be written (here a file stands where the wants
 * directory goes), the run fails naming it and leaves no half of TLS. */
static void a_tls_part_that_fails_leaves_none_of_it(void **state) {
        struct fixture *x = *state;
        char error[256] = "";
        FILE *f;

        configure(x, "port = 514;\ntls_port = 6514;\n" TLS_KEYS);
        f = fopen(path_in(x, "sockets.target.wants"), "we");
        assert_non_null(f);
        fclose(f);
        assert_int_not_equal(generator_write_units(&x->config, x->dir, error, sizeof(error)), 0);
        assert_non_null(strstr(error, "sockets.target.wants"));
        assert_false(exists(x, GENERATOR_TLS_SOCKET));
        assert_false(exists(x, "harkd.service.d/" GENERATOR_DROPIN));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(ipv4_address_and_backlog_replace_the_units_own, setup, teardown),
                cmocka_unit_test_setup_teardown(ipv6_address_is_bracketed, setup, teardown),
                cmocka_unit_test_setup_teardown(running_twice_overwrites, setup, teardown),
                cmocka_unit_test_setup_teardown(unresolvable_host_is_an_error_and_leaves_no_dropin, setup, teardown),
                cmocka_unit_test_setup_teardown(allow_becomes_the_socket_units_ip_filter, setup, teardown),
                cmocka_unit_test_setup_teardown(an_ipv4_mapped_rule_is_written_as_ipv4, setup, teardown),
                cmocka_unit_test_setup_teardown(every_one_of_1024_rules_is_written, setup, teardown),
                cmocka_unit_test_setup_teardown(tls_port_gets_a_socket_unit_named_tls, setup, teardown),
                cmocka_unit_test_setup_teardown(the_tls_socket_listens_where_host_resolves_and_filters_alike, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(a_run_without_tls_port_leaves_none_of_it, setup, teardown),
                cmocka_unit_test_setup_teardown(a_tls_part_that_fails_leaves_none_of_it, setup, teardown),
                cmocka_unit_test_setup_teardown(udp_port_gets_a_datagram_socket_unit, setup, teardown),
        };

        return hark_test_main("generator", tests);
}
