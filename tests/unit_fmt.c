/* Unit tests: number and time formatting, the buffer, the JSON writer. */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fmt.h"
#include "jsonw.h"
#include "testlib.h"

/*
 * The shortest digits by another road than the product's: from the exact
 * decimal expansion of a > 0 (digits[0..n), first digit at 10^exp10),
 * truncate at p digits and try that and one more in the last digit; the
 * fewest p where one reads back (that is monotone in p: a p-digit decimal
 * that reads back is also a (p+1)-digit one), by bisection; of two that
 * read back, the closer (a tie: the even one).  Writes the digits without
 * trailing zeros into out and returns their exponent.
 */
/* Write i in decimal with its NUL (no printf: this runs millions of times). */
static void
fmt_int(char *o, int i)
{
	char rev[12];
	int n = 0;

	if (i < 0)
		*o++ = '-';
	do
		rev[n++] = (char)('0' + abs(i % 10));
	while ((i /= 10) != 0);
	while (n > 0)
		*o++ = rev[--n];
	*o = '\0';
}

static int
reads_back(const char *dig, int exp10, double a)
{
	char text[64];
	size_t n = strlen(dig);

	memcpy(text, "0.", 2);
	memcpy(text + 2, dig, n);
	text[n + 2] = 'e';
	fmt_int(text + n + 3, exp10 + 1);
	return strtod(text, NULL) == a;
}

/* dig (p digits) plus one in the last place; returns the exponent. */
static int
bump(char *dig, int p, int exp10)
{
	int k = p;

	while (k > 0 && dig[k - 1] == '9')
		dig[--k] = '0';
	if (k == 0) {
		dig[0] = '1';
		return exp10 + 1;
	}
	dig[k - 1]++;
	return exp10;
}

/* Whether some p-digit decimal reads back; its digits in out. */
static int
try_p(const char *exact, int exp10, double a, int p, char *out, int *oexp)
{
	char lo[32], hi[32];
	int hexp, lo_ok, hi_ok, cmp = 0;

	memcpy(lo, exact, (size_t)p);
	lo[p] = '\0';
	memcpy(hi, lo, (size_t)p + 1);
	hexp = bump(hi, p, exp10);
	lo_ok = reads_back(lo, exp10, a);
	hi_ok = reads_back(hi, hexp, a);
	if (lo_ok && hi_ok) {	/* the rest against one half */
		const char *r = exact + p;

		cmp = *r > '5' ? 1 : *r < '5' ? -1 : 0;
		for (r++; cmp == 0 && *r; r++)
			if (*r != '0')
				cmp = 1;
		if (cmp == 0)
			cmp = (lo[p - 1] - '0') % 2 ? 1 : -1;
		lo_ok = cmp < 0;
		hi_ok = !lo_ok;
	}
	if (lo_ok) {
		strcpy(out, lo);
		*oexp = exp10;
	} else if (hi_ok) {
		strcpy(out, hi);
		*oexp = hexp;
	}
	return lo_ok || hi_ok;
}

static int
oracle(double a, char *out)
{
	static char text[1200];
	char digits[1200], got[32];
	int n = 0, exp10, lo = 1, hi = 17, oexp = 0, gexp;
	char *e;

	/* 30 digits decide truncation and the half exactly unless digits
	 * 19..30 are all zero (then the rounding may hide a carry or a tie) */
	snprintf(text, sizeof(text), "%.29e", a);
	if (strspn(text + 19, "0") >= 12)
		snprintf(text, sizeof(text), "%.1100e", a);
	for (e = text; *e != 'e'; e++)
		if (*e != '.')
			digits[n++] = *e;
	digits[n] = '\0';
	exp10 = atoi(e + 1);
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (try_p(digits, exp10, a, mid, got, &gexp))
			hi = mid;
		else
			lo = mid + 1;
	}
	try_p(digits, exp10, a, lo, out, &oexp);
	for (n = (int)strlen(out); n > 1 && out[n - 1] == '0'; n--)
		out[n - 1] = '\0';
	return oexp;
}

/* The significant digits of fmt_double's text into out; their exponent. */
static int
canon(const char *s, char *out)
{
	int n = 0, point = -1, lead = 0, exp10 = 0;

	if (*s == '-')
		s++;
	for (; *s && *s != 'e'; s++) {
		if (*s == '.') {
			point = n + lead;
			continue;
		}
		if (n == 0 && *s == '0') {
			lead++;
			continue;
		}
		out[n++] = *s;
	}
	if (*s == 'e')
		exp10 = atoi(s + 1);
	if (point < 0)
		point = n + lead;
	while (n > 1 && out[n - 1] == '0')
		n--;
	out[n] = '\0';
	return exp10 + point - lead - 1;
}

/*
 * fmt_double(v) reads back and has exactly the oracle's digits and
 * exponent.  Returns 1 if so; says why not for the first few failures.
 */
