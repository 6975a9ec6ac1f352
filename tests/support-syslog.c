/* Real syslog senders in the integration tests; see support-syslog.h. */
#include "support-syslog.h"

#include "support-client.h"
#include "support-files.h"
#include "support-groups.h"
#include "support-test.h"
#include "support-time.h"
#include "test-main.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RELAY_START_TIMEOUT_MS 5000
#define RELAY_STOP_TIMEOUT_MS 10000
#define RELAY_START_ATTEMPTS 3
#define LOGGER_TIMEOUT_MS 30000
#define JOURNAL_TIMEOUT_MS 10000
#define MAX_ARGS 48

/* Found programs, so that every test does not search again (and nothing
 * allocated stays behind for LeakSanitizer). */
static struct {
        char name[32];
        char path[PATH_MAX];
} programs[8];

static bool executable(const char *path) {
        struct stat st;

        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The first directory of the ':'-separated list dirs holding an executable
 * name; its path into buffer. */
static bool search_dirs(const char *dirs, const char *name, char *buffer, size_t size) {
        for (const char *p = dirs; p && *p;) {
                size_t n = strcspn(p, ":");

                if (n > 0) {
                        snprintf(buffer, size, "%.*s/%s", (int) n, p, name);
                        if (executable(buffer))
                                return true;
                }
                p += n;
                if (*p == ':')
                        p++;
        }
        return false;
}

const char *it_require_program(const char *name, const char *package) {
        size_t i;

        for (i = 0; i < sizeof(programs) / sizeof(programs[0]) && programs[i].name[0]; i++)
                if (strcmp(programs[i].name, name) == 0)
                        return programs[i].path;
        assert_true(i < sizeof(programs) / sizeof(programs[0]));
        /* Root's PATH has the sbin directories; CI's may not (rsyslogd). */
        if (!search_dirs(getenv("PATH"), name, programs[i].path, sizeof(programs[i].path)) &&
            !search_dirs("/usr/sbin:/sbin", name, programs[i].path, sizeof(programs[i].path)))
                fail_msg("%s is not installed: it comes with the Debian package %s (make check installs it)", name,
                         package);
        snprintf(programs[i].name, sizeof(programs[i].name), "%s", name);
        return programs[i].path;
}

const char *it_require_python(void) {
        /* Debian's, not one a user's PATH puts first (pyenv shims): the
         * package make check installs is the one the tests are about. */
        if (executable("/usr/bin/python3"))
                return "/usr/bin/python3";
        return it_require_program("python3", "python3");
}

/* The inode of a socket listening on 127.0.0.1:port or on 0.0.0.0:port,
 * as /proc/net/tcp lists it; 0 when there is none. */
static unsigned long listener_inode(int port) {
        char loopback[32], any[32], line[512];
        FILE *f = fopen("/proc/net/tcp", "re");
        unsigned long inode = 0;

        assert_non_null(f);
        snprintf(loopback, sizeof(loopback), "0100007F:%04X", (unsigned) port);
        snprintf(any, sizeof(any), "00000000:%04X", (unsigned) port);
        while (!inode && fgets(line, sizeof(line), f)) {
                char local[64], state[8];
                unsigned long n;

                /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
                if (sscanf(line, "%*s %63s %*s %7s %*s %*s %*s %*s %*s %lu", local, state, &n) == 3 &&
                    strcmp(state, "0A") == 0 && (strcmp(local, loopback) == 0 || strcmp(local, any) == 0))
                        inode = n;
        }
        fclose(f);
        return inode;
}

/* Whether process pid holds the socket of that inode. */
static bool holds_socket(pid_t pid, unsigned long inode) {
        char dir[64], path[PATH_MAX], target[64], wanted[64];
        struct dirent *d;
        bool found = false;
        DIR *fds;

        snprintf(dir, sizeof(dir), "/proc/%d/fd", (int) pid);
        snprintf(wanted, sizeof(wanted), "socket:[%lu]", inode);
        fds = opendir(dir);
        if (!fds)
                return false;
        while (!found && (d = readdir(fds))) {
                ssize_t n;

                snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
                n = readlink(path, target, sizeof(target) - 1);
                if (n > 0) {
                        target[n] = 0;
                        found = strcmp(target, wanted) == 0;
                }
        }
        closedir(fds);
        return found;
}

static void print_log(const char *what, const char *path) {
        char *text = it_read_file(path, NULL);

        fprintf(stderr, "--- %s (%s):\n%s%s---\n", what, path, text,
                text[0] && text[strlen(text) - 1] != '\n' ? "\n" : "");
        free(text);
}

/* Waits as it_wait_listening(); false when pid ended or time ran out. The
 * listener must be pid's: a port picked free may be taken by another
 * process (a harkd of a test beside this one) before pid binds it. */
static bool wait_listening(int port, pid_t pid, int timeout_ms) {
        long long deadline = it_now_ms() + timeout_ms;

        for (;;) {
                unsigned long inode = listener_inode(port);
                siginfo_t info = { 0 };

                if (inode && holds_socket(pid, inode))
                        return true;
                /* WNOWAIT: a child that ended stays to be reaped by its owner. */
                if (waitid(P_PID, (id_t) pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 || info.si_pid != 0)
                        return false;
                if (it_ms_left(deadline) == 0)
                        return false;
                it_sleep_ms(10);
        }
}

void it_wait_listening(int port, pid_t pid, const char *log_path, int timeout_ms) {
        if (!wait_listening(port, pid, timeout_ms)) {
                print_log("log", log_path);
                fail_msg("nothing listens on 127.0.0.1:%d after %d ms (pid %d)", port, timeout_ms, (int) pid);
        }
}

void it_logger(int port, const char *input, ...) {
        char *argv[MAX_ARGS], port_text[16];
        struct it_proc p;
        size_t n = 0;
        va_list ap;

        snprintf(port_text, sizeof(port_text), "%d", port);
        argv[n++] = (char *) it_require_program("logger", "bsdutils");
        argv[n++] = (char *) "--tcp";
        argv[n++] = (char *) "-n";
        argv[n++] = (char *) "127.0.0.1";
        argv[n++] = (char *) "-P";
        argv[n++] = port_text;
        va_start(ap, input);
        for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *)) {
                assert_true(n < MAX_ARGS - 1);
                argv[n++] = (char *) a;
        }
        va_end(ap);
        argv[n] = NULL;
        assert_int_equal(it_run(argv, input, input ? strlen(input) : 0, LOGGER_TIMEOUT_MS, &p), 0);
        if (it_exit_code(&p) != 0 || p.out_len > 0 || p.err_len > 0) {
                fprintf(stderr, "logger: stdout: %s\nstderr: %s\n", p.out, p.err);
                it_proc_free(&p);
                fail_msg("logger did not send cleanly");
        }
        it_proc_free(&p);
}

