#!/usr/bin/env bash
# The HTTP edge: what nginx itself answers, through the local stack (its
# http {} as Debian's nginx.conf has it) and through the HTTPS site with a
# throwaway certificate over HTTP/2 (TLS versions, a browser): types and charset, Allow on every 405,
# the /refresh rate limit, CORS, the dashboard's gzip and caching, the microcache key, HSTS on every answer,
# the plain-HTTP redirect, public error bodies, and what the local stack
# script may touch.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli cgi-fcgi openssl

stack_setup edge
unset ISBITCOINLIT_MICROCACHE	# as shipped: on
stack_up
JSON='application/json; charset=utf-8'
ctype() { hdr Content-Type; }

check "the stack's first refresh carried the token and succeeded" \
	grep -q '^refresh: {"status":"ok"' "$T/up.log"

# ---- types and charset under Debian's http {} (mime.types maps .json) ----
st=$(req GET /nope)
check "404 of nginx: JSON in UTF-8 ($st, $(ctype))" test "$st:$(ctype)" = "404:$JSON"
st=$(req POST /refresh --data-binary "@$T/feed.json")
check "413 of nginx: JSON in UTF-8 ($st, $(ctype))" test "$st:$(ctype)" = "413:$JSON"
st=$(req GET /.isbitcoinlit/404.json)
check "the error pages are not reachable from outside ($st)" test "$st:$(ctype)" = "404:$JSON"
st=$(req GET /openapi.json)
check "/openapi.json: JSON in UTF-8" test "$st:$(ctype)" = "200:$JSON"

# ---- Allow on nginx's own 405s; OPTIONS ----
st=$(req TRACE /is-bitcoin-lit)
check "TRACE /is-bitcoin-lit: 405 with Allow ($(hdr Allow))" \
	test "$st:$(hdr Allow):$(ctype)" = "405:GET, HEAD, OPTIONS:$JSON"
st=$(req POST /openapi.json)
check "POST /openapi.json: 405 with Allow ($(hdr Allow))" \
	test "$st:$(hdr Allow)" = "405:GET, HEAD, OPTIONS"
for p in /is-bitcoin-lit /history /healthz; do
	st=$(req DELETE $p)
	check "DELETE $p: 405 with Allow ($(hdr Allow))" \
		test "$st:$(hdr Allow)" = "405:GET, HEAD, OPTIONS"
done
st=$(req PUT /)
check "PUT /: 405 with Allow ($(hdr Allow))" test "$st:$(hdr Allow)" = "405:GET, HEAD"
st=$(req OPTIONS /refresh)
check "OPTIONS /refresh: 405, Allow: POST, no CORS" \
	test "$st:$(hdr Allow):$(hdr Access-Control-Allow-Origin)" = "405:POST:"

# ---- GET /refresh is answered before the rate limit counts it ----
codes=""
for _ in $(seq 8); do codes="$codes $(req GET /refresh)"; done
check "GET /refresh: 405 each time ($codes)" \
	test "$codes" = " 405 405 405 405 405 405 405 405"
check "and with Allow: POST" test "$(hdr Allow)" = POST
st=$(req POST /refresh)
check "then POST /refresh is not rate limited: 200, no CORS header ($st)" \
	test "$st:$(hdr Access-Control-Allow-Origin)" = "200:"
codes=""
for _ in $(seq 6); do codes="$codes $(req POST /refresh -H 'Authorization: Bearer wrong')"; done
check "POSTs over the limit get 429 ($codes)" grep -q 429 <<<"$codes"
check "the 429 has Retry-After and is JSON" test "$(hdr Retry-After):$(ctype)" = "10:$JSON"

# ---- CORS: the public data, not /refresh ----
for p in /is-bitcoin-lit /history /healthz /openapi.json /; do
	req GET "$p" -H 'Origin: https://app.example' >/dev/null
	check "GET $p: readable from any origin, ETag exposed" \
		test "$(hdr Access-Control-Allow-Origin):$(hdr Access-Control-Expose-Headers)" = "*:ETag"
done
for p in /nope /index.html; do
	st=$(req GET $p -H 'Origin: https://app.example')
	check "GET $p: 404, no CORS ($st)" test "$st:$(hdr Access-Control-Allow-Origin)" = "404:"
done
# nginx's locations are case-sensitive (and so is the path of HTTP): another
# spelling of a resource is a 404 without its headers
for p in /IS-BITCOIN-LIT /History /APP.JS; do
	st=$(req GET $p -H 'Origin: https://app.example')
	check "GET $p: 404, no CORS, nor the page's CSP or caching ($st)" \
		test "$st:$(hdr Access-Control-Allow-Origin):$(hdr Cache-Control):$(hdr Content-Security-Policy)" = \
		"404:::default-src 'none'; frame-ancestors 'none'"
