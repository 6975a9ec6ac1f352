/* The private journald of the integration tests; see support-journald.h. */
#include "support-journald.h"

#include "support-files.h"
#include "support-proc.h"
#include "support-test.h"
#include "support-time.h"
#include "test-main.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* Written by tests/with-journald: the pids of its journalds, one a line. */
#define JOURNALD_PID_FILE "/run/log/journald.pid"
/* A new journald must answer within this (with-journald waits 10 s). */
#define START_TIMEOUT_MS 30000
#define KILL_TIMEOUT_MS 5000

static const char *with_journald_path(void) {
        const char *private = getenv("HARK_PRIVATE_JOURNAL");
        const char *path = getenv("HARK_WITH_JOURNALD");

        return private && strcmp(private, "1") == 0 && path && path[0] == '/' ? path : NULL;
}

void it_journald_require_private(void) {
        if (!with_journald_path() || it_journald_pid() < 0) {
                print_message("not beside the private journald of tests/with-journald: this test would stop "
                              "or replace the machine's own; skipping\n");
                skip();
        }
}

pid_t it_journald_pid(void) {
        char *text = it_read_file(JOURNALD_PID_FILE, NULL), *last;
        long pid;

        /* The last line holds the one in charge. */
        while (*text && text[strlen(text) - 1] == '\n')
                text[strlen(text) - 1] = 0;
        last = strrchr(text, '\n');
        pid = strtol(last ? last + 1 : text, NULL, 10);
        free(text);
        return pid > 0 ? (pid_t) pid : -ENOENT;
}

/* Runs with-journald with option (--kill, --start); asserts exit 0. */
static void with_journald(const char *option) {
        char *argv[] = { (char *) with_journald_path(), (char *) option, NULL };
        struct it_proc p;
        int code;

        assert_non_null(argv[0]);
        assert_int_equal(it_run(argv, NULL, 0, START_TIMEOUT_MS, &p), 0);
        code = it_exit_code(&p);
        if (code != 0)
                fprintf(stderr, "with-journald %s: exit %d\n%s%s", option, code, p.out, p.err);
        it_proc_free(&p);
        assert_int_equal(code, 0);
}

void it_journald_stop(struct it_test *t) {
        pid_t pid = it_journald_pid();

        assert_true(pid > 0);
        assert_int_equal(kill(pid, SIGSTOP), 0);
        t->stopped_journald = pid;
}

void it_journald_continue(struct it_test *t) {
        if (t->stopped_journald > 0)
                kill(t->stopped_journald, SIGCONT);
        t->stopped_journald = 0;
}

/* Whether pid is gone: no such process, or a zombie (not our child, so
 * with-journald or init reaps it). */
static bool gone(pid_t pid) {
        char path[64], *stat, *end;
        bool zombie;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        stat = it_read_file(path, NULL);
        end = strrchr(stat, ')');
        zombie = !end || strncmp(end, ") Z", 3) == 0;
        free(stat);
        return zombie;
}

void it_journald_kill_stopped(struct it_test *t) {
        long long deadline = it_now_ms() + KILL_TIMEOUT_MS;
        pid_t pid = t->stopped_journald;

        assert_true(pid > 0);
        assert_int_equal(kill(pid, SIGKILL), 0);
        while (!gone(pid) && it_ms_left(deadline) > 0)
                it_sleep_ms(5);
        assert_true(gone(pid));
        t->stopped_journald = 0;
}

void it_journald_kill(struct it_test *t) {
        with_journald("--kill");
        t->stopped_journald = 0;
        t->journald_killed = true;
}

void it_journald_start(struct it_test *t) {
        with_journald("--start");
        t->journald_killed = false;
}

void it_journald_replace(struct it_test *t) {
        it_journald_kill(t);
        it_journald_start(t);
}

#define JOURNALD_CONF "/etc/systemd/journald.conf"
#define JOURNAL_STORE "/run/log/journal"     /* the volatile store */

/* Undoes what it_journald_configure() mounted; journald must be gone. */
static void unmount_configuration(struct it_test *t) {
        if (t->journald_conf_mounted && umount2(JOURNALD_CONF, MNT_DETACH) < 0)
                fail_msg("cannot unmount the test's %s: %s", JOURNALD_CONF, strerror(errno));
        if (t->journal_store_mounted && umount2(JOURNAL_STORE, MNT_DETACH) < 0)
                fail_msg("cannot unmount the test's %s: %s", JOURNAL_STORE, strerror(errno));
        t->journald_conf_mounted = t->journal_store_mounted = false;
}

void it_journald_configure(struct it_test *t, const char *journald_conf, const char *store_size) {
        char path[256], options[64];

        it_journald_require_private();
        it_journald_kill(t);
        unmount_configuration(t);
        if (journald_conf) {
                it_tmp_path(path, sizeof(path), "journald", ".conf");
                assert_int_equal(it_write_file(path, journald_conf), 0);
                it_test_keep_file(t, path);
                if (mount(path, JOURNALD_CONF, NULL, MS_BIND, NULL) < 0)
                        fail_msg("cannot bind-mount %s over %s: %s", path, JOURNALD_CONF, strerror(errno));
                t->journald_conf_mounted = true;
        }
        if (store_size) {
                (void) mkdir(JOURNAL_STORE, 0755);
                snprintf(options, sizeof(options), "size=%s,mode=0755", store_size);
                if (mount("tmpfs", JOURNAL_STORE, "tmpfs", 0, options) < 0)
                        fail_msg("cannot mount a tmpfs of %s on %s: %s", store_size, JOURNAL_STORE, strerror(errno));
                t->journal_store_mounted = true;
        }
        it_journald_start(t);
}

void it_journald_unconfigure(struct it_test *t) {
        if (!t->journald_conf_mounted && !t->journal_store_mounted)
                return;
        it_journald_continue(t);
        it_journald_kill(t);
        unmount_configuration(t);
        it_journald_start(t);
}
