/* The allow list (src/allowlist.c): which texts are rules, which peers each
 * rule lets in, and the text a rule is written back as (IPAddressAllow=). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "allowlist.h"
#include "util.h"

#define NOT_AN_ADDRESS "is not an IP address or CIDR block"
#define BAD_PREFIX_4 "has a prefix length that is not 0-32"
#define BAD_PREFIX_6 "has a prefix length that is not 0-128"
#define HOST_BITS "has bits set beyond its prefix length (write the network's first address)"

/* A peer's address as accept() gives it, from numeric text. */
static struct sockaddr_storage peer(const char *text, uint16_t port) {
        struct sockaddr_storage ss;

        memset(&ss, 0, sizeof(ss));
        if (strchr(text, ':')) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                if (inet_pton(AF_INET6, text, &in6->sin6_addr) != 1)
                        fail_msg("test bug: peer \"%s\"", text);
        } else {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;

                in->sin_family = AF_INET;
                in->sin_port = htons(port);
                if (inet_pton(AF_INET, text, &in->sin_addr) != 1)
                        fail_msg("test bug: peer \"%s\"", text);
        }
        return ss;
}

static void parse_ok(const char *text, struct allow_rule *rule) {
        const char *why = NULL;
        int r = allow_rule_parse(rule, text, &why);

        if (r != 0)
                fail_msg("\"%s\": refused (%d, %s), expected a rule", text, r, why ? why : "no reason");
}

/* A list of the rules in texts (NULL-terminated). */
static struct allowlist list_of(const char *const *texts) {
        struct allowlist list = { 0 };

        for (size_t i = 0; texts[i]; i++) {
                struct allow_rule rule;

                parse_ok(texts[i], &rule);
                assert_int_equal(allowlist_add(&list, &rule), 0);
        }
        return list;
}

static bool permits(const struct allowlist *list, const char *address) {
        struct sockaddr_storage ss = peer(address, 4711);

        return allowlist_permits(list, (const struct sockaddr *) &ss);
}

/* Whether the list of texts (NULL-terminated) lets address in. */
static bool list_permits(const char *const *texts, const char *address) {
        struct allowlist list = list_of(texts);
        bool ok = permits(&list, address);

        allowlist_done(&list);
        return ok;
}

#define RULES(...) ((const char *const[]) { __VA_ARGS__, NULL })

static void check_permits(const char *const *texts, const char *address, bool want) {
        if (list_permits(texts, address) != want) {
                char all[512] = "";

                for (size_t i = 0; texts[i]; i++)
                        snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s\"%s\"", i ? ", " : "", texts[i]);
                fail_msg("[%s] %s %s, expected otherwise", all, want ? "refuses" : "lets in", address);
        }
}

/* ------------------------------------------------------------------------ */
/* Parsing */

struct good_case {
        const char *text;
        int family;
        unsigned prefix;
        const char *address;    /* the network, as inet_pton() takes it */
        const char *formatted;  /* what allow_rule_format() writes */
};

