#include "framer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A buffer this small is kept across lines: it saves an allocation per line
 * and costs an idle connection little. */
#define FRAMER_KEEP_CAPACITY 1024

void framer_init(struct framer *f, size_t max_message_size) {
        *f = (struct framer) { .max = max_message_size };
}

void framer_done(struct framer *f) {
        free(f->buffer);
        *f = (struct framer) { .max = f->max };
}

void framer_trim(struct framer *f) {
        /* Only the buffer goes: a truncated line's tail may still be on its way. */
        if (f->length == 0 && f->capacity > FRAMER_KEEP_CAPACITY) {
                free(f->buffer);
                f->buffer = NULL;
                f->capacity = 0;
        }
}

static char *line(const struct framer *f) {
        return f->buffer + FRAMER_HEADROOM;
}

static int reserve(struct framer *f, size_t want) {
        size_t capacity;
        char *b;

        if (want <= f->capacity)
                return 0;
        capacity = f->capacity ? f->capacity : 256;
        while (capacity < want)
                capacity *= 2;
        /* max + 1: a line of exactly max bytes may still be followed by "\r\n". */
        if (capacity > f->max + 1)
                capacity = f->max + 1;
        b = realloc(f->buffer, FRAMER_HEADROOM + capacity);
        if (!b)
                return -ENOMEM;
        f->buffer = b;
        f->capacity = capacity;
        return 0;
}

static void emit_line(struct framer *f, size_t size, bool truncated, framer_emit_fn emit, void *userdata) {
        struct framed_message m;

        if (size == 0)
                return;
        m = (struct framed_message) { .data = line(f), .size = size, .truncated = truncated };
        emit(userdata, &m);
}

/* The line in the buffer ended with '\n'. */
static void complete_line(struct framer *f, framer_emit_fn emit, void *userdata) {
        size_t size = f->length;

        if (size > 0 && line(f)[size - 1] == '\r')
                size--;
        /* Only a '\r' can sit in the max+1st byte: the caller cut longer lines. */
        emit_line(f, size, false, emit, userdata);
        f->length = 0;
}

/* The line has grown past max: hand on its head, drop the rest up to '\n'. */
static void truncate_line(struct framer *f, framer_emit_fn emit, void *userdata) {
        emit_line(f, f->max, true, emit, userdata);
        f->length = 0;
        f->discarding = true;
}

/* Appends the bytes of one line (no '\n' among them) to the buffer. */
static int append(struct framer *f, const char *data, size_t size, framer_emit_fn emit, void *userdata) {
        size_t room, take;
        int r;

        if (f->discarding || size == 0)
                return 0;
        room = f->max + 1 - f->length;
        take = size < room ? size : room;
        r = reserve(f, f->length + take);
        if (r < 0)
                return r;
        memcpy(line(f) + f->length, data, take);
        f->length += take;
        /* The byte after max may only be the '\r' of a "\r\n"; anything else, or
         * any byte after it, proves the line too long. */
        if (size > take || (f->length == f->max + 1 && line(f)[f->max] != '\r'))
                truncate_line(f, emit, userdata);
        return 0;
}

int framer_feed(struct framer *f, const char *data, size_t size, framer_emit_fn emit, void *userdata) {
        const char *end = data + size;

        while (data < end) {
                const char *nl = memchr(data, '\n', (size_t) (end - data));
                const char *stop = nl ? nl : end;
                int r = append(f, data, (size_t) (stop - data), emit, userdata);

                if (r < 0)
                        return r;
                if (!nl)
                        break;
                if (f->discarding)
                        f->discarding = false;
                else
                        complete_line(f, emit, userdata);
                data = nl + 1;
        }
        return 0;
}

void framer_finish(struct framer *f, framer_emit_fn emit, void *userdata) {
        /* A final line that filled max+1 bytes (its last a '\r') never got its '\n'. */
        if (f->length > f->max)
                truncate_line(f, emit, userdata);
        else
                emit_line(f, f->length, false, emit, userdata);
        f->length = 0;
        f->discarding = false;
}
