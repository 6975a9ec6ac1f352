/* The systemd generator's work (see systemd.generator(7)): derive the socket
 * units' addresses from harkd.conf, so the config file stays the one place
 * where an admin sets host, port, backlog, who may connect, and the TLS
 * port. */
#pragma once

#include <stddef.h>

#include "config.h"
#include "listener.h"

/* The socket units that get a drop-in. */
#define GENERATOR_SOCKET_UNITS { "harkd.socket", "harkd-accept.socket" }

/* The name of every drop-in the generator writes. */
#define GENERATOR_DROPIN "50-harkd-conf.conf"

/* The socket unit of the TLS listener, written whole when tls_port is set;
 * harkd tells its socket from the plain one by this name. */
#define GENERATOR_TLS_SOCKET "harkd-tls.socket"
#define GENERATOR_TLS_FD_NAME LISTENER_TLS_NAME

/* The socket unit of the UDP listener, written whole when udp_port is set
 * (harkd knows a datagram socket by its type; the name is for the admin). */
#define GENERATOR_UDP_SOCKET "harkd-udp.socket"
#define GENERATOR_UDP_FD_NAME "udp"

/* Writes below dir (the generator's normal directory):
 *  - UNIT.d/GENERATOR_DROPIN for each socket unit: ListenStream= (one per
 *    address host resolves to), Backlog=, and with allow set the kernel's
 *    filter IPAddressAllow= (each rule) and IPAddressDeny=any;
 *  - with tls_port set, GENERATOR_TLS_SOCKET on host:tls_port (passed as
 *    GENERATOR_TLS_FD_NAME to harkd.service, the same filter), and with
 *    udp_port set GENERATOR_UDP_SOCKET (ListenDatagram= on host:udp_port,
 *    ReceiveBuffer= udp_receive_buffer, the same filter), each enabled by
 *    sockets.target.wants/, and harkd.service.d/GENERATOR_DROPIN giving the
 *    service its sockets; what is not set is removed.
 * Returns 0, or -errno with a description in error; a file it could not
 * write whole is not left behind. */
int generator_write_units(const struct hark_config *config, const char *dir, char *error, size_t size);