/* ---- relays ---- */

static void relay_init(struct it_relay *r, const char *name) {
        memset(r, 0, sizeof(*r));
        r->name = name;
        it_tmp_path(r->dir, sizeof(r->dir), name, ".d");
        assert_int_equal(mkdir(r->dir, 0700), 0);
        snprintf(r->log_path, sizeof(r->log_path), "%s/stderr", r->dir);
        snprintf(r->pid_path, sizeof(r->pid_path), "%s/pid", r->dir);
}

/* Starts argv with the config write_config writes for a free port; again
 * on another port when the relay did not listen there in time (the port
 * was taken before it bound it: it may die, or run without that input). */
static void relay_run(struct it_test *t, struct it_relay *r, char *const argv[], char *const env[],
                      void (*write_config)(const struct it_relay *r, const void *data), const void *data) {
        for (int attempt = 1;; attempt++) {
                r->port = it_free_port(AF_INET);
                assert_true(r->port > 0);
                write_config(r, data);
                r->pid = it_spawn(argv, env, r->log_path, false);
                assert_true(r->pid > 0);
                it_test_keep_pid(t, r->pid);
                if (wait_listening(r->port, r->pid, RELAY_START_TIMEOUT_MS))
                        return;
                print_log(r->name, r->log_path);
                if (r->internal_path[0])
                        print_log("its own messages", r->internal_path);
                it_kill_and_reap(r->pid);
                it_test_wait_pid(t, r->pid, 0);
                r->pid = 0;
                if (attempt == RELAY_START_ATTEMPTS)
                        fail_msg("%s did not listen on its input port", r->name);
                fprintf(stderr, "%s did not start; again on another port\n", r->name);
        }
}

struct rsyslog_options {
        int harkd_port;
        const char *action;             /* more omfwd parameters; NULL: none */
};

