/* The wire protocol end to end, in every concurrency mode: bytes sent over
 * TCP to a real harkd, entries read back from the real journal. */
#include "support.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events.h"

#define JOURNAL_TIMEOUT_MS 10000

/* Asserts the fields every message of one connection carries: identifier,
 * priority, the client's address and port, and one HARK_CONNECTION for all
 * of entries [from, to). Returns that HARK_CONNECTION. */
static unsigned long long assert_connection_fields(const struct it_entries *e, size_t from, size_t to,
                                                   const struct harkd *h, int port, const char *priority) {
        char port_text[16];
        const char *id;
        char *end;
        unsigned long long value;

        assert_true(from < to && to <= e->n);
        snprintf(port_text, sizeof(port_text), "%d", port);
        id = it_entry_field(&e->v[from], "HARK_CONNECTION", NULL);
        assert_non_null(id);
        value = strtoull(id, &end, 10);
        assert_true(*id && !*end);
        for (size_t i = from; i < to; i++) {
                it_assert_field(&e->v[i], "SYSLOG_IDENTIFIER", h->identifier);
                it_assert_field(&e->v[i], "PRIORITY", priority);
                it_assert_field(&e->v[i], "REMOTE_ADDR", "127.0.0.1");
                it_assert_field(&e->v[i], "REMOTE_PORT", port_text);
                it_assert_field(&e->v[i], "HARK_CONNECTION", id);
                assert_null(it_entry_field(&e->v[i], "REMOTE_PID", NULL));
        }
        return value;
}

static void assert_not_truncated(const struct it_entries *e) {
        for (size_t i = 0; i < e->n; i++)
                assert_null(it_entry_field(&e->v[i], "HARK_TRUNCATED", NULL));
}

static void nodelay(int fd) {
        int one = 1;

        assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
}

/* LF and CRLF end a message; a lone CR stays; empty lines are skipped; what
 * follows the last LF is a message when the client half-closes; OK counts. */
static void test_framing(void **state) {
        static const char text[] = "lf\ncrlf\r\nlone\rcr inside\n\n\r\n\n  spaces kept  \n"
                                   "\r\rtwo crs\r\r\nfinal without newline";
        static const char *const expected[] = {
                "lf", "crlf", "lone\rcr inside", "  spaces kept  ", "\r\rtwo crs\r", "final without newline",
        };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        struct it_entries e;
        uint64_t confirmed;
        int fd = it_test_connect(t, h->host, h->port);
        int port = it_local_port(fd);

        assert_int_equal(it_send(fd, text, sizeof(text) - 1), 0);
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 6);

        it_journal_messages(h->identifier, 6, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, 6);
        assert_connection_fields(&e, 0, e.n, h, port, "6");
        assert_not_truncated(&e);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* The same rules when a line, or its "\r\n", is split over several reads. */
static void test_framing_across_reads(void **state) {
        static const char *const pieces[] = { "spl", "it\r", "\nne", "xt", "\n", "\r", "\n", "cr\r", "kept\n", "tail" };
        static const char *const expected[] = { "split", "next", "cr\rkept", "tail" };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        struct it_entries e;
        uint64_t confirmed;
        int fd = it_test_connect(t, h->host, h->port);

        nodelay(fd);
        for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
                assert_int_equal(it_send_str(fd, pieces[i]), 0);
                it_sleep_ms(15);        /* each piece its own segment, mostly its own read */
        }
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 4);
        it_journal_messages(h->identifier, 4, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, 4);
        assert_connection_fields(&e, 0, e.n, h, it_local_port(fd), "6");
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* A client that closes without half-closing or reading (nc, seed-style
 * senders): every message incl. the unterminated last one is logged, and
 * harkd, whose "OK" goes nowhere, keeps serving. */
