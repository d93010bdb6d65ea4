/* Unit tests: Redis URL parsing and redaction. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "testlib.h"

static void
good(const char *text, const char *host, int port, const char *path,
    const char *user, const char *password, int db)
{
	struct conn_url u;
	char err[512];

	if (!CHECK(conn_url_parse(text, &u, err, sizeof(err)) == 0,
	    "parses %s", text)) {
		tl_diag("error: %s", err);
		return;
	}
	CHECK_STR(u.host, host, "%s: host", text);
	CHECK_INT(u.port, port, "%s: port", text);
	CHECK_STR(u.path, path, "%s: path", text);
	CHECK_STR(u.user, user, "%s: user", text);
	CHECK_STR(u.password, password, "%s: password", text);
	CHECK_INT(u.db, db, "%s: db", text);
	conn_url_free(&u);
}

static void
bad(const char *text, const char *want)
{
	struct conn_url u;
	char err[512];

	CHECK(conn_url_parse(text, &u, err, sizeof(err)) == -1,
	    "refuses %s", text);
	CHECK_STR(err, want, "%s: message", text);
}

/* A redis-sentinel:// URL: sentinels "h:p,h:p", master, db, password. */
static void
good_sentinel(const char *text, const char *sentinels, const char *master,
    int db, const char *password)
{
	struct conn_url u;
	char err[512], list[512] = "";

	if (!CHECK(conn_url_parse(text, &u, err, sizeof(err)) == 0,
	    "parses %s", text)) {
		tl_diag("error: %s", err);
		return;
	}
	for (size_t i = 0; i < u.nsentinels; i++) {
		size_t len = strlen(list);

		snprintf(list + len, sizeof(list) - len, "%s%s:%d", i ? "," : "",
		    u.sentinels[i].host, u.sentinels[i].port);
	}
	CHECK_STR(list, sentinels, "%s: sentinels", text);
	CHECK_STR(u.master, master, "%s: master", text);
	CHECK_INT(u.db, db, "%s: db", text);
	CHECK_STR(u.password, password, "%s: password", text);
	CHECK(u.host == NULL && u.path == NULL, "%s: no host, no path", text);
	conn_url_free(&u);
}

