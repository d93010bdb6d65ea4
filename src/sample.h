/*
 * Samples, the unit the feed yields and the store writes.  Each series is
 * its own stream of (time, value) points: a feed may carry one series
 * only, and one series' timestamps need not be the other's.
 */
#ifndef ISBITCOINLIT_SAMPLE_H
#define ISBITCOINLIT_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* The series, the index of every per-series array. */
enum store_series { STORE_PRICE, STORE_SENTIMENT, STORE_NSERIES };

/* One sample of one series. */
struct point {
	int64_t ts_ms;
	double value;
};

/*
 * One series' samples.  Whoever fills a stream owns points (a feed's:
 * feed_result_free()); a stream passed to the store is only read.
 */
struct stream {
	struct point *points;
	size_t n;
};

#endif
