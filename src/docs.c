/*
 * The table of served documents and what is done by it: keys, reads,
 * the refresh's rendering and writing of every one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docs.h"
#include "fmt.h"
#include "summary.h"

/* The mode of k's summary: its bucket, its window (n is always that). */
static char *
summary_doc(const struct doc_kind *k, int64_t t_ms, int n,
    const struct store_buckets *h, size_t *len)
{
	struct summary_mode mode = { k->bucket_ms, n };
	struct summary s;

	summary_build(t_ms, &mode, h, &s);
	return summary_render(&s, 0, len);
}

static int
summary_doc_valid(const struct doc_kind *k, const char *body, size_t len,
    int n)
{
	struct summary_mode mode = { k->bucket_ms, n };

	return summary_valid(body, len, &mode);
}

static char *
history_doc(const struct doc_kind *k, int64_t t_ms, int n,
    const struct store_buckets *h, size_t *len)
{
	struct history hs;

	history_build(t_ms, n, k->bucket_ms, h, &hs);
	return history_render(&hs, 0, len);
}

static int
history_doc_valid(const struct doc_kind *k, const char *body, size_t len,
    int n)
{
	return history_valid(body, len, n, k->bucket_ms);
}

void
docs_init(struct docs *d, const struct cfg *cfg)
{
	struct summary_mode m;
	int day;

	summary_mode_of(cfg, &m);
	day = m.bucket_ms == FMT_DAY_MS;
	if (m.window < SUMMARY_WINDOW_MIN || m.window > SUMMARY_WINDOW_MAX)
		m.window = SUMMARY_WINDOW_DEFAULT;	/* cfg bounds it */
	d->kind[DOCS_SUMMARY] = (struct doc_kind){ "summary", ":cache", 0,
	    m.bucket_ms, day ? "days" : "hours", m.window, m.window,
	    summary_doc, summary_doc_valid };
	d->kind[DOCS_HISTORY] = (struct doc_kind){ "history",
	    day ? ":history:d:" : ":history:", 1, m.bucket_ms,
	    day ? "days" : "hours", 1, history_max(m.bucket_ms), history_doc,
	    history_doc_valid };
	d->read_n = 0;
	for (int i = 0; i < DOCS_NKINDS; i++)
		if (d->kind[i].max_window > d->read_n)
			d->read_n = d->kind[i].max_window;
}

char *
docs_key(const struct doc_kind *k, const struct store *st, int n)
{
	char suffix[64];

	if (!k->key_n)
		return store_key(st, k->key_suffix);
	snprintf(suffix, sizeof(suffix), "%s%d", k->key_suffix, n);
	return store_key(st, suffix);
}

void
docs_describe(const struct doc_kind *k, int n, char *buf, size_t size)
{
	if (k->min_window == k->max_window)
		snprintf(buf, size, "%s document", k->name);
	else
		snprintf(buf, size, "%s document of %d %s", k->name, n, k->unit);
}

int
docs_read(struct store *st, enum cfg_anchor anchor, int64_t now_ms,
    int64_t bucket_ms, int n, struct docs_read *rd, struct error *err)
{
	if (n < 1 || n > DOCS_WINDOW_MAX)
		return error_set(err, STORE_ECONFIG, "a window of %d buckets", n);
	store_buckets_init(&rd->h, rd->buf, (size_t)n);
	return summary_read_window(st, anchor, now_ms, bucket_ms, n, &rd->t_ms,
	    &rd->h, err);
}

int
docs_read_all(const struct docs *d, struct store *st, enum cfg_anchor anchor,
    int64_t now_ms, struct docs_read *rd, struct error *err)
{
	return docs_read(st, anchor, now_ms, d->kind[0].bucket_ms, d->read_n,
	    rd, err);
}

int
docs_compute(const struct doc_kind *k, struct store *st,
    enum cfg_anchor anchor, int64_t now_ms, int n, struct docs_read *rd,
    struct error *err)
{
	if (n < k->min_window || n > k->max_window)
		return error_set(err, STORE_ECONFIG, "a %s of %d %s", k->name, n,
		    k->unit);
	/* the series where the refresh last wrote them (<prefix>:series) */
	if (store_series_load(st, err) < 0)
		return -1;
	return docs_read(st, anchor, now_ms, k->bucket_ms, n, rd, err);
}

int
docs_render_all(const struct docs *d, const struct store *st,
    const struct docs_read *rd, struct docs_set *set)
{
	memset(set, 0, sizeof(*set));
	for (int i = 0; i < DOCS_NKINDS; i++) {
		const struct doc_kind *k = &d->kind[i];

		for (int n = k->min_window; n <= k->max_window; n++) {
			size_t j = set->n;

			if (j == DOCS_ALL)
				return -1;
			set->n++;	/* docs_set_free() frees it from here */
			if ((set->key[j] = docs_key(k, st, n)) == NULL ||
			    (set->body[j] = k->render(k, rd->t_ms, n, &rd->h,
			    &set->len[j])) == NULL)
				return -1;
		}
		set->end[i] = set->n;
	}
	return 0;
}

int
docs_put_all(struct store *st, const struct docs_set *set, long ttl_s,
    struct error *err)
{
	size_t from = 0;

	for (int i = 0; i < DOCS_NKINDS; i++) {
		if (store_doc_put_all(st, set->end[i] - from, set->key + from,
		    set->body + from, set->len + from, ttl_s, err) < 0)
			return -1;
		from = set->end[i];
	}
	return 0;
}

void
docs_set_free(struct docs_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->key[i]);
		free(set->body[i]);
	}
	memset(set, 0, sizeof(*set));
}
