/* Unit tests: query flags and If-None-Match matching. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fcgi.h"
#include "testlib.h"

int
main(void)
{
	char *big;

	CHECK(fcgi_query_flag("pretty=1", "pretty"), "pretty=1");
	CHECK(fcgi_query_flag("pretty", "pretty"), "a bare pretty");
	CHECK(fcgi_query_flag("a=b&pretty=true", "pretty"), "pretty=true later");
	CHECK(fcgi_query_flag("pretty=YES;x", "pretty"), "pretty=YES with ;");
	CHECK(!fcgi_query_flag("pretty=0", "pretty"), "pretty=0 is off");
	CHECK(!fcgi_query_flag("pretty=", "pretty"), "pretty= is off");
	CHECK(!fcgi_query_flag("prettyish=1", "pretty"), "another name");
	CHECK(!fcgi_query_flag("xpretty=1", "pretty"), "a longer name");
	CHECK(!fcgi_query_flag("", "pretty"), "empty query");
	CHECK(!fcgi_query_flag(NULL, "pretty"), "no query");
	CHECK(!fcgi_query_flag("&&&;;=&=1", "pretty"), "only separators");
	CHECK(!fcgi_query_flag("pretty=%31", "pretty"),
	    "percent-encoded values are not decoded");
	big = malloc(1 << 20);
	memset(big, 'a', (1 << 20) - 1);
	big[(1 << 20) - 1] = '\0';
	memcpy(big + (1 << 20) - 10, "&pretty=1", 9);
	CHECK(fcgi_query_flag(big, "pretty"), "a 1 MiB query string");
	free(big);

	CHECK(fcgi_etag_match("\"abc\"", "\"abc\""), "the same tag");
	CHECK(fcgi_etag_match("W/\"abc\"", "\"abc\""), "weak comparison");
	CHECK(fcgi_etag_match("\"x\", \"abc\"", "\"abc\""), "in a list");
	CHECK(fcgi_etag_match("\"x\",W/\"abc\"", "\"abc\""), "in a tight list");
	CHECK(fcgi_etag_match("*", "\"abc\""), "*");
	CHECK(!fcgi_etag_match("\"abcd\"", "\"abc\""), "another tag");
	CHECK(!fcgi_etag_match("\"ab\"", "\"abc\""), "a prefix");
	CHECK(!fcgi_etag_match("abc", "\"abc\""), "unquoted");
	CHECK(!fcgi_etag_match("\"abc", "\"abc\""), "unterminated");
	CHECK(!fcgi_etag_match("", "\"abc\""), "empty");
	CHECK(!fcgi_etag_match(NULL, "\"abc\""), "absent");
	return tl_done();
}
