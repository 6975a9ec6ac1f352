/* hark: sends messages to harkd and exits 0 once all are in the journal. */
#include <stdio.h>

#include "client.h"

int main(int argc, char **argv) {
        struct client_options options;
        int status;

        status = client_parse_args(argc, argv, &options, stdout, stderr);
        if (status != CLIENT_CONTINUE)
                return status;
        status = client_resolve_target(&options, stderr);
        if (status != 0)
                return status;
        return client_run(&options, stdin, stdout, stderr);
}
