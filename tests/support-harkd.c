/* harkd processes of the integration tests; see support-harkd.h. */
#include "support-harkd.h"

#include "support-files.h"
#include "support-groups.h"
#include "support-journal.h"
#include "support-proc.h"
#include "support-time.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* How long a harkd gets to be ready. */
#define READY_TIMEOUT_MS 5000
#define START_ATTEMPTS 5

/* A port free now. The kernel may hand the same one out again as soon as
 * it is released: a harkd needing two (port, tls_port) would get it twice
 * and refuse the config. So a port this process was given lately is not
 * given again. */
#define RECENT_PORTS 64

static int pick_port(int family, int type);

static int free_port(int family, int type) {
        static int recent[RECENT_PORTS];
        static unsigned next;
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        int port;

        pthread_mutex_lock(&lock);
        for (int attempt = 0;; attempt++) {
                bool seen = false;

                port = pick_port(family, type);
                for (size_t i = 0; port > 0 && i < RECENT_PORTS; i++)
                        seen |= recent[i] == port;
                if (!seen || attempt == 100)
                        break;
        }
        if (port > 0)
                recent[next++ % RECENT_PORTS] = port;
        pthread_mutex_unlock(&lock);
        return port;
}

int it_free_port(int family) {
        return free_port(family, SOCK_STREAM);
}

int it_free_udp_port(int family) {
        return free_port(family, SOCK_DGRAM);
}

static int pick_port(int family, int type) {
        struct sockaddr_storage sa = { 0 };
        socklen_t len;
        int fd, port = -1;

        if (family == AF_INET6) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &sa;
                in6->sin6_family = AF_INET6;
                in6->sin6_addr = in6addr_loopback;
                len = sizeof(*in6);
        } else {
                struct sockaddr_in *in = (struct sockaddr_in *) &sa;
                in->sin_family = AF_INET;
                in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                len = sizeof(*in);
        }
        fd = socket(family, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, len) == 0 && getsockname(fd, (struct sockaddr *) &sa, &len) == 0)
                port = ntohs(family == AF_INET6 ? ((struct sockaddr_in6 *) &sa)->sin6_port
                                                : ((struct sockaddr_in *) &sa)->sin_port);
        else
                port = -errno;
        close(fd);
        return port;
}

void it_unique_identifier(char *buffer, size_t size) {
        snprintf(buffer, size, "hark-it-%d-%u", (int) getpid(), it_next_serial());
}

int it_notify_socket(char *name, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t len;
        int fd;

        snprintf(name, size, "hark-it/notify/%d/%u", (int) getpid(), it_next_serial());
        /* Abstract: sun_path[0] stays 0. */
        memcpy(sa.sun_path + 1, name, strlen(name));
        len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *) &sa, len) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static void append(char *buffer, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buffer, size_t size, const char *format, ...) {
        size_t used = strlen(buffer);
        va_list ap;

        va_start(ap, format);
        vsnprintf(buffer + used, size - used, format, ap);
        va_end(ap);
}