static const struct good_case good_cases[] = {
        { "127.0.0.1", AF_INET, 32, "127.0.0.1", "127.0.0.1/32" },
        { "127.0.0.1/32", AF_INET, 32, "127.0.0.1", "127.0.0.1/32" },
        { "10.0.0.0/8", AF_INET, 8, "10.0.0.0", "10.0.0.0/8" },
        { "192.0.2.128/25", AF_INET, 25, "192.0.2.128", "192.0.2.128/25" },
        { "172.16.0.0/12", AF_INET, 12, "172.16.0.0", "172.16.0.0/12" },
        { "0.0.0.0/0", AF_INET, 0, "0.0.0.0", "0.0.0.0/0" },
        { "0.0.0.0", AF_INET, 32, "0.0.0.0", "0.0.0.0/32" },
        { "255.255.255.255", AF_INET, 32, "255.255.255.255", "255.255.255.255/32" },
        { "128.0.0.0/1", AF_INET, 1, "128.0.0.0", "128.0.0.0/1" },
        { "::1", AF_INET6, 128, "::1", "::1/128" },
        { "::1/128", AF_INET6, 128, "::1", "::1/128" },
        { "::", AF_INET6, 128, "::", "::/128" },
        { "::/0", AF_INET6, 0, "::", "::/0" },
        { "2001:db8::/32", AF_INET6, 32, "2001:db8::", "2001:db8::/32" },
        /* Any spelling inet_pton() takes; written back in the short one. */
        { "2001:DB8:0:0:0:0:0:0/32", AF_INET6, 32, "2001:db8::", "2001:db8::/32" },
        { "2001:0db8::/32", AF_INET6, 32, "2001:db8::", "2001:db8::/32" },
        { "fe80::/10", AF_INET6, 10, "fe80::", "fe80::/10" },
        { "2001:db8::8000/113", AF_INET6, 113, "2001:db8::8000", "2001:db8::8000/113" },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", AF_INET6, 128, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
          "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128" },
        /* An IPv4-mapped block is the IPv4 block it maps: mapped peers are
         * matched as IPv4, so as an IPv6 rule it would match nobody. */
        { "::ffff:192.0.2.1", AF_INET, 32, "192.0.2.1", "192.0.2.1/32" },
        { "::ffff:10.0.0.0/104", AF_INET, 8, "10.0.0.0", "10.0.0.0/8" },
        { "::ffff:0.0.0.0/96", AF_INET, 0, "0.0.0.0", "0.0.0.0/0" },
        /* Short of the mapped prefix it stays IPv6. */
        { "::/80", AF_INET6, 80, "::", "::/80" },
};

static void good_entries_parse_into_their_network_and_prefix(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(good_cases); i++) {
                const struct good_case *c = &good_cases[i];
                struct allow_rule rule;
                uint8_t want[16] = { 0 };

                parse_ok(c->text, &rule);
                assert_int_equal(inet_pton(c->family, c->address, want), 1);
                if (rule.family != c->family || rule.prefix != c->prefix || memcmp(rule.address, want, 16) != 0)
                        fail_msg("\"%s\": family %d prefix %u, expected family %d prefix %u (or another address)",
                                 c->text, rule.family, rule.prefix, c->family, c->prefix);
        }
}

struct bad_case {
        const char *text;
        const char *why;
};

