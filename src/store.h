/*
 * The store: everything this project keeps in Redis, behind one interface.
 * The two series (price, sentiment) with a RedisTimeSeries backend and a
 * sorted-set backend that give the same observable results for the same
 * input; the cached documents (at keys their callers name, src/docs.h);
 * the refresh lock.  Only the store's
 * own files (store*.c) send Redis commands or see the backends.
 */
#ifndef ISBITCOINLIT_STORE_H
#define ISBITCOINLIT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "cfg.h"
#include "errors.h"
#include "sample.h"

struct conn;
struct store_ops;

/* What an add did to one series. */
struct store_counts {
	size_t written;		/* stored */
	size_t duplicate;	/* timestamp already there: ignored (or same value) */
	size_t replaced;	/* keep-last series: a stored value overwritten */
	size_t expired;		/* older than newest - retention: dropped */
	int duplicate_known;	/* 0: duplicates were counted as written */
};

struct store_bucket {
	int64_t start_ms;	/* a multiple of the bucket's length */
	double avg;
	size_t count;		/* samples averaged, at least 1 */
};

/*
 * Averages and sample counts of both series by bucket (a UTC hour or
 * day) over a range, oldest bucket first (only buckets with samples),
 * into arrays the caller provides: b[series] holds cap buckets.  A range
 * of N whole buckets needs cap >= N.
 */
struct store_buckets {
	struct store_bucket *b[STORE_NSERIES];
	size_t cap;
	size_t n[STORE_NSERIES];
};

/* Point h at buf, room for cap buckets per series (2 * cap in all). */
void store_buckets_init(struct store_buckets *h, struct store_bucket *buf,
    size_t cap);

/* The bucket of series starting at start_ms in h; NULL if none. */
const struct store_bucket *store_bucket_at(const struct store_buckets *h,
    int series, int64_t start_ms);

/* The codes of a struct error filled by the store. */
enum store_status {
	STORE_OK,
	STORE_EREDIS,		/* unreachable, timed out, or refused the command */
	STORE_EPERM,		/* the ACL user may not run the command or touch the key */
	STORE_ETYPE,		/* a key holds something that is not a series */
	STORE_EBACKEND,		/* module missing or an unexpected reply */
	STORE_ENOMEM,
	STORE_ECONFIG		/* the settings (or the caller's) do not fit */
};

struct store {
	const struct store_ops *ops;	/* NULL until the backend is known */
	struct conn *conn;		/* borrowed (store_init()) */
	int owns_conn;			/* store_open()'s: store_close() frees it */
	enum cfg_timeseries wanted;
	int64_t retention_ms;		/* 0: keep everything */
	char *key[STORE_NSERIES];	/* <prefix>:price:mean:30s, ... */
	int keep_last[STORE_NSERIES];	/* duplicate policy LAST, else FIRST */
	char *key_series;		/* <prefix>:series: each series' key */
	char *key_lock;			/* <prefix>:refresh:lock */
	char *key_stats;		/* <prefix>:refresh:stats */
	char *prefix;
	int layout_ok;			/* the keys may live on this Redis */
};

/*
 * ---- which key each series lives at ----
 *
 * A series' key says its source and step: <prefix>:<series>:<tag>, the tag
 * being its feed format's ("mean:30s" for SentiCrypt v1, today's names).
 * Switching a deployment's source writes a new key, so no series ever holds
 * two sources' samples.  The refresh records each series' current key in
 * the hash <prefix>:series {price: key, sentiment: key}; the API reads it.
 */

/* The tag of the keys when no map says otherwise. */
#define STORE_TAG_DEFAULT "mean:30s"
/* The longest key the map may name (it is input: checked when read). */
#define STORE_SERIES_KEY_MAX 200

/* "price", "sentiment": the series' name in keys, the map and logs. */
const char *store_series_name(enum store_series s);

/*
 * Point series s at <prefix>:<name>:<tag> with duplicate policy LAST
 * (keep_last) or FIRST.  No I/O.  Returns 0, or -1 (ENOMEM, or a tag
 * that would make the key too long or unprintable) with err filled.
 */
int store_series_set(struct store *st, enum store_series s, const char *tag,
    int keep_last, struct error *err);

