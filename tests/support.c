/* Helpers of the integration tests; see support.h. */
#include "support.h"

#include "net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <systemd/sd-journal.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* How long a harkd gets to be ready, and how long journal reads wait. */
#define READY_TIMEOUT_MS 5000
#define START_ATTEMPTS 5
/* After the expected entries arrived: how long to look for extra ones. */
#define SETTLE_MS 100

const char *const it_all_modes[IT_N_MODES] = { "sequential", "thread", "pool", "fork", "epoll" };
const char *it_mode = "epoll";

static unsigned counter;
static char tmpdir[64];

/* ---- groups ---------------------------------------------------------------- */

static bool mode_selected(const char *mode) {
        const char *list = getenv("HARK_IT_MODES");
        size_t len = strlen(mode);

        if (!list || !*list)
                return true;
        for (const char *p = list; *p;) {
                size_t n = strcspn(p, ",");
                if (n == len && strncmp(p, mode, n) == 0)
                        return true;
                p += n;
                if (*p == ',')
                        p++;
        }
        return false;
}

int it_run_mode_groups(const char *prefix, const struct CMUnitTest *tests, size_t n) {
        int failed = 0;

        for (size_t i = 0; i < IT_N_MODES; i++) {
                char name[64];

                if (!mode_selected(it_all_modes[i]))
                        continue;
                it_mode = it_all_modes[i];
                snprintf(name, sizeof(name), "%s/%s", prefix, it_mode);
                failed += it_run_group(name, tests, n);
        }
        return failed;
}

