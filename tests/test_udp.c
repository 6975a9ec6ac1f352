/* The per-source rate limit of the UDP receiver: udp_bucket_take(), a token
 * bucket refilled at rate a second and holding one second's worth. Times
 * are made up (milliseconds of CLOCK_MONOTONIC, as now_ms() gives them),
 * starting well after 0, as the monotonic clock of a running machine does. */
#include "test-main.h"

#include "udp.h"

/* A machine up for a day. */
#define T0 (24LL * 3600 * 1000)

/* How many of n datagrams arriving at once (at now_ms) pass. */
static int take_many(struct udp_bucket *b, int rate, long long now_ms, int n) {
        int passed = 0;

        for (int i = 0; i < n; i++)
                passed += udp_bucket_take(b, rate, now_ms);
        return passed;
}

/* A source never seen: a full second's worth at once, then nothing. */
static void test_burst_then_refusals(void **state) {
        struct udp_bucket b = { 0 };

        (void) state;
        assert_int_equal(take_many(&b, 100, T0, 100), 100);
        assert_false(udp_bucket_take(&b, 100, T0));
        assert_int_equal(take_many(&b, 100, T0, 1000), 0);
}

/* Empty, it gets rate tokens a second back, in proportion: 10 ms at 100
 * a second is one datagram. */
static void test_refill_over_time(void **state) {
        struct udp_bucket b = { 0 };

        (void) state;
        assert_int_equal(take_many(&b, 100, T0, 100), 100);
        assert_int_equal(take_many(&b, 100, T0 + 10, 5), 1);
        assert_int_equal(take_many(&b, 100, T0 + 20, 5), 1);
        assert_int_equal(take_many(&b, 100, T0 + 120, 50), 10);
        assert_int_equal(take_many(&b, 100, T0 + 620, 100), 50);
        /* Refused datagrams take no time away from the refill: a refusal
         * at +5 ms and a take at +10 ms still sees 10 ms of it. */
        assert_false(udp_bucket_take(&b, 100, T0 + 625));
        assert_true(udp_bucket_take(&b, 100, T0 + 630));
        assert_false(udp_bucket_take(&b, 100, T0 + 630));
}

/* A steady sender at exactly the rate is never refused; one at twice the
 * rate gets through at the rate, after its burst. */
static void test_steady_senders(void **state) {
        struct udp_bucket steady = { 0 }, twice = { 0 };
        int passed = 0;

        (void) state;
        for (long long ms = 0; ms < 10000; ms += 20)
                assert_true(udp_bucket_take(&steady, 50, T0 + ms));
        /* 100 a second (every 10 ms) against 50 a second, for 10 s. */
        for (long long ms = 0; ms < 10000; ms += 10)
                passed += udp_bucket_take(&twice, 50, T0 + ms);
        /* The burst (50) and 50 a second over the 9.99 s after the first. */
        assert_in_range(passed, 50 + 499 - 1, 50 + 500);
}

/* However long a source was quiet, the bucket holds one second's worth. */
static void test_never_above_one_second(void **state) {
        struct udp_bucket b = { 0 };

        (void) state;
        assert_int_equal(take_many(&b, 100, T0, 1), 1);
        /* 99 left: two seconds more would be 299, but it holds 100. */
        assert_int_equal(take_many(&b, 100, T0 + 2000, 1000), 100);
        assert_true(b.tokens >= 0.0 && b.tokens < 1.0);
        /* Calls that find it full leave it full, not fuller. */
        for (long long ms = 3000; ms <= 4000; ms += 100)
                assert_true(udp_bucket_take(&b, 100, T0 + ms));
        assert_true(b.tokens <= 100.0);
        assert_int_equal(take_many(&b, 100, T0 + 9000, 1000), 100);
}

/* Gaps of a day, of a year, and the clock's whole range: one second's
 * worth, no overflow, no refusal of the first. */
static void test_large_gaps(void **state) {
        static const long long gaps[] = { 24LL * 3600 * 1000, 365LL * 24 * 3600 * 1000, 1LL << 52 };
        static const int rates[] = { 1, 1000, 1 << 24 };

        (void) state;
        for (size_t r = 0; r < sizeof(rates) / sizeof(rates[0]); r++) {
                struct udp_bucket b = { 0 };
                long long now = T0;
                int burst = rates[r] > 100000 ? 100000 : rates[r];

                assert_int_equal(take_many(&b, rates[r], now, burst), burst);
                for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
                        now += gaps[g];
                        assert_true(udp_bucket_take(&b, rates[r], now));
                        assert_true(b.tokens <= (double) rates[r] - 1.0 + 1e-6);
                        assert_true(b.tokens >= (double) rates[r] - 1.0 - 1e-6);
                        assert_int_equal(take_many(&b, rates[r], now, burst - 1), burst - 1);
                }
        }
}

/* Rate 1: one datagram, then one a second, never two in one second. */
static void test_rate_one(void **state) {
        struct udp_bucket b = { 0 };

        (void) state;
        assert_true(udp_bucket_take(&b, 1, T0));
        assert_false(udp_bucket_take(&b, 1, T0));
        assert_false(udp_bucket_take(&b, 1, T0 + 500));
        assert_false(udp_bucket_take(&b, 1, T0 + 999));
        assert_true(udp_bucket_take(&b, 1, T0 + 1000));
        assert_false(udp_bucket_take(&b, 1, T0 + 1001));
        /* Ten quiet seconds are still one datagram. */
        assert_int_equal(take_many(&b, 1, T0 + 11000, 5), 1);
        /* Half a second, twice, makes one. */
        assert_false(udp_bucket_take(&b, 1, T0 + 11500));
        assert_true(udp_bucket_take(&b, 1, T0 + 12000));
}

/* Refills of a thousandth of a token each, a datagram every millisecond
 * at rate 1, still add up to one a second: ten in ten seconds. */
static void test_small_refills_add_up(void **state) {
        struct udp_bucket b = { 0 };
        int passed = 0;

        (void) state;
        for (long long ms = 0; ms < 10000; ms++)
                passed += udp_bucket_take(&b, 1, T0 + ms);
        assert_int_equal(passed, 10);
}

/* Two buckets are two sources: one source's flood leaves the other's full. */
static void test_buckets_are_independent(void **state) {
        struct udp_bucket noisy = { 0 }, quiet = { 0 };

        (void) state;
        assert_int_equal(take_many(&noisy, 20, T0, 10000), 20);
        assert_int_equal(take_many(&quiet, 20, T0, 20), 20);
        assert_int_equal(take_many(&noisy, 20, T0 + 100, 100), 2);
        assert_int_equal(take_many(&quiet, 20, T0 + 100, 100), 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_burst_then_refusals),
                cmocka_unit_test(test_refill_over_time),
                cmocka_unit_test(test_steady_senders),
                cmocka_unit_test(test_never_above_one_second),
                cmocka_unit_test(test_large_gaps),
                cmocka_unit_test(test_rate_one),
                cmocka_unit_test(test_small_refills_add_up),
                cmocka_unit_test(test_buckets_are_independent),
        };

        return hark_test_main("udp", tests);
}
