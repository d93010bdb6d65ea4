#!/usr/bin/env bash
# nginx/openapi.json is the whole truth of what the shipped site answers.
# redocly lint (the recommended rules, tests/openapi/redocly.yaml) and
# Spectral (its spectral:oas ruleset, tests/openapi/spectral.yaml) find no
# error, warning or hint in it; then the local stack as shipped (the
# microcache on) is made to give every answer the document lists that can
# be provoked here, and tests/openapi/validate.js checks each against the
# document with ajv: its status documented for its path and method (an
# operation, or a method the path answers 405 only, listed in the path's
# x-other-methods, or a path x-other-paths lists: /docs/, any other), the
# documented headers present and matching their schemas, no header the
# document names on other answers only (CORS on a 404, say), the body
# matching the schema of its content type.  A documented answer that is
# neither provoked nor in the commented list below fails, as does an
# answer the document does not list.  The tools are pinned by
# tests/openapi/package-lock.json and installed with npm ci into a cache
# outside the sources; the Swagger UI files of www/docs are compared with
# swagger-ui-dist's, pinned there too.  Skipped only when Node or npm, or
# the tools, cannot be installed.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

# The documented answers this test does not provoke, and why.  An entry
# that is provoked after all, or that the document does not list, fails.
NOT_PROVOKED='
# the responders answer 500 "internal error" only when out of memory
# (the 500 of /is-bitcoin-lit, /history and POST /refresh is provoked as
# "redis permission denied")
GET /healthz 500
HEAD /healthz 500
GET /metrics 500
HEAD /metrics 500
# nginx waits 120 s for a refresh before its 504
POST /refresh 504
'

have_tools() { command -v node >/dev/null && command -v npm >/dev/null; }
have_tools || "$top_srcdir/deploy/install-deps" node >/dev/null 2>&1
if ! have_tools; then
	echo "1..0 # SKIP Node or npm not installed and not installable (deploy/install-deps node)"
	exit 0
fi

# the tools at the versions the lock file pins, once per lock file
npm_tools "$top_srcdir/tests/openapi" openapi @redocly/cli
version() { sed -n 's/^ *"version": "\(.*\)",$/\1/p' \
	"$NPM_DIR/node_modules/$1/package.json" | head -n 1; }
echo "# node $(node --version), @redocly/cli $(version @redocly/cli)," \
    "@stoplight/spectral-cli $(version @stoplight/spectral-cli)," \
    "ajv $(version ajv), ajv-formats $(version ajv-formats)," \
    "swagger-ui-dist $(version swagger-ui-dist)"

# ---- the lint ----
# lint LABEL PATTERN COMMAND...: COMMAND (run in the source tree) exits 0
# and prints no line PATTERN matches; else the first 30 of those lines
lint() {
	local label=$1 pattern=$2 out rc problems lines
	shift 2
	out=$(cd "$top_srcdir" && timeout 120 "$@" 2>&1)
	rc=$?
	problems=$(grep -E "$pattern" <<<"$out")
	if [ "$rc" = 0 ] && [ -z "$problems" ]; then
		ok "$label"
	else
		mapfile -t lines < <(head -n 30 <<<"${problems:-$out}")
		nok "$label (status $rc)" "${lines[@]}"
	fi
}
# no telemetry, no update check: the run must work offline
lint "redocly lint: no error and no warning" '^ +[0-9]+:[0-9]+ +(error|warning) ' \
    env REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
    "$NPM_DIR/node_modules/.bin/redocly" lint \
    --config tests/openapi/redocly.yaml --format=stylish nginx/openapi.json
# Spectral's OpenAPI rules, every one: nothing at any severity
lint "spectral lint (spectral:oas): no error, warning, information or hint" \
    ':[0-9]+:[0-9]+ +(error|warning|information|hint) ' \
    "$NPM_DIR/node_modules/.bin/spectral" lint \
    --ruleset tests/openapi/spectral.yaml --fail-severity=hint --format=text \
    nginx/openapi.json

# /docs serves Swagger UI's files from www/docs: swagger-ui-dist's as
# published, at the version the lock file pins, byte for byte
for f in swagger-ui.css LICENSE NOTICE swagger-ui-bundle.js.LICENSE.txt; do
	check "www/docs/$f is swagger-ui-dist $(version swagger-ui-dist)'s" \
	    cmp -s "$top_srcdir/www/docs/$f" "$NPM_DIR/node_modules/swagger-ui-dist/$f"
