/* The growable buffer (pure). */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void
buf_init(struct buf *b, size_t first, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->first = first ? first : 1;
	b->max = max < BUF_NO_MAX ? max : BUF_NO_MAX;
}

static int
fail(struct buf *b, int full)
{
	b->failed = 1;
	b->full |= full;
	return -1;
}

int
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if (b->failed)
		return -1;
	if (n > b->max - b->len)
		return fail(b, 1);
	need = b->len + n + 1;		/* at most max + 1: no overflow */
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : b->first;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* never more than the cap allows: max + 1, not the next power of 2 */
	if (cap > b->max + 1)
		cap = b->max + 1;
	if ((p = realloc(b->data, cap)) == NULL)
		return fail(b, 0);
	b->data = p;
	b->cap = cap;
	return 0;
}

int
buf_add(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return -1;
	for (int tries = 0; tries < 2; tries++) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->data != NULL ? b->data + b->len : NULL, room,
		    fmt, ap);
		va_end(ap);
		if (n < 0)
			return fail(b, 0);
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		if (buf_reserve(b, (size_t)n) < 0)
			return -1;
	}
	return fail(b, 0);		/* the text changed between calls */
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->failed = b->full = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

char *
buf_take(struct buf *b, size_t *len)
{
	char *out = NULL;

	if (b->data == NULL && !b->failed)
		b->data = calloc(1, 1);	/* nothing written: "" */
	if (!b->failed && b->data != NULL) {
		out = b->data;
		*len = b->len;
		b->data = NULL;
	}
	buf_free(b);
	return out;
}

void
buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->first, b->max);
}

void *
buf_array_grow(void *v, size_t *cap, size_t size, size_t first)
{
	size_t ncap = *cap ? 2 * *cap : first;
	void *p;

	/* refused here, not by reallocarray(): a sanitizer aborts there */
	if (ncap < *cap || (size != 0 && ncap > SIZE_MAX / size) ||
	    (p = reallocarray(v, ncap, size)) == NULL)
		return NULL;
	*cap = ncap;
	return p;
}
