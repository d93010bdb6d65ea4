/*
 * The sorted-set backend, for plain Redis or Valkey.  A series is a sorted
 * set scored by timestamp_ms whose members are "<timestamp_ms>:<value>"
 * (the timestamp keeps members unique).  Writes and the hourly aggregation
 * run in Lua, so each is atomic and reads only the window it needs.  The
 * rules copy RedisTimeSeries: samples are taken in order; one older than
 * the series' newest minus the retention is expired; one whose timestamp
 * exists is ignored (policy FIRST); averages are a plain running sum in
 * timestamp order divided by the count, as the module's avg.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "store_impl.h"

/* Both scripts first refuse keys of another type, before any write. */
#define ZSET_TYPE_CHECK \
"for k = 1, #KEYS do\n" \
"  local t = redis.call('TYPE', KEYS[k]).ok\n" \
"  if t ~= 'zset' and t ~= 'none' then\n" \
"    return redis.error_reply('WRONGTYPE key ' .. KEYS[k] .. ' holds a ' .. t .. ', not a sorted-set series')\n" \
"  end\n" \
"end\n"

/* KEYS: the series.  ARGV: retention_ms, then ts, value1, value2, ... */
static struct conn_script zset_add_script = { .body =
"local ret = tonumber(ARGV[1])\n"
ZSET_TYPE_CHECK
"local out = {}\n"
"local stride = #KEYS + 1\n"
"local lo, hi\n"
"for i = 2, #ARGV, stride do\n"
"  local ts = tonumber(ARGV[i])\n"
"  if not lo or ts < lo then lo = ts end\n"
"  if not hi or ts > hi then hi = ts end\n"
"end\n"
"for k = 1, #KEYS do\n"
"  local key = KEYS[k]\n"
"  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')\n"
"  local newest = last[2] and tonumber(last[2])\n"
"  local written, dup, expired = 0, 0, 0\n"
/* the timestamps already stored in the batch's range, read once */
"  local seen = {}\n"
"  if newest and lo and lo <= newest then\n"
"    local have = redis.call('ZRANGEBYSCORE', key, string.format('%.0f', lo), string.format('%.0f', hi), 'WITHSCORES')\n"
"    for j = 2, #have, 2 do seen[tonumber(have[j])] = true end\n"
"  end\n"
"  local batch = {}\n"
"  for i = 2, #ARGV, stride do\n"
"    local ts = tonumber(ARGV[i])\n"
"    if newest and ret > 0 and ts < newest - ret then\n"
"      expired = expired + 1\n"
"    elseif seen[ts] then\n"
"      dup = dup + 1\n"
"    else\n"
"      seen[ts] = true\n"
"      batch[#batch + 1] = ts\n"
"      batch[#batch + 1] = ARGV[i] .. ':' .. ARGV[i + k]\n"
"      written = written + 1\n"
"      if not newest or ts > newest then newest = ts end\n"
"    end\n"
"  end\n"
/* ZADD in slices: unpack() is bounded by Lua's C stack */
"  for j = 1, #batch, 1000 do\n"
"    redis.call('ZADD', key, unpack(batch, j, math.min(j + 999, #batch)))\n"
"  end\n"
"  if newest and ret > 0 then\n"
"    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. string.format('%.0f', newest - ret))\n"
"  end\n"
"  out[k] = {written, dup, expired}\n"
"end\n"
"return out\n"
};

/*
 * KEYS: the series.  ARGV: from_ms, to_ms, bucket_ms.  Returns per series
 * a flat array bucket_start, average ("%.17g", exact), ...
 */
static struct conn_script zset_hourly_script = { .read_only = 1, .body =
"local bucket = tonumber(ARGV[3])\n"
ZSET_TYPE_CHECK
"local out = {}\n"
"for k = 1, #KEYS do\n"
"  local items = redis.call('ZRANGEBYSCORE', KEYS[k], ARGV[1], ARGV[2], 'WITHSCORES')\n"
"  local res, cur, sum, cnt = {}, nil, 0, 0\n"
"  for i = 1, #items, 2 do\n"
"    local m = items[i]\n"
"    local ts = tonumber(items[i + 1])\n"
"    local v = tonumber(string.sub(m, string.find(m, ':', 1, true) + 1))\n"
"    local b = ts - ts % bucket\n"
"    if b ~= cur then\n"
"      if cur then\n"
"        res[#res + 1] = string.format('%.0f', cur)\n"
"        res[#res + 1] = string.format('%.17g', sum / cnt)\n"
"      end\n"
"      cur, sum, cnt = b, 0, 0\n"
"    end\n"
"    sum = sum + v\n"
"    cnt = cnt + 1\n"
"  end\n"
"  if cur then\n"
"    res[#res + 1] = string.format('%.0f', cur)\n"
"    res[#res + 1] = string.format('%.17g', sum / cnt)\n"
"  end\n"
"  out[k] = res\n"
"end\n"
"return out\n"
};

static int
zset_add(struct store *st, const struct store_point *pts, size_t n,
    struct store_counts *counts, struct store_error *err)
{
	size_t nargs = 1 + 3 * n, cell = FMT_DOUBLE_MAX;
	const char **args = NULL;
	char *text = NULL, ret[24];
	redisReply *r = NULL;
	int rc = -1;

