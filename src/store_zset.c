/*
 * The sorted-set backend, for plain Redis or Valkey.  A series is a sorted
 * set scored by timestamp_ms whose members are "<timestamp_ms>:<value>"
 * (the timestamp keeps members unique).  Writes run in Lua, atomically;
 * the aggregation by bucket (hour or day) reads only the window it needs
 * and averages in C.
 * The rules copy RedisTimeSeries: samples are taken in order; one older
 * than the series' newest minus the retention is expired; one whose
 * timestamp exists is ignored (policy FIRST) or replaces the stored one
 * (policy LAST, st->keep_last); averages are a plain running
 * sum in timestamp order divided by the count, as the module's avg.
 */
#include "config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "store_impl.h"

/*
 * The script first refuses keys of another type, before any write: the
 * series (KEYS[1..nk]) must be sorted sets, the map (KEYS[nk + 1]) a hash.
 */
#define ZSET_TYPE_CHECK \
"for k = 1, #KEYS do\n" \
"  local t = redis.call('TYPE', KEYS[k]).ok\n" \
"  local want = k == #KEYS and 'hash' or 'zset'\n" \
"  if t ~= want and t ~= 'none' then\n" \
"    return redis.error_reply('WRONGTYPE key ' .. KEYS[k] .. ' holds a ' .. t .. ', not a ' .. (k == #KEYS and 'series map' or 'sorted-set series'))\n" \
"  end\n" \
"end\n"

/*
 * KEYS: the series written, then the map <prefix>:series.  ARGV:
 * retention_ms, then per series its number of samples, its policy ('1':
 * keep the last value for a timestamp, '0': the first) and its field in
 * the map, then each series' samples in key order as ts, value, ...
 * Under LAST a stored sample whose value differs is removed and the new
 * one added (replaced); a repeat within the batch: the later one wins.
 * Returns per series {written, duplicate, expired, replaced}.
 */
static struct conn_script zset_add_script = { .body =
"local ret = tonumber(ARGV[1])\n"
ZSET_TYPE_CHECK
"local nk = #KEYS - 1\n"
"local out = {}\n"
"local first = 2 + 3 * nk\n"
"for k = 1, nk do\n"
"  local key = KEYS[k]\n"
"  local last_wins = ARGV[3 * k] == '1'\n"
"  local stop = first + 2 * tonumber(ARGV[3 * k - 1]) - 2\n"
"  local lo, hi\n"
"  for i = first, stop, 2 do\n"
"    local ts = tonumber(ARGV[i])\n"
"    if not lo or ts < lo then lo = ts end\n"
"    if not hi or ts > hi then hi = ts end\n"
"  end\n"
"  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')\n"
"  local newest = last[2] and tonumber(last[2])\n"
"  local written, dup, expired, replaced = 0, 0, 0, 0\n"
/* the members already stored in the batch's range, read once */
"  local seen = {}\n"
"  if newest and lo and lo <= newest then\n"
"    local have = redis.call('ZRANGEBYSCORE', key, string.format('%.0f', lo), string.format('%.0f', hi), 'WITHSCORES')\n"
"    for j = 1, #have, 2 do seen[tonumber(have[j + 1])] = have[j] end\n"
"  end\n"
/* under LAST the batch's last value of each timestamp is the one */
"  local final = {}\n"
"  if last_wins then\n"
"    for i = first, stop, 2 do final[tonumber(ARGV[i])] = i end\n"
"  end\n"
"  local batch, done = {}, {}\n"
"  for i = first, stop, 2 do\n"
"    local ts = tonumber(ARGV[i])\n"
"    local m = ARGV[i] .. ':' .. ARGV[i + 1]\n"
"    if last_wins and final[ts] ~= i then\n"
"      dup = dup + 1\n"
"    elseif newest and ret > 0 and ts < newest - ret then\n"
"      expired = expired + 1\n"
"    elseif done[ts] or (seen[ts] and (not last_wins or seen[ts] == m)) then\n"
"      dup = dup + 1\n"
"    else\n"
"      if seen[ts] then\n"
"        redis.call('ZREMRANGEBYSCORE', key, string.format('%.0f', ts), string.format('%.0f', ts))\n"
"        replaced = replaced + 1\n"
"      else\n"
"        written = written + 1\n"
"      end\n"
"      done[ts] = true\n"
"      batch[#batch + 1] = ts\n"
"      batch[#batch + 1] = m\n"
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
"  redis.call('HSET', KEYS[nk + 1], ARGV[3 * k + 1], key)\n"
"  out[k] = {written, dup, expired, replaced}\n"
"  first = stop + 2\n"
"end\n"
"return out\n"
};