done
# the bundle, kept gzipped in the source tree, and as the build unpacks it
check "www/docs/swagger-ui-bundle.js.gz holds swagger-ui-dist $(version swagger-ui-dist)'s bundle" \
    bash -c "gzip -dc '$top_srcdir/www/docs/swagger-ui-bundle.js.gz' |
	cmp -s - '$NPM_DIR/node_modules/swagger-ui-dist/swagger-ui-bundle.js'"
check "the build's www/docs/swagger-ui-bundle.js is that bundle" \
    cmp -s "$top_builddir/www/docs/swagger-ui-bundle.js" \
	"$NPM_DIR/node_modules/swagger-ui-dist/swagger-ui-bundle.js"

stack_setup openapi
unset ISBITCOINLIT_MICROCACHE	# the shipped default: on
stack_up
TOKEN=$ISBITCOINLIT_REFRESH_TOKEN
unset ISBITCOINLIT_REFRESH_TOKEN	# req() would send it
R=$T/answers
mkdir -p "$R"
: >"$T/manifest"
# processes this test stopped go on before the stack goes down
API_PIDS=""
api_cont() { [ -n "$API_PIDS" ] && kill -CONT $API_PIDS 2>/dev/null; API_PIDS=""; }
trap 'api_cont; stack_cleanup' EXIT

# probe METHOD PATH [curl args]: one request with curl, its answer kept
# for the validator; its status in $ST, its number in $i
i=0
probe() {
	i=$((i + 1))
	probe_as "$i" "$@"
	ST=$(head -n 1 "$R/$i.h" | cut -d' ' -f2)
}
probe_as() {	# ID METHOD PATH [curl args]
	local id=$1 m=$2 p=$3
	shift 3
	: >"$R/$id.b"
	if [ "$m" = HEAD ]; then
		curl -s -I -o /dev/null -D "$R/$id.h" "$@" "$BASE$p"
	else
		curl -s -o "$R/$id.b" -D "$R/$id.h" -X "$m" "$@" "$BASE$p"
	fi
	printf '%s\t%s\t%s\tcurl\n' "$m" "$p" "$R/$id" >>"$T/manifest"
}
# raw METHOD PATH BYTES: the bytes (printf %b) sent as they are, in one
# write (bash's printf writes a line at a time: nginx could answer and
# close before the rest, which then resets the connection or kills this
# shell with SIGPIPE), the answer kept for the validator
raw() {
	i=$((i + 1))
	printf '%b' "$3" >"$R/$i.req"
	if exec 3<>"/dev/tcp/127.0.0.1/$PORT"; then
		cat "$R/$i.req" >&3
		timeout 10 cat <&3 >"$R/$i.raw"
		exec 3<&-
	fi
	printf '%s\t%s\t%s\traw\n' "$1" "$2" "$R/$i" >>"$T/manifest"
}
header() { tr -d '\r' <"$R/$1.h" | grep -i "^$2:" | head -n 1 | cut -d' ' -f2-; }
# past the microcache (it takes no request with If-Unmodified-Since, which
# the responder ignores): the answer comes from the responder
fresh() { echo "If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT"; }

LONG=$(head -c 20000 /dev/zero | tr '\0' a)
BIG=$(head -c 5000 /dev/zero | tr '\0' a)
# nginx's own answers, which any method on any path can get: 400 (a
# request line with a stray word, and a second Host: the path read), 414
# (a 20 kB query), 501 (a Transfer-Encoding it does not know), 505 (an
# HTTP version it does not speak), 413 (a 5 kB body; TRACE is refused
# before its body counts)
nginx_errors() {	# PATH METHOD...
	local p=$1 m
	shift
	for m in "$@"; do
		raw "$m" "$p" "$m $p stray HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
		raw "$m" "$p" "$m $p HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
		probe "$m" "$p?x=$LONG"
		raw "$m" "$p" "$m $p HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n"
		raw "$m" "$p" "$m $p HTTP/4.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
		[ "$m" = TRACE ] && continue
		raw "$m" "$p" "$m $p HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n$BIG"
	done
}
ALL=(GET HEAD OPTIONS POST PUT DELETE PATCH TRACE)