int harkd_write_config(struct harkd *h, const struct harkd_options *o) {
        char text[4096] = "";

        h->options = *o;
        if (!h->config_path[0])
                it_tmp_path(h->config_path, sizeof(h->config_path), "harkd", ".conf");
        snprintf(h->host, sizeof(h->host), "%s", o->host ? o->host : "127.0.0.1");
        if (o->port > 0)
                h->port = o->port;
        if (o->identifier)
                snprintf(h->identifier, sizeof(h->identifier), "%s", o->identifier);
        else if (!h->identifier[0])
                it_unique_identifier(h->identifier, sizeof(h->identifier));

        append(text, sizeof(text), "# written by the hark integration tests\n");
        append(text, sizeof(text), "host = \"%s\";\n", h->host);
        append(text, sizeof(text), "port = %d;\n", h->port);
        append(text, sizeof(text), "timeout = %s;\n", o->timeout ? o->timeout : "10");
        append(text, sizeof(text), "concurrency = \"%s\";\n", o->mode ? o->mode : it_mode);
        if (o->second_port_key && h->second_port > 0)
                append(text, sizeof(text), "%s = %d;\n", o->second_port_key, h->second_port);
        if (o->workers > 0)
                append(text, sizeof(text), "workers = %d;\n", o->workers);
        if (o->max_connections > 0)
                append(text, sizeof(text), "max_connections = %d;\n", o->max_connections);
        if (o->max_connections_per_source > 0)
                append(text, sizeof(text), "max_connections_per_source = %d;\n", o->max_connections_per_source);
        if (o->max_message_size > 0)
                append(text, sizeof(text), "max_message_size = %d;\n", o->max_message_size);
        append(text, sizeof(text), "identifier = \"%s\";\n", h->identifier);
        if (o->priority)
                append(text, sizeof(text), "priority = \"%s\";\n", o->priority);
        /* "journal" by default, as "auto" is beside a journal. It also makes harkd's
         * main thread open libsystemd's journal socket before any worker exists:
         * libsystemd (not instrumented) opens it lazily with an atomic TSan cannot
         * see, so two workers' first messages would be a false data race. */
        append(text, sizeof(text), "log_target = \"%s\";\n", o->log_target ? o->log_target : "journal");
        if (o->extra)
                append(text, sizeof(text), "%s\n", o->extra);
        return it_write_file(h->config_path, text);
}

char *harkd_log(struct harkd *h) {
        return it_read_file(h->stderr_path, NULL);
}

int harkd_log_count(struct harkd *h, const char *needle) {
        char *log = harkd_log(h);
        int n = it_count(log, needle);

        free(log);
        return n;
}

bool harkd_wait_log(struct harkd *h, const char *needle, int count, int timeout_ms) {
        long long deadline = it_now_ms() + timeout_ms;

        for (;;) {
                if (harkd_log_count(h, needle) >= count)
                        return true;
                if (it_ms_left(deadline) == 0)
                        return false;
                it_sleep_ms(10);
        }
}

bool it_has_sanitizer_report(const char *text) {
        return strstr(text, "Sanitizer") || strstr(text, "runtime error:");
}

static void print_log(struct harkd *h, const char *why) {
        char *log = harkd_log(h);

        fprintf(stderr, "support: %s; harkd's stderr (%s):\n%s\n", why, h->stderr_path, log);
        free(log);
}

bool harkd_sanitizer_report(struct harkd *h) {
        char *log = harkd_log(h);
        bool report = it_has_sanitizer_report(log);

        if (report)
                fprintf(stderr, "support: sanitizer report in harkd's stderr (%s):\n%s\n", h->stderr_path, log);
        free(log);
        return report;
}

static bool notify_line_matches(const char *message, const char *pattern) {
        char line[4096];

        for (const char *p = message; *p;) {
                size_t n = strcspn(p, "\n");

                snprintf(line, sizeof(line), "%.*s", (int) n, p);
                if (fnmatch(pattern, line, 0) == 0)
                        return true;
                p += n;
                if (*p)
                        p++;
        }
        return false;
}

int harkd_wait_notify(struct harkd *h, const char *line, int timeout_ms, char *out, size_t size) {
        long long deadline = it_now_ms() + timeout_ms;
        char message[4096];

        if (h->notify_fd < 0)
                return -EBADF;
        for (;;) {
                struct pollfd pfd = { .fd = h->notify_fd, .events = POLLIN };
                ssize_t n = recv(h->notify_fd, message, sizeof(message) - 1, MSG_DONTWAIT);

                if (n >= 0) {
                        message[n] = 0;
                        if (notify_line_matches(message, line)) {
                                if (out)
                                        snprintf(out, size, "%s", message);
                                return 0;
                        }
                        continue;
                }
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
                if (it_ms_left(deadline) == 0)
                        return -ETIMEDOUT;
                poll(&pfd, 1, it_ms_left(deadline) < 20 ? it_ms_left(deadline) : 20);
        }
}

/* Whether a harkd that ended before it was ready could not bind a port.
 * With log_target "journal" it says why only in the journal, so its own
 * events are read as well as its stderr; both are printed when it is not
 * that. */
