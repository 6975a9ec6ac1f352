#include "client.h"

#include <assert.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "framer.h"
#include "journal.h"
#include "net.h"
#include "syslog_compose.h"
#include "util.h"

static const char usage_text[] =
        "Usage: hark [OPTIONS] [MESSAGE...]\n"
        "Send each MESSAGE (or, with none or \"-\", each line of standard input) to harkd,\n"
        "and exit 0 once harkd has confirmed that all of them reached the journal.\n\n"
        "  -H, --host HOST        harkd's address (default: from the config, else 127.0.0.1)\n"
        "  -p, --port PORT        harkd's port (default: from the config, else 10001;\n"
        "                         with --tls its tls_port, else 6514;\n"
        "                         with --udp its udp_port, else 514)\n"
        "  -c, --config FILE      read host and port from this harkd config\n"
        "                         (default " HARK_DEFAULT_CONFIG ")\n"
        "  -t, --timeout SECONDS  how long to wait to connect (with the TLS handshake)\n"
        "                         and for the confirmation\n"
        "                         (default 10)\n"
        "      --ping             only check that harkd is up and answering\n"
        "  -h, --help             show this help and exit\n"
        "  -V, --version          show the version and exit\n\n"
        "Syslog: any of these sends RFC 5424 messages instead of plain lines.\n"
        "      --priority [FACILITY.]LEVEL  e.g. local0.warning (default user.notice)\n"
        "      --tag NAME         the APP-NAME, journald's SYSLOG_IDENTIFIER (default hark)\n"
        "      --field KEY=VALUE  a journal field of every message (repeatable; KEY is\n"
        "                         A-Z, 0-9 and _, at most 32 bytes)\n"
        "      --octet-count      RFC 6587 octet-counted frames: an argument is one\n"
        "                         message even with newlines in it\n\n"
        "TLS:\n"
        "      --tls              speak TLS to harkd's TLS port, verifying its certificate\n"
        "                         and that it names HOST\n"
        "      --tls-ca FILE      trust the CA certificates in FILE (PEM) instead of the\n"
        "                         system's\n"
        "      --tls-certificate FILE  present this client certificate (PEM)...\n"
        "      --tls-key FILE     ...with this key (PEM); both or neither\n\n"
        "UDP:\n"
        "      --udp              send each message as one datagram to harkd's UDP port,\n"
        "                         unconfirmed: exit 0 means only that all were sent\n\n"
        "Exit status: 0 all confirmed (--udp: all sent), 64 usage error, 65 a message\n"
        "too long for a datagram (--udp; not sent), 69 cannot connect (TLS: or the\n"
        "server's certificate failed verification; UDP: nobody listens there),\n"
        "74 cannot read standard input, 75 not all messages confirmed, 78 configuration\n"
        "error (or a TLS file unusable).\n"
        "See hark(1).\n";

static int parse_timeout(const char *s, double *out) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400)
                return -EINVAL;
        *out = v;
        return 0;
}

static int parse_port(const char *s) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        return errno || end == s || *end || v < 1 || v > 65535 ? -EINVAL : 0;
}

__attribute__((format(printf, 2, 3)))
static int usage_error(FILE *err, const char *format, ...) {
        va_list ap;

        fputs("hark: ", err);
        va_start(ap, format);
        vfprintf(err, format, ap);
        va_end(ap);
        fputs("\nTry 'hark --help'.\n", err);
        return EX_USAGE;
}

#define FACILITY_NAMES "kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, " \
                       "local0 to local7, or 0-23"
#define LEVEL_NAMES "emerg, alert, crit, err, warning, notice, info, debug, or 0-7"

/* --priority [FACILITY.]LEVEL; the facility stays user when only a level is given. */
static int take_priority(const char *arg, struct client_options *o, FILE *err) {
        const char *dot = strchr(arg, '.'), *level = dot ? dot + 1 : arg;
        char facility[16];
        int v;

        if (dot) {
                size_t n = (size_t) (dot - arg);

                v = -EINVAL;
                if (n < sizeof(facility)) {
                        memcpy(facility, arg, n);
                        facility[n] = 0;
                        v = syslog_facility_from_string(facility);
                }
                if (v < 0)
                        return usage_error(err, "invalid priority '%s': unknown facility '%.*s' (" FACILITY_NAMES ")",
                                           arg, (int) n, arg);
                o->facility = v;
        }
        v = syslog_severity_from_string(level);
        if (v < 0 && !dot && *level >= 'a' && syslog_facility_from_string(level) >= 0)
                return usage_error(err, "invalid priority '%s': a facility alone, give a level too, as in %s.info",
                                   arg, arg);
        if (v < 0)
                return usage_error(err, "invalid priority '%s': unknown level '%s' (" LEVEL_NAMES ")", arg, level);
        o->severity = v;
        return CLIENT_CONTINUE;
}

static int take_tag(const char *arg, struct client_options *o, FILE *err) {
        if (!syslog_app_name_valid(arg, strlen(arg)))
                return usage_error(err, "invalid tag '%s' (1-%d printable ASCII characters, no spaces)", arg,
                                   SYSLOG_APP_NAME_MAX);
        o->tag = arg;
        return CLIENT_CONTINUE;
}