done
st=$(req GET "/refresh?$(head -c 20000 /dev/zero | tr '\0' a)" -H 'Origin: https://app.example')
check "a request line too long to read: 414, no CORS ($st)" \
	test "$st:$(hdr Access-Control-Allow-Origin)" = "414:"
st=$(req POST /refresh -H 'Origin: https://app.example')
check "POST /refresh (rate limited): no CORS header on nginx's 429 either ($st)" \
	test "$st:$(hdr Access-Control-Allow-Origin)" = "429:"
for p in /is-bitcoin-lit /history /openapi.json; do
	st=$(req OPTIONS "$p" -H 'Origin: https://app.example' \
	    -H 'Access-Control-Request-Method: GET' \
	    -H 'Access-Control-Request-Headers: if-none-match')
	check "preflight OPTIONS $p: 204 with the CORS answer" test \
	    "$st|$(hdr Allow)|$(hdr Access-Control-Allow-Origin)|$(hdr Access-Control-Allow-Methods)|$(hdr Access-Control-Allow-Headers)|$(hdr Access-Control-Max-Age)" = \
	    "204|GET, HEAD, OPTIONS|*|GET, HEAD|If-None-Match, If-Match, If-Modified-Since, If-Unmodified-Since|86400"
done

# ---- the dashboard's files and /docs' script and stylesheet: gzip beside
# each, their caching ----
# Each of /, /app.js?v=, /app.css?v= as index.html names them: to a client
# that accepts gzip, its .gz (nginx's gzip_static), the same bytes as the
# file once gunzipped; to one that does not, the file itself; both say
# Vary: Accept-Encoding, each with an ETag of its own that revalidates to
# 304.  The page is revalidated every time; the script and the stylesheet,
# named by their content's hash, are kept a year; under any other query
# they are revalidated too.  Swagger UI's are revalidated every time.
WWW=$top_srcdir/www
check "index.html names app.js and app.css by their hash, the CSP its <style> (www/stamp --check)" \
	"$WWW/stamp" --check
js_url=$(grep -o '"/app\.js?v=[0-9a-f]*"' "$WWW/index.html" | tr -d '"')
css_url=$(grep -o '"/app\.css?v=[0-9a-f]*"' "$WWW/index.html" | tr -d '"')
YEAR="public, max-age=31536000, immutable"
for c in "/ index.html no-cache" "$js_url app.js $YEAR" "$css_url app.css $YEAR" \
    "/docs/swagger-ui-bundle.js docs/swagger-ui-bundle.js no-cache" \
    "/docs/swagger-ui.css docs/swagger-ui.css no-cache"; do
	read -r p f cc <<<"$c"
	st=$(req GET "$p" -H 'Accept-Encoding: gzip, deflate, br')
	gz_etag=$(hdr ETag)
	check "GET $p accepting gzip: $f gzip-compressed ($st, $(hdr Content-Encoding), $(wc -c <"$T/b") of $(wc -c <"$WWW/$f") bytes)" \
		test "$st:$(hdr Content-Encoding):$(hdr Vary)" = "200:gzip:Accept-Encoding"
	check "GET $p: once gunzipped, the bytes of www/$f" \
		bash -c "gzip -dc '$T/b' | cmp -s - '$WWW/$f'"
	check "GET $p: Cache-Control: $cc ($(hdr Cache-Control))" test "$(hdr Cache-Control)" = "$cc"
	st=$(req GET "$p")
	id_etag=$(hdr ETag)
	check "GET $p without Accept-Encoding: www/$f as it is ($st, Vary: $(hdr Vary))" \
		bash -c "[ '$st:$(hdr Content-Encoding):$(hdr Vary)' = '200::Accept-Encoding' ] && cmp -s '$T/b' '$WWW/$f'"
	check "GET $p: each representation its own strong ETag ($gz_etag, $id_etag)" \
		bash -c "[[ '$gz_etag' == '\"'*'\"' && '$id_etag' == '\"'*'\"' && '$gz_etag' != '$id_etag' ]]"
	st=$(req GET "$p" -H 'Accept-Encoding: gzip' -H "If-None-Match: $gz_etag")
	check "GET $p accepting gzip, If-None-Match its ETag: 304 ($st, $(wc -c <"$T/b") bytes), the same Cache-Control and Vary" \
		test "$st:$(wc -c <"$T/b"):$(hdr Cache-Control):$(hdr Vary)" = "304:0:$cc:Accept-Encoding"
	st=$(req GET "$p" -H "If-None-Match: $id_etag")
	check "GET $p, If-None-Match the plain file's ETag: 304 ($st)" test "$st" = 304