# ---- with data ----
for p in /is-bitcoin-lit /history /healthz /openapi.json; do
	probe GET "$p"
	etag=$(header "$i" ETag)
	probe HEAD "$p"
	probe OPTIONS "$p" -H 'Origin: https://app.example' \
	    -H 'Access-Control-Request-Method: GET' \
	    -H 'Access-Control-Request-Headers: if-none-match'
	for m in POST PUT DELETE PATCH TRACE; do probe "$m" "$p"; done
	if [ -n "$etag" ]; then
		probe GET "$p" -H "If-None-Match: $etag"
		probe HEAD "$p" -H "If-None-Match: $etag"
	fi
	nginx_errors "$p" "${ALL[@]}"
done
probe GET '/history?hours=3&pretty=1'
probe GET '/is-bitcoin-lit?pretty=1'
probe GET '/history?hours=0'
probe HEAD '/history?hours=25'
# no byte ranges: the whole file
for p in /openapi.json / /app.js /app.css; do
	probe GET "$p" -H 'Range: bytes=0-9'
	check "GET $p with a Range: 200, the whole file ($ST)" \
	    test "$ST:$(header "$i" Content-Length)" = "200:$(wc -c <"$R/$i.b")"
	probe HEAD "$p" -H 'Range: bytes=0-9'
	probe GET "$p" -H 'Range: bytes=999999999-'
	check "GET $p with a Range past its end: 200, not 416 ($ST)" test "$ST" = 200
done
# a precondition that fails: 412 (on the documents from nginx's
# microcache, or from the responder for a key of its own)
for p in /is-bitcoin-lit /history /openapi.json / /app.js /app.css; do
	probe GET "$p" -H 'If-Match: "not-this-one"'
	check "GET $p If-Match another tag: 412 ($ST)" test "$ST" = 412
	probe HEAD "$p" -H 'If-Match: "not-this-one"'
	check "HEAD $p If-Match another tag: 412 ($ST)" test "$ST" = 412
done
for p in /openapi.json / /app.js /app.css; do
	probe HEAD "$p" -H 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT'
	check "HEAD $p If-Unmodified-Since 1970 (a file, modified since): 412 ($ST)" test "$ST" = 412
done
# A document has no modification date: If-Unmodified-Since is ignored
# (RFC 9110 13.1.4), If-Match and If-None-Match still hold
for p in /is-bitcoin-lit /history; do
	probe GET "$p"
	etag=$(header "$i" ETag)
	probe HEAD "$p" -H 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT'
	check "HEAD $p If-Unmodified-Since 1970 (no modification date): 200 ($ST)" test "$ST" = 200
	probe GET "$p" -H 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT' -H 'If-Match: "not-this-one"'
	check "GET $p If-Unmodified-Since and If-Match another tag: 412 ($ST)" test "$ST" = 412
	probe GET "$p" -H 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT' -H "If-Match: $etag"
	check "GET $p If-Unmodified-Since and If-Match its tag: 200 ($ST)" test "$ST" = 200
	probe GET "$p" -H 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT' -H "If-Match: W/$etag"
	check "GET $p If-Match its tag as weak (compared strongly): 412 ($ST)" test "$ST" = 412
	probe GET "$p" -H 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT' -H "If-None-Match: $etag"
	check "GET $p If-Unmodified-Since and If-None-Match its tag: 304 ($ST)" test "$ST" = 304
	probe GET "$p" -H "$(fresh)" -H 'If-Match: "not-this-one"'
	check "GET $p If-Match another tag, answered by the responder: 412 ($ST)" \
	    test "$ST:$(header "$i" X-Cache)" = 412:
done
for p in / /app.js /app.css; do
	probe GET "$p"
	etag=$(header "$i" ETag)
	probe HEAD "$p"
	probe GET "$p" -H "If-None-Match: $etag"
	probe HEAD "$p" -H "If-None-Match: $etag"
	for m in OPTIONS POST PUT DELETE PATCH TRACE; do probe "$m" "$p"; done
	nginx_errors "$p" "${ALL[@]}"
