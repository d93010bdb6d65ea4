/* One refresh: lock, download, validate, write both series, summary, cache. */
#ifndef ISBITCOINLIT_REFRESH_H
#define ISBITCOINLIT_REFRESH_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

#include "cfg.h"
#include "store.h"

/* The codes of a struct error filled by a refresh; the exit statuses of --once. */
enum refresh_status {
	REFRESH_OK = 0,
	REFRESH_EUPSTREAM = 1,	/* the feed could not be had or held nothing */
	REFRESH_EREDIS = 3,	/* Redis failed */
	REFRESH_ELOCKED = 4,	/* another refresh holds the lock */
	REFRESH_EREPLICAS = 5,	/* written, but too few replicas have it */
	REFRESH_EINTERNAL = 6,	/* out of memory or another fault of ours */
	REFRESH_EPERM = 7	/* the Redis user lacks a right (its ACL) */
};

struct refresh_report {
	size_t received, valid, invalid, expired;
	const char *backend;
	long duration_ms;
	/* where the time went, for the log */
	long fetch_ms, parse_ms, write_ms, summary_ms;
	int64_t as_of_ms;	/* T of the summary written to the cache */
	long long replicas;	/* acknowledged the writes; -1: not asked */
	/*
	 * A feed of two failed (REFRESH_EUPSTREAM): bit 1 << series for the
	 * series whose feed failed, and the public detail naming their role
	 * and the kind of cause (download, validation), never a host or path.
	 */
	unsigned failed_feeds;
	char detail[240];
};

/*
 * Run one refresh with the store's connection.  The feeds (the upstream;
 * and the price feed, when cfg->price_url is set: then the upstream gives
 * the sentiment only) are downloaded at once and each validated on its
 * own.  A series is written only from its feed downloaded and parsed
 * whole; a failed feed leaves its series as they were while the other's
 * are written and the documents recomputed, and the refresh fails with
 * REFRESH_EUPSTREAM (report->failed_feeds, report->detail).  The series
 * are written in one atomic step.  Returns 0 with report filled, or -1
 * with err filled.
 */
int refresh_run(const struct cfg *cfg, struct store *st,
    struct refresh_report *report, struct error *err);

/* The report as compact JSON; caller frees.  NULL if out of memory. */
char *refresh_report_json(const struct refresh_report *report, size_t *len);

/* Machine-stable error text of a status: "upstream failed", ... */
const char *refresh_strerror(enum refresh_status status);

/* How long the lock lives: longer than the slowest possible refresh. */
long refresh_lock_ttl_ms(const struct cfg *cfg);

#endif