static void write_rsyslog_config(const struct it_relay *r, const void *data) {
        const struct rsyslog_options *o = data;
        char path[300], text[2048];

        /* The default ruleset gets only rsyslogd's own messages (the input
         * is bound to "relay"): into a file a failing test prints. */
        snprintf(text, sizeof(text),
                 "# written by the hark integration tests\n"
                 "global(workDirectory=\"%s\" processInternalMessages=\"on\")\n"
                 "module(load=\"imuxsock\" SysSock.Use=\"off\")\n"
                 "module(load=\"imtcp\")\n"
                 "input(type=\"imtcp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"relay\")\n"
                 "ruleset(name=\"relay\") {\n"
                 "        action(type=\"omfwd\" target=\"127.0.0.1\" port=\"%d\" protocol=\"tcp\" %s)\n"
                 "}\n"
                 "*.* action(type=\"omfile\" file=\"%s\")\n",
                 r->work_path, r->port, o->harkd_port, o->action ? o->action : "", r->internal_path);
        snprintf(path, sizeof(path), "%s/rsyslog.conf", r->dir);
        assert_int_equal(it_write_file(path, text), 0);
}

void it_rsyslog_start(struct it_test *t, struct it_relay *r, int harkd_port, const char *action_options) {
        const char *rsyslogd = it_require_program("rsyslogd", "rsyslog");
        const struct rsyslog_options options = { harkd_port, action_options };
        char conf[300];

        relay_init(r, "rsyslogd");
        snprintf(conf, sizeof(conf), "%s/rsyslog.conf", r->dir);
        snprintf(r->work_path, sizeof(r->work_path), "%s/work", r->dir);
        snprintf(r->internal_path, sizeof(r->internal_path), "%s/internal.log", r->dir);
        assert_int_equal(mkdir(r->work_path, 0700), 0);
        char *const argv[] = { (char *) rsyslogd, (char *) "-n", (char *) "-f", conf, (char *) "-i", r->pid_path, NULL };
        relay_run(t, r, argv, NULL, write_rsyslog_config, &options);
}

const char *it_syslog_ng_root(void) {
        static char root[PATH_MAX];
        char binary[PATH_MAX + 32];
        const char *env = getenv("HARK_SYSLOG_NG");

        if (env && *env)
                snprintf(root, sizeof(root), "%s", env);
        else {
                const char *harkd = it_harkd_path();
                const char *slash = strrchr(harkd, '/');
                snprintf(root, sizeof(root), "%.*s/syslog-ng", (int) (slash - harkd), harkd);
        }
        snprintf(binary, sizeof(binary), "%s/usr/sbin/syslog-ng", root);
        if (!executable(binary))
                fail_msg("syslog-ng is not unpacked in %s: run tests/fetch-syslog-ng %s (make check does; "
                         "or point $HARK_SYSLOG_NG at such a directory)",
                         root, root);
        return root;
}

/* The one path matching pattern (a directory of the unpacked tree). */
static void glob_one(const char *pattern, char *buffer, size_t size) {
        glob_t g;

        if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc != 1) {
                globfree(&g);
                fail_msg("expected exactly one %s (from tests/fetch-syslog-ng)", pattern);
        }
        snprintf(buffer, size, "%s", g.gl_pathv[0]);
        globfree(&g);
}

static void write_syslog_ng_config(const struct it_relay *r, const void *data) {
        const char *destination = data;
        char path[300], text[2048];

        /* keep_hostname: a relayed message keeps its sender's host name
         * instead of the name of the peer that passed it on. */
        snprintf(text, sizeof(text),
                 "@version: 3.38\n"
                 "# written by the hark integration tests\n"
                 "options { keep_hostname(yes); chain_hostnames(no); use_dns(no); dns_cache(no); "
                 "stats_freq(0); };\n"
                 "source s_test { network(ip(\"127.0.0.1\") port(%d) transport(\"tcp\")); };\n"
                 "destination d_harkd { %s; };\n"
                 "log { source(s_test); destination(d_harkd); };\n",
                 r->port, destination);
        snprintf(path, sizeof(path), "%s/syslog-ng.conf", r->dir);
        assert_int_equal(it_write_file(path, text), 0);
}

/* LD_LIBRARY_PATH for the unpacked tree: syslog-ng's own libraries, and
 * those of the packages fetch-syslog-ng unpacked beside it (not installed
 * here), in usr/lib/<triplet> or, not moved by usrmerge, lib/<triplet>. */