/* --field KEY=VALUE: KEY is logged under exactly that name, so it must be
 * one journald takes, harkd lets a sender set, and RFC 5424 carries. */
static int take_field(const char *arg, struct client_options *o, FILE *err) {
        const char *eq = strchr(arg, '=');
        int n;

        if (!eq)
                return usage_error(err, "invalid field '%s' (expected KEY=VALUE)", arg);
        n = (int) (eq - arg);
        switch (syslog_field_name_check(arg, (size_t) n)) {
        case SYSLOG_FIELD_OK:
                break;
        case SYSLOG_FIELD_EMPTY:
                return usage_error(err, "invalid field '%s': the name before '=' is empty", arg);
        case SYSLOG_FIELD_TOO_LONG:
                return usage_error(err, "invalid field name '%.*s': longer than %d bytes (RFC 5424's PARAM-NAME)", n,
                                   arg, SYSLOG_SD_NAME_MAX);
        case SYSLOG_FIELD_INVALID:
                return usage_error(err, "invalid field name '%.*s': a journal field name is A-Z, 0-9 and '_', "
                                   "starting with a letter", n, arg);
        case SYSLOG_FIELD_RESERVED:
                return usage_error(err, "invalid field name '%.*s': reserved, harkd or journald sets it "
                                   "(_*, MESSAGE, PRIORITY, SYSLOG_*, REMOTE_*, HARK_*, OBJECT_*, COREDUMP_*)", n, arg);
        }
        if (o->n_fields == CLIENT_FIELDS_MAX)
                return usage_error(err, "more than %d --field options (harkd logs no more fields of a message)",
                                   CLIENT_FIELDS_MAX);
        o->fields[o->n_fields++] = arg;
        return CLIENT_CONTINUE;
}

/* Checks that need every option: a LF in a field value would end the line
 * (a datagram has none to end). */
static int check_syslog_options(const struct client_options *o, FILE *err) {
        if (o->octet_count || o->udp)
                return CLIENT_CONTINUE;
        for (int i = 0; i < o->n_fields; i++)
                if (strchr(o->fields[i], '\n'))
                        return usage_error(err, "the value of field '%.*s' holds a newline: that needs --octet-count",
                                           (int) strcspn(o->fields[i], "="), o->fields[i]);
        return CLIENT_CONTINUE;
}

/* The TLS options name files for TLS only, and a certificate is nothing
 * without its key. */
static int check_tls_options(const struct client_options *o, FILE *err) {
        const struct tls_client_options *f = &o->tls_files;
        const char *given = f->ca ? "--tls-ca" : f->certificate ? "--tls-certificate" : f->key ? "--tls-key" : NULL;

        if (given && !o->tls)
                return usage_error(err, "%s needs --tls", given);
        if (f->certificate && !f->key)
                return usage_error(err, "--tls-certificate needs --tls-key");
        if (f->key && !f->certificate)
                return usage_error(err, "--tls-key needs --tls-certificate");
        return CLIENT_CONTINUE;
}

/* A datagram is one message already, and nothing comes back over UDP. */
static int check_udp_options(const struct client_options *o, FILE *err) {
        if (!o->udp)
                return CLIENT_CONTINUE;
        if (o->tls)
                return usage_error(err, "--tls and --udp exclude each other (TLS runs over TCP)");
        if (o->octet_count)
                return usage_error(err, "--octet-count frames a stream; with --udp each datagram is one message");
        if (o->ping)
                return usage_error(err, "--ping waits for an answer, which --udp never gets");
        return CLIENT_CONTINUE;
}

/* getopt_long() codes of the options without a short form. */
enum {
        OPT_PING = 'P',
        OPT_PRIORITY = 0x100,
        OPT_TAG,
        OPT_FIELD,
        OPT_OCTET_COUNT,
        OPT_TLS,
        OPT_TLS_CA,
        OPT_TLS_CERTIFICATE,
        OPT_TLS_KEY,
        OPT_UDP,
};


/* Whether arg is "--NAME=VALUE" for an option that takes no value, which
 * getopt_long() reports as an error with optopt set to that option's code
 * (not a short option's letter). */
static bool takes_no_value(const struct option *options, const char *arg, int code) {
        const char *eq = strchr(arg, '=');

        if (strncmp(arg, "--", 2) != 0 || !eq)
                return false;
        for (const struct option *o = options; o->name; o++)
                if (o->has_arg == no_argument && o->val == code && strncmp(o->name, arg + 2, (size_t) (eq - arg - 2)) == 0)
                        return true;
        return false;
}