/*
 * The API's view: one HMGET of <prefix>:series, each series pointed at
 * the key found there, or at its default key (tag STORE_TAG_DEFAULT) when
 * the map or its field is absent.  A key read back must start with
 * "<prefix>:<name>:", be at most STORE_SERIES_KEY_MAX bytes and printable,
 * else it is refused (STORE_EBACKEND) and the keys stay as they were.
 * Returns 0 or -1 with err filled.
 */
int store_series_load(struct store *st, struct error *err);

/*
 * Where series s comes from, as its key's tag says: a feed format's tag
 * is "<format>:<step>" ("kraken-ohlc:1h"), the default tag
 * STORE_TAG_DEFAULT is SentiCrypt v1's.  Copies the format's name into
 * name (size bytes) and sets *step_s to the step in seconds.  Returns 0,
 * or -1 for a tag of another shape (name "unknown", *step_s 0).
 */
int store_series_source(const struct store *st, enum store_series s,
    char *name, size_t size, long *step_s);

/* Name the keys and remember the settings; no I/O.  Returns 0 or -1 (ENOMEM). */
int store_init(struct store *st, struct conn *conn, enum cfg_timeseries wanted,
    const char *prefix, long retention_s);
void store_fini(struct store *st);

/*
 * Make the store a program's process uses, from its configuration, with a
 * connection of its own to url (cfg->redis_url, or the read URL); no I/O:
 * the first command connects.  Returns 0, or -1 after logging why.
 * Release with store_close(), which frees the connection too.
 */
int store_open(const struct cfg *cfg, const char *url, struct store *st);
void store_close(struct store *st);

/*
 * A circuit breaker on the store's connection, for a server that may be
 * slow or gone, such as a read replica with a fallback: after a command
 * fails to reach it, every command fails at once for retry_ms, then one is
 * sent again.  The first failure is logged as a warning, and nothing more
 * until the server answers again (logged too).  retry_ms 0: off (the
 * default).
 */
void store_set_breaker(struct store *st, long retry_ms);

/*
 * Did the store's last command fail in the breaker (the failure that
 * opened it, logged already, or one refused while it is open)?  A caller
 * that logs failures leaves these out, so the log says it once.
 */
int store_breaker_failed(const struct store *st);

/*
 * 1 when every key made from prefix hashes to one Redis Cluster slot: it
 * holds a non-empty hash tag, "{...}", as in "{is-bitcoin-lit}".
 */
int store_prefix_hash_tagged(const char *prefix);

/*
 * Refuse a Redis Cluster when the prefix has no hash tag (the keys would
 * be spread over slots, and the scripts that take several would fail).
 * Checked once per store; store_resolve() does it.  Returns 0, or -1 with
 * err (STORE_ECONFIG: refused; else Redis could not be asked).
 */
int store_check_layout(struct store *st, struct error *err);

/*
 * The same check at a program's start: returns -1 after logging why when
 * the configured Redis is a cluster and the prefix has no hash tag; 0
 * otherwise, also when Redis cannot be reached yet (each process checks
 * again before it first uses the series).
 */
int store_startup_check(const struct cfg *cfg);

/*
 * Pick the backend (once per process): the one asked for, or with "auto"
 * the type of existing keys, else the module when the server has it.
 * Returns 0 or -1 with err.
 */
int store_resolve(struct store *st, struct error *err);

/* "redistimeseries", "sortedset", or "auto" while unresolved. */
const char *store_backend_name(const struct store *st);

/*
 * Create both series if missing and write each series' stream pts[series]
 * to it (duplicate policy FIRST, retention), atomically per call; a stream
 * may be empty.  A stream sorted by time lets the module backend tell its
 * duplicates (it counts them as written otherwise).  counts[] gets one
 * entry per series.  Returns 0, or -1 with err filled and nothing written.
 */
int store_add(struct store *st, const struct stream pts[STORE_NSERIES],
    struct store_counts counts[STORE_NSERIES], struct error *err);

