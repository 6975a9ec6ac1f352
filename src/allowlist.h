/* Who may connect: the `allow` setting, a list of CIDR blocks and single
 * addresses, IPv4 and IPv6. Matching is pure (no sockets), so the parser can
 * be unit-tested and fuzzed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct allow_rule {
        int family;                     /* AF_INET or AF_INET6 */
        uint8_t address[16];            /* network byte order; the host bits are zero */
        unsigned prefix;                /* 0..32 or 0..128 */
};

/* Absent (n == 0 and !set): everyone may connect. */
struct allowlist {
        struct allow_rule *rules;
        size_t n;
        bool set;
};

#define ALLOWLIST_MAX 1024
/* The longest text of one entry: an IPv6 address and "/128". */
#define ALLOW_TEXT_MAX 64

/* Parses "10.0.0.0/8", "2001:db8::/32", "127.0.0.1" or "::1" into *rule.
 * Host bits set under the prefix ("10.1.2.3/8") are refused: they are
 * usually a typo for another block. An IPv4-mapped IPv6 block
 * ("::ffff:10.0.0.0/104") becomes the IPv4 block it maps. Returns 0 or
 * -EINVAL with the reason in why. */
int allow_rule_parse(struct allow_rule *rule, const char *text, const char **why);

/* Adds rule to *list (marking it set). Returns 0 or -ENOMEM / -E2BIG. */
int allowlist_add(struct allowlist *list, const struct allow_rule *rule);

/* Whether the peer at sa may connect. An IPv4-mapped IPv6 address
 * (::ffff:192.0.2.1, from a dual-stack listener) is matched as the IPv4
 * address it is. Non-IP peers (unix sockets) are not the list's business:
 * always allowed (file permissions guard them). */
bool allowlist_permits(const struct allowlist *list, const struct sockaddr *sa);

/* Writes the rule as text ("10.0.0.0/8", "2001:db8::/32", "192.0.2.1/32")
 * into text (at least ALLOW_TEXT_MAX bytes), as IPAddressAllow= takes it. */
void allow_rule_format(const struct allow_rule *rule, char *text, size_t size);

int allowlist_copy(struct allowlist *to, const struct allowlist *from);
bool allowlist_equal(const struct allowlist *a, const struct allowlist *b);
void allowlist_done(struct allowlist *list);
