/* The text of a config as libconfig is to parse it: harkd reads the main file
 * and its @includes itself and hands libconfig one string, with a map that
 * takes each line of that string back to its file and line for errors. */
#pragma once

#include <stddef.h>

/* Room for a config error: "FILE:LINE: KEY: reason". */
#define CONFIG_ERROR_MAX 512

/* Bytes of the main file and every file it includes, together. */
#define CONFIG_TEXT_MAX (1024 * 1024)

struct config_source;

/* Reads the file at path into *text (NUL-terminated, *length bytes; free()
 * it) if it is a regular file of at most max bytes, never blocking on what it
 * is. Returns 0, or -errno (-EISDIR, -EFBIG) or -EINVAL with reason set
 * ("not a regular file"). Also for the other files a config names (TLS). */
int read_regular_file(const char *path, size_t max, char **text, size_t *length, const char **reason);

/* Reads the file at path and its @includes (regular files only, never blocking) into *ret; -errno or -EINVAL with "FILE[:LINE]: reason" in error. */
int config_source_read_file(struct config_source **ret, const char *path, char error[CONFIG_ERROR_MAX]);

/* The same for a config given as text, named `name` in errors; @include is an error in it. */
int config_source_from_string(struct config_source **ret, const char *text, const char *name,
                              char error[CONFIG_ERROR_MAX]);

/* Frees src; NULL is fine. */
void config_source_free(struct config_source *src);

/* The whole text for libconfig, NUL-terminated, every @include line replaced by its file. */
const char *config_source_text(const struct config_source *src);

/* The file and line of line `line` (from 1) of the text; past a file's end, its last line. */
void config_source_locate(const struct config_source *src, int line, const char **file, int *file_line);
