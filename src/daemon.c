#include "daemon.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "answerer.h"
#include "connection.h"
#include "events.h"
#include "journal.h"
#include "listener.h"
#include "log.h"
#include "mode.h"
#include "notify.h"
#include "privilege.h"
#include "server.h"
#include "tls.h"
#include "udp.h"
#include "util.h"

/* A freed message buffer must give its memory back for max_pending_bytes to
 * bound harkd's size, not only its live bytes: glibc would raise its mmap
 * threshold after the first large free and serve later buffers from arenas
 * that keep freed memory. A fixed threshold keeps large buffers mmapped. */
#define MMAP_THRESHOLD (128 * 1024)

/* Each connection is a descriptor: the soft limit of 1024 that systemd and
 * shells hand out would cap max_connections well below what it says. */
static void raise_fd_limit(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        log_warning("Failed to raise the open file limit, keeping %llu: %m",
                                    (unsigned long long) rl.rlim_cur);
        }
}

static bool any_tls(const struct listeners *l) {
        for (size_t i = 0; i < l->n; i++)
                if (l->tls[i])
                        return true;
        return l->connection_fd >= 0 && l->connection_tls;
}

/* Under socket activation the units decide what listens; they must agree
 * with the config on TLS, or TLS clients would meet a plain listener. */
static int check_passed_tls(const struct hark_config *config, const struct listeners *l, char *error, size_t size) {
        if (any_tls(l) && !config->tls_port) {
                snprintf(error, size, "systemd passed a socket named \"" LISTENER_TLS_NAME "\" but tls_port, "
                         "tls_certificate and tls_key are not set in the config");
                return -EINVAL;
        }
        if (!any_tls(l) && config->tls_port)
                log_warning("tls_port is set, but systemd passed no socket named \"" LISTENER_TLS_NAME "\": no TLS "
                            "listener (after editing harkd.conf: systemctl daemon-reload, then restart the sockets)");
        if (l->n_udp == 0 && config->udp_port)
                log_warning("udp_port is set, but systemd passed no datagram socket: no UDP listener (after "
                            "editing harkd.conf: systemctl daemon-reload, then restart the sockets)");
        return 0;
}

/* "Listening on 0.0.0.0:514 (UDP, receive buffer 8388608 bytes)"; a buffer
 * smaller than asked for is said, since it decides how much a burst loses. */
static void log_udp_listener(const struct hark_config *config, int fd, bool from_systemd) {
        char name[128];
        int size = 0;
        socklen_t len = sizeof(size);

        listener_name(fd, name, sizeof(name));
        (void) getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &len);
        /* The kernel reports twice what it reserves for data (socket(7)). */
        size /= 2;
        log_event(LOG_INFO, EVENT_LISTENING, NULL, 0, "Listening on %s (UDP, receive buffer %d bytes)%s", name, size,
                  from_systemd ? " (socket from systemd)" : "");
        if (!from_systemd && size < config->udp_receive_buffer)
                log_warning("The receive buffer of %s is %d bytes, not udp_receive_buffer = %d: the kernel caps it "
                            "at net.core.rmem_max unless harkd runs with CAP_NET_ADMIN", name, size,
                            config->udp_receive_buffer);
}

static int open_listeners(const struct hark_config *config, struct listeners *l) {
        char error[512];
        int r;

        r = listeners_from_systemd(l, error, sizeof(error));
        if (r > 0)
                r = check_passed_tls(config, l, error, sizeof(error));
        else if (r == 0) {
                r = listeners_bind(l, config->host, config->port, config->backlog, false, error, sizeof(error));
                if (r >= 0 && config->tls_port)
                        r = listeners_bind(l, config->host, config->tls_port, config->backlog, true, error, sizeof(error));
                if (r >= 0 && config->udp_port)
                        r = listeners_bind_udp(l, config->host, config->udp_port, config->udp_receive_buffer, error,
                                               sizeof(error));
        }
        if (r < 0) {
                log_error("%s", error);
                return r;
        }
        for (size_t i = 0; i < l->n; i++) {
                char name[128];
                listener_name(l->fds[i], name, sizeof(name));
                log_event(LOG_INFO, EVENT_LISTENING, NULL, 0, "Listening on %s%s%s", name, l->tls[i] ? " (TLS)" : "",
                          l->from_systemd ? " (socket from systemd)" : "");
        }
        for (size_t i = 0; i < l->n_udp; i++)
                log_udp_listener(config, l->udp_fds[i], l->from_systemd);
        return 0;
}