static const struct bad_case bad_cases[] = {
        /* Not an address at all. */
        { "", NOT_AN_ADDRESS },
        { "/8", NOT_AN_ADDRESS },
        { "localhost", NOT_AN_ADDRESS },
        { "any", NOT_AN_ADDRESS },
        { "*", NOT_AN_ADDRESS },
        /* The short and the padded IPv4 forms inet_aton() would take. */
        { "127.1", NOT_AN_ADDRESS },
        { "127.0.1", NOT_AN_ADDRESS },
        { "2130706433", NOT_AN_ADDRESS },
        { "0x7f.0.0.1", NOT_AN_ADDRESS },
        { "010.0.0.1", NOT_AN_ADDRESS },
        { "127.000.0.1", NOT_AN_ADDRESS },
        { "1.2.3.4.5", NOT_AN_ADDRESS },
        { "256.0.0.1", NOT_AN_ADDRESS },
        { "1.2.3.", NOT_AN_ADDRESS },
        /* Spaces anywhere. */
        { " 10.0.0.1", NOT_AN_ADDRESS },
        { "10.0.0.1 ", NOT_AN_ADDRESS },
        { "10.0.0.0 /8", NOT_AN_ADDRESS },
        { "10.0.0.0/ 8", BAD_PREFIX_4 },
        { "10.0.0.0/8 ", BAD_PREFIX_4 },
        { "\t::1", NOT_AN_ADDRESS },
        /* IPv6 forms inet_pton() refuses. */
        { ":::1", NOT_AN_ADDRESS },
        { "::g", NOT_AN_ADDRESS },
        { "1:2:3:4:5:6:7:8:9", NOT_AN_ADDRESS },
        { "2001:db8::1::2", NOT_AN_ADDRESS },
        { "12345::", NOT_AN_ADDRESS },
        { "[::1]", NOT_AN_ADDRESS },
        { "[::1]/128", NOT_AN_ADDRESS },
        { "fe80::1%lo", NOT_AN_ADDRESS },
        { "fe80::1%1/128", NOT_AN_ADDRESS },
        /* Longer than any address can be written. */
        { "0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000/8", NOT_AN_ADDRESS },
        /* Prefix lengths: bounds, digits only, no leading zero, no sign. */
        { "10.0.0.0/", BAD_PREFIX_4 },
        { "10.0.0.0/33", BAD_PREFIX_4 },
        { "10.0.0.0/-1", BAD_PREFIX_4 },
        { "10.0.0.0/+8", BAD_PREFIX_4 },
        { "10.0.0.0/08", BAD_PREFIX_4 },
        { "10.0.0.0/00", BAD_PREFIX_4 },
        { "10.0.0.0/8/8", BAD_PREFIX_4 },
        { "10.0.0.0/8.0", BAD_PREFIX_4 },
        { "10.0.0.0/0x8", BAD_PREFIX_4 },
        { "10.0.0.0/255.0.0.0", BAD_PREFIX_4 },
        { "10.0.0.0/4294967304", BAD_PREFIX_4 },
        { "10.0.0.0/99999999999999999999", BAD_PREFIX_4 },
        { "::/", BAD_PREFIX_6 },
        { "::/129", BAD_PREFIX_6 },
        { "::1/0128", BAD_PREFIX_6 },
        { "2001:db8::/032", BAD_PREFIX_6 },
        { "::/1a", BAD_PREFIX_6 },
        /* Host bits under the prefix: a typo for another network. */
        { "10.1.2.3/8", HOST_BITS },
        { "10.0.0.1/31", HOST_BITS },
        { "192.0.2.129/25", HOST_BITS },
        { "127.0.0.1/0", HOST_BITS },
        { "255.255.255.255/31", HOST_BITS },
        { "128.0.0.0/0", HOST_BITS },
        { "::1/127", HOST_BITS },
        { "::1/0", HOST_BITS },
        { "2001:db8::1/64", HOST_BITS },
        { "2001:db8:8000::/32", HOST_BITS },
        { "2001:db8::4000/113", HOST_BITS },
        { "::ffff:192.0.2.1/96", HOST_BITS },
        { "8000::/0", HOST_BITS },
};

static void bad_entries_are_refused_with_the_reason(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const struct bad_case *c = &bad_cases[i];
                struct allow_rule rule;
                const char *why = NULL;
                int r = allow_rule_parse(&rule, c->text, &why);

                if (r != -EINVAL || !why || strcmp(why, c->why) != 0)
                        fail_msg("\"%s\": returned %d (%s), expected -EINVAL (%s)", c->text, r,
                                 why ? why : "no reason", c->why);
        }
}

/* Every prefix length from 0 to the family's size, on an address whose
 * bits alternate: accepted once the host bits are cleared, refused while
 * the first host bit is set. */
static void every_prefix_length_is_accepted_with_its_host_bits_clear(void **state) {
        (void) state;
        for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
                unsigned bits = family == AF_INET ? 32 : 128;

                for (unsigned p = 0; p <= bits; p++) {
                        uint8_t address[16];
                        char text[ALLOW_TEXT_MAX], formatted[ALLOW_TEXT_MAX], numeric[INET6_ADDRSTRLEN];
                        struct allow_rule rule;
                        const char *why = NULL;

                        memset(address, 0xaa, sizeof(address));
                        for (unsigned b = p; b < bits; b++)
                                address[b / 8] &= (uint8_t) ~(0x80 >> (b % 8));
                        assert_non_null(inet_ntop(family, address, numeric, sizeof(numeric)));
                        snprintf(text, sizeof(text), "%s/%u", numeric, p);
                        parse_ok(text, &rule);
                        assert_int_equal(rule.prefix, p);
                        allow_rule_format(&rule, formatted, sizeof(formatted));
                        assert_string_equal(formatted, text);
                        if (p == bits)
                                continue;
                        address[p / 8] |= (uint8_t) (0x80 >> (p % 8));
                        assert_non_null(inet_ntop(family, address, numeric, sizeof(numeric)));
                        snprintf(text, sizeof(text), "%s/%u", numeric, p);
                        if (allow_rule_parse(&rule, text, &why) != -EINVAL || strcmp(why, HOST_BITS) != 0)
                                fail_msg("\"%s\": accepted with a host bit set", text);
                }
        }
}

