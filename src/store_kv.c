/*
 * The store's plain keys: the cached documents (at the keys src/docs.c
 * names) and the refresh's single-flight lock (<prefix>:refresh:lock).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "store_impl.h"

/* Extend the lock (ARGV[2] ms) only while it holds the caller's token. */
static struct conn_script extend_script = { .body =
"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
"  return redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
"end\n"
"return 0\n"
};

/* Delete the lock only while it holds the caller's token. */
static struct conn_script unlock_script = { .body =
"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
"  return redis.call('DEL', KEYS[1])\n"
"end\n"
"return 0\n"
};

/*
 * A Redis user without PTTL (an ACL written before documents carried
 * their time left): the document is still served, its time left unknown.
 */
static int
pttl_refused(const redisReply *r)
{
	static int warned;

	if (strncmp(r->str, "NOPERM", 6) != 0 || strstr(r->str, "'pttl'") == NULL)
		return 0;
	if (!warned) {
		warned = 1;
		log_warn("the Redis user may not run PTTL: documents go out "
		    "with max-age=0; give it +pttl (redis-acl.example)");
	}
	return 1;
}

int
store_doc_get(struct store *st, const char *key, char **body, size_t *len,
    int64_t *ttl_ms, struct error *err)
{
	const char *get[] = { "GET", key }, *pttl[] = { "PTTL", key };
	const char **argvs[] = { get, pttl };
	const char *keys[] = { key, key };
	const int argcs[] = { 2, 2 };
	redisReply *r[2];
	int rc = -1;

	*body = NULL;
	*len = 0;
	*ttl_ms = -1;
	if (store_pipeline(st, 2, argcs, argvs, keys, r, pttl_refused,
	    err) < 0)
		return -1;
	if (r[0] != NULL && r[0]->type == REDIS_REPLY_NIL) {
		rc = 0;
		goto out;
	}
	if (r[0] == NULL || r[0]->type != REDIS_REPLY_STRING ||
	    (r[1] != NULL && r[1]->type != REDIS_REPLY_INTEGER)) {
		error_set(err, STORE_EBACKEND, "GET %s: unexpected reply", key);
		goto out;
	}
	/* Take hiredis' buffer rather than copying it. */
	*body = r[0]->str;
	*len = r[0]->len;
	r[0]->str = NULL;
	r[0]->type = REDIS_REPLY_NIL;
	*ttl_ms = r[1] != NULL ? r[1]->integer : -1;
	rc = 1;
out:
	store_replies_free(r, 2);
	return rc;
}

/*
 * SET key[i] body[i] EX ttl_s for i < n in one round trip, each with NX
 * when nx.  Returns how many were set (NX: the others held a document),
 * or -1 with err filled.
 */
static int
doc_set(struct store *st, size_t n, const char *const *key,
    const char *const *body, const size_t *len, long ttl_s, int nx, struct error *err)
{
	char ttl[24];
	const char *words[STORE_DOCS_MAX][6];
	const char **argvs[STORE_DOCS_MAX];
	size_t lens[STORE_DOCS_MAX][6];
	const size_t *lensv[STORE_DOCS_MAX];
	int argcs[STORE_DOCS_MAX];
	redisReply *r[STORE_DOCS_MAX];
	size_t tlen;
	int set = 0;

	if (n > STORE_DOCS_MAX)
		return error_set(err, STORE_ECONFIG, "%zu documents", n);
	if (n == 0)
		return 0;
	tlen = (size_t)snprintf(ttl, sizeof(ttl), "%ld", ttl_s);
	for (size_t i = 0; i < n; i++) {
		const char *w[] = { "SET", key[i], body[i], "EX", ttl, "NX" };
		const size_t l[] = { 3, strlen(key[i]), len[i], 2, tlen, 2 };

		memcpy(words[i], w, sizeof(w));
		memcpy(lens[i], l, sizeof(l));
		argvs[i] = words[i];
		lensv[i] = lens[i];
		argcs[i] = nx ? 6 : 5;
	}
	if (conn_pipeline(st->conn, n, argcs, argvs, lensv, r) < 0)
		return error_set(err, STORE_EREDIS, "%s", conn_error(st->conn));
	for (size_t i = 0; i < n; i++) {
		if (store_check_reply(st, r[i], key[i], err) < 0) {
			set = -1;
			break;
		}
		set += r[i]->type == REDIS_REPLY_STATUS;	/* OK, or nil */
	}
	store_replies_free(r, n);
	return set;
}

