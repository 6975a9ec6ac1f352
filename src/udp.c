#include "udp.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <time.h>

#include "entry.h"
#include "events.h"
#include "journal.h"
#include "log.h"
#include "util.h"

/* Datagrams per recvmmsg(2): enough to make a wake-up pay, few enough that
 * the buffers stay small. */
#define BATCH 32
/* The largest UDP payload (IPv6 without jumbograms), and a byte more to see
 * a datagram that was cut. */
#define DATAGRAM_MAX 65535
/* Sources the rate limit remembers; a spoofer making up addresses only
 * recycles the entries longest quiet. A power of two. */
#define SOURCES_MAX 4096
#define SOURCE_PROBES 8
/* How often drops are reported: per source, and the kernel's. */
#define REPORT_INTERVAL_MS 10000

struct source {
        bool used;
        int family;
        uint8_t address[16];
        struct udp_bucket bucket;
        uint64_t dropped;               /* by the rate limit since the last report */
};

struct datagram {
        char headroom[FRAMER_HEADROOM]; /* entry_build() writes here */
        char data[DATAGRAM_MAX + 1];
};

struct udp_receiver {
        struct server *server;
        pthread_t thread;
        struct source sources[SOURCES_MAX];
        uint64_t dropped_elsewhere;     /* of sources forgotten before their report */
        uint32_t kernel_drops[LISTENERS_MAX];   /* SO_RXQ_OVFL as last seen, per socket */
        bool kernel_drops_seen[LISTENERS_MAX];
        uint64_t kernel_unreported;
        long long next_report_ms, last_report_ms;
        /* The facts of the datagram being logged, for entry_build(). */
        struct iovec context[3];
        char context_text[128];
        const struct hark_config *config;       /* acquired, for the builder */
        struct entry_builder entry;
        struct datagram datagrams[BATCH];
        struct mmsghdr headers[BATCH];
        struct iovec iov[BATCH];
        struct sockaddr_storage addresses[BATCH];
        char controls[BATCH][CMSG_SPACE(sizeof(uint32_t))];
};

bool udp_bucket_take(struct udp_bucket *b, int rate, long long now_ms) {
        double elapsed;

        assert(rate > 0);
        if (b->last_ms == 0)
                b->tokens = rate;
        else if ((elapsed = (double) (now_ms - b->last_ms) / 1000.0) > 0) {
                b->tokens += elapsed * rate;
                if (b->tokens > rate)
                        b->tokens = rate;
        }
        b->last_ms = now_ms;
        if (b->tokens < 1.0)
                return false;
        b->tokens -= 1.0;
        return true;
}

/* The source's address; an IPv4 sender on a dual-stack socket as the IPv4
 * address it is (as its entries name it). */
static size_t address_of(const struct sockaddr_storage *sa, int *family, const uint8_t **address) {
        static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

        *family = sa->ss_family;
        if (sa->ss_family == AF_INET) {
                *address = (const uint8_t *) &((const struct sockaddr_in *) sa)->sin_addr;
                return 4;
        }
        *address = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
        if (memcmp(*address, v4_mapped, sizeof(v4_mapped)) == 0) {
                *family = AF_INET;
                *address += sizeof(v4_mapped);
                return 4;
        }
        return 16;
}

static uint32_t hash_address(const uint8_t *address, size_t size) {
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < size; i++)
                h = (h ^ address[i]) * 16777619u;
        return h;
}

/* The entry of the datagram's source: found, free, or the quietest of its
 * probes, recycled. */
static struct source *source_for(struct udp_receiver *u, const struct sockaddr_storage *sa) {
        const uint8_t *address;
        int family;
        size_t size = address_of(sa, &family, &address);
        uint32_t h = hash_address(address, size);
        struct source *quietest = NULL;

        for (unsigned i = 0; i < SOURCE_PROBES; i++) {
                struct source *src = &u->sources[(h + i) & (SOURCES_MAX - 1)];

                if (src->used && src->family == family && memcmp(src->address, address, size) == 0)
                        return src;
                if (!src->used) {
                        quietest = src;
                        break;
                }
                if (!quietest || src->bucket.last_ms < quietest->bucket.last_ms)
                        quietest = src;
        }
        u->dropped_elsewhere += quietest->used ? quietest->dropped : 0;
        *quietest = (struct source) { .used = true, .family = family };
        memcpy(quietest->address, address, size);
        return quietest;
}

