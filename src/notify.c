#include "notify.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* How long a change of state (READY=1, RELOADING=1, STOPPING=1) waits for
 * room in the manager's queue. Status lines and watchdog pings never wait:
 * sd_notify(3) blocks once its queue is full (10 datagrams on a machine
 * with the kernel's default), and a manager that reads late must not stop
 * the thread that accepts, reloads and handles the stop. The next status
 * line says it all again. */
#define NOTIFY_STATE_WAIT_MS 250

/* $NOTIFY_SOCKET as an address: a path, or "@" for the abstract namespace. */
static int notify_address(struct sockaddr_un *sa, socklen_t *length) {
        const char *e = getenv("NOTIFY_SOCKET");
        size_t n;

        if (!e || !*e)
                return 0;
        n = strlen(e);
        if ((e[0] != '/' && e[0] != '@') || n >= sizeof(sa->sun_path))
                return -EAFNOSUPPORT;
        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        memcpy(sa->sun_path, e, n);
        if (e[0] == '@')
                sa->sun_path[0] = 0;
        *length = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (e[0] == '/'));
        return 1;
}

/* Sends message to the service manager, waiting at most wait_ms for room. */
static void notify_send(const char *message, int wait_ms) {
        struct sockaddr_un sa;
        socklen_t length;
        int fd;

        if (notify_address(&sa, &length) <= 0)
                return;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return;
        /* Connected: poll(2) then sees room in the manager's queue. */
        if (connect(fd, (struct sockaddr *) &sa, length) == 0 &&
            send(fd, message, strlen(message), MSG_NOSIGNAL) < 0 && errno == EAGAIN && wait_ms > 0) {
                struct pollfd pfd = { .fd = fd, .events = POLLOUT };

                if (poll(&pfd, 1, wait_ms) > 0)
                        (void) send(fd, message, strlen(message), MSG_NOSIGNAL);
        }
        (void) close(fd);
}

void notify_ready(void) {
        notify_send("READY=1", NOTIFY_STATE_WAIT_MS);
}

void notify_reloading(void) {
        /* systemd 253+ wants MONOTONIC_USEC with RELOADING=1 for Type=notify-reload;
         * older managers ignore it. */
        struct timespec ts;
        char message[64];

        /* Microseconds, not milliseconds rounded up: systemd compares it with
         * the moment it sent SIGHUP. */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        snprintf(message, sizeof(message), "RELOADING=1\nMONOTONIC_USEC=%llu",
                 (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000ULL);
        notify_send(message, NOTIFY_STATE_WAIT_MS);
}

void notify_stopping(void) {
        notify_send("STOPPING=1", NOTIFY_STATE_WAIT_MS);
}

void notify_status(const char *text) {
        char message[1024];

        snprintf(message, sizeof(message), "STATUS=%s", text);
        notify_send(message, 0);
}

long long notify_watchdog_interval_ms(void) {
        uint64_t usec = 0;

        return sd_watchdog_enabled(0, &usec) > 0 ? (long long) (usec / 1000) : 0;
}

void notify_watchdog(void) {
        notify_send("WATCHDOG=1", 0);
}
