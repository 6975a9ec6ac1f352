/* sources: src/framer.c src/pending.c */
/* libFuzzer target: lines framing, with NUL as data and with NUL as an end,
 * and auto on the same input, at max 64 and at a max of 1 to 8; each checked
 * against the model in framer-fuzz.h, fed whole, in chunks the input picks
 * and byte by byte. Then a round trip: the input's records (the bytes between
 * its LF, CR and NUL), written with LF, CRLF or NUL endings, must come back
 * as exactly those records, cut at max. */
#include "framer-fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *data, size_t size) {
        static struct fuzz_outcome want, got;
        struct fuzz_random random = fuzz_seed(data, size, 1);
        /* A record of one byte between two separators grows to three bytes. */
        char *stream = malloc(3 * size + 1);
        size_t used = 0, start = 0;

        fuzz_check(stream);
        outcome_reset(&want, FUZZ_MAX);
        for (size_t i = 0; i <= size; i++) {
                size_t length = i - start;

                if (i < size && data[i] != '\n' && data[i] != '\r' && data[i] != '\0')
                        continue;
                if (length > 0) {
                        outcome_add(&want, (const char *) data + start, length > FUZZ_MAX ? FUZZ_MAX : length,
                                    length > FUZZ_MAX, false);
                        memcpy(stream + used, data + start, length);
                        used += length;
                        switch (fuzz_next(&random) % 3) {
                        case 0:
                                stream[used++] = '\n';
                                break;
                        case 1:
                                stream[used++] = '\r';
                                stream[used++] = '\n';
                                break;
                        default:
                                stream[used++] = '\0';
                                break;
                        }
                }
                start = i + 1;
        }
        fuzz_frame(FRAMING_LINES, FRAMER_NUL_ENDS_LINE, FUZZ_MAX, stream, used, FUZZ_CHUNKS, &random, &got);
        fuzz_check_equal(&want, &got, "round trip of the input's records");
        free(stream);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const unsigned flags[] = { 0, FRAMER_NUL_ENDS_LINE };
        const size_t maxes[] = { FUZZ_MAX, fuzz_small_max(data, size) };

        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
                for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
                        fuzz_framing(FRAMING_LINES, flags[i], maxes[m], data, size);
                        fuzz_framing(FRAMING_AUTO, flags[i], maxes[m], data, size);
                }
        round_trip(data, size);
        return 0;
}