int client_parse_args(int argc, char **argv, struct client_options *o, FILE *out, FILE *err) {
        static const struct option options[] = {
                { "host", required_argument, NULL, 'H' },
                { "port", required_argument, NULL, 'p' },
                { "config", required_argument, NULL, 'c' },
                { "timeout", required_argument, NULL, 't' },
                { "ping", no_argument, NULL, OPT_PING },
                { "priority", required_argument, NULL, OPT_PRIORITY },
                { "tag", required_argument, NULL, OPT_TAG },
                { "field", required_argument, NULL, OPT_FIELD },
                { "octet-count", no_argument, NULL, OPT_OCTET_COUNT },
                { "tls", no_argument, NULL, OPT_TLS },
                { "tls-ca", required_argument, NULL, OPT_TLS_CA },
                { "tls-certificate", required_argument, NULL, OPT_TLS_CERTIFICATE },
                { "tls-key", required_argument, NULL, OPT_TLS_KEY },
                { "udp", no_argument, NULL, OPT_UDP },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        int c, r;

        *o = (struct client_options) {
                .config_path = HARK_DEFAULT_CONFIG,
                .timeout = CLIENT_DEFAULT_TIMEOUT,
                .facility = SYSLOG_DEFAULT_FACILITY,
                .severity = SYSLOG_DEFAULT_SEVERITY,
        };
        optind = 0;     /* a fresh scan on every call (tests call it more than once) */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:H:p:c:t:hV", options, NULL)) != -1)
                switch (c) {
                case 'H':
                        if (!*optarg)
                                return usage_error(err, "empty host");
                        o->host = optarg;
                        break;
                case 'p':
                        if (parse_port(optarg) < 0)
                                return usage_error(err, "invalid port '%s' (1-65535)", optarg);
                        o->port = optarg;
                        break;
                case 'c':
                        o->config_path = optarg;
                        o->config_given = true;
                        break;
                case 't':
                        if (parse_timeout(optarg, &o->timeout) < 0)
                                return usage_error(err, "invalid timeout '%s' (seconds, > 0)", optarg);
                        break;
                case OPT_PING:
                        o->ping = true;
                        break;
                case OPT_PRIORITY:
                case OPT_TAG:
                case OPT_FIELD:
                        r = c == OPT_PRIORITY ? take_priority(optarg, o, err)
                          : c == OPT_TAG ? take_tag(optarg, o, err)
                          : take_field(optarg, o, err);
                        if (r != CLIENT_CONTINUE)
                                return r;
                        o->syslog = true;
                        break;
                case OPT_OCTET_COUNT:
                        o->octet_count = true;
                        o->syslog = true;
                        break;
                case OPT_TLS:
                        o->tls = true;
                        break;
                case OPT_TLS_CA:
                        o->tls_files.ca = optarg;
                        break;
                case OPT_TLS_CERTIFICATE:
                        o->tls_files.certificate = optarg;
                        break;
                case OPT_TLS_KEY:
                        o->tls_files.key = optarg;
                        break;
                case OPT_UDP:
                        o->udp = true;
                        break;
                case 'h':
                        fputs(usage_text, out);
                        return EX_OK;
                case 'V':
                        fprintf(out, "hark %s\n", HARK_VERSION);
                        return EX_OK;
                case ':':
                        return usage_error(err, "option '%s' needs a value", argv[optind - 1]);
                default:
                        if (optopt && takes_no_value(options, argv[optind - 1], optopt))
                                return usage_error(err, "option '%.*s' takes no value",
                                                   (int) strcspn(argv[optind - 1], "="), argv[optind - 1]);
                        if (optopt)
                                return usage_error(err, "unknown option '-%s'", (const char[]) { (char) optopt, 0 });
                        return usage_error(err, "unknown option '%s'", argv[optind - 1]);
                }
        o->messages = argv + optind;
        o->n_messages = argc - optind;
        if (o->ping && o->n_messages > 0)
                return usage_error(err, "--ping takes no messages");
        r = check_tls_options(o, err);
        if (r == CLIENT_CONTINUE)
                r = check_udp_options(o, err);
        return r != CLIENT_CONTINUE ? r : check_syslog_options(o, err);
}

/* A daemon bound to a wildcard address is reached over loopback. */
static const char *reachable_host(const char *host) {
        if (strcmp(host, "0.0.0.0") == 0)
                return "127.0.0.1";
        if (strcmp(host, "::") == 0)
                return "::1";
        return host;
}

int client_resolve_target(struct client_options *o, FILE *err) {
        static char host[256], port[16];
        char error[CONFIG_ERROR_MAX];
        struct hark_config config;
        int r;

        if (o->host && o->port)
                return 0;
        hark_config_init(&config);
        r = hark_config_load(&config, o->config_path, error);
        if (r == -ENOENT && !o->config_given) {
                /* No local daemon config: the built-in defaults apply. */
                hark_config_done(&config);
                hark_config_init(&config);
        } else if (r < 0) {
                fprintf(err, "hark: %s\n", error);
                hark_config_done(&config);
                return EX_CONFIG;
        }
        snprintf(host, sizeof(host), "%s", reachable_host(config.host));
        if (o->tls)
                snprintf(port, sizeof(port), "%d", config.tls_port ? config.tls_port : CLIENT_DEFAULT_TLS_PORT);
        else if (o->udp)
                snprintf(port, sizeof(port), "%d", config.udp_port ? config.udp_port : CLIENT_DEFAULT_UDP_PORT);
        else
                snprintf(port, sizeof(port), "%d", config.port);
        hark_config_done(&config);
        if (!o->host)
                o->host = host;
        if (!o->port)
                o->port = port;
        return 0;
}

/* A connect(2) that gives up at the deadline. */
static int connect_before(const struct addrinfo *ai, long long deadline) {
        int fd, r;

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0)
                return -errno;
        r = fd_connect(fd, ai->ai_addr, ai->ai_addrlen, ms_until(deadline));
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* Over UDP the first address a socket connects to is taken: there is no
 * handshake to tell whether anybody listens at one. */
static int connect_to(const struct client_options *o, long long deadline, FILE *err) {
        struct addrinfo hints = { .ai_socktype = o->udp ? SOCK_DGRAM : SOCK_STREAM }, *list;
        int fd = -EHOSTUNREACH, r;

        r = getaddrinfo(o->host, o->port, &hints, &list);
        if (r != 0) {
                fprintf(err, "hark: cannot resolve %s: %s\n", o->host, gai_strerror(r));
                return -EHOSTUNREACH;
        }
        for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
                fd = connect_before(ai, deadline);
                if (fd >= 0)
                        break;
        }
        freeaddrinfo(list);
        if (fd < 0)
                fprintf(err, "hark: cannot connect to %s port %s: %s\n", o->host, o->port, strerror(-fd));
        return fd;
}

