#include "generator.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define DROPIN_NAME "50-harkd-conf.conf"

/* systemd's ListenStream= takes numeric addresses only: resolve names here
 * (at boot that means /etc/hosts; a name needing DNS is better an address). */
static int write_listen_lines(FILE *f, const struct hark_config *config, char *error, size_t size) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *list;
        char port[16];
        int r;

        snprintf(port, sizeof(port), "%d", config->port);
        r = getaddrinfo(config->host, port, &hints, &list);
        if (r != 0) {
                snprintf(error, size, "Failed to resolve host \"%s\": %s", config->host, gai_strerror(r));
                return -EADDRNOTAVAIL;
        }
        /* An empty assignment first: it replaces the unit's own addresses. */
        fprintf(f, "ListenStream=\n");
        for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
                char host[NI_MAXHOST];

                if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host, sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
                        continue;
                fprintf(f, ai->ai_family == AF_INET6 ? "ListenStream=[%s]:%d\n" : "ListenStream=%s:%d\n",
                        host, config->port);
        }
        freeaddrinfo(list);
        return 0;
}

static int write_dropin(const struct hark_config *config, const char *dir, const char *unit,
                        char *error, size_t size) {
        char path[4096];
        FILE *f;
        int r;

        snprintf(path, sizeof(path), "%s/%s.d", dir, unit);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                r = -errno;
                snprintf(error, size, "Failed to create %s: %s", path, strerror(-r));
                return r;
        }
        snprintf(path, sizeof(path), "%s/%s.d/" DROPIN_NAME, dir, unit);
        f = fopen(path, "we");
        if (!f) {
                r = -errno;
                snprintf(error, size, "Failed to create %s: %s", path, strerror(-r));
                return r;
        }
        fprintf(f, "# Written by harkd-socket-generator from harkd.conf: edit that file instead.\n"
                   "[Socket]\n");
        r = write_listen_lines(f, config, error, size);
        fprintf(f, "Backlog=%d\n", config->backlog);
        if (fclose(f) != 0 && r >= 0) {
                r = -errno;
                snprintf(error, size, "Failed to write %s: %s", path, strerror(-r));
        }
        if (r < 0)
                remove(path);
        return r;
}

int generator_write_dropins(const struct hark_config *config, const char *dir, char *error, size_t size) {
        static const char *const units[] = GENERATOR_SOCKET_UNITS;

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                int r = write_dropin(config, dir, units[i], error, size);
                if (r < 0)
                        return r;
        }
        return 0;
}