/* ------------------------------------------------------------------------ */
/* Matching */

static void an_absent_list_lets_everyone_in(void **state) {
        struct allowlist list = { 0 };

        (void) state;
        assert_true(permits(&list, "127.0.0.1"));
        assert_true(permits(&list, "203.0.113.9"));
        assert_true(permits(&list, "::1"));
        assert_true(permits(&list, "::ffff:10.0.0.1"));
}

static void a_single_address_is_exactly_that_address(void **state) {
        (void) state;
        check_permits(RULES("127.0.0.1"), "127.0.0.1", true);
        check_permits(RULES("127.0.0.1"), "127.0.0.2", false);
        check_permits(RULES("127.0.0.1"), "127.0.0.0", false);
        check_permits(RULES("127.0.0.1"), "126.0.0.1", false);
        check_permits(RULES("192.0.2.1/32"), "192.0.2.1", true);
        check_permits(RULES("192.0.2.1/32"), "192.0.2.0", false);
        check_permits(RULES("192.0.2.1/32"), "192.0.2.2", false);
        check_permits(RULES("192.0.2.1/32"), "193.0.2.1", false);
        check_permits(RULES("::1"), "::1", true);
        check_permits(RULES("::1"), "::", false);
        check_permits(RULES("::1"), "::2", false);
        check_permits(RULES("::1"), "1::1", false);
        check_permits(RULES("2001:db8::5/128"), "2001:db8::5", true);
        check_permits(RULES("2001:db8::5/128"), "2001:db8::4", false);
        check_permits(RULES("2001:db8::5/128"), "2001:db8::5:0", false);
}

/* A peer's address with the bits from `from` on set to `bit`. */
static void fill_from(uint8_t *address, unsigned from, unsigned bits, bool bit) {
        for (unsigned b = from; b < bits; b++) {
                uint8_t mask = (uint8_t) (0x80 >> (b % 8));

                address[b / 8] = (uint8_t) (bit ? address[b / 8] | mask : address[b / 8] & ~mask);
        }
}

static bool permits_bytes(const struct allowlist *list, int family, const uint8_t *address) {
        struct sockaddr_storage ss;

        memset(&ss, 0, sizeof(ss));
        if (family == AF_INET) {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;

                in->sin_family = AF_INET;
                memcpy(&in->sin_addr, address, 4);
        } else {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

                in6->sin6_family = AF_INET6;
                memcpy(&in6->sin6_addr, address, 16);
        }
        return allowlist_permits(list, (const struct sockaddr *) &ss);
}

/* For every prefix length: the first and the last address of the block are
 * in; the addresses either side of it and the one with the last network
 * bit flipped are out. */
