/* Time in the integration tests: CLOCK_MONOTONIC in milliseconds. */
#pragma once

long long it_now_ms(void);
void it_sleep_ms(int ms);

/* Milliseconds from now to deadline (an it_now_ms() value), 0 once it has
 * passed: what a poll(2) until then should wait. */
int it_ms_left(long long deadline);
