/* Helpers of the integration tests (tests/it_*.c): real harkd processes on
 * real sockets, entries read back from the real journal with sd-journal.
 * This header includes them all; each part has a header of its own:
 *
 *   support-groups.h    the concurrency modes, the cmocka groups of a program
 *   support-test.h      the per-test state, cleaned up in teardown
 *   support-harkd.h     harkd processes: config, start, signals, stop, logs
 *   support-client.h    client sockets: connect, send, "OK <n>"
 *   support-journal.h   reading entries back from the journal
 *   support-journald.h  stopping or replacing the private journald
 *   support-proc.h      other child processes (hark, tools)
 *   support-files.h     temporary files
 *   support-time.h      the clock
 *
 * Every it_ program runs inside tests/with-journald (a private journald) and
 * gets the absolute paths of the binaries in $HARKD and $HARK. Each test owns
 * a struct it_test (cmocka state, from it_setup()): what it starts or creates
 * through it is cleaned up by it_teardown() even when an assertion fails.
 *
 * Environment: $HARK_IT_MODES=epoll,fork runs only those modes' groups,
 * $HARK_IT_SERIAL=1 runs mode groups one after another, $HARK_IT_KEEP=1
 * keeps the temporary files (configs, harkd's stderr) for a post-mortem. */
#pragma once

#include "test-main.h"

#include "support-client.h"
#include "support-files.h"
#include "support-groups.h"
#include "support-harkd.h"
#include "support-journal.h"
#include "support-journald.h"
#include "support-proc.h"
#include "support-test.h"
#include "support-time.h"
