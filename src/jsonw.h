/* A small JSON writer: compact or indented output into a growing buffer. */
#ifndef ISBITCOINLIT_JSONW_H
#define ISBITCOINLIT_JSONW_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JW_MAX_DEPTH 16

struct jw {
	struct buf out;		/* the text; take it with jw_take() */
	int pretty;
	int failed;		/* out of memory or misuse: the text is void */
	int depth;
	int count[JW_MAX_DEPTH];	/* members written at each depth */
	int after_key;
};

void jw_init(struct jw *w, int pretty);
void jw_object_begin(struct jw *w);
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w);
void jw_array_end(struct jw *w);
void jw_key(struct jw *w, const char *key);
void jw_string(struct jw *w, const char *s);
void jw_double(struct jw *w, double v);
void jw_int(struct jw *w, int64_t v);
void jw_null(struct jw *w);
/* A time as an RFC 3339 string to the second (fmt_rfc3339()). */
void jw_time(struct jw *w, int64_t ms);

/*
 * Returns the finished text (caller frees) and its length in *len, or
 * NULL when the writer failed; the writer is reset either way.
 */
char *jw_take(struct jw *w, size_t *len);
void jw_free(struct jw *w);

/* The most jw_indent() writes. */
#define JW_INDENT_MAX 16384

/*
 * Indent compact JSON text (as this writer makes it) the way a pretty
 * writer would.  Returns a new string (caller frees) and its length, or
 * NULL if out of memory, nested deeper than JW_MAX_DEPTH, unbalanced (a
 * bracket or a string left open, a close too many), or longer than
 * JW_INDENT_MAX indented.  Pure.
 */
char *jw_indent(const char *compact, size_t len, size_t *outlen);


#endif
