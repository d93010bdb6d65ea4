/* Parse and validate a feed payload (pure: no I/O, the clock passed in). */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "feed_impl.h"

int
feed_parse_decimal(const char *s, double *out)
{
	const char *p = s;
	int digits = 0;
	char *end;

	if (*p == '-' || *p == '+')
		p++;
	for (; *p >= '0' && *p <= '9'; p++)
		digits++;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++)
			digits++;
	if (digits == 0)
		return -1;
	if (*p == 'e' || *p == 'E') {
		int exp_digits = 0;

		p++;
		if (*p == '-' || *p == '+')
			p++;
		for (; *p >= '0' && *p <= '9'; p++)
			exp_digits++;
		if (exp_digits == 0)
			return -1;
	}
	if (*p != '\0')
		return -1;
	errno = 0;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out) ? 0 : -1;
}

/* Read exactly n digits at *p into *v; advances *p.  Returns 0 or -1. */
static int
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

int
feed_parse_time(const char *s, int64_t *ms)
{
	const char *p = s;
	int y, mo, d, h = 0, mi = 0, sec = 0, frac_ms = 0, off = 0;

	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
		return -1;
	if (*p != '\0') {
		int oh, om;

		if (*p != 'T' && *p != 't' && *p != ' ')
			return -1;
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' ||
		    digits(&p, 2, &mi) < 0 || *p++ != ':' ||
		    digits(&p, 2, &sec) < 0)
			return -1;
		/* 60 is a leap second: it reads as the next minute's 0 */
		if (h > 23 || mi > 59 || sec > 60)
			return -1;
		if (*p == '.') {
			int n = 0;

			for (p++; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					frac_ms = frac_ms * 10 + (*p - '0');
			if (n == 0)
				return -1;
			for (; n < 3; n++)
				frac_ms *= 10;
		}
		if (*p == 'Z' || *p == 'z')
			p++;
		else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1;

			if (digits(&p, 2, &oh) < 0 || *p++ != ':' ||
			    digits(&p, 2, &om) < 0 || oh > 23 || om > 59)
				return -1;
			off = sign * (oh * 60 + om);
		} else
			return -1;	/* RFC 3339 needs an offset */
		if (*p != '\0')
			return -1;
	}
	*ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    (int64_t)off * 60) * 1000) + frac_ms;
	return 0;
}

/* A value that is a JSON number or a numeric string. */
static int
number_value(const json_t *v, double *out)
{
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return isfinite(*out) ? 0 : -1;
	}
	if (json_is_string(v))
		return feed_parse_decimal(json_string_value(v), out);
	return -1;
}

/* Seconds (number or numeric string), or an RFC 3339 / date string. */
static int
timestamp_value(const json_t *v, int64_t *ms)
{
	double s;

	if (number_value(v, &s) == 0) {
		double m = trunc(s * 1000.0);

		if (!(m > -9.2e18 && m < 9.2e18))
			return -1;
		*ms = (int64_t)m;
		return 0;
	}
	if (json_is_string(v))
		return feed_parse_time(json_string_value(v), ms);
	return -1;
}

/*
 * Validate one element's three fields (NULL: missing) into one sample per
 * series, pt[series], both at the element's timestamp.  Returns 0, or -1
 * with why (a static description naming the field) set.
 */
