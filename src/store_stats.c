/*
 * The refresh's numbers, <prefix>:refresh:stats: a hash of counters and
 * the last success, added to by every refresh in the round trip that
 * releases its lock (so --once processes and refreshes on several hosts
 * all count), and read by GET /metrics.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store_impl.h"

/* The hash's fields. */
#define F_LAST_SUCCESS "last_success_ms"
#define F_LAST_DURATION "last_duration_ms"
#define F_SUCCESSES "successes"
#define F_RECEIVED "samples_received"
#define F_VALID "samples_valid"
#define F_INVALID "samples_invalid"
#define F_EXPIRED "samples_expired"
#define F_FAILURES "failures_"	/* + the cause's name */
/* the refreshes in which a series' feed failed, by the series (its role) */
#define F_FAILURES_PRICE "failures_price"
#define F_FAILURES_SENTIMENT "failures_sentiment"
#define F_LAST_FAILURE "last_failure_ms"
#define F_LAST_FAILURE_STAGE "last_failure_stage"

static const char *const cause_names[STORE_REFRESH_NCAUSES] = {
	"upstream", "redis", "lock_busy", "not_replicated", "internal",
	"permission"
};

/*
 * Release the lock if it holds ARGV[1] ('' when none was taken), then
 * HSET the ARGV[2] field/value pairs that follow and HINCRBY the
 * field/increment pairs after them.  The lock comes first and the numbers
 * never fail the script: a field that holds no integer (or overflows)
 * starts again from the increment.  Returns {released, first error or ''}.
 */
static struct conn_script end_script = { .body =
"local released = 0\n"
"if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) == ARGV[1] then\n"
"  released = redis.call('DEL', KEYS[1])\n"
"end\n"
"local failed = ''\n"
"local function note(r)\n"
"  if type(r) == 'table' and r.err and failed == '' then failed = r.err end\n"
"end\n"
"local n = tonumber(ARGV[2])\n"
"for i = 3, 2 + 2 * n, 2 do\n"
"  note(redis.pcall('HSET', KEYS[2], ARGV[i], ARGV[i + 1]))\n"
"end\n"
"for i = 3 + 2 * n, #ARGV, 2 do\n"
"  local r = redis.pcall('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])\n"
"  if type(r) == 'table' and r.err then\n"
"    note(redis.pcall('HSET', KEYS[2], ARGV[i], ARGV[i + 1]))\n"
"  end\n"
"end\n"
"return {released, failed}\n"
};

static const char *const stage_names[STORE_FAILED_NSTAGES] = {
	"", "download", "validation", "redis", "internal"
};

const char *
store_failed_stage_name(enum store_failed_stage stage)
{
	return (unsigned)stage < STORE_FAILED_NSTAGES ? stage_names[stage] : "";
}

const char *
store_refresh_cause_name(enum store_refresh_cause cause)
{
	return (unsigned)cause < STORE_REFRESH_NCAUSES ? cause_names[cause] :
	    "internal";
}

/* The most arguments end_script gets: token, count, 2 sets, 5 adds. */
#define END_ARGS (2 + 2 * 2 + 2 * 5)

void
store_refresh_end(struct store *st, const char *token,
    const struct store_refresh_run *run)
{
	const char *keys[] = { st->key_lock, st->key_stats };
	const char *args[END_ARGS];
	char num[7][24], field[40];
	int n = 0;
	redisReply *r;

	args[n++] = token != NULL ? token : "";
	if (run->ok) {
		/* 2 fields set, then 5 added to */
		static const char *const added[5] = { F_SUCCESSES,
		    F_RECEIVED, F_VALID, F_INVALID, F_EXPIRED };
		const uint64_t by[5] = { 1, run->received, run->valid,
		    run->invalid, run->expired };

		snprintf(num[0], sizeof(num[0]), "%" PRId64, run->end_ms);
		snprintf(num[1], sizeof(num[1]), "%ld", run->duration_ms);
		args[n++] = "2";
		args[n++] = F_LAST_SUCCESS;
		args[n++] = num[0];
		args[n++] = F_LAST_DURATION;
		args[n++] = num[1];
		for (int i = 0; i < 5; i++) {
			snprintf(num[2 + i], sizeof(num[2 + i]), "%" PRIu64,
			    by[i]);
			args[n++] = added[i];
			args[n++] = num[2 + i];
		}
	} else {
		snprintf(field, sizeof(field), F_FAILURES "%s",
		    store_refresh_cause_name(run->cause));
		if (run->stage != STORE_FAILED_NONE &&
		    (unsigned)run->stage < STORE_FAILED_NSTAGES) {
			snprintf(num[0], sizeof(num[0]), "%" PRId64,
			    run->end_ms);
			args[n++] = "2";
			args[n++] = F_LAST_FAILURE;
			args[n++] = num[0];
			args[n++] = F_LAST_FAILURE_STAGE;
			args[n++] = stage_names[run->stage];
		} else
			args[n++] = "0";
		args[n++] = field;
		args[n++] = "1";
		for (int i = 0; i < STORE_NSERIES; i++)
			if (run->failed_feeds & (1u << i)) {
				args[n++] = i == STORE_PRICE ? F_FAILURES_PRICE :
				    F_FAILURES_SENTIMENT;
				args[n++] = "1";
			}
	}
	r = conn_eval(st->conn, &end_script, 2, keys, n, args, NULL);
	if (r == NULL || r->type == REDIS_REPLY_ERROR) {
		/*
		 * The two keys may be apart for a while (a cluster slot half
		 * migrated: TRYAGAIN): the lock goes first, the numbers of
		 * this run are lost.
		 */
		log_warn("the refresh's numbers were not recorded error=\"%s\"",
		    r ? r->str : conn_error(st->conn));
		if (token != NULL)
			store_lock_release(st, token);
	} else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[1]->type == REDIS_REPLY_STRING && r->element[1]->len > 0)
		log_warn("the refresh's numbers were not all recorded key=%s "
		    "error=\"%s\"", st->key_stats, r->element[1]->str);
	freeReplyObject(r);
}

