/* One feed sample, the unit the feed yields and the store writes. */
#ifndef ISBITCOINLIT_SAMPLE_H
#define ISBITCOINLIT_SAMPLE_H

#include <stdint.h>

/* Both series (price, sentiment) share the sample's timestamp. */
struct sample {
	int64_t ts_ms;
	double price;
	double sentiment;
};

#endif
