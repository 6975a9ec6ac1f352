/* sources: src/allowlist.c */
/* libFuzzer target: the allow list (src/allowlist.c). The input up to its
 * first NUL is lines of rule text, each given to allow_rule_parse(); the
 * bytes after the NUL are a peer's sockaddr, as raw as the kernel could
 * hand it over (any family, any bytes).
 *
 * Invariants: a parse fails with -EINVAL and a reason, or gives an AF_INET
 * or AF_INET6 rule with a prefix within its family's size, no bit set past
 * the prefix (in the address or the unused bytes of an IPv4 rule), from a
 * text without spaces; the rule formats into fewer than ALLOW_TEXT_MAX bytes
 * as "ADDRESS/PREFIX", which parses back to the very same rule, and formats
 * the same again. A list of the parsed rules decides every peer as a model
 * does (bit by bit, an IPv4-mapped IPv6 peer as its IPv4 address, other
 * families always let in), never reading past the sockaddr; each rule lets
 * in its own network's first and last address (outside the IPv4-mapped
 * block, see the note in it_permits_its_own()); an absent list lets in all.
 *
 * Build: `make fuzz` (see the Makefile), or by hand:
 *   clang -std=gnu11 -D_GNU_SOURCE -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
 *         tests/fuzz/fuzz_allow.c src/allowlist.c -o build/fuzz/fuzz_allow
 *   build/fuzz/fuzz_allow -max_total_time=60 tests/fuzz/corpus/allow */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "allowlist.h"
#include "fuzz-check.h"

/* Lines longer than any rule are still parsed: up to this much of one. */
#define LINE_MAX_FUZZ 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned family_bits(int family) {
        return family == AF_INET ? 32 : 128;
}

static bool bit(const uint8_t *address, unsigned i) {
        return (address[i / 8] >> (7 - i % 8)) & 1;
}

static void check_rule(const struct allow_rule *rule, const char *text) {
        char formatted[ALLOW_TEXT_MAX], again[ALLOW_TEXT_MAX];
        struct allow_rule reparsed;
        const char *why = NULL, *slash;

        fuzz_check(rule->family == AF_INET || rule->family == AF_INET6);
        fuzz_check(rule->prefix <= family_bits(rule->family));
        for (unsigned i = rule->prefix; i < 128; i++)
                fuzz_check(!bit(rule->address, i));
        fuzz_check(!strpbrk(text, " \t\r\n\v\f"));

        memset(formatted, 0x55, sizeof(formatted));
        allow_rule_format(rule, formatted, sizeof(formatted));
        fuzz_check(memchr(formatted, 0, sizeof(formatted)));
        slash = strchr(formatted, '/');
        fuzz_check(slash && slash != formatted && strchr(slash + 1, '/') == NULL);
        fuzz_check(allow_rule_parse(&reparsed, formatted, &why) == 0);
        fuzz_check(memcmp(&reparsed, rule, sizeof(reparsed)) == 0);
        allow_rule_format(&reparsed, again, sizeof(again));
        fuzz_check(strcmp(again, formatted) == 0);
}

static bool model_rule_matches(const struct allow_rule *rule, int family, const uint8_t *address) {
        if (rule->family != family)
                return false;
        for (unsigned i = 0; i < rule->prefix; i++)
                if (bit(rule->address, i) != bit(address, i))
                        return false;
        return true;
}

static bool model_permits(const struct allowlist *list, const struct sockaddr_storage *ss) {
        static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
        const uint8_t *address;
        int family = ss->ss_family;

        if (!list->set)
                return true;
        if (family == AF_INET)
                address = (const uint8_t *) &((const struct sockaddr_in *) ss)->sin_addr;
        else if (family == AF_INET6) {
                address = ((const struct sockaddr_in6 *) ss)->sin6_addr.s6_addr;
                if (memcmp(address, mapped, sizeof(mapped)) == 0) {
                        family = AF_INET;
                        address += sizeof(mapped);
                }
        } else
                return true;
        for (size_t i = 0; i < list->n; i++)
                if (model_rule_matches(&list->rules[i], family, address))
                        return true;
        return false;
}

/* A peer of the exact size of its family's sockaddr, on the heap, so that
 * ASan sees a read past it. */
