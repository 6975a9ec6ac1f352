/* sources: src/framer.c src/pending.c */
/* libFuzzer target: RFC 6587 octet counting, and auto on the same input, at
 * max 64 and at a max of 1 to 8; each checked against the model in
 * framer-fuzz.h, fed whole, in chunks the input picks and byte by byte.
 * Then a round trip: the input cut into records of lengths it picks (most
 * around max, some far longer), each written as MSG-LEN SP MSG, must come
 * back as exactly those records, cut at max, in octets and in auto. */
#include "framer-fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const uint8_t *data, size_t size) {
        static const enum framing framings[] = { FRAMING_OCTETS, FRAMING_AUTO };
        static struct fuzz_outcome want, got;
        struct fuzz_random random = fuzz_seed(data, size, 2);
        /* A one-byte record grows to "1 x": three bytes. */
        char *stream = malloc(3 * size + 1);
        size_t used = 0, at = 0;

        fuzz_check(stream);
        outcome_reset(&want, FUZZ_MAX);
        want.chosen = FRAMING_OCTETS;
        while (at < size) {
                uint64_t x = fuzz_next(&random);
                size_t length = 1 + (size_t) (x >> 8) % (x % 8 == 0 ? size - at : 2 * FUZZ_MAX + 2);

                if (length > size - at)
                        length = size - at;
                outcome_add(&want, (const char *) data + at, length > FUZZ_MAX ? FUZZ_MAX : length, length > FUZZ_MAX,
                            false);
                used += (size_t) sprintf(stream + used, "%zu ", length);
                memcpy(stream + used, data + at, length);
                used += length;
                at += length;
        }
        for (size_t i = 0; i < sizeof(framings) / sizeof(framings[0]); i++) {
                if (size == 0)
                        want.chosen = framings[i];
                fuzz_frame(framings[i], 0, FUZZ_MAX, stream, used, FUZZ_CHUNKS, &random, &got);
                fuzz_check_equal(&want, &got, "round trip of records as frames");
        }
        free(stream);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const size_t maxes[] = { FUZZ_MAX, fuzz_small_max(data, size) };

        for (size_t m = 0; m < sizeof(maxes) / sizeof(maxes[0]); m++) {
                fuzz_framing(FRAMING_OCTETS, 0, maxes[m], data, size);
                fuzz_framing(FRAMING_AUTO, 0, maxes[m], data, size);
                fuzz_framing(FRAMING_AUTO, FRAMER_NUL_ENDS_LINE, maxes[m], data, size);
        }
        round_trip(data, size);
        return 0;
}