static void test_close_without_reading(void **state) {
        static const char *const expected[] = { "one", "two", "final", "after" };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        struct it_entries e;
        unsigned long long first, second;
        int fd = it_test_connect(t, h->host, h->port);
        int port = it_local_port(fd);

        assert_int_equal(it_send_str(fd, "one\ntwo\nfinal"), 0);
        it_test_close(t, fd);
        /* Logged before the next connection: ordered in the journal. */
        assert_int_equal(it_journal_messages(h->identifier, 3, JOURNAL_TIMEOUT_MS, &e), 3);
        it_entries_free(&e);

        fd = it_test_connect(t, h->host, h->port);
        int port2 = it_local_port(fd);
        uint64_t confirmed;
        assert_int_equal(it_send_str(fd, "after\n"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 1);

        it_journal_messages(h->identifier, 4, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, expected, 4);
        first = assert_connection_fields(&e, 0, 3, h, port, "6");
        second = assert_connection_fields(&e, 3, 4, h, port2, "6");
        assert_true(first != second);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* NUL bytes, invalid UTF-8 and control bytes reach the journal unchanged. */
static void test_binary(void **state) {
        static const struct {
                const char *data;
                size_t size;
        } messages[] = {
#define M(s) { s, sizeof(s) - 1 }
                M("nul\0inside"),
                M("\xff\xfe invalid utf-8 \xc3\x28 \xed\xa0\x80"),
                M("\x01\x02\x1b[31mcontrol\x7f"),
                M("\0"),
                M("\0tail\x80\xff"),          /* the unterminated last one */
#undef M
        };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        struct it_entries e;
        uint64_t confirmed;
        size_t n = sizeof(messages) / sizeof(messages[0]);
        int fd = it_test_connect(t, h->host, h->port);

        for (size_t i = 0; i < n; i++) {
                assert_int_equal(it_send(fd, messages[i].data, messages[i].size), 0);
                if (i + 1 < n)
                        assert_int_equal(it_send_str(fd, "\n"), 0);
        }
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, n);

        it_journal_messages(h->identifier, n, JOURNAL_TIMEOUT_MS, &e);
        if (e.n != n)
                it_entries_print(&e);
        assert_int_equal(e.n, n);
        for (size_t i = 0; i < n; i++) {
                size_t length;
                const char *m = it_entry_field(&e.v[i], "MESSAGE", &length);

                assert_non_null(m);
                assert_int_equal(length, messages[i].size);
                assert_memory_equal(m, messages[i].data, length);
        }
        assert_connection_fields(&e, 0, n, h, it_local_port(fd), "6");
        assert_not_truncated(&e);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* max_message_size = 16: a longer line is logged as its first 16 bytes with
 * HARK_TRUNCATED=1, the rest of it dropped, and the connection stays open;
 * a line of exactly 16 bytes (with LF or CRLF) is not truncated. */
static void test_truncation(void **state) {
        static const struct {
                const char *message;
                bool truncated;
        } expected[] = {
                { "0123456789abcdef", true },   /* "...OVERFLOW-discarded" */
                { "exactly-16-bytes", false },
                { "exactly-16-bytes", false },  /* with CRLF */
                { "seventeen-bytes!", true },   /* one byte too long */
                { "AAAAAAAAAABBBBBB", true },   /* over three reads */
                { "0123456789abcdef", true },   /* a CR at byte 17 not before LF */
                { "after", false },
                { "final-partial-lo", true },   /* unterminated, too long */
        };
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_message_size = 16 });
        size_t n = sizeof(expected) / sizeof(expected[0]);
        struct it_entries e;
        uint64_t confirmed;
        char needle[128];
        int fd = it_test_connect(t, h->host, h->port);
        int port = it_local_port(fd);

        nodelay(fd);
        assert_int_equal(it_send_str(fd, "0123456789abcdefOVERFLOW-discarded\n"), 0);
        assert_int_equal(it_send_str(fd, "exactly-16-bytes\nexactly-16-bytes\r\nseventeen-bytes!!\n"), 0);
        assert_int_equal(it_send_str(fd, "AAAAAAAAAA"), 0);
        it_sleep_ms(20);
        assert_int_equal(it_send_str(fd, "BBBBBBBBBB"), 0);
        it_sleep_ms(20);
        assert_int_equal(it_send_str(fd, "CCCC\n0123456789abcdef\rX\n"), 0);
        /* Still open after all that truncating: the next line is logged whole. */
        assert_int_equal(it_send_str(fd, "after\n"), 0);
        {
                struct it_entries so_far;
                assert_int_equal(it_journal_messages(h->identifier, 7, JOURNAL_TIMEOUT_MS, &so_far), 7);
                it_entries_free(&so_far);
        }
        assert_false(it_readable(fd, 0));
        assert_int_equal(it_send_str(fd, "final-partial-longer-than-16"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, n);

        it_journal_messages(h->identifier, n, JOURNAL_TIMEOUT_MS, &e);
        {
                const char *texts[sizeof(expected) / sizeof(expected[0])];
                for (size_t i = 0; i < n; i++)
                        texts[i] = expected[i].message;
                it_assert_messages(&e, texts, n);
        }
        assert_connection_fields(&e, 0, n, h, port, "6");
        for (size_t i = 0; i < n; i++) {
                const char *flag = it_entry_field(&e.v[i], "HARK_TRUNCATED", NULL);
                if (expected[i].truncated) {
                        assert_non_null(flag);
                        assert_string_equal(flag, "1");
                } else
                        assert_null(flag);
        }
        it_entries_free(&e);

        /* harkd's own log says so, once per truncated message. */
        {
                char port_match[64];
                const char *matches[] = { "MESSAGE_ID=" EVENT_TRUNCATED, port_match, NULL };

                snprintf(port_match, sizeof(port_match), "REMOTE_PORT=%d", port);
                snprintf(needle, sizeof(needle), "Message from 127.0.0.1:%d was longer than 16 bytes", port);
                it_harkd_events(matches, needle, 5, JOURNAL_TIMEOUT_MS, &e);
                if (e.n != 5)
                        it_entries_print(&e);
                assert_int_equal(e.n, 5);
                it_entries_free(&e);
        }
        it_assert_harkd_stops(h, 5000);
}

static char *pattern(size_t size, unsigned seed) {
        char *p = malloc(size + 1);

        assert_non_null(p);
        for (size_t i = 0; i < size; i++)
                p[i] = (char) ('!' + (i * 7 + seed) % 90);     /* printable, never '\n' or '\r' */
        p[size] = 0;
        return p;
}

/* The default max_message_size (65536): a line of exactly that size arrives
 * whole, one byte more is truncated, a 1 MiB line is cut and its rest dropped. */
static void test_large_messages(void **state) {
        const size_t max = 65536;
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        char *exact = pattern(max, 1), *over = pattern(max + 1, 2), *huge = pattern(1 << 20, 3);
        struct it_entries e;
        uint64_t confirmed;
        int fd = it_test_connect(t, h->host, h->port);
        size_t length;
        const char *m;

        assert_int_equal(it_send_str(fd, exact), 0);
        assert_int_equal(it_send_str(fd, "\n"), 0);
        assert_int_equal(it_send_str(fd, over), 0);
        assert_int_equal(it_send_str(fd, "\r\n"), 0);
        assert_int_equal(it_send_str(fd, huge), 0);
        assert_int_equal(it_send_str(fd, "\nsmall\n"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 10000), 0);
        assert_int_equal(confirmed, 4);

        it_journal_messages(h->identifier, 4, JOURNAL_TIMEOUT_MS, &e);
        if (e.n != 4)
                it_entries_print(&e);
        assert_int_equal(e.n, 4);
        m = it_entry_field(&e.v[0], "MESSAGE", &length);
        assert_int_equal(length, max);
        assert_memory_equal(m, exact, max);
        assert_null(it_entry_field(&e.v[0], "HARK_TRUNCATED", NULL));
        m = it_entry_field(&e.v[1], "MESSAGE", &length);
        assert_int_equal(length, max);
        assert_memory_equal(m, over, max);
        it_assert_field(&e.v[1], "HARK_TRUNCATED", "1");
        m = it_entry_field(&e.v[2], "MESSAGE", &length);
        assert_int_equal(length, max);
        assert_memory_equal(m, huge, max);
        it_assert_field(&e.v[2], "HARK_TRUNCATED", "1");
        m = it_entry_field(&e.v[3], "MESSAGE", &length);
        assert_int_equal(length, 5);
        assert_memory_equal(m, "small", 5);
        assert_null(it_entry_field(&e.v[3], "HARK_TRUNCATED", NULL));
        it_entries_free(&e);
        free(exact);
        free(over);
        free(huge);
        it_assert_harkd_stops(h, 5000);
}

/* "OK 0" for a connection that sent nothing, or only empty lines; nothing logged. */
static void test_ok_zero(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { 0 });
        struct it_entries e;
        uint64_t confirmed;
        int fd = it_test_connect(t, h->host, h->port);

        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 0);
        fd = it_test_connect(t, h->host, h->port);
        assert_int_equal(it_send_str(fd, "\n\r\n\n\r\n"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 5000), 0);
        assert_int_equal(confirmed, 0);
        /* And a real one, so that "nothing logged" is not a blind journal. */
        it_send_and_confirm(t, h, "proof\n", 1);
        it_journal_messages(h->identifier, 1, JOURNAL_TIMEOUT_MS, &e);
        it_assert_messages(&e, (const char *const[]) { "proof" }, 1);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* ---- many clients at once ---------------------------------------------------- */