done
# the interactive documentation: its page and files as nginx serves
# files, /docs/ a redirect to /docs, anything else under /docs a 404
for p in /docs /docs/swagger-ui-bundle.js /docs/init.js /docs/swagger-ui.css; do
	probe GET "$p"
	check "GET $p: 200 ($ST)" test "$ST" = 200
	etag=$(header "$i" ETag)
	probe HEAD "$p"
	probe GET "$p" -H "If-None-Match: $etag"
	check "GET $p If-None-Match its tag: 304 ($ST)" test "$ST" = 304
	probe HEAD "$p" -H "If-None-Match: $etag"
	probe GET "$p" -H 'Range: bytes=0-9'
	check "GET $p with a Range: 200, the whole file ($ST)" \
	    test "$ST:$(header "$i" Content-Length)" = "200:$(wc -c <"$R/$i.b")"
	probe GET "$p" -H 'If-Match: "not-this-one"'
	check "GET $p If-Match another tag: 412 ($ST)" test "$ST" = 412
	probe HEAD "$p" -H 'If-Match: "not-this-one"'
	probe HEAD "$p" -H 'If-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT'
	check "HEAD $p If-Unmodified-Since 1970 (a file, modified since): 412 ($ST)" test "$ST" = 412
	for m in OPTIONS POST PUT DELETE PATCH TRACE; do
		probe "$m" "$p"
		check "$m $p: 405, Allow: GET, HEAD ($ST)" \
		    test "$ST:$(header "$i" Allow)" = "405:GET, HEAD"
	done
	nginx_errors "$p" "${ALL[@]}"
done
probe GET /docs
check "GET /docs: the page, with a policy of its own" \
    test "$(header "$i" Content-Type)|$(header "$i" Content-Security-Policy | cut -d';' -f1-3)" = \
    "text/html; charset=utf-8|default-src 'none'; script-src 'self'; style-src 'self'"
for m in GET HEAD; do
	probe "$m" /docs/
	check "$m /docs/: 301 to /docs ($ST)" test "$ST:$(header "$i" Location)" = 301:/docs
done
for m in OPTIONS POST PUT DELETE PATCH TRACE; do
	probe "$m" /docs/
	check "$m /docs/: 405, Allow: GET, HEAD ($ST)" \
	    test "$ST:$(header "$i" Allow)" = "405:GET, HEAD"
done
nginx_errors /docs/ "${ALL[@]}"
for p in /docs/index.html /docs/LICENSE /docs/nope /docsx /Docs; do
	probe GET "$p"
	check "GET $p: 404 ($ST)" test "$ST" = 404
	probe POST "$p"
done

for m in GET HEAD PUT DELETE OPTIONS PATCH TRACE; do probe "$m" /refresh; done
nginx_errors /refresh "${ALL[@]}"
for m in "${ALL[@]}"; do probe "$m" /nope; done
check "TRACE /nope: 405, Allow: GET, HEAD ($ST)" \
    test "$ST:$(header "$i" Allow)" = "405:GET, HEAD"
nginx_errors /nope "${ALL[@]}"

# ---- /metrics: from this machine only ----
probe GET /metrics
check "GET /metrics: 200 ($ST)" test "$ST" = 200
probe HEAD /metrics
probe GET /metrics --interface 127.0.0.2
check "GET /metrics from 127.0.0.2: 403 ($ST)" test "$ST" = 403
probe HEAD /metrics --interface 127.0.0.2
for m in POST PUT DELETE OPTIONS PATCH TRACE; do
	probe "$m" /metrics
	check "$m /metrics: 405 ($ST)" test "$ST" = 405
done
nginx_errors /metrics "${ALL[@]}"

# ---- POST /refresh ----
# refresh [curl args]: a POST /refresh; a 429 (kept: it is an answer too)
# is retried once after its Retry-After
refresh() {
	probe POST /refresh "$@"
	if [ "$ST" = 429 ]; then
		sleep "$(header "$i" Retry-After)"
		probe POST /refresh "$@"
	fi
}
AUTH="Authorization: Bearer $TOKEN"
refresh
check "POST /refresh without the token: 401 ($ST)" test "$ST" = 401
refresh -H "Authorization: Bearer not-$TOKEN"
probe POST /refresh -H "$AUTH" --interface 127.0.0.2
check "POST /refresh from 127.0.0.2: 403 ($ST)" test "$ST" = 403

# no data: no sample stored
$RCLI --scan --pattern 'is-bitcoin-lit:*' | xargs -r $RCLI del >/dev/null
for p in /is-bitcoin-lit /history; do
	probe GET "$p" -H "$(fresh)"
	check "no data: GET $p 503 ($ST)" test "$ST" = 503
	probe HEAD "$p" -H "$(fresh)"
