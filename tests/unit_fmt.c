/* Unit tests: number and time formatting, the JSON writer. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "jsonw.h"
#include "testlib.h"

/* Significant digits of a formatted number. */
static int
sig_digits(const char *s)
{
	int n = 0, lead = 1, zeros = 0;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (lead && *s == '0')
			continue;
		lead = 0;
		n++;
		zeros = *s == '0' ? zeros + 1 : 0;
	}
	return n - zeros;	/* trailing zeros of an integer are not digits */
}

/* The fewest significant digits that read back to v, by brute force. */
static int
shortest_digits(double v)
{
	char buf[64];

	for (int p = 1; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
		if (strtod(buf, NULL) == v)
			return sig_digits(buf);
	}
	return 17;
}

static void
check_double(double v, const char *want)
{
	char buf[FMT_DOUBLE_MAX];

	fmt_double(v, buf);
	CHECK_STR(buf, want, "fmt_double(%.17g)", v);
	CHECK(strtod(buf, NULL) == v, "\"%s\" reads back to the same double",
	    buf);
}

static void
test_doubles(void)
{
	check_double(0.1, "0.1");
	check_double(0.2, "0.2");
	check_double(1e-7, "1e-7");
	check_double(34599.076210526335, "34599.076210526335");
	check_double(20, "20");
	check_double(-20, "-20");
	check_double(-0.5, "-0.5");
	check_double(-1.25e-9, "-1.25e-9");
	check_double(0.000001, "0.000001");
	check_double(33885.23, "33885.23");
	check_double(0.1 + 0.2, "0.30000000000000004");
	check_double(1e21, "1e+21");
	check_double(123456789012345680000.0, "123456789012345680000");
	check_double(5e-324, "5e-324");
	check_double(1.7976931348623157e308, "1.7976931348623157e+308");
	check_double(0, "0");
	check_double(-0.0, "0");

	/* Every double reads back, in the fewest digits: a sweep. */
	{
		int bad = 0, longer = 0;
		char buf[FMT_DOUBLE_MAX];
		unsigned long long x = 88172645463325252ULL;

		for (int i = 0; i < 20000; i++) {
			double v;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(&v, &x, sizeof(v));
			if (!isfinite(v))
				continue;
			fmt_double(v, buf);
			if (strtod(buf, NULL) != v)
				bad++;
			if (sig_digits(buf) != shortest_digits(v))
				longer++;
		}
		CHECK_INT(bad, 0, "20000 random bit patterns round-trip");
		CHECK_INT(longer, 0, "and none has more digits than needed");
	}
}

static void
test_time(void)
{
	char buf[FMT_RFC3339_MAX];

	fmt_rfc3339(1625675418345, 0, buf);
	CHECK_STR(buf, "2021-07-07T16:30:18+00:00", "RFC 3339, to the second");
	fmt_rfc3339(0, 0, buf);
	CHECK_STR(buf, "1970-01-01T00:00:00+00:00", "epoch");
	fmt_rfc3339(1625673600000 + 3599999, 0, buf);
	CHECK_STR(buf, "2021-07-07T16:59:59+00:00", "last ms of an hour truncates");
	fmt_rfc3339(1625675418345, 1, buf);
	CHECK_STR(buf, "2021-07-07T16:30:18.345Z", "log form, to the ms");
	fmt_rfc3339(-1, 1, buf);
	CHECK_STR(buf, "1969-12-31T23:59:59.999Z", "log form before the epoch");
	CHECK_INT(fmt_hour_floor(1625675418345), 1625673600000, "hour floor");
	CHECK_INT(fmt_hour_floor(1625673600000), 1625673600000,
	    "hour floor of an hour start is itself");
	CHECK_INT(fmt_hour_floor(1625673600000 + 3599999), 1625673600000,
	    "h + 3599999 ms is still hour h");
	CHECK_INT(fmt_hour_floor(-1), -3600000, "hour floor before the epoch");
}

static void
test_json(void)
{
	struct jw w;
	char *s;
	size_t len;

	jw_init(&w, 0);
	jw_object_begin(&w);
	jw_key(&w, "error");
	jw_string(&w, "quote\" back\\ nl\n tab\t ctl\x01 del\x7f é");
	jw_key(&w, "n");
	jw_array_begin(&w);
	jw_double(&w, 0.1);
	jw_double(&w, NAN);
	jw_int(&w, -42);
	jw_array_end(&w);
	jw_key(&w, "empty");
	jw_array_begin(&w);
	jw_array_end(&w);
	jw_object_end(&w);
	s = jw_take(&w, &len);
	CHECK_STR(s, "{\"error\":\"quote\\\" back\\\\ nl\\n tab\\t ctl\\u0001 "
	    "del\\u007f é\",\"n\":[0.1,null,-42],\"empty\":[]}",
	    "compact JSON with escapes; NaN becomes null");
	CHECK_INT(len, s ? strlen(s) : 0, "length matches");
	free(s);

	jw_init(&w, 1);
	jw_object_begin(&w);
	jw_key(&w, "a");
	jw_array_begin(&w);
	jw_object_begin(&w);
	jw_key(&w, "b");
	jw_int(&w, 1);
	jw_object_end(&w);
	jw_array_end(&w);
	jw_key(&w, "c");
	jw_string(&w, "d");
	jw_object_end(&w);
	s = jw_take(&w, &len);
	CHECK_STR(s, "{\n  \"a\": [\n    {\n      \"b\": 1\n    }\n  ],\n"
	    "  \"c\": \"d\"\n}\n", "pretty JSON");
	free(s);

	jw_init(&w, 0);
	jw_object_begin(&w);
	s = jw_take(&w, &len);
	CHECK(s == NULL, "an unclosed object is refused");

	jw_init(&w, 0);
	jw_array_end(&w);
	s = jw_take(&w, &len);
	CHECK(s == NULL, "closing what was never opened is refused");
}

int
main(void)
{
	test_doubles();
	test_time();
	test_json();
	return tl_done();
}
