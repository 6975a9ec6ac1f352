/* Concurrency modes and cmocka groups; see support-groups.h. */
#include "support-groups.h"

#include "support-files.h"
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
                        it_tmpdir_reset();
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
