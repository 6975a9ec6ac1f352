/* What every test program of hark includes first: cmocka, with the headers
 * cmocka expects to be included before it. */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
