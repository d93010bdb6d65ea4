/* The document checks: see doccheck.h. */
#include "config.h"

#include <string.h>

#include "doccheck.h"

int
dc_lit(const char **p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(end - *p) < n || memcmp(*p, lit, n) != 0)
		return 0;
	*p += n;
	return 1;
}

int
dc_digits(const char **p, const char *end, int min, int max)
{
	int n = 0;

	while (*p < end && **p >= '0' && **p <= '9' && n < max) {
		++*p;
		n++;
	}
	return n >= min && (*p == end || **p < '0' || **p > '9');
}

int
dc_time(const char **p, const char *end)
{
	return dc_lit(p, end, "\"") && dc_digits(p, end, 4, 4) &&
	    dc_lit(p, end, "-") && dc_digits(p, end, 2, 2) &&
	    dc_lit(p, end, "-") && dc_digits(p, end, 2, 2) &&
	    dc_lit(p, end, "T") && dc_digits(p, end, 2, 2) &&
	    dc_lit(p, end, ":") && dc_digits(p, end, 2, 2) &&
	    dc_lit(p, end, ":") && dc_digits(p, end, 2, 2) &&
	    dc_lit(p, end, "+00:00\"");
}

int
dc_number(const char **p, const char *end)
{
	if (dc_lit(p, end, "null"))
		return 1;
	dc_lit(p, end, "-");
	if (!dc_lit(p, end, "0") && !(*p < end && **p >= '1' && **p <= '9' &&
	    dc_digits(p, end, 1, 21)))
		return 0;
	if (dc_lit(p, end, ".") && !dc_digits(p, end, 1, 24))
		return 0;
	if (dc_lit(p, end, "e")) {
		if (!dc_lit(p, end, "-"))
			dc_lit(p, end, "+");
		if (!dc_digits(p, end, 1, 3))
			return 0;
	}
	return 1;
}
