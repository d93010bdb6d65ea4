/* The one error setter. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errors.h"

int
error_set(struct error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return -1;
}

void
error_prefix(struct error *e, const char *fmt, ...)
{
	char prefix[ERROR_TEXT_MAX];
	size_t plen, rlen;
	va_list ap;

	if (e == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	plen = strlen(prefix);
	rlen = strnlen(e->text, sizeof(e->text) - 1);
	if (plen >= sizeof(e->text))
		plen = sizeof(e->text) - 1;
	if (plen + rlen >= sizeof(e->text))
		rlen = sizeof(e->text) - 1 - plen;
	memmove(e->text + plen, e->text, rlen);
	memcpy(e->text, prefix, plen);
	e->text[plen + rlen] = '\0';
}
