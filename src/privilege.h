/* Giving up every privilege harkd was started with, once its sockets are
 * open: it needs none to accept, read and write to journald's socket. */
#pragma once

#include <stddef.h>

/* Empties the capability sets of the process for good: the bounding set
 * where CAP_SETPCAP allows it (as plain root), then the ambient, inheritable,
 * permitted and effective sets, and sets no_new_privs, so that no execve()
 * gains any back. Capabilities belong to a thread: call it before harkd
 * starts any (not checked: a sanitizer's runtime has threads of its own,
 * which need none and hold what the process started with). Holding nothing already (a unit that grants none) is success
 * without capset(2), which a seccomp filter may forbid. Returns 0, or -errno
 * with the failing step described in error. */
int privileges_drop(char *error, size_t size);
