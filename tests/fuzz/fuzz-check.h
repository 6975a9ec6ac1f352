/* The fuzz targets' assertion: unlike assert(), never compiled out, and it
 * says which invariant broke before libFuzzer keeps the input. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#define fuzz_check(condition)                                                                   \
        do {                                                                                    \
                if (!(condition)) {                                                             \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
                        abort();                                                                \
                }                                                                               \
        } while (0)