	args = malloc(nargs * sizeof(*args));
	text = malloc(3 * n * cell + 1);
	if (args == NULL || text == NULL) {
		store_fail(err, STORE_ENOMEM, "out of memory for %zu points", n);
		goto out;
	}
	snprintf(ret, sizeof(ret), "%" PRId64, st->retention_ms);
	args[0] = ret;
	for (size_t j = 0; j < n; j++) {
		char *ts = text + 3 * j * cell, *p = ts + cell, *s = p + cell;

		snprintf(ts, cell, "%" PRId64, pts[j].ts_ms);
		fmt_double(pts[j].price, p);
		fmt_double(pts[j].sentiment, s);
		args[1 + 3 * j] = ts;
		args[2 + 3 * j] = p;
		args[3 + 3 * j] = s;
	}
	r = conn_eval(st->conn, &zset_add_script, STORE_NSERIES,
	    (const char **)st->key, (int)nargs, args, NULL);
	if (store_check_reply(st, r, NULL, err) < 0)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != STORE_NSERIES)
		goto bad;
	for (int i = 0; i < STORE_NSERIES; i++) {
		const redisReply *e = r->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 3)
			goto bad;
		for (int j = 0; j < 3; j++)
			if (e->element[j]->type != REDIS_REPLY_INTEGER ||
			    e->element[j]->integer < 0)
				goto bad;
		counts[i].written = (size_t)e->element[0]->integer;
		counts[i].duplicate = (size_t)e->element[1]->integer;
		counts[i].expired = (size_t)e->element[2]->integer;
		counts[i].duplicate_known = 1;
	}
	rc = 0;
	goto out;
bad:
	store_fail(err, STORE_EBACKEND, "sorted-set add: unexpected reply");
out:
	freeReplyObject(r);
	free(args);
	free(text);
	return rc;
}

static int
zset_newest(struct store *st, int64_t ts[STORE_NSERIES],
    int found[STORE_NSERIES], struct store_error *err)
{
	const char *z0[] = { "ZRANGE", st->key[0], "-1", "-1", "WITHSCORES" };
	const char *z1[] = { "ZRANGE", st->key[1], "-1", "-1", "WITHSCORES" };
	const char **argvs[] = { z0, z1 };
	const int argcs[] = { 5, 5 };
	redisReply *r[STORE_NSERIES];
	int rc = -1;

	if (conn_pipeline(st->conn, 2, argcs, argvs, NULL, r) < 0)
		return store_fail(err, STORE_EREDIS, "%s",
		    conn_error(st->conn));
	for (int i = 0; i < STORE_NSERIES; i++) {
		if (store_check_reply(st, r[i], st->key[i], err) < 0)
			goto out;
		if (r[i]->type != REDIS_REPLY_ARRAY ||
		    (r[i]->elements != 0 && r[i]->elements != 2) ||
		    (r[i]->elements == 2 &&
		    store_reply_int64(r[i]->element[1], &ts[i]) < 0)) {
			store_fail(err, STORE_EBACKEND, "ZRANGE %s: unexpected "
			    "reply", st->key[i]);
			goto out;
		}
		if (r[i]->elements == 0)
			continue;
		found[i] = 1;
	}
	rc = 0;
out:
	for (int i = 0; i < STORE_NSERIES; i++)
		freeReplyObject(r[i]);
	return rc;
}

static int
zset_hourly(struct store *st, int64_t from_ms, int64_t to_ms,
    struct store_hourly *out, struct store_error *err)
{
	char from[24], to[24], bucket[24];
	const char *args[] = { from, to, bucket };
	redisReply *r;
	int rc = -1;

	snprintf(from, sizeof(from), "%" PRId64, from_ms);
	snprintf(to, sizeof(to), "%" PRId64, to_ms);
	snprintf(bucket, sizeof(bucket), "%" PRId64, FMT_HOUR_MS);
	r = conn_eval(st->conn, &zset_hourly_script, STORE_NSERIES,
	    (const char **)st->key, 3, args, NULL);
	if (store_check_reply(st, r, NULL, err) < 0)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != STORE_NSERIES)
		goto bad;
	for (int i = 0; i < STORE_NSERIES; i++) {
		const redisReply *e = r->element[i];

		if (e->type != REDIS_REPLY_ARRAY || e->elements % 2 != 0 ||
		    e->elements / 2 > STORE_MAX_BUCKETS)
			goto bad;
		for (size_t j = 0; j < e->elements / 2; j++)
			if (store_reply_int64(e->element[2 * j],
			    &out->b[i][j].start_ms) < 0 ||
			    store_reply_double(e->element[2 * j + 1],
			    &out->b[i][j].avg) < 0)
				goto bad;
		out->n[i] = e->elements / 2;
	}
	rc = 0;
	goto out;
bad:
	store_fail(err, STORE_EBACKEND, "sorted-set hourly: unexpected reply");
out:
	freeReplyObject(r);
	return rc;
}

const struct store_ops store_zset_ops = {
	.name = "sortedset",
	.add = zset_add,
	.newest = zset_newest,
	.hourly = zset_hourly,
};
