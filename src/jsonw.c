/* JSON writer (pure).  Doubles use the shortest round-trip form. */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "jsonw.h"

void
jw_init(struct jw *w, int pretty)
{
	memset(w, 0, sizeof(*w));
	buf_init(&w->out, 256, BUF_NO_MAX);
	w->pretty = pretty;
}

void
jw_free(struct jw *w)
{
	buf_free(&w->out);
	jw_init(w, w->pretty);
}

static void
jw_put(struct jw *w, const char *s, size_t n)
{
	if (!w->failed && buf_add(&w->out, s, n) < 0)
		w->failed = 1;
}

static void
jw_newline(struct jw *w)
{
	static const char spaces[] = "                                ";

	jw_put(w, "\n", 1);
	for (int i = 0; i < w->depth; i++)
		jw_put(w, spaces, 2);
}

/* Separator and indentation before a value or a key. */
static void
jw_before(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->depth == 0)
		return;
	if (w->count[w->depth - 1]++ > 0)
		jw_put(w, ",", 1);
	if (w->pretty)
		jw_newline(w);
}

static void
jw_open(struct jw *w, char ch)
{
	jw_before(w);
	jw_put(w, &ch, 1);
	if (w->depth == JW_MAX_DEPTH) {
		w->failed = 1;
		return;
	}
	w->count[w->depth++] = 0;
}

static void
jw_close(struct jw *w, char ch)
{
	int had;

	if (w->depth == 0) {
		w->failed = 1;
		return;
	}
	had = w->count[--w->depth];
	if (w->pretty && had)
		jw_newline(w);
	jw_put(w, &ch, 1);
}

void jw_object_begin(struct jw *w) { jw_open(w, '{'); }
void jw_object_end(struct jw *w) { jw_close(w, '}'); }
void jw_array_begin(struct jw *w) { jw_open(w, '['); }
void jw_array_end(struct jw *w) { jw_close(w, ']'); }

/* Append s[0..n) JSON-escaped, with quotes. */
static void
jw_escape(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t run = 0;

	jw_put(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[7];
		size_t elen = 2;

		if (ch >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7f)
			continue;
		jw_put(w, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (ch) {
		case '"': esc[1] = '"'; break;
		case '\\': esc[1] = '\\'; break;
		case '\n': esc[1] = 'n'; break;
		case '\r': esc[1] = 'r'; break;
		case '\t': esc[1] = 't'; break;
		case '\b': esc[1] = 'b'; break;
		case '\f': esc[1] = 'f'; break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			elen = 6;
		}
		jw_put(w, esc, elen);
	}
	jw_put(w, s + run, n - run);
	jw_put(w, "\"", 1);
}

void
jw_key(struct jw *w, const char *key)
{
	jw_before(w);
	jw_escape(w, key, strlen(key));
	jw_put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
	w->after_key = 1;
}

void
jw_string(struct jw *w, const char *s)
{
	jw_before(w);
	jw_escape(w, s, strlen(s));
}

void
jw_double(struct jw *w, double v)
{
	char buf[FMT_DOUBLE_MAX];
	int n;

	if (!isfinite(v)) {		/* JSON has no NaN or Infinity */
		jw_before(w);
		jw_put(w, "null", 4);
		return;
	}
	n = fmt_double(v, buf);
	jw_before(w);
	jw_put(w, buf, (size_t)n);
}

void
jw_int(struct jw *w, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

	jw_before(w);
	jw_put(w, buf, (size_t)n);
}

void
jw_null(struct jw *w)
{
	jw_before(w);
	jw_put(w, "null", 4);
}

void
jw_time(struct jw *w, int64_t ms)
{
	char t[FMT_RFC3339_MAX];

	fmt_rfc3339(ms, 0, t);
	jw_string(w, t);
}

char *
jw_indent(const char *s, size_t len, size_t *outlen)
{
	struct jw w;
	int in_string = 0;

	jw_init(&w, 1);
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (in_string) {
			if (ch == '\\' && i + 1 < len) {
				jw_put(&w, s + i, 2);
				i++;
				continue;
			}
			if (ch == '"')
				in_string = 0;
			jw_put(&w, &ch, 1);
			continue;
		}
		switch (ch) {
		case '"':
			in_string = 1;
			jw_put(&w, &ch, 1);
			break;
		case '{':
		case '[':
			jw_put(&w, &ch, 1);
			if (i + 1 < len && (s[i + 1] == '}' || s[i + 1] == ']')) {
				jw_put(&w, s + ++i, 1);
				break;
			}
			if (w.depth == JW_MAX_DEPTH)
				w.failed = 1;
			w.depth++;
			jw_newline(&w);
			break;
		case '}':
		case ']':
			if (w.depth == 0)
				w.failed = 1;
			w.depth--;
			jw_newline(&w);
			jw_put(&w, &ch, 1);
			break;
		case ',':
			jw_put(&w, ",", 1);
			jw_newline(&w);
			break;
		case ':':
			jw_put(&w, ": ", 2);
			break;
		default:
			jw_put(&w, &ch, 1);
		}
		if (w.failed || w.out.len > JW_INDENT_MAX)
			break;
	}
	jw_put(&w, "\n", 1);
	if (w.failed || w.out.len > JW_INDENT_MAX || w.depth != 0 ||
	    in_string) {
		jw_free(&w);
		return NULL;
	}
	return buf_take(&w.out, outlen);
}

char *
jw_take(struct jw *w, size_t *len)
{
	char *out = NULL;

	if (w->pretty && w->depth == 0)
		jw_put(w, "\n", 1);
	if (!w->failed && w->depth == 0 && w->out.data != NULL)
		out = buf_take(&w->out, len);
	jw_free(w);
	return out;
}
