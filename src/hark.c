/* hark: sends messages to harkd and exits 0 once all are in the journal
 * (with --udp: once all are sent, as nothing confirms a datagram). */
#include <signal.h>
#include <stdio.h>

#include "client.h"

int main(int argc, char **argv) {
        struct client_options options;
        int status;

        /* OpenSSL writes with write(2): harkd gone must be EPIPE, not death. */
        signal(SIGPIPE, SIG_IGN);
        status = client_parse_args(argc, argv, &options, stdout, stderr);
        if (status != CLIENT_CONTINUE)
                return status;
        status = client_resolve_target(&options, stderr);
        if (status != 0)
                return status;
        return client_run(&options, stdin, stdout, stderr);
}
