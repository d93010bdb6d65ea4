/* The upstream feed: download (libcurl), parse and validate (jansson). */
#ifndef ISBITCOINLIT_FEED_H
#define ISBITCOINLIT_FEED_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "sample.h"

/* 2009-01-03T00:00:00Z, the genesis block: no sample is older. */
#define FEED_MIN_TS_MS INT64_C(1230940800000)
/*
 * No price or sentiment is larger in magnitude: an hour's sum of samples
 * stays finite on both backends (its average is never inf or null).
 */
#define FEED_MAX_VALUE 1e15

enum feed_status {
	FEED_OK,
	FEED_EFETCH,		/* DNS, connect, timeout, HTTP >= 400, TLS, size */
	FEED_EJSON,		/* not JSON */
	FEED_ESHAPE,		/* not an array */
	FEED_EEMPTY,		/* no valid sample */
	FEED_ENOMEM
};

struct feed_fields {
	const char *timestamp;
	const char *price;
	const char *sentiment;
};

/*
 * The valid samples of a feed, one stream per series, each sorted by time,
 * and what was skipped.
 */
struct feed_result {
	struct stream series[STORE_NSERIES];	/* owned; feed_result_free() */
	size_t valid;			/* elements that gave samples */
	size_t received;		/* elements of the array */
	size_t invalid;			/* skipped */
};

/*
 * Parse and validate a whole payload: it must be a JSON array; each
 * element is valid when its three fields are numbers or numeric strings
 * (the timestamp also an RFC 3339 or YYYY-MM-DD string) within
 * [FEED_MIN_TS_MS, now_ms + max_ahead_ms] (a sample from the future would
 * move the retention's cut-off and expire real data), and then gives one
 * sample to each stream, both at its timestamp.  Invalid elements are
 * counted and skipped.  Returns 0 with out filled (each stream sorted by
 * timestamp, stable: equal ones in feed order), or -1 with err filled and
 * out empty.  Pure.
 */
int feed_parse(const char *buf, size_t len, const struct feed_fields *fields,
    int64_t now_ms, int64_t max_ahead_ms, struct feed_result *out,
    struct error *err);
void feed_result_free(struct feed_result *out);

/*
 * A feed format: the series it gives (bit 1 << series), the key tag of
 * its series (<prefix>:<series>:<tag>) and their duplicate policy.
 * STAND-IN: SentiCrypt v1 only, until the table of formats lands.
 */
struct feed_format {
	const char *name;
	unsigned series;
	int keep_last;		/* a timestamp's value changes until it closes */
	const char *tag;
};

/*
 * Parse buf as the format named (or "auto": told by the body's shape).
 * Returns 0 with out filled and *used the format, or -1 with err filled
 * (FEED_ESHAPE too for an unknown format name).
 */
int feed_parse_as(const char *format, const char *buf, size_t len,
    const struct feed_fields *fields, int64_t now_ms, int64_t max_ahead_ms,
    struct feed_result *out, const struct feed_format **used,
    struct error *err);

/* A decimal number, all of s: [-+]digits[.digits][e[-+]digits], finite. */
int feed_parse_decimal(const char *s, double *out);

/*
 * An RFC 3339 date-time ("2021-07-07T16:30:18.345Z", "... +02:00", a space
 * or 't' as separator) or a full date ("2021-07-07", midnight UTC), to ms
 * since the epoch (fractions beyond the ms truncated).  Returns 0 or -1.
 */
int feed_parse_time(const char *s, int64_t *ms);

/* A downloaded body. */
struct feed_body {
	char *data;		/* owned, NUL-terminated */
	size_t len;
};

/* curl_global_init(): once, at start-up, before any thread or fork. */
int feed_global_init(void);

/*
 * Download url (http, https or file; redirects only to http or https, at
 * most 3) within timeout_s seconds, at most max_bytes.  Returns 0 with
 * body filled (caller frees body->data), or -1 with err (FEED_EFETCH).
 */
int feed_fetch(const char *url, long timeout_s, long max_bytes,
    struct feed_body *body, struct error *err);

/* One download of feed_fetch_all(): the URL in, the body or error out. */
struct feed_download {
	const char *url;
	struct feed_body body;	/* on success; the caller frees data */
	struct error err;	/* on failure (FEED_EFETCH, FEED_ENOMEM) */
};

/*
 * Download the n URLs at once, each as feed_fetch() would, within one
 * deadline of timeout_s.  Each d[i] gets its body or its error: one
 * failing leaves the others whole.  Returns 0 when all succeeded, -1 when
 * any failed.
 */
int feed_fetch_all(struct feed_download *d, size_t n, long timeout_s,
    long max_bytes);

#endif
