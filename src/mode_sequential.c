/* `sequential`: one connection at a time; the next waits in the kernel backlog. */
#include <errno.h>

#include "connection.h"
#include "mode.h"

static int run_sequential(struct server *s) {
        struct peer peer;
        int fd;

        while ((fd = server_accept(s, &peer)) >= 0) {
                connection_handle(s, fd, &peer, server_next_connection_id(s));
                server_release(s, &peer);
        }
        server_begin_drain(s);
        return fd == -ECANCELED ? 0 : fd;
}

const struct mode_driver mode_sequential = { MODE_SEQUENTIAL, run_sequential };
