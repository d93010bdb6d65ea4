/*
 * The Redis connection against a real redis-server: unreachable servers,
 * timeouts, transparent reconnects that re-apply AUTH and SELECT, scripts
 * surviving a flushed script cache, the circuit breaker.  Against a fake
 * server that answers MOVED: redirections followed only to nodes the
 * cluster lists, from the seed that answers.  Against listening sockets
 * that never answer: one timeout for a Sentinel lookup, its failure
 * remembered, and the breaker that stops asking.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* What the fake server answers to CLUSTER SHARDS and CLUSTER SLOTS. */
enum fake_mode {
	FAKE_PLAIN,	/* not a cluster: an error */
	FAKE_SHARDS,	/* CLUSTER SHARDS lists the nodes of listed[] */
	FAKE_SLOTS	/* no CLUSTER SHARDS (Redis 6); CLUSTER SLOTS lists them */
};

/* Most arguments of a command the fake server reads. */
#define FAKE_ARGS 8

/* A listening socket on 127.0.0.1 (port into *port), or -1. */
static int
listen_tcp(int *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* A listening unix socket at path, or -1. */
static int
listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 8) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Has someone connected to the listening socket fd (not yet accepted)? */
static int
was_connected(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

/*
 * One RESP command of b[0..n) into argv (each argument cut to 63 bytes).
 * Returns the bytes it took, 0 when incomplete, -1 when not RESP.
 */
static long
fake_parse(const char *b, size_t n, char argv[][64], int *argc)
{
	const char *p = b, *end = b + n, *nl;
	long count, len;

	if ((nl = memchr(p, '\n', n)) == NULL)
		return 0;
	if (*p != '*' || (count = strtol(p + 1, NULL, 10)) < 1 ||
	    count > FAKE_ARGS)
		return -1;
	p = nl + 1;
	for (long i = 0; i < count; i++) {
		if (p >= end || (nl = memchr(p, '\n', (size_t)(end - p))) ==
		    NULL)
			return 0;
		if (*p != '$' || (len = strtol(p + 1, NULL, 10)) < 0)
			return -1;
		p = nl + 1;
		if (end - p < len + 2)
			return 0;
		snprintf(argv[i], 64, "%.*s", (int)(len < 63 ? len : 63), p);
		p += len + 2;
	}
	*argc = (int)count;
	return p - b;
}

/* The fake's answer to CLUSTER sub: listed[] (ports, 0-ended) or an error. */
static void
fake_cluster(char *out, size_t len, enum fake_mode mode, const char *sub,
    const int *listed)
{
	size_t n = 0, o;

	while (listed[n] != 0)
		n++;
	if (mode == FAKE_SHARDS && strcasecmp(sub, "SHARDS") == 0) {
		o = (size_t)snprintf(out, len, "*1\r\n*4\r\n$5\r\nslots\r\n"
		    "*0\r\n$5\r\nnodes\r\n*%zu\r\n", n);
		for (size_t i = 0; i < n && o < len; i++)
			o += (size_t)snprintf(out + o, len - o, "*4\r\n$4\r\n"
			    "port\r\n:%d\r\n$2\r\nip\r\n$9\r\n127.0.0.1\r\n",
			    listed[i]);
	} else if (mode == FAKE_SLOTS && strcasecmp(sub, "SLOTS") == 0) {
		o = (size_t)snprintf(out, len, "*1\r\n*%zu\r\n:0\r\n"
		    ":16383\r\n", n + 2);
		for (size_t i = 0; i < n && o < len; i++)
			o += (size_t)snprintf(out + o, len - o, "*2\r\n$9\r\n"
			    "127.0.0.1\r\n:%d\r\n", listed[i]);
	} else if (mode == FAKE_PLAIN)
		snprintf(out, len, "-ERR This instance has cluster support "
		    "disabled\r\n");
	else
		snprintf(out, len, "-ERR unknown subcommand '%s'\r\n", sub);
}

/*
 * A fake Redis on the listening socket fd, in a child process: AUTH and
 * SELECT answer +OK, CLUSTER as mode says, anything else
 * "-MOVED 1234 127.0.0.1:<to>".  Returns the child's pid (the caller
 * kills it), or -1.
 */
static pid_t
fake_start(int fd, enum fake_mode mode, int to, const int *listed)
{
	pid_t pid = fork();

	if (pid != 0) {
		close(fd);
		return pid;
	}
	for (;;) {
		char buf[8192], argv[FAKE_ARGS][64], out[4096];
		size_t have = 0;
		int cfd = accept(fd, NULL, NULL), argc;
		ssize_t got;
		long used;

		if (cfd < 0)
			_exit(1);
		while ((got = read(cfd, buf + have, sizeof(buf) - have)) > 0) {
			have += (size_t)got;
			while ((used = fake_parse(buf, have, argv, &argc)) > 0) {
				if (strcasecmp(argv[0], "AUTH") == 0 ||
				    strcasecmp(argv[0], "SELECT") == 0)
					snprintf(out, sizeof(out), "+OK\r\n");
				else if (strcasecmp(argv[0], "CLUSTER") == 0 &&
				    argc > 1)
					fake_cluster(out, sizeof(out), mode,
					    argv[1], listed);
				else
					snprintf(out, sizeof(out), "-MOVED 1234 "
					    "127.0.0.1:%d\r\n", to);
				if (write(cfd, out, strlen(out)) < 0)
					break;
				memmove(buf, buf + used, have - (size_t)used);
				have -= (size_t)used;
			}
			if (used < 0 || have == sizeof(buf))
				break;
		}
		close(cfd);
	}
}

/*
 * A command against a fake answering MOVED to a second listener: with
 * follow, the redirection is followed (the listener sees a connection);
 * else the command fails with the refusal and the listener sees nothing.
 * url_fmt has one %s: the fake's address ("127.0.0.1:port" or a socket).
 */
static void
moved_case(const char *desc, const char *url_fmt, const char *sock,
    enum fake_mode mode, int list_self, int list_target, int follow)
{
	int to_port, port = 0, lfd, tfd = listen_tcp(&to_port);
	int listed[3] = { 0, 0, 0 }, k = 0;
	char where[128], url[300];
	struct conn *c;
	redisReply *r;
	pid_t pid;

	lfd = sock != NULL ? listen_unix(sock) : listen_tcp(&port);
	if (tfd < 0 || lfd < 0) {
		CHECK(0, "%s: listening sockets", desc);
		return;
	}
	if (list_self)
		listed[k++] = port;
	if (list_target)
		listed[k++] = to_port;
	if (sock != NULL)
		snprintf(where, sizeof(where), "%s", sock);
	else
		snprintf(where, sizeof(where), "127.0.0.1:%d", port);
	snprintf(url, sizeof(url), url_fmt, where);
	if ((pid = fake_start(lfd, mode, to_port, listed)) < 0) {
		CHECK(0, "%s: fork", desc);
		close(tfd);
		return;
	}
	c = tl_conn_open(url, 300);
	r = tl_cmd(c, "GET", "k", NULL);
	if (follow)
		CHECK(r == NULL && was_connected(tfd), "%s: MOVED followed to "
		    "the node the cluster lists (%s)", desc, conn_error(c));
	else {
		CHECK(r == NULL && strstr(conn_error(c), "answered MOVED to "
		    "127.0.0.1:") != NULL && strstr(conn_error(c), "but it is "
		    "not a cluster node we know: not followed") != NULL,
		    "%s: the command fails: %s", desc, r != NULL ? "a reply" :
		    conn_error(c));
		CHECK(!was_connected(tfd), "%s: nothing connected to the node "
		    "MOVED named (no AUTH sent there)", desc);
	}
	freeReplyObject(r);
	conn_free(c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(tfd);
	if (sock != NULL)
		unlink(sock);
}

/* A free port on 127.0.0.1 that refuses connections (nothing listens). */
static int
closed_port(void)
{
	int port, fd = listen_tcp(&port);

	if (fd < 0)
		return -1;
	close(fd);
	return port;
}

/* Accept and close what waits on the listening socket fd. */
static void
drain(int fd)
{
	while (was_connected(fd)) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			break;
		close(c);
	}
}

/*
 * Several seeds: the first one down, the second answers (a cluster whose
 * MOVED is followed); several seeds that are not a cluster are refused.
 */
static void
seed_cases(void)
{
	char fmt[128];
	int down = closed_port(), port, fd;
	struct conn *c;
	redisReply *r;
	pid_t pid;
	int listed[] = { 0, 0 };

	snprintf(fmt, sizeof(fmt), "redis://app:s3cret@127.0.0.1:%d,%%s", down);
	moved_case("seeds, the first one down", fmt, NULL, FAKE_SHARDS, 1, 1,
	    1);

	if ((fd = listen_tcp(&port)) < 0 ||
	    (pid = fake_start(fd, FAKE_PLAIN, port, listed)) < 0) {
		CHECK(0, "seeds: a fake server");
		return;
	}
	snprintf(fmt, sizeof(fmt), "redis://127.0.0.1:%d,127.0.0.1:%d", down,
	    port);
	c = tl_conn_open(fmt, 300);
	r = tl_cmd(c, "GET", "k", NULL);
	CHECK(r == NULL && strstr(conn_error(c), "the URL names 2 seeds, which "
	    "must be nodes of one Redis Cluster, but 127.0.0.1:") != NULL &&
	    strstr(conn_error(c), "not a cluster") != NULL,
	    "two seeds that are no cluster: refused (%s)", r != NULL ?
	    "a reply" : conn_error(c));
	freeReplyObject(r);
	conn_free(c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * Three sentinels that accept connections and never answer: one lookup
 * asks all three within one timeout (not three), and the failure is
 * remembered: the next command fails at once and asks none.
 */
static void
sentinel_bound_case(void)
{
	int fd[3], port[3];
	char url[300];
	struct timespec t0;
	struct conn *c;
	redisReply *r;
	long ms;

	for (int i = 0; i < 3; i++)
		if ((fd[i] = listen_tcp(&port[i])) < 0) {
			CHECK(0, "sentinels: listening sockets");
			return;
		}
	snprintf(url, sizeof(url), "redis-sentinel://:mpw@:spw@127.0.0.1:%d,"
	    "127.0.0.1:%d,127.0.0.1:%d/lit", port[0], port[1], port[2]);
	c = tl_conn_open(url, 1000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = tl_cmd(c, "GET", "k", NULL);
	ms = ms_since(&t0);
	CHECK(r == NULL && strstr(conn_error(c), "no sentinel told where the "
	    "master is") != NULL, "unanswering sentinels: %s", conn_error(c));
	CHECK(was_connected(fd[0]) && was_connected(fd[1]) &&
	    was_connected(fd[2]), "all three asked within the timeout");
	/*
	 * One timeout (1000 ms) against three (3000 ms) before: far from
	 * both, so that only a lookup that waited on each fails this.
	 */
	CHECK(ms < 2500, "the lookup took one timeout, not three (%ld ms)",
	    ms);
	tl_diag("a lookup of 3 unanswering sentinels, timeout 1000 ms: "
	    "%ld ms", ms);
	for (int i = 0; i < 3; i++)
		drain(fd[i]);
	r = tl_cmd(c, "GET", "k", NULL);
	CHECK(r == NULL && strstr(conn_error(c), "asked again in") != NULL,
	    "the next command fails with the remembered failure: %s",
	    conn_error(c));
	CHECK(!was_connected(fd[0]) && !was_connected(fd[1]) &&
	    !was_connected(fd[2]), "and asks no sentinel");
	CHECK(strstr(conn_error(c), "spw") == NULL &&
	    strstr(conn_error(c), "mpw") == NULL, "no password in the error");
	freeReplyObject(r);
	conn_free(c);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

/*
 * The breaker: a server that accepts and never answers costs one
 * timeout; the next command fails at once without connecting.
 */
static void
breaker_blackhole_case(void)
{
	char dir[] = "/tmp/isbitcoinlit-conn.XXXXXX", sock[128], url[160];
	struct conn *c;
	redisReply *r;
	int fd;

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(sock, sizeof(sock), "%s/hole.sock", dir);
	if ((fd = listen_unix(sock)) < 0) {
		CHECK(0, "breaker: a listening socket");
		rmdir(dir);
		return;
	}
	snprintf(url, sizeof(url), "unix://%s", sock);
	c = tl_conn_open(url, 200);
	conn_set_breaker(c, 60000);
	r = tl_cmd(c, "GET", "k", NULL);
	CHECK(r == NULL && strstr(conn_error(c), "timed out after 200 ms") !=
	    NULL && conn_breaker_failed(c), "a server that never answers: "
	    "one timeout, in the breaker (%s)", conn_error(c));
	drain(fd);
	r = tl_cmd(c, "GET", "k", NULL);
	CHECK(r == NULL && strstr(conn_error(c), "not asked for") != NULL &&
	    conn_breaker_failed(c), "the next command fails in the breaker: "
	    "%s", conn_error(c));
	CHECK(!was_connected(fd), "without connecting");
	conn_free(c);
	close(fd);
	unlink(sock);
	rmdir(dir);
}

/* MOVED and ASK are followed only within a cluster that lists the node. */
static void
redirect_cases(void)
{
	char dir[] = "/tmp/isbitcoinlit-conn.XXXXXX", sock[128];

	if (mkdtemp(dir) == NULL) {
		CHECK(0, "mkdtemp");
		return;
	}
	snprintf(sock, sizeof(sock), "%s/fake.sock", dir);
	moved_case("unix:// with a password", "unix://app:s3cret@%s", sock,
	    FAKE_SHARDS, 1, 1, 0);
	moved_case("redis:// to a server that is not a cluster",
	    "redis://app:s3cret@%s", NULL, FAKE_PLAIN, 1, 1, 0);
	moved_case("a cluster that does not list the node",
	    "redis://app:s3cret@%s", NULL, FAKE_SHARDS, 1, 0, 0);
	moved_case("Redis 6: CLUSTER SLOTS does not list it",
	    "redis://app:s3cret@%s", NULL, FAKE_SLOTS, 1, 0, 0);
	moved_case("a cluster that lists the node", "redis://app:s3cret@%s",
	    NULL, FAKE_SHARDS, 1, 1, 1);
	moved_case("Redis 6: CLUSTER SLOTS lists it", "redis://app:s3cret@%s",
	    NULL, FAKE_SLOTS, 0, 1, 1);
	rmdir(dir);
}

int
main(void)
{
	struct tl_redis srv;
	struct conn *c;
	char url[300];
	struct timespec t0;
	redisReply *r;

	redirect_cases();
	seed_cases();
	sentinel_bound_case();
	breaker_blackhole_case();

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

	/* the breaker: after the server is back, asked again after retry_ms */
	snprintf(url, sizeof(url), "unix://:hunter2@%s", srv.sock);
	c = tl_conn_open(url, 1000);
	conn_set_breaker(c, 2000);
	CHECK(is_status(tl_cmd(c, "PING", NULL, NULL), "PONG") &&
	    !conn_breaker_failed(c), "breaker: a server that answers");
	tl_redis_kill(&srv, 1);
	r = tl_cmd(c, "PING", NULL, NULL);
	CHECK(r == NULL && conn_breaker_failed(c), "breaker: the server "
	    "gone (%s)", conn_error(c));
	tl_redis_restart(&srv, NULL, "--requirepass", "hunter2",
	    "--enable-debug-command", "yes", "--user", "app", "on", ">apppw",
	    "~*", "&*", "+@all", (char *)NULL);
	r = tl_cmd(c, "PING", NULL, NULL);
	CHECK(r == NULL && strstr(conn_error(c), "not asked for") != NULL,
	    "breaker: back, but not asked before the retry time (%s)",
	    conn_error(c));
	tl_msleep(2100);
	CHECK(is_status(tl_cmd(c, "PING", NULL, NULL), "PONG") &&
	    !conn_breaker_failed(c), "breaker: asked again after it");
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