/*
 * store_add() of the series in mask (bit 1 << series) only: the others
 * are not touched, not even created.  A series with duplicate policy
 * LAST (st->keep_last) keeps the last value written for a timestamp (a
 * stored one is replaced).  Each series written is recorded in the map
 * <prefix>:series, in the same atomic step where the backend allows (the
 * sorted-set script), else right after its samples.
 */
int store_add_some(struct store *st, const struct stream pts[STORE_NSERIES],
    unsigned mask, struct store_counts counts[STORE_NSERIES],
    struct error *err);

/*
 * The newest timestamp of each series: found[i] = 0 for an empty or
 * missing one.  Returns 0 or -1.
 */
int store_newest_each(struct store *st, int64_t ts[STORE_NSERIES],
    int found[STORE_NSERIES], struct error *err);

/*
 * The newest timestamp across both series in *ts_ms; *found is 0 when
 * neither holds a sample (missing keys are empty series).  Returns 0 or -1.
 */
int store_newest(struct store *st, int64_t *ts_ms, int *found,
    struct error *err);

/*
 * Averages of both series by buckets of bucket_ms (one hour or one day:
 * [k * bucket_ms, (k + 1) * bucket_ms), k counted from the epoch, so UTC
 * hours and days) over [from_ms, to_ms] into out, whose b[] and cap the
 * caller set (see struct store_buckets).  Returns 0, or -1 with err
 * (STORE_ECONFIG when the range holds more buckets than out->cap).
 */
int store_buckets(struct store *st, int64_t from_ms, int64_t to_ms,
    int64_t bucket_ms, struct store_buckets *out, struct error *err);

/*
 * ---- the cached documents: the exact compact JSON bodies, each a string
 * with a TTL at a key the caller names (store_key(); the documents and
 * their keys are src/docs.h's) ----
 */

/* The key <prefix><suffix>; caller frees.  NULL if out of memory. */
char *store_key(const struct store *st, const char *suffix);

/*
 * Fetch the cached body at key and the time it has left, in one round
 * trip.  Returns 1 with *body (caller frees), *len and *ttl_ms (-1: the key
 * has no expiry, -2: it expired between the two), 0 on a miss, -1 with err
 * filled.
 */
int store_doc_get(struct store *st, const char *key, char **body,
    size_t *len, int64_t *ttl_ms, struct error *err);

/*
 * SET key body EX ttl_s: what a refresh writes, over whatever is there.
 * Returns 0 or -1 with err filled.
 */
int store_doc_put(struct store *st, const char *key, const char *body,
    size_t len, long ttl_s, struct error *err);

/*
 * The same with NX: what the API writes after a miss.  Its document may be
 * older than one a refresh wrote meanwhile, so it only fills an empty key
 * and never replaces a document.  Returns 1 written, 0 when the key held
 * one already, or -1 with err filled.
 */
int store_doc_fill(struct store *st, const char *key, const char *body,
    size_t len, long ttl_s, struct error *err);

/* The most documents one store_doc_put_all() writes. */
#define STORE_DOCS_MAX 64

/*
 * store_doc_put() of n documents (at most STORE_DOCS_MAX) in one round
 * trip: body[i] (len[i] bytes) at key[i].  Returns 0, or -1 with err
 * filled (some may be written).
 */
int store_doc_put_all(struct store *st, size_t n, char *const *key,
    char *const *body, const size_t *len, long ttl_s, struct error *err);

/* ---- the refresh lock, <prefix>:refresh:lock ---- */

/* Room for a lock token, with its NUL. */
#define STORE_TOKEN_MAX 33

/*
 * Take the single-flight lock for ttl_ms with a fresh random token
 * (written into token).  Returns 1 taken, 0 held by another refresh, or
 * -1 with err filled.
 */
int store_lock_take(struct store *st, long ttl_ms,
    char token[STORE_TOKEN_MAX], struct error *err);

/*
 * Release the lock if it still holds token (compare-and-delete), so a
 * refresh whose lock expired never frees its successor's.  A failure is
 * logged: it only costs the TTL.
 */
void store_lock_release(struct store *st, const char *token);

/*
 * Extend the lock to ttl_ms from now if it still holds token.  Returns 1
 * extended, 0 when it is no longer ours (expired, maybe taken by another
 * refresh), -1 with err filled.
 */
