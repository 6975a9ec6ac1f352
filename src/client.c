#include "client.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

#include "config.h"
#include "framer.h"
#include "journal.h"
#include "net.h"
#include "util.h"

static const char usage_text[] =
        "Usage: hark [OPTIONS] [MESSAGE...]\n"
        "Send each MESSAGE (or, with none or \"-\", each line of standard input) to harkd,\n"
        "and exit 0 once harkd has confirmed that all of them reached the journal.\n\n"
        "  -H, --host HOST        harkd's address (default: from the config, else 127.0.0.1)\n"
        "  -p, --port PORT        harkd's port (default: from the config, else 10001)\n"
        "  -c, --config FILE      read host and port from this harkd config\n"
        "                         (default " HARK_DEFAULT_CONFIG ")\n"
        "  -t, --timeout SECONDS  how long to wait to connect and for the confirmation\n"
        "                         (default 10)\n"
        "      --ping             only check that harkd is up and answering\n"
        "  -h, --help             show this help and exit\n"
        "  -V, --version          show the version and exit\n\n"
        "Exit status: 0 all confirmed, 64 usage error, 69 cannot connect,\n"
        "74 cannot read standard input, 75 not all messages confirmed,\n"
        "78 configuration error. See hark(1).\n";

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

static int usage_error(FILE *err, const char *format, const char *arg) {
        fputs("hark: ", err);
        fprintf(err, format, arg);
        fputs("\nTry 'hark --help'.\n", err);
        return EX_USAGE;
}

int client_parse_args(int argc, char **argv, struct client_options *o, FILE *out, FILE *err) {
        static const struct option options[] = {
                { "host", required_argument, NULL, 'H' },
                { "port", required_argument, NULL, 'p' },
                { "config", required_argument, NULL, 'c' },
                { "timeout", required_argument, NULL, 't' },
                { "ping", no_argument, NULL, 'P' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        int c;

        *o = (struct client_options) { .config_path = HARK_DEFAULT_CONFIG, .timeout = CLIENT_DEFAULT_TIMEOUT };
        optind = 0;     /* a fresh scan on every call (tests call it more than once) */
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+:H:p:c:t:hV", options, NULL)) != -1)
                switch (c) {
                case 'H':
                        if (!*optarg)
                                return usage_error(err, "empty host%s", "");
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
                case 'P':
                        o->ping = true;
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
                        if (optopt)
                                return usage_error(err, "unknown option '-%s'", (const char[]) { (char) optopt, 0 });
                        return usage_error(err, "unknown option '%s'", argv[optind - 1]);
                }
        o->messages = argv + optind;
        o->n_messages = argc - optind;
        if (o->ping && o->n_messages > 0)
                return usage_error(err, "--ping takes no messages%s", "");
        return CLIENT_CONTINUE;
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

static int connect_to(const struct client_options *o, FILE *err) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *list;
        long long deadline = now_ms() + (long long) (o->timeout * 1000);
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

struct sender {
        int fd;
        int timeout_ms;
        struct framer counter;          /* frames what we send, as harkd will */
        uint64_t expected;
};

static void count_message(void *userdata, const struct framed_message *m) {
        (void) m;
        ((struct sender *) userdata)->expected++;
}

static int send_bytes(struct sender *s, const char *data, size_t size) {
        int r = framer_feed(&s->counter, data, size, count_message, s);

        while (r >= 0 && size > 0) {
                ssize_t n = send(s->fd, data, size, MSG_NOSIGNAL);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno != EAGAIN)
                                return -errno;
                        r = wait_for(s->fd, POLLOUT, s->timeout_ms);
                        continue;
                }
                data += n;
                size -= (size_t) n;
        }
        return r;
}

/* read(2), not fread(): a slow producer's line goes out as soon as it is
 * written, instead of waiting for a full buffer while harkd's idle timeout
 * runs. */
static int send_stream(struct sender *s, FILE *in) {
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
                r = send_bytes(s, buffer, (size_t) n);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int send_all_messages(struct sender *s, const struct client_options *o, FILE *in) {
        int r = 0;

        if (o->ping)
                return 0;
        if (o->n_messages == 0)
                return send_stream(s, in);
        for (int i = 0; i < o->n_messages && r >= 0; i++) {
                if (strcmp(o->messages[i], "-") == 0) {
                        r = send_stream(s, in);
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

/* Reads harkd's "OK <n>\n" after our half-close. */
static int read_confirmation(int fd, int timeout_ms, uint64_t *confirmed) {
        long long deadline = now_ms() + timeout_ms;
        char reply[64];
        size_t used = 0;
        char *end;

        while (used < sizeof(reply) - 1 && !memchr(reply, '\n', used)) {
                ssize_t n;
                int r = wait_for(fd, POLLIN, ms_until(deadline));

                if (r < 0)
                        return r;
                n = recv(fd, reply + used, sizeof(reply) - 1 - used, 0);
                if (n < 0 && errno != EINTR && errno != EAGAIN)
                        return -errno;
                if (n == 0)
                        return -ECONNRESET;
                if (n > 0)
                        used += (size_t) n;
        }
        reply[used] = 0;
        if (strncmp(reply, "OK ", 3) != 0)
                return -EBADMSG;
        errno = 0;
        *confirmed = strtoull(reply + 3, &end, 10);
        return errno || end == reply + 3 || *end != '\n' ? -EBADMSG : 0;
}

static const char *what_failed(int r) {
        return r == -ETIMEDOUT ? "no answer in time"
             : r == -ECONNRESET ? "harkd closed the connection without an answer"
             : r == -EBADMSG ? "harkd sent an answer hark does not understand"
             : strerror(-r);
}

/* Whether harkd runs on this machine: then its journal is this machine's. */
static bool peer_is_local(int fd) {
        struct sockaddr_storage peer, self;
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

int client_run(const struct client_options *o, FILE *in, FILE *out, FILE *err) {
        struct sender s = { .timeout_ms = (int) (o->timeout * 1000) };
        uint64_t confirmed = 0;
        bool harkd_is_local;
        int r, status;

        s.fd = connect_to(o, err);
        if (s.fd < 0)
                return EX_UNAVAILABLE;
        harkd_is_local = peer_is_local(s.fd);
        /* Counting only: how long a line is does not change how many there are. */
        framer_init(&s.counter, 1);
        r = send_all_messages(&s, o, in);
        framer_finish(&s.counter, count_message, &s);
        framer_done(&s.counter);
        if (r == -EIO) {
                fprintf(err, "hark: cannot read standard input\n");
                close(s.fd);
                return EX_IOERR;
        }
        if (r >= 0 && shutdown(s.fd, SHUT_WR) < 0)
                r = -errno;
        if (r >= 0)
                r = read_confirmation(s.fd, s.timeout_ms, &confirmed);
        close(s.fd);

        if (r < 0) {
                fprintf(err, "hark: %s port %s: %s; %" PRIu64 " messages sent, none confirmed\n",
                        o->host, o->port, what_failed(r), s.expected);
                return EX_TEMPFAIL;
        }
        status = confirmed == s.expected ? EX_OK : EX_TEMPFAIL;
        if (o->ping && status == EX_OK)
                fprintf(out, "harkd at %s port %s is answering\n", o->host, o->port);
        else if (status != EX_OK)
                fprintf(err, "hark: %s port %s confirmed %" PRIu64 " of %" PRIu64 " messages: %s\n",
                        o->host, o->port, confirmed, s.expected, shortfall_reason(harkd_is_local));
        return status;
}
