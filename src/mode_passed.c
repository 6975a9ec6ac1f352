/* Socket activation with Accept=yes: systemd accepted the connection and
 * started this harkd for it alone (inetd style). Serve it, then exit. */
#include <errno.h>
#include <string.h>

#include "connection.h"
#include "log.h"
#include "mode.h"

static int run_passed(struct server *s) {
        struct accepted a;
        int fd = s->listeners.connection_fd, r;

        s->listeners.connection_fd = -1;
        r = server_adopt(s, fd, &a);
        if (r == -ENOTCONN) {
                /* The peer left before we looked: nothing was sent, nothing to do. */
                log_info("The passed connection was already closed by its peer");
                return 0;
        }
        if (r == -EPERM)
                return 0;       /* not in the allow list: refused and logged */
        if (r < 0) {
                log_error("Failed to identify the peer of the passed connection: %s", strerror(-r));
                return r;
        }
        (void) connection_handle(s, &a);
        return 0;
}

const struct server_driver mode_passed = { .name = "one connection passed by systemd (Accept=yes)", .run = run_passed };