int store_lock_extend(struct store *st, const char *token, long ttl_ms,
    struct error *err);

/*
 * ---- the refresh's numbers, <prefix>:refresh:stats: a hash that every
 * refresh adds to in its last round trip, whichever process or host ran
 * it, and that GET /metrics reads ----
 */

/* Why a refresh failed, as counted. */
enum store_refresh_cause {
	STORE_REFRESH_UPSTREAM,		/* the feed */
	STORE_REFRESH_REDIS,		/* Redis failed (counted once it answers) */
	STORE_REFRESH_LOCK_BUSY,	/* another refresh held the lock */
	STORE_REFRESH_NOT_REPLICATED,	/* too few replicas acknowledged */
	STORE_REFRESH_INTERNAL,		/* out of memory */
	STORE_REFRESH_PERMISSION,	/* the Redis user lacks a right */
	STORE_REFRESH_NCAUSES
};

/* "upstream", "redis", "lock_busy", "not_replicated", "internal". */
const char *store_refresh_cause_name(enum store_refresh_cause cause);

/*
 * What failed in a refresh, for the public: the stage, never a host or
 * path.  STORE_FAILED_NONE: not recorded as the last failure (another
 * refresh held the lock: nothing failed).
 */
enum store_failed_stage {
	STORE_FAILED_NONE,
	STORE_FAILED_DOWNLOAD,		/* the feed could not be fetched */
	STORE_FAILED_VALIDATION,	/* the feed held no usable sample */
	STORE_FAILED_REDIS,		/* Redis refused, failed or lagged */
	STORE_FAILED_INTERNAL,		/* out of memory */
	STORE_FAILED_NSTAGES
};

/* "download", "validation", "redis", "internal"; "" for none. */
const char *store_failed_stage_name(enum store_failed_stage stage);

/* One refresh as it is recorded. */
struct store_refresh_run {
	int ok;
	unsigned failed_feeds;		/* bit 1 << series: its feed failed */
	enum store_refresh_cause cause;		/* when not ok */
	enum store_failed_stage stage;		/* when not ok */
	int64_t end_ms;				/* wall clock */
	long duration_ms;
	uint64_t received, valid, invalid, expired;	/* when ok */
};

/*
 * The recorded totals; -1 in the last_* fields: no success yet (no
 * failure yet for last_failure_ms, when last_failure_stage is NONE).
 */
struct store_refresh_stats {
	int64_t last_success_ms, last_duration_ms;
	int64_t last_failure_ms;
	enum store_failed_stage last_failure_stage;
	uint64_t successes, received, valid, invalid, expired;
	uint64_t failures[STORE_REFRESH_NCAUSES];
	uint64_t feed_failures[STORE_NSERIES];	/* by the series' feed */
};

/*
 * End a refresh in one round trip: release the lock if it still holds
 * token (NULL when the lock was not taken), then add run to the refresh's
 * numbers (a success sets the last_* fields and adds its sample counts; a
 * failure adds one to its cause and, with a stage, sets last_failure_ms
 * and last_failure_stage).  When that fails (Redis away, the two
 * keys apart during a cluster slot migration) the run is not counted, it
 * says so in the log, and the lock is released alone (or expires by
 * itself).  A field that holds no integer (the hash is input too) starts
 * again from this run.  Sent again after a lost reply, the run may be
 * counted twice.
 */
void store_refresh_end(struct store *st, const char *token,
    const struct store_refresh_run *run);

/*
 * Read the refresh's numbers into out (zero and -1 before the first
 * refresh; a field that holds no integer reads as absent).  Returns 0, or
 * -1 with err filled.
 */
int store_refresh_stats(struct store *st, struct store_refresh_stats *out,
    struct error *err);

/*
 * Wait up to ms for n replicas to acknowledge every write made so far on
 * the store's connection.  Returns how many did, or -1 with err filled
 * (the connection was lost since the writes: their replication is unknown).
 */
long long store_wait_replicas(struct store *st, int n, long ms,
    struct error *err);

/*
 * Changes whenever the store's commands start going over another Redis
 * connection (see conn_generation()): WAIT vouches for the writes since
 * the last change only.
 */
unsigned long store_generation(const struct store *st);

#endif