done
for p in /app.js /app.css "/app.js?v=old" "/app.css?v=1"; do
	req GET "$p" -H 'Accept-Encoding: gzip' >/dev/null
	check "GET $p (not the hash index.html names): revalidated ($(hdr Cache-Control))" \
		test "$(hdr Cache-Control):$(hdr Content-Encoding)" = "no-cache:gzip"
done

# ---- the microcache: on by default, keyed on ?pretty as the responder reads it ----
req GET /is-bitcoin-lit >/dev/null
check "the microcache is on: nginx stored an answer" \
	test -n "$(find "$STATE/nginx/cache" -type f 2>/dev/null | head -n 1)"
# query -> whether the answer is indented; each asked twice through nginx
# (the second within the cache's second, from the cache under its key) and
# once straight from the responder
cases=("pretty=1 1" "PRETTY=TRUE 1" "Pretty=yes 1" "pretty=1&pretty=0 1"
	"x=1&pretty=1 1" "pretty 0" "x=1;pretty=1 0" "pretty=%31 0"
	"pretty=0&pretty=1 0" "pretty=1;x 0" "xpretty=1 0" " 0")
indented() { [ "$(wc -l <"$1")" -gt 1 ]; }
fcgiq() { env -i REQUEST_METHOD=GET DOCUMENT_URI=/is-bitcoin-lit QUERY_STRING="$1" \
	CONTENT_LENGTH=0 cgi-fcgi -bind -connect "$STATE/api.sock" 2>/dev/null |
	tr -d '\r' | sed '1,/^$/d'; }
