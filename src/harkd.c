/* harkd: receives messages over TCP and writes each one to the systemd journal. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon.h"
#include "config.h"
#include "log.h"

static void usage(FILE *out) {
        fprintf(out,
                "Usage: harkd [OPTIONS]\n"
                "Receive messages over TCP and write each one to the systemd journal.\n\n"
                "  -c, --config FILE      configuration file (default %s)\n"
                "  -t, --test-config      check the configuration file and exit\n"
                "      --log-level LEVEL  most verbose level of harkd's own log (default info;\n"
                "                         debug adds every connection opened and closed)\n"
                "  -h, --help             show this help and exit\n"
                "  -V, --version          show the version and exit\n\n"
                "See harkd(8) and harkd.conf(5).\n",
                HARK_DEFAULT_CONFIG);
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "test-config", no_argument, NULL, 't' },
                { "log-level", required_argument, NULL, 'L' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        struct daemon_options opts = { .config_path = HARK_DEFAULT_CONFIG, .log_level = LOG_INFO };
        int c;

        /* getopt's own messages name the binary's full path; every other
         * error of harkd starts with "harkd:". */
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":c:thV", options, NULL)) != -1)
                switch (c) {
                case 'c':
                        opts.config_path = optarg;
                        break;
                case 't':
                        opts.test_only = true;
                        break;
                case 'L':
                        opts.log_level = priority_from_string(optarg);
                        if (opts.log_level < 0) {
                                fprintf(stderr, "harkd: unknown log level '%s'\n", optarg);
                                return 2;
                        }
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("harkd %s\n", HARK_VERSION);
                        return 0;
                case ':':
                        fprintf(stderr, "harkd: option '%s' needs a value\n", argv[optind - 1]);
                        usage(stderr);
                        return 2;
                default:
                        if (optopt)
                                fprintf(stderr, "harkd: unknown option '-%c'\n", optopt);
                        else
                                fprintf(stderr, "harkd: unknown option '%s'\n", argv[optind - 1]);
                        usage(stderr);
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "harkd: unexpected argument '%s'\n", argv[optind]);
                usage(stderr);
                return 2;
        }
        return daemon_main(&opts);
}
