/* The journald of tests/with-journald, for tests of harkd beside a journald
 * that misbehaves: one stopped with SIGSTOP (it reads nothing, its socket's
 * queue fills, writers block), killed, or replaced by a new journald with a
 * new socket file. Such tests hold up every journal writer of the run: their
 * groups must not run side by side with others (see support-groups.h).
 * it_teardown() leaves a journald that answers, also after a failure. */
#pragma once

#include <sys/types.h>

struct it_test;

/* Skips the test (cmocka skip()) unless it runs beside the private journald
 * of tests/with-journald: never stop or replace the machine's own. */
void it_journald_require_private(void);

/* The pid of the journald in charge (the last in with-journald's pid file),
 * or -errno. */
pid_t it_journald_pid(void);

/* SIGSTOP to journald. Asserts success. */
void it_journald_stop(struct it_test *t);

/* SIGCONT to the journald that it_journald_stop() stopped. */
void it_journald_continue(struct it_test *t);

/* SIGKILL to the journald that it_journald_stop() stopped (what it had not
 * read is lost); returns once it is gone. */
void it_journald_kill_stopped(struct it_test *t);

/* Kills every journald (SIGKILL, stopped ones too); the socket file stays,
 * with nobody behind it. Until it_journald_start(), nothing is logged. */
void it_journald_kill(struct it_test *t);

/* Starts a new journald, which makes a new socket file (another inode), and
 * returns once it answers. Not beside a running journald: beside none, or
 * one that it_journald_stop() stopped. */
void it_journald_start(struct it_test *t);

/* it_journald_kill(), then it_journald_start(). */
void it_journald_replace(struct it_test *t);

/* Replaces journald by one that reads journald_conf (the text of a
 * journald.conf, bind-mounted over /etc/systemd/journald.conf in the private
 * mount namespace; NULL: the machine's) and, when store_size is not NULL,
 * has a tmpfs of that size ("2m") mounted over /run/log/journal, the
 * volatile store (for a journald.conf with Storage=volatile).
 * it_teardown() puts the usual journald back. */
void it_journald_configure(struct it_test *t, const char *journald_conf, const char *store_size);

/* Back to a journald as with-journald started it; a no-op when none was
 * configured. */
void it_journald_unconfigure(struct it_test *t);
