/* Unit tests: Redis URL parsing, redaction and scrubbing. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "redis_url.h"
#include "testlib.h"

/* The check "parses TEXT" into u, with the error when it fails. */
static int
parses(const char *text, struct redis_url *u)
{
	struct error err;

	if (CHECK(redis_url_parse(text, u, &err) == 0, "parses %s", text))
		return 1;
	tl_diag("error: %s", err.text);
	return 0;
}

static void
good(const char *text, const char *host, int port, const char *path,
    const char *user, const char *password, int db)
{
	struct redis_url u;

	if (!parses(text, &u))
		return;
	CHECK_STR(u.host, host, "%s: host", text);
	CHECK_INT(u.port, port, "%s: port", text);
	CHECK_STR(u.path, path, "%s: path", text);
	CHECK_STR(u.user, user, "%s: user", text);
	CHECK_STR(u.password, password, "%s: password", text);
	CHECK_INT(u.db, db, "%s: db", text);
	redis_url_free(&u);
}

static void
bad(const char *text, const char *want)
{
	struct redis_url u;
	struct error err;

	CHECK(redis_url_parse(text, &u, &err) == -1,
	    "refuses %s", text);
	CHECK_STR(err.text, want, "%s: message", text);
	CHECK_INT(err.code, REDIS_URL_EINVAL, "%s: code", text);
	CHECK(u.host == NULL && u.password == NULL && u.sentinels == NULL,
	    "%s: nothing left in the struct", text);
}

/* "host:port,host:port" of n nodes, into list (size bytes). */
static void
nodes_list(const struct redis_node *nodes, size_t n, char *list, size_t size)
{
	list[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(list);

		snprintf(list + len, size - len, "%s%s:%d", i ? "," : "",
		    nodes[i].host, nodes[i].port);
	}
}

/* A redis-sentinel:// URL: sentinels "h:p,h:p", master, db, password. */
static void
good_sentinel(const char *text, const char *sentinels, const char *master,
    int db, const char *password)
{
	struct redis_url u;
	char list[512] = "";

	if (!parses(text, &u))
		return;
	nodes_list(u.sentinels, u.nsentinels, list, sizeof(list));
	CHECK_STR(list, sentinels, "%s: sentinels", text);
	CHECK_STR(u.master, master, "%s: master", text);
	CHECK_INT(u.db, db, "%s: db", text);
	CHECK_STR(u.password, password, "%s: password", text);
	CHECK(u.host == NULL && u.path == NULL, "%s: no host, no path", text);
	redis_url_free(&u);
}

/* A redis-sentinel:// URL's two credentials: the data nodes', the sentinels'. */
static void
good_sentinel_auth(const char *text, const char *user, const char *password,
    const char *suser, const char *spassword)
{
	struct redis_url u;

	if (!parses(text, &u))
		return;
	CHECK_STR(u.user, user, "%s: user", text);
	CHECK_STR(u.password, password, "%s: password", text);
	CHECK_STR(u.sentinel_user, suser, "%s: sentinel user", text);
	CHECK_STR(u.sentinel_password, spassword, "%s: sentinel password",
	    text);
	redis_url_free(&u);
}

/* A redis:// URL's seeds, "h:p,h:p"; host and port are the first. */
static void
good_seeds(const char *text, const char *seeds, int db)
{
	struct redis_url u;
	char list[512] = "";

	if (!parses(text, &u))
		return;
	nodes_list(u.seeds, u.nseeds, list, sizeof(list));
	CHECK_STR(list, seeds, "%s: seeds", text);
	CHECK(u.nseeds > 0 && strcmp(u.host, u.seeds[0].host) == 0 &&
	    u.port == u.seeds[0].port, "%s: host and port are the first", text);
	CHECK_INT(u.db, db, "%s: db", text);
	redis_url_free(&u);
}

/* redis_url_scrub() on a copy of text leaves want. */
static void
scrub(const char *text, const char *want)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s", text);
	redis_url_scrub(buf);
	CHECK_STR(buf, want, "scrub %s", text);
}

/*
 * Whatever text holds, secret (its password) is in none of what we print
 * or leave: the parse error, the redacted text, the scrubbed argv.
 */
