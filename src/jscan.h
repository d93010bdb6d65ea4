/*
 * Walk a JSON document element by element without building its tree: a
 * cursor over the bytes, an iterator over the elements of one array or
 * the members of one object, and a check that skips a value.  Only scalars
 * (and object keys) go through jansson, one at a time, so the memory a
 * walk takes does not grow with the document.  A document that every walk
 * reaches the end of is one that json_loadb(JSON_DECODE_ANY) accepts,
 * depth limit included; and every document jansson accepts is walked to
 * the end but one with a NUL byte (no JSON has one, but jansson 2.14 skips
 * one right after a number or a literal: "[1\0]").
 */
#ifndef ISBITCOINLIT_JSCAN_H
#define ISBITCOINLIT_JSCAN_H

#include <stddef.h>

#include <jansson.h>

/* A position in one document; errors give line and column in it. */
struct jscan {
	const char *doc;
	size_t len;
	size_t pos;
};

/* The elements of the array, or the members of the object, at a cursor. */
struct jscan_iter {
	struct jscan *s;
	char close;		/* ']' or '}' */
	int depth;		/* of the container; its elements are one deeper */
	int state;		/* 0 first, 1 after an element, 2 closed */
	size_t elem;		/* where the element last returned starts */
	json_t *key;		/* the last member's name (objects) */
};

void jscan_init(struct jscan *s, const char *doc, size_t len);

/* The first byte of the next token (after whitespace), or -1 at the end. */
int jscan_peek(struct jscan *s);

/*
 * Open the array or object at the cursor, a value at depth (the
 * document's top value is at depth 1).  Returns 0, or -1 with err filled
 * (no container there).
 */
int jscan_open(struct jscan *s, int depth, struct jscan_iter *it,
    json_error_t *err);

/*
 * Move to the next element: returns 1 with the cursor at its first byte
 * (and, in an object, *key its name, valid until the next call, checked
 * and unescaped by jansson); 0 once the container is closed (the cursor
 * after it); -1 with err filled on a syntax error.  An element the caller
 * did not consume (jscan_skip, jscan_load, or an iterator of its own run
 * to 0) is skipped and checked first.
 */
int jscan_next(struct jscan_iter *it, const char **key, json_error_t *err);

/* Free what the iterator holds, when it is left before it returns 0. */
void jscan_close(struct jscan_iter *it);

/*
 * Check the value at the cursor, at depth, and move past it, without
 * building it.  Returns 0, or -1 with err filled.
 */
int jscan_skip(struct jscan *s, int depth, json_error_t *err);

/*
 * The scalar at the cursor (a string, number, true, false or null), loaded
 * by jansson, the cursor past it.  Returns a new reference, or NULL with
 * err filled (a container is refused: skip it or iterate it).
 */
json_t *jscan_load_scalar(struct jscan *s, json_error_t *err);

/*
 * The members named names[0..n) of the object at the cursor (a value at
 * depth) into v[0..n) (the caller's, decref'd by the caller): a scalar as
 * loaded, a container as JSON null (no scalar: checked and
 * skipped), NULL for a name not there.  The last of a name given twice
 * counts, as in jansson; two names alike both get it.  Returns 1 with v
 * filled, 0 when the value is no object (checked and skipped), or -1 with
 * jerr filled: not JSON.
 */
int jscan_load_members(struct jscan *s, int depth, const char *const names[],
    size_t n, json_t *v[], json_error_t *jerr);

/*
 * The end of the document: only whitespace may follow.  Returns 0, or -1
 * with err filled.
 */
int jscan_end(struct jscan *s, json_error_t *err);

#endif
