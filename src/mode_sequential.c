/* `sequential`: one connection at a time; the next waits in the kernel
 * backlog. It is a pool of one worker that may hold one connection: the
 * connection is served beside the main loop, not in it, so that reloads, the
 * watchdog and a stop request are not held up by it, and no thread is
 * started per connection. */
#include "mode.h"

static int run_sequential(struct server *s) {
        admission_set_mode_limit(&s->admission, 1);
        return mode_pool_serve(s, 1);
}

const struct server_driver mode_sequential = { .name = "sequential",
                                                 .run = run_sequential,
                                                 .hands_off_answers = true };