/* harkd -t: the TLS files must load as they will at start. */
static int test_tls_files(const struct hark_config *config, char *error, size_t size) {
        struct tls_context *ctx = NULL;
        int r;

        if (!config->tls_port)
                return 0;
        r = tls_context_new(&ctx, config, error, size);
        tls_context_unref(ctx);
        return r;
}

static const struct server_driver *driver_for(const struct hark_config *config, const struct listeners *l) {
        return l->connection_fd >= 0 ? &mode_passed : mode_driver_for(config->concurrency);
}

static int serve(struct server *s) {
        struct udp_receiver *udp = NULL;
        int r;

        log_event(LOG_INFO, EVENT_STARTED, NULL, 0, "harkd %s started: %s%s, config %s", HARK_VERSION,
                  s->driver == &mode_passed ? "" : "concurrency ", s->driver->name, s->config_path);
        /* Said at once, not only when the first message fails to go anywhere. */
        if (!journal_present())
                log_warning("journald is not running (no " JOURNAL_SOCKET_PATH "): received messages cannot "
                            "be logged and none will be confirmed until it runs");
        /* (answerer_stop() after serve() ends it.) */
        if (s->driver->hands_off_answers && (r = answerer_start()) < 0) {
                log_error("Failed to start the thread that answers connections: %s", strerror(-r));
                return r;
        }
        r = udp_receiver_start(&udp, s);
        if (r < 0) {
                log_error("Failed to start reading datagrams: %s", strerror(-r));
                return r;
        }
        notify_ready();
        r = s->driver->run(s);
        /* A driver returns once stopping, or when it could not run at all. */
        server_request_stop(s);
        if (!udp_receiver_stop(udp) && r >= 0)
                r = -EBUSY;
        return r;
}

/* The last word, with every counter: after the stop no STATUS= says them.
 * started: server_init() succeeded (else there is nothing to count). */
static void log_stopped(struct server *s, bool started) {
        char counters[512] = "nothing served";

        if (started)
                counters_format_status(s->counters, admission_open(&s->admission), pending_total(s->pending),
                                       counters, sizeof(counters));
        log_event(LOG_INFO, EVENT_STOPPED, NULL, 0, "harkd stopped: %s", counters);
}

int daemon_main(const struct daemon_options *opts) {
        bool started;
        struct hark_config config;
        struct listeners listeners;
        struct server server;
        char error[CONFIG_ERROR_MAX];
        int r;

        log_set_max_level(opts->log_level);
        hark_config_init(&config);
        /* Only -t looks host up: a start resolves it when it binds (or has
         * its sockets from systemd), and a reload keeps the running one. */
        r = (opts->test_only ? hark_config_load_resolving : hark_config_load)(&config, opts->config_path, error);
        if (r >= 0 && opts->test_only)
                r = test_tls_files(&config, error, sizeof(error));
        if (r < 0 || opts->test_only) {
                if (r < 0)
                        fprintf(stderr, "harkd: %s\n", error);
                else
                        printf("harkd: configuration file %s is valid\n", opts->config_path);
                hark_config_done(&config);
                return r < 0 ? 1 : 0;
        }
        log_setup(config.log_target);
        raise_fd_limit();
        /* Failing, buffers are only kept longer. */
        (void) mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);

        listeners_init(&listeners);
        r = open_listeners(&config, &listeners);
        /* With its sockets open harkd needs no privilege: a port below
         * 1024 was the only one. Before any thread starts: capabilities
         * are per thread. */
        if (r >= 0 && (r = privileges_drop(error, sizeof(error))) < 0)
                log_error("%s", error);
        if (r < 0) {
                listeners_close(&listeners);
                hark_config_done(&config);
                return 1;
        }
        r = server_init(&server, opts->config_path, &config, &listeners, driver_for(&config, &listeners), error,
                        sizeof(error));
        started = r >= 0;
        hark_config_done(&config);      /* empty once the server took it over */
        if (r >= 0)
                r = server_handle_signals(&server);
        if (r < 0)
                log_error("Failed to set up the server: %s", error[0] ? error : strerror(-r));
        else
                r = serve(&server);
        log_stopped(&server, started);
        if (r == -EBUSY) {
                /* Threads blocked in a journal write still use the server: end
                 * the process under them. What they hold was never confirmed. */
                log_warning("Connections still busy %d ms after the drain bound; exiting without them",
                            DRAIN_GRACE_MS);
                _exit(0);
        }
        answerer_stop();
        server_done(&server);
        return r < 0 ? 1 : 0;
}