static void a_block_ends_exactly_at_its_prefix(void **state) {
        (void) state;
        for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
                unsigned bits = family == AF_INET ? 32 : 128;

                for (unsigned p = 0; p <= bits; p++) {
                        uint8_t network[16], probe[16];
                        char numeric[INET6_ADDRSTRLEN], text[ALLOW_TEXT_MAX];
                        struct allowlist list = { 0 };
                        struct allow_rule rule;

                        /* 0x5a...: neither the lowest nor the highest block. */
                        memset(network, 0x5a, sizeof(network));
                        fill_from(network, p, bits, false);
                        assert_non_null(inet_ntop(family, network, numeric, sizeof(numeric)));
                        snprintf(text, sizeof(text), "%s/%u", numeric, p);
                        parse_ok(text, &rule);
                        assert_int_equal(allowlist_add(&list, &rule), 0);

                        memcpy(probe, network, sizeof(probe));
                        if (!permits_bytes(&list, family, probe))
                                fail_msg("%s refuses its first address", text);
                        fill_from(probe, p, bits, true);
                        if (!permits_bytes(&list, family, probe))
                                fail_msg("%s refuses its last address", text);
                        if (p > 0) {
                                /* The block after this one: last address + 1. */
                                unsigned b = p - 1;

                                memcpy(probe, network, sizeof(probe));
                                probe[b / 8] ^= (uint8_t) (0x80 >> (b % 8));
                                if (permits_bytes(&list, family, probe))
                                        fail_msg("%s lets in the block beside it (last network bit flipped)", text);
                                /* One less than the first: the borrow runs up into
                                 * the network bits (and wraps below all zeros). */
                                memcpy(probe, network, sizeof(probe));
                                for (int i = (int) bits / 8 - 1; i >= 0; i--)
                                        if (probe[i]-- != 0)
                                                break;
                                if (permits_bytes(&list, family, probe))
                                        fail_msg("%s lets in the address before its first", text);
                        }
                        allowlist_done(&list);
                }
        }
}

static void prefix_zero_is_the_whole_family(void **state) {
        (void) state;
        check_permits(RULES("0.0.0.0/0"), "0.0.0.0", true);
        check_permits(RULES("0.0.0.0/0"), "255.255.255.255", true);
        check_permits(RULES("0.0.0.0/0"), "127.0.0.2", true);
        check_permits(RULES("0.0.0.0/0"), "::1", false);
        check_permits(RULES("0.0.0.0/0"), "2001:db8::1", false);
        /* A dual-stack listener's IPv4 peer is IPv4. */
        check_permits(RULES("0.0.0.0/0"), "::ffff:203.0.113.7", true);
        check_permits(RULES("::/0"), "::", true);
        check_permits(RULES("::/0"), "::1", true);
        check_permits(RULES("::/0"), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true);
        check_permits(RULES("::/0"), "127.0.0.1", false);
        check_permits(RULES("::/0"), "::ffff:127.0.0.1", false);
}

/* On a dual-stack listener ("::") an IPv4 client arrives as
 * ::ffff:a.b.c.d: the IPv4 rules decide. */
static void an_ipv4_mapped_peer_is_matched_as_ipv4(void **state) {
        (void) state;
        check_permits(RULES("127.0.0.1"), "::ffff:127.0.0.1", true);
        check_permits(RULES("127.0.0.1"), "::ffff:127.0.0.2", false);
        check_permits(RULES("127.0.0.0/30"), "::ffff:127.0.0.3", true);
        check_permits(RULES("127.0.0.0/30"), "::ffff:127.0.0.4", false);
        check_permits(RULES("10.0.0.0/8"), "::ffff:10.255.255.255", true);
        check_permits(RULES("10.0.0.0/8"), "::ffff:11.0.0.0", false);
        /* Only the mapped prefix is IPv4: the deprecated IPv4-compatible
         * form and its neighbours are IPv6 addresses. */
        check_permits(RULES("127.0.0.1"), "::127.0.0.1", false);
        check_permits(RULES("127.0.0.1"), "::fffe:127.0.0.1", false);
        check_permits(RULES("127.0.0.1"), "::1:ffff:127.0.0.1", false);
        check_permits(RULES("127.0.0.1"), "64:ff9b::127.0.0.1", false);
}

static void families_never_cross(void **state) {
        (void) state;
        /* An IPv6 rule for an IPv4 peer, and the other way round, even
         * where the bytes would agree. */
        check_permits(RULES("::1"), "127.0.0.1", false);
        check_permits(RULES("::"), "0.0.0.0", false);
        check_permits(RULES("7f00:1::/32"), "127.0.0.1", false);
        check_permits(RULES("0.0.0.0"), "::", false);
        check_permits(RULES("0.0.0.1"), "::1", false);
        check_permits(RULES("127.0.0.0/8"), "::1", false);
        check_permits(RULES("127.0.0.0/8"), "7f00::1", false);
}

