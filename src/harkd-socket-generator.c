/* harkd-socket-generator: a systemd generator that points harkd's socket
 * units at the address in harkd.conf (and its allow list, and its TLS port).
 * systemd runs it at boot and on every daemon-reload with three output
 * directories; everything goes to the first. */
#include <stdio.h>

#include "config.h"
#include "generator.h"

int main(int argc, char **argv) {
        struct hark_config config;
        char error[CONFIG_ERROR_MAX];
        const char *path = argc > 4 ? argv[4] : HARK_DEFAULT_CONFIG;
        int r;

        if (argc != 4 && argc != 5) {
                fprintf(stderr, "Usage: harkd-socket-generator NORMAL_DIR EARLY_DIR LATE_DIR [CONFIG]\n");
                return 1;
        }
        hark_config_init(&config);
        r = hark_config_load(&config, path, error);
        /* Never fail the boot: without a usable config the units keep the
         * addresses they ship with, and harkd itself reports the config. */
        if (r < 0)
                fprintf(stderr, "harkd-socket-generator: %s; leaving the socket units as they are\n", error);
        else if (generator_write_units(&config, argv[1], error, sizeof(error)) < 0)
                fprintf(stderr, "harkd-socket-generator: %s\n", error);
        hark_config_done(&config);
        return 0;
}
