/* harkd's configuration: one struct, parsed and validated before any socket opens. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "allowlist.h"
#include "config_source.h"       /* CONFIG_ERROR_MAX, CONFIG_TEXT_MAX */
#include "framer.h"

enum concurrency_mode {
        MODE_SEQUENTIAL,
        MODE_THREAD,
        MODE_POOL,
        MODE_FORK,
        MODE_EPOLL,
};

enum log_target {
        LOG_TARGET_AUTO,
        LOG_TARGET_JOURNAL,
        LOG_TARGET_STDERR,
};

/* How a received message is read (the format setting). */
enum message_format {
        FORMAT_AUTO,            /* syslog when it starts with a valid <PRI>, else raw */
        FORMAT_RAW,             /* the bytes are the MESSAGE */
        FORMAT_SYSLOG,          /* RFC 5424 or RFC 3164; what is not is logged raw and counted */
};

/* What "OK <n>" counts. */
enum confirm_rule {
        CONFIRM_SENT,           /* handed to journald's socket, which was the same before and after */
        CONFIRM_STORED,         /* read back from the journal (stored.h) */
};

struct hark_config {
        char *host;
        int port;
        int backlog;
        double timeout;                 /* seconds; 0 = never */
        enum concurrency_mode concurrency;
        int workers;                    /* 0 = online CPUs */
        int max_connections;
        int max_connections_per_source; /* 0 = no limit */
        int max_message_size;
        int max_pending_bytes;          /* all connections' unfinished messages together */
        char *identifier;
        int priority;                   /* syslog level 0..7 */
        enum log_target log_target;
        enum framing framing;           /* of each connection's byte stream */
        enum message_format format;
        struct allowlist allow;         /* absent (!allow.set): everyone */
        int tls_port;                   /* 0: no TLS listener */
        char *tls_certificate;          /* PEM paths; NULL when absent */
        char *tls_key;
        char *tls_client_ca;            /* NULL: no client certificate asked for */
        int udp_port;                   /* 0: no UDP listener */
        int udp_receive_buffer;         /* bytes asked for SO_RCVBUF; 0: the kernel's default */
        int udp_rate_per_source;        /* datagrams a second from one address; 0: no limit */
        enum confirm_rule confirm;
        double confirm_timeout;         /* seconds the answer waits for the journal */
};

/* The syslog levels run from LOG_EMERG (0) to LOG_DEBUG. */
#define PRIORITY_MAX 7

/* What a reload (SIGHUP) does with a changed setting. */
enum config_reload {
        RELOAD_NEW_CONNECTIONS,         /* connections opened from then on use it */
        RELOAD_OPEN_CONNECTIONS,        /* open connections use it too */
        RELOAD_RESTART,                 /* needs a restart: the running value stays */
};

/* Fills *config with every default. Pair with hark_config_done(). */
void hark_config_init(struct hark_config *config);

/* Frees the strings of *config; safe on an initialised or zeroed struct. */
void hark_config_done(struct hark_config *config);

/* Reads and validates the file at path and its @includes into *config
 * (defaults for what the files leave out). Only regular files are opened,
 * CONFIG_TEXT_MAX bytes at most, never blocking on what they are; host is
 * checked for its form but not looked up. On failure returns -errno (-ENOENT:
 * the main file does not exist) or -EINVAL, leaves *config untouched and
 * writes a message naming the file, the line and the key into error. */
int hark_config_load(struct hark_config *config, const char *path, char error[CONFIG_ERROR_MAX]);

/* hark_config_load(), and host must also resolve as harkd binds it (for
 * harkd -t). Blocks for as long as the resolver takes: never on a reload. */
int hark_config_load_resolving(struct hark_config *config, const char *path, char error[CONFIG_ERROR_MAX]);

/* The same for a config given as text, named `name` in errors (tests,
 * fuzzing); @include is an error in it. */
int hark_config_load_string(struct hark_config *config, const char *text, const char *name,
                            char error[CONFIG_ERROR_MAX]);

const char *concurrency_mode_name(enum concurrency_mode mode);

/* The name of a syslog level (0..7), as accepted by the priority key. */
const char *priority_name(int priority);

/* Parses a log level name or its one digit ("info", "6"); -EINVAL otherwise. */
int priority_from_string(const char *s);

/* Gives every setting of next that needs a restart the running value; the
 * names of those that differed go to changed (at most max_changed). Returns
 * how many differed, or -ENOMEM. */
int hark_config_keep_restart_settings(struct hark_config *next, const struct hark_config *running,
                                      const char **changed, size_t max_changed);

/* How a reload applies the setting called name (one of the known keys). */
enum config_reload hark_config_reload_kind(const char *name);