static void library_path(const char *root, char *buffer, size_t size) {
        static const char *const dirs[] = { "usr/lib/*-linux-gnu", "lib/*-linux-gnu" };

        snprintf(buffer, size, "LD_LIBRARY_PATH=%s/usr/lib/syslog-ng", root);
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                char pattern[PATH_MAX + 32];
                glob_t g = { 0 };

                snprintf(pattern, sizeof(pattern), "%s/%s", root, dirs[i]);
                if (glob(pattern, GLOB_ONLYDIR, NULL, &g) == 0)
                        for (size_t k = 0; k < g.gl_pathc; k++) {
                                size_t used = strlen(buffer);
                                snprintf(buffer + used, size - used, ":%s", g.gl_pathv[k]);
                        }
                globfree(&g);
        }
}

void it_syslog_ng_start(struct it_test *t, struct it_relay *r, const char *destination) {
        const char *root = it_syslog_ng_root();
        char binary[PATH_MAX + 32], pattern[PATH_MAX + 32], modules[PATH_MAX], env_path[4 * PATH_MAX];
        char conf[300], persist[300], control[300], pid_option[300], module_path[PATH_MAX + 16];

        relay_init(r, "syslog-ng");
        snprintf(binary, sizeof(binary), "%s/usr/sbin/syslog-ng", root);
        snprintf(pattern, sizeof(pattern), "%s/usr/lib/syslog-ng/[0-9]*", root);
        glob_one(pattern, modules, sizeof(modules));
        library_path(root, env_path, sizeof(env_path));
        snprintf(conf, sizeof(conf), "%s/syslog-ng.conf", r->dir);
        snprintf(persist, sizeof(persist), "--persist-file=%s/persist", r->dir);
        snprintf(pid_option, sizeof(pid_option), "--pidfile=%s", r->pid_path);
        snprintf(control, sizeof(control), "--control=%s/ctl", r->dir);
        snprintf(module_path, sizeof(module_path), "--module-path=%s", modules);
        char *const argv[] = { binary, (char *) "-F", (char *) "--no-caps", (char *) "-f", conf, persist, pid_option,
                               control, module_path, NULL };
        char *const env[] = { env_path, NULL };
        relay_run(t, r, argv, env, write_syslog_ng_config, destination);
}

void it_relay_send(struct it_test *t, const struct it_relay *r, const char *text) {
        int fd = it_test_connect(t, "127.0.0.1", r->port);

        assert_int_equal(it_send_str(fd, text), 0);
        it_test_close(t, fd);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path) < 0 ? -1 : 0;
}

static bool directory_empty(const char *path) {
        DIR *d = opendir(path);
        struct dirent *e;
        bool empty = true;

        assert_non_null(d);
        while (empty && (e = readdir(d)))
                empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        closedir(d);
        return empty;
}

