/*
 * Strict checks of the compact documents this program writes, for what
 * comes back from the cache (data from Redis is input).  Each check
 * matches one piece at *p (before end) and moves *p past it; it returns 0
 * when the text differs (*p is then anywhere).  Pure.
 */
#ifndef ISBITCOINLIT_DOCCHECK_H
#define ISBITCOINLIT_DOCCHECK_H

/* The literal text lit. */
int dc_lit(const char **p, const char *end, const char *lit);

/* From min to max decimal digits, then no digit. */
int dc_digits(const char **p, const char *end, int min, int max);

/* "YYYY-MM-DDTHH:MM:SS+00:00" with its quotes, as fmt_rfc3339() writes. */
int dc_time(const char **p, const char *end);

/* A JSON number of the lengths fmt_double() writes, or null. */
int dc_number(const char **p, const char *end);

#endif