static void
no_secret(const char *text, const char *secret)
{
	struct redis_url u;
	struct error err = { 0, "" };
	char out[256];

	if (redis_url_parse(text, &u, &err) == 0)
		redis_url_free(&u);
	CHECK(strstr(err.text, secret) == NULL, "%s: the parse error hides "
	    "\"%s\": %s", text, secret, err.text);
	redis_url_redact(text, out, sizeof(out));
	CHECK(strstr(out, secret) == NULL, "%s: redacted: %s", text, out);
	snprintf(out, sizeof(out), "%s", text);
	redis_url_scrub(out);
	CHECK(strstr(out, secret) == NULL, "%s: scrubbed: %s", text, out);
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
	good_sentinel_auth("redis-sentinel://:mpw@:spw@s1/m", NULL, "mpw",
	    NULL, "spw");
	good_sentinel_auth("redis-sentinel://app:mpw@sent:spw@s1,s2/m", "app",
	    "mpw", "sent", "spw");
	good_sentinel_auth("redis-sentinel://@sent:s%40pw@s1/m", NULL, NULL,
	    "sent", "s@pw");
	good_sentinel_auth("redis-sentinel://:p%40w@s1/m", NULL, "p@w", NULL,
	    NULL);
	bad("redis-sentinel://:a@:b@:c@s1/m", "more than two user names and "
	    "passwords (an '@' in a password is written %40): "
	    "\"redis-sentinel://:***@s1/m\"");
	bad("redis-sentinel://:mpw@:@s1/m", "empty sentinel password: "
	    "\"redis-sentinel://:***@s1/m\"");
	bad("redis-sentinel://:mpw@spw@s1/m", "missing ':' before the sentinel "
	    "password (use redis://:password@host or "
	    "redis://user:password@host): \"redis-sentinel://:***@s1/m\"");
	/* outside Sentinel an '@' in the password is the password's */
	good("redis://:a@:b@h", "h", 6379, NULL, NULL, "a@:b", 0);
		good_seeds("redis://10.0.0.1:7000,10.0.0.2,[::1]:7002/0",
	    "10.0.0.1:7000,10.0.0.2:6379,::1:7002", 0);
	good_seeds("redis://:pw@h1:1,h2:2", "h1:1,h2:2", 0);
	good_seeds("redis://h", "h:6379", 0);
	bad("redis://h1,,h2", "missing host: \"redis://h1,,h2\"");
	bad("redis://h1:1,h2:0/0", "bad port (1-65535): \"redis://h1:1,h2:0/0\"");
	bad("redis://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", "more than 16 hosts: "
	    "\"redis://a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q\"");
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
	bad("rediss://h:6380", "TLS (rediss://) is not spoken here: reach the "
	    "server through a TLS tunnel (stunnel4) on a unix:// socket: "
	    "\"rediss://h:6380\"");
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
	bad("redis-sentinel://s1:26379/m?db=1", "a redis-sentinel:// URL "
	    "takes no query string: \"redis-sentinel://s1:26379/m?db=1\"");
	bad("redis-sentinel://s1:26379/m/x", "bad database number: "
	    "\"redis-sentinel://s1:26379/m/x\"");
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

	{
		static const struct {
			const char *url, *want, *what;
		} red[] = {
			{ "redis://user:hunter2@h:1/2", "redis://user:***@h:1/2", "redact user:password" },
			{ "redis://:hunter2@h", "redis://:***@h", "redact :password" },
			{ "redis://h:1/2", "redis://h:1/2", "nothing to redact" },
			{ "unix://:pw@/tmp/s", "unix://:***@/tmp/s", "redact a unix URL" },
			{ "redis-sentinel://:hunter2@a:1,b:2/m", "redis-sentinel://:***@a:1,b:2/m", "redact a sentinel URL" },
			{ "redis-sentinel://u:hunter2@su:sent1nel@a:1/m", "redis-sentinel://u:***@a:1/m", "redact both passwords of a sentinel URL" },
			{ "redis-sentinel://@su:sent1nel@a:1/m", "redis-sentinel://@su:***@a:1/m", "redact the sentinels' password alone" },
			{ "redis://secret@h", "redis://***@h", "redact a password without ':'" },
			{ "redis://u:@h", "redis://u:***@h", "redact an empty password" },
			{ "redis:/:secret@host", "redis:***@host", "a one-slash typo: still redacted" },
			{ "redis:secret@host", "redis:***@host", "no slash at all: still redacted" },
			{ ":secret@localhost", ":***@localhost", "no scheme: still redacted" },
		};

		for (size_t i = 0; i < sizeof(red) / sizeof(red[0]); i++) {
			redis_url_redact(red[i].url, out, sizeof(out));
			CHECK_STR(out, red[i].want, "%s", red[i].what);
		}
	}
	redis_url_redact("redis://u:pw@h", out, 8);
	CHECK_STR(out, "redis:/", "redaction is truncated to fit");

	/* argv scrubbing masks the same span as the redaction, in place */
	scrub("redis://user:hunter2@h:1/2", "redis://user:xxxxxxx@h:1/2");
	scrub("redis://:hunter2@h", "redis://:xxxxxxx@h");
	scrub("redis://h:1/2", "redis://h:1/2");
	scrub("unix://:pw@/tmp/s", "unix://:xx@/tmp/s");
	scrub("redis-sentinel://:hunter2@a:1,b:2/m",
	    "redis-sentinel://:xxxxxxx@a:1,b:2/m");
	scrub("redis://secret@h", "redis://xxxxxx@h");
	scrub("redis-sentinel://:mpw@:spw@a/m", "redis-sentinel://:xxxxxxxx@a/m");
	no_secret("redis-sentinel://:mpw1@:spw2@a/m", "spw2");
	no_secret("redis-sentinel://:mpw1@:spw2@a/m", "mpw1");
	no_secret("redis-sentinel://:mpw1@:spw/2@a/m", "spw/2");
	scrub("redis://u:pa@ss@h/0", "redis://u:xxxxx@h/0");
	scrub("redis://u:@h", "redis://u:@h");
	scrub("not a URL", "not a URL");

	/*
	 * A '/', '?' or '#' in a password ends the authority (RFC 3986): the
	 * URL is refused, and neither the error, the redaction nor the scrub
	 * shows any of the password.
	 */
	no_secret("redis://:abc/def+ghi==@redis.example:6379", "def+ghi");
	no_secret("redis://:abc/def+ghi==@redis.example:6379", "abc/");
	no_secret("unix://:pa/ss@/path", "pa/ss");
	no_secret("redis://u:pa?ss@h", "pa?ss");
	no_secret("redis://:pa#ss@h:6379/0", "pa#ss");
	no_secret("unix://:pa?ss@/path", "pa?ss");
	no_secret("redis-sentinel://:pa/ss@s1/m", "pa/ss");
	no_secret("redis://u:p/w@h@h2/0", "p/w@h");
	no_secret("redis://:secret/x@h:0", "secret");
	bad("redis://:abc/def+ghi==@redis.example:6379", "an '@' after the "
	    "host: percent-encode '/', '?' and '#' in a user name or password "
	    "(%2F, %3F, %23), and '@' elsewhere (%40): "
	    "\"redis://:***@redis.example:6379\"");
	bad("unix://:pa/ss@/path", "an '@' after the host: percent-encode "
	    "'/', '?' and '#' in a user name or password (%2F, %3F, %23), and "
	    "'@' elsewhere (%40): \"unix://:***@/path\"");
	bad("redis://u:pa#ss@h", "an '@' after the host: percent-encode "
	    "'/', '?' and '#' in a user name or password (%2F, %3F, %23), and "
	    "'@' elsewhere (%40): \"redis://u:***@h\"");
	bad("unix:///tmp/a@b.sock", "an '@' after the host: percent-encode "
	    "'/', '?' and '#' in a user name or password (%2F, %3F, %23), and "
	    "'@' elsewhere (%40): \"unix://***@b.sock\"");
	bad("redis://h#x", "a '#' after the host (a '#' in a password is "
	    "written %23): \"redis://h#x\"");
	good("redis://u:pa%2Fss%3F%23@h", "h", 6379, NULL, "u", "pa/ss?#", 0);
	good("unix://:pa%2Fss@/tmp/a%40b.sock", NULL, 6379, "/tmp/a@b.sock",
	    NULL, "pa/ss", 0);
	good("unix:///tmp/a#b.sock", NULL, 6379, "/tmp/a#b.sock", NULL, NULL,
	    0);
	redis_url_redact("redis://:abc/def+ghi==@redis.example:6379", out,
	    sizeof(out));
	CHECK_STR(out, "redis://:***@redis.example:6379",
	    "redact a password holding '/'");
	redis_url_redact("redis://h:1/x@y", out, sizeof(out));
	CHECK_STR(out, "redis://h:***@y", "an '@' in the path: masked from "
	    "the first ':' (more than needed, never less)");
	scrub("unix://:pa/ss@/path", "unix://:xxxxx@/path");
	scrub("redis://u:pa?s#s@h/0", "redis://u:xxxxxx@h/0");

	CHECK_INT(redis_url_parse_port("6379", 4), 6379, "port 6379");
	CHECK_INT(redis_url_parse_port("65535", 5), 65535, "port 65535");
	CHECK_INT(redis_url_parse_port("0", 1), -1, "port 0 refused");
	CHECK_INT(redis_url_parse_port("65536", 5), -1, "port 65536 refused");
	CHECK_INT(redis_url_parse_port("63790", 4), 6379, "only len digits");
	CHECK_INT(redis_url_parse_port("", 0), -1, "empty port refused");
	CHECK_INT(redis_url_parse_port("+1", 2), -1, "a sign is refused");
	return tl_done();
}
