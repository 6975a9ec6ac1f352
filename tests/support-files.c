/* Temporary files of the integration tests; see support-files.h. */
#include "support-files.h"

#include "test-main.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned serial;
static char tmpdir[64];

unsigned it_next_serial(void) {
        return __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        remove(path);
        return 0;
}

static void remove_tmpdir(void) {
        if (tmpdir[0] && !getenv("HARK_IT_KEEP"))
                nftw(tmpdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *it_tmpdir(void) {
        if (!tmpdir[0]) {
                snprintf(tmpdir, sizeof(tmpdir), "/tmp/hark-it-XXXXXX");
                if (!mkdtemp(tmpdir)) {
                        fprintf(stderr, "support: mkdtemp: %s\n", strerror(errno));
                        abort();
                }
                atexit(remove_tmpdir);
        }
        return tmpdir;
}

void it_tmpdir_reset(void) {
        tmpdir[0] = 0;
}

void it_tmp_path(char *buffer, size_t size, const char *stem, const char *suffix) {
        snprintf(buffer, size, "%s/%s-%u%s", it_tmpdir(), stem, it_next_serial(), suffix ? suffix : "");
}

int it_write_file(const char *path, const char *text) {
        char tmp[512];
        FILE *f;
        int r = 0;

        /* Write and rename: a harkd reloading must never see half a file. */
        snprintf(tmp, sizeof(tmp), "%s.new", path);
        f = fopen(tmp, "we");
        if (!f)
                return -errno;
        if (fputs(text, f) < 0)
                r = -EIO;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}

char *it_read_file(const char *path, size_t *length) {
        FILE *f = fopen(path, "re");
        char *data = NULL;
        size_t size = 0, used = 0, n;

        if (length)
                *length = 0;
        if (!f)
                return strdup("");
        do {
                if (used + 4096 + 1 > size) {
                        size = size ? size * 2 : 8192;
                        data = realloc(data, size);
                        assert_non_null(data);
                }
                n = fread(data + used, 1, size - used - 1, f);
                used += n;
        } while (n > 0);
        fclose(f);
        if (!data)
                data = malloc(1);
        assert_non_null(data);
        data[used] = 0;
        if (length)
                *length = used;
        return data;
}

int it_count(const char *haystack, const char *needle) {
        int n = 0;
        size_t len = strlen(needle);

        if (!haystack || len == 0)
                return 0;
        for (const char *p = strstr(haystack, needle); p; p = strstr(p + len, needle))
                n++;
        return n;
}