static int
parse_sample(json_t *const v[3], const struct feed_fields *f,
    int64_t latest_ms, unsigned want, struct point pt[STORE_NSERIES],
    char *why, size_t whylen)
{
	const json_t *ts = v[0], *price = v[1], *sent = v[2];
	int64_t ts_ms;

	/* a series not wanted (another feed gives it) is not read */
	if (!(want & FEED_PRICE))
		price = json_null();
	if (!(want & FEED_SENTIMENT))
		sent = json_null();
	if (ts == NULL || price == NULL || sent == NULL) {
		snprintf(why, whylen, "missing field \"%s\"", ts == NULL ?
		    f->timestamp : price == NULL ? f->price : f->sentiment);
		return -1;
	}
	if (timestamp_value(ts, &ts_ms) < 0) {
		snprintf(why, whylen, "field \"%s\" is not a time", f->timestamp);
		return -1;
	}
	if (ts_ms < FEED_MIN_TS_MS) {
		snprintf(why, whylen, "field \"%s\" is before 2009-01-03",
		    f->timestamp);
		return -1;
	}
	if (ts_ms > latest_ms) {
		snprintf(why, whylen, "field \"%s\" is further ahead of the "
		    "clock than ISBITCOINLIT_MAX_FUTURE_S allows", f->timestamp);
		return -1;
	}
	for (int i = 0; i < STORE_NSERIES; i++) {
		const json_t *x = i == STORE_PRICE ? price : sent;

		if ((want & (1u << i)) && (number_value(x, &pt[i].value) < 0 ||
		    fabs(pt[i].value) > FEED_MAX_VALUE)) {
			snprintf(why, whylen, "field \"%s\" is not a finite "
			    "number of at most 1e15", i == STORE_PRICE ?
			    f->price : f->sentiment);
			return -1;
		}
	}
	pt[STORE_PRICE].ts_ms = pt[STORE_SENTIMENT].ts_ms = ts_ms;
	return 0;
}

/*
 * Read the element at the cursor (at depth 2) and validate it into one
 * sample per series, pt[series].
 * Only the three fields are loaded, and only when they are scalars (a
 * container is no number: it is checked and skipped); the last of
 * duplicate names counts, as in jansson's objects.  Returns 0 valid, 1
 * invalid (why set), or -1 with jerr filled: not JSON.
 */
static int
read_sample(struct jscan *s, const struct feed_fields *f, int64_t latest_ms,
    unsigned want, struct point pt[STORE_NSERIES], char *why, size_t whylen,
    json_error_t *jerr)
{
	const char *const names[3] = { f->timestamp, f->price, f->sentiment };
	json_t *v[3];
	int rc = jscan_load_members(s, 2, names, 3, v, jerr);

	if (rc == 0) {
		snprintf(why, whylen, "not an object");
		rc = 1;
	} else if (rc == 1)
		rc = parse_sample(v, f, latest_ms, want, pt, why, whylen) < 0 ?
		    1 : 0;
	for (int i = 0; i < 3; i++)
		json_decref(v[i]);
	return rc;
}

/* A sample and its element's index: equal timestamps keep feed order. */
struct indexed_point {
	struct point p;
	size_t idx;
};

/* One series' samples as they are read, before they are sorted. */
struct pending {
	struct indexed_point *v;	/* owned */
	size_t n, cap;
};

