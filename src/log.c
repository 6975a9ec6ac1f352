#include "log.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "journal.h"
#include "util.h"

/* MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, MESSAGE_ID and these. */
#define LOG_FIELDS_MAX (JOURNAL_NOWAIT_FIELDS_MAX - 4)

static atomic_bool to_journal;
static atomic_int max_level = LOG_INFO;

void log_setup(enum log_target target) {
        atomic_store(&to_journal, target == LOG_TARGET_JOURNAL ||
                                  (target == LOG_TARGET_AUTO && journal_present()));
}

void log_set_max_level(int level) {
        atomic_store(&max_level, level);
}


static void field(struct iovec *iov, char *buffer, size_t size, const char *name, const char *value) {
        int n = snprintf(buffer, size, "%s=%s", name, value);

        *iov = (struct iovec) { .iov_base = buffer, .iov_len = (size_t) n < size ? (size_t) n : size - 1 };
}

static int to_journal_entry(int level, const char *message_id, const struct iovec *fields,
                            size_t n_fields, const char *message) {
        struct iovec iov[LOG_FIELDS_MAX + 4];
        char msg[2048], prio[16], id[64];
        size_t n = 0;

        field(&iov[n++], msg, sizeof(msg), "MESSAGE", message);
        field(&iov[n++], prio, sizeof(prio), "PRIORITY", (char[]) { (char) ('0' + level), 0 });
        iov[n++] = (struct iovec) { .iov_base = (char *) "SYSLOG_IDENTIFIER=harkd", .iov_len = 23 };
        if (message_id)
                field(&iov[n++], id, sizeof(id), "MESSAGE_ID", message_id);
        for (size_t i = 0; i < n_fields && i < LOG_FIELDS_MAX; i++)
                iov[n++] = fields[i];
        assert(n <= JOURNAL_NOWAIT_FIELDS_MAX);
        return journal_send_nowait(iov, n);
}

/* "<level>message\n" in one write that never waits: under systemd stderr is
 * a stream into journald, which may be the journald that does not read. A
 * line that does not fit is lost rather than waited for. */
static void to_stderr(int level, const char *message) {
        char line[2100];
        int n = snprintf(line, sizeof(line), "<%d>%s\n", level, message);
        size_t size = n < 0 ? 0 : (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1;

        if (send(STDERR_FILENO, line, size, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0 || errno != ENOTSOCK)
                return;
        /* A terminal or a file: they do not stall. A failure has nowhere to go. */
        if (write(STDERR_FILENO, line, size) < 0)
                return;
}

/* The part of log_event() that writes: its buffers are in a frame of its
 * own, which a line below the level never reaches. A thread that merely
 * calls log_event() would otherwise reach some 5 KiB deeper into its stack
 * (the call that reads errno), one page more for each of a thousand threads
 * in `thread` mode. */
static void __attribute__((noinline)) emit_event(int level, const char *message_id, const struct iovec *fields,
                                                 size_t n_fields, const char *format, va_list ap) {
        int saved_errno = errno;
        char message[2048];

        vsnprintf(message, sizeof(message), format, ap);
        /* A journal that went away must not silence harkd: fall back to stderr.
         * Checked before sending, as a send to a missing socket "succeeds". */
        if (!atomic_load(&to_journal) || !journal_present() ||
            to_journal_entry(level, message_id, fields, n_fields, message) < 0)
                to_stderr(level, message);
        errno = saved_errno;
}

void log_event(int level, const char *message_id, const struct iovec *fields, size_t n_fields,
               const char *format, ...) {
        va_list ap;

        /* An event about a connection (its HARK_CONNECTION among fields) has
         * a MESSAGE_ID: stored.c tells it from a message entry so. */
        assert(message_id || n_fields == 0);
        if (level > atomic_load(&max_level))
                return;
        va_start(ap, format);
        emit_event(level, message_id, fields, n_fields, format, ap);
        va_end(ap);
}

bool log_ratelimit_pass(struct log_ratelimit *rl, unsigned *suppressed) {
        long long now = now_ms(), window = atomic_load(&rl->window_ms);

        /* The one that starts a new second resets the count; a race at the
         * turn of the second lets a few more through, never fewer. */
        if ((window == 0 || now - window >= 1000) && atomic_compare_exchange_strong(&rl->window_ms, &window, now))
                atomic_store(&rl->logged, 0);
        if (atomic_fetch_add(&rl->logged, 1) < LOG_RATELIMIT_BURST) {
                *suppressed = atomic_exchange(&rl->suppressed, 0);
                return true;
        }
        atomic_fetch_add(&rl->suppressed, 1);
        return false;
}
