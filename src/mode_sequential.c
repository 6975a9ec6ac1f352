/* `sequential`: one connection at a time; the next waits in the kernel
 * backlog. The connection is served beside the main loop, not in it, so
 * that reloads, the watchdog and a stop request are not held up by it. */
#include "mode.h"

static int run_sequential(struct server *s) {
        s->mode_limit = 1;
        return mode_thread.run(s);
}

const struct mode_driver mode_sequential = { MODE_SEQUENTIAL, run_sequential };