/* A whole number from 0 to INT64_MAX in decimal digits only, or -1. */
static int64_t
parse_count(const redisReply *r)
{
	uint64_t v = 0;

	if (r->type != REDIS_REPLY_STRING || r->len == 0 || r->len > 19)
		return -1;
	for (size_t i = 0; i < r->len; i++) {
		if (r->str[i] < '0' || r->str[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(r->str[i] - '0');
	}
	return v > (uint64_t)INT64_MAX ? -1 : (int64_t)v;
}

int
store_refresh_stats(struct store *st, struct store_refresh_stats *out,
    struct error *err)
{
	const char *argv[] = { "HGETALL", st->key_stats };
	redisReply *r = conn_command(st->conn, 2, argv, NULL);
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->last_success_ms = out->last_duration_ms = -1;
	out->last_failure_ms = -1;
	out->last_failure_stage = STORE_FAILED_NONE;
	if (store_check_reply(st, r, st->key_stats, err) < 0)
		goto out;
	if (r->type != REDIS_REPLY_ARRAY) {
		error_set(err, STORE_EBACKEND, "HGETALL %s: unexpected reply",
		    st->key_stats);
		goto out;
	}
	for (size_t i = 0; i + 1 < r->elements; i += 2) {
		const redisReply *f = r->element[i], *val = r->element[i + 1];
		int64_t v = parse_count(val);

		if (f->type == REDIS_REPLY_STRING && val->type ==
		    REDIS_REPLY_STRING && strcmp(f->str, F_LAST_FAILURE_STAGE) == 0)
			for (int k = 1; k < STORE_FAILED_NSTAGES; k++)
				if (strcmp(val->str, stage_names[k]) == 0)
					out->last_failure_stage = k;
		if (f->type != REDIS_REPLY_STRING || v < 0)
			continue;
		if (strcmp(f->str, F_LAST_SUCCESS) == 0)
			out->last_success_ms = v;
		else if (strcmp(f->str, F_LAST_FAILURE) == 0)
			out->last_failure_ms = v;
		else if (strcmp(f->str, F_LAST_DURATION) == 0)
			out->last_duration_ms = v;
		else if (strcmp(f->str, F_SUCCESSES) == 0)
			out->successes = (uint64_t)v;
		else if (strcmp(f->str, F_RECEIVED) == 0)
			out->received = (uint64_t)v;
		else if (strcmp(f->str, F_VALID) == 0)
			out->valid = (uint64_t)v;
		else if (strcmp(f->str, F_INVALID) == 0)
			out->invalid = (uint64_t)v;
		else if (strcmp(f->str, F_EXPIRED) == 0)
			out->expired = (uint64_t)v;
		else if (strcmp(f->str, F_FAILURES_PRICE) == 0)
			out->feed_failures[STORE_PRICE] = (uint64_t)v;
		else if (strcmp(f->str, F_FAILURES_SENTIMENT) == 0)
			out->feed_failures[STORE_SENTIMENT] = (uint64_t)v;
		else if (strncmp(f->str, F_FAILURES, strlen(F_FAILURES)) == 0)
			for (int c = 0; c < STORE_REFRESH_NCAUSES; c++)
				if (strcmp(f->str + strlen(F_FAILURES),
				    cause_names[c]) == 0)
					out->failures[c] = (uint64_t)v;
	}
	rc = 0;
out:
	freeReplyObject(r);
	return rc;
}