int
main(void)
{
	char out[256];

	good("redis://127.0.0.1:6379/0", "127.0.0.1", 6379, NULL, NULL, NULL, 0);
	good("redis://localhost", "localhost", 6379, NULL, NULL, NULL, 0);
	good("redis://localhost/", "localhost", 6379, NULL, NULL, NULL, 0);
	good("redis://h:7000/15", "h", 7000, NULL, NULL, NULL, 15);
	good("redis://:s3cret@h", "h", 6379, NULL, NULL, "s3cret", 0);
	good("redis://app:p%40ss%3Aw@h:1/2", "h", 1, NULL, "app", "p@ss:w", 2);
	good("redis://u:pa@ss@h", "h", 6379, NULL, "u", "pa@ss", 0);
	good("redis://[::1]:6380/3", "::1", 6380, NULL, NULL, NULL, 3);
	good("redis://[::1]", "::1", 6379, NULL, NULL, NULL, 0);
	good("unix:///run/redis/redis.sock", NULL, 6379, "/run/redis/redis.sock",
	    NULL, NULL, 0);
	good("unix:///tmp/r.sock?db=4", NULL, 6379, "/tmp/r.sock", NULL, NULL, 4);
	good("unix://:pw@/tmp/r.sock", NULL, 6379, "/tmp/r.sock", NULL, "pw", 0);

	good_sentinel("redis-sentinel://10.0.0.1:26379,10.0.0.2:26380/mymaster",
	    "10.0.0.1:26379,10.0.0.2:26380", "mymaster", 0, NULL);
	good_sentinel("redis-sentinel://s1,[::1]:5000,s3/m/2",
	    "s1:26379,::1:5000,s3:26379", "m", 2, NULL);
	good_sentinel("redis-sentinel://:pw@s1/my%2Fm/", "s1:26379", "my/m", 0,
	    "pw");
	bad("redis-sentinel://s1:26379", "missing master name (redis-sentinel://"
	    "host:port,host:port/<master-name>[/db]): \"redis-sentinel://s1:26379\"");
	bad("redis-sentinel://s1//0", "missing master name (redis-sentinel://"
	    "host:port,host:port/<master-name>[/db]): \"redis-sentinel://s1//0\"");
	bad("redis-sentinel://s1,,s2/m", "missing host: "
	    "\"redis-sentinel://s1,,s2/m\"");
	bad("redis-sentinel://s1:0/m", "bad port (1-65535): "
	    "\"redis-sentinel://s1:0/m\"");
	bad("redis-sentinel://s1/m/x", "bad database number: "
	    "\"redis-sentinel://s1/m/x\"");
	bad("redis-sentinel://s1/m?x", "a redis-sentinel:// URL takes no query "
	    "string: \"redis-sentinel://s1/m?x\"");
	bad("redis-sentinel://u:@s1/m", "empty password: "
	    "\"redis-sentinel://u:***@s1/m\"");
	bad("http://h", "not a redis://, redis-sentinel:// or unix:// URL: \"http://h\"");
	bad("", "not a redis://, redis-sentinel:// or unix:// URL: \"\"");
	bad("rediss://h:6380", "TLS (rediss://) is not supported; use redis:// "
	    "on a private network or a unix:// socket: \"rediss://h:6380\"");
	bad("redis://", "missing host: \"redis://\"");
	bad("redis://h:0", "bad port (1-65535): \"redis://h:0\"");
	bad("redis://h:65536", "bad port (1-65535): \"redis://h:65536\"");
	bad("redis://h:x", "bad port (1-65535): \"redis://h:x\"");
	bad("redis://h:", "bad port (1-65535): \"redis://h:\"");
	bad("redis://h/x", "bad database number: \"redis://h/x\"");
	bad("redis://h/-1", "bad database number: \"redis://h/-1\"");
	bad("redis://h/1?x=1", "bad database number: \"redis://h/1?x=1\"");
	bad("redis://h?db=1", "a redis:// URL takes no query string: "
	    "\"redis://h?db=1\"");
	bad("redis://[::1:6379", "unterminated '[' in the host: "
	    "\"redis://[::1:6379\"");
	bad("redis://secret@h", "missing ':' before the password (use "
	    "redis://:password@host or redis://user:password@host): "
	    "\"redis://***@h\"");
	bad("redis://u:@h", "empty password: \"redis://u:***@h\"");
	bad("redis://u:p%4@h", "bad percent-escape in the password: "
	    "\"redis://u:***@h\"");
	bad("redis://u:p%00@h", "bad percent-escape in the password: "
	    "\"redis://u:***@h\"");
	bad("unix://", "missing socket path (unix:///path/to/redis.sock): "
	    "\"unix://\"");
	bad("unix://host/x.sock", "a unix:// URL takes no host; write "
	    "unix:///path/to/redis.sock: \"unix://host/x.sock\"");
	bad("unix:///x.sock?db=a", "bad database number: \"unix:///x.sock?db=a\"");
	bad("unix:///x.sock?foo=1", "unknown query parameter (only ?db=N): "
	    "\"unix:///x.sock?foo=1\"");

	conn_url_redact("redis://user:hunter2@h:1/2", out, sizeof(out));
	CHECK_STR(out, "redis://user:***@h:1/2", "redact user:password");
	conn_url_redact("redis://:hunter2@h", out, sizeof(out));
	CHECK_STR(out, "redis://:***@h", "redact :password");
	conn_url_redact("redis://h:1/2", out, sizeof(out));
	CHECK_STR(out, "redis://h:1/2", "nothing to redact");
	conn_url_redact("unix://:pw@/tmp/s", out, sizeof(out));
	CHECK_STR(out, "unix://:***@/tmp/s", "redact a unix URL");
	conn_url_redact("redis-sentinel://:hunter2@a:1,b:2/m", out, sizeof(out));
	CHECK_STR(out, "redis-sentinel://:***@a:1,b:2/m", "redact a sentinel URL");
	return tl_done();
}
