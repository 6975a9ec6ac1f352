#include "generator.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allowlist.h"
#include "util.h"

#define HEADER "# Written by harkd-socket-generator from harkd.conf: edit that file instead.\n"
#define SERVICE "harkd.service"
#define WANTS_DIR "sockets.target.wants"

static int fail_errno(char *error, size_t size, const char *what, const char *path) {
        int r = errno > 0 ? -errno : -EIO;

        snprintf(error, size, "Failed to %s %s: %s", what, path, strerror(-r));
        return r;
}

/* dir/sub/name into path (sub may be NULL). */
static int output_path(char path[PATH_MAX], const char *dir, const char *sub, const char *name,
                       char *error, size_t size) {
        int n = sub ? snprintf(path, PATH_MAX, "%s/%s/%s", dir, sub, name)
                    : snprintf(path, PATH_MAX, "%s/%s", dir, name);

        if (n < 0 || n >= PATH_MAX) {
                snprintf(error, size, "Output path below %s too long", dir);
                return -ENAMETOOLONG;
        }
        return 0;
}

static int make_dir(const char *dir, const char *sub, char *error, size_t size) {
        char path[PATH_MAX];
        int r = output_path(path, dir, NULL, sub, error, size);

        if (r < 0)
                return r;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
                return fail_errno(error, size, "create", path);
        return 0;
}

/* Opens dir/sub/name for writing (making dir/sub), replacing what was there. */
static int open_output(const char *dir, const char *sub, const char *name, char path[PATH_MAX], FILE **f,
                       char *error, size_t size) {
        int r = sub ? make_dir(dir, sub, error, size) : 0;

        if (r >= 0)
                r = output_path(path, dir, sub, name, error, size);
        if (r < 0)
                return r;
        *f = fopen(path, "we");
        if (!*f)
                return fail_errno(error, size, "create", path);
        fputs(HEADER, *f);
        return 0;
}

/* Closes f; a file that failed (r < 0, or now) is removed. */
static int close_output(FILE *f, const char *path, int r, char *error, size_t size) {
        bool broken = ferror(f);

        errno = 0;
        if ((fclose(f) != 0 || broken) && r >= 0)
                r = fail_errno(error, size, "write", path);
        if (r < 0)
                (void) remove(path);
        return r;
}

/* systemd's ListenStream= takes numeric addresses only: resolve names here
 * (at boot that means /etc/hosts; a name needing DNS is better an address). */
static int write_listen_lines(FILE *f, const char *host, int port, char *error, size_t size) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *list;
        char service[16];
        int r;

        snprintf(service, sizeof(service), "%d", port);
        r = getaddrinfo(host, service, &hints, &list);
        if (r != 0) {
                snprintf(error, size, "Failed to resolve host \"%s\": %s", host, gai_strerror(r));
                return -EADDRNOTAVAIL;
        }
        for (const struct addrinfo *ai = list; ai; ai = ai->ai_next) {
                char numeric[NI_MAXHOST];

                if (getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric, sizeof(numeric), NULL, 0, NI_NUMERICHOST) != 0)
                        continue;
                fprintf(f, ai->ai_family == AF_INET6 ? "ListenStream=[%s]:%d\n" : "ListenStream=%s:%d\n",
                        numeric, port);
        }
        freeaddrinfo(list);
        return 0;
}

/* The kernel's filter from the list harkd checks itself (see
 * systemd.resource-control(5)): on a socket unit it covers the sockets the
 * unit listens on and passes, and so the connections accepted on them; a
 * stranger's SYN never reaches harkd. The empty assignment first makes
 * harkd.conf the one list, as for ListenStream=. Allow wins over deny.
 * Nothing when allow is absent: everyone may connect. */
static void write_filter_lines(FILE *f, const struct allowlist *allow) {
        if (!allow->set)
                return;
        fputs("IPAddressAllow=\n", f);
        for (size_t i = 0; i < allow->n; i++) {
                char text[ALLOW_TEXT_MAX];

                allow_rule_format(&allow->rules[i], text, sizeof(text));
                fprintf(f, "IPAddressAllow=%s\n", text);
        }
        fputs("IPAddressDeny=any\n", f);
}