static void source_name(const struct source *src, char *name, size_t size) {
        if (!inet_ntop(src->family, src->address, name, (socklen_t) size))
                snprintf(name, size, "?");
}

static void report_rate_limited(struct udp_receiver *u, int rate, int seconds) {
        struct counters *counters = u->server->counters;

        for (size_t i = 0; i < SOURCES_MAX; i++) {
                struct source *src = &u->sources[i];
                char name[INET6_ADDRSTRLEN], field[INET6_ADDRSTRLEN + 16];
                struct iovec iov;
                unsigned suppressed;

                if (!src->used || src->dropped == 0)
                        continue;
                if (log_ratelimit_pass(&counters->logs.udp_rate_limited, &suppressed)) {
                        source_name(src, name, sizeof(name));
                        snprintf(field, sizeof(field), "REMOTE_ADDR=%s", name);
                        iov = (struct iovec) { field, strlen(field) };
                        log_event(LOG_WARNING, EVENT_UDP_RATE_LIMITED, &iov, 1,
                                  "Dropped %" PRIu64 " datagrams from %s over udp_rate_per_source (%d a second) "
                                  "in the last %d s; %u similar reports not logged before this one",
                                  src->dropped, name, rate, seconds, suppressed);
                }
                src->dropped = 0;
        }
        if (u->dropped_elsewhere > 0)
                log_warning("Dropped %" PRIu64 " datagrams over udp_rate_per_source from sources no longer "
                            "tracked (more than %d sources)", u->dropped_elsewhere, SOURCES_MAX);
        u->dropped_elsewhere = 0;
}

static void report_kernel_drops(struct udp_receiver *u, int seconds) {
        unsigned suppressed;

        if (u->kernel_unreported == 0)
                return;
        if (log_ratelimit_pass(&u->server->counters->logs.udp_kernel_drops, &suppressed))
                log_event(LOG_WARNING, EVENT_UDP_KERNEL_DROPS, NULL, 0,
                          "The kernel dropped %" PRIu64 " datagrams for harkd in the last %d s: the socket's "
                          "receive buffer was full (raise udp_receive_buffer, and net.core.rmem_max unless "
                          "harkd runs as root); %u similar reports not logged before this one",
                          u->kernel_unreported, seconds, suppressed);
        u->kernel_unreported = 0;
}

/* The kernel's drop counter of socket i (sk_drops) as seen now. Drops
 * before harkd's first look count too: they happened to harkd's socket. It
 * wraps at 2^32, and a datagram's copy may be older than one read since:
 * only a step forward counts. */
static void note_kernel_drops(struct udp_receiver *u, size_t i, uint32_t drops) {
        int32_t delta = u->kernel_drops_seen[i] ? (int32_t) (drops - u->kernel_drops[i]) : (int32_t) drops;

        u->kernel_drops_seen[i] = true;
        if (delta <= 0)
                return;
        u->kernel_drops[i] = drops;
        atomic_fetch_add(&u->server->counters->udp_kernel_drops, (unsigned) delta);
        u->kernel_unreported += (unsigned) delta;
}

/* The counter as it came with a datagram (SO_RXQ_OVFL). */
static void note_datagram_drops(struct udp_receiver *u, size_t i, struct msghdr *mh) {
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                uint32_t drops;

                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL)
                        continue;
                memcpy(&drops, CMSG_DATA(c), sizeof(drops));
                note_kernel_drops(u, i, drops);
        }
}

/* The counter read from each socket (SO_MEMINFO): drops after the last
 * datagram come with none. */
static void read_kernel_drops(struct udp_receiver *u) {
        for (size_t i = 0; i < u->server->listeners.n_udp; i++) {
                uint32_t info[SK_MEMINFO_VARS];
                socklen_t len = sizeof(info);

                if (getsockopt(u->server->listeners.udp_fds[i], SOL_SOCKET, SO_MEMINFO, info, &len) == 0 &&
                    len > SK_MEMINFO_DROPS * sizeof(uint32_t))
                        note_kernel_drops(u, i, info[SK_MEMINFO_DROPS]);
        }
}

