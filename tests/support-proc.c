/* Child processes of the integration tests; see support-proc.h. */
#include "support-proc.h"

#include "support-files.h"
#include "support-time.h"
#include "test-main.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

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

static void __attribute__((noreturn)) child_fail(const char *what, int error) {
        char msg[256];
        int n = snprintf(msg, sizeof(msg), "support: child: %s: %s\n", what, strerror(error));

        if (n > 0 && write(2, msg, (size_t) n) < 0)
                _exit(127);
        _exit(127);
}

pid_t it_fork(void) {
        pid_t parent = getpid(), pid;

        fflush(NULL);
        pid = fork();
        if (pid != 0)
                return pid;
        /* A test program killed mid-run (kill -9, a CI timeout) must take
         * its harkds and clients with it: nothing else would stop them. The
         * parent may have died before prctl(): then getppid() differs. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(127);
        return 0;
}

/* How to start a child. */
struct spawn {
        char *const *argv;              /* argv[0] a path */
        char *const *extra_env;         /* NULL-terminated, may be NULL */
        const char *in_path;            /* NULL: /dev/null */
        const char *out_path, *err_path;
        bool no_journal;
        /* A process group of its own, so that a signal can reach what it
         * forks too (harkd's fork mode); for what runs in the background. */
        bool own_group;
};

/* In the child: stdin, stdout, stderr from the given paths, nothing else
 * open, default signal handling, then argv. */
static void __attribute__((noreturn)) exec_child(const struct spawn *s, char **env) {
        int in = open(s->in_path ? s->in_path : "/dev/null", O_RDONLY | O_CLOEXEC);
        int out = open(s->out_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        int err = s->err_path == s->out_path ? out
                : open(s->err_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        sigset_t none;

        if (in < 0 || out < 0 || err < 0)
                child_fail("open", errno);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
                child_fail("dup2", errno);
        /* Nothing of the test's (client sockets above all) may leak in. */
        syscall(SYS_close_range, 3U, ~0U, 0U);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (s->own_group && setpgid(0, 0) < 0)
                child_fail("setpgid", errno);
        if (s->no_journal) {
                int r = hide_journal();
                if (r < 0)
                        child_fail("hiding the journal", -r);
        }
        execve(s->argv[0], s->argv, env);
        child_fail(s->argv[0], errno);
}

static pid_t start_child(const struct spawn *s) {
        char **env = build_env(s->extra_env);
        pid_t pid = it_fork();
        int error = errno;

        if (pid == 0)
                exec_child(s, env);
        free(env);
        if (pid < 0)
                return -error;
        /* Also here: the caller may signal the group before the child ran. */
        if (s->own_group)
                setpgid(pid, pid);
        return pid;
}

pid_t it_spawn(char *const argv[], char *const env[], const char *log_path, bool no_journal) {
        struct spawn s = { .argv = argv, .extra_env = env, .out_path = log_path, .err_path = log_path,
                           .no_journal = no_journal, .own_group = true };

        return start_child(&s);
}

pid_t it_spawn_with_stdin(char *const argv[], const char *in_path, const char *log_path) {
        struct spawn s = { .argv = argv, .in_path = in_path, .out_path = log_path, .err_path = log_path,
                           .own_group = true };

        return start_child(&s);
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
                if (it_ms_left(deadline) == 0)
                        return -ETIMEDOUT;
                it_sleep_ms(5);
        }
}

void it_kill_and_reap(pid_t pid) {
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
        pid = start_child(&(struct spawn) { .argv = argv, .in_path = input ? in_path : NULL,
                                            .out_path = out_path, .err_path = err_path });
        if (pid < 0) {
                r = pid;
                goto out;
        }
        r = it_wait_pid(pid, timeout_ms);
        if (r == -ETIMEDOUT) {
                fprintf(stderr, "support: %s did not end within %d ms; killed it\n", argv[0], timeout_ms);
                it_kill_and_reap(pid);
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

/* -1 when pid has no such line, or no status (it has just ended). */
static long status_kib(pid_t pid, const char *key) {
        char path[64], *text, *line;
        long value = -1;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        text = it_read_file(path, NULL);
        if (!text)
                return -1;
        line = strstr(text, key);
        if (line)
                value = strtol(line + strlen(key), NULL, 10);
        free(text);
        return value;
}

long it_proc_status_kib(pid_t pid, const char *key) {
        long value = status_kib(pid, key);

        assert_true(value >= 0);
        return value;
}

long it_proc_tree_status_kib(pid_t pid, const char *key) {
        char path[64], *text, *p, *end;
        long total = it_proc_status_kib(pid, key);

        /* fork(2) is called by the main thread, whose children these are. */
        snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int) pid, (int) pid);
        text = it_read_file(path, NULL);
        assert_non_null(text);
        for (p = text; *p; p = end) {
                long child = strtol(p, &end, 10), value;

                if (end == p)
                        break;
                /* One that has just ended holds nothing. */
                value = status_kib((pid_t) child, key);
                if (value > 0)
                        total += value;
        }
        free(text);
        return total;
}