#define CLIENTS 20
#define MESSAGES_PER_CLIENT 200

struct client_job {
        const struct harkd *h;
        int index;
        int port;
        int result;             /* 0 or -errno */
        uint64_t confirmed;
};

static void client_message(char *buffer, size_t size, int client, int seq) {
        /* Lengths vary so that lines straddle reads at every offset. */
        snprintf(buffer, size, "client %02d message %03d %.*s", client, seq, (client * 31 + seq * 17) % 90,
                 "payload-payload-payload-payload-payload-payload-payload-payload-payload-payload-payload-payload");
}

static void *client_thread(void *arg) {
        struct client_job *job = arg;
        size_t size = MESSAGES_PER_CLIENT * 160, used = 0;
        char *all = malloc(size);
        unsigned seed = (unsigned) job->index * 7919u + 1;
        int fd;

        if (!all) {
                job->result = -ENOMEM;
                return NULL;
        }
        for (int s = 0; s < MESSAGES_PER_CLIENT; s++) {
                client_message(all + used, size - used, job->index, s);
                used += strlen(all + used);
                /* Every other client ends its lines with CRLF. */
                used += (size_t) snprintf(all + used, size - used, job->index % 2 ? "\r\n" : "\n");
        }
        fd = it_connect(job->h->host, job->h->port, 5000);
        if (fd < 0) {
                job->result = fd;
                free(all);
                return NULL;
        }
        job->port = it_local_port(fd);
        for (size_t sent = 0; sent < used && job->result == 0;) {
                size_t chunk = 1 + (size_t) rand_r(&seed) % 3000;
                if (chunk > used - sent)
                        chunk = used - sent;
                job->result = it_send(fd, all + sent, chunk);
                sent += chunk;
        }
        if (job->result == 0)
                job->result = it_finish(fd, &job->confirmed, 30000);
        close(fd);
        free(all);
        return NULL;
}

