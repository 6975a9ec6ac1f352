/* The systemd generator's work (see systemd.generator(7)): derive the socket
 * units' addresses from harkd.conf, so the config file stays the one place
 * where an admin sets host, port and backlog. */
#pragma once

#include "config.h"

/* The socket units that get a drop-in. */
#define GENERATOR_SOCKET_UNITS { "harkd.socket", "harkd-accept.socket" }

/* Writes UNIT.d/50-harkd-conf.conf below dir for each socket unit, setting
 * ListenStream= (one per address host resolves to) and Backlog=. Returns 0,
 * or -errno with a description in error. */
int generator_write_dropins(const struct hark_config *config, const char *dir, char *error, size_t size);