/*
 * The add script over the streams of the series in mask, and their keys
 * into the map: one atomic call.
 */
static int
zset_add(struct store *st, const struct stream pts[STORE_NSERIES],
    unsigned mask, struct store_counts *counts, struct error *err)
{
	size_t n = 0, nargs, cell = FMT_DOUBLE_MAX;
	const char **args = NULL, *keys[STORE_NSERIES + 1];
	char *text = NULL, ret[24], nts[STORE_NSERIES][24], *t;
	int which[STORE_NSERIES], nk = 0;
	redisReply *r = NULL;
	int rc = -1;

	for (int i = 0; i < STORE_NSERIES; i++)
		if (mask & (1u << i)) {
			which[nk] = i;
			keys[nk++] = st->key[i];
			n += pts[i].n;
		}
	keys[nk] = st->key_series;
	/* retention, count, policy and field per series, ts and value */
	if (n > SIZE_MAX / 4)
		return error_set(err, STORE_ENOMEM, "%zu points: too many", n);
	nargs = 1 + 3 * (size_t)nk + 2 * n;
	args = calloc(nargs, sizeof(*args));
	text = calloc(2 * n + 1, cell);
	if (args == NULL || text == NULL) {
		error_set(err, STORE_ENOMEM, "out of memory for %zu points", n);
		goto out;
	}
	snprintf(ret, sizeof(ret), "%" PRId64, st->retention_ms);
	args[0] = ret;
	nargs = 1;
	for (int k = 0; k < nk; k++) {
		int i = which[k];

		snprintf(nts[k], sizeof(nts[k]), "%zu", pts[i].n);
		args[nargs++] = nts[k];
		args[nargs++] = st->keep_last[i] ? "1" : "0";
		args[nargs++] = store_series_name(i);
	}
	t = text;
	for (int k = 0; k < nk; k++) {
		int i = which[k];

		for (size_t j = 0; j < pts[i].n; j++, t += 2 * cell) {
			snprintf(t, cell, "%" PRId64, pts[i].points[j].ts_ms);
			fmt_double(pts[i].points[j].value, t + cell);
			args[nargs++] = t;
			args[nargs++] = t + cell;
		}
	}
	r = conn_eval(st->conn, &zset_add_script, nk + 1, keys, (int)nargs,
	    args, NULL);
	if (store_check_reply(st, r, NULL, err) < 0)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY || r->elements != (size_t)nk)
		goto bad;
	for (int k = 0; k < nk; k++) {
		const redisReply *e = r->element[k];
		struct store_counts *c = &counts[which[k]];

		if (e->type != REDIS_REPLY_ARRAY || e->elements != 4)
			goto bad;
		for (int j = 0; j < 4; j++)
			if (e->element[j]->type != REDIS_REPLY_INTEGER ||
			    e->element[j]->integer < 0)
				goto bad;
		c->written = (size_t)e->element[0]->integer;
		c->duplicate = (size_t)e->element[1]->integer;
		c->expired = (size_t)e->element[2]->integer;
		c->replaced = (size_t)e->element[3]->integer;
		c->duplicate_known = 1;
	}
	rc = 0;
	goto out;
bad:
	error_set(err, STORE_EBACKEND, "sorted-set add: unexpected reply");
out:
	freeReplyObject(r);
	free(args);
	free(text);
	return rc;
}

/*
 * Read the decimal we wrote (fmt_double's shortest form) back to the same
 * double as strtod() would, fast: at most 15 significant digits and a
 * power of ten up to 22 are exact in a double, so one multiplication or
 * division rounds correctly (Clinger's fast path).  Anything else goes to
 * fmt_read_double(), which takes only the decimals we write (no nan, inf,
 * hex or overflow).  Returns 0 with *v, or -1.
 */
