/*
 * The Redis connection against a real redis-server: unreachable servers,
 * timeouts, transparent reconnects that re-apply AUTH and SELECT, scripts
 * surviving a flushed script cache.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn.h"
#include "testlib.h"

/* The reply of CLIENT INFO contains want. */
static int
client_info_has(struct conn *c, const char *want)
{
	redisReply *r = tl_cmd(c, "CLIENT", "INFO", NULL);
	int ok = r != NULL && r->type == REDIS_REPLY_STRING &&
	    strstr(r->str, want) != NULL;

	if (!ok)
		tl_diag("CLIENT INFO: %s", r == NULL ? conn_error(c) :
		    r->str ? r->str : "?");
	freeReplyObject(r);
	return ok;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static int
is_status(redisReply *r, const char *s)
{
	int ok = r != NULL && (r->type == REDIS_REPLY_STATUS ||
	    r->type == REDIS_REPLY_STRING) && strcmp(r->str, s) == 0;

	freeReplyObject(r);
	return ok;
}

int
main(void)
{
	struct tl_redis srv;
	struct conn *c;
	char url[300];
	struct timespec t0;
	redisReply *r;

	/* nothing listening */
	c = tl_conn_open("unix:///nonexistent/isbitcoinlit.sock", 200);
	r = tl_cmd(c, "PING", NULL, NULL);
	CHECK(r == NULL && strstr(conn_error(c), "connect "
	    "unix:/nonexistent/isbitcoinlit.sock") != NULL,
	    "unreachable server: %s", conn_error(c));
	conn_free(c);

	if (tl_redis_start(&srv, NULL, "--requirepass", "hunter2",
	    "--enable-debug-command", "yes", "--user", "app", "on", ">apppw",
	    "~*", "&*", "+@all", (char *)NULL) < 0) {
		CHECK(0, "start redis-server");
		return tl_done();
	}

	/* AUTH and SELECT, applied again after the server restarts */
	snprintf(url, sizeof(url), "unix://:hunter2@%s?db=3", srv.sock);
	c = tl_conn_open(url, 1000);
	CHECK(client_info_has(c, " db=3 "), "SELECT applied");
	CHECK(client_info_has(c, " user=default "), "AUTH with a password");
	tl_redis_kill(&srv, 1);
	r = tl_cmd(c, "PING", NULL, NULL);
	CHECK(r == NULL, "server down: no reply (%s)", conn_error(c));
	r = tl_cmd(c, "PING", NULL, NULL);
	CHECK(r == NULL, "still down: no reply, no crash");
	CHECK(tl_redis_restart(&srv, NULL, "--requirepass", "hunter2",
	    "--enable-debug-command", "yes", (char *)NULL) == 0,
	    "server restarted");
	CHECK(client_info_has(c, " db=3 "),
	    "after the restart: reconnected with SELECT");
	tl_redis_kill(&srv, 0);
	tl_redis_restart(&srv, NULL, "--requirepass", "hunter2",
	    "--enable-debug-command", "yes", "--user", "app", "on", ">apppw",
	    "~*", "&*", "+@all", (char *)NULL);
	CHECK(is_status(tl_cmd(c, "PING", NULL, NULL), "PONG"),
	    "a stale connection is replaced transparently");
	conn_free(c);

	/* ACL user */
	snprintf(url, sizeof(url), "unix://app:apppw@%s", srv.sock);
	c = tl_conn_open(url, 1000);
	CHECK(client_info_has(c, " user=app "), "AUTH with user and password");
	conn_free(c);

	/* wrong password: clear error, no password in it */
	snprintf(url, sizeof(url), "unix://:wrong-secret@%s", srv.sock);
	c = tl_conn_open(url, 1000);
	r = tl_cmd(c, "PING", NULL, NULL);
	CHECK(r == NULL && strstr(conn_error(c), "AUTH") != NULL &&
	    strstr(conn_error(c), "WRONGPASS") != NULL &&
	    strstr(conn_error(c), "wrong-secret") == NULL,
	    "bad password: %s", conn_error(c));
	conn_free(c);

	/* a server slower than the timeout */
	snprintf(url, sizeof(url), "unix://:hunter2@%s", srv.sock);
	c = tl_conn_open(url, 200);
	CHECK(is_status(tl_cmd(c, "PING", NULL, NULL), "PONG"), "connected");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = tl_cmd(c, "DEBUG", "SLEEP", "6");
	CHECK(r == NULL && strstr(conn_error(c), "timed out after 200 ms"),
	    "slow server: %s", conn_error(c));
	/*
	 * Far from both the timeout (200 ms) and the server's answer (6 s):
	 * only a command that waited for the server fails this.
	 */
	CHECK(ms_since(&t0) < 4000, "the command gave up before the server "
	    "answered");
	{	/* until the server is awake again, at most 15 s */
		int pong = 0;

		for (int i = 0; i < 75 && !pong; i++) {
			pong = is_status(tl_cmd(c, "PING", NULL, NULL), "PONG");
			if (!pong)
				tl_msleep(200);
		}
		CHECK(pong, "after the server woke up, the next command works");
	}
	r = tl_cmd(c, "INFO", "commandstats", NULL);
	CHECK(r != NULL && r->type == REDIS_REPLY_STRING &&
	    strstr(r->str, "cmdstat_debug:calls=1,") != NULL,
	    "a timed-out command is not sent again");
	freeReplyObject(r);

	/* scripts: EVALSHA, reloaded after SCRIPT FLUSH */
	{
		struct conn_script s = { .body = "return ARGV[1] .. KEYS[1]" };
		const char *keys[] = { "k" }, *args[] = { "v" };

		CHECK(is_status(conn_eval(c, &s, 1, keys, 1, args, NULL), "vk"),
		    "script runs");
		CHECK(strlen(s.sha) == 40, "its SHA1 is kept");
		freeReplyObject(tl_cmd(c, "SCRIPT", "FLUSH", NULL));
		CHECK(is_status(conn_eval(c, &s, 1, keys, 1, args, NULL), "vk"),
		    "script runs again after SCRIPT FLUSH");
		r = tl_cmd(c, "INFO", "commandstats", NULL);
		CHECK(r != NULL && r->type == REDIS_REPLY_STRING &&
		    strstr(r->str, "cmdstat_eval:calls=1,") != NULL,
		    "after NOSCRIPT the body went with EVAL, once");
		freeReplyObject(r);
		CHECK(is_status(conn_eval(c, &s, 1, keys, 1, args, NULL), "vk"),
		    "and EVALSHA finds it cached again");
	}

	/* WAIT: a standalone server has no replica to acknowledge */
	CHECK(conn_wait_replicas(c, 1, 50) == 0, "WAIT 1: no replica (%s)",
	    conn_error(c));
	CHECK(conn_wait_replicas(c, 0, 50) == 0, "WAIT 0 answers at once");
	conn_reset(c);
	CHECK(conn_wait_replicas(c, 1, 50) == -1 &&
	    strstr(conn_error(c), "lost before WAIT") != NULL,
	    "no WAIT on a new connection: %s", conn_error(c));

	/* pipelines */
	{
		const char *a0[] = { "SET", "p", "1" }, *a1[] = { "INCR", "p" };
		const char **argvs[] = { a0, a1 };
		const int argcs[] = { 3, 2 };
		redisReply *rs[2];

		CHECK(conn_pipeline(c, 2, argcs, argvs, NULL, rs) == 0 &&
		    rs[1]->type == REDIS_REPLY_INTEGER && rs[1]->integer == 2,
		    "pipeline of two commands");
		freeReplyObject(rs[0]);
		freeReplyObject(rs[1]);
	}
	conn_free(c);
	tl_redis_stop(&srv);
	return tl_done();
}