/* 20 clients at once, 200 messages each: every message exactly once, in
 * order per connection, with the right connection, port and priority. */
static void test_many_clients(void **state) {
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .priority = "warning" });
        struct client_job jobs[CLIENTS];
        pthread_t threads[CLIENTS];
        static bool seen[CLIENTS][MESSAGES_PER_CLIENT];
        unsigned long long connection[CLIENTS];
        int next_seq[CLIENTS];
        struct it_entries e;
        size_t problems = 0;

        memset(seen, 0, sizeof(seen));
        for (int c = 0; c < CLIENTS; c++) {
                jobs[c] = (struct client_job) { .h = h, .index = c };
                connection[c] = 0;
                next_seq[c] = 0;
                assert_int_equal(pthread_create(&threads[c], NULL, client_thread, &jobs[c]), 0);
        }
        for (int c = 0; c < CLIENTS; c++)
                pthread_join(threads[c], NULL);
        for (int c = 0; c < CLIENTS; c++) {
                if (jobs[c].result != 0 || jobs[c].confirmed != MESSAGES_PER_CLIENT)
                        fprintf(stderr, "client %d: %s, confirmed %llu\n", c, strerror(-jobs[c].result),
                                (unsigned long long) jobs[c].confirmed);
                assert_int_equal(jobs[c].result, 0);
                assert_int_equal(jobs[c].confirmed, MESSAGES_PER_CLIENT);
        }

        it_journal_messages(h->identifier, CLIENTS * MESSAGES_PER_CLIENT, 20000, &e);
        for (size_t i = 0; i < e.n; i++) {
                const struct it_entry *entry = &e.v[i];
                size_t length;
                const char *m = it_entry_field(entry, "MESSAGE", &length);
                const char *conn = it_entry_field(entry, "HARK_CONNECTION", NULL);
                const char *port = it_entry_field(entry, "REMOTE_PORT", NULL);
                const char *prio = it_entry_field(entry, "PRIORITY", NULL);
                const char *addr = it_entry_field(entry, "REMOTE_ADDR", NULL);
                char want[256];
                int c, s;

                if (!m || sscanf(m, "client %d message %d", &c, &s) != 2 || c < 0 || c >= CLIENTS || s < 0 ||
                    s >= MESSAGES_PER_CLIENT) {
                        if (problems++ < 10)
                                fprintf(stderr, "entry %zu: unexpected message \"%s\"\n", i, m ? m : "(none)");
                        continue;
                }
                client_message(want, sizeof(want), c, s);
                if (length != strlen(want) || memcmp(m, want, length) != 0) {
                        if (problems++ < 10)
                                fprintf(stderr, "entry %zu: \"%s\", expected \"%s\"\n", i, m, want);
                }
                if (seen[c][s] && problems++ < 10)
                        fprintf(stderr, "entry %zu: client %d message %d logged twice\n", i, c, s);
                seen[c][s] = true;
                if (s != next_seq[c] && problems++ < 10)
                        fprintf(stderr, "entry %zu: client %d message %d out of order (expected %d)\n", i, c, s,
                                next_seq[c]);
                next_seq[c] = s + 1;
                if (!conn || !port || !prio || !addr) {
                        if (problems++ < 10)
                                fprintf(stderr, "entry %zu: a field is missing\n", i);
                        continue;
                }
                if (connection[c] == 0)
                        connection[c] = strtoull(conn, NULL, 10);
                if (strtoull(conn, NULL, 10) != connection[c] && problems++ < 10)
                        fprintf(stderr, "entry %zu: client %d HARK_CONNECTION=%s, before %llu\n", i, c, conn,
                                connection[c]);
                if (atoi(port) != jobs[c].port && problems++ < 10)
                        fprintf(stderr, "entry %zu: client %d REMOTE_PORT=%s, its port is %d\n", i, c, port,
                                jobs[c].port);
                if (strcmp(prio, "4") != 0 && problems++ < 10)
                        fprintf(stderr, "entry %zu: PRIORITY=%s, expected 4 (warning)\n", i, prio);
                if (strcmp(addr, "127.0.0.1") != 0 && problems++ < 10)
                        fprintf(stderr, "entry %zu: REMOTE_ADDR=%s\n", i, addr);
                if (it_entry_field(entry, "HARK_TRUNCATED", NULL) && problems++ < 10)
                        fprintf(stderr, "entry %zu: HARK_TRUNCATED set\n", i);
        }
        for (int c = 0; c < CLIENTS; c++)
                for (int s = 0; s < MESSAGES_PER_CLIENT; s++)
                        if (!seen[c][s] && problems++ < 10)
                                fprintf(stderr, "client %d message %d missing\n", c, s);
        for (int a = 0; a < CLIENTS; a++)
                for (int b = a + 1; b < CLIENTS; b++)
                        if (connection[a] == connection[b] && problems++ < 10)
                                fprintf(stderr, "clients %d and %d share HARK_CONNECTION=%llu\n", a, b,
                                        connection[a]);
        if (e.n != CLIENTS * MESSAGES_PER_CLIENT)
                fprintf(stderr, "%zu entries, expected %d\n", e.n, CLIENTS * MESSAGES_PER_CLIENT);
        assert_int_equal(e.n, CLIENTS * MESSAGES_PER_CLIENT);
        assert_int_equal(problems, 0);
        it_entries_free(&e);
        it_assert_harkd_stops(h, 5000);
}

