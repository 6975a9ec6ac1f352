#include "privilege.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* libcap is not a dependency: capget(2) and capset(2) have no glibc
 * wrapper, version 3 covers capabilities 0..63 in two words. */
struct caps {
        struct __user_cap_header_struct header;
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
};

static int caps_get(struct caps *c) {
        memset(c, 0, sizeof(*c));
        c->header.version = _LINUX_CAPABILITY_VERSION_3;
        return syscall(SYS_capget, &c->header, c->data) < 0 ? -errno : 0;
}

static bool caps_empty(const struct caps *c) {
        for (size_t i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
                if (c->data[i].effective || c->data[i].permitted || c->data[i].inheritable)
                        return false;
        return true;
}

static bool caps_effective(const struct caps *c, int cap) {
        return c->data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

/* Every capability the kernel knows leaves the bounding set (needs
 * CAP_SETPCAP); PR_CAPBSET_READ fails with EINVAL past the last one. */
static int drop_bounding_set(int *failed_cap) {
        for (int cap = 0;; cap++) {
                int r = prctl(PR_CAPBSET_READ, (unsigned long) cap, 0, 0, 0);

                if (r < 0)
                        return errno == EINVAL ? 0 : -errno;
                if (r > 0 && prctl(PR_CAPBSET_DROP, (unsigned long) cap, 0, 0, 0) < 0) {
                        *failed_cap = cap;
                        return -errno;
                }
        }
}

int privileges_drop(char *error, size_t size) {
        struct caps c;
        int r, cap = -1;

        r = caps_get(&c);
        if (r < 0) {
                snprintf(error, size, "Failed to read the capabilities: %s", strerror(-r));
                return r;
        }
        if (caps_effective(&c, CAP_SETPCAP)) {
                r = drop_bounding_set(&cap);
                if (r < 0) {
                        snprintf(error, size, "Failed to drop capability %d from the bounding set: %s", cap,
                                 strerror(-r));
                        return r;
                }
        }
        /* EINVAL: a kernel before 4.3, which has no ambient set. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
                r = -errno;
                snprintf(error, size, "Failed to clear the ambient capabilities: %s", strerror(-r));
                return r;
        }
        if (!caps_empty(&c)) {
                memset(c.data, 0, sizeof(c.data));
                if (syscall(SYS_capset, &c.header, c.data) < 0) {
                        r = -errno;
                        snprintf(error, size, "Failed to drop the capabilities: %s", strerror(-r));
                        return r;
                }
                r = caps_get(&c);
                if (r == 0 && !caps_empty(&c))
                        r = -EPERM;
                if (r < 0) {
                        snprintf(error, size, "Capabilities still held after dropping them: %s", strerror(-r));
                        return r;
                }
        }
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
                r = -errno;
                snprintf(error, size, "Failed to set no_new_privs: %s", strerror(-r));
                return r;
        }
        return 0;
}
