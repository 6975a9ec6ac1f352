/* Connections whose "OK <n>" waits for journald (it has not read all of
 * their messages yet, or under confirm = "stored" the journal does not show
 * them yet). The thread or event loop that served one hands it over here
 * and goes on serving others: one thread per process answers them all as
 * each count becomes known, or its wait ends. */
#pragma once

#include "connection.h"

/* Starts the thread, before any connection is served: later, its
 * descriptor and thread would be asked for when harkd may have run out of
 * both (EMFILE under a flood), and answers would be given too early.
 * Returns 0 or -errno. */
int answerer_start(void);

/* Takes over c, which connection_end_waits() said waits: a connection of
 * the heap, removed from any driver's list and no longer watched. The
 * answerer answers it, frees it and gives its slot back (connection_free()).
 * Returns 0, or -errno when it cannot (not started, or stopping): then c is
 * still the caller's. */
int answerer_take(struct connection *c);

/* Once no connection is left to serve: waits for the answerer to answer
 * what it holds (each within its bound) and to end, before the server it
 * gives slots back to goes. */
void answerer_stop(void);
