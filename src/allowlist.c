#include "allowlist.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ::ffff:0:0/96, where IPv6 sockets show IPv4 peers. */
static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool parse_prefix(const char *s, unsigned max, unsigned *prefix) {
        unsigned v = 0;

        /* Decimal digits only, no sign, no leading zero: "/08" is a typo. */
        if (!*s || (s[0] == '0' && s[1]))
                return false;
        for (; *s; s++) {
                if (*s < '0' || *s > '9')
                        return false;
                v = v * 10 + (unsigned) (*s - '0');
                if (v > max)
                        return false;
        }
        *prefix = v;
        return true;
}

static bool host_bits_clear(const struct allow_rule *rule) {
        unsigned bytes = rule->family == AF_INET ? 4 : 16;

        for (unsigned i = 0; i < bytes; i++) {
                unsigned first_bit = i * 8;
                uint8_t mask = first_bit >= rule->prefix ? 0xff
                               : first_bit + 8 <= rule->prefix ? 0
                               : (uint8_t) (0xff >> (rule->prefix - first_bit));

                if (rule->address[i] & mask)
                        return false;
        }
        return true;
}

/* An IPv4-mapped block (::ffff:10.0.0.0/104) is the IPv4 block it maps:
 * mapped peers are matched as IPv4 (allowlist_permits()), and so does the
 * kernel's IPAddressAllow=, so kept as IPv6 it would match nobody. */
static void unmap_ipv4(struct allow_rule *rule) {
        if (rule->family != AF_INET6 || rule->prefix < 96 || memcmp(rule->address, v4_mapped, 12) != 0)
                return;
        memmove(rule->address, rule->address + 12, 4);
        memset(rule->address + 4, 0, 12);
        rule->family = AF_INET;
        rule->prefix -= 96;
}

int allow_rule_parse(struct allow_rule *rule, const char *text, const char **why) {
        char address[ALLOW_TEXT_MAX];
        const char *slash = strchr(text, '/');
        size_t length = slash ? (size_t) (slash - text) : strlen(text);
        unsigned max;

        *rule = (struct allow_rule) { 0 };
        if (length == 0 || length >= sizeof(address)) {
                *why = "is not an IP address or CIDR block";
                return -EINVAL;
        }
        memcpy(address, text, length);
        address[length] = 0;
        /* inet_pton() takes only the strict forms: no "127.1", no spaces. */
        if (inet_pton(AF_INET, address, rule->address) == 1)
                rule->family = AF_INET;
        else if (inet_pton(AF_INET6, address, rule->address) == 1)
                rule->family = AF_INET6;
        else {
                *why = "is not an IP address or CIDR block";
                return -EINVAL;
        }
        max = rule->family == AF_INET ? 32 : 128;
        rule->prefix = max;
        if (slash && !parse_prefix(slash + 1, max, &rule->prefix)) {
                *why = rule->family == AF_INET ? "has a prefix length that is not 0-32"
                                               : "has a prefix length that is not 0-128";
                return -EINVAL;
        }
        if (!host_bits_clear(rule)) {
                *why = "has bits set beyond its prefix length (write the network's first address)";
                return -EINVAL;
        }
        unmap_ipv4(rule);
        return 0;
}

int allowlist_add(struct allowlist *list, const struct allow_rule *rule) {
        struct allow_rule *rules;

        if (list->n >= ALLOWLIST_MAX)
                return -E2BIG;
        rules = realloc(list->rules, (list->n + 1) * sizeof(*rules));
        if (!rules)
                return -ENOMEM;
        rules[list->n++] = *rule;
        list->rules = rules;
        list->set = true;
        return 0;
}

static bool prefix_matches(const uint8_t *network, const uint8_t *address, unsigned prefix) {
        unsigned whole = prefix / 8, rest = prefix % 8;

        if (memcmp(network, address, whole) != 0)
                return false;
        return rest == 0 || ((network[whole] ^ address[whole]) & (uint8_t) (0xff << (8 - rest))) == 0;
}

bool allowlist_permits(const struct allowlist *list, const struct sockaddr *sa) {
        const uint8_t *address;
        int family = sa->sa_family;

        if (!list->set || (family != AF_INET && family != AF_INET6))
                return true;
        if (family == AF_INET)
                address = (const uint8_t *) &((const struct sockaddr_in *) sa)->sin_addr;
        else {
                address = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
                if (memcmp(address, v4_mapped, sizeof(v4_mapped)) == 0) {
                        family = AF_INET;
                        address += sizeof(v4_mapped);
                }
        }
        for (size_t i = 0; i < list->n; i++)
                if (list->rules[i].family == family && prefix_matches(list->rules[i].address, address, list->rules[i].prefix))
                        return true;
        return false;
}

void allow_rule_format(const struct allow_rule *rule, char *text, size_t size) {
        char address[INET6_ADDRSTRLEN];

        assert(size >= ALLOW_TEXT_MAX);
        if (!inet_ntop(rule->family, rule->address, address, sizeof(address)))
                snprintf(address, sizeof(address), "?");
        snprintf(text, size, "%s/%u", address, rule->prefix);
}

int allowlist_copy(struct allowlist *to, const struct allowlist *from) {
        struct allow_rule *rules = NULL;

        if (from->n > 0) {
                rules = malloc(from->n * sizeof(*rules));
                if (!rules)
                        return -ENOMEM;
                memcpy(rules, from->rules, from->n * sizeof(*rules));
        }
        allowlist_done(to);
        *to = (struct allowlist) { .rules = rules, .n = from->n, .set = from->set };
        return 0;
}

bool allowlist_equal(const struct allowlist *a, const struct allowlist *b) {
        return a->set == b->set && a->n == b->n && (a->n == 0 || memcmp(a->rules, b->rules, a->n * sizeof(*a->rules)) == 0);
}

void allowlist_done(struct allowlist *list) {
        free(list->rules);
        *list = (struct allowlist) { 0 };
}
