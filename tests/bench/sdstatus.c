/* sdstatus: what harkd tells systemd, for the benchmark. Listens where
 * NOTIFY_SOCKET points a daemon to and prints every STATUS= it is sent.
 *
 *   sdstatus --socket NAME [--timeout SECONDS]
 *
 * NAME is an abstract unix datagram socket ("@NAME" in NOTIFY_SOCKET). Each
 * STATUS= becomes a line "status <n> <text>" on stdout, flushed at once, n
 * counting from 1, so that a reader can wait for the next one. Ends on
 * SIGTERM or SIGINT, or after --timeout (default 600) seconds; exit status
 * 0, 1 when the socket cannot be made, 2 for a usage error. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_stop(int sig) {
        (void) sig;
        stop = 1;
}

static double mono(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Prints the STATUS= lines of one notification (a datagram of lines). */
static void print_status(char *text, unsigned long *n) {
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
                if (strncmp(line, "STATUS=", 7) == 0)
                        printf("status %lu %s\n", ++*n, line + 7);
        fflush(stdout);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "timeout", required_argument, NULL, 't' },
                { 0 },
        };
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct sigaction act = { .sa_handler = on_stop };
        const char *name = NULL;
        double timeout = 600, deadline;
        unsigned long n = 0;
        bool bad = false;
        socklen_t len;
        char *end;
        int c, fd;

        while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
                if (c == 's')
                        name = optarg;
                else if (c == 't') {
                        timeout = strtod(optarg, &end);
                        bad |= end == optarg || *end || !(timeout > 0);
                } else
                        bad = true;
        }
        if (bad || !name || !*name || strlen(name) >= sizeof(sa.sun_path) - 1 || optind != argc) {
                fprintf(stderr, "Usage: sdstatus --socket NAME [--timeout SECONDS]\n");
                return 2;
        }
        /* Abstract: sun_path[0] stays NUL, the name follows. */
        memcpy(sa.sun_path + 1, name, strlen(name));
        len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, len) < 0) {
                fprintf(stderr, "sdstatus: cannot listen on @%s: %s\n", name, strerror(errno));
                return 1;
        }
        sigaction(SIGTERM, &act, NULL);
        sigaction(SIGINT, &act, NULL);
        deadline = mono() + timeout;
        while (!stop && mono() < deadline) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                char buffer[4096];
                ssize_t got;

                if (poll(&pfd, 1, 200) <= 0)
                        continue;
                got = recv(fd, buffer, sizeof(buffer) - 1, MSG_DONTWAIT);
                if (got <= 0)
                        continue;
                buffer[got] = '\0';
                print_status(buffer, &n);
        }
        close(fd);
        return 0;
}
