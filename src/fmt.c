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

int
fmt_double(double v, char *buf)
{
	char sci[FMT_DOUBLE_MAX], *e;
	int prec, exp10;

	if (!isfinite(v))
		return snprintf(buf, FMT_DOUBLE_MAX, "%s", isnan(v) ? "nan" :
		    v > 0 ? "inf" : "-inf");
	if (v == 0)			/* also -0: readers want plain 0 */
		return snprintf(buf, FMT_DOUBLE_MAX, "0");
	/*
	 * Any decimal of at most DBL_DIG (15) significant digits survives
	 * text -> double -> 15 digits, so if 15 digits read back, those
	 * digits less their trailing zeros are the shortest form; else 16
	 * or 17 (17 always reads back).  Subnormals carry fewer digits:
	 * for them, try every precision.
	 */
	for (prec = fabs(v) < DBL_MIN ? 1 : 15; prec < 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec - 1, v);
		if (strtod(sci, NULL) == v)
			break;
	}
	if (prec == 17)
		snprintf(sci, sizeof(sci), "%.16e", v);
	e = strchr(sci, 'e');
	exp10 = atoi(e + 1);
	/* Drop the mantissa's trailing zeros: "3.38852300000000e+04". */
	{
		char *z = e;

		while (z > sci + 1 && z[-1] == '0')
			z--;
		if (z[-1] == '.')
			z--;
		memmove(z, e, strlen(e) + 1);
		e = z;
	}
	/* Fixed notation where ECMAScript's Number#toString uses it. */
	if (exp10 > -7 && exp10 < 21) {
		char digits[FMT_DOUBLE_MAX], *o = buf;
		int k = 0;

		for (const char *p = sci; p < e; p++)
			if (*p >= '0' && *p <= '9')
				digits[k++] = *p;
		if (v < 0)
			*o++ = '-';
		if (exp10 < 0) {
			*o++ = '0';
			*o++ = '.';
			for (int i = 0; i < -exp10 - 1; i++)
				*o++ = '0';
			memcpy(o, digits, (size_t)k);
			o += k;
		} else if (exp10 >= k - 1) {
			memcpy(o, digits, (size_t)k);
			o += k;
			for (int i = 0; i < exp10 - (k - 1); i++)
				*o++ = '0';
		} else {
			memcpy(o, digits, (size_t)exp10 + 1);
			o += exp10 + 1;
			*o++ = '.';
			memcpy(o, digits + exp10 + 1, (size_t)(k - exp10 - 1));
			o += k - exp10 - 1;
		}
		*o = '\0';
		return (int)(o - buf);
	}
	*e = '\0';
	return snprintf(buf, FMT_DOUBLE_MAX, "%se%c%d", sci,
	    exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
}

int64_t
fmt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
fmt_hour_floor(int64_t ms)
{
	int64_t r = ms % FMT_HOUR_MS;

	return r < 0 ? ms - r - FMT_HOUR_MS : ms - r;
}

int
fmt_rfc3339(int64_t ms, int with_ms, char *buf)
{
	int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	time_t t = (time_t)s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
		s = ms = 0;
	}
	if (with_ms)
		return snprintf(buf, FMT_RFC3339_MAX,
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    (int)(ms - s * 1000));
	return snprintf(buf, FMT_RFC3339_MAX, "%04d-%02d-%02dT%02d:%02d:%02d+00:00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}
