/*
 * A growable byte buffer: append bytes or printf text, reserve room,
 * reset, take or free, within a size cap.  The text is kept
 * NUL-terminated; failure (out of memory, or more than the cap) sticks,
 * so a writer appends freely and checks once at the end.
 */
#ifndef ISBITCOINLIT_BUF_H
#define ISBITCOINLIT_BUF_H

#include <stddef.h>

struct buf {
	char *data;		/* NUL-terminated when not NULL; owned */
	size_t len, cap;
	size_t first;		/* the first allocation's size */
	size_t max;		/* the most bytes it may hold */
	int failed;		/* out of memory or over max: text void */
	int full;		/* failed because max would be passed */
};

/* No cap but what memory allows. */
#define BUF_NO_MAX ((size_t)-2)

/* An empty buffer that first allocates first bytes and holds at most max. */
void buf_init(struct buf *b, size_t first, size_t max);

/* Room for n more bytes and the NUL; 0, or -1 (and failed) if not. */
int buf_reserve(struct buf *b, size_t n);

/* Append n bytes; 0 or -1. */
int buf_add(struct buf *b, const void *p, size_t n);

/* Append printf text; 0 or -1. */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Empty it again (failure forgotten), keeping its memory. */
void buf_reset(struct buf *b);

/*
 * The text (caller frees; "" if nothing was added) and its length in
 * *len, or NULL if it failed or memory ran out; the buffer is empty
 * after, with its settings kept.
 */
char *buf_take(struct buf *b, size_t *len);

/* Free its memory; empty after, with its settings kept. */
void buf_free(struct buf *b);

/*
 * Room for one more element of size bytes in the array v of *cap
 * elements: v (doubled, or first elements if it has none) as realloc
 * moved it, with *cap updated; or NULL, v untouched, if out of memory or
 * the count times the size would overflow.
 */
void *buf_array_grow(void *v, size_t *cap, size_t size, size_t first);

#endif
