/* Number and time formatting (pure). */
#include "config.h"

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
	int prec = 1, exp10;

	if (!isfinite(v))
		return snprintf(buf, FMT_DOUBLE_MAX, "%s", isnan(v) ? "nan" :
		    v > 0 ? "inf" : "-inf");
	if (v == 0)			/* also -0: readers want plain 0 */
		return snprintf(buf, FMT_DOUBLE_MAX, "0");
	/* %.16e always round-trips; find the fewest digits that do. */
	for (; prec <= 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec - 1, v);
		if (strtod(sci, NULL) == v)
			break;
	}
	e = strchr(sci, 'e');
	exp10 = atoi(e + 1);
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
fmt_hour_floor(int64_t ms)
{
	int64_t r = ms % FMT_HOUR_MS;

	return r < 0 ? ms - r - FMT_HOUR_MS : ms - r;
}

int
fmt_rfc3339(int64_t ms, char *buf)
{
	int64_t s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	time_t t = (time_t)s;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return snprintf(buf, FMT_RFC3339_MAX, "1970-01-01T00:00:00+00:00");
	return snprintf(buf, FMT_RFC3339_MAX, "%04d-%02d-%02dT%02d:%02d:%02d+00:00",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec);
}
