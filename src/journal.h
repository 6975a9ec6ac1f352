/* The journal sink: the only module that talks to the systemd journal. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Where journald listens for native-protocol entries. */
#define JOURNAL_SOCKET_PATH "/run/systemd/journal/socket"

/* Whether journald's socket exists, i.e. whether an entry can be delivered. */
bool journal_present(void);

/* Which socket file journald listens on; a restarted journald that made a
 * new one has another inode. */
struct journal_socket {
        dev_t device;
        ino_t inode;
};

/* Fills *socket and returns true when journald's socket exists. */
bool journal_socket_identify(struct journal_socket *socket);

static inline bool journal_socket_same(const struct journal_socket *a, const struct journal_socket *b) {
        return a->device == b->device && a->inode == b->inode;
}

/* Writes one entry of "NAME=value" fields (values may hold any byte).
 * Returns 0 when the entry went out, else -errno. Beware: sd_journal_sendv()
 * also reports success when journald's socket does not exist and the entry
 * went nowhere; only journal_present() afterwards tells. */
int journal_send(const struct iovec *fields, size_t n_fields);
