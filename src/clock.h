/*
 * The clocks: the monotonic one for intervals and deadlines, the wall
 * clock for timestamps.  Nothing else here reads either.
 */
#ifndef ISBITCOINLIT_CLOCK_H
#define ISBITCOINLIT_CLOCK_H

#include <stdint.h>

/* Microseconds of CLOCK_MONOTONIC: only differences mean anything. */
int64_t clock_mono_us(void);

/* Milliseconds of CLOCK_MONOTONIC: only differences mean anything. */
int64_t clock_mono_ms(void);

/* Milliseconds since the epoch (CLOCK_REALTIME). */
int64_t clock_now_ms(void);

#endif
