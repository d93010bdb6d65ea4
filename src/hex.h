/*
 * The value of one hexadecimal digit, for the percent-decoders (a
 * request's query, a Redis URL's user and password, a file:// feed's
 * path).  Pure.
 */
#ifndef ISBITCOINLIT_HEX_H
#define ISBITCOINLIT_HEX_H

/* 0 to 15 for '0'-'9', 'a'-'f', 'A'-'F'; -1 for any other byte. */
static inline int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

#endif