static bool permits_exactly_sized(const struct allowlist *list, const struct sockaddr_storage *ss) {
        size_t length = ss->ss_family == AF_INET    ? sizeof(struct sockaddr_in)
                        : ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                    : sizeof(sa_family_t);
        struct sockaddr *copy = malloc(length);
        bool permitted;

        fuzz_check(copy);
        memcpy(copy, ss, length);
        permitted = allowlist_permits(list, copy);
        free(copy);
        return permitted;
}

static struct sockaddr_storage peer_in(int family, const uint8_t *address) {
        struct sockaddr_storage ss;

        memset(&ss, 0, sizeof(ss));
        ss.ss_family = (sa_family_t) family;
        if (family == AF_INET)
                memcpy(&((struct sockaddr_in *) &ss)->sin_addr, address, 4);
        else
                memcpy(((struct sockaddr_in6 *) &ss)->sin6_addr.s6_addr, address, 16);
        return ss;
}

/* The rule's network, first and last address, is let in. An IPv6 rule in
 * ::ffff:0:0/96 is the exception: its peers are matched as IPv4, so it lets
 * in nobody (the kernel's IPAddressAllow= sees those packets as IPv4 too). */
static void it_permits_its_own(const struct allowlist *list, const struct allow_rule *rule) {
        static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
        unsigned bits = family_bits(rule->family);
        struct sockaddr_storage ss;
        uint8_t last[16];

        if (rule->family == AF_INET6 && rule->prefix >= 96 && memcmp(rule->address, mapped, sizeof(mapped)) == 0)
                return;
        ss = peer_in(rule->family, rule->address);
        fuzz_check(allowlist_permits(list, (const struct sockaddr *) &ss));
        memcpy(last, rule->address, sizeof(last));
        for (unsigned i = rule->prefix; i < bits; i++)
                last[i / 8] |= (uint8_t) (0x80 >> (i % 8));
        ss = peer_in(rule->family, last);
        if (rule->family == AF_INET6 && memcmp(last, mapped, sizeof(mapped)) == 0)
                return; /* a block reaching into the mapped block: its end is IPv4 */
        fuzz_check(allowlist_permits(list, (const struct sockaddr *) &ss));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const uint8_t *nul = memchr(data, 0, size);
        size_t text_size = nul ? (size_t) (nul - data) : size;
        struct allowlist list = { 0 }, absent = { 0 };
        struct sockaddr_storage ss;
        size_t start = 0;

        for (size_t i = 0; i <= text_size; i++) {
                char line[LINE_MAX_FUZZ + 1];
                struct allow_rule rule;
                const char *why = NULL;
                size_t length = i - start;
                int r;

                if (i < text_size && data[i] != '\n')
                        continue;
                if (length > LINE_MAX_FUZZ)
                        length = LINE_MAX_FUZZ;
                memcpy(line, data + start, length);
                line[length] = 0;
                start = i + 1;
                r = allow_rule_parse(&rule, line, &why);
                fuzz_check(r == 0 || r == -EINVAL);
                if (r < 0) {
                        fuzz_check(why && *why);
                        continue;
                }
                check_rule(&rule, line);
                r = allowlist_add(&list, &rule);
                fuzz_check(r == 0 || (r == -E2BIG && list.n == ALLOWLIST_MAX));
                if (r == 0)
                        it_permits_its_own(&list, &rule);
        }

        memset(&ss, 0, sizeof(ss));
        if (nul) {
                size_t rest = size - text_size - 1;

                memcpy(&ss, nul + 1, rest < sizeof(ss) ? rest : sizeof(ss));
        }
        fuzz_check(permits_exactly_sized(&list, &ss) == model_permits(&list, &ss));
        fuzz_check(permits_exactly_sized(&absent, &ss));
        /* The same peer bytes as an IPv4 and as an IPv6 peer. */
        for (int family = AF_INET; family; family = family == AF_INET ? AF_INET6 : 0) {
                struct sockaddr_storage as = ss;

                as.ss_family = (sa_family_t) family;
                fuzz_check(permits_exactly_sized(&list, &as) == model_permits(&list, &as));
        }
        allowlist_done(&list);
        return 0;
}
