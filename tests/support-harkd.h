/* harkd under test: a config file written for it, the process started on
 * it (ready once it sent READY=1 to a notify socket of the test's), its
 * stderr, its sd_notify messages, and its stop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Settings of a harkd config; NULL or 0 leaves the key out (harkd's default),
 * except where noted. */
struct harkd_options {
        const char *mode;               /* NULL: it_mode */
        const char *host;               /* NULL: "127.0.0.1" */
        int port;                       /* 0: a free port picked by the test */
        const char *timeout;            /* seconds as written in the file; NULL: "10" */
        int workers;
        int max_connections;
        int max_connections_per_source;
        int max_message_size;
        const char *priority;           /* written as a string: "warning" */
        const char *log_target;         /* NULL: "journal" (what "auto" picks beside a journal) */
        const char *identifier;         /* NULL: a fresh one, unique to the test */
        const char *extra;              /* raw lines appended to the file */
        /* A second listener's key ("tls_port", "udp_port"): harkd_start()
         * picks a free port for it (UDP when second_port_udp) with each
         * attempt, written as `key = port;`, and keeps it in second_port. */
        const char *second_port_key;
        bool second_port_udp;
        bool no_journal;                /* run harkd where /run/systemd/journal is empty */
        const char *const *env;         /* extra "NAME=value" for harkd, NULL-terminated */
};

struct harkd {
        pid_t pid;                      /* 0 when not running */
        int port;
        int second_port;                /* of options.second_port_key; 0: none */
        char host[64];
        char identifier[64];
        char config_path[256];
        char stderr_path[256];
        int notify_fd;                  /* NOTIFY_SOCKET of harkd; -1 when none */
        char notify_name[64];           /* abstract socket name (without the leading NUL) */
        struct harkd_options options;   /* as last written (strings not owned) */
};

/* Picks a free TCP port on the loopback address of family (AF_INET, AF_INET6). */
int it_free_port(int family);
/* The same for a UDP port. */
int it_free_udp_port(int family);

/* A fresh identifier: "hark-it-<pid>-<counter>". */
void it_unique_identifier(char *buffer, size_t size);

/* Writes the config file for options (filling h->port/identifier/host first
 * time) without starting anything. Returns 0 or -errno. */
int harkd_write_config(struct harkd *h, const struct harkd_options *options);

/* Writes a config and starts harkd -c on it (stdout and stderr to
 * h->stderr_path, NOTIFY_SOCKET to h->notify_fd), then waits up to 5 s for
 * READY=1. Retries with other ports when a picked one was taken (as its
 * stderr or its events in the journal say). Returns 0 or -errno; harkd's
 * stderr and events are printed on failure. */
int harkd_start(struct harkd *h, const struct harkd_options *options);

/* Sends SIGTERM, waits at most timeout_ms for harkd to exit. Returns the
 * wait status, or -ETIMEDOUT (then harkd was killed). Prints harkd's stderr
 * when it did not exit 0 or its stderr holds a sanitizer report. */
int harkd_stop(struct harkd *h, int timeout_ms);

/* Waits for harkd (already signalled) to exit; as harkd_stop(). */
int harkd_wait(struct harkd *h, int timeout_ms);

/* Sends a signal to harkd. */
int harkd_signal(struct harkd *h, int signo);

/* Sends a signal to harkd's process group: harkd and the processes it
 * forked (fork mode serves each connection in one). SIGSTOP and SIGCONT
 * this way freeze and thaw all of harkd. */
int harkd_signal_all(struct harkd *h, int signo);

/* Waits until a thread of harkd's process group blocks in a journal write:
 * sleeps in the kernel, as /proc/PID/task/TID/wchan says, waiting for room in
 * the full datagram queue of a journald that does not read (one stopped with
 * SIGSTOP). Returns false when that does not happen within timeout_ms. */
bool harkd_wait_journal_blocked(struct harkd *h, int timeout_ms);

/* Kills a still running harkd (its process group), removes its files. Safe
 * to call twice. */
void harkd_cleanup(struct harkd *h);

/* Waits until harkd's stderr holds needle (count times), at most timeout_ms. */
bool harkd_wait_log(struct harkd *h, const char *needle, int count, int timeout_ms);

/* How many times harkd's stderr holds needle so far. */
int harkd_log_count(struct harkd *h, const char *needle);

/* harkd's stderr so far (malloc'd, NUL-terminated). */
char *harkd_log(struct harkd *h);

/* Whether text holds a sanitizer report. */
bool it_has_sanitizer_report(const char *text);

/* Whether harkd's stderr holds one (printing it if so). */
bool harkd_sanitizer_report(struct harkd *h);

/* Waits for a notify message (NOTIFY_SOCKET datagram) with a line matching
 * the fnmatch(3) pattern (e.g. "READY=1", "STATUS=*1 refused*"), dropping
 * the messages before it. Copies the datagram to out. Returns 0 or -ETIMEDOUT. */
int harkd_wait_notify(struct harkd *h, const char *pattern, int timeout_ms, char *out, size_t size);

/* Opens an abstract unix datagram socket for NOTIFY_SOCKET. Returns fd. */
int it_notify_socket(char *name, size_t size);