static void any_rule_of_the_list_lets_in(void **state) {
        const char *const *rules = RULES("10.0.0.0/8", "2001:db8::/32", "127.0.0.1", "192.168.1.0/24");

        (void) state;
        check_permits(rules, "10.20.30.40", true);
        check_permits(rules, "2001:db8:ffff::1", true);
        check_permits(rules, "127.0.0.1", true);
        check_permits(rules, "192.168.1.255", true);
        check_permits(rules, "::ffff:192.168.1.7", true);
        check_permits(rules, "127.0.0.2", false);
        check_permits(rules, "192.168.2.1", false);
        check_permits(rules, "2001:db9::1", false);
        check_permits(rules, "::1", false);
        /* A rule twice is harmless. */
        check_permits(RULES("127.0.0.1", "127.0.0.1"), "127.0.0.1", true);
}

static void the_port_plays_no_part(void **state) {
        struct allowlist list = list_of(RULES("127.0.0.1", "::1"));

        (void) state;
        for (unsigned port = 0; port <= 65535; port += 4369) {
                struct sockaddr_storage v4 = peer("127.0.0.1", (uint16_t) port), v6 = peer("::1", (uint16_t) port);
                struct sockaddr_storage other = peer("127.0.0.2", (uint16_t) port);

                assert_true(allowlist_permits(&list, (const struct sockaddr *) &v4));
                assert_true(allowlist_permits(&list, (const struct sockaddr *) &v6));
                assert_false(allowlist_permits(&list, (const struct sockaddr *) &other));
        }
        allowlist_done(&list);
}

/* A unix socket's peer has no address: file permissions guard it. */
static void a_unix_peer_is_always_let_in(void **state) {
        struct allowlist list = list_of(RULES("192.0.2.1"));
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        struct sockaddr_storage unnamed;

        (void) state;
        snprintf(un.sun_path, sizeof(un.sun_path), "/run/hark/harkd.sock");
        assert_true(allowlist_permits(&list, (const struct sockaddr *) &un));
        /* A client that did not bind: only the family is set. */
        memset(&unnamed, 0, sizeof(unnamed));
        unnamed.ss_family = AF_UNIX;
        assert_true(allowlist_permits(&list, (const struct sockaddr *) &unnamed));
        allowlist_done(&list);
}

/* ------------------------------------------------------------------------ */
/* The list itself */

static void add_marks_the_list_set_and_stops_at_the_maximum(void **state) {
        struct allowlist list = { 0 };
        struct allow_rule rule;

        (void) state;
        parse_ok("10.0.0.0/8", &rule);
        assert_false(list.set);
        for (size_t i = 0; i < ALLOWLIST_MAX; i++)
                assert_int_equal(allowlist_add(&list, &rule), 0);
        assert_true(list.set);
        assert_int_equal(list.n, ALLOWLIST_MAX);
        assert_int_equal(allowlist_add(&list, &rule), -E2BIG);
        assert_int_equal(list.n, ALLOWLIST_MAX);
        assert_true(permits(&list, "10.1.1.1"));
        allowlist_done(&list);
        assert_false(list.set);
        assert_int_equal(list.n, 0);
        assert_null(list.rules);
        /* Done twice, and on an empty list, is safe. */
        allowlist_done(&list);
}

/* Set but empty (what the config never makes: it refuses an empty list)
 * lets nobody in, rather than everyone. */
static void a_set_list_without_rules_lets_nobody_in(void **state) {
        struct allowlist list = { .set = true };

        (void) state;
        assert_false(permits(&list, "127.0.0.1"));
        assert_false(permits(&list, "::1"));
}