for c in "${cases[@]}"; do
	q=${c% *} want=${c##* }
	got=""
	for _ in 1 2; do
		req GET "/is-bitcoin-lit?$q" >/dev/null
		if indented "$T/b"; then got="${got}1"; else got="${got}0"; fi
	done
	fcgiq "$q" >"$T/direct"
	if indented "$T/direct"; then got="${got}1"; else got="${got}0"; fi
	check "?$q: indented=$want through nginx, from its cache and from the responder ($got)" \
		test "$got" = "$want$want$want"
done

# /history keyed on ?hours and ?days as the responder reads them: each
# query right after the plain /history (a 200 the microcache keeps), twice
# through nginx and once straight from the responder, the same answer
fcgih() { env -i REQUEST_METHOD=GET DOCUMENT_URI=/history QUERY_STRING="$1" \
	CONTENT_LENGTH=0 cgi-fcgi -bind -connect "$STATE/api.sock" 2>/dev/null |
	tr -d '\r' | sed '1,/^$/d'; }
for q in "days=3" "hours=3" "hours=3&days=2" "days=&hours=2" "x=1&days=31" \
    "days=0" "xdays=3"; do
	req GET /history >/dev/null
	a=$(req GET "/history?$q"); cp "$T/b" "$T/h1"
	b=$(req GET "/history?$q"); cp "$T/b" "$T/h2"
	fcgih "$q" >"$T/direct"
	check "/history?$q: the same answer through nginx, from its cache and from the responder ($a $b)" \
		bash -c "[ $a = $b ] && cmp -s '$T/h1' '$T/direct' && cmp -s '$T/h2' '$T/direct'"
done

# ?hours percent-decoded as a form value (the name as sent, as $arg_hours
# finds it): a spelling of 3 is the answer of hours=3, through nginx (the
# microcache keys it as sent: each spelling its own entry, never another
# value's answer) and from the responder; a value that decodes to
# anything but digits, an escape that is not one, or an overlong value is
# 400, never the answer cached for the digits it resembles
for c in "hours=%33 3" "hours=%33 3" "HOURS=%33&hours=4 3" "hours=%30%33 3" \
    "h%6Furs=4&hours=3 3" "hours=%34 4" "hours=4 4" "hours=%34 4"; do
	q=${c% *} want=${c##* }
	req GET "/history?hours=3" >/dev/null
	a=$(req GET "/history?$q"); cp "$T/b" "$T/h1"
	b=$(req GET "/history?$q"); cp "$T/b" "$T/h2"
	fcgih "$q" >"$T/direct"
	fcgih "hours=$want" >"$T/want$want"
	check "/history?$q: the answer of hours=$want through nginx, from its cache and from the responder ($a $b)" \
		bash -c "[ $a:$b = 200:200 ] && cmp -s '$T/h1' '$T/want$want' && cmp -s '$T/h2' '$T/want$want' && cmp -s '$T/direct' '$T/want$want'"
done
for q in "hours=%2B3" "hours=%2b3" "hours=+3" "hours=3+" "hours=3%00" "hours=%003" \
    "hours=%2533" "hours=%25" "hours=%" "hours=%3" "hours=%3&x=1" "hours=%zz" \
    "hours=0000000000003" "hours=%30%30%30%30%30%30%30%33" "hours=%C2%B3" \
    "hours=%EF%BC%93"; do
	req GET "/history?hours=3" >/dev/null
	a=$(req GET "/history?$q"); cp "$T/b" "$T/h1"
	b=$(req GET "/history?$q")
	check "/history?$q: 400 twice through nginx ($a $b), an error document" \
		bash -c "[ $a:$b = 400:400 ] && grep -q '\"hours must be a whole number' '$T/h1'"
done

# ---- conditions: nginx answers them from the microcache's 200 ----
# A client's If-None-Match is no key of its own: right after a plain GET,
# another tag is answered from the stored answer (Age), its own tag 304.
sleep 2.1
req GET /is-bitcoin-lit >/dev/null
TAG=$(hdr ETag)
cp "$T/b" "$T/plain"
st=$(req GET /is-bitcoin-lit -H 'If-None-Match: "a-tag-of-the-last-refresh"')
check "a new If-None-Match: 200 from the microcache (Age $(hdr Age)), the same body" \
	test "$st:$(hdr Age)" = 200:2 -a -n "$TAG"
check "the same body" cmp -s "$T/b" "$T/plain"
st=$(req GET /is-bitcoin-lit -H "If-None-Match: $TAG")
check "its own tag: 304 from the microcache ($st, Age $(hdr Age))" \
	test "$st:$(hdr Age):$(hdr ETag)" = "304:2:$TAG"
sleep 2.1
st=$(req GET /is-bitcoin-lit -H "If-None-Match: $TAG")
check "its own tag once the microcache's answer is gone: 304, from the pool's 200 ($st)" \
	test "$st:$(hdr ETag)" = "304:$TAG"
st=$(req GET /is-bitcoin-lit -H 'If-None-Match: "other"')
check "then another tag: the 200 nginx stored ($st, Age $(hdr Age))" \
	test "$st:$(hdr Age)" = 200:2 -a "$(wc -c <"$T/b")" = "$(wc -c <"$T/plain")"
st=$(req GET /is-bitcoin-lit -H 'If-Match: "other"')
check "If-Match another tag: 412 ($st)" test "$st" = 412
st=$(req GET /is-bitcoin-lit -H "If-Match: $TAG")
check "If-Match its tag: 200 ($st)" test "$st" = 200

# ---- the responders' JSON ends with a newline, as nginx's own ----
for p in /is-bitcoin-lit /history?hours=3 /healthz /history?hours=0 /is-bitcoin-lit?pretty=1; do
	st=$(req GET "$p")
	check "GET $p ($st): the body ends with one newline, counted in Content-Length" \
		test "$(tail -c 2 "$T/b" | od -An -tx1 | tr -d ' ')" = 7d0a \
		-a "$(hdr Content-Length)" = "$(wc -c <"$T/b")"
done

# ---- compression ----
# gunzip_ok FILE OUT: FILE is gzip, its content in OUT
gunzip_ok() { gzip -dc <"$1" >"$2" 2>/dev/null; }
for p in /is-bitcoin-lit /history; do
	sleep 2.1
	req GET "$p" >/dev/null
	cp "$T/b" "$T/plain"
	TAG=$(hdr ETag)
	st=$(req GET "$p" -H 'Accept-Encoding: gzip')
	check "GET $p, gzip accepted: gzipped, Vary, a weak ETag ($(hdr Content-Encoding) $(hdr Vary) $(hdr ETag))" \
		test "$st|$(hdr Content-Encoding)|$(hdr Vary)|$(hdr ETag)" = "200|gzip|Accept-Encoding|W/$TAG"
	check "the same JSON" bash -c "gzip -dc <'$T/b' | cmp -s - '$T/plain'"
	st=$(req GET "$p" -H 'Accept-Encoding: gzip' -H "If-None-Match: W/$TAG")
	check "If-None-Match with the weak tag, from the microcache: 304 ($st), Vary as on the 200 ($(hdr Vary))" \
		test "$st:$(hdr Vary)" = 304:Accept-Encoding
	sleep 2.1
	st=$(req GET "$p" -H 'Accept-Encoding: gzip' -H "If-None-Match: W/$TAG")
	check "and from the pool's answer: 304 ($st), Vary ($(hdr Vary))" \
		test "$st:$(hdr Vary)" = 304:Accept-Encoding
	st=$(req GET "$p" -H 'Accept-Encoding: gzip' -H "If-Match: W/$TAG")
	check "If-Match with the weak tag: 412, compared strongly ($st)" test "$st" = 412
	# the microcache keeps one answer, whichever encoding asked first
	sleep 2.1
	req GET "$p" -H 'Accept-Encoding: gzip' >/dev/null
	st=$(req GET "$p")
	check "gzip asked first, then without: the plain JSON from the microcache ($st, Age $(hdr Age), $(hdr Content-Encoding))" \
		bash -c "[ '$st:$(hdr Age):$(hdr Content-Encoding)' = 200:2: ] && cmp -s '$T/b' '$T/plain'"
	sleep 2.1
	req GET "$p" >/dev/null
	st=$(req GET "$p" -H 'Accept-Encoding: gzip')
	check "without first, then gzip: gzipped from the microcache ($st, Age $(hdr Age), $(hdr Content-Encoding))" \
		bash -c "[ '$st:$(hdr Age):$(hdr Content-Encoding)' = 200:2:gzip ] && gzip -dc <'$T/b' | cmp -s - '$T/plain'"
done
st=$(req GET /openapi.json)
cp "$T/b" "$T/plain"
TAG=$(hdr ETag)
check "/openapi.json: the document, kept an hour, an ETag ($(hdr Cache-Control), $TAG)" \
	bash -c "[ '$st|$(hdr Cache-Control)' = '200|public, max-age=3600' ] && [ -n '$TAG' ] &&
	    cmp -s '$T/b' '$top_srcdir/nginx/openapi.json'"
st=$(req GET /openapi.json -H "If-None-Match: $TAG")
check "/openapi.json revalidated: 304 ($st)" test "$st" = 304
st=$(req GET /openapi.json -H 'Accept-Encoding: gzip')
GTAG=$(hdr ETag)
check "/openapi.json, gzip accepted: gzipped ($(wc -c <"$T/b") bytes), Vary, kept an hour" \
	bash -c "[ '$st|$(hdr Content-Encoding)|$(hdr Vary)|$(hdr Cache-Control)' = '200|gzip|Accept-Encoding|public, max-age=3600' ] &&
	    gzip -dc <'$T/b' | cmp -s - '$T/plain' && [ $(wc -c <"$T/b") -lt $(( $(wc -c <"$T/plain") / 5 )) ]"
st=$(req GET /openapi.json -H 'Accept-Encoding: gzip' -H "If-None-Match: $GTAG")
check "revalidated gzipped too: 304 ($st)" test "$st" = 304

# ---- a request without Host ----
# raw REQUEST: the last line of the answer to REQUEST sent as it is
raw() {
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	printf '%b' "$1" >&3
	timeout 5 cat <&3 | tail -n 1
	exec 3<&-
}
NOHOST='{"error":"bad request","detail":"the request could not be read: no valid Host header was read, and HTTP/1.1 requires one"}'
st=$(req GET /is-bitcoin-lit -H 'Host:')
check "HTTP/1.1 without Host: nginx's 400 says so ($st $(cat "$T/b"))" \
	test "$st:$(cat "$T/b")" = "400:$NOHOST"
st=$(req GET /is-bitcoin-lit -H 'Host;')
check "HTTP/1.1 with an empty Host: the same ($st)" \
	test "$st:$(cat "$T/b")" = "400:$NOHOST"
st=$(req GET /is-bitcoin-lit --http1.0 -H 'Host:')
check "HTTP/1.0 needs none: 200 ($st)" test "$st" = 200
out=$(raw 'NOT HTTP AT ALL\r\n\r\n')
check "a request line that cannot be read: the plain detail ($out)" test "$out" = \
	'{"error":"bad request","detail":"the request could not be read"}'

# ---- the local stack script ----
if [ "$(id -u)" = 0 ]; then
	users=$(ps -o user= --ppid "$(cat "$STATE/nginx.pid")" | sort -u | tr '\n' ' ')
	check "run as root, nginx's workers are www-data ($users)" test "$users" = "www-data "
	# what parses the network's input is not root: the api pool (master
	# and workers), the refresh responder, the loop that downloads the feed
	users=""
	for c in api refresh every; do
		p=$(cat "$STATE/$c.pid")
		users="$users $(ps -o user= -p "$p" --ppid "$p" | sort -u | tr '\n' ' ')"
	done
	check "run as root, the api pool, the refresh responder and its loop run as isbitcoinlit-local ($users)" \
		test "$(tr ' ' '\n' <<<"$users" | sed '/^$/d' | sort -u)" = isbitcoinlit-local
	# up's first refresh: the responder, as that user, downloaded the feed
	check "up's first refresh, by that user: ok" grep -q '^refresh: {"status":"ok"' "$T/up.log"
	# Redis's socket: the programs' group, no one else
	out=$(runuser -u nobody -- redis-cli -s "$STATE/redis.sock" ping 2>&1)
	check "another user cannot reach the stack's Redis ($out)" \
		test "$out" != PONG
	out=$(runuser -u isbitcoinlit-local -- redis-cli -s "$(cat "$STATE/redis.url" | sed 's|^unix://||')" ping 2>&1)
	check "the programs' user can ($out)" test "$out" = PONG
	# what the stack keeps is for root alone: the logs (the feed's URL,
	# Redis's socket), Redis's configuration and its data
	for f in "$STATE"/api.log "$STATE"/refresh.log "$STATE"/every.log \
	    "$STATE"/redis.log "$STATE"/redis.conf "$STATE"/appendonlydir \
	    "$STATE"/appendonlydir/*; do
		[ -e "$f" ] || continue
		if [ -d "$f" ]; then
			check "run as root, another user cannot list ${f#"$STATE"/} ($(stat -c %a "$f"))" \
				bash -c "! runuser -u nobody -- ls '$f' >/dev/null 2>&1"
		else
			check "run as root, another user cannot read ${f#"$STATE"/} ($(stat -c %a "$f"))" \
				bash -c "! runuser -u nobody -- cat '$f' >/dev/null 2>&1"
			check "run as root, nor the programs' user ${f#"$STATE"/}" \
				bash -c "! runuser -u isbitcoinlit-local -- cat '$f' >/dev/null 2>&1"
		fi
	done
else
	skip "run as root, nginx's workers are www-data" "not root"
fi
check "the state directory it made is 0711" \
	test "$(stat -c %a "$STATE")" = 711
check "the token it was given is not written to the state directory" \
	test ! -e "$STATE/refresh.token"
# a directory that existed is used as it is: its mode stays
mkdir -m 0755 "$T/given"
sleep 300 &
echo $! >"$T/unrelated.pid"
ST2=$T/given
out=$(ISBITCOINLIT_STATE_DIR=$ST2 ISBITCOINLIT_HTTP_PORT=$(free_port) \
    ISBITCOINLIT_REFRESH_TOKEN= "$LOCAL" up 2>&1)
check "a stack in a directory that existed comes up ($(tail -n 1 <<<"$out"))" \
	grep -q '^up: ' <<<"$out"
check "and its mode is left alone" test "$(stat -c %a "$ST2")" = 755
check "without a token, up makes one (0600) and its first refresh uses it" \
	test "$(stat -c %a "$ST2/refresh.token")" = 600 -a \
	"$(grep -c '^refresh: {"status":"ok"' <<<"$out")" = 1
ISBITCOINLIT_STATE_DIR=$ST2 "$LOCAL" down >/dev/null 2>&1
# a stale pid file naming another process: down leaves that process alone
cp "$T/unrelated.pid" "$ST2/api.pid"
cp "$T/unrelated.pid" "$ST2/redis.pid"
ISBITCOINLIT_STATE_DIR=$ST2 "$LOCAL" down >/dev/null 2>&1
check "down does not kill a process named by a stale pid file" \
	kill -0 "$(cat "$T/unrelated.pid")"
# a state directory nginx's workers cannot reach (a clone under /root):
# what they read goes to a directory of its own under /tmp
if [ "$(id -u)" = 0 ]; then
	mkdir -m 0700 "$T/private"
	ST3=$T/private/state
	out=$(ISBITCOINLIT_STATE_DIR=$ST3 ISBITCOINLIT_HTTP_PORT=$(free_port) \
	    "$LOCAL" up 2>&1)
	run=$(cat "$ST3/run.dir" 2>/dev/null)
	check "a state directory www-data cannot reach: up serves all the same ($(tail -n 1 <<<"$out"))" \
	    grep -q '^refresh: {"status":"ok"' <<<"$out"
	check "with the sockets in a directory of its own under /tmp ($run)" \
	    test -S "$run/api.sock" -a "${run#/tmp/isbitcoinlit-local.}" != "$run"
	ISBITCOINLIT_STATE_DIR=$ST3 "$LOCAL" down >/dev/null 2>&1
	check "down removes that directory" test ! -e "$run" -a ! -e "$ST3/run.dir"
	check "and leaves the unreachable parent's mode alone" \
	    test "$(stat -c %a "$T/private")" = 700
else
	skip "a state directory www-data cannot reach" "not root"
fi

# ---- HTTPS with HTTP/2 ----
X=$T/tls
mkdir -p "$X/tmp"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-keyout "$X/key.pem" -out "$X/cert.pem" >/dev/null 2>&1
HP=$(free_port)
RP=$(free_port)
[ "$RP" = "$HP" ] && RP=$((HP + 1))
for f in isbitcoinlit-common.conf isbitcoinlit-https.conf isbitcoinlit-headers.conf \
    isbitcoinlit-locations.conf isbitcoinlit-microcache.conf \
    isbitcoinlit-microcache-zone.conf isbitcoinlit-docs.conf; do
	sed -e "s|@NGINX_DIR@|$X|g" -e "s|@WWW_DIR@|$X/www|g" \
	    -e "s|@HTTPS_LISTEN@|127.0.0.1:$HP|g" -e "s|@HTTPS_PORT@|$HP|g" \
	    -e "s|@HTTP_LISTEN@|127.0.0.1:$RP|g" -e "s|@SERVER_NAME@|localhost|g" \
	    -e "s|@TLS_CERT@|$X/cert.pem|g" -e "s|@TLS_KEY@|$X/key.pem|g" \
	    -e "s|@API_SOCKET@|$STATE/api.sock|g" -e "s|@CACHE_DIR@|$X/cache|g" \
	    -e "s|@REFRESH_SOCKET@|$STATE/refresh.sock|g" \
	    "$top_srcdir/nginx/$f" >"$X/$f"
done
if grep -q '@[A-Z_]*@' "$X"/*.conf; then
	nok "the HTTPS site has every placeholder filled" "$(grep -o '@[A-Z_]*@' "$X"/*.conf | sort -u)"
fi
cp /etc/nginx/fastcgi_params "$top_srcdir/nginx/openapi.json" "$X/"
cp -r "$top_srcdir/www" "$X/www"
chmod -R a+rX "$X"
nginx_conf "$X" "$X/isbitcoinlit-https.conf"
if nginx -q -p "$X" -c "$X/nginx.conf" 2>"$X/start.err"; then
	cp "$X/nginx.pid" "$T/tlsnginx.pid"
	H=https://127.0.0.1:$HP
	hreq() {	# METHOD PATH [curl args]: as req, over HTTP/2 to the HTTPS site
		local m=$1 p=$2
		shift 2
		rm -f "$T/b" "$T/h"
		touch "$T/b"
		curl -sk --http2 -o "$T/b" -D "$T/h" -X "$m" "$@" "$H$p" -w '%{http_code}'
	}
	wait_for 10 curl -sk -o /dev/null "$H/healthz"
	out=$(curl -sk --http2 -o "$T/b" -D "$T/h" -w '%{http_code} %{http_version}' "$H/healthz")
	check "HTTPS with HTTP/2: 200 ($out)" test "$out" = "200 2"
	st=$(hreq GET /)
	check "HTTPS: the dashboard at / with HSTS and its own CSP" test \
	    "$st:$(hdr Strict-Transport-Security):$(hdr Content-Security-Policy | cut -d';' -f2)" = \
	    "200:max-age=63072000: script-src 'self'"
	out=$(curl -sk --tlsv1.2 --tls-max 1.2 -o /dev/null -w '%{http_code}' "$H/healthz")
	check "TLS 1.2 is accepted" test "$out" = 200
	# a client willing to speak TLS 1.1 at any security level
	out=$(echo | openssl s_client -connect "127.0.0.1:$HP" -tls1_1 \
	    -cipher 'DEFAULT:@SECLEVEL=0' 2>&1)
	check "TLS 1.1 is refused by the server" grep -q 'alert protocol version' <<<"$out"
	CHROMIUM=$(command -v chromium || true)
	if [ -n "$CHROMIUM" ]; then
		dom=$(timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
		    --ignore-certificate-errors --disable-background-networking \
		    --disable-component-update --no-first-run --disable-sync \
		    --user-data-dir="$T/chromium" --dump-dom \
		    "$H/is-bitcoin-lit?pretty=1" 2>/dev/null)
		check "headless Chromium shows the JSON over HTTPS" \
		    grep -q '"hourly_average_of_averages": \[' <<<"$dom"
	else
		skip "headless Chromium shows the JSON over HTTPS" "chromium not installed"
	fi
	head -c 5000 /dev/zero >"$T/big"
	st=$(hreq POST /refresh --data-binary "@$T/big")
	check "HTTP/2: a body over the limit gets the JSON 413 ($st, $(ctype))" \
		test "$st:$(ctype)" = "413:$JSON"
	check "with HSTS" test "$(hdr strict-transport-security)" = max-age=63072000
	for p in /is-bitcoin-lit /nope /openapi.json; do
		hreq GET "$p" >/dev/null
		check "HTTPS GET $p: HSTS" test "$(hdr strict-transport-security)" = max-age=63072000
	done
	hreq TRACE /is-bitcoin-lit >/dev/null
	check "HTTPS 405: HSTS" test "$(hdr strict-transport-security)" = max-age=63072000
	# /docs sets its own headers (its own CSP): HSTS and the rest among them
	for p in /docs /docs/swagger-ui-bundle.js /docs/; do
		st=$(hreq GET "$p")
		check "HTTPS GET $p: HSTS, nosniff, DENY, its own CSP ($st)" test \
		    "$(hdr strict-transport-security)|$(hdr x-content-type-options)|$(hdr x-frame-options)|$(hdr content-security-policy | cut -d';' -f1-2)" = \
		    "max-age=63072000|nosniff|DENY|default-src 'none'; script-src 'self'"
	done
	check "HTTPS GET /docs/: a 301 to the path /docs, on the HTTPS site ($st)" \
	    test "$st:$(hdr location)" = 301:/docs
	codes=""
	for _ in $(seq 6); do codes="$codes $(hreq POST /refresh)"; done
	check "HTTPS: POSTs over the limit get 429 ($codes)" grep -q 429 <<<"$codes"
	check "the 429 keeps HSTS and the other headers" test \
	    "$(hdr strict-transport-security)|$(hdr x-content-type-options)|$(hdr retry-after)" = \
	    "max-age=63072000|nosniff|10"
	# a request line over nginx's 8 kB buffers: HTTP/1.1 gets the JSON 414;
	# HTTP/2 ends the connection (GOAWAY), as docs/api.md says
	long=$(head -c 20000 /dev/zero | tr '\0' a)
	st=$(curl -sk --http1.1 -o "$T/b" -D "$T/h" -w '%{http_code}' "$H/is-bitcoin-lit?x=$long")
	check "HTTP/1.1: a 20 kB query gets the JSON 414" test "$st:$(ctype)" = "414:$JSON"
	st=$(curl -sk --http2 -o /dev/null -w '%{http_code}' "$H/is-bitcoin-lit?x=$long")
	check "HTTP/2: a 20 kB query gets no answer (GOAWAY), as documented ($st)" test "$st" = 000
	check "and the site goes on serving" test "$(hreq GET /healthz)" = 200

	# the plain-HTTP server: a JSON 301 to the configured name and port
	st=$(curl -s -o "$T/b" -D "$T/h" -w '%{http_code}' -H 'Host: evil.example' \
	    "http://127.0.0.1:$RP/history?hours=3&pretty=1")
	check "plain HTTP: 301 to the configured name and port, never the Host ($(hdr Location))" \
		test "$st:$(hdr Location)" = "301:https://localhost:$HP/history?hours=3&pretty=1"
	check "the 301 is JSON with the security headers" test \
	    "$(ctype)|$(hdr X-Content-Type-Options)|$(hdr Content-Security-Policy)" = \
	    "$JSON|nosniff|default-src 'none'; frame-ancestors 'none'"
	check "its body is an Error document" body_is_schema Error
else
	nok "nginx starts with the HTTPS site" "$(cat "$X/start.err")"
fi

# ---- public error bodies name no internal address ----
$RCLI del is-bitcoin-lit:cache >/dev/null
$RCLI del is-bitcoin-lit:price:mean:30s >/dev/null
$RCLI set is-bitcoin-lit:price:mean:30s "not a series" >/dev/null
sleep 2.1	# past the microcache's answer (1 to 2 s: nginx counts whole seconds)
st=$(req GET /is-bitcoin-lit)
check "a key of the wrong type: 503 storage error, documented" test \
    "$st:$(grep -o '"error":"[^"]*"' "$T/b")" = '503:"error":"storage error"'
check "its body is an Error document" body_is_schema Error
kill "$(cat "$STATE/redis.pid")"
wait_for 5 sh -c "! $RCLI ping" >/dev/null 2>&1
sleep 2.1
for p in /is-bitcoin-lit /healthz; do
	st=$(req GET $p)
	if [ "$st" = 503 ] && ! grep -Eq "$STATE|sock|unix:|127\.0\.0\.1|connect" "$T/b"; then
		ok "Redis down: $p 503 names no socket or address"
	else
		nok "Redis down: $p 503 names no socket or address" "$st: $(cat "$T/b")"
	fi
done
out=$(env -i REQUEST_METHOD=POST DOCUMENT_URI=/refresh CONTENT_LENGTH=0 \
    HTTP_AUTHORIZATION="Bearer $ISBITCOINLIT_REFRESH_TOKEN" \
    cgi-fcgi -bind -connect "$STATE/refresh.sock" 2>/dev/null | tr -d '\r')
if grep -q '^Status: 503' <<<"$out" && ! grep -Eq "$STATE|sock|unix:|connect" <<<"$out"; then
	ok "Redis down: POST /refresh 503 names no socket or address"
else
	nok "Redis down: POST /refresh 503 names no socket or address" "$out"
fi
check "the log has the specifics" grep -qF "$(sed 's|^unix://||' "$STATE/redis.url")" "$STATE/api.log"

finish