int it_run_mode_groups_parallel(const char *prefix, const struct CMUnitTest *tests, size_t n) {
        pid_t pids[IT_N_MODES] = { 0 };
        char logs[IT_N_MODES][256];
        int failed = 0;

        if (getenv("HARK_IT_SERIAL"))
                return it_run_mode_groups(prefix, tests, n);
        fflush(NULL);
        for (size_t i = 0; i < IT_N_MODES; i++) {
                if (!mode_selected(it_all_modes[i]))
                        continue;
                it_tmp_path(logs[i], sizeof(logs[i]), "group", ".out");
                pids[i] = fork();
                if (pids[i] < 0) {
                        fprintf(stderr, "support: fork: %s\n", strerror(errno));
                        return failed + 1;
                }
                if (pids[i] == 0) {
                        char name[64];
                        int fd = open(logs[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

                        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                                _exit(100);
                        setvbuf(stdout, NULL, _IOLBF, 0);
                        /* Files of its own: the counters of the processes run alike. */
                        tmpdir[0] = 0;
                        it_mode = it_all_modes[i];
                        snprintf(name, sizeof(name), "%s/%s", prefix, it_mode);
                        failed = it_run_group(name, tests, n);
                        fflush(NULL);
                        exit(failed > 99 ? 99 : failed);
                }
        }
        for (size_t i = 0; i < IT_N_MODES; i++) {
                char *out;
                int status;

                if (pids[i] <= 0)
                        continue;
                while (waitpid(pids[i], &status, 0) < 0 && errno == EINTR)
                        ;
                out = it_read_file(logs[i], NULL);
                fputs(out, stdout);
                free(out);
                unlink(logs[i]);
                if (WIFEXITED(status) && WEXITSTATUS(status) < 100)
                        failed += WEXITSTATUS(status);
                else {
                        /* Counted like a cmocka summary line (tests/run-tests sums those). */
                        printf("[  FAILED  ] 1 test(s): group %s/%s ended abnormally (status 0x%x)\n", prefix,
                               it_all_modes[i], (unsigned) status);
                        failed++;
                }
                fflush(stdout);
        }
        return failed;
}

int it_run_group(const char *name, const struct CMUnitTest *tests, size_t n) {
        long long start = it_now_ms();
        int failed;

        /* cmocka 1.1 does not print the group's name itself. */
        printf("[----------] group %s\n", name);
        fflush(stdout);
        failed = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
        printf("[----------] group %s: %d failed, %.1f s\n", name, failed, (double) (it_now_ms() - start) / 1000);
        fflush(stdout);
        return failed;
}

/* ---- time ------------------------------------------------------------------ */

long long it_now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void it_sleep_ms(int ms) {
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int ms_left(long long deadline) {
        long long left = deadline - it_now_ms();

        return left <= 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int) left;
}

/* ---- files ----------------------------------------------------------------- */

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        remove(path);
        return 0;
}

static void remove_tmpdir(void) {
        if (tmpdir[0] && !getenv("HARK_IT_KEEP"))
                nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *it_tmpdir(void) {
        if (!tmpdir[0]) {
                snprintf(tmpdir, sizeof(tmpdir), "/tmp/hark-it-XXXXXX");
                if (!mkdtemp(tmpdir)) {
                        fprintf(stderr, "support: mkdtemp: %s\n", strerror(errno));
                        abort();
                }
                atexit(remove_tmpdir);
        }
        return tmpdir;
}

void it_tmp_path(char *buffer, size_t size, const char *stem, const char *suffix) {
        snprintf(buffer, size, "%s/%s-%u%s", it_tmpdir(), stem, __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED),
                 suffix ? suffix : "");
}

int it_write_file(const char *path, const char *text) {
        char tmp[512];
        FILE *f;
        int r = 0;

        /* Write and rename: a harkd reloading must never see half a file. */
        snprintf(tmp, sizeof(tmp), "%s.new", path);
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        if (fputs(text, f) < 0)
                r = -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

char *it_read_file(const char *path, size_t *length) {
        FILE *f = fopen(path, "re");
        char *data = NULL;
        size_t size = 0, used = 0, n;

        if (length)
                *length = 0;
        if (!f)
                return strdup("");
        do {
                if (used + 4096 + 1 > size) {
                        size = size ? size * 2 : 8192;
                        data = realloc(data, size);
                        assert_non_null(data);
                }
                n = fread(data + used, 1, size - used - 1, f);
                used += n;
        } while (n > 0);
        fclose(f);
        if (!data)
                data = malloc(1);
        assert_non_null(data);
        data[used] = 0;
        if (length)
                *length = used;
        return data;
}

int it_count(const char *haystack, const char *needle) {
        int n = 0;
        size_t len = strlen(needle);

        if (!haystack || len == 0)
                return 0;
        for (const char *p = strstr(haystack, needle); p; p = strstr(p + len, needle))
                n++;
        return n;
}

/* ---- child processes ------------------------------------------------------- */

const char *it_harkd_path(void) {
        const char *p = getenv("HARKD");

        if (!p || p[0] != '/') {
                fprintf(stderr, "support: $HARKD must be the absolute path of harkd "
                                "(tests/run-tests and tests/with-journald set it)\n");
                exit(1);
        }
        return p;
}

const char *it_hark_path(void) {
        const char *p = getenv("HARK");

        if (!p || p[0] != '/') {
                fprintf(stderr, "support: $HARK must be the absolute path of hark "
                                "(tests/run-tests and tests/with-journald set it)\n");
                exit(1);
        }
        return p;
}

/* environ plus extra (overriding entries of the same name), plus a default
 * UBSAN_OPTIONS that turns an undefined-behaviour report into a failing exit. */
static char **build_env(char *const extra[]) {
        size_t n_env = 0, n_extra = 0, n = 0;
        char **env;
        bool have_ubsan = getenv("UBSAN_OPTIONS") != NULL;

        while (environ[n_env])
                n_env++;
        while (extra && extra[n_extra])
                n_extra++;
        env = calloc(n_env + n_extra + 2, sizeof(*env));
        assert_non_null(env);
        for (size_t i = 0; i < n_env; i++) {
                bool overridden = false;
                size_t name_len = strcspn(environ[i], "=");

                for (size_t k = 0; k < n_extra; k++)
                        if (strncmp(extra[k], environ[i], name_len + 1) == 0)
                                overridden = true;
                if (!overridden)
                        env[n++] = environ[i];
        }
        for (size_t k = 0; k < n_extra; k++) {
                env[n++] = extra[k];
                if (strncmp(extra[k], "UBSAN_OPTIONS=", 14) == 0)
                        have_ubsan = true;
        }
        if (!have_ubsan)
                env[n++] = (char *) "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1";
        env[n] = NULL;
        return env;
}

/* In the child: an empty tmpfs over the journal's directory, in a mount
 * namespace of its own, so that /run/systemd/journal/socket is missing. */
static int hide_journal(void) {
        if (unshare(CLONE_NEWNS) < 0)
                return -errno;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        if (mount("tmpfs", "/run/systemd/journal", "tmpfs", 0, NULL) < 0)
                return -errno;
        return 0;
}

static void child_fail(const char *what, int error) {
        char msg[256];
        int n = snprintf(msg, sizeof(msg), "support: child: %s: %s\n", what, strerror(error));

        if (n > 0 && write(2, msg, (size_t) n) < 0)
                _exit(127);
        _exit(127);
}

static pid_t spawn_full(char *const argv[], char *const extra_env[], const char *in_path,
                        const char *out_path, const char *err_path, bool no_journal) {
        char **env = build_env(extra_env);
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                free(env);
                return r;
        }
        if (pid == 0) {
                int in = open(in_path ? in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
                int out = open(out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                int err = err_path == out_path ? out
                        : open(err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

                if (in < 0 || out < 0 || err < 0)
                        child_fail("open", errno);
                if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                        child_fail("dup2", errno);
                /* Nothing of the test's (client sockets above all) may leak in. */
                syscall(SYS_close_range, 3U, ~0U, 0U);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGPIPE, SIG_DFL);
                if (no_journal) {
                        int r = hide_journal();
                        if (r < 0)
                                child_fail("hiding the journal", -r);
                }
                execve(argv[0], argv, env);
                child_fail(argv[0], errno);
        }
        free(env);
        return pid;
}

pid_t it_spawn(char *const argv[], char *const env[], const char *log_path, bool no_journal) {
        return spawn_full(argv, env, NULL, log_path, log_path, no_journal);
}

int it_wait_pid(pid_t pid, int timeout_ms) {
        long long deadline = it_now_ms() + timeout_ms;
        int status;

        for (;;) {
                pid_t r = waitpid(pid, &status, WNOHANG);

                if (r == pid)
                        return status;
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (ms_left(deadline) == 0)
                        return -ETIMEDOUT;
                it_sleep_ms(5);
        }
}

static void kill_and_reap(pid_t pid) {
        if (pid <= 0)
                return;
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

int it_run(char *const argv[], const char *input, size_t input_len, int timeout_ms, struct it_proc *p) {
        char in_path[256], out_path[256], err_path[256];
        pid_t pid;
        int r = 0;

        memset(p, 0, sizeof(*p));
        p->status = -1;
        it_tmp_path(in_path, sizeof(in_path), "stdin", NULL);
        it_tmp_path(out_path, sizeof(out_path), "stdout", NULL);
        it_tmp_path(err_path, sizeof(err_path), "stderr", NULL);
        if (input) {
                FILE *f = fopen(in_path, "we");
                if (!f)
                        return -errno;
                if (input_len > 0 && fwrite(input, 1, input_len, f) != input_len)
                        r = -EIO;
                fclose(f);
                if (r < 0)
                        goto out;
        }
        pid = spawn_full(argv, NULL, input ? in_path : NULL, out_path, err_path, false);
        if (pid < 0) {
                r = pid;
                goto out;
        }
        r = it_wait_pid(pid, timeout_ms);
        if (r == -ETIMEDOUT) {
                fprintf(stderr, "support: %s did not end within %d ms; killed it\n", argv[0], timeout_ms);
                kill_and_reap(pid);
        } else if (r >= 0) {
                p->status = r;
                r = 0;
        }
        p->out = it_read_file(out_path, &p->out_len);
        p->err = it_read_file(err_path, &p->err_len);
out:
        unlink(in_path);
        unlink(out_path);
        unlink(err_path);
        return r;
}

void it_proc_free(struct it_proc *p) {
        free(p->out);
        free(p->err);
        p->out = p->err = NULL;
}

int it_exit_code(const struct it_proc *p) {
        if (p->status >= 0 && WIFEXITED(p->status))
                return WEXITSTATUS(p->status);
        if (p->status >= 0 && WIFSIGNALED(p->status))
                fprintf(stderr, "support: process killed by signal %d\n", WTERMSIG(p->status));
        fprintf(stderr, "support: stdout: %s\nstderr: %s\n", p->out ? p->out : "", p->err ? p->err : "");
        return -1;
}

/* ---- harkd ----------------------------------------------------------------- */

int it_free_port(int family) {
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
        fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
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
        snprintf(buffer, size, "hark-it-%d-%u", (int) getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
}

int it_notify_socket(char *name, size_t size) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        socklen_t len;
        int fd;

        snprintf(name, size, "hark-it/notify/%d/%u", (int) getpid(), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
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
                if (ms_left(deadline) == 0)
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
                if (ms_left(deadline) == 0)
                        return -ETIMEDOUT;
                poll(&pfd, 1, ms_left(deadline) < 20 ? ms_left(deadline) : 20);
        }
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

                        h->pid = 0;
                        *port_taken = harkd_log_count(h, "Address already in use") > 0;
                        if (WIFSIGNALED(status))
                                snprintf(why, sizeof(why), "harkd was killed by signal %d before it was ready",
                                         WTERMSIG(status));
                        else
                                snprintf(why, sizeof(why), "harkd exited with status %d before it was ready",
                                         WEXITSTATUS(status));
                        if (!*port_taken)
                                print_log(h, why);
                        return -ECHILD;
                }
                if (ms_left(deadline) == 0) {
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
                if (options->port == 0) {
                        h->port = it_free_port(o.host && strchr(o.host, ':') ? AF_INET6 : AF_INET);
                        if (h->port < 0)
                                return h->port;
                }
                r = start_once(h, &o, &port_taken);
                if (r == 0 || !port_taken || options->port != 0)
                        break;
        }
        return r;
}

int harkd_signal(struct harkd *h, int signo) {
        if (h->pid <= 0)
                return -ESRCH;
        return kill(h->pid, signo) < 0 ? -errno : 0;
}

int harkd_wait(struct harkd *h, int timeout_ms) {
        int status;
        char *log;

        if (h->pid <= 0)
                return -ESRCH;
        status = it_wait_pid(h->pid, timeout_ms);
        if (status == -ETIMEDOUT) {
                print_log(h, "harkd did not exit in time; killing it");
                kill_and_reap(h->pid);
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
        if (h->pid > 0)
                kill_and_reap(h->pid);
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

/* ---- clients ----------------------------------------------------------------- */

int it_connect(const char *host, int port, int timeout_ms) {
        return it_connect_from(host, port, NULL, timeout_ms);
}

int it_connect_from(const char *host, int port, const char *source, int timeout_ms) {
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
        struct addrinfo *ai, *local;
        char service[16];
        int fd, r;

        snprintf(service, sizeof(service), "%d", port);
        if (getaddrinfo(host, service, &hints, &ai) != 0)
                return -EINVAL;
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                freeaddrinfo(ai);
                return r;
        }
        if (source) {
                if (getaddrinfo(source, NULL, &hints, &local) != 0) {
                        freeaddrinfo(ai);
                        close(fd);
                        return -EINVAL;
                }
                r = bind(fd, local->ai_addr, local->ai_addrlen);
                freeaddrinfo(local);
                if (r < 0) {
                        r = -errno;
                        freeaddrinfo(ai);
                        close(fd);
                        return r;
                }
        }
        r = fd_connect(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms);
        freeaddrinfo(ai);
        if (r >= 0)
                r = fd_set_nonblocking(fd, false);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int it_connect_unix(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

        if (fd < 0)
                return -errno;
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int it_local_port(int fd) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                return -errno;
        if (sa.ss_family == AF_INET6)
                return ntohs(((struct sockaddr_in6 *) &sa)->sin6_port);
        return ntohs(((struct sockaddr_in *) &sa)->sin_port);
}

int it_send(int fd, const void *data, size_t size) {
        return send_all(fd, data, size);
}

int it_send_str(int fd, const char *s) {
        return it_send(fd, s, strlen(s));
}

bool it_readable(int fd, int timeout_ms) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLRDHUP };
        int r;

        do
                r = poll(&pfd, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        return r > 0;
}

int it_read_to_eof(int fd, char *buffer, size_t size, size_t *length, int timeout_ms) {
        long long deadline = it_now_ms() + timeout_ms;
        char scratch[4096];
        size_t used = 0;

        for (;;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                ssize_t n;
                int r = poll(&pfd, 1, ms_left(deadline));

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0) {
                        if (length)
                                *length = used;
                        if (buffer)
                                buffer[used < size ? used : size - 1] = 0;
                        return -ETIMEDOUT;
                }
                n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n <= 0) {
                        if (length)
                                *length = used;
                        if (buffer)
                                buffer[used < size ? used : size - 1] = 0;
                        return n == 0 ? 0 : -errno;
                }
                if (buffer && used < size - 1) {
                        size_t take = (size_t) n < size - 1 - used ? (size_t) n : size - 1 - used;
                        memcpy(buffer + used, scratch, take);
                }
                used += (size_t) n;
        }
}

int it_finish(int fd, uint64_t *confirmed, int timeout_ms) {
        char reply[256], *end;
        size_t length;
        int r;

        *confirmed = UINT64_MAX;
        if (shutdown(fd, SHUT_WR) < 0)
                return -errno;
        r = it_read_to_eof(fd, reply, sizeof(reply), &length, timeout_ms);
        if (r < 0) {
                fprintf(stderr, "support: no clean end of harkd's answer: %s (got %zu bytes: \"%s\")\n",
                        strerror(-r), length, reply);
                return r;
        }
        if (strncmp(reply, "OK ", 3) != 0 || !isdigit((unsigned char) reply[3]))
                goto bad;
        errno = 0;
        *confirmed = strtoull(reply + 3, &end, 10);
        if (errno || strcmp(end, "\n") != 0 || length != strlen(reply))
                goto bad;
        return 0;
bad:
        fprintf(stderr, "support: unexpected answer from harkd: \"%s\" (%zu bytes)\n", reply, length);
        *confirmed = UINT64_MAX;
        return -EBADMSG;
}

/* ---- the journal ----------------------------------------------------------- */

static void collect_entry(sd_journal *j, struct it_entries *out) {
        struct it_entry e = { 0 };
        size_t capacity = 0;
        const void *data;
        size_t length;

        SD_JOURNAL_FOREACH_DATA(j, data, length) {
                const char *eq = memchr(data, '=', length);
                struct it_field *f;
                size_t name_len;

                if (!eq)
                        continue;
                if (e.n_fields == capacity) {
                        capacity = capacity ? capacity * 2 : 32;
                        e.fields = realloc(e.fields, capacity * sizeof(*e.fields));
                        assert_non_null(e.fields);
                }
                f = &e.fields[e.n_fields++];
                name_len = (size_t) (eq - (const char *) data);
                f->name = strndup(data, name_len);
                f->length = length - name_len - 1;
                f->value = malloc(f->length + 1);
                assert_non_null(f->name);
                assert_non_null(f->value);
                memcpy(f->value, eq + 1, f->length);
                f->value[f->length] = 0;
        }
        /* The capacity is 16, then the next power of two: grow when full. */
        if (out->n == 0 || (out->n >= 16 && (out->n & (out->n - 1)) == 0)) {
                struct it_entry *v = realloc(out->v, (out->n ? out->n * 2 : 16) * sizeof(*v));
                assert_non_null(v);
                out->v = v;
        }
        out->v[out->n++] = e;
}

static bool message_contains(sd_journal *j, const char *needle) {
        const void *data;
        size_t length, n = strlen(needle);

        if (sd_journal_get_data(j, "MESSAGE", &data, &length) < 0)
                return false;
        data = (const char *) data + 8;
        length -= 8;
        return memmem(data, length, needle, n) != NULL;
}

int it_journal_collect(const char *const *matches, size_t expected, int timeout_ms, struct it_entries *out) {
        return it_journal_collect_matching(matches, NULL, expected, timeout_ms, out);
}

/* One pass over the journal with a fresh reader. Once, a reader kept open
 * while journald appended never saw an entry that was there (systemd 252;
 * likely one it met half-written): so each poll opens the journal anew. */
static int read_journal(const char *const *matches, const char *needle, struct it_entries *out) {
        sd_journal *j = NULL;
        int r;

        memset(out, 0, sizeof(*out));
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        r = sd_journal_set_data_threshold(j, 0);
        for (size_t i = 0; r >= 0 && matches[i]; i++)
                r = sd_journal_add_match(j, matches[i], 0);
        if (r >= 0)
                r = sd_journal_seek_head(j);
        while (r >= 0 && (r = sd_journal_next(j)) > 0)
                if (!needle || message_contains(j, needle))
                        collect_entry(j, out);
        sd_journal_close(j);
        return r < 0 ? r : (int) out->n;
}

int it_journal_collect_matching(const char *const *matches, const char *needle, size_t expected, int timeout_ms,
                                struct it_entries *out) {
        long long deadline = it_now_ms() + timeout_ms;
        int r;

        for (;;) {
                r = read_journal(matches, needle, out);
                if (r < 0)
                        goto fail;
                if ((size_t) r >= expected)
                        break;
                if (ms_left(deadline) == 0)
                        return r;
                it_entries_free(out);
                it_sleep_ms(ms_left(deadline) < 30 ? ms_left(deadline) : 30);
        }
        /* journald writes asynchronously: look a little longer for extra ones. */
        it_sleep_ms(SETTLE_MS);
        it_entries_free(out);
        r = read_journal(matches, needle, out);
        if (r >= 0)
                return r;
fail:
        fprintf(stderr, "support: reading the journal: %s\n", strerror(-r));
        return r;
}

int it_harkd_events(const char *const *matches, const char *needle, size_t expected, int timeout_ms,
                    struct it_entries *out) {
        const char *all[8] = { "SYSLOG_IDENTIFIER=harkd" };
        struct it_entries scratch;
        size_t n = 1;
        int r;

        for (size_t i = 0; matches && matches[i] && n < 7; i++)
                all[n++] = matches[i];
        all[n] = NULL;
        r = it_journal_collect_matching(all, needle, expected, timeout_ms, out ? out : &scratch);
        if (!out)
                it_entries_free(&scratch);
        return r;
}

const char *harkd_pid_match(const struct harkd *h, char *buffer, size_t size) {
        snprintf(buffer, size, "_PID=%d", (int) h->pid);
        return buffer;
}

int it_journal_messages(const char *identifier, size_t expected, int timeout_ms, struct it_entries *out) {
        char match[128];
        const char *matches[] = { match, NULL };

        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", identifier);
        return it_journal_collect(matches, expected, timeout_ms, out);
}

void it_entries_free(struct it_entries *e) {
        for (size_t i = 0; i < e->n; i++) {
                for (size_t k = 0; k < e->v[i].n_fields; k++) {
                        free(e->v[i].fields[k].name);
                        free(e->v[i].fields[k].value);
                }
                free(e->v[i].fields);
        }
        free(e->v);
        e->v = NULL;
        e->n = 0;
}

const char *it_entry_field(const struct it_entry *e, const char *name, size_t *length) {
        for (size_t i = 0; i < e->n_fields; i++)
                if (strcmp(e->fields[i].name, name) == 0) {
                        if (length)
                                *length = e->fields[i].length;
                        return e->fields[i].value;
                }
        if (length)
                *length = 0;
        return NULL;
}

static void print_escaped(FILE *f, const char *data, size_t length) {
        for (size_t i = 0; i < length; i++) {
                unsigned char c = (unsigned char) data[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        fputc(c, f);
                else
                        fprintf(f, "\\x%02x", c);
        }
}

void it_entries_print(const struct it_entries *e) {
        static const char *const shown[] = { "PRIORITY", "SYSLOG_IDENTIFIER", "REMOTE_ADDR", "REMOTE_PORT",
                                             "REMOTE_PID", "REMOTE_UID", "REMOTE_GID", "HARK_CONNECTION",
                                             "HARK_TRUNCATED", "MESSAGE_ID" };

        fprintf(stderr, "%zu journal entries:\n", e->n);
        for (size_t i = 0; i < e->n; i++) {
                size_t length;
                const char *m = it_entry_field(&e->v[i], "MESSAGE", &length);

                fprintf(stderr, "  [%zu] MESSAGE=\"", i);
                if (m)
                        print_escaped(stderr, m, length);
                fputc('"', stderr);
                for (size_t k = 0; k < sizeof(shown) / sizeof(shown[0]); k++) {
                        const char *v = it_entry_field(&e->v[i], shown[k], NULL);
                        if (v)
                                fprintf(stderr, " %s=%s", shown[k], v);
                }
                fputc('\n', stderr);
        }
}

void it_assert_messages(const struct it_entries *e, const char *const *expected, size_t n) {
        bool same = e->n == n;

        for (size_t i = 0; same && i < n; i++) {
                size_t length;
                const char *m = it_entry_field(&e->v[i], "MESSAGE", &length);
                same = m && length == strlen(expected[i]) && memcmp(m, expected[i], length) == 0;
        }
        if (!same) {
                fprintf(stderr, "expected %zu messages:\n", n);
                for (size_t i = 0; i < n; i++) {
                        fprintf(stderr, "  [%zu] \"", i);
                        print_escaped(stderr, expected[i], strlen(expected[i]));
                        fprintf(stderr, "\"\n");
                }
                it_entries_print(e);
                fail_msg("the journal does not hold exactly the expected messages");
        }
}

void it_assert_field(const struct it_entry *e, const char *name, const char *value) {
        const char *v = it_entry_field(e, name, NULL);

        if (!v) {
                fprintf(stderr, "field %s missing (expected \"%s\")\n", name, value);
                fail();
        }
        assert_string_equal(v, value);
}

/* ---- per-test state -------------------------------------------------------- */

int it_setup(void **state) {
        struct it_test *t = calloc(1, sizeof(*t));

        if (!t)
                return -1;
        t->started_ms = it_now_ms();
        for (size_t i = 0; i < IT_MAX_FDS; i++)
                t->fds[i] = -1;
        for (size_t i = 0; i < IT_MAX_HARKD; i++)
                t->harkd[i].notify_fd = -1;
        *state = t;
        return 0;
}

int it_teardown(void **state) {
        struct it_test *t = *state;

        if (!t)
                return 0;
        printf("[   TIME   ] %.2f s\n", (double) (it_now_ms() - t->started_ms) / 1000);
        fflush(stdout);
        for (size_t i = 0; i < IT_MAX_FDS; i++)
                if (t->fds[i] >= 0)
                        close(t->fds[i]);
        for (size_t i = 0; i < IT_MAX_HARKD; i++)
                harkd_cleanup(&t->harkd[i]);
        for (size_t i = 0; i < t->n_files; i++)
                if (!getenv("HARK_IT_KEEP"))
                        unlink(t->files[i]);
        free(t);
        *state = NULL;
        return 0;
}

int it_test_keep_fd(struct it_test *t, int fd) {
        for (size_t i = 0; i < IT_MAX_FDS; i++)
                if (t->fds[i] < 0) {
                        t->fds[i] = fd;
                        return fd;
                }
        fail_msg("too many open fds in one test");
        return -1;
}

void it_test_close(struct it_test *t, int fd) {
        for (size_t i = 0; i < IT_MAX_FDS; i++)
                if (t->fds[i] == fd)
                        t->fds[i] = -1;
        close(fd);
}

const char *it_test_keep_file(struct it_test *t, const char *path) {
        assert_true(t->n_files < IT_MAX_FILES);
        snprintf(t->files[t->n_files], sizeof(t->files[0]), "%s", path);
        return t->files[t->n_files++];
}

int it_test_connect(struct it_test *t, const char *host, int port) {
        int fd = it_connect(host, port, 5000);

        if (fd < 0)
                fprintf(stderr, "cannot connect to %s port %d: %s\n", host, port, strerror(-fd));
        assert_true(fd >= 0);
        return it_test_keep_fd(t, fd);
}

struct harkd *it_test_harkd(struct it_test *t, size_t i, const struct harkd_options *options) {
        int r;

        assert_true(i < IT_MAX_HARKD);
        r = harkd_start(&t->harkd[i], options);
        if (r < 0)
                fprintf(stderr, "harkd (concurrency %s) did not start: %s\n",
                        options->mode ? options->mode : it_mode, strerror(-r));
        assert_int_equal(r, 0);
        return &t->harkd[i];
}

void it_assert_exited_0(int wait_status, const char *what) {
        if (wait_status < 0)
                fail_msg("%s did not exit in time (%s)", what, strerror(-wait_status));
        if (WIFSIGNALED(wait_status))
                fail_msg("%s was killed by signal %d", what, WTERMSIG(wait_status));
        if (WEXITSTATUS(wait_status) != 0)
                fail_msg("%s exited with status %d", what, WEXITSTATUS(wait_status));
}

void it_assert_harkd_stops(struct harkd *h, int timeout_ms) {
        it_assert_exited_0(harkd_stop(h, timeout_ms), "harkd");
        assert_false(harkd_sanitizer_report(h));
}

void it_send_and_confirm(struct it_test *t, struct harkd *h, const char *text, uint64_t expected) {
        int fd = it_test_connect(t, h->host, h->port);
        uint64_t confirmed;

        assert_int_equal(it_send_str(fd, text), 0);
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, expected);
        it_test_close(t, fd);
}
