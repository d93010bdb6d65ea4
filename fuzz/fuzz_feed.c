/*
 * libFuzzer target: the feed parser and validator on any bytes, against
 * jansson's whole-body parse.
 */
#include "config.h"

#include <jansson.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct feed_fields v1 = { "timestamp", "btc_price", "mean" };
	struct feed_result r;
	struct error err;
	json_error_t jerr;
	json_t *whole;
	char *s;
	int rc, refused;
	double d;
	int64_t ms;

	/*
	 * The parse walks the body element by element: it must refuse as
	 * "not JSON" what jansson refuses as a whole, and nothing else but a
	 * body with a NUL byte (jansson skips one after a number); and count
	 * the elements of what it accepts as jansson does.
	 */
	rc = feed_parse((const char *)data, size, &v1, INT64_C(1625700000000),
	    INT64_C(300000), &r, &err);
	refused = rc < 0 && err.code == FEED_EJSON;
	whole = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
	if ((whole == NULL && !refused) ||
	    (whole != NULL && refused && memchr(data, 0, size) == NULL) ||
	    (rc == 0 && r.received != json_array_size(whole)))
		abort();
	json_decref(whole);
	if (rc == 0) {
		/*
		 * What the parser promises: each stream sorted and in range,
		 * one sample per valid element (v1 gives every series one),
		 * every element counted.
		 */
		if (r.valid + r.invalid != r.received)
			abort();
		for (int k = 0; k < STORE_NSERIES; k++) {
			const struct stream *st = &r.series[k];

			if (st->n != r.valid)
				abort();
			for (size_t i = 0; i < st->n; i++)
				if ((i > 0 && st->points[i].ts_ms <
				    st->points[i - 1].ts_ms) ||
				    st->points[i].ts_ms < FEED_MIN_TS_MS ||
				    st->points[i].ts_ms > INT64_C(1625700300000))
					abort();
		}
		feed_result_free(&r);
	}
	/* the scalar parsers on the same bytes as a string */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)feed_parse_decimal(s, &d);
	(void)feed_parse_time(s, &ms);
	free(s);
	return 0;
}
