/*
 * Number and time formatting for documents, logs and the store; pure.
 */
#ifndef ISBITCOINLIT_FMT_H
#define ISBITCOINLIT_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any double in fmt_double(), with its NUL. */
#define FMT_DOUBLE_MAX 32
/* Room for "YYYY-MM-DDTHH:MM:SS+00:00" and its NUL. */
#define FMT_RFC3339_MAX 32

/*
 * Write the shortest decimal form of a finite v that reads back (strtod)
 * to the same double: 0.2 rather than 0.20000000000000001.  Returns the
 * length written into buf (at least FMT_DOUBLE_MAX bytes).
 */
int fmt_double(double v, char *buf);

/*
 * Read back a number as fmt_double() and the RedisTimeSeries module write
 * it: all of s, -?digits[.digits][(e|E)[-+]digits], finite.  No "+", no
 * spaces, no hex, inf or nan: data from Redis is input.  Returns 0 with
 * *out, or -1.
 */
int fmt_read_double(const char *s, double *out);

/*
 * Write ms since the epoch as RFC 3339 UTC into buf (FMT_RFC3339_MAX
 * bytes): for documents to the second with "+00:00"
 * ("2021-07-07T17:30:18+00:00"); with with_ms, for log lines, to the
 * millisecond with "Z" ("2021-07-07T17:30:18.345Z").  Defined for every
 * int64: times before year 0000 or after 9999 are written as
 * 0000-01-01T00:00:00(.000Z) and 9999-12-31T23:59:59(.999Z).  Returns the
 * length.
 */
int fmt_rfc3339(int64_t ms, int with_ms, char *buf);

/*
 * Start of the UTC hour holding ms (floor, also for negative ms).  Defined
 * for every int64: below -9223372036854000000, the lowest hour start an
 * int64 holds, the result is that hour start.
 */
int64_t fmt_hour_floor(int64_t ms);

#define FMT_HOUR_MS INT64_C(3600000)
#define FMT_DAY_MS INT64_C(86400000)

/*
 * Start of the bucket of bucket_ms (> 0) holding ms: floor(ms / bucket_ms)
 * * bucket_ms, buckets counted from the epoch (so hours and days are UTC
 * ones).  Defined for every int64 as fmt_hour_floor(): below the lowest
 * bucket start an int64 holds, the result is that bucket start.
 */
int64_t fmt_bucket_floor(int64_t ms, int64_t bucket_ms);

#endif