static bool early_exit_port_taken(struct harkd *h, const char *why) {
        static const char taken[] = "Address already in use";
        char pid[32];
        const char *matches[] = { harkd_pid_match(h, pid, sizeof(pid)), NULL };
        struct it_entries events = { 0 };
        bool port_taken = harkd_log_count(h, taken) > 0;

        if (!h->options.no_journal)
                (void) it_harkd_events(matches, NULL, 1, 1000, &events);
        for (size_t i = 0; i < events.n; i++) {
                const char *message = it_entry_field(&events.v[i], "MESSAGE", NULL);

                port_taken |= message && strstr(message, taken);
        }
        if (!port_taken) {
                print_log(h, why);
                fprintf(stderr, "support: harkd's events in the journal:\n");
                it_entries_print(&events);
        }
        it_entries_free(&events);
        return port_taken;
}

static int start_once(struct harkd *h, const struct harkd_options *o, bool *port_taken) {
        char notify_env[128];
        const char *env[16];
        size_t n_env = 0;
        long long deadline;
        int r;

        *port_taken = false;
        r = harkd_write_config(h, o);
        if (r < 0)
                return r;
        if (h->notify_fd < 0) {
                h->notify_fd = it_notify_socket(h->notify_name, sizeof(h->notify_name));
                if (h->notify_fd < 0)
                        return h->notify_fd;
        }
        snprintf(notify_env, sizeof(notify_env), "NOTIFY_SOCKET=@%s", h->notify_name);
        env[n_env++] = notify_env;
        for (size_t i = 0; o->env && o->env[i] && n_env < 15; i++)
                env[n_env++] = o->env[i];
        env[n_env] = NULL;

        char *argv[] = { (char *) it_harkd_path(), (char *) "-c", h->config_path, NULL };
        h->pid = it_spawn(argv, (char *const *) env, h->stderr_path, o->no_journal);
        if (h->pid < 0) {
                r = h->pid;
                h->pid = 0;
                return r;
        }
        deadline = it_now_ms() + READY_TIMEOUT_MS;
        for (;;) {
                int status;

                r = harkd_wait_notify(h, "READY=1", 20, NULL, 0);
                if (r == 0)
                        return 0;
                if (waitpid(h->pid, &status, WNOHANG) == h->pid) {
                        char why[128];

                        if (WIFSIGNALED(status))
                                snprintf(why, sizeof(why), "harkd was killed by signal %d before it was ready",
                                         WTERMSIG(status));
                        else
                                snprintf(why, sizeof(why), "harkd exited with status %d before it was ready",
                                         WEXITSTATUS(status));
                        *port_taken = early_exit_port_taken(h, why);
                        h->pid = 0;
                        return -ECHILD;
                }
                if (it_ms_left(deadline) == 0) {
                        print_log(h, "harkd not ready within 5 s");
                        return -ETIMEDOUT;
                }
        }
}

int harkd_start(struct harkd *h, const struct harkd_options *options) {
        struct harkd_options o = *options;
        bool port_taken = false;
        int r = -EINVAL;

        if (h->pid > 0)
                return -EBUSY;
        if (!h->stderr_path[0])
                it_tmp_path(h->stderr_path, sizeof(h->stderr_path), "harkd", ".log");
        if (h->notify_fd == 0)
                h->notify_fd = -1;
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
                int family = o.host && strchr(o.host, ':') ? AF_INET6 : AF_INET;

                if (options->port == 0) {
                        h->port = it_free_port(family);
                        if (h->port < 0)
                                return h->port;
                }
                if (options->second_port_key) {
                        h->second_port = free_port(family, options->second_port_udp ? SOCK_DGRAM : SOCK_STREAM);
                        if (h->second_port < 0)
                                return h->second_port;
                }
                r = start_once(h, &o, &port_taken);
                if (r == 0 || !port_taken || (options->port != 0 && !options->second_port_key))
                        break;
        }
        return r;
}

int harkd_signal(struct harkd *h, int signo) {
        if (h->pid <= 0)
                return -ESRCH;
        return kill(h->pid, signo) < 0 ? -errno : 0;
}

