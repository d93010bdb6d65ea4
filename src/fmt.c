/* Number and time formatting (pure). */
#include "config.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt.h"

/*
 * The p significant digits of a > 0 correctly rounded (glibc's printf is
 * exact), or with step +1/-1 the p-digit decimal just above/below those,
 * into dig (p digits, NUL-ended) and *exp10 (the exponent of the first
 * digit).  Returns whether that decimal reads back (strtod) to a.
 */
static int
candidate(double a, int p, int step, char dig[24], int *exp10)
{
	char sci[FMT_DOUBLE_MAX], *e;
	int k = 0;

	snprintf(sci, sizeof(sci), "%.*e", p - 1, a);
	if (step == 0 && strtod(sci, NULL) != a)
		return 0;
	for (e = sci; *e != 'e'; e++)
		if (*e != '.')
			dig[k++] = *e;
	dig[k] = '\0';
	*exp10 = atoi(e + 1);
	if (step == 0)
		return 1;
	if (step > 0) {
		while (k > 0 && dig[k - 1] == '9')
			dig[--k] = '0';
		if (k == 0) {		/* 99..9 + 1 = 100..0, one decade up */
			dig[0] = '1';
			++*exp10;
		} else
			dig[k - 1]++;
	} else if (dig[0] == '1' && strspn(dig + 1, "0") == (size_t)p - 1) {
		memset(dig, '9', (size_t)p);	/* 10..0 - 1: a decade down */
		--*exp10;
	} else {
		while (dig[k - 1] == '0')
			dig[--k] = '9';
		dig[k - 1]--;
	}
	snprintf(sci, sizeof(sci), "%c.%se%d", dig[0], dig + 1, *exp10);
	return strtod(sci, NULL) == a;
}

/*
 * Why this finds the shortest digits.  The decimals that read back to a
 * form an interval around a, half an ulp wide on each side, except at a
 * normal power of two, where the side below is half as wide (the doubles
 * below are twice as dense).  Let r be a rounded to p digits and s the
 * step between p-digit decimals there; |r - a| <= s/2.
 *  - 15 digits (normal a): a decimal of at most DBL_DIG (15) digits
 *    survives text -> double -> 15 digits, so if any decimal of at most
 *    15 digits reads back to a, r at p = 15 is that decimal padded with
 *    zeros; if r does not read back, none of <= 15 digits does.
 *  - Symmetric interval: if r is outside, every other p-digit decimal is
 *    at least as far from a on its side (the one across a is s - |r - a|
 *    >= |r - a| away), so outside too: no p-digit decimal reads back.
 *  - Power of two: r may fall below the narrow lower side while the
 *    decimal across a, r + s, is inside the wide upper side; r - s never
 *    helps (r above a outside the wide side puts r - s at least as far
 *    below).  So the neighbours are tried there, r first: when r reads
 *    back it is the closest to a.
 *  - Subnormals carry fewer than 15 digits, so there every p is tried;
 *    their interval is symmetric.  17 digits always read back.
 * Trailing zeros are dropped last; with them gone the count is the
 * shortest, since a shorter form would have been found at a smaller p.
 */
int
fmt_double(double v, char *buf)
{
	char dig[24], *o = buf;
	double a = fabs(v);
	int p, k, exp10, pow2, e2;

	if (!isfinite(v))
		return snprintf(buf, FMT_DOUBLE_MAX, "%s", isnan(v) ? "nan" :
		    v > 0 ? "inf" : "-inf");
	if (v == 0)			/* also -0: readers want plain 0 */
		return snprintf(buf, FMT_DOUBLE_MAX, "0");
	pow2 = a > DBL_MIN && frexp(a, &e2) == 0.5;
	if (a >= DBL_MIN && candidate(a, 15, 0, dig, &exp10))
		goto found;
	for (p = a < DBL_MIN ? 1 : 16; p < 17; p++)
		if (candidate(a, p, 0, dig, &exp10) || (pow2 &&
		    (candidate(a, p, 1, dig, &exp10) ||
		    candidate(a, p, -1, dig, &exp10))))
			goto found;
	candidate(a, 17, 0, dig, &exp10);
found:
	for (k = (int)strlen(dig); k > 1 && dig[k - 1] == '0'; k--)
		;
	if (v < 0)
		*o++ = '-';
	/* Fixed notation where ECMAScript's Number#toString uses it. */
	if (exp10 > -7 && exp10 < 21) {
		if (exp10 < 0) {
			*o++ = '0';
			*o++ = '.';
			for (int i = 0; i < -exp10 - 1; i++)
				*o++ = '0';
			memcpy(o, dig, (size_t)k);
			o += k;
		} else if (exp10 >= k - 1) {
			memcpy(o, dig, (size_t)k);
			o += k;
			for (int i = 0; i < exp10 - (k - 1); i++)
				*o++ = '0';
		} else {
			memcpy(o, dig, (size_t)exp10 + 1);
			o += exp10 + 1;
			*o++ = '.';
			memcpy(o, dig + exp10 + 1, (size_t)(k - exp10 - 1));
			o += k - exp10 - 1;
		}
		*o = '\0';
		return (int)(o - buf);
	}
	*o++ = dig[0];
	if (k > 1) {
		*o++ = '.';
		memcpy(o, dig + 1, (size_t)k - 1);
		o += k - 1;
	}
	return (int)(o - buf) + snprintf(o, FMT_DOUBLE_MAX - (size_t)(o - buf),
	    "e%c%d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
}

/* The lowest hour start an int64 holds; floor(INT64_MIN) is below it. */
#define HOUR_START_MIN (INT64_MIN / FMT_HOUR_MS * FMT_HOUR_MS)

int64_t
fmt_hour_floor(int64_t ms)
{
	int64_t r = ms % FMT_HOUR_MS;

	if (r >= 0)
		return ms - r;
	return ms - r == HOUR_START_MIN ? HOUR_START_MIN : ms - r - FMT_HOUR_MS;
}

int64_t
fmt_bucket_floor(int64_t ms, int64_t bucket_ms)
{
	int64_t r = ms % bucket_ms, low = INT64_MIN / bucket_ms * bucket_ms;

	if (r >= 0)
		return ms - r;
	return ms - r == low ? low : ms - r - bucket_ms;
}

/* What RFC 3339 can write: 0000-01-01T00:00:00Z to the last ms of 9999. */
#define RFC3339_MIN_MS INT64_C(-62167219200000)
#define RFC3339_MAX_MS INT64_C(253402300799999)

int
fmt_rfc3339(int64_t ms, int with_ms, char *buf)
{
	int64_t s, frac;
	time_t t;
	struct tm tm;

	if (ms < RFC3339_MIN_MS)
		ms = RFC3339_MIN_MS;
	else if (ms > RFC3339_MAX_MS)
		ms = RFC3339_MAX_MS;
	s = ms / 1000;
	frac = ms % 1000;
	if (frac < 0) {
		s--;
		frac += 1000;
	}
	t = (time_t)s;
	if (gmtime_r(&t, &tm) == NULL) {	/* a 32-bit time_t */
		t = 0;
		gmtime_r(&t, &tm);
		frac = 0;
	}
	if (with_ms)
		return snprintf(buf, FMT_RFC3339_MAX,
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)frac);
	return snprintf(buf, FMT_RFC3339_MAX, "%04d-%02d-%02dT%02d:%02d:%02d+00:00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}

int
fmt_read_double(const char *s, double *out)
{
	const char *p = s;
	char *end;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p != '\0')
		return -1;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out) ? 0 : -1;
}
