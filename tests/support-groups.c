/* Concurrency modes and cmocka groups; see support-groups.h. */
#include "support-groups.h"

#include "support-files.h"
#include "support-proc.h"
#include "support-time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const it_all_modes[IT_N_MODES] = { "sequential", "thread", "pool", "fork", "epoll" };
const char *it_mode = "epoll";

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

static size_t selected_modes(void) {
        size_t n = 0;

        for (size_t i = 0; i < IT_N_MODES; i++)
                n += mode_selected(it_all_modes[i]);
        return n;
}

/* Runs tests once, as the group "name"; returns the number that failed. */
static int run_group(const char *name, const struct it_tests *tests) {
        long long start = it_now_ms();
        int failed;

        /* cmocka 1.1 does not print the group's name itself. */
        printf("[----------] group %s\n", name);
        fflush(stdout);
        failed = _cmocka_run_group_tests(name, tests->v, tests->n, NULL, NULL);
        printf("[----------] group %s: %d failed, %.1f s\n", name, failed, (double) (it_now_ms() - start) / 1000);
        fflush(stdout);
        return failed;
}

/* Runs tests once per selected mode, as the groups "<prefix>/<mode>".
 * Returns the number of failed tests. */
static int run_mode_groups(const char *prefix, const struct it_tests *tests) {
        int failed = 0;

        for (size_t i = 0; i < IT_N_MODES; i++) {
                char name[64];

                if (!mode_selected(it_all_modes[i]))
                        continue;
                it_mode = it_all_modes[i];
                snprintf(name, sizeof(name), "%s/%s", prefix, it_mode);
                failed += run_group(name, tests);
        }
        return failed;
}

/* Forks a process that runs the group of it_all_modes[mode], its output
 * going to log. Returns its pid, or -1 (having said why). */
static pid_t start_group_process(const char *prefix, size_t mode, const struct it_tests *tests, const char *log) {
        char name[64];
        pid_t pid;
        int fd, failed;

        pid = it_fork();
        if (pid < 0)
                fprintf(stderr, "support: fork: %s\n", strerror(errno));
        if (pid != 0)
                return pid;
        fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
                _exit(100);
        setvbuf(stdout, NULL, _IOLBF, 0);
        /* Files of its own: the counters of the processes run alike. */
        it_tmpdir_reset();
        it_mode = it_all_modes[mode];
        snprintf(name, sizeof(name), "%s/%s", prefix, it_mode);
        failed = run_group(name, tests);
        fflush(NULL);
        exit(failed > 99 ? 99 : failed);
}

/* Waits for a group process, prints its output; returns how many of its
 * tests failed. */
static int finish_group_process(const char *prefix, size_t mode, pid_t pid, const char *log) {
        char *out;
        int status, failed;

        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        out = it_read_file(log, NULL);
        fputs(out, stdout);
        free(out);
        unlink(log);
        if (WIFEXITED(status) && WEXITSTATUS(status) < 100)
                failed = WEXITSTATUS(status);
        else {
                /* Counted like a cmocka summary line (tests/run-tests sums those). */
                printf("[  FAILED  ] 1 test(s): group %s/%s ended abnormally (status 0x%x)\n", prefix,
                       it_all_modes[mode], (unsigned) status);
                failed = 1;
        }
        fflush(stdout);
        return failed;
}

/* The same as run_mode_groups() with the groups side by side. */
static int run_mode_groups_side_by_side(const char *prefix, const struct it_tests *tests) {
        pid_t pids[IT_N_MODES] = { 0 };
        char logs[IT_N_MODES][256];
        int failed = 0;

        if (getenv("HARK_IT_SERIAL"))
                return run_mode_groups(prefix, tests);
        for (size_t i = 0; i < IT_N_MODES; i++) {
                if (!mode_selected(it_all_modes[i]))
                        continue;
                it_tmp_path(logs[i], sizeof(logs[i]), "group", ".out");
                pids[i] = start_group_process(prefix, i, tests, logs[i]);
                if (pids[i] < 0) {
                        failed++;
                        break;
                }
        }
        for (size_t i = 0; i < IT_N_MODES; i++)
                if (pids[i] > 0)
                        failed += finish_group_process(prefix, i, pids[i], logs[i]);
        return failed;
}

int it_main(const struct it_suite *suite) {
        int failed = 0;

        if (hark_test_counting())
                return hark_test_print_count(suite->per_mode.n * selected_modes() + suite->once.n);
        if (suite->per_mode.n > 0)
                failed += suite->side_by_side ? run_mode_groups_side_by_side(suite->name, &suite->per_mode)
                                              : run_mode_groups(suite->name, &suite->per_mode);
        if (suite->once.n > 0)
                failed += run_group(suite->name, &suite->once);
        return failed ? 1 : 0;
}