static void copy_and_equal(void **state) {
        struct allowlist a = list_of(RULES("10.0.0.0/8", "::1")), b = { 0 }, c = list_of(RULES("10.0.0.0/8"));
        struct allowlist absent = { 0 }, absent_copy = { 0 };

        (void) state;
        assert_false(allowlist_equal(&a, &b));
        assert_int_equal(allowlist_copy(&b, &a), 0);
        assert_true(allowlist_equal(&a, &b));
        assert_ptr_not_equal(a.rules, b.rules);
        assert_true(permits(&b, "::1"));
        assert_false(allowlist_equal(&a, &c));
        /* Copying over a list frees what it had. */
        assert_int_equal(allowlist_copy(&b, &c), 0);
        assert_true(allowlist_equal(&b, &c));
        assert_int_equal(b.n, 1);
        /* Absent copies as absent; order counts as written. */
        assert_int_equal(allowlist_copy(&absent_copy, &absent), 0);
        assert_true(allowlist_equal(&absent, &absent_copy));
        assert_false(absent_copy.set);
        assert_false(allowlist_equal(&absent, &c));
        {
                struct allowlist reversed = list_of(RULES("::1", "10.0.0.0/8"));

                assert_false(allowlist_equal(&a, &reversed));
                allowlist_done(&reversed);
        }
        allowlist_done(&a);
        allowlist_done(&b);
        allowlist_done(&c);
        allowlist_done(&absent_copy);
}

/* ------------------------------------------------------------------------ */
/* Formatting */

/* Each rule is written as IPAddressAllow= takes it, and that text parses
 * back to the same rule. */
static void format_writes_text_that_parses_back_to_the_rule(void **state) {
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(good_cases); i++) {
                struct allow_rule rule, again;
                char text[ALLOW_TEXT_MAX];

                parse_ok(good_cases[i].text, &rule);
                allow_rule_format(&rule, text, sizeof(text));
                if (strcmp(text, good_cases[i].formatted) != 0)
                        fail_msg("\"%s\" formats as \"%s\", expected \"%s\"", good_cases[i].text, text,
                                 good_cases[i].formatted);
                parse_ok(text, &again);
                assert_memory_equal(&rule, &again, sizeof(rule));
        }
}

/* The longest text fits ALLOW_TEXT_MAX with room to spare. */
static void the_longest_rule_fits(void **state) {
        struct allow_rule rule;
        char text[ALLOW_TEXT_MAX];

        (void) state;
        parse_ok("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &rule);
        allow_rule_format(&rule, text, sizeof(text));
        assert_string_equal(text, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
        parse_ok("2001:db8:ffff:ffff:ffff:ffff:255.255.255.255", &rule);
        allow_rule_format(&rule, text, sizeof(text));
        assert_string_equal(text, "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff/128");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(good_entries_parse_into_their_network_and_prefix),
                cmocka_unit_test(bad_entries_are_refused_with_the_reason),
                cmocka_unit_test(every_prefix_length_is_accepted_with_its_host_bits_clear),
                cmocka_unit_test(an_absent_list_lets_everyone_in),
                cmocka_unit_test(a_single_address_is_exactly_that_address),
                cmocka_unit_test(a_block_ends_exactly_at_its_prefix),
                cmocka_unit_test(prefix_zero_is_the_whole_family),
                cmocka_unit_test(an_ipv4_mapped_peer_is_matched_as_ipv4),
                cmocka_unit_test(families_never_cross),
                cmocka_unit_test(any_rule_of_the_list_lets_in),
                cmocka_unit_test(the_port_plays_no_part),
                cmocka_unit_test(a_unix_peer_is_always_let_in),
                cmocka_unit_test(add_marks_the_list_set_and_stops_at_the_maximum),
                cmocka_unit_test(a_set_list_without_rules_lets_nobody_in),
                cmocka_unit_test(copy_and_equal),
                cmocka_unit_test(format_writes_text_that_parses_back_to_the_rule),
                cmocka_unit_test(the_longest_rule_fits),
        };

        return hark_test_main("allowlist", tests);
}
