/*
 * libFuzzer target: every feed format on any bytes.  The first byte picks
 * the format (a row of feed_formats[]) and the series wanted; the rest is
 * the body.  Checked against jansson's whole-body parse and what every
 * format promises of its streams.
 */
#include "config.h"

#include <jansson.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"

#define NOW INT64_C(1688672160000)
#define AHEAD INT64_C(300000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned wants[] = { FEED_BOTH, FEED_PRICE,
	    FEED_SENTIMENT };
	const struct feed_format *f;
	struct feed_args a = { NOW, AHEAD, { "timestamp", "btc_price", "mean" },
	    FEED_BOTH };
	struct feed_result r;
	struct error err;
	json_error_t jerr;
	json_t *whole;
	const char *body;
	size_t nformats = 0, len;
	int rc, refused;

	if (size < 1)
		return 0;
	while (feed_formats[nformats].name != NULL)
		nformats++;
	f = &feed_formats[data[0] % nformats];
	a.want = wants[(data[0] / nformats) % 3];
	body = (const char *)data + 1;
	len = size - 1;

	rc = feed_parse_as(f->name, body, len, &a, &r, &err);
	/* a format that cannot give what is wanted is refused before reading */
	if ((f->series & a.want) != a.want) {
		if (rc != -1 || err.code != FEED_ESHAPE)
			abort();
		return 0;
	}
	/* "not JSON" if and only if jansson refuses it (NUL aside: jscan.h) */
	refused = rc < 0 && err.code == FEED_EJSON;
	whole = json_loadb(body, len, JSON_DECODE_ANY, &jerr);
	if ((whole == NULL && !refused) ||
	    (whole != NULL && refused && memchr(body, 0, len) == NULL))
		abort();
	json_decref(whole);
	if (rc < 0) {
		for (int k = 0; k < STORE_NSERIES; k++)
			if (r.series[k].points != NULL || r.series[k].n != 0)
				abort();
		if (strlen(err.text) >= sizeof(err.text))
			abort();
		return 0;
	}
	if (r.format == NULL || r.valid == 0 ||
	    r.valid + r.invalid != r.received ||
	    (r.format->series & a.want) != a.want)
		abort();
	for (int k = 0; k < STORE_NSERIES; k++) {
		const struct stream *st = &r.series[k];
		int v1 = strcmp(r.format->name, "senticrypt-v1") == 0;

		/* only the wanted series, one sample per valid element */
		if (st->n != ((a.want & (1u << k)) ? r.valid : 0))
			abort();
		for (size_t i = 0; i < st->n; i++) {
			const struct point *p = &st->points[i];

			/* sorted; equal times only in v1 (it keeps them all) */
			if (i > 0 && (p->ts_ms < p[-1].ts_ms ||
			    (!v1 && p->ts_ms == p[-1].ts_ms)))
				abort();
			if (p->ts_ms < FEED_MIN_TS_MS || p->ts_ms > NOW + AHEAD ||
			    !isfinite(p->value) || fabs(p->value) > FEED_MAX_VALUE)
				abort();
			/* no zero or negative price but in v1 */
			if (!v1 && k == STORE_PRICE && !(p->value > 0))
				abort();
		}
	}
	feed_result_free(&r);
	return 0;
}
