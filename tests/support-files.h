/* Temporary files of the integration tests: one directory per test
 * process, removed at exit unless $HARK_IT_KEEP=1. */
#pragma once

#include <stddef.h>

/* The directory of this program's temporary files (created on first use). */
const char *it_tmpdir(void);

/* In a child forked to run tests of its own: the next it_tmpdir() makes a
 * new directory, as the child's serial numbers start where the parent's
 * were and would name the same files as its siblings'. */
void it_tmpdir_reset(void);

/* A number not handed out before in this process (names, paths). */
unsigned it_next_serial(void);

/* A fresh path inside it_tmpdir(): "<dir>/<stem>-<serial><suffix>". */
void it_tmp_path(char *buffer, size_t size, const char *stem, const char *suffix);

/* Replaces path's content with text at once (write and rename). Returns 0 or -errno. */
int it_write_file(const char *path, const char *text);

/* The content of path (malloc'd, NUL-terminated; "" when unreadable);
 * *length (may be NULL) gets its size. */
char *it_read_file(const char *path, size_t *length);

/* How many times haystack holds needle. */
int it_count(const char *haystack, const char *needle);
