/* The clocks. */
#include "config.h"

#include <time.h>

#include "clock.h"

/* The time of clock id in units of unit_ns nanoseconds (a divisor of 1 s). */
static int64_t
read_clock(clockid_t id, long unit_ns)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * (1000000000 / unit_ns) + ts.tv_nsec / unit_ns;
}

int64_t
clock_mono_us(void)
{
	return read_clock(CLOCK_MONOTONIC, 1000);
}

int64_t
clock_mono_ms(void)
{
	return read_clock(CLOCK_MONOTONIC, 1000000);
}

int64_t
clock_now_ms(void)
{
	return read_clock(CLOCK_REALTIME, 1000000);
}