done
probe GET /healthz
refresh -H "$AUTH"
check "POST /refresh with the token: 200 ($ST)" test "$ST" = 200
# another refresh holds the lock
$RCLI set is-bitcoin-lit:refresh:lock someone-else PX 60000 >/dev/null
refresh -H "$AUTH"
check "POST /refresh while another holds the lock: 409 ($ST)" test "$ST" = 409
$RCLI del is-bitcoin-lit:refresh:lock >/dev/null
# the feed is gone
mv "$T/feed.json" "$T/feed.away"
refresh -H "$AUTH"
check "POST /refresh without a feed: 502 ($ST)" test "$ST" = 502
mv "$T/feed.away" "$T/feed.json"
# the Redis user lacks a right (its ACL may touch no key); an admin user
# of this test's own gives it back
$RCLI acl setuser openapi-admin on '>openapi-admin' '~*' '&*' '+@all' >/dev/null
$RCLI acl setuser default resetkeys >/dev/null
for p in /is-bitcoin-lit /history; do
	probe GET "$p" -H "$(fresh)"
	check "no key allowed: GET $p 500 redis permission denied ($ST)" \
	    grep -q '"error":"redis permission denied"' "$R/$i.b"
	probe HEAD "$p" -H "$(fresh)"
done
probe GET /healthz
probe HEAD /healthz
refresh -H "$AUTH"
check "no key allowed: POST /refresh 500 redis permission denied ($ST)" \
    grep -q '"error":"redis permission denied"' "$R/$i.b"
redis-cli -s "$STATE/redis.sock" --user openapi-admin --pass openapi-admin \
    --no-auth-warning acl setuser default allkeys >/dev/null
$RCLI acl deluser openapi-admin >/dev/null
# over the rate limit
for _ in $(seq 8); do
	probe POST /refresh -H "$AUTH"
	[ "$ST" = 429 ] && break
done
check "POST /refresh over the rate limit: 429 ($ST)" test "$ST" = 429

# ---- Redis down ----
kill "$(cat "$STATE/redis.pid")"
wait_for 10 sh -c "! $RCLI ping >/dev/null 2>&1"
for p in /is-bitcoin-lit /history /healthz; do
	probe GET "$p" -H "$(fresh)"
	check "Redis down: GET $p 503 ($ST)" test "$ST" = 503
	probe HEAD "$p" -H "$(fresh)"
done
refresh -H "$AUTH"
check "Redis down: POST /refresh 503 ($ST)" test "$ST" = 503

# ---- the api pool stopped (504, after nginx's 10 s), then gone (502) ----
api=$(cat "$STATE/api.pid")
stopped="$api $(pgrep -P "$api" | tr '\n' ' ')"
API_PIDS=$stopped
kill -STOP $stopped
for p in /is-bitcoin-lit /history /healthz /metrics; do
	for m in GET HEAD; do
		i=$((i + 1))
		probe_as "$i" "$m" "$p" -H "$(fresh)" &
	done
done
wait
api_cont
check "the stopped pool: nginx answers 504" \
	test "$(grep -l '^HTTP/1.1 504' "$R"/*.h | wc -l)" = 8
kill -TERM "$api"
wait_for 15 sh -c "! kill -0 $api 2>/dev/null"
for p in /is-bitcoin-lit /history /healthz /metrics; do
	probe GET "$p" -H "$(fresh)"
	check "no api pool: GET $p 502 ($ST)" test "$ST" = 502
	probe HEAD "$p" -H "$(fresh)"
done

# ---- every answer against the document ----
printf '%s\n' "$NOT_PROVOKED" >"$T/not-provoked"
NODE_PATH=$NPM_DIR/node_modules timeout 300 node \
    "$top_srcdir/tests/openapi/validate.js" "$top_srcdir/nginx/openapi.json" \
    "$T/manifest" "$T/not-provoked" >"$T/validate.out" 2>"$T/validate.err"
rc=$?
while IFS=$'\t' read -r kind what detail; do
	case $kind in
	OK) ok "$what" ;;
	NOK) nok "$what" "$detail" ;;
	*) echo "# $kind $what $detail" ;;
	esac
done <"$T/validate.out"
check "the validator exits 0 (status $rc)" test "$rc" = 0
[ "$rc" = 0 ] || sed 's/^/#   /' "$T/validate.err" | head -n 20

finish
