#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "connection.h"
#include "events.h"
#include "listener.h"
#include "log.h"
#include "mode.h"
#include "notify.h"
#include "server.h"
#include "util.h"

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

static int open_listeners(const struct hark_config *config, struct listeners *l) {
        char error[512];
        int r;

        r = listeners_from_systemd(l, error, sizeof(error));
        if (r == 0)
                r = listeners_bind(l, config->host, config->port, config->backlog, error, sizeof(error));
        if (r < 0) {
                log_error("%s", error);
                return r;
        }
        for (size_t i = 0; i < l->n; i++) {
                char name[128];
                listener_name(l->fds[i], name, sizeof(name));
                log_event(LOG_INFO, EVENT_LISTENING, NULL, 0, "Listening on %s%s", name,
                          l->from_systemd ? " (socket from systemd)" : "");
        }
        return 0;
}

/* Accept=yes: systemd accepted the connection and started us for it alone. */
static int serve_passed_connection(struct server *s) {
        struct peer peer;
        int fd = s->listeners.connection_fd, r;

        s->listeners.connection_fd = -1;
        r = peer_from_socket(fd, &peer);
        if (r == -ENOTCONN) {
                /* The peer left before we looked: nothing was sent, nothing to do. */
                log_info("The passed connection was already closed by its peer");
                close(fd);
                return 0;
        }
        if (r < 0) {
                log_error("Failed to identify the peer of the passed connection: %s", strerror(-r));
                close(fd);
                return r;
        }
        atomic_fetch_add(&s->stats->accepted, 1);
        connection_handle(s, fd, &peer, server_next_connection_id(s), now_ms());
        return 0;
}

static int serve(struct server *s) {
        const struct mode_driver *driver = mode_driver_for(s->config.concurrency);

        if (s->listeners.connection_fd >= 0) {
                log_event(LOG_INFO, EVENT_STARTED, NULL, 0,
                          "harkd %s started for one connection passed by systemd, config %s",
                          HARK_VERSION, s->config_path);
                notify_ready();
                return serve_passed_connection(s);
        }
        log_event(LOG_INFO, EVENT_STARTED, NULL, 0, "harkd %s started: concurrency %s, config %s", HARK_VERSION,
                  concurrency_mode_name(s->config.concurrency), s->config_path);
        notify_ready();
        return driver->run(s);
}

int daemon_main(const struct daemon_options *opts) {
        struct hark_config config;
        struct listeners listeners;
        struct server server;
        char error[CONFIG_ERROR_MAX];
        int r;

        log_set_max_level(opts->log_level);
        hark_config_init(&config);
        r = hark_config_load(&config, opts->config_path, error);
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

        listeners_init(&listeners);
        r = open_listeners(&config, &listeners);
        if (r < 0) {
                hark_config_done(&config);
                return 1;
        }
        r = server_init(&server, opts->config_path, &config, &listeners);
        if (r >= 0)
                r = server_handle_signals(&server);
        if (r < 0)
                log_error("Failed to set up the server: %s", strerror(-r));
        else
                r = serve(&server);
        log_event(LOG_INFO, EVENT_STOPPED, NULL, 0, "harkd stopped: %llu messages logged, %llu connections",
                  server.stats ? (unsigned long long) atomic_load(&server.stats->messages) : 0ULL,
                  server.stats ? (unsigned long long) atomic_load(&server.stats->accepted) : 0ULL);
        if (r == -EBUSY) {
                /* Threads blocked in a journal write still use the server: end
                 * the process under them. What they hold was never confirmed. */
                log_warning("Connections still busy %d ms after the drain bound; exiting without them",
                            DRAIN_GRACE_MS);
                _exit(0);
        }
        server_done(&server);
        return r < 0 ? 1 : 0;
}