static int
cmp_points(const void *a, const void *b)
{
	const struct indexed_point *x = a, *y = b;

	if (x->p.ts_ms != y->p.ts_ms)
		return x->p.ts_ms < y->p.ts_ms ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Append p, of element idx, to s.  Returns 0, or -1 with err (ENOMEM). */
static int
pending_push(struct pending *s, const struct point *p, size_t idx,
    struct error *err)
{
	if (s->n == s->cap) {
		struct indexed_point *v = buf_array_grow(s->v, &s->cap,
		    sizeof(*v), 1024);

		if (v == NULL)
			return error_set(err, FEED_ENOMEM, "out of memory for "
			    "%zu samples", s->n + 1);
		s->v = v;
	}
	s->v[s->n].p = *p;
	s->v[s->n++].idx = idx;
	return 0;
}

/*
 * Sort s by time, then feed order, into out (its points owned by the
 * caller; none for an empty s).  Returns 0, or -1 with err (ENOMEM).
 */
static int
pending_sort(struct pending *s, struct stream *out, struct error *err)
{
	if (s->n == 0)
		return 0;
	qsort(s->v, s->n, sizeof(*s->v), cmp_points);
	if ((out->points = calloc(s->n, sizeof(*out->points))) == NULL)
		return error_set(err, FEED_ENOMEM, "out of memory for %zu "
		    "samples", s->n);
	for (size_t i = 0; i < s->n; i++)
		out->points[i] = s->v[i].p;
	out->n = s->n;
	return 0;
}

/* What the top value is, when it is no array, from its first byte. */
static const char *
shape_of(int c)
{
	return c == '{' ? "an object" : c == '"' ? "a string" :
	    c == '-' || (c >= '0' && c <= '9') ? "a number" : "a literal";
}

/*
 * The body is walked element by element (jscan.h), never built as a tree:
 * a 16 MiB array of empty objects would take over a gigabyte as one.  The
 * memory a parse takes is the valid samples it keeps, one stream per series.
 */
static int
parse_v1(const char *buf, size_t len, const struct feed_fields *fields,
    int64_t now_ms, int64_t max_ahead_ms, unsigned want,
    struct feed_result *out, struct error *err)
{
	struct pending tmp[STORE_NSERIES];
	struct jscan s;
	struct jscan_iter it;
	json_error_t jerr;
	char why[128] = "", first_why[160] = "";
	size_t n = 0, nvalid = 0;
	int rc = -1, more, c;

	memset(out, 0, sizeof(*out));
	memset(tmp, 0, sizeof(tmp));
	memset(&it, 0, sizeof(it));
	jscan_init(&s, buf, len);
	if ((c = jscan_peek(&s)) != '[') {
		if (jscan_skip(&s, 1, &jerr) < 0 || jscan_end(&s, &jerr) < 0)
			goto not_json;
		return error_set(err, FEED_ESHAPE, "not a JSON array but %s",
		    shape_of(c));
	}
	if (jscan_open(&s, 1, &it, &jerr) < 0)
		goto not_json;
	while ((more = jscan_next(&it, NULL, &jerr)) == 1) {
		struct point pt[STORE_NSERIES];

		switch (read_sample(&s, fields, now_ms + max_ahead_ms, want, pt,
		    why, sizeof(why), &jerr)) {
		case -1:
			goto not_json;
		case 1:
			if (out->invalid++ == 0)
				snprintf(first_why, sizeof(first_why),
				    "element %zu: %s", n, why);
			break;
		default:
			for (int i = 0; i < STORE_NSERIES; i++)
				if ((want & (1u << i)) &&
				    pending_push(&tmp[i], &pt[i], n, err) < 0)
					goto out;
			nvalid++;
		}
		n++;
	}
	if (more < 0 || jscan_end(&s, &jerr) < 0)
		goto not_json;
	out->received = n;
	if (nvalid == 0) {
		error_set(err, FEED_EEMPTY, "no valid sample among %zu%s%s", n,
		    first_why[0] ? " (first: " : "", first_why[0] ? first_why :
		    "");
		if (first_why[0])
			strncat(err->text, ")", sizeof(err->text) -
			    strlen(err->text) - 1);
		goto out;
	}
	for (int i = 0; i < STORE_NSERIES; i++)
		if (pending_sort(&tmp[i], &out->series[i], err) < 0)
			goto out;
	out->valid = nvalid;
	rc = 0;
	goto out;
not_json:
	error_set(err, FEED_EJSON, "not JSON: %s at line %d column %d",
	    jerr.text, jerr.line, jerr.column);
out:
	if (rc < 0)
		feed_result_free(out);
	jscan_close(&it);
	for (int i = 0; i < STORE_NSERIES; i++)
		free(tmp[i].v);
	return rc;
}

int
feed_parse(const char *buf, size_t len, const struct feed_fields *fields,
    int64_t now_ms, int64_t max_ahead_ms, struct feed_result *out,
    struct error *err)
{
	return parse_v1(buf, len, fields, now_ms, max_ahead_ms, FEED_BOTH, out,
	    err);
}

/* The senticrypt-v1 row: feed_parse() for the series wanted. */
int
feed_v1_parse(const char *buf, size_t len, const struct feed_args *a,
    struct feed_result *out, struct error *err)
{
	return parse_v1(buf, len, &a->fields, a->now_ms, a->max_ahead_ms,
	    a->want, out, err);
}

void
feed_result_free(struct feed_result *out)
{
	for (int i = 0; i < STORE_NSERIES; i++)
		free(out->series[i].points);
	memset(out, 0, sizeof(*out));
}
