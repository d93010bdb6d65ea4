/*
 * The JSON walk: see jscan.h.  The structure (brackets, commas, colons) is
 * read here; every scalar and key is cut out by its first byte (a string
 * to its closing quote, anything else to the next delimiter) and handed to
 * json_loadb alone, which decides whether it is valid: the grammar of
 * strings and numbers is jansson's, not a second copy of it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "jscan.h"

#define MAX_DEPTH JSON_PARSER_MAX_DEPTH

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Fill err for the byte at pos of the document; returns -1. */
static int
fail_at(const struct jscan *s, size_t pos, json_error_t *err,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int
fail_at(const struct jscan *s, size_t pos, json_error_t *err,
    const char *fmt, ...)
{
	size_t line_start = 0;
	int line = 1;
	va_list ap;

	if (err == NULL)
		return -1;
	if (pos > s->len)
		pos = s->len;
	for (size_t i = 0; i < pos; i++)
		if (s->doc[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	snprintf(err->source, sizeof(err->source), "<buffer>");
	err->line = line;
	err->column = (int)(pos - line_start) + 1;
	err->position = (int)pos;
	return -1;
}

/* "near 'x'" or "near end of file", for an error at pos. */
static int
fail_near(const struct jscan *s, size_t pos, json_error_t *err,
    const char *what)
{
	unsigned char c;

	if (pos >= s->len)
		return fail_at(s, pos, err, "%s near end of file", what);
	c = (unsigned char)s->doc[pos];
	if (c < 0x20 || c >= 0x7f)
		return fail_at(s, pos, err, "%s near byte 0x%02x", what, c);
	return fail_at(s, pos, err, "%s near '%c'", what, c);
}

void
jscan_init(struct jscan *s, const char *doc, size_t len)
{
	s->doc = doc;
	s->len = len;
	s->pos = 0;
}

int
jscan_peek(struct jscan *s)
{
	while (s->pos < s->len && is_ws(s->doc[s->pos]))
		s->pos++;
	return s->pos < s->len ? (unsigned char)s->doc[s->pos] : -1;
}

/*
 * Where the scalar that starts at pos ends: after the closing quote of a
 * string (backslash escapes the next byte), else at the next whitespace or
 * delimiter.  At most the end of the document.
 */
static size_t
scalar_end(const struct jscan *s, size_t pos)
{
	size_t i = pos;

	if (i < s->len && s->doc[i] == '"') {
		for (i++; i < s->len; i++) {
			if (s->doc[i] == '\\')
				i++;
			else if (s->doc[i] == '"')
				return i + 1;
		}
		return s->len;
	}
	/* a NUL ends it too, and is then refused: see jscan.h */
	while (i < s->len && !is_ws(s->doc[i]) && s->doc[i] != '\0' &&
	    strchr(",:[]{}\"", s->doc[i]) == NULL)
		i++;
	return i;
}

/* json_loadb of the scalar at the cursor, the cursor past it. */
static json_t *
load_at_cursor(struct jscan *s, json_error_t *err)
{
	size_t from = s->pos, to = scalar_end(s, from);
	json_error_t jerr;
	json_t *v;

	if (to == from) {
		fail_near(s, from, err, from >= s->len ?
		    "premature end of input" : "unexpected token");
		return NULL;
	}
	v = json_loadb(s->doc + from, to - from, JSON_DECODE_ANY, &jerr);
	if (v == NULL) {
		fail_at(s, from + (size_t)(jerr.position > 0 ? jerr.position :
		    0), err, "%s", jerr.text);
		return NULL;
	}
	s->pos = to;
	return v;
}

json_t *
jscan_load_scalar(struct jscan *s, json_error_t *err)
{
	int c = jscan_peek(s);

	if (c == '[' || c == '{') {
		fail_near(s, s->pos, err, "a scalar expected");
		return NULL;
	}
	return load_at_cursor(s, err);
}

/* An object's member name and its colon; the cursor then at the value. */
static json_t *
load_key(struct jscan *s, json_error_t *err)
{
	json_t *k;

	if (jscan_peek(s) != '"') {
		fail_near(s, s->pos, err, "string or '}' expected");
		return NULL;
	}
	if ((k = load_at_cursor(s, err)) == NULL)
		return NULL;
	if (jscan_peek(s) != ':') {
		json_decref(k);
		fail_near(s, s->pos, err, "':' expected");
		return NULL;
	}
	s->pos++;
	return k;
}

int
jscan_skip(struct jscan *s, int depth, json_error_t *err)
{
	char open[MAX_DEPTH + 1];	/* the closer each open container needs */
	int sp = 0, c;
	json_t *v;

value:
	/* jansson counts every value, the top one as 1 */
	if (depth + sp > MAX_DEPTH)
		return fail_near(s, s->pos, err, "maximum parsing depth reached");
	c = jscan_peek(s);
	if (c == '[' || c == '{') {
		open[sp++] = c == '[' ? ']' : '}';
		s->pos++;
		if (jscan_peek(s) == open[sp - 1]) {
			s->pos++;
			sp--;
			goto after;
		}
		if (open[sp - 1] == '}')
			goto key;
		goto value;
	}
	if ((v = load_at_cursor(s, err)) == NULL)
		return -1;
	json_decref(v);
	goto after;
key:
	if ((v = load_key(s, err)) == NULL)
		return -1;
	json_decref(v);
	goto value;
after:
	if (sp == 0)
		return 0;
	c = jscan_peek(s);
	if (c == ',') {
		s->pos++;
		if (open[sp - 1] == '}')
			goto key;
		goto value;
	}
	if (c == open[sp - 1]) {
		s->pos++;
		sp--;
		goto after;
	}
	return fail_near(s, s->pos, err, open[sp - 1] == ']' ?
	    "',' or ']' expected" : "',' or '}' expected");
}

int
jscan_open(struct jscan *s, int depth, struct jscan_iter *it,
    json_error_t *err)
{
	int c = jscan_peek(s);

	memset(it, 0, sizeof(*it));
	if (c != '[' && c != '{')
		return fail_near(s, s->pos, err, "'[' or '{' expected");
	if (depth > MAX_DEPTH)
		return fail_near(s, s->pos, err, "maximum parsing depth reached");
	it->s = s;
	it->close = c == '[' ? ']' : '}';
	it->depth = depth;
	s->pos++;
	return 0;
}

int
jscan_next(struct jscan_iter *it, const char **key, json_error_t *err)
{
	struct jscan *s = it->s;
	int c;

	if (it->state == 2)
		return 0;
	json_decref(it->key);
	it->key = NULL;
	if (it->state == 1 && s->pos == it->elem &&
	    jscan_skip(s, it->depth + 1, err) < 0)
		return -1;
	c = jscan_peek(s);
	if (c == it->close && it->state == 0) {
		s->pos++;
		it->state = 2;
		return 0;
	}
	if (it->state == 1) {
		if (c == it->close) {
			s->pos++;
			it->state = 2;
			return 0;
		}
		if (c != ',')
			return fail_near(s, s->pos, err, it->close == ']' ?
			    "',' or ']' expected" : "',' or '}' expected");
		s->pos++;
		c = jscan_peek(s);
	}
	if (it->depth + 1 > MAX_DEPTH)
		return fail_near(s, s->pos, err, "maximum parsing depth reached");
	if (it->close == '}') {
		if ((it->key = load_key(s, err)) == NULL)
			return -1;
		if (key != NULL)
			*key = json_string_value(it->key);
		c = jscan_peek(s);
	}
	if (c < 0 || (it->close == ']' && c == ']'))
		return fail_near(s, s->pos, err, c < 0 ?
		    "premature end of input" : "unexpected token");
	it->elem = s->pos;
	it->state = 1;
	return 1;
}

void
jscan_close(struct jscan_iter *it)
{
	json_decref(it->key);
	it->key = NULL;
}

int
jscan_end(struct jscan *s, json_error_t *err)
{
	if (jscan_peek(s) >= 0)
		return fail_near(s, s->pos, err, "end of file expected");
	return 0;
}

int
jscan_load_members(struct jscan *s, int depth, const char *const names[],
    size_t n, json_t *v[], json_error_t *jerr)
{
	struct jscan_iter it;
	const char *key;
	int more;

	for (size_t i = 0; i < n; i++)
		v[i] = NULL;
	if (jscan_peek(s) != '{')
		return jscan_skip(s, depth, jerr) < 0 ? -1 : 0;
	if (jscan_open(s, depth, &it, jerr) < 0)
		return -1;
	while ((more = jscan_next(&it, &key, jerr)) == 1) {
		json_t *val;
		size_t i;

		for (i = 0; i < n && strcmp(key, names[i]) != 0; i++)
			;
		if (i == n)
			continue;	/* jscan_next checks and skips it */
		if (jscan_peek(s) == '[' || jscan_peek(s) == '{') {
			if (jscan_skip(s, depth + 1, jerr) < 0) {
				more = -1;
				break;
			}
			val = json_null();	/* a container: no scalar */
		} else if ((val = jscan_load_scalar(s, jerr)) == NULL) {
			more = -1;
			break;
		}
		for (size_t j = i; j < n; j++)
			if (strcmp(names[j], names[i]) == 0) {
				json_decref(v[j]);
				v[j] = json_incref(val);
			}
		json_decref(val);
	}
	jscan_close(&it);
	return more < 0 ? -1 : 1;
}
