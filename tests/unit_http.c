/*
 * Unit tests of the pure HTTP helpers: query flags and values (as sent and
 * decoded), If-None-Match
 * matching, the route table and the error document.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "testlib.h"

static void handler(struct http_request *req, void *ctx) { (void)req; (void)ctx; }

static const struct http_route routes[] = {
	{ "/is-bitcoin-lit", "GET, HEAD", handler },
	{ "/refresh", "POST", handler },
};

int
main(void)
{
	const struct http_route *r, *other;
	char *big, *body, buf[16];
	size_t len;
	int status;

	/* As nginx's $arg_pretty: '&' only, name in any case, needs '='. */
	CHECK(http_query_flag("pretty=1", "pretty"), "pretty=1");
	CHECK(!http_query_flag("pretty", "pretty"), "a bare pretty is off");
	CHECK(http_query_flag("a=b&pretty=true", "pretty"), "pretty=true later");
	CHECK(http_query_flag("PRETTY=YES", "pretty"), "name and value in any case");
	CHECK(!http_query_flag("x=1;pretty=1", "pretty"),
	    "';' is no separator: pretty is part of x's value");
	CHECK(http_query_flag("pretty=1;x", "pretty") == 0,
	    "pretty=1;x is the value \"1;x\": off");
	CHECK(http_query_flag("pretty=1&pretty=0", "pretty") &&
	    !http_query_flag("pretty=0&pretty=1", "pretty"), "the first one wins");
	CHECK(!http_query_flag("pretty=0", "pretty"), "pretty=0 is off");
	CHECK(!http_query_flag("pretty=", "pretty"), "pretty= is off");
	CHECK(!http_query_flag("prettyish=1", "pretty"), "another name");
	CHECK(!http_query_flag("xpretty=1", "pretty"), "a longer name");
	CHECK(http_query_flag("xpretty=0&pretty=1", "pretty"),
	    "a longer name before the real one");
	CHECK(!http_query_flag("", "pretty"), "empty query");
	CHECK(!http_query_flag(NULL, "pretty"), "no query");
	CHECK(!http_query_flag("&&&;;=&=1", "pretty"), "only separators");
	CHECK(!http_query_flag("pretty=%31", "pretty"),
	    "percent-encoded values are not decoded");
	CHECK(http_query_value("hours=3", "hours", &len) != NULL && len == 1 &&
	    strncmp(http_query_value("hours=3", "hours", &len), "3", 1) == 0,
	    "hours=3");
	CHECK(http_query_value("x=1&Hours=12&hours=3", "hours", &len) != NULL &&
	    len == 2 && strncmp(http_query_value("x=1&Hours=12&hours=3",
	    "hours", &len), "12", 2) == 0, "the first hours= wins, in any case");
	CHECK(http_query_value("x=1;hours=12", "hours", &len) == NULL,
	    "no hours after a ';'");
	CHECK(http_query_value("hours=", "hours", &len) != NULL && len == 0,
	    "hours= is an empty value");
	CHECK(http_query_value("pretty&hours", "hours", &len) == NULL,
	    "a bare hours is no hours");
	CHECK(http_query_value("hoursx=3&xhours=3", "hours", &len) == NULL,
	    "other names are not hours");
	CHECK(http_query_value(NULL, "hours", &len) == NULL &&
	    http_query_value("", "hours", &len) == NULL, "no query: no hours");
	/* Values percent-decoded as a form's are; names compared as sent. */
	CHECK(http_query_text("hours=%33", "hours", buf, sizeof(buf), &len) == 1 &&
	    len == 1 && strcmp(buf, "3") == 0, "hours=%%33 is 3");
	CHECK(http_query_text("hours=3", "hours", buf, sizeof(buf), &len) == 1 &&
	    len == 1 && strcmp(buf, "3") == 0, "hours=3 is 3");
	CHECK(http_query_text("HOURS=%31%32&hours=3", "hours", buf, sizeof(buf),
	    &len) == 1 && strcmp(buf, "12") == 0, "the first, in any case, decoded");
	CHECK(http_query_text("h%6Furs=5&hours=3", "hours", buf, sizeof(buf),
	    &len) == 1 && strcmp(buf, "3") == 0,
	    "an encoded name is another name (as $arg_hours reads it)");
	CHECK(http_query_text("hours=%2b3", "hours", buf, sizeof(buf), &len) == 1 &&
	    strcmp(buf, "+3") == 0, "%%2b is a plus sign, hex in any case");
	CHECK(http_query_text("hours=+3+", "hours", buf, sizeof(buf), &len) == 1 &&
	    strcmp(buf, " 3 ") == 0, "+ is a space");
	CHECK(http_query_text("hours=%2533", "hours", buf, sizeof(buf), &len) ==
	    1 && strcmp(buf, "%33") == 0, "decoded once");
	CHECK(http_query_text("hours=3%00", "hours", buf, sizeof(buf), &len) == 1 &&
	    len == 2 && buf[0] == '3' && buf[1] == '\0', "%%00 kept in the length");
	CHECK(http_query_text("hours=", "hours", buf, sizeof(buf), &len) == 1 &&
	    len == 0 && buf[0] == '\0', "hours= is empty");
	CHECK(http_query_text("x=1", "hours", buf, sizeof(buf), &len) == 0 &&
	    len == 0 && buf[0] == '\0', "none");
	CHECK(http_query_text(NULL, "hours", buf, sizeof(buf), &len) == 0,
	    "no query");
	CHECK(http_query_text("hours=%", "hours", buf, sizeof(buf), &len) == -1,
	    "a lone %%");
	CHECK(http_query_text("hours=%3", "hours", buf, sizeof(buf), &len) == -1,
	    "a short escape");
	CHECK(http_query_text("hours=%3&x=1", "hours", buf, sizeof(buf), &len) ==
	    -1, "a short escape before '&'");
	CHECK(http_query_text("hours=%zz", "hours", buf, sizeof(buf), &len) == -1,
	    "not hexadecimal");
	CHECK(http_query_text("hours=1234567", "hours", buf, 8, &len) == 1 &&
	    len == 7, "seven bytes fit in eight");
	CHECK(http_query_text("hours=12345678", "hours", buf, 8, &len) == -1,
	    "eight do not");
	CHECK(http_query_text("hours=%31%32%33%34%35%36%37", "hours", buf, 8,
	    &len) == 1 && strcmp(buf, "1234567") == 0,
	    "the decoded length counts, not the sent one");
	big = malloc(1 << 20);
	memset(big, 'a', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	memcpy(big + (1 << 20) - 10, "&pretty=1", 9);
	CHECK(http_query_flag(big, "pretty"), "a 1 MiB query string");
	free(big);

	CHECK(http_etag_match("\"abc\"", "\"abc\"", 1), "the same tag");
	CHECK(http_etag_match("W/\"abc\"", "\"abc\"", 1), "weak comparison");
	CHECK(http_etag_match("\"x\", \"abc\"", "\"abc\"", 1), "in a list");
	CHECK(http_etag_match("\"x\",W/\"abc\"", "\"abc\"", 1), "in a tight list");
	CHECK(http_etag_match("*", "\"abc\"", 1), "*");
	CHECK(!http_etag_match("\"abcd\"", "\"abc\"", 1), "another tag");
	CHECK(!http_etag_match("\"ab\"", "\"abc\"", 1), "a prefix");
	/* If-Match: strong comparison */
	CHECK(http_etag_match("\"x\", \"abc\"", "\"abc\"", 0),
	    "strong: the same tag in a list");
	CHECK(!http_etag_match("W/\"abc\"", "\"abc\"", 0),
	    "strong: a weak tag never matches");
	CHECK(http_etag_match("*", "\"abc\"", 0), "strong: *");
	CHECK(!http_etag_match("\"abcd\"", "\"abc\"", 0), "strong: another tag");
	CHECK(!http_etag_match("abc", "\"abc\"", 1), "unquoted");
	CHECK(!http_etag_match("\"abc", "\"abc\"", 1), "unterminated");
	CHECK(!http_etag_match("", "\"abc\"", 1), "empty");
	CHECK(!http_etag_match(NULL, "\"abc\"", 1), "absent");

	status = 0;
	other = NULL;
	r = http_route_find(routes, 2, "HEAD", "/is-bitcoin-lit", &status,
	    &other);
	CHECK(r == &routes[0] && status == 0 && other == NULL,
	    "a route found by its second method");
	r = http_route_find(routes, 2, "GET", "/refresh", &status, &other);
	CHECK(r == NULL && status == 405 && other == &routes[1],
	    "another method: 405 and the route that has the path");
	other = NULL;
	r = http_route_find(routes, 2, "GE", "/is-bitcoin-lit", &status,
	    &other);
	CHECK(r == NULL && status == 405 && other == &routes[0],
	    "a prefix of a method is not that method");
	other = NULL;
	r = http_route_find(routes, 2, "GET", "/is-bitcoin-lit/", &status,
	    &other);
	CHECK(r == NULL && status == 404 && other == NULL,
	    "paths match exactly: 404");
	r = http_route_find(routes, 2, "", "", &status, &other);
	CHECK(r == NULL && status == 404, "no method and no path: 404");

	body = http_error_body("not found", "a \"quoted\"\nline", &len);
	CHECK_STR(body, "{\"error\":\"not found\","
	    "\"detail\":\"a \\\"quoted\\\"\\nline\"}",
	    "the error document, escaped");
	CHECK_INT(len, body != NULL ? strlen(body) : 0, "and its length");
	free(body);
	return tl_done();
}