/* Waits until fd is ready for events, at most timeout_ms. */
static int wait_for(int fd, short events, int timeout_ms) {
        struct pollfd pfd = { .fd = fd, .events = events };
        int r;

        do
                r = poll(&pfd, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -errno;
        return r == 0 ? -ETIMEDOUT : 0;
}

/* Where the bytes go: a TCP stream, plain or with a TLS session over it, or
 * a connected UDP socket, each send one datagram. The link_ calls return
 * what they did, or -EAGAIN with the poll(2) events to wait for, or -errno. */
struct link {
        int fd;
        struct tls_client *tls;         /* NULL: plain */
        size_t datagram_max;            /* UDP: the largest datagram; 0: a stream */
};

static ssize_t link_send(struct link *l, const char *data, size_t size, short *events) {
        ssize_t n;

        if (l->tls)
                return tls_client_send(l->tls, data, size, events);
        *events = POLLOUT;
        n = send(l->fd, data, size, MSG_NOSIGNAL);
        return n < 0 ? -errno : n;
}

static ssize_t link_recv(struct link *l, char *buffer, size_t size, short *events) {
        ssize_t n;

        if (l->tls)
                return tls_client_recv(l->tls, buffer, size, events);
        *events = POLLIN;
        n = recv(l->fd, buffer, size, 0);
        return n < 0 ? -errno : n;
}

/* The end of what hark sends, which harkd answers: the half-close, or over
 * TLS the close_notify. Over UDP nothing ends and nothing answers, but an
 * ICMP error the last datagrams drew (port unreachable: -ECONNREFUSED) may
 * wait on the socket; from a host on this machine it always has by now. */
static int link_finish(struct link *l, short *events) {
        int error = 0;
        socklen_t size = sizeof(error);

        if (l->tls)
                return tls_client_close_notify(l->tls, events);
        *events = 0;
        if (l->datagram_max) {
                if (getsockopt(l->fd, SOL_SOCKET, SO_ERROR, &error, &size) < 0)
                        return -errno;
                return -error;
        }
        return shutdown(l->fd, SHUT_WR) < 0 ? -errno : 0;
}

/* After a link call failed with r: 0 once it may be called again (the
 * socket is ready), or the failure. */
static int link_wait(const struct link *l, ssize_t r, short events, int timeout_ms) {
        if (r == -EINTR)
                return 0;
        if (r != -EAGAIN)
                return (int) r;
        return wait_for(l->fd, events, timeout_ms);
}

static void link_close(struct link *l) {
        tls_client_free(l->tls);
        l->tls = NULL;
        if (l->fd >= 0)
                close(l->fd);
        l->fd = -1;
}

/* The most one datagram to the peer of connected UDP socket fd carries. */
static size_t datagram_max(int fd) {
        struct sockaddr_storage peer = { .ss_family = AF_UNSPEC };
        socklen_t size = sizeof(peer);
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) &peer;

        if (getpeername(fd, (struct sockaddr *) &peer, &size) < 0 || peer.ss_family != AF_INET6 ||
            IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
                return CLIENT_UDP_MAX_IPV4;
        return CLIENT_UDP_MAX_IPV6;
}

static int tls_handshake(struct link *l, const char *host, long long deadline) {
        int r = tls_client_attach(l->tls, l->fd, host);

        while (r >= 0) {
                short events;

                r = tls_client_handshake(l->tls, &events);
                if (r == 0)
                        return 0;
                r = link_wait(l, r, events, ms_until(deadline));
        }
        return r;
}

/* Connects to harkd, with TLS when asked for; one deadline for both, as
 * what -t bounds is "until harkd can be written to". Returns 0 or the exit
 * status, having said why. */
static int open_link(const struct client_options *o, struct link *l, FILE *err) {
        long long deadline = now_ms() + (long long) (o->timeout * 1000);
        char error[TLS_CLIENT_ERROR_MAX];
        int r;

        *l = (struct link) { .fd = -1 };
        /* The files first: a bad one is the user's to fix, not harkd's. */
        if (o->tls && tls_client_new(&l->tls, &o->tls_files, error, sizeof(error)) < 0) {
                fprintf(err, "hark: TLS: %s\n", error);
                return EX_CONFIG;
        }
        l->fd = connect_to(o, deadline, err);
        if (l->fd < 0) {
                link_close(l);
                return EX_UNAVAILABLE;
        }
        if (o->udp)
                l->datagram_max = datagram_max(l->fd);
        r = o->tls ? tls_handshake(l, o->host, deadline) : 0;
        if (r < 0) {
                fprintf(err, "hark: %s port %s: TLS: %s\n", o->host, o->port,
                        r == -ETIMEDOUT ? "no handshake in time"
                        : r == -ECONNRESET || r == -EPIPE ? "closed by harkd during the handshake (refused? see its log)"
                        : tls_client_error(l->tls));
                link_close(l);
                return EX_UNAVAILABLE;
        }
        return 0;
}

/* Syslog mode buffers each line of standard input to put a header in front:
 * a line longer than harkd's largest max_message_size is cut there. */
#define CLIENT_LINE_MAX (64 * 1024 * 1024)
/* Composed messages go out in chunks of about this size. */
#define CLIENT_FLUSH_SIZE 65536

struct sender {
        struct link link;
        int timeout_ms;
        /* Plain lines: frames what we send, as harkd will, to count it.
         * Syslog: cuts standard input (and, in lines framing, arguments)
         * into the messages to compose, as harkd would cut the lines. */
        struct framer counter;
        uint64_t expected;              /* UDP: the messages taken, sent or not */
        uint64_t sent;                  /* UDP: the datagrams the kernel took */
        uint64_t too_long;              /* UDP: the messages no datagram carries */
        /* Syslog only. */
        const struct syslog_composer *composer;
        struct syslog_buffer out;       /* composed, not yet sent */
        int error;                      /* of composing inside a framer callback */
        bool warned_cut;
        FILE *err;
};

static void count_message(void *userdata, const struct framed_message *m) {
        (void) m;
        ((struct sender *) userdata)->expected++;
}

static int write_all(struct sender *s, const char *data, size_t size) {
        while (size > 0) {
                short events;
                ssize_t n = link_send(&s->link, data, size, &events);
                int r;

                if (n < 0) {
                        r = link_wait(&s->link, n, events, s->timeout_ms);
                        if (r < 0)
                                return r;
                        continue;
                }
                /* A datagram goes whole or not at all. */
                assert(!s->link.datagram_max || (size_t) n == size);
                data += n;
                size -= (size_t) n;
        }
        return 0;
}

/* Plain lines: the bytes as they are, counted as harkd will frame them. */
static int send_bytes(struct sender *s, const char *data, size_t size) {
        int r = framer_feed(&s->counter, data, size, count_message, s);

        return r < 0 ? r : write_all(s, data, size);
}

static int flush(struct sender *s) {
        int r = write_all(s, s->out.data, s->out.size);

        s->out.size = 0;
        return r;
}

/* The start of a message, for naming it in a line on standard error:
 * printable ASCII as it is, any other byte as \xNN. */
static const char *quote_start(const char *text, size_t size, char *buffer, size_t buffer_size) {
        enum { SHOWN = 24 };
        size_t used = 0;

        assert(buffer_size >= SHOWN * 4 + 4);
        for (size_t i = 0; i < size && i < SHOWN; i++) {
                unsigned char c = (unsigned char) text[i];

                if (c >= ' ' && c < 0x7f && c != '"' && c != '\\')
                        buffer[used++] = (char) c;
                else
                        used += (size_t) snprintf(buffer + used, buffer_size - used, "\\x%02x", c);
        }
        snprintf(buffer + used, buffer_size - used, "%s", size > SHOWN ? "..." : "");
        return buffer;
}

/* UDP: a message no datagram carries is not sent (a cut one would land
 * looking whole); the others still are, and hark exits 65. size 0: the
 * line is longer than the framer takes, text its first bytes. */
static void report_too_long(struct sender *s, const char *text, size_t text_size, size_t size) {
        const char *family = s->link.datagram_max == CLIENT_UDP_MAX_IPV6 ? "IPv6" : "IPv4";
        char start[128];

        s->too_long++;
        quote_start(text, text_size, start, sizeof(start));
        if (size == 0)
                fprintf(s->err, "hark: message %" PRIu64 " (\"%s\") is longer than a UDP datagram over %s "
                        "carries (%zu bytes); not sent\n", s->expected, start, family, s->link.datagram_max);
        else
                fprintf(s->err, "hark: message %" PRIu64 " (\"%s\") is %zu bytes%s, more than a UDP datagram over %s "
                        "carries (%zu); not sent\n", s->expected, start, size,
                        s->composer ? " with its syslog header" : "", family, s->link.datagram_max);
}

/* UDP: one message, one datagram; text is the message, for naming it. */
static int send_datagram(struct sender *s, const char *data, size_t size, const char *text, size_t text_size) {
        int r;

        s->expected++;
        if (size > s->link.datagram_max) {
                report_too_long(s, text, text_size, size);
                return 0;
        }
        r = write_all(s, data, size);
        if (r == -EMSGSIZE) {
                /* The kernel's own limit is lower (IP options, a jumbogram-less path). */
                report_too_long(s, text, text_size, size);
                return 0;
        }
        if (r >= 0)
                s->sent++;
        return r;
}

/* One message: over UDP a datagram of its own, plain or with a syslog
 * header; over TCP with its header, stamped now. Each composed message is
 * exactly one record for harkd (a line without LF or NUL inside, or one
 * octet frame), so counting them counts what harkd will confirm. */
static int compose_one(struct sender *s, const char *msg, size_t size) {
        struct syslog_time now;
        const char *datagram, *end;
        int r;

        if (!s->composer)
                return send_datagram(s, msg, size, msg, size);
        r = syslog_compose(s->composer, syslog_time_now(&now) == 0 ? &now : NULL, msg, size, &s->out);
        if (r < 0)
                return r;
        if (s->link.datagram_max) {
                /* Composed as an octet frame, "MSG-LEN SP message": the
                 * datagram is the message, LFs and NULs in it data. */
                end = s->out.data + s->out.size;
                datagram = memchr(s->out.data, ' ', s->out.size);
                assert(datagram);
                datagram++;
                s->out.size = 0;
                return send_datagram(s, datagram, (size_t) (end - datagram), msg, size);
        }
        s->expected++;
        return s->out.size >= CLIENT_FLUSH_SIZE ? flush(s) : 0;
}

/* A message without the CRs and LFs at its end: harkd drops them from a
 * syslog MSG (and a line's last CR in lines framing), so they are sent in
 * neither framing, and a message of nothing else is no message. */
static size_t text_size(const char *msg, size_t size) {
        while (size > 0 && (msg[size - 1] == '\n' || msg[size - 1] == '\r'))
                size--;
        return size;
}

static void compose_record(void *userdata, const struct framed_message *m) {
        struct sender *s = userdata;
        size_t size;

        if (s->error < 0)
                return;
        if (m->truncated && s->link.datagram_max) {
                s->expected++;
                report_too_long(s, m->data, m->size, 0);
                return;
        }
        if (m->truncated && !s->warned_cut) {
                fprintf(s->err, "hark: a line of more than %d bytes was cut there\n", CLIENT_LINE_MAX);
                s->warned_cut = true;
        }
        size = text_size(m->data, m->size);
        if (size > 0)
                s->error = compose_one(s, m->data, size);
}

/* Syslog: bytes cut into records, each composed and sent. */
static int send_split(struct sender *s, const char *data, size_t size) {
        int r = framer_feed(&s->counter, data, size, compose_record, s);

        if (r >= 0)
                r = s->error;
        return r < 0 ? r : flush(s);
}

/* Syslog: the last record without its line end. */
static int finish_split(struct sender *s) {
        int r = framer_finish(&s->counter, compose_record, s);

        if (r >= 0)
                r = s->error;
        return r < 0 ? r : flush(s);
}

/* read(2), not fread(): a slow producer's line goes out as soon as it is
 * written, instead of waiting for a full buffer while harkd's idle timeout
 * runs. */
static int send_stream(struct sender *s, FILE *in, int (*send_chunk)(struct sender *, const char *, size_t)) {
        char buffer[16384];
        int fd = fileno(in);

        for (;;) {
                ssize_t n = read(fd, buffer, sizeof(buffer));
                int r;

                if (n == 0)
                        break;
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -EIO;
                }
                r = send_chunk(s, buffer, (size_t) n);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int send_plain_messages(struct sender *s, const struct client_options *o, FILE *in) {
        int r = 0;

        if (o->n_messages == 0)
                return send_stream(s, in, send_bytes);
        for (int i = 0; i < o->n_messages && r >= 0; i++) {
                if (strcmp(o->messages[i], "-") == 0) {
                        r = send_stream(s, in, send_bytes);
                        /* Input without a final newline must not run into the next message. */
                        if (r >= 0 && i + 1 < o->n_messages && framer_in_line(&s->counter))
                                r = send_bytes(s, "\n", 1);
                } else {
                        r = send_bytes(s, o->messages[i], strlen(o->messages[i]));
                        if (r >= 0)
                                r = send_bytes(s, "\n", 1);
                }
        }
        return r;
}

/* Syslog, and anything over UDP. Standard input is read line by line in
 * either framing; an argument is one octet frame or datagram, LFs inside and
 * all, or in lines framing one message per line, as without syslog. Empty
 * lines and arguments make no message either way. */
static int send_records(struct sender *s, const struct client_options *o, FILE *in) {
        int r = 0;

        if (o->n_messages == 0) {
                r = send_stream(s, in, send_split);
                return r < 0 ? r : finish_split(s);
        }
        for (int i = 0; i < o->n_messages && r >= 0; i++) {
                const char *m = o->messages[i];

                if (strcmp(m, "-") == 0) {
                        r = send_stream(s, in, send_split);
                        if (r >= 0)
                                r = finish_split(s);
                } else if (o->octet_count || s->link.datagram_max) {
                        size_t size = text_size(m, strlen(m));

                        if (size > 0)
                                r = compose_one(s, m, size);
                        if (r >= 0)
                                r = flush(s);
                } else {
                        r = send_split(s, m, strlen(m));
                        if (r >= 0)
                                r = finish_split(s);
                }
        }
        return r;
}

static int send_all_messages(struct sender *s, const struct client_options *o, FILE *in) {
        if (o->ping)
                return 0;
        return o->syslog || s->link.datagram_max ? send_records(s, o, in) : send_plain_messages(s, o, in);
}

/* The header parts of every message: priority, host, tag, pid, fields. */
static int syslog_setup(const struct client_options *o, struct syslog_composer *c) {
        struct syslog_field fields[CLIENT_FIELDS_MAX];
        char hostname[SYSLOG_HOSTNAME_MAX + 2] = "", procid[24];

        for (int i = 0; i < o->n_fields; i++) {
                const char *eq = strchr(o->fields[i], '=');

                fields[i] = (struct syslog_field) {
                        .name = { o->fields[i], (size_t) (eq - o->fields[i]) },
                        .value = { eq + 1, strlen(eq + 1) },
                };
        }
        /* A name that does not fit or is cut becomes the NILVALUE. */
        if (gethostname(hostname, sizeof(hostname)) < 0 || hostname[sizeof(hostname) - 1])
                hostname[0] = 0;
        snprintf(procid, sizeof(procid), "%ld", (long) getpid());
        return syslog_composer_init(c, &(struct syslog_compose_options) {
                .facility = o->facility,
                .severity = o->severity,
                .hostname = hostname,
                .app_name = o->tag ? o->tag : CLIENT_DEFAULT_TAG,
                .procid = procid,
                .fields = fields,
                .n_fields = (size_t) o->n_fields,
                /* UDP: see compose_one(). */
                .octet_count = o->octet_count || o->udp,
        });
}

/* Ends what we send and reads harkd's "OK <n>\n" in answer. */
static int read_confirmation(struct link *l, int timeout_ms, uint64_t *confirmed) {
        long long deadline = now_ms() + timeout_ms;
        char reply[64] = "";
        size_t used = 0;
        short events;
        char *end;
        int r;

        while ((r = link_finish(l, &events)) < 0)
                if ((r = link_wait(l, r, events, ms_until(deadline))) < 0)
                        return r;
        while (used < sizeof(reply) - 1 && !memchr(reply, '\n', used)) {
                ssize_t n = link_recv(l, reply + used, sizeof(reply) - 1 - used, &events);

                if (n == 0)
                        return -ECONNRESET;
                if (n > 0)
                        used += (size_t) n;
                else if ((r = link_wait(l, n, events, ms_until(deadline))) < 0)
                        return r;
        }
        reply[used] = 0;
        if (strncmp(reply, "OK ", 3) != 0)
                return -EBADMSG;
        errno = 0;
        *confirmed = strtoull(reply + 3, &end, 10);
        return errno || end == reply + 3 || *end != '\n' ? -EBADMSG : 0;
}

/* A peer that closes at once (harkd refusing a source outside its allow
 * list does) shows as a reset, a broken pipe, or, at the half-close, as a
 * socket no longer connected, whenever hark sends or waits for the answer. */
static const char *what_failed(const struct link *l, int r, char *buffer, size_t size) {
        if (r == -EPROTO && l->tls) {
                snprintf(buffer, size, "TLS: %s", tls_client_error(l->tls));
                return buffer;
        }
        return r == -ETIMEDOUT ? "no answer in time"
             : r == -ECONNRESET || r == -EPIPE || r == -ENOTCONN ? "closed by harkd before confirming (refused? see its log)"
             : r == -EBADMSG ? "harkd sent an answer hark does not understand"
             : strerror(-r);
}

/* Whether harkd runs on this machine: then its journal is this machine's. */
static bool peer_is_local(int fd) {
        struct sockaddr_storage peer = { .ss_family = AF_UNSPEC }, self = { .ss_family = AF_UNSPEC };
        socklen_t peer_len = sizeof(peer), self_len = sizeof(self);

        if (getpeername(fd, (struct sockaddr *) &peer, &peer_len) < 0 ||
            getsockname(fd, (struct sockaddr *) &self, &self_len) < 0)
                return false;
        if (peer.ss_family == AF_UNIX)
                return true;
        if (peer.ss_family == AF_INET) {
                const struct sockaddr_in *p = (const struct sockaddr_in *) &peer, *l = (const struct sockaddr_in *) &self;
                return (ntohl(p->sin_addr.s_addr) >> 24) == 127 || p->sin_addr.s_addr == l->sin_addr.s_addr;
        }
        if (peer.ss_family == AF_INET6) {
                const struct sockaddr_in6 *p = (const struct sockaddr_in6 *) &peer, *l = (const struct sockaddr_in6 *) &self;
                return IN6_IS_ADDR_LOOPBACK(&p->sin6_addr) || IN6_ARE_ADDR_EQUAL(&p->sin6_addr, &l->sin6_addr);
        }
        return false;
}

/* hark sees only the count; say what most likely kept the rest out. */
static const char *shortfall_reason(bool harkd_is_local) {
        if (harkd_is_local && !journal_present())
                return "journald is not running on this machine (no " JOURNAL_SOCKET_PATH "), "
                       "so harkd could not log them";
        return "harkd could not hand the others to the journal; its log says why "
               "(journalctl -t harkd, or its standard error)";
}

/* TCP and TLS: what harkd confirmed. */
static int confirmed_outcome(struct sender *s, const struct client_options *o, int r, FILE *out, FILE *err) {
        char reason[TLS_CLIENT_ERROR_MAX + 8];
        bool harkd_is_local = peer_is_local(s->link.fd);
        uint64_t confirmed = 0;
        int status;

        if (r >= 0)
                r = read_confirmation(&s->link, s->timeout_ms, &confirmed);
        if (r < 0) {
                fprintf(err, "hark: %s port %s: %s; %" PRIu64 " messages sent, none confirmed\n", o->host, o->port,
                        what_failed(&s->link, r, reason, sizeof(reason)), s->expected);
                return EX_TEMPFAIL;
        }
        status = confirmed == s->expected ? EX_OK : EX_TEMPFAIL;
        if (o->ping && status == EX_OK)
                fprintf(out, "harkd at %s port %s is answering\n", o->host, o->port);
        else if (status != EX_OK)
                fprintf(err, "hark: %s port %s confirmed %" PRIu64 " of %" PRIu64 " messages: %s\n",
                        o->host, o->port, confirmed, s->expected, shortfall_reason(harkd_is_local));
        return status;
}

/* UDP: nothing answers; what the socket reported is all hark can know. */
static int sent_outcome(struct sender *s, const struct client_options *o, int r, FILE *err) {
        short events;

        if (r >= 0)
                r = link_finish(&s->link, &events);
        if (r == -ECONNREFUSED) {
                fprintf(err, "hark: %s port %s: nobody listens on this UDP port (\"port unreachable\" came back); "
                        "%" PRIu64 " sent before that, lost unless harkd had them\n", o->host, o->port, s->sent);
                return EX_UNAVAILABLE;
        }
        if (r < 0) {
                fprintf(err, "hark: %s port %s: cannot send over UDP: %s; %" PRIu64 " sent before that\n",
                        o->host, o->port, r == -ETIMEDOUT ? "the socket took no datagram in time" : strerror(-r),
                        s->sent);
                return r == -ETIMEDOUT ? EX_TEMPFAIL : EX_UNAVAILABLE;
        }
        if (s->too_long > 0) {
                fprintf(err, "hark: %" PRIu64 " of %" PRIu64 " messages too long for a UDP datagram were not sent "
                        "(without --udp, over TCP, they would be)\n", s->too_long, s->expected);
                return EX_DATAERR;
        }
        return EX_OK;
}

int client_run(const struct client_options *o, FILE *in, FILE *out, FILE *err) {
        struct sender s = { .timeout_ms = (int) (o->timeout * 1000), .err = err };
        struct syslog_composer composer = { 0 };
        int r, status;

        if (o->syslog) {
                r = syslog_setup(o, &composer);
                if (r < 0) {
                        fprintf(err, "hark: cannot set up the syslog header: %s\n", strerror(-r));
                        return EX_OSERR;
                }
                s.composer = &composer;
        }
        status = open_link(o, &s.link, err);
        if (status != 0) {
                syslog_composer_done(&composer);
                return status;
        }
        if (s.link.datagram_max)
                /* A line per datagram, and a longer line fits none anyway;
                 * NUL is data, as harkd takes a datagram whole. */
                framer_init_framing(&s.counter, s.link.datagram_max, FRAMING_LINES, 0);
        else if (o->syslog)
                /* NUL would end a record at harkd in lines framing (as
                 * Python's SysLogHandler sends them): cut there ourselves. */
                framer_init_framing(&s.counter, CLIENT_LINE_MAX, FRAMING_LINES,
                                    o->octet_count ? 0 : FRAMER_NUL_ENDS_LINE);
        else
                /* Counting only: how long a line is does not change how many there are. */
                framer_init(&s.counter, 1);
        r = send_all_messages(&s, o, in);
        if (!o->syslog && !s.link.datagram_max)
                (void) framer_finish(&s.counter, count_message, &s);
        framer_done(&s.counter);
        syslog_buffer_free(&s.out);
        syslog_composer_done(&composer);
        if (r == -EIO) {
                fprintf(err, "hark: cannot read standard input\n");
                status = EX_IOERR;
        } else if (s.link.datagram_max)
                status = sent_outcome(&s, o, r, err);
        else
                status = confirmed_outcome(&s, o, r, out, err);
        link_close(&s.link);
        return status;
}