int
store_doc_put(struct store *st, const char *key, const char *body,
    size_t len, long ttl_s, struct error *err)
{
	return doc_set(st, 1, &key, &body, &len, ttl_s, 0, err) < 0 ? -1 : 0;
}

int
store_doc_fill(struct store *st, const char *key, const char *body,
    size_t len, long ttl_s, struct error *err)
{
	return doc_set(st, 1, &key, &body, &len, ttl_s, 1, err);
}

int
store_doc_put_all(struct store *st, size_t n, char *const *key,
    char *const *body, const size_t *len, long ttl_s, struct error *err)
{
	return doc_set(st, n, (const char *const *)key,
	    (const char *const *)body, len, ttl_s, 0, err) < 0 ? -1 : 0;
}

/*
 * Whether the lock holds token: after a nil from SET NX that the transport
 * sent twice (the first reply lost), the lock may be our own.  Returns 1
 * ours, 0 another's (or gone), -1 with err filled.
 */
static int
lock_holder_is(struct store *st, const char *token, struct error *err)
{
	const char *argv[] = { "GET", st->key_lock };
	redisReply *r = conn_command(st->conn, 2, argv, NULL);
	int rc = -1;

	if (store_check_reply(st, r, st->key_lock, err) == 0)
		rc = r->type == REDIS_REPLY_STRING && strcmp(r->str, token) == 0;
	freeReplyObject(r);
	return rc;
}

int
store_lock_take(struct store *st, long ttl_ms, char token[STORE_TOKEN_MAX],
    struct error *err)
{
	unsigned char rnd[(STORE_TOKEN_MAX - 1) / 2];
	char ttl[24];
	const char *argv[] = { "SET", st->key_lock, token, "NX", "PX", ttl };
	redisReply *r;
	int rc;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return error_set(err, STORE_EBACKEND, "getrandom failed");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
	r = conn_command(st->conn, 6, argv, NULL);
	if (store_check_reply(st, r, st->key_lock, err) < 0) {
		/*
		 * No reply: Redis may have taken the SET all the same.  Free
		 * it by its token, or it would block refreshes for its TTL.
		 */
		if (r == NULL)
			store_lock_release(st, token);
		rc = -1;
	} else if (r->type == REDIS_REPLY_STATUS)
		rc = 1;					/* OK: taken */
	else
		rc = lock_holder_is(st, token, err);	/* nil: whose? */
	freeReplyObject(r);
	return rc;
}

void
store_lock_release(struct store *st, const char *token)
{
	const char *keys[] = { st->key_lock }, *args[] = { token };
	redisReply *r = conn_eval(st->conn, &unlock_script, 1, keys, 1, args,
	    NULL);

	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		log_warn("lock release failed, it expires by itself error=\"%s\"",
		    r ? r->str : conn_error(st->conn));
	freeReplyObject(r);
}

int
store_lock_extend(struct store *st, const char *token, long ttl_ms,
    struct error *err)
{
	const char *keys[] = { st->key_lock };
	char ttl[24];
	const char *args[] = { token, ttl };
	redisReply *r;
	int rc = -1;

	snprintf(ttl, sizeof(ttl), "%ld", ttl_ms);
	r = conn_eval(st->conn, &extend_script, 1, keys, 2, args, NULL);
	if (store_check_reply(st, r, st->key_lock, err) < 0)
		goto out;
	if (r->type != REDIS_REPLY_INTEGER) {
		error_set(err, STORE_EBACKEND, "lock extension: unexpected "
		    "reply");
		goto out;
	}
	rc = r->integer == 1;
out:
	freeReplyObject(r);
	return rc;
}