static int
agrees(double v, int *said)
{
	char buf[FMT_DOUBLE_MAX], mine[32], want[32];
	int me, we, ok;

	fmt_double(v, buf);
	me = canon(buf, mine);
	we = oracle(fabs(v), want);
	ok = strtod(buf, NULL) == v && me == we && strcmp(mine, want) == 0;
	if (!ok && (*said)++ < 5)
		tl_diag("%a: fmt_double \"%s\", shortest %c.%se%d", v, buf,
		    want[0], want + 1, we);
	return ok;
}

/* How many random doubles: fewer under valgrind, or as the knob says. */
static long
random_count(void)
{
	const char *knob = getenv("ISBITCOINLIT_TEST_FMT_RANDOM");
	const char *prefix = getenv("TEST_PREFIX");

	if (knob != NULL && *knob != '\0')
		return atol(knob);
	if (prefix != NULL && strstr(prefix, "valgrind") != NULL)
		return 20000;
	return 1000000;
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
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0.1, "0.1" },
		{ 0.2, "0.2" },
		{ 1e-7, "1e-7" },
		{ 34599.076210526335, "34599.076210526335" },
		{ 20, "20" },
		{ -20, "-20" },
		{ -0.5, "-0.5" },
		{ -1.25e-9, "-1.25e-9" },
		{ 0.000001, "0.000001" },
		{ 33885.23, "33885.23" },
		{ 0.1 + 0.2, "0.30000000000000004" },
		{ 1e21, "1e+21" },
		{ 123456789012345680000.0, "123456789012345680000" },
		{ 5e-324, "5e-324" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 0, "0" },
		{ -0.0, "0" },
		{ 0x1p-24, "5.960464477539063e-8" },
		{ 0x1p-1022, "2.2250738585072014e-308" },
		{ 0x1p1023, "8.98846567431158e+307" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_double(cases[i].v, cases[i].want);
	/* every power of two, exhaustively */
	{
		int bad = 0, said = 0;

		for (int e = -1074; e <= 1023; e++)
			bad += !agrees(ldexp(1, e), &said) +
			    !agrees(-ldexp(1, e), &said);
		CHECK_INT(bad, 0, "every power of two 2^-1074..2^1023 is the "
		    "shortest form that reads back");
	}
	/* random bit patterns (xorshift64, fixed seed), finite only */
	{
		long want = random_count(), done = 0, bad = 0;
		int said = 0;
		unsigned long long x = 88172645463325252ULL;

		while (done < want) {
			double v;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(&v, &x, sizeof(v));
			if (!isfinite(v) || v == 0)
				continue;
			bad += !agrees(v, &said);
			done++;
		}
		CHECK_INT(bad, 0, "%ld random doubles: each is the shortest "
		    "form that reads back, the closest of its length", done);
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

	/* every int64 is defined: no overflow at the ends (run under UBSan) */
	CHECK_INT(fmt_hour_floor(INT64_MAX), INT64_C(9223372036854000000),
	    "hour floor of INT64_MAX");
	CHECK_INT(fmt_hour_floor(INT64_MIN), INT64_C(-9223372036854000000),
	    "hour floor of INT64_MIN: the lowest hour start an int64 holds");
	CHECK_INT(fmt_hour_floor(INT64_C(-9223372036854000001)),
	    INT64_C(-9223372036854000000), "and just below it");
	CHECK_INT(fmt_hour_floor(INT64_C(-9223372036854000000)),
	    INT64_C(-9223372036854000000), "which is its own floor");
	fmt_rfc3339(INT64_MAX, 0, buf);
	CHECK_STR(buf, "9999-12-31T23:59:59+00:00", "INT64_MAX: the last second "
	    "of year 9999");
	fmt_rfc3339(INT64_MAX, 1, buf);
	CHECK_STR(buf, "9999-12-31T23:59:59.999Z", "INT64_MAX, log form");
	fmt_rfc3339(INT64_MIN, 0, buf);
	CHECK_STR(buf, "0000-01-01T00:00:00+00:00", "INT64_MIN: year 0 begins");
	fmt_rfc3339(INT64_MIN, 1, buf);
	CHECK_STR(buf, "0000-01-01T00:00:00.000Z", "INT64_MIN, log form");
	fmt_rfc3339(INT64_C(253402300799999), 1, buf);
	CHECK_STR(buf, "9999-12-31T23:59:59.999Z", "the last ms of 9999");
	fmt_rfc3339(INT64_C(253402300800000), 0, buf);
	CHECK_STR(buf, "9999-12-31T23:59:59+00:00", "year 10000 is clamped");
	fmt_rfc3339(INT64_C(-62167219200000), 1, buf);
	CHECK_STR(buf, "0000-01-01T00:00:00.000Z", "the first ms of year 0");
	fmt_rfc3339(INT64_C(-62167219200001), 1, buf);
	CHECK_STR(buf, "0000-01-01T00:00:00.000Z", "before year 0: clamped");
	fmt_rfc3339(INT64_C(-1000), 1, buf);
	CHECK_STR(buf, "1969-12-31T23:59:59.000Z", "a whole second before 1970");
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

	/* jw_indent takes what Redis holds: bounded depth, size, balance */
	{
		char deep[2 * JW_MAX_DEPTH + 4];
		char *big;
		size_t n = 0;

		for (int i = 0; i < JW_MAX_DEPTH; i++)
			deep[n++] = '[';
		deep[n++] = '1';
		for (int i = 0; i < JW_MAX_DEPTH; i++)
			deep[n++] = ']';
		s = jw_indent(deep, n, &len);
		CHECK(s != NULL, "jw_indent: %d levels are indented",
		    JW_MAX_DEPTH);
		free(s);
		memmove(deep + 1, deep, n);
		deep[0] = '[';
		deep[n + 1] = ']';
		s = jw_indent(deep, n + 2, &len);
		CHECK(s == NULL, "jw_indent: %d levels are refused",
		    JW_MAX_DEPTH + 1);
		free(s);
		big = malloc(10000);
		memset(big, '[', 10000);
		s = jw_indent(big, 10000, &len);
		CHECK(s == NULL, "jw_indent: 10,000 [ are refused");
		free(s);
		/* 10 kB of commas at depth 1: some 40 kB indented */
		memset(big, ',', 10000);
		big[0] = '[';
		big[9998] = '1';
		big[9999] = ']';
		s = jw_indent(big, 10000, &len);
		CHECK(s == NULL, "jw_indent: output over %d bytes is refused",
		    JW_INDENT_MAX);
		free(s);
		free(big);
		s = jw_indent("[1]]", 4, &len);
		CHECK(s == NULL, "jw_indent: a close too many is refused");
		free(s);
		s = jw_indent("{\"a\":[1]", 8, &len);
		CHECK(s == NULL, "jw_indent: an unclosed array is refused");
		free(s);
		s = jw_indent("{\"a\":\"x}", 8, &len);
		CHECK(s == NULL, "jw_indent: an unclosed string is refused");
		free(s);
	}
}

/* The growable buffer: growth, printf, the cap, take and reset. */
static void
test_buf(void)
{
	struct buf b;
	char *s, big[300];
	size_t len = 0, cap = 0;
	void *v;

	buf_init(&b, 4, 100);
	for (int i = 0; i < 10; i++)
		buf_add(&b, "abc", 3);
	buf_printf(&b, "|%d|%s", 42, "x");
	CHECK(!b.failed && b.len == 35, "buf: 35 bytes from 4 up");
	CHECK_STR(b.data, "abcabcabcabcabcabcabcabcabcabc|42|x", "buf: the text");
	memset(big, 'y', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(buf_printf(&b, "%s", big) == -1 && b.failed && b.full,
	    "buf: printf past the cap fails, as full");
	CHECK(buf_add(&b, "z", 1) == -1, "buf: the failure sticks");
	CHECK(buf_take(&b, &len) == NULL, "buf: a failed text is not taken");
	buf_add(&b, "ok", 2);
	buf_printf(&b, "%s", big + 201);
	CHECK(!b.failed && b.len == 100 && !b.full,
	    "buf: after take, empty again with the same cap (exactly 100)");
	CHECK(b.cap == 101, "buf: never more room than the cap allows");
	CHECK(buf_add(&b, "", 0) == 0 && buf_add(&b, "!", 1) == -1 && b.full,
	    "buf: one byte over the cap is refused");
	buf_reset(&b);
	CHECK(!b.failed && b.len == 0 && buf_printf(&b, "%s", "again") == 0,
	    "buf: reset forgets the failure");
	s = buf_take(&b, &len);
	CHECK(s != NULL && len == 5 && strcmp(s, "again") == 0,
	    "buf: take hands the text over");
	free(s);
	s = buf_take(&b, &len);
	CHECK(s != NULL && len == 0 && s[0] == '\0', "buf: nothing added: \"\"");
	free(s);
	buf_free(&b);

	v = buf_array_grow(NULL, &cap, sizeof(double), 8);
	CHECK(v != NULL && cap == 8, "buf_array_grow: first elements");
	v = buf_array_grow(v, &cap, sizeof(double), 8);
	CHECK(v != NULL && cap == 16, "buf_array_grow: doubled");
	free(v);
	cap = SIZE_MAX / 16 + 1;
	CHECK(buf_array_grow(NULL, &cap, 8, 8) == NULL &&
	    cap == SIZE_MAX / 16 + 1, "buf_array_grow: count times size "
	    "overflows: refused, cap untouched");
}

/* What the store reads back: the decimals we and the module write... */
static const struct tl_read reads[] = {
	{ "33885.23", 33885.23 }, { "-0.5", -0.5 }, { "1E-1", 0.1 },
	{ "1e-07", 1e-7 }, { "2.5e+20", 2.5e20 }, { "0", 0 },
	{ "1e308", 1e308 }
};
/* ...and nothing else. */
static const char *const unread[] = {
	"nan", "NaN", "inf", "-infinity", "1e400", "0x10", "0x1p3", "+1",
	" 1", "1 ", ".5", "5.", "1e", "-", ""
};

int
main(void)
{
	test_doubles();
	test_time();
	test_buf();
	test_json();
	/* what the store reads back: the decimals we and the module write */
	tl_check_reader("read", fmt_read_double, reads, TL_NELEM(reads), unread,
	    TL_NELEM(unread));
	return tl_done();
}