static int
zset_value(const char *s, double *v)
{
	static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
	    1e19, 1e20, 1e21, 1e22 };
	const char *p = s;
	uint64_t m = 0;
	int digits = 0, scale = 0, neg = 0;

	if (*p == '-') {
		neg = 1;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++, digits++)
		m = m * 10 + (uint64_t)(*p - '0');
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, digits++, scale++)
			m = m * 10 + (uint64_t)(*p - '0');
	if (*p == '\0' && digits > 0 && digits <= 15 && scale <= 22) {
		*v = (double)m / pow10[scale];
		if (neg)
			*v = -*v;
		return 0;
	}
	return fmt_read_double(s, v);
}

/*
 * Add the samples of one ZRANGEBYSCORE reply (members "<ts>:<value>", in
 * time order) to buckets of bucket_ms: a running sum divided by the
 * count, as the module's avg, so both backends give the same doubles; and
 * the count.
 */
static int
zset_group(const redisReply *r, int64_t bucket_ms, struct store_bucket *b,
    size_t cap, size_t *nb)
{
	int64_t cur = 0;
	double sum = 0;
	size_t cnt = 0;

	*nb = 0;
	for (size_t i = 0; i <= r->elements; i++) {
		int64_t ts = 0, start = 0;
		double v = 0;

		if (i < r->elements) {
			const redisReply *e = r->element[i];
			char *end;

			if (e->type != REDIS_REPLY_STRING)
				return -1;
			/* a timestamp past INT64_MAX is no reply of ours */
			for (end = e->str; *end >= '0' && *end <= '9'; end++) {
				if (ts > (INT64_MAX - (*end - '0')) / 10)
					return -1;
				ts = ts * 10 + (*end - '0');
			}
			if (*end != ':' || end == e->str ||
			    zset_value(end + 1, &v) < 0)
				return -1;
			start = fmt_bucket_floor(ts, bucket_ms);
		}
		if (cnt > 0 && (i == r->elements || start != cur)) {
			if (*nb == cap)
				return -1;
			b[*nb].start_ms = cur;
			b[*nb].count = cnt;
			b[(*nb)++].avg = sum / (double)cnt;
			sum = 0;
			cnt = 0;
		}
		if (i < r->elements) {
			cur = start;
			sum += v;
			cnt++;
		}
	}
	return 0;
}

/*
 * Read only the window, both series in one round trip, and average in C:
 * cheaper than the same loop in Lua, and a read-only command for the ACL.
 */
static int
zset_buckets(struct store *st, int64_t from_ms, int64_t to_ms,
    int64_t bucket_ms, struct store_buckets *out, struct error *err)
{
	char from[24], to[24];
	const char *range[] = { "ZRANGEBYSCORE", "key", from, to };
	redisReply *r[STORE_NSERIES];
	int rc = -1;

	snprintf(from, sizeof(from), "%" PRId64, from_ms);
	snprintf(to, sizeof(to), "%" PRId64, to_ms);
	if (store_per_series(st, 4, range, r, NULL, err) < 0)
		return -1;
	for (int i = 0; i < STORE_NSERIES; i++) {
		if (r[i]->type != REDIS_REPLY_ARRAY ||
		    zset_group(r[i], bucket_ms, out->b[i], out->cap,
		    &out->n[i]) < 0) {
			error_set(err, STORE_EBACKEND, "ZRANGEBYSCORE %s: "
			    "unexpected reply", st->key[i]);
			goto out;
		}
	}
	rc = 0;
out:
	store_replies_free(r, STORE_NSERIES);
	return rc;
}

const struct store_ops store_zset_ops = {
	.id = CFG_TS_SORTEDSET,
	.type_reply = "zset",
	.add = zset_add,
	.newest_argv = { "ZRANGE", "key", "-1", "-1", "WITHSCORES" },
	.newest_argc = 5,
	.newest_ts = 1,		/* [member, ts] */
	.buckets = zset_buckets,
};
