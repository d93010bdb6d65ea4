/*
 * The reply helpers the store's files share: a reply checked, a number
 * read from one, commands in one round trip, one command per series.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "store_impl.h"

int
store_check_reply(struct store *st, const redisReply *r, const char *key,
    struct error *err)
{
	if (r == NULL)
		return error_set(err, STORE_EREDIS, "%s", conn_error(st->conn));
	if (r->type != REDIS_REPLY_ERROR)
		return 0;
	if (strncmp(r->str, "WRONGTYPE key ", 14) == 0)	/* our scripts' own */
		return error_set(err, STORE_ETYPE, "%s", r->str + 10);
	if (strstr(r->str, "WRONGTYPE") != NULL ||
	    strstr(r->str, "not a TSDB key") != NULL)
		return error_set(err, STORE_ETYPE, "key %s is not a %s series "
		    "(%s)", key ? key : "of the series",
		    cfg_timeseries_name(st->ops != NULL ? st->ops->id :
		    CFG_TS_AUTO), r->str);
	if (strstr(r->str, "unknown command") != NULL)
		return error_set(err, STORE_EBACKEND, "the server has no "
		    "RedisTimeSeries module (%s); load it or set "
		    "ISBITCOINLIT_TIMESERIES=sortedset", r->str);
	/* NOPERM (also inside a script's error): the Redis user's ACL does
	 * not allow it.  Not an outage; the settings must change. */
	if (strstr(r->str, "NOPERM") != NULL)
		return error_set(err, STORE_EPERM, "the Redis user may not do "
		    "this (check its ACL and ISBITCOINLIT_REDIS_URL's user): "
		    "%s%s%s", key ? key : "", key ? ": " : "", r->str);
	/* LOADING, BUSY, OOM, READONLY...: the server refused. */
	return error_set(err, STORE_EREDIS, "%s%s%s", key ? key : "",
	    key ? ": " : "", r->str);
}

int
store_reply_double(const redisReply *r, double *out)
{
	if (r->type == REDIS_REPLY_INTEGER) {
		*out = (double)r->integer;
		return 0;
	}
	if (r->type != REDIS_REPLY_STRING && r->type != REDIS_REPLY_STATUS)
		return -1;
	/* what the module writes, "33885.23" or "1E-1"; never hex or nan */
	if (strlen(r->str) != r->len)
		return -1;
	return fmt_read_double(r->str, out);
}

int
store_reply_int64(const redisReply *r, int64_t *out)
{
	double d;

	/* timestamps and counts: within 2^53 either way, so that the hour
	 * and window arithmetic on them cannot overflow */
	if (r->type == REDIS_REPLY_INTEGER) {
		if (r->integer > STORE_INT_MAX || r->integer < -STORE_INT_MAX)
			return -1;
		*out = r->integer;
		return 0;
	}
	if (store_reply_double(r, &d) < 0 || d != floor(d) ||
	    fabs(d) > (double)STORE_INT_MAX)
		return -1;
	*out = (int64_t)d;
	return 0;
}

void
store_replies_free(redisReply **r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		freeReplyObject(r[i]);
		r[i] = NULL;
	}
}

int
store_pipeline(struct store *st, size_t n, const int *argcs,
    const char **const *argvs, const char *const *keys, redisReply **r,
    store_benign_fn benign, struct error *err)
{
	if (conn_pipeline(st->conn, n, argcs, argvs, NULL, r) < 0)
		return error_set(err, STORE_EREDIS, "%s", conn_error(st->conn));
	for (size_t i = 0; i < n; i++) {
		if (benign != NULL && r[i] != NULL &&
		    r[i]->type == REDIS_REPLY_ERROR && benign(r[i])) {
			freeReplyObject(r[i]);
			r[i] = NULL;
			continue;
		}
		if (store_check_reply(st, r[i], keys[i], err) < 0) {
			store_replies_free(r, n);
			return -1;
		}
	}
	return 0;
}

int
store_per_series(struct store *st, int argc, const char *const *argv,
    redisReply *r[STORE_NSERIES], store_benign_fn benign, struct error *err)
{
	const char *words[STORE_NSERIES][STORE_MAX_ARGC];
	const char **argvs[STORE_NSERIES];
	int argcs[STORE_NSERIES];

	if (argc < 2 || argc > STORE_MAX_ARGC)
		return error_set(err, STORE_EBACKEND, "%s: %d words",
		    argv[0], argc);
	for (int i = 0; i < STORE_NSERIES; i++) {
		memcpy(words[i], argv, (size_t)argc * sizeof(*argv));
		words[i][1] = st->key[i];
		argvs[i] = words[i];
		argcs[i] = argc;
	}
	return store_pipeline(st, STORE_NSERIES, argcs, argvs,
	    (const char *const *)st->key, r, benign, err);
}