static void report(struct udp_receiver *u, bool now) {
        long long t = now_ms();
        const struct hark_config *config;
        int seconds;

        if (!now && t < u->next_report_ms)
                return;
        /* Rounded up: "in the last 0 s" would read as nothing. */
        seconds = (int) ((t - u->last_report_ms + 999) / 1000);
        u->last_report_ms = t;
        u->next_report_ms = t + REPORT_INTERVAL_MS;
        config = server_config_acquire(u->server);
        report_rate_limited(u, config->udp_rate_per_source, seconds);
        server_config_release(config);
        read_kernel_drops(u);
        report_kernel_drops(u, seconds);
}

/* The builder lives by one config: a new one after a reload. */
static void use_config(struct udp_receiver *u, const struct hark_config *config) {
        if (u->config == config) {
                server_config_release(config);
                return;
        }
        entry_builder_done(&u->entry);
        server_config_release(u->config);
        u->config = config;
        entry_builder_init(&u->entry, config, u->context, ELEMENTSOF(u->context));
}

static void set_context(struct udp_receiver *u, const struct peer *peer) {
        int a = snprintf(u->context_text, sizeof(u->context_text), "REMOTE_ADDR=%s", peer->address);
        int p = snprintf(u->context_text + a + 1, sizeof(u->context_text) - (size_t) a - 1, "REMOTE_PORT=%u",
                         peer->port);
        static const char transport[] = "HARK_TRANSPORT=udp";

        assert(a > 0 && p > 0 && (size_t) (a + p + 2) <= sizeof(u->context_text));
        u->context[0] = (struct iovec) { u->context_text, (size_t) a };
        u->context[1] = (struct iovec) { u->context_text + a + 1, (size_t) p };
        u->context[2] = (struct iovec) { (char *) transport, sizeof(transport) - 1 };
}

/* A datagram ends in whatever its sender's framing habit adds: a NUL
 * (Python's SysLogHandler), an LF, a CRLF. None of it is the message. */
static size_t trim_datagram(const char *data, size_t size) {
        if (size > 0 && data[size - 1] == '\0')
                size--;
        if (size > 0 && data[size - 1] == '\n')
                size--;
        if (size > 0 && data[size - 1] == '\r')
                size--;
        return size;
}

static void log_datagram(struct udp_receiver *u, struct datagram *d, size_t size, bool cut,
                         const struct peer *peer) {
        size_t max = (size_t) u->config->max_message_size;
        struct framed_message m = { .data = d->data };
        struct counters *counters = u->server->counters;
        struct entry e;
        unsigned suppressed;
        int r;

        size = trim_datagram(d->data, size);
        if (size == 0)
                return;
        m.truncated = cut || size > max;
        m.size = size > max ? max : size;
        set_context(u, peer);
        if (m.truncated)
                counters_report_truncated(counters, u->context, ELEMENTSOF(u->context), peer->name, max, m.size);
        entry_build(&u->entry, &m, &e);
        if (e.syslog_error)
                counters_report_malformed(counters, u->context, ELEMENTSOF(u->context), peer->name, e.syslog_error);
        r = journal_send(e.fields, e.n_fields);
        if (r >= 0) {
                atomic_fetch_add_explicit(&counters->messages, 1, memory_order_relaxed);
                return;
        }
        atomic_fetch_add(&counters->failed, 1);
        if (log_ratelimit_pass(&counters->logs.failed, &suppressed))
                log_event(LOG_ERR, EVENT_DELIVERY_FAILED, u->context, ELEMENTSOF(u->context),
                          "Failed to write a datagram from %s to the journal: %s; %u similar failures not "
                          "reported before this one", peer->name, strerror(-r), suppressed);
}

/* One datagram as it came, from socket i: counted, and logged unless the
 * allow list or the rate limit stops it. */
static void take_datagram(struct udp_receiver *u, size_t i, struct mmsghdr *h, struct datagram *d) {
        struct sockaddr_storage *sa = h->msg_hdr.msg_name;
        struct counters *counters = u->server->counters;
        int rate = u->config->udp_rate_per_source;
        struct peer peer;

        note_datagram_drops(u, i, &h->msg_hdr);
        atomic_fetch_add_explicit(&counters->udp_datagrams, 1, memory_order_relaxed);
        if (peer_from_address(-1, sa, h->msg_hdr.msg_namelen, &peer) < 0)
                return;
        if (!allowlist_permits(&u->config->allow, (const struct sockaddr *) sa)) {
                admission_refuse_stranger(&u->server->admission, -1, &peer);
                return;
        }
        if (rate > 0) {
                struct source *src = source_for(u, sa);

                if (!udp_bucket_take(&src->bucket, rate, now_ms())) {
                        src->dropped++;
                        atomic_fetch_add(&counters->udp_rate_limited, 1);
                        return;
                }
        }
        log_datagram(u, d, h->msg_len, h->msg_hdr.msg_flags & MSG_TRUNC, &peer);
}

