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

/* The summary of its SUMMARY_HOURS window (n is always that). */
static char *
summary_doc(int64_t t_ms, int n, const struct store_hourly *h, size_t *len)
{
	struct summary s;

	(void)n;
	summary_build(t_ms, h, &s);
	return summary_render(&s, 0, len);
}

static int
summary_doc_valid(const char *body, size_t len, int n)
{
	(void)n;
	return summary_valid(body, len);
}

static char *
history_doc(int64_t t_ms, int n, const struct store_hourly *h, size_t *len)
{
	struct history hs;

	history_build(t_ms, n, h, &hs);
	return history_render(&hs, 0, len);
}

const struct doc_kind docs_table[DOCS_NKINDS] = {
	[DOCS_SUMMARY] = { "summary", ":cache", 0, FMT_HOUR_MS, "hours",
	    SUMMARY_HOURS, SUMMARY_HOURS, summary_doc, summary_doc_valid },
	[DOCS_HISTORY] = { "history", ":history:", 1, FMT_HOUR_MS, "hours",
	    1, HISTORY_HOURS_MAX, history_doc, history_valid },
};

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
docs_read(struct store *st, enum cfg_anchor anchor, int64_t now_ms, int n,
    struct docs_read *rd, struct error *err)
{
	if (n < 1 || n > DOCS_WINDOW_MAX)
		return error_set(err, STORE_ECONFIG, "a window of %d hours", n);
	store_hourly_init(&rd->h, rd->buf, (size_t)n);
	return summary_read(st, anchor, now_ms, n, &rd->t_ms, &rd->h, err);
}

int
docs_compute(const struct doc_kind *k, struct store *st,
    enum cfg_anchor anchor, int64_t now_ms, int n, struct docs_read *rd,
    struct error *err)
{
	/* the store aggregates by the hour: another bucket is not read yet */
	if (n < k->min_window || n > k->max_window || k->bucket_ms != FMT_HOUR_MS)
		return error_set(err, STORE_ECONFIG, "a %s of %d %s", k->name, n,
		    k->unit);
	/* the series where the refresh last wrote them (<prefix>:series) */
	if (store_series_load(st, err) < 0)
		return -1;
	return docs_read(st, anchor, now_ms, n, rd, err);
}

int
docs_render_all(const struct store *st, const struct docs_read *rd,
    struct docs_set *set)
{
	memset(set, 0, sizeof(*set));
	for (int i = 0; i < DOCS_NKINDS; i++) {
		const struct doc_kind *k = &docs_table[i];

		for (int n = k->min_window; n <= k->max_window; n++) {
			size_t j = set->n;

			if (j == DOCS_ALL)
				return -1;
			set->n++;	/* docs_set_free() frees it from here */
			if ((set->key[j] = docs_key(k, st, n)) == NULL ||
			    (set->body[j] = k->render(rd->t_ms, n, &rd->h,
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