int harkd_signal_all(struct harkd *h, int signo) {
        if (h->pid <= 0)
                return -ESRCH;
        return kill(-h->pid, signo) < 0 ? -errno : 0;
}

/* The process group of process pid (field 5 of its stat, after the
 * parenthesised name, which may hold spaces); -1 when it is gone. */
static pid_t process_group(const char *pid) {
        char path[300], *stat, *end;
        int group = -1;

        snprintf(path, sizeof(path), "/proc/%s/stat", pid);
        stat = it_read_file(path, NULL);
        end = strrchr(stat, ')');
        if (!end || sscanf(end + 1, " %*c %*d %d", &group) != 1)
                group = -1;
        free(stat);
        return group;
}

/* Whether a thread of process pid sleeps where the kernel makes the sender
 * of a datagram wait for room in a full unix socket queue (its wchan). */
static bool waits_for_datagram_room(const char *pid) {
        char path[300];
        struct dirent *task;
        bool waits = false;
        DIR *tasks;

        snprintf(path, sizeof(path), "/proc/%s/task", pid);
        tasks = opendir(path);
        while (tasks && !waits && (task = readdir(tasks))) {
                char *wchan;

                if (task->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/task/%s/wchan", pid, task->d_name);
                wchan = it_read_file(path, NULL);
                waits = strcmp(wchan, "unix_wait_for_peer") == 0;
                free(wchan);
        }
        if (tasks)
                closedir(tasks);
        return waits;
}

static bool group_waits_for_datagram_room(pid_t group) {
        struct dirent *process;
        bool waits = false;
        DIR *proc = opendir("/proc");

        while (proc && !waits && (process = readdir(proc)))
                if (isdigit((unsigned char) process->d_name[0]) && process_group(process->d_name) == group)
                        waits = waits_for_datagram_room(process->d_name);
        if (proc)
                closedir(proc);
        return waits;
}

bool harkd_wait_journal_blocked(struct harkd *h, int timeout_ms) {
        long long deadline = it_now_ms() + timeout_ms;

        for (;;) {
                if (h->pid > 0 && group_waits_for_datagram_room(h->pid))
                        return true;
                if (it_ms_left(deadline) == 0)
                        return false;
                it_sleep_ms(10);
        }
}

int harkd_wait(struct harkd *h, int timeout_ms) {
        int status;
        char *log;

        if (h->pid <= 0)
                return -ESRCH;
        status = it_wait_pid(h->pid, timeout_ms);
        if (status == -ETIMEDOUT) {
                print_log(h, "harkd did not exit in time; killing it");
                it_kill_and_reap(h->pid);
        }
        h->pid = 0;
        if (status < 0)
                return status;
        log = harkd_log(h);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || it_has_sanitizer_report(log)) {
                if (WIFSIGNALED(status))
                        fprintf(stderr, "support: harkd was killed by signal %d\n", WTERMSIG(status));
                else
                        fprintf(stderr, "support: harkd exited with status %d\n", WEXITSTATUS(status));
                fprintf(stderr, "support: harkd's stderr (%s):\n%s\n", h->stderr_path, log);
        }
        free(log);
        return status;
}

int harkd_stop(struct harkd *h, int timeout_ms) {
        int r = harkd_signal(h, SIGTERM);

        return r < 0 ? r : harkd_wait(h, timeout_ms);
}

void harkd_cleanup(struct harkd *h) {
        /* The whole group: fork mode's connection processes too. Only while
         * harkd is unreaped: then its pid (the group's id) is still ours. */
        if (h->pid > 0)
                kill(-h->pid, SIGKILL);
        if (h->pid > 0)
                it_kill_and_reap(h->pid);
        h->pid = 0;
        if (h->notify_fd > 0)
                close(h->notify_fd);
        h->notify_fd = -1;
        if (!getenv("HARK_IT_KEEP")) {
                if (h->config_path[0])
                        unlink(h->config_path);
                if (h->stderr_path[0])
                        unlink(h->stderr_path);
        }
        h->config_path[0] = h->stderr_path[0] = 0;
}