void it_relay_stop(struct it_test *t, struct it_relay *r) {
        char *log;
        int status;

        assert_true(r->pid > 0);
        assert_int_equal(kill(r->pid, SIGTERM), 0);
        status = it_test_wait_pid(t, r->pid, RELAY_STOP_TIMEOUT_MS);
        if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                print_log(r->name, r->log_path);
                if (r->internal_path[0])
                        print_log("its own messages", r->internal_path);
        }
        it_assert_exited_0(status, r->name);
        r->pid = 0;
        if (access(r->pid_path, F_OK) == 0)
                fail_msg("%s left its pid file %s after SIGTERM", r->name, r->pid_path);
        if (r->work_path[0] && !directory_empty(r->work_path))
                fail_msg("%s left files in its work directory %s (a queue it did not deliver?)", r->name,
                         r->work_path);
        log = it_read_file(r->log_path, NULL);
        if (log[0]) {
                print_log(r->name, r->log_path);
                free(log);
                fail_msg("%s wrote to stderr", r->name);
        }
        free(log);
        if (getenv("HARK_IT_KEEP"))
                return;
        assert_int_equal(nftw(r->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
        assert_int_equal(access(r->dir, F_OK), -1);
}

/* ---- Python ---- */

pid_t it_python_spawn(struct it_test *t, const char *script, const char *in_path, const char *log_path, ...) {
        char *argv[MAX_ARGS];
        size_t n = 0;
        va_list ap;
        pid_t pid;

        argv[n++] = (char *) it_require_python();
        argv[n++] = (char *) "-c";
        argv[n++] = (char *) script;
        va_start(ap, log_path);
        for (const char *a = va_arg(ap, const char *); a; a = va_arg(ap, const char *)) {
                assert_true(n < MAX_ARGS - 1);
                argv[n++] = (char *) a;
        }
        va_end(ap);
        argv[n] = NULL;
        pid = it_spawn_with_stdin(argv, in_path, log_path);
        assert_true(pid > 0);
        return it_test_keep_pid(t, pid);
}

void it_python_wait(struct it_test *t, pid_t pid, const char *log_path, int timeout_ms) {
        int status = it_test_wait_pid(t, pid, timeout_ms);
        char *log = it_read_file(log_path, NULL);
        /* logging prints "--- Logging error ---" and the exception (a
         * BrokenPipeError) when a handler's emit() fails, and goes on. */
        bool exception = strstr(log, "Traceback") || strstr(log, "Error");

        if (status < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || exception)
                print_log("python", log_path);
        free(log);
        it_assert_exited_0(status, "python");
        if (exception)
                fail_msg("python printed an exception");
}

/* ---- journal entries ---- */

void it_syslog_entries(const char *identifier, const char *needle, size_t expected, struct it_entries *out) {
        char match[128];
        const char *matches[] = { match, NULL };
        int r;

        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", identifier);
        r = it_journal_collect_matching(matches, needle, expected, JOURNAL_TIMEOUT_MS, out);
        assert_true(r >= 0);
        if ((size_t) r != expected) {
                it_entries_print_all(out);
                fail_msg("%d journal entries with %s%s%s, expected %zu", r, match, needle ? " and MESSAGE holding " : "",
                         needle ? needle : "", expected);
        }
}

static void print_value(FILE *f, const char *data, size_t length) {
        for (size_t i = 0; i < length; i++) {
                unsigned char c = (unsigned char) data[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        fputc(c, f);
                else
                        fprintf(f, "\\x%02x", c);
        }
}

static void print_entry(const struct it_entry *e) {
        for (size_t k = 0; k < e->n_fields; k++) {
                const struct it_field *f = &e->fields[k];

                if (f->name[0] == '_')
                        continue;
                fprintf(stderr, "    %s=", f->name);
                print_value(stderr, f->value, f->length);
                fputc('\n', stderr);
        }
}

void it_entries_print_all(const struct it_entries *e) {
        fprintf(stderr, "%zu journal entries:\n", e->n);
        for (size_t i = 0; i < e->n; i++) {
                fprintf(stderr, "  [%zu]\n", i);
                print_entry(&e->v[i]);
        }
}

/* Checks one spec against entry; false (having said why) when it fails. */
static bool check_spec(const struct it_entry *e, const char *spec) {
        bool absent = spec[0] == '!';
        const char *name = absent ? spec + 1 : spec;
        size_t name_len = strcspn(name, "=~"), length;
        char field[128];
        const char *value;

        assert_true(name_len < sizeof(field));
        memcpy(field, name, name_len);
        field[name_len] = 0;
        value = it_entry_field(e, field, &length);
        if (absent) {
                if (!value)
                        return true;
                fprintf(stderr, "field %s is there (\"%s\"), expected none\n", field, value);
                return false;
        }
        if (!value) {
                fprintf(stderr, "field %s is missing (expected %s)\n", field, spec);
                return false;
        }
        if (name[name_len] == '=' && (length != strlen(name + name_len + 1) || memcmp(value, name + name_len + 1, length))) {
                fprintf(stderr, "field %s: expected \"%s\", got \"", field, name + name_len + 1);
                print_value(stderr, value, length);
                fprintf(stderr, "\"\n");
                return false;
        }
        if (name[name_len] == '~' && (strlen(value) != length || fnmatch(name + name_len + 1, value, 0) != 0)) {
                fprintf(stderr, "field %s: expected to match \"%s\", got \"", field, name + name_len + 1);
                print_value(stderr, value, length);
                fprintf(stderr, "\"\n");
                return false;
        }
        return true;
}

/* Whether specs name the field name (in any of the forms). */
static bool named(const char *const *specs, const char *name) {
        size_t len = strlen(name);

        for (size_t i = 0; specs[i]; i++) {
                const char *s = specs[i][0] == '!' ? specs[i] + 1 : specs[i];
                if (strncmp(s, name, len) == 0 && (s[len] == 0 || s[len] == '=' || s[len] == '~'))
                        return true;
        }
        return false;
}

void it_assert_syslog_entry(const struct it_entries *e, size_t i, const char *const *specs) {
        static const char *const always[] = {
                "REMOTE_ADDR=127.0.0.1", "REMOTE_PORT~[1-9]*", "HARK_CONNECTION~[1-9]*", "!REMOTE_PID",
                "!HARK_TRUNCATED", "!HARK_INCOMPLETE", "!HARK_SYSLOG_ERROR", NULL,
        };
        const struct it_entry *entry;
        bool ok = true;

        if (i >= e->n) {
                it_entries_print_all(e);
                fail_msg("no entry [%zu]: %zu entries", i, e->n);
        }
        entry = &e->v[i];
        for (size_t k = 0; specs[k]; k++)
                ok &= check_spec(entry, specs[k]);
        for (size_t k = 0; always[k]; k++) {
                const char *name = always[k][0] == '!' ? always[k] + 1 : always[k];
                char field[64];

                snprintf(field, sizeof(field), "%.*s", (int) strcspn(name, "=~"), name);
                if (!named(specs, field))
                        ok &= check_spec(entry, always[k]);
        }
        for (size_t k = 0; k < entry->n_fields; k++)
                if (strncmp(entry->fields[k].name, "SD_", 3) == 0 && !named(specs, entry->fields[k].name)) {
                        fprintf(stderr, "field %s=%s is there, not expected\n", entry->fields[k].name,
                                entry->fields[k].value);
                        ok = false;
                }
        if (!ok) {
                fprintf(stderr, "entry [%zu] of %zu:\n", i, e->n);
                print_entry(entry);
                fail_msg("entry [%zu] does not have the expected fields", i);
        }
}

void it_assert_one_connection(const struct it_entries *e, size_t from, size_t to) {
        assert_true(from < to && to <= e->n);
        const char *id = it_entry_field(&e->v[from], "HARK_CONNECTION", NULL);
        const char *port = it_entry_field(&e->v[from], "REMOTE_PORT", NULL);

        assert_non_null(id);
        assert_non_null(port);
        for (size_t i = from + 1; i < to; i++) {
                const char *other_id = it_entry_field(&e->v[i], "HARK_CONNECTION", NULL);
                const char *other_port = it_entry_field(&e->v[i], "REMOTE_PORT", NULL);

                if (!other_id || !other_port || strcmp(id, other_id) != 0 || strcmp(port, other_port) != 0) {
                        it_entries_print_all(e);
                        fail_msg("entry [%zu] came over another connection than entry [%zu]", i, from);
                }
        }
}

void it_show_json(const char *const *matches) {
        char *argv[MAX_ARGS];
        struct it_proc p;
        size_t n = 0;

        /* One mode is enough for a report. */
        if (!getenv("HARK_IT_SHOW_JSON") || strcmp(it_mode, "epoll") != 0)
                return;
        argv[n++] = (char *) it_require_program("journalctl", "systemd");
        argv[n++] = (char *) "--no-pager";
        argv[n++] = (char *) "-o";
        argv[n++] = (char *) "json";
        for (size_t i = 0; matches[i] && n < MAX_ARGS - 1; i++)
                argv[n++] = (char *) matches[i];
        argv[n] = NULL;
        assert_int_equal(it_run(argv, NULL, 0, 10000, &p), 0);
        printf("[   JSON   ] %s", p.out);
        fflush(stdout);
        it_proc_free(&p);
}

void it_show_entry_json(const struct it_entry *e) {
        static const char *const names[] = { "SYSLOG_IDENTIFIER", "REMOTE_PORT", "HARK_CONNECTION", "MESSAGE" };
        char matches[4][512];
        const char *v[5] = { NULL };
        size_t n = 0;

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                size_t length;
                const char *value = it_entry_field(e, names[i], &length);

                /* journalctl takes a match as one argument: text only. */
                if (value && length == strlen(value) && !strchr(value, '\n') && length < 400) {
                        snprintf(matches[n], sizeof(matches[n]), "%s=%s", names[i], value);
                        v[n] = matches[n];
                        n++;
                }
        }
        it_show_json(v);
}

const char *it_hostname(bool short_name) {
        static char full[HOST_NAME_MAX + 1], brief[HOST_NAME_MAX + 1];

        assert_int_equal(gethostname(full, sizeof(full)), 0);
        snprintf(brief, sizeof(brief), "%.*s", (int) strcspn(full, "."), full);
        return short_name ? brief : full;
}
