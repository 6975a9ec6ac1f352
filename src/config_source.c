/* The text libconfig parses. harkd reads every file itself and hands
 * libconfig one string: libconfig 1.5 would open an @include with fopen()
 * (a FIFO blocks it for good, a directory makes its scanner exit() the
 * process) and scans a long line read from a FILE in quadratic time. Each
 * @include line is replaced by the text of its file, and a map of segments
 * takes every line of that text back to its file and line. */
#include "config_source.h"
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* The main file and every @include: bounds on what a reload may read. A
 * real config is a few dozen lines in one or two files. */
#define CONFIG_FILES_MAX 32
#define INCLUDE_DEPTH_MAX 8
#define CONFIG_NAMES_MAX 256

/* Character classes in ASCII, whatever the locale. */
static bool is_letter(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool is_name_start(char c) {
        return is_letter(c) || c == '*';
}

static bool is_name_char(char c) {
        return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool is_hex_digit(char c) {
        return is_digit(c) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static int hex_value(char c) {
        return is_digit(c) ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Lines from out_line on in the text are lines from file_line on in file. */
struct segment {
        int out_line;
        size_t file;
        int file_line;
};

struct source_file {
        char *name;             /* as errors name it */
        int lines;              /* how many it has, for errors at its end */
};

struct config_source {
        char *text;                     /* what libconfig parses, NUL-terminated */
        size_t length, size;
        int out_lines;                  /* line ends in text */
        char *include_dir;              /* NULL: @include refused (a config given as text) */
        struct source_file files[CONFIG_FILES_MAX];
        size_t n_files;
        struct segment segments[2 * CONFIG_FILES_MAX];
        size_t n_segments;
        size_t bytes;                   /* of every file together */
        int names;                      /* setting names in every file */
};

/* One file's text being scanned, as libconfig's flex scanner would. */
struct lexer {
        struct config_source *src;
        size_t file;
        int depth;                      /* of @include; the main file is 0 */
        const char *p, *end;
        const char *copied;             /* text before this is in src->text */
        int line;
        const char *key;                /* the last setting name, for errors */
        int key_length;
};

void config_source_free(struct config_source *src) {
        if (!src)
                return;
        for (size_t i = 0; i < src->n_files; i++)
                free(src->files[i].name);
        free(src->include_dir);
        free(src->text);
        free(src);
}

const char *config_source_text(const struct config_source *src) {
        assert(src);
        return src->text ? src->text : "";
}

static int append(struct config_source *src, const char *bytes, size_t n) {
        if (!src->text || src->length + n + 1 > src->size) {
                size_t size = src->size ? src->size : 4096;
                char *text;

                while (size < src->length + n + 1)
                        size *= 2;
                text = realloc(src->text, size);
                if (!text)
                        return -ENOMEM;
                src->text = text;
                src->size = size;
        }
        memcpy(src->text + src->length, bytes, n);
        src->length += n;
        src->text[src->length] = 0;
        for (const char *nl = bytes; (nl = memchr(nl, '\n', n - (size_t) (nl - bytes))); nl++)
                src->out_lines++;
        return 0;
}

/* What follows in the text comes from file, from file_line on. The text
 * always ends at a line end here. */
static void add_segment(struct config_source *src, size_t file, int file_line) {
        assert(src->n_segments < ELEMENTSOF(src->segments));
        src->segments[src->n_segments++] = (struct segment) {
                .out_line = src->out_lines + 1,
                .file = file,
                .file_line = file_line,
        };
}

/* Past the end of a file (an error at its end) it is that file's last line. */
void config_source_locate(const struct config_source *src, int out_line, const char **file, int *file_line) {
        const struct segment *s = NULL;
        int lines;

        assert(src && file && file_line);
        for (size_t i = 0; i < src->n_segments; i++)
                if (src->segments[i].out_line <= out_line)
                        s = &src->segments[i];
        if (!s) {
                *file = src->files[0].name;
                *file_line = out_line;
                return;
        }
        *file = src->files[s->file].name;
        *file_line = s->file_line + out_line - s->out_line;
        lines = src->files[s->file].lines;
        if (*file_line > lines)
                *file_line = lines > 0 ? lines : 1;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail_at(char error[CONFIG_ERROR_MAX], const struct lexer *lx, const char *fmt, ...) {
        int n = snprintf(error, CONFIG_ERROR_MAX, "%s:%d: ", lx->src->files[lx->file].name, lx->line);
        va_list ap;

        if (n >= 0 && n < CONFIG_ERROR_MAX) {
                va_start(ap, fmt);
                vsnprintf(error + n, (size_t) (CONFIG_ERROR_MAX - n), fmt, ap);
                va_end(ap);
        }
        return -EINVAL;
}

/* Moves what the lexer passed over into the text, up to p. */
static int flush(struct lexer *lx, const char *p) {
        int r = append(lx->src, lx->copied, (size_t) (p - lx->copied));

        lx->copied = p;
        return r;
}

/* A string literal, from its opening quote. libconfig turns the escape
 * \x00 into nothing at all ("a\x00b" would be "ab"); it becomes \x01 here,
 * which the setting's own check then refuses with the setting's name and line. */
static int lex_string(struct lexer *lx) {
        int start = lx->line, r;

        for (lx->p++; lx->p < lx->end; lx->p++) {
                if (*lx->p == '"') {
                        lx->p++;
                        return 0;
                }
                if (*lx->p == '\n') {
                        lx->line++;
                } else if (*lx->p == '\\' && lx->p + 1 < lx->end) {
                        if (lx->end - lx->p >= 4 && (lx->p[1] | 0x20) == 'x' && lx->p[2] == '0' && lx->p[3] == '0') {
                                r = flush(lx, lx->p);
                                if (r < 0 || (r = append(lx->src, "\\x01", 4)) < 0)
                                        return r;
                                lx->p += 3;
                                lx->copied = lx->p + 1;
                                continue;
                        }
                        lx->p++;
                        lx->line += *lx->p == '\n';
                }
        }
        lx->line = start;
        return -EPIPE;
}

static int lex_block_comment(struct lexer *lx) {
        int start = lx->line;

        for (lx->p += 2; lx->p < lx->end; lx->p++) {
                if (lx->p[0] == '*' && lx->p + 1 < lx->end && lx->p[1] == '/') {
                        lx->p += 2;
                        return 0;
                }
                lx->line += *lx->p == '\n';
        }
        lx->line = start;
        return -EPIPE;
}

/* libconfig 1.5 takes any name as a setting and checks each new one against
 * all before it: a file of 100,000 names took minutes. No valid config has
 * more names than harkd has settings, so a bound far above that costs
 * nothing and keeps the check short. */
static int lex_name(struct lexer *lx, char error[CONFIG_ERROR_MAX]) {
        const char *name = lx->p;
        size_t n;

        while (lx->p < lx->end && is_name_char(*lx->p))
                lx->p++;
        n = (size_t) (lx->p - name);
        if ((n == 4 && strncasecmp(name, "true", 4) == 0) || (n == 5 && strncasecmp(name, "false", 5) == 0))
                return 0;
        lx->key = name;
        lx->key_length = (int) n;
        if (++lx->src->names > CONFIG_NAMES_MAX)
                return fail_at(error, lx, "more than %d setting names", CONFIG_NAMES_MAX);
        return 0;
}

/* libconfig 1.5 reads a plain integer literal with atoi() and a hex one
 * with strtoul() into an int: one beyond 32 bits would wrap round without a
 * word (port = 4294967297 would be port 1). Such literals are refused here,
 * in every file; floats may have any size. */
static int lex_number(struct lexer *lx, char error[CONFIG_ERROR_MAX]) {
        const char *start = lx->p, *p = lx->p;
        bool negative = *p == '-', wide, overflow = false;
        unsigned long long value = 0, limit;

        if (*p == '-' || *p == '+')
                p++;
        if (p == start && p[0] == '0' && p + 2 < lx->end && (p[1] | 0x20) == 'x' && is_hex_digit(p[2])) {
                for (p += 2; p < lx->end && is_hex_digit(*p); p++) {
                        overflow |= value > (ULLONG_MAX >> 4);
                        value = (value << 4) | (unsigned) hex_value(*p);
                }
        } else {
                for (; p < lx->end && is_digit(*p); p++) {
                        overflow |= value > (ULLONG_MAX - 9) / 10;
                        value = value * 10 + (unsigned) (*p - '0');
                }
                if (p < lx->end && (*p == '.' || *p == 'e' || *p == 'E')) {
                        /* A float: skip its fraction and exponent. */
                        for (p += *p == '.'; p < lx->end && is_digit(*p); p++)
                                ;
                        if (p < lx->end && (*p | 0x20) == 'e') {
                                const char *e = p + 1 + (p + 1 < lx->end && (p[1] == '-' || p[1] == '+'));

                                if (e < lx->end && is_digit(*e))
                                        for (p = e; p < lx->end && is_digit(*p); p++)
                                                ;
                        }
                        lx->p = p;
                        return 0;
                }
        }
        wide = p < lx->end && *p == 'L';
        limit = wide ? (unsigned long long) LLONG_MAX + negative : (unsigned long long) INT_MAX + negative;
        lx->p = p + wide + (wide && p + 1 < lx->end && p[1] == 'L');
        if (overflow || value > limit) {
                if (lx->key)
                        return fail_at(error, lx, "%.*s: %.*s does not fit in a %d-bit integer", lx->key_length,
                                       lx->key, (int) (p - start), start, wide ? 64 : 32);
                return fail_at(error, lx, "%.*s does not fit in a %d-bit integer", (int) (p - start), start,
                               wide ? 64 : 32);
        }
        return 0;
}

static int include_file(struct lexer *lx, const char *name, char error[CONFIG_ERROR_MAX]);

/* At the start of a line: libconfig's `^[ \t]*@include[ \t]+"`. Returns 1
 * when the line was an @include (replaced by its file), 0 when it is not
 * one, or an error. */
static int lex_include(struct lexer *lx, char error[CONFIG_ERROR_MAX]) {
        const char *p = lx->p, *end = lx->end;
        char name[PATH_MAX];
        size_t n = 0;
        int r;

        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        if (end - p < 9 || memcmp(p, "@include", 8) != 0 || (p[8] != ' ' && p[8] != '\t'))
                return 0;
        for (p += 8; p < end && (*p == ' ' || *p == '\t'); p++)
                ;
        if (p == end || *p != '"')
                return 0;
        for (p++; p < end && *p != '"' && *p != '\n'; p++) {
                if (*p == '\\') {
                        if (p + 1 == end || (p[1] != '\\' && p[1] != '"'))
                                return fail_at(error, lx, "@include: a file name may escape only \\ and \"");
                        p++;
                }
                if (n + 1 == sizeof(name))
                        return fail_at(error, lx, "@include: the file name is too long");
                name[n++] = *p;
        }
        if (p == end || *p != '"')
                return fail_at(error, lx, "@include: the file name does not end on its line");
        name[n] = 0;
        for (p++; p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\f'); p++)
                ;
        if (p < end && (*p == '#' || (*p == '/' && p + 1 < end && p[1] == '/')))
                p += strcspn(p, "\n");  /* the text is NUL-terminated */
        if (p < end && *p != '\n')
                return fail_at(error, lx, "@include \"%s\": only a comment may follow on its line", name);
        r = flush(lx, lx->p);
        if (r >= 0)
                r = include_file(lx, name, error);
        if (r < 0)
                return r;
        /* The @include line is gone; the file goes on after it. */
        lx->p = p < end ? p + 1 : p;
        lx->copied = lx->p;
        lx->line++;
        add_segment(lx->src, lx->file, lx->line);
        return 1;
}

/* Copies one file's text into the source, as libconfig's scanner would read
 * it, with every @include resolved. */
static int scan_file(struct config_source *src, size_t file, int depth, const char *text, size_t length,
                     char error[CONFIG_ERROR_MAX]) {
        struct lexer lx = {
                .src = src, .file = file, .depth = depth,
                .p = text, .end = text + length, .copied = text, .line = 1,
        };
        const char *nul = memchr(text, 0, length);
        bool line_start = true;
        int r = 0;

        if (nul) {
                /* It would end libconfig's text early, silently. */
                for (const char *p = text; p < nul; p++)
                        lx.line += *p == '\n';
                return fail_at(error, &lx, "contains a NUL byte");
        }
        add_segment(src, file, 1);
        while (r >= 0 && lx.p < lx.end) {
                const char *p = lx.p;

                if (line_start && (r = lex_include(&lx, error)) != 0)
                        continue;
                line_start = *p == '\n';
                if (*p == '\n') {
                        lx.line++;
                        lx.p++;
                } else if (*p == '"') {
                        if ((r = lex_string(&lx)) == -EPIPE)
                                r = fail_at(error, &lx, "unterminated string");
                } else if (*p == '#' || (*p == '/' && p + 1 < lx.end && p[1] == '/')) {
                        lx.p += strcspn(p, "\n");
                } else if (*p == '/' && p + 1 < lx.end && p[1] == '*') {
                        if ((r = lex_block_comment(&lx)) == -EPIPE)
                                r = fail_at(error, &lx, "unterminated comment");
                } else if (is_name_start(*p)) {
                        r = lex_name(&lx, error);
                } else if (is_digit(*p) || ((*p == '-' || *p == '+') && p + 1 < lx.end && is_digit(p[1]))) {
                        r = lex_number(&lx, error);
                } else
                        lx.p++;
        }
        if (r < 0)
                return r;
        src->files[file].lines = lx.line - (length > 0 && text[length - 1] == '\n');
        r = flush(&lx, lx.end);
        /* The next file's text starts on a line of its own (and a comment
         * on the last line ends, which libconfig needs a line end for). */
        if (r >= 0 && length > 0 && text[length - 1] != '\n')
                r = append(src, "\n", 1);
        return r;
}

static int add_file_name(struct config_source *src, const char *name, size_t *file) {
        assert(src->n_files < CONFIG_FILES_MAX);
        src->files[src->n_files].name = strdup(name);
        if (!src->files[src->n_files].name)
                return -ENOMEM;
        *file = src->n_files++;
        return 0;
}

/* Neither open() nor read() may block on what the file is: a FIFO is
 * refused by stat() before it is opened, and O_NONBLOCK covers one put in
 * its place between the two. A device would act on being opened. */
int read_regular_file(const char *path, size_t max, char **text, size_t *length, const char **reason) {
        struct stat st;
        size_t n = 0, size;
        char *buffer = NULL;
        int fd, r = 0;

        *reason = NULL;
        if (stat(path, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode)) {
                *reason = "not a regular file";
                return -EINVAL;
        }
        if ((unsigned long long) st.st_size > max)
                return -EFBIG;
        fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode)) {
                *reason = "not a regular file";
                r = -EINVAL;
        }
        /* Room for one byte more than allowed, to see that there is one. */
        size = (size_t) st.st_size < max ? (size_t) st.st_size + 1 : max + 1;
        if (r >= 0 && !(buffer = malloc(size + 1)))
                r = -ENOMEM;
        while (r >= 0) {
                ssize_t got;

                if (n == size) {
                        char *bigger;

                        if (size > max)
                                break;
                        size = size * 2 < max + 1 ? size * 2 : max + 1;
                        if (!(bigger = realloc(buffer, size + 1))) {
                                r = -ENOMEM;
                                break;
                        }
                        buffer = bigger;
                }
                got = read(fd, buffer + n, size - n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        r = -errno;
                else if (got == 0)
                        break;
                else
                        n += (size_t) got;
        }
        close(fd);
        if (r >= 0 && n > max)
                r = -EFBIG;
        if (r < 0) {
                free(buffer);
                return r;
        }
        buffer[n] = 0;
        *text = buffer;
        *length = n;
        return 0;
}

/* Reads the file at path into *text for the source; on failure, says why
 * in reason. */
static int read_config_file(struct config_source *src, const char *path, char **text, size_t *length,
                            char *reason, size_t reason_size) {
        const char *why;
        int r = read_regular_file(path, CONFIG_TEXT_MAX - src->bytes, text, length, &why);

        if (r == -EFBIG)
                snprintf(reason, reason_size, "more than %d bytes with every included file", CONFIG_TEXT_MAX);
        else if (r < 0)
                snprintf(reason, reason_size, "%s", why ? why : strerror(-r));
        else
                src->bytes += *length;
        return r;
}

/* The path of an @include: relative ones are taken from the main file's
 * directory, as libconfig 1.5 takes them. */
static int include_path(const struct config_source *src, const char *name, char *path, size_t size) {
        int n;

        if (name[0] == '/' || strcmp(src->include_dir, ".") == 0)
                n = snprintf(path, size, "%s", name);
        else
                n = snprintf(path, size, "%s/%s", src->include_dir, name);
        return n >= 0 && (size_t) n < size ? 0 : -ENAMETOOLONG;
}

static int include_file(struct lexer *lx, const char *name, char error[CONFIG_ERROR_MAX]) {
        struct config_source *src = lx->src;
        char path[PATH_MAX], reason[128];
        char *text = NULL;
        size_t length = 0, file;
        int r;

        if (!src->include_dir)
                return fail_at(error, lx, "@include \"%s\": only a config file can include one", name);
        if (!name[0])
                return fail_at(error, lx, "@include \"\": no file name");
        if (lx->depth == INCLUDE_DEPTH_MAX)
                return fail_at(error, lx, "@include \"%s\": nested more than %d deep", name, INCLUDE_DEPTH_MAX);
        if (include_path(src, name, path, sizeof(path)) < 0)
                return fail_at(error, lx, "@include \"%s\": the path is too long", name);
        if (src->n_files == CONFIG_FILES_MAX)
                return fail_at(error, lx, "@include \"%s\": more than %d files", name, CONFIG_FILES_MAX);
        r = read_config_file(src, path, &text, &length, reason, sizeof(reason));
        if (r < 0)
                return r == -ENOMEM ? r : fail_at(error, lx, "@include \"%s\": %s", name, reason);
        r = add_file_name(src, path, &file);
        if (r >= 0)
                r = scan_file(src, file, lx->depth + 1, text, length, error);
        free(text);
        return r;
}

/* The directory of the main file, for its includes. */
static int set_include_dir(struct config_source *src, const char *path) {
        const char *slash = strrchr(path, '/');

        if (!slash)
                src->include_dir = strdup(".");
        else
                src->include_dir = strndup(path, slash == path ? 1 : (size_t) (slash - path));
        return src->include_dir ? 0 : -ENOMEM;
}

/* Hands src over, or frees it with error saying why. */
static int finish(struct config_source **ret, struct config_source *src, int r, const char *name,
                  char error[CONFIG_ERROR_MAX]) {
        if (r < 0) {
                if (!error[0])
                        snprintf(error, CONFIG_ERROR_MAX, "%s: %s", name, strerror(-r));
                config_source_free(src);
                return r;
        }
        *ret = src;
        return 0;
}

int config_source_read_file(struct config_source **ret, const char *path, char error[CONFIG_ERROR_MAX]) {
        struct config_source *src;
        char reason[128];
        char *text = NULL;
        size_t length = 0, file;
        int r;

        assert(ret && path && error);
        error[0] = 0;
        src = calloc(1, sizeof(*src));
        r = src ? set_include_dir(src, path) : -ENOMEM;
        if (r >= 0) {
                r = read_config_file(src, path, &text, &length, reason, sizeof(reason));
                if (r < 0)
                        snprintf(error, CONFIG_ERROR_MAX, "%s: %s", path, reason);
        }
        if (r >= 0)
                r = add_file_name(src, path, &file);
        if (r >= 0)
                r = scan_file(src, file, 0, text, length, error);
        free(text);
        return finish(ret, src, r, path, error);
}

int config_source_from_string(struct config_source **ret, const char *text, const char *name,
                              char error[CONFIG_ERROR_MAX]) {
        struct config_source *src;
        size_t file, length;
        int r;

        assert(ret && text && name && error);
        error[0] = 0;
        length = strlen(text);
        if (length > CONFIG_TEXT_MAX) {
                snprintf(error, CONFIG_ERROR_MAX, "%s: more than %d bytes", name, CONFIG_TEXT_MAX);
                return -EFBIG;
        }
        src = calloc(1, sizeof(*src));
        r = src ? add_file_name(src, name, &file) : -ENOMEM;
        if (r >= 0)
                r = scan_file(src, file, 0, text, length, error);
        return finish(ret, src, r, name, error);
}
