/* Dropping the capabilities (src/privilege.c), each case in a forked child:
 * what it drops is gone for good, and the test runner keeps its own. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "test-main.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privilege.h"
#include "util.h"

/* Runs child() in a forked process; returns its exit status (0: passed),
 * or -1 when it died of a signal. */
static int in_child(int (*child)(void)) {
        pid_t pid = fork();
        int status;

        assert_true(pid >= 0);
        if (pid == 0)
                _exit(child());
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The hexadecimal set NAME ("CapEff") of /proc/self/status; all ones when
 * the line cannot be read. */
static unsigned long long status_caps(const char *name) {
        unsigned long long value = ~0ULL;
        char line[256];
        size_t n = strlen(name);
        FILE *f = fopen("/proc/self/status", "re");

        if (!f)
                return value;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, name, n) == 0 && line[n] == ':')
                        value = strtoull(line + n + 1, NULL, 16);
        fclose(f);
        return value;
}

static long status_number(const char *name) {
        char line[256];
        size_t n = strlen(name);
        long value = -1;
        FILE *f = fopen("/proc/self/status", "re");

        if (!f)
                return value;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, name, n) == 0 && line[n] == ':')
                        value = strtol(line + n + 1, NULL, 10);
        fclose(f);
        return value;
}

/* Whether this process may change its bounding set (CAP_SETPCAP, 8). */
static bool has_setpcap(void) {
        return status_caps("CapEff") & (1ULL << 8);
}

static int drop_or_say(void) {
        char error[256] = "";
        int r = privileges_drop(error, sizeof(error));

        if (r < 0)
                fprintf(stderr, "privileges_drop: %d: %s\n", r, error);
        return r;
}

static int child_drop(void) {
        bool bounding = has_setpcap();
        static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapAmb" };

        if (drop_or_say() < 0)
                return 1;
        for (size_t i = 0; i < ELEMENTSOF(sets); i++)
                if (status_caps(sets[i]) != 0) {
                        fprintf(stderr, "%s: %016llx\n", sets[i], status_caps(sets[i]));
                        return 2;
                }
        if (bounding && status_caps("CapBnd") != 0) {
                fprintf(stderr, "CapBnd: %016llx\n", status_caps("CapBnd"));
                return 3;
        }
        if (status_number("NoNewPrivs") != 1)
                return 4;
        return 0;
}

static void test_drop_empties_every_set(void **state) {
        (void) state;
        assert_int_equal(in_child(child_drop), 0);
}

/* A second drop holds nothing to drop, as under a unit that grants no
 * capability: it succeeds without capset(2). */
static int child_drop_twice(void) {
        if (drop_or_say() < 0 || drop_or_say() < 0)
                return 1;
        return status_caps("CapEff") == 0 ? 0 : 2;
}

static void test_drop_twice(void **state) {
        (void) state;
        assert_int_equal(in_child(child_drop_twice), 0);
}

/* The highest port that needs CAP_NET_BIND_SERVICE, or 0 when none does. */
static int privileged_port(void) {
        FILE *f = fopen("/proc/sys/net/ipv4/ip_unprivileged_port_start", "re");
        int start = 1024;

        if (f) {
                if (fscanf(f, "%d", &start) != 1)
                        start = 1024;
                fclose(f);
        }
        return start > 1 ? start - 1 : 0;
}

/* errno of binding 127.0.0.1:port (0: bound). The kernel checks the
 * capability before whether the port is free. */
static int bind_errno(int port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

        if (fd < 0)
                return errno;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                r = errno;
        close(fd);
        return r;
}

static int child_bind_refused(void) {
        int r;

        if (drop_or_say() < 0)
                return 1;
        r = bind_errno(privileged_port());
        if (r != EACCES) {
                fprintf(stderr, "bind to port %d after the drop: %s\n", privileged_port(), strerror(r));
                return 2;
        }
        return 0;
}

static void test_privileged_port_refused_after_drop(void **state) {
        (void) state;
        if (privileged_port() == 0 || !(status_caps("CapEff") & (1ULL << 10)))
                skip();         /* no port needs the capability, or it was never held */
        assert_int_equal(in_child(child_bind_refused), 0);
}

/* As plain root (make run): after the drop, uid 0 still reads a file it
 * owns with mode 0600 (a TLS key), but no longer one of another user's
 * (CAP_DAC_OVERRIDE is gone). */
static char owned[] = "/tmp/hark-test-privilege-XXXXXX";
static char foreign[] = "/tmp/hark-test-privilege-XXXXXX";

static int child_reads_own_files(void) {
        int fd;

        if (drop_or_say() < 0)
                return 1;
        fd = open(owned, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "open %s: %m\n", owned);
                return 2;
        }
        close(fd);
        fd = open(foreign, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || errno != EACCES) {
                fprintf(stderr, "open %s (another user's, 0600): %s\n", foreign, fd >= 0 ? "opened" : strerror(errno));
                return 3;
        }
        return 0;
}

static void test_root_reads_own_files_only(void **state) {
        int a, b, r;

        (void) state;
        if (geteuid() != 0 || !(status_caps("CapEff") & (1ULL << 0)))
                skip();         /* not root, or cannot give a file away (CAP_CHOWN) */
        a = mkstemp(owned);
        b = mkstemp(foreign);
        assert_true(a >= 0 && b >= 0);
        assert_int_equal(fchmod(a, 0600), 0);
        assert_int_equal(fchmod(b, 0600), 0);
        assert_int_equal(fchown(b, 65534, 65534), 0);
        close(a);
        close(b);
        r = in_child(child_reads_own_files);
        unlink(owned);
        unlink(foreign);
        assert_int_equal(r, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_drop_empties_every_set),
                cmocka_unit_test(test_drop_twice),
                cmocka_unit_test(test_privileged_port_refused_after_drop),
                cmocka_unit_test(test_root_reads_own_files_only),
        };

        return hark_test_main("privilege", tests);
}
