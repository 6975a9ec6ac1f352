/* The per-test state of the integration tests; see support-test.h. */
#include "support-test.h"

#include "support-client.h"
#include "support-groups.h"
#include "support-journald.h"
#include "support-proc.h"
#include "support-time.h"
#include "test-main.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
        /* A failed test may have left journald stopped or gone: the next needs one. */
        it_journald_continue(t);
        if (t->journald_conf_mounted || t->journal_store_mounted)
                it_journald_unconfigure(t);
        else if (t->journald_killed)
                it_journald_start(t);
        for (size_t i = 0; i < IT_MAX_FDS; i++)
                if (t->fds[i] >= 0)
                        close(t->fds[i]);
        for (size_t i = 0; i < IT_MAX_HARKD; i++)
                harkd_cleanup(&t->harkd[i]);
        for (size_t i = 0; i < IT_MAX_PIDS; i++)
                it_kill_and_reap(t->pids[i]);
        for (size_t i = 0; i < t->n_files; i++)
                if (!getenv("HARK_IT_KEEP"))
                        (void) remove(t->files[i]);     /* a file, or an empty directory */
        free(t);
        *state = NULL;
        return 0;
}

bool it_sanitized(void) {
        const char *s = getenv("SANITIZE");

        return s && *s;
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

pid_t it_test_keep_pid(struct it_test *t, pid_t pid) {
        for (size_t i = 0; i < IT_MAX_PIDS; i++)
                if (t->pids[i] == 0) {
                        t->pids[i] = pid;
                        return pid;
                }
        fail_msg("too many child processes in one test");
        return -1;
}

int it_test_wait_pid(struct it_test *t, pid_t pid, int timeout_ms) {
        int status = it_wait_pid(pid, timeout_ms);

        /* Reaped (or never ours): its pid may come back as another process. */
        if (status != -ETIMEDOUT)
                for (size_t i = 0; i < IT_MAX_PIDS; i++)
                        if (t->pids[i] == pid)
                                t->pids[i] = 0;
        return status;
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
