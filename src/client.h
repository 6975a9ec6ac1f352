/* The hark client: sends messages to harkd and waits for its "OK <n>". */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "syslog_parse.h"
#include "tls_client.h"

/* client_parse_args() found nothing that ends the program. */
#define CLIENT_CONTINUE (-1)
#define CLIENT_DEFAULT_TIMEOUT 10.0
/* --field at most this often: harkd logs no more params of one message. */
#define CLIENT_FIELDS_MAX SYSLOG_SD_PARAMS_MAX
/* The APP-NAME without --tag. */
#define CLIENT_DEFAULT_TAG "hark"
/* --tls without a tls_port in the config: syslog over TLS's port (RFC 5425). */
#define CLIENT_DEFAULT_TLS_PORT 6514
/* --udp without a udp_port in the config: syslog's UDP port (RFC 5426). */
#define CLIENT_DEFAULT_UDP_PORT 514
/* The most a UDP datagram carries: 65535 bytes less the IPv4 and UDP
 * headers (20 + 8); over IPv6 less the UDP header only (its length field
 * does not count the IPv6 header). */
#define CLIENT_UDP_MAX_IPV4 65507
#define CLIENT_UDP_MAX_IPV6 65527

struct client_options {
        const char *host;               /* NULL: from the config, else 127.0.0.1 */
        const char *port;               /* NULL: from the config, else 10001 (6514 with --tls, 514 with --udp) */
        const char *config_path;
        bool config_given;              /* -c: a missing file is then an error */
        double timeout;                 /* seconds, for connecting and for the answer */
        bool ping;                      /* --ping: only check that harkd answers */
        char **messages;                /* the message arguments; "-" stands for stdin */
        int n_messages;

        /* RFC 5424 instead of plain lines: set by any of the options below. */
        bool syslog;
        int facility;                   /* --priority; default user.notice */
        int severity;
        const char *tag;                /* --tag: the APP-NAME */
        const char *fields[CLIENT_FIELDS_MAX]; /* --field KEY=VALUE, as given */
        int n_fields;
        bool octet_count;               /* --octet-count: RFC 6587 frames */

        bool tls;                       /* --tls */
        struct tls_client_options tls_files; /* --tls-ca, --tls-certificate, --tls-key */

        bool udp;                       /* --udp: one datagram per message, no confirmation */
};

/* Parses the command line. Returns CLIENT_CONTINUE, or the exit status when
 * the program should end here (--help, --version: 0; bad usage: 64), having
 * written to out or err. */
int client_parse_args(int argc, char **argv, struct client_options *o, FILE *out, FILE *err);

/* Fills in host and port from the daemon's config where the command line left
 * them out (with --tls, its tls_port; with --udp, its udp_port). Returns 0, or
 * 78 (EX_CONFIG) after printing the config error. */
int client_resolve_target(struct client_options *o, FILE *err);

/* Connects, sends, waits for the confirmation (with --udp: sends each
 * message as a datagram, there is none). Returns the exit status. */
int client_run(const struct client_options *o, FILE *in, FILE *out, FILE *err);