static void prepare_headers(struct udp_receiver *u) {
        for (size_t i = 0; i < BATCH; i++) {
                u->iov[i] = (struct iovec) { u->datagrams[i].data, sizeof(u->datagrams[i].data) };
                u->headers[i].msg_hdr = (struct msghdr) {
                        .msg_name = &u->addresses[i], .msg_namelen = sizeof(u->addresses[i]),
                        .msg_iov = &u->iov[i], .msg_iovlen = 1,
                        .msg_control = u->controls[i], .msg_controllen = sizeof(u->controls[i]),
                };
        }
}

/* Reads one batch from socket i. Returns how many datagrams, 0 when none
 * was waiting, or -errno. */
static int receive_batch(struct udp_receiver *u, size_t i) {
        int fd = u->server->listeners.udp_fds[i], n;

        prepare_headers(u);
        n = recvmmsg(fd, u->headers, BATCH, MSG_DONTWAIT, NULL);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        use_config(u, server_config_acquire(u->server));
        for (int k = 0; k < n; k++)
                take_datagram(u, i, &u->headers[k], &u->datagrams[k]);
        return n;
}

/* After the stop request: what the sockets already hold, until the drain
 * bound. */
static void drain(struct udp_receiver *u) {
        long long deadline = atomic_load(&u->server->drain_deadline);
        bool more = true;

        while (more && ms_until(deadline) > 0) {
                more = false;
                for (size_t i = 0; i < u->server->listeners.n_udp; i++)
                        more |= receive_batch(u, i) > 0;
        }
}

static void *receive_loop(void *arg) {
        struct udp_receiver *u = arg;
        struct server *s = u->server;
        struct pollfd pfd[LISTENERS_MAX + 1];
        size_t n = s->listeners.n_udp;
        long long warned_ms = -1;

        for (size_t i = 0; i < n; i++)
                pfd[i] = (struct pollfd) { .fd = s->listeners.udp_fds[i], .events = POLLIN };
        pfd[n] = (struct pollfd) { .fd = s->stop_fd, .events = POLLIN };
        u->last_report_ms = now_ms();
        u->next_report_ms = u->last_report_ms + REPORT_INTERVAL_MS;
        while (!server_stopping(s)) {
                int r = poll(pfd, n + 1, REPORT_INTERVAL_MS);

                for (size_t i = 0; r > 0 && i < n; i++) {
                        int got = pfd[i].revents ? receive_batch(u, i) : 0;

                        if (got < 0 && once_per(&warned_ms, 1000))
                                log_warning("Failed to read datagrams: %s", strerror(-got));
                }
                report(u, false);
        }
        drain(u);
        report(u, true);
        return NULL;
}

int udp_receiver_start(struct udp_receiver **ret, struct server *s) {
        struct udp_receiver *u;
        int r;

        *ret = NULL;
        if (s->listeners.n_udp == 0)
                return 0;
        u = calloc(1, sizeof(*u));
        if (!u)
                return -ENOMEM;
        u->server = s;
        r = -pthread_create(&u->thread, NULL, receive_loop, u);
        if (r < 0) {
                free(u);
                return r;
        }
        *ret = u;
        return 0;
}

bool udp_receiver_stop(struct udp_receiver *u) {
        struct timespec deadline;
        long long ms;

        if (!u)
                return true;
        assert(server_stopping(u->server));
        /* A journal write that blocks past the bound keeps the thread: the
         * process then ends under it, as with connections (server_drain()). */
        ms = atomic_load(&u->server->drain_deadline) + DRAIN_GRACE_MS;
        clock_gettime(CLOCK_REALTIME, &deadline);
        ms = ms_until(ms);
        deadline.tv_sec += ms / 1000;
        deadline.tv_nsec += (ms % 1000) * 1000000;
        if (deadline.tv_nsec >= 1000000000) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000;
        }
        if (pthread_timedjoin_np(u->thread, NULL, &deadline) != 0)
                return false;
        entry_builder_done(&u->entry);
        server_config_release(u->config);
        free(u);
        return true;
}
