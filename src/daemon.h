/* harkd from a parsed command line to exit: config, sockets, mode, drain. */
#pragma once

#include <stdbool.h>

struct daemon_options {
        const char *config_path;
        bool test_only;                 /* -t: validate the config and exit */
        int log_level;
};

/* Returns the process exit status: 0, or 1 on any failure (already logged). */
int daemon_main(const struct daemon_options *opts);
