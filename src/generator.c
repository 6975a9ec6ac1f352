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
static int write_listen_lines(FILE *f, const char *host, int port, bool datagram, char *error, size_t size) {
        struct addrinfo hints = { .ai_socktype = datagram ? SOCK_DGRAM : SOCK_STREAM, .ai_flags = AI_PASSIVE }, *list;
        const char *key = datagram ? "ListenDatagram" : "ListenStream";
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
                fprintf(f, ai->ai_family == AF_INET6 ? "%s=[%s]:%d\n" : "%s=%s:%d\n", key, numeric, port);
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
        r = write_listen_lines(f, config->host, config->port, false, error, size);
        fprintf(f, "Backlog=%d\n", config->backlog);
        write_filter_lines(f, &config->allow);
        return close_output(f, path, r, error, size);
}

/* The sockets harkd.service takes beside harkd.socket, each a unit of its
 * own rather than more Listen lines in harkd.socket: FileDescriptorName=
 * names every socket of a unit alike, and harkd must know which passed
 * socket speaks TLS; ReceiveBuffer= would also reach the stream listener,
 * and pin the buffer of every connection accepted on it. */
struct extra_socket {
        const char *unit;
        const char *what;
        const char *fd_name;
        bool datagram;
};

static const struct extra_socket extra_sockets[] = {
        { GENERATOR_TLS_SOCKET, "TCP messages into the journal over TLS", GENERATOR_TLS_FD_NAME, false },
        { GENERATOR_UDP_SOCKET, "syslog datagrams into the journal", GENERATOR_UDP_FD_NAME, true },
};

static int extra_port(const struct hark_config *config, const struct extra_socket *x) {
        return x->datagram ? config->udp_port : config->tls_port;
}

static int write_extra_socket(const struct hark_config *config, const struct extra_socket *x, const char *dir,
                              char *error, size_t size) {
        char path[PATH_MAX];
        FILE *f;
        int r = open_output(dir, NULL, x->unit, path, &f, error, size);

        if (r < 0)
                return r;
        fprintf(f, "[Unit]\n"
                   "Description=hark: %s (socket)\n"
                   "Documentation=man:harkd(8) man:harkd.conf(5)\n"
                   "\n"
                   "[Socket]\n", x->what);
        r = write_listen_lines(f, config->host, extra_port(config, x), x->datagram, error, size);
        if (x->datagram) {
                /* systemd sets it as root, past net.core.rmem_max. */
                if (config->udp_receive_buffer > 0)
                        fprintf(f, "ReceiveBuffer=%d\n", config->udp_receive_buffer);
        } else
                fprintf(f, "Backlog=%d\n", config->backlog);
        fprintf(f, "FileDescriptorName=%s\n"
                   "Service=" SERVICE "\n", x->fd_name);
        write_filter_lines(f, &config->allow);
        return close_output(f, path, r, error, size);
}

/* Enabled as an [Install] section's WantedBy=sockets.target would be, in
 * the generator's directory (systemctl enable never sees this unit). */
static int enable_extra_socket(const struct extra_socket *x, const char *dir, char *error, size_t size) {
        char path[PATH_MAX], target[PATH_MAX];
        int r = make_dir(dir, WANTS_DIR, error, size);

        if (r >= 0)
                r = output_path(path, dir, WANTS_DIR, x->unit, error, size);
        if (r < 0)
                return r;
        snprintf(target, sizeof(target), "../%s", x->unit);
        if (unlink(path) < 0 && errno != ENOENT)
                return fail_errno(error, size, "replace", path);
        if (symlink(target, path) < 0)
                return fail_errno(error, size, "create", path);
        return 0;
}

/* The service takes the extra sockets beside its own. Sockets= names the
 * socket units whose descriptors it inherits: harkd.socket too, as the
 * same-name default is documented only for a service without the setting.
 * Sockets= implies Wants= and After= on them (written out for the admin who
 * reads the file): a service started before its sockets waits for them. */
static int write_service_dropin(const struct hark_config *config, const char *dir, char *error, size_t size) {
        char path[PATH_MAX];
        FILE *f;
        int r = open_output(dir, SERVICE ".d", GENERATOR_DROPIN, path, &f, error, size);

        if (r < 0)
                return r;
        fputs("[Unit]\n", f);
        for (size_t i = 0; i < ELEMENTSOF(extra_sockets); i++)
                if (extra_port(config, &extra_sockets[i]))
                        fprintf(f, "Wants=%s\nAfter=%s\n", extra_sockets[i].unit, extra_sockets[i].unit);
        fputs("\n[Service]\nSockets=harkd.socket", f);
        for (size_t i = 0; i < ELEMENTSOF(extra_sockets); i++)
                if (extra_port(config, &extra_sockets[i]))
                        fprintf(f, " %s", extra_sockets[i].unit);
        fputs("\n", f);
        return close_output(f, path, 0, error, size);
}

/* What an earlier run wrote for an extra socket, gone (systemd empties the
 * directory before each run; this keeps a second run into the same one
 * exact). */
static void remove_extra_socket(const struct extra_socket *x, const char *dir) {
        const char *const subs[] = { NULL, WANTS_DIR };
        char path[PATH_MAX], error[64];

        for (size_t i = 0; i < ELEMENTSOF(subs); i++)
                if (output_path(path, dir, subs[i], x->unit, error, sizeof(error)) >= 0)
                        (void) unlink(path);
}

static void remove_service_dropin(const char *dir) {
        char path[PATH_MAX], error[64];

        if (output_path(path, dir, SERVICE ".d", GENERATOR_DROPIN, error, sizeof(error)) >= 0)
                (void) unlink(path);
}

static void remove_extras(const char *dir) {
        for (size_t i = 0; i < ELEMENTSOF(extra_sockets); i++)
                remove_extra_socket(&extra_sockets[i], dir);
        remove_service_dropin(dir);
}

static int write_extras(const struct hark_config *config, const char *dir, char *error, size_t size) {
        bool any = false;
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(extra_sockets) && r >= 0; i++) {
                const struct extra_socket *x = &extra_sockets[i];

                if (!extra_port(config, x)) {
                        remove_extra_socket(x, dir);
                        continue;
                }
                any = true;
                r = write_extra_socket(config, x, dir, error, size);
                if (r >= 0)
                        r = enable_extra_socket(x, dir, error, size);
        }
        if (r >= 0 && any)
                r = write_service_dropin(config, dir, error, size);
        else if (r >= 0)
                remove_service_dropin(dir);
        /* All or nothing: a service without one of its sockets is worse. */
        if (r < 0)
                remove_extras(dir);
        return r;
}

int generator_write_units(const struct hark_config *config, const char *dir, char *error, size_t size) {
        static const char *const units[] = GENERATOR_SOCKET_UNITS;

        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                int r = write_socket_dropin(config, dir, units[i], error, size);
                if (r < 0)
                        return r;
        }
        return write_extras(config, dir, error, size);
}
