#include "daemon.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "connection.h"
#include "events.h"
#include "journal.h"
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

static const struct server_driver *driver_for(const struct hark_config *config, const struct listeners *l) {
        return l->connection_fd >= 0 ? &mode_passed : mode_driver_for(config->concurrency);
}

static int serve(struct server *s) {
        log_event(LOG_INFO, EVENT_STARTED, NULL, 0, "harkd %s started: %s%s, config %s", HARK_VERSION,
                  s->driver == &mode_passed ? "" : "concurrency ", s->driver->name, s->config_path);
        /* Said at once, not only when the first message fails to go anywhere. */
        if (!journal_present())
                log_warning("journald is not running (no " JOURNAL_SOCKET_PATH "): received messages cannot "
                            "be logged and none will be confirmed until it runs");
        notify_ready();
        return s->driver->run(s);
}

int daemon_main(const struct daemon_options *opts) {
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
        r = server_init(&server, opts->config_path, &config, &listeners, driver_for(&config, &listeners));
        hark_config_done(&config);      /* empty once the server took it over */
        if (r >= 0)
                r = server_handle_signals(&server);
        if (r < 0)
                log_error("Failed to set up the server: %s", strerror(-r));
        else
                r = serve(&server);
        log_event(LOG_INFO, EVENT_STOPPED, NULL, 0, "harkd stopped: %llu messages logged, %llu connections",
                  server.counters ? (unsigned long long) atomic_load(&server.counters->messages) : 0ULL,
                  server.counters ? (unsigned long long) atomic_load(&server.counters->accepted) : 0ULL);
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