static int write_socket_dropin(const struct hark_config *config, const char *dir, const char *unit,
                               char *error, size_t size) {
        char sub[256], path[PATH_MAX];
        FILE *f;
        int r;

        snprintf(sub, sizeof(sub), "%s.d", unit);
        r = open_output(dir, sub, GENERATOR_DROPIN, path, &f, error, size);
        if (r < 0)
                return r;
        /* An empty assignment first: it replaces the unit's own addresses. */
        fputs("[Socket]\nListenStream=\n", f);
        r = write_listen_lines(f, config->host, config->port, error, size);
        fprintf(f, "Backlog=%d\n", config->backlog);
        write_filter_lines(f, &config->allow);
        return close_output(f, path, r, error, size);
}

/* A unit of its own rather than a second ListenStream= in harkd.socket:
 * FileDescriptorName= names every socket of a unit alike, and harkd must
 * know which passed socket speaks TLS. */
static int write_tls_socket(const struct hark_config *config, const char *dir, char *error, size_t size) {
        char path[PATH_MAX];
        FILE *f;
        int r = open_output(dir, NULL, GENERATOR_TLS_SOCKET, path, &f, error, size);

        if (r < 0)
                return r;
        fputs("[Unit]\n"
              "Description=hark: TCP messages into the journal over TLS (socket)\n"
              "Documentation=man:harkd(8) man:harkd.conf(5)\n"
              "\n"
              "[Socket]\n", f);
        r = write_listen_lines(f, config->host, config->tls_port, error, size);
        fprintf(f, "Backlog=%d\n"
                   "FileDescriptorName=" GENERATOR_TLS_FD_NAME "\n"
                   "Service=" SERVICE "\n", config->backlog);
        write_filter_lines(f, &config->allow);
        return close_output(f, path, r, error, size);
}

/* Enabled as an [Install] section's WantedBy=sockets.target would be, in
 * the generator's directory (systemctl enable never sees this unit). */
static int enable_tls_socket(const char *dir, char *error, size_t size) {
        char path[PATH_MAX];
        int r = make_dir(dir, WANTS_DIR, error, size);

        if (r >= 0)
                r = output_path(path, dir, WANTS_DIR, GENERATOR_TLS_SOCKET, error, size);
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return fail_errno(error, size, "replace", path);
        if (symlink("../" GENERATOR_TLS_SOCKET, path) < 0)
                return fail_errno(error, size, "create", path);
        return 0;
}

/* The service takes the TLS socket beside its own. Sockets= names the
 * socket units whose descriptors it inherits: harkd.socket too, as the
 * same-name default is documented only for a service without the setting.
 * Sockets= implies Wants= and After= on them (written out for the admin who
 * reads the file): a service started before its sockets waits for both. */
static int write_service_dropin(const char *dir, char *error, size_t size) {
        char path[PATH_MAX];
        FILE *f;
        int r = open_output(dir, SERVICE ".d", GENERATOR_DROPIN, path, &f, error, size);

        if (r < 0)
                return r;
        fputs("[Unit]\n"
              "Wants=" GENERATOR_TLS_SOCKET "\n"
              "After=" GENERATOR_TLS_SOCKET "\n"
              "\n"
              "[Service]\n"
              "Sockets=harkd.socket " GENERATOR_TLS_SOCKET "\n", f);
        return close_output(f, path, 0, error, size);
}

/* What a run with tls_port wrote, gone (systemd empties the directory before
 * each run; this keeps a second run into the same one exact). */
static void remove_tls(const char *dir) {
        static const char *const parts[][2] = {
                { NULL, GENERATOR_TLS_SOCKET },
                { WANTS_DIR, GENERATOR_TLS_SOCKET },
                { SERVICE ".d", GENERATOR_DROPIN },
        };
        char path[PATH_MAX], error[64];

        for (size_t i = 0; i < ELEMENTSOF(parts); i++)
                if (output_path(path, dir, parts[i][0], parts[i][1], error, sizeof(error)) >= 0)
                        (void) unlink(path);
}

static int write_tls(const struct hark_config *config, const char *dir, char *error, size_t size) {
        int r = write_tls_socket(config, dir, error, size);

        if (r >= 0)
                r = enable_tls_socket(dir, error, size);
        if (r >= 0)
                r = write_service_dropin(dir, error, size);
        if (r < 0)
                remove_tls(dir);
        return r;
}

int generator_write_units(const struct hark_config *config, const char *dir, char *error, size_t size) {
        static const char *const units[] = GENERATOR_SOCKET_UNITS;

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                int r = write_socket_dropin(config, dir, units[i], error, size);
                if (r < 0)
                        return r;
        }
        if (!config->tls_port) {
                remove_tls(dir);
                return 0;
        }
        return write_tls(config, dir, error, size);
}