/* An entry larger than a datagram to journald may be (harkd asks for an
 * 8 MiB send buffer) goes as a sealed memfd, and lands whole. */
static void test_entry_larger_than_a_datagram(void **state) {
        const size_t size = 12 * 1024 * 1024;
        struct it_test *t = *state;
        struct harkd *h = it_test_harkd(t, 0, &(struct harkd_options) { .max_message_size = 16 * 1024 * 1024 });
        char *big = pattern(size, 4);
        struct it_entries e;
        uint64_t confirmed;
        int fd = it_test_connect(t, h->host, h->port);
        size_t length;
        const char *m;

        assert_int_equal(it_send_str(fd, big), 0);
        assert_int_equal(it_send_str(fd, "\nafter\n"), 0);
        assert_int_equal(it_finish(fd, &confirmed, 20000), 0);
        assert_int_equal(confirmed, 2);
        it_journal_messages(h->identifier, 2, JOURNAL_TIMEOUT_MS, &e);
        assert_int_equal(e.n, 2);
        m = it_entry_field(&e.v[0], "MESSAGE", &length);
        assert_int_equal(length, size);
        assert_memory_equal(m, big, size);
        assert_null(it_entry_field(&e.v[0], "HARK_TRUNCATED", NULL));
        m = it_entry_field(&e.v[1], "MESSAGE", &length);
        assert_int_equal(length, 5);
        assert_memory_equal(m, "after", 5);
        it_entries_free(&e);
        free(big);
        it_assert_harkd_stops(h, 5000);
}

static const struct CMUnitTest per_mode[] = {
        IT_TEST(test_framing),
        IT_TEST(test_framing_across_reads),
        IT_TEST(test_close_without_reading),
        IT_TEST(test_binary),
        IT_TEST(test_truncation),
        IT_TEST(test_large_messages),
        IT_TEST(test_entry_larger_than_a_datagram),
        IT_TEST(test_ok_zero),
        IT_TEST(test_many_clients),
};

int main(void) {
        return it_main(&(struct it_suite) {
                .name = "protocol",
                .per_mode = IT_TESTS(per_mode),
        });
}
