#!/usr/bin/env bash
# End to end: deploy/isbitcoinlit-local brings up real nginx, the real
# responders and a real redis-server; curl talks HTTP to nginx.  Also
# spawn-fcgi, worker crashes, Redis outages, SIGTERM draining, and that down
# leaves no process behind (the HTTPS site: tests/edge.sh).  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli spawn-fcgi cgi-fcgi

stack_setup e2e
# The API's checks below ask the responders for each request (a miss after
# the cache is deleted, a bad cached value): the microcache off until the
# faults, which run on the stack as shipped (tests/edge.sh checks the
# microcache itself).
export ISBITCOINLIT_MICROCACHE=0

# ---- up ----
out=$("$top_srcdir/deploy/isbitcoinlit-local" up 2>&1)
rc=$?
case "$rc:$out" in
0:*'"status":"ok","received":2900'*"up: $BASE/is-bitcoin-lit"*)
	ok "up starts the stack, runs a first refresh and prints the URL" ;;
*)	nok "up starts the stack, runs a first refresh and prints the URL" "$out"
	cat "$ISBITCOINLIT_STATE_DIR"/*.log 2>/dev/null | sed 's/^/#   /'
	finish ;;
esac
STATE=$ISBITCOINLIT_STATE_DIR
RCLI="redis-cli -s $STATE/redis.sock"

check "status: everything runs" "$top_srcdir/deploy/isbitcoinlit-local" status

# ---- the API ----
st=$(req GET /healthz)
check "GET /healthz: 200" test "$st" = 200
check "healthz matches the Health schema" body_is_schema Health
check "healthz: the data of 2021 is stale, with its age" \
	grep -Eq '"as_of":"2021-[^"]*","age_s":[0-9]{8,},"data":"stale",' "$T/b"
check "healthz: each series' newest sample, its age, source and step" \
	grep -Eq '"series":\{"price":\{"as_of":"2021-[^"]*","age_s":[0-9]{8,},"data":"stale","source":"senticrypt-v1","step_s":30\},"sentiment":\{"as_of":"2021-[^"]*","age_s":[0-9]{8,},"data":"stale","source":"senticrypt-v1","step_s":30\}\}' "$T/b"

st=$(req GET /is-bitcoin-lit)
check "GET /is-bitcoin-lit: 200" test "$st" = 200
check "Content-Type: application/json; charset=utf-8" \
	test "$(hdr Content-Type)" = "application/json; charset=utf-8"
check "the summary matches the Summary schema" body_is_schema Summary
# (redis-cli ends what it prints with a newline: the cache's value has none)
{ $RCLI get is-bitcoin-lit:cache | tr -d '\n'; echo; } >"$T/cache"
check "served byte for byte from the cache, and a newline as nginx's bodies end" \
	cmp -s "$T/b" "$T/cache"
check "the cache holds the document without the newline" \
	test "$($RCLI strlen is-bitcoin-lit:cache)" = "$(( $(wc -c <"$T/b") - 1 ))"
ETAG=$(hdr ETag)
check "an ETag" test -n "$ETAG"
check "X-Content-Type-Options: nosniff" test "$(hdr X-Content-Type-Options)" = nosniff
check "a cache hit" test "$(hdr X-Cache)" = hit

$RCLI del is-bitcoin-lit:cache >/dev/null
st=$(req GET /is-bitcoin-lit)
check "after the cache is deleted: 200, a miss" test "$st:$(hdr X-Cache)" = 200:miss
check "any cache may keep it the cache's whole TTL ($(hdr Cache-Control))" \
	test "$(hdr Cache-Control)" = "public, max-age=120, stale-while-revalidate=30"
check "the same document computed from the series" cmp -s "$T/b" "$T/cache"
cache_back() { [ "$($RCLI exists is-bitcoin-lit:cache)" = 1 ]; }
wait_for 5 cache_back
{ $RCLI get is-bitcoin-lit:cache | tr -d '\n'; echo; } >"$T/cache2"
check "the miss wrote the cache again" cmp -s "$T/cache2" "$T/cache"
ttl=$($RCLI ttl is-bitcoin-lit:cache)
check "with the cache TTL ($ttl s)" test "$ttl" -gt 100 -a "$ttl" -le 120

st=$(req GET /is-bitcoin-lit -H "If-None-Match: $ETAG")
check "If-None-Match: 304 without a body" test "$st:$(wc -c <"$T/b")" = "304:0"
check "the 304 carries the ETag" test "$(hdr ETag)" = "$ETAG"
st=$(req GET /is-bitcoin-lit -H 'If-None-Match: "other"')
check "another ETag: 200" test "$st" = 200

# HEAD on a raw connection: curl would wait for the body Content-Length promises
raw_head() {
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'HEAD /is-bitcoin-lit HTTP/1.0\r\nHost: x\r\n\r\n' >&3
	timeout 5 cat <&3
	exec 3<&-
}
raw_head >"$T/raw"
check "HEAD: 200 with Content-Length" test "$(head -c 12 "$T/raw")" = "HTTP/1.1 200" \
	-a -n "$(grep "^Content-Length: $(wc -c <"$T/cache")" "$T/raw")"
check "HEAD: headers only" test "$(grep -c $'^\r$' "$T/raw")" = 1 \
	-a "$(sed '1,/^\r$/d' "$T/raw" | wc -c)" = 0

st=$(req GET '/is-bitcoin-lit?pretty=1')
check "?pretty=1: 200" test "$st" = 200
check "indented over several lines" test "$(wc -l <"$T/b")" -gt 10
check "the same document" test "$(tr -d ' \n' <"$T/b")" = "$(cat "$T/cache")"
check "pretty matches the Summary schema too" body_is_schema Summary

# ---- what Redis holds is input: a cache value that is no summary ----
cache_is_summary() { [ "$($RCLI get is-bitcoin-lit:cache | tr -d '\n')" = "$(cat "$T/cache")" ]; }
$RCLI set is-bitcoin-lit:cache "$(printf '[%.0s' $(seq 10000))" >/dev/null
st=$(req GET '/is-bitcoin-lit?pretty=1')
check "10,000 [ in the cache, ?pretty=1: 200 ($st), a miss" \
	test "$st:$(hdr X-Cache)" = 200:miss
check "the real summary, indented and small ($(wc -c <"$T/b") bytes)" \
	test "$(tr -d ' \n' <"$T/b")" = "$(cat "$T/cache")" -a "$(wc -c <"$T/b")" -lt 4096
check "the cache rewritten with the summary" wait_for 5 cache_is_summary
$RCLI set is-bitcoin-lit:cache '{"hourly_average_of_averages":[],"x":1}' >/dev/null
st=$(req GET /is-bitcoin-lit)
check "a cache value of another shape: 200, X-Cache: miss" \
	test "$st:$(hdr X-Cache)" = 200:miss
check "the real summary" cmp -s "$T/b" "$T/cache"
check "the cache rewritten again" wait_for 5 cache_is_summary
check "each logged as a warning" \
	test "$(cat "$STATE"/api*.log | grep -c 'cache holds no summary document')" = 2

# ---- /history ----
st=$(req GET /history)
check "GET /history: 200" test "$st" = 200
check "the history matches the History schema" body_is_schema History
check "24 rows by default" test "$(grep -o '{"time":' "$T/b" | wc -l)" = 24 \
	-a "$(head -c 11 "$T/b")" = '{"hours":24'
cc=$(hdr Cache-Control)
left=$($RCLI ttl is-bitcoin-lit:history:24)
ma=$(grep -Eo '^public, max-age=[0-9]+, stale-while-revalidate=30$' <<<"$cc" |
    grep -Eo 'max-age=[0-9]+' | cut -d= -f2)
check "Cache-Control: any cache may keep it the time Redis's cache has left ($cc; $left s)" \
	test -n "$ma" -a "${ma:-0}" -le "$left" -a "${ma:-0}" -ge "$((left - 2))"
check "a cache hit: the refresh wrote it" test "$(hdr X-Cache)" = hit
{ $RCLI get is-bitcoin-lit:history:24 | tr -d '\n'; echo; } >"$T/h24"
check "served byte for byte from is-bitcoin-lit:history:24" cmp -s "$T/b" "$T/h24"
check "the refresh wrote all 24 (history:1 to :24)" test "$(for i in $(seq 24); do
	$RCLI exists "is-bitcoin-lit:history:$i"; done | grep -c 1)" = 24
HETAG=$(hdr ETag)
st=$(req GET /history -H "If-None-Match: $HETAG")
check "/history If-None-Match: 304 without a body" test "$st:$(wc -c <"$T/b")" = "304:0"
check "the summary's ETag is not the history's" test "$HETAG" != "$ETAG"

# the last 3 hours: the summary's rows, with the counts
st=$(req GET '/history?hours=3')
check "?hours=3: 200, 3 rows" test "$st:$(grep -o '{"time":' "$T/b" | wc -l)" = 200:3
check "?hours=3 matches the History schema" body_is_schema History
rows() { sed -E 's/^.*"(hourly|hourly_average_of_averages)":\[(.*)\],".*$/\2/;
	s/,"price_samples":[0-9]+,"sentiment_samples":[0-9]+//g' "$1"; }
check "its rows are the summary's: time, price, sentiment" \
	test "$(rows "$T/b")" = "$(rows "$T/cache")" -a -n "$(rows "$T/cache")"
check "as_of is the summary's" test "$(grep -o '"as_of":"[^"]*"' "$T/b")" = \
	"$(grep -o '"as_of":"[^"]*"' "$T/cache")"
check "samples counted in every row" \
	test "$(grep -Eo '"price_samples":[1-9][0-9]*,"sentiment_samples":[1-9]' "$T/b" | wc -l)" = 3
cp "$T/b" "$T/h3"
st=$(req GET '/history?x=1;hours=5&HOURS=3&hours=5')
check "the first hours= counts, in any case, not after a ;" test "$st" = 200 -a \
	"$(head -c 10 "$T/b")" = '{"hours":3'
st=$(req GET '/history?hours=3&pretty=1')
check "?hours=3&pretty=1: indented, the same document" test "$st" = 200 -a \
	"$(wc -l <"$T/b")" -gt 20 -a "$(tr -d ' \n' <"$T/b")" = "$(cat "$T/h3")"
check "pretty matches the History schema too" body_is_schema History

st=$(req GET '/history?hours=')
check "?hours= (empty): the default 24 hours" test "$st:$(head -c 11 "$T/b")" = '200:{"hours":24'
# the value percent-decoded once, as a form's: %33 is 3; %2533 is "%33"
st=$(req GET '/history?hours=%33')
check "?hours=%33 is ?hours=3: the same document ($st)" \
	bash -c "[ $st = 200 ] && cmp -s '$T/b' '$T/h3'"
for q in hours=0 hours=25 hours=abc hours=1.5 hours=-1 hours=%2533 hours=%2B3 \
    hours=+3 hours=3%00 hours=%3; do
	st=$(req GET "/history?$q")
	check "?$q: 400" test "$st" = 400
	check "?$q: an Error document that says the range" body_is_schema Error
	check "?$q: the detail" grep -qx '{"error":"bad request","detail":"hours must be a whole number from 1 to 24"}' "$T/b"
done

# a miss computes the same document and fills the cache again
$RCLI del is-bitcoin-lit:history:3 >/dev/null
st=$(req GET '/history?hours=3')
check "history:3 deleted: 200, a miss" test "$st:$(hdr X-Cache)" = 200:miss
check "the same document computed from the series" cmp -s "$T/b" "$T/h3"
hist3_is() { [ "$($RCLI get is-bitcoin-lit:history:3 | tr -d '\n')" = "$(cat "$1")" ]; }
check "the miss wrote history:3 again" wait_for 5 hist3_is "$T/h3"
ttl=$($RCLI ttl is-bitcoin-lit:history:3)
check "with the cache TTL ($ttl s)" test "$ttl" -gt 100 -a "$ttl" -le 120
# what Redis holds is input: another N's document, or garbage
$RCLI set is-bitcoin-lit:history:3 "$(cat "$T/h24")" >/dev/null
st=$(req GET '/history?hours=3')
check "history:3 holding the 24-hour document: a miss, the right one" \
	test "$st:$(hdr X-Cache)" = 200:miss -a "$(cat "$T/b")" = "$(cat "$T/h3")"
check "history:3 rewritten" wait_for 5 hist3_is "$T/h3"
$RCLI set is-bitcoin-lit:history:3 "$(printf '[%.0s' $(seq 10000))" >/dev/null
st=$(req GET '/history?hours=3&pretty=1')
check "10,000 [ in history:3, ?pretty=1: 200, a miss" \
	test "$st:$(hdr X-Cache)" = 200:miss -a "$(tr -d ' \n' <"$T/b")" = "$(cat "$T/h3")"
check "history:3 rewritten again" wait_for 5 hist3_is "$T/h3"

exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'HEAD /history?hours=3 HTTP/1.0\r\nHost: x\r\n\r\n' >&3
timeout 5 cat <&3 >"$T/raw"
exec 3<&-
check "HEAD /history: 200 with Content-Length, headers only" \
	test "$(head -c 12 "$T/raw")" = "HTTP/1.1 200" \
	-a -n "$(grep "^Content-Length: $(wc -c <"$T/h3")" "$T/raw")" \
	-a "$(sed '1,/^\r$/d' "$T/raw" | wc -c)" = 0
st=$(req POST /history)
check "POST /history: 405 with Allow: GET, HEAD, OPTIONS" \
	test "$st:$(hdr Allow)" = "405:GET, HEAD, OPTIONS"
check "the 405 is an Error document" body_is_schema Error

st=$(req POST /is-bitcoin-lit)
check "POST /is-bitcoin-lit: 405 with Allow: GET, HEAD, OPTIONS" \
	test "$st:$(hdr Allow)" = "405:GET, HEAD, OPTIONS"
check "the 405 is an Error document" body_is_schema Error
st=$(req DELETE /healthz)
check "DELETE /healthz: 405" test "$st" = 405

st=$(req GET /no/such/thing)
check "an unknown path: 404" test "$st" = 404
check "nginx's 404 is an Error document" body_is_schema Error
check "with nosniff too" test "$(hdr X-Content-Type-Options)" = nosniff
st=$(req GET "/is-bitcoin-lit?$(head -c 20000 /dev/zero | tr '\0' a)")
check "a 20 kB query string: a JSON error ($st)" body_is_schema Error

# odd requests: every answer JSON, every worker alive
WORKERS=$(pgrep -P "$(cat "$STATE/api.pid")" | sort | tr '\n' ' ')
st=$(req FOO /is-bitcoin-lit)
check "an unknown method FOO: 405 JSON ($st)" test "$st" = 405
check "the 405 names GET, HEAD, OPTIONS" test "$(hdr Allow)" = "GET, HEAD, OPTIONS"
st=$(req GET /is-bitcoin-lit -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)")
check "20 kB of headers: 400 JSON ($st)" test "$st" = 400
check "the 400 is an Error document" body_is_schema Error
st=$(req GET '/is-bitcoin-lit%zz')
check "invalid percent-encoding: a JSON error ($st)" body_is_schema Error
st=$(req GET '/is-bitcoin-lit?pretty=%zz%00')
check "odd bytes in the query: answered ($st)" test "$st" = 200
raw() {	# send $1 as is on one connection, print what comes back
	exec 3<>"/dev/tcp/127.0.0.1/$PORT"
	printf '%b' "$1" >&3
	timeout 5 cat <&3
	exec 3<&-
}
out=$(raw 'GET /is-bitcoin-lit HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
check "two pipelined requests: two answers" \
	test "$(grep -o 'HTTP/1.1 200' <<<"$out" | wc -l)" = 2
out=$(raw 'GET /is-bitcoin-lit HTTP/1.0\r\n\r\n')
check "HTTP/1.0: 200" grep -q '^HTTP/1.1 200' <<<"$out"
out=$(raw 'get /is-bitcoin-lit HTTP/1.1\r\nHost: x\r\n\r\n')
check "a lowercase method: a JSON error" grep -q '"error":' <<<"$out"
out=$(raw 'GARBAGE\r\n\r\n')
check "a garbage request line: 400 JSON" grep -q '"error":"bad request"' <<<"$out"
check "every api worker is still the same ($WORKERS)" \
	test "$(pgrep -P "$(cat "$STATE/api.pid")" | sort | tr '\n' ' ')" = "$WORKERS" \
	-a "$(wc -w <<<"$WORKERS")" = "$(nproc)"

st=$(req GET /openapi.json)
check "GET /openapi.json: 200 JSON" test "$st:$(hdr Content-Type)" = \
	"200:application/json; charset=utf-8"
check "it is the OpenAPI document" grep -q '"openapi": "3.0.3"' "$T/b"

# ---- /refresh through nginx ----
st=$(req POST /refresh)
check "POST /refresh: 200" test "$st" = 200
check "the report matches the Report schema" body_is_schema Report
st=$(req GET /refresh)
check "GET /refresh: 405 with Allow: POST" test "$st:$(hdr Allow)" = "405:POST"
st=$(req POST /refresh --data-binary "@$T/feed.json")
check "a large body: 413 JSON" test "$st" = 413
check "the 413 is an Error document" body_is_schema Error
codes=""
for _ in 1 2 3 4 5 6; do codes="$codes $(req POST /refresh)"; done
check "a burst of refreshes: 429 ($codes)" grep -q 429 <<<"$codes"
[ "$(req POST /refresh)" = 429 ] && check "the 429 is an Error document" body_is_schema Error ||
	check "the 429 is an Error document" false

# ---- faults, on the stack as shipped (the microcache on) ----
unset ISBITCOINLIT_MICROCACHE
"$top_srcdir/deploy/isbitcoinlit-local" down >/dev/null
if ! "$top_srcdir/deploy/isbitcoinlit-local" up >"$T/up2.log" 2>&1; then
	nok "the stack comes up again as shipped" "$(cat "$T/up2.log")"
	finish
fi
check "the microcache is on" grep -q 'microcache.conf;' "$STATE/nginx/isbitcoinlit-locations.conf"
APIPID=$(cat "$STATE/api.pid")
WORKER=$(pgrep -P "$APIPID" | head -n 1)
kill -KILL "$WORKER"
replaced() {
	! kill -0 "$WORKER" 2>/dev/null &&
	test "$(pgrep -P "$APIPID" | wc -l)" = "$(nproc)"
}
wait_for 10 replaced
bad=0
for _ in $(seq 20); do [ "$(req GET /healthz)" = 200 ] || bad=$((bad + 1)); done
check "an api worker killed with SIGKILL: respawned, 20 requests answered" test "$bad" = 0
check "a new worker replaced it" test "$(pgrep -P "$APIPID" | wc -l)" = "$(nproc)"

RPID=$(cat "$STATE/redis.pid")
kill -TERM "$RPID"
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 10 gone "$RPID"
st=$(req_until 3 503 GET /is-bitcoin-lit)	# past the microcache's answer
check "Redis down: 503 from the responder within 2 s" test "$st" = 503
check "\"redis unavailable\" with Retry-After" \
	test "$(grep -o '"error":"[a-z ]*"' "$T/b"):$(hdr Retry-After)" = '"error":"redis unavailable":1'
st=$(req GET /healthz)
check "/healthz: 503, redis unavailable" test "$st" = 503 -a \
	"$(grep -o '"redis":"[a-z]*"' "$T/b")" = '"redis":"unavailable"'
check "the 503 health matches the Health schema" body_is_schema Health
check "healthz with Redis down: no age, data none" grep -q '"age_s":null,"data":"none"' "$T/b"
st=$(req_until 3 503 GET /history)
check "Redis down: /history 503 \"redis unavailable\"" test "$st:$(grep -o '"error":"[a-z ]*"' "$T/b")" = \
	'503:"error":"redis unavailable"'
redis-server "$STATE/redis.conf"
up() { [ "$($RCLI ping 2>/dev/null)" = PONG ]; }
wait_for 10 up
st=$(req_until 3 200 GET /is-bitcoin-lit)
check "Redis back: 200 again, no restart (AOF kept the data)" test "$st" = 200
check "and the same summary" cmp -s "$T/b" "$T/cache"

# ---- the pool down: nginx's own 502, as JSON ----
kill -TERM "$APIPID"
for _ in $(seq 100); do kill -0 "$APIPID" 2>/dev/null || break; sleep 0.05; done
st=$(req_until 3 502 GET /is-bitcoin-lit)
check "the api pool stopped: nginx answers 502 within 2 s" test "$st" = 502
check "the 502 is an Error document" body_is_schema Error

# ---- down ----
PIDS=$(cat "$STATE"/*.pid 2>/dev/null)
CHILDREN=$(for p in $PIDS; do pgrep -P "$p"; done)
"$top_srcdir/deploy/isbitcoinlit-local" down >/dev/null
left=""
for p in $PIDS $CHILDREN; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
check "down leaves no process behind ($left)" test -z "$left"
check "status after down: exit 3" bash -c "! '$top_srcdir/deploy/isbitcoinlit-local' status >/dev/null"

# ---- spawn-fcgi and SIGTERM draining (no nginx needed) ----
API=$top_builddir/src/isbitcoinlit-api
REFRESH=$top_builddir/src/isbitcoinlit-refresh
redis-server --port 0 --unixsocket "$T/r.sock" --daemonize yes --save '' \
	--pidfile "$T/redis2.pid" --logfile "$T/redis2.log" --dir "$T"
wait_for 10 test -S "$T/r.sock"
export ISBITCOINLIT_REDIS_URL=unix://$T/r.sock
ISBITCOINLIT_UPSTREAM_URL=file://$T/feed.json "$REFRESH" --once >/dev/null
check "a refresh into that Redis (exit $?)" test "$?" = 0
spawn-fcgi -s "$T/sp.sock" -M 0660 -F 2 -P "$T/spawn.pid" -- "$API" >/dev/null 2>&1
wait_for 10 test -S "$T/sp.sock"
# the responders spawn-fcgi started (their pids, one a line), and how many live
alive() { local p c=0; for p in $(cat "$T/spawn.pid"); do kill -0 "$p" 2>/dev/null && c=$((c + 1)); done; echo "$c"; }
fcgi() { env -i REQUEST_METHOD="$2" DOCUMENT_URI="$3" CONTENT_LENGTH=0 \
	cgi-fcgi -bind -connect "$1" 2>/dev/null; }
out=$(fcgi "$T/sp.sock" GET /healthz)
check "under spawn-fcgi -F 2: /healthz answers" grep -q 'Status: 200' <<<"$out"
check "two responders share the socket" test "$(alive)" = 2
out=$(env -i cgi-fcgi -bind -connect "$T/sp.sock" 2>/dev/null)
check "no FastCGI parameters at all: 404 JSON, no crash" \
	grep -q 'Status: 404' <<<"$out"
q="$(head -c 100000 /dev/zero | tr '\0' '&')pretty=1"
out=$(env -i REQUEST_METHOD=GET DOCUMENT_URI=/is-bitcoin-lit QUERY_STRING="$q" \
	cgi-fcgi -bind -connect "$T/sp.sock" 2>/dev/null)
check "a 100 kB query string: answered" grep -q 'Status: 200' <<<"$out"
check "and still read to its end (pretty)" grep -q '^  "as_of"' <<<"$out"
check "the responders are all alive" test "$(alive)" = 2
kill $(cat "$T/spawn.pid") 2>/dev/null

# ---- a read replica that holds nothing yet: the master answers ----
redis-server --port 0 --unixsocket "$T/empty.sock" --daemonize yes --save '' \
	--pidfile "$T/redis3.pid" --logfile "$T/redis3.log" --dir "$T"
wait_for 10 test -S "$T/empty.sock"
ISBITCOINLIT_REDIS_READ_URL=unix://$T/empty.sock "$API" --listen "$T/rr.sock" \
	--workers 1 2>"$T/rr.log" &
echo $! >"$T/rr.pid"
wait_for 10 test -S "$T/rr.sock"
out=$(fcgi "$T/rr.sock" GET /is-bitcoin-lit)
check "an empty read replica: the summary from the master, 200" \
	grep -q '"hourly_average_of_averages":\[{' <<<"$out"
out=$(fcgi "$T/rr.sock" GET /healthz)
check "and /healthz has the master's newest sample" \
	grep -q '"as_of":"2021' <<<"$out"
check "said in the log" grep -q 'replica holds no sample' "$T/rr.log"
kill "$(cat "$T/rr.pid")"

# ---- /history with the cache off, and before any sample ----
fcgiq() { env -i REQUEST_METHOD=GET DOCUMENT_URI="$2" QUERY_STRING="$3" \
	CONTENT_LENGTH=0 cgi-fcgi -bind -connect "$1" 2>/dev/null; }
ISBITCOINLIT_CACHE=off "$API" --listen "$T/off.sock" --workers 1 2>"$T/off.log" &
echo $! >"$T/off.pid"
ISBITCOINLIT_REDIS_URL=unix://$T/empty.sock "$API" --listen "$T/none.sock" \
	--workers 1 2>"$T/none.log" &
echo $! >"$T/none.pid"
wait_for 10 test -S "$T/off.sock" -a -S "$T/none.sock"
out=$(fcgiq "$T/off.sock" /history hours=2)
check "ISBITCOINLIT_CACHE=off: /history computed, X-Cache: off, 2 rows" \
	test "$(grep -c $'^X-Cache: off\r$' <<<"$out"):$(grep -o '{"time":' <<<"$out" | wc -l)" = 1:2
check "with nothing to bound how long it holds: Cache-Control: no-cache" \
	grep -q $'^Cache-Control: no-cache\r$' <<<"$out"
out=$(fcgiq "$T/none.sock" /history "")
check "no sample yet: /history 503 no data" \
	grep -q '"error":"no data"' <<<"$out"
check "no refresh yet: the detail says it has not run" \
	grep -q 'the refresh worker has not run' <<<"$out"
# a refresh that ran and failed (no feed): the 503 says when and what kind,
# not the feed's host or path
ISBITCOINLIT_REDIS_URL=unix://$T/empty.sock ISBITCOINLIT_UPSTREAM_TIMEOUT_S=2 \
	ISBITCOINLIT_UPSTREAM_URL=http://127.0.0.1:1/secret-path/feed.json \
	"$REFRESH" --once >/dev/null 2>&1
for p in /is-bitcoin-lit /history; do
	out=$(fcgiq "$T/none.sock" $p "")
	check "after a failed refresh: $p 503 no data, the last refresh failed at a time (download)" \
		grep -Eq '"error":"no data","detail":"no sample is stored yet: the last refresh failed at 20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00 \(download: ' <<<"$out"
	check "and names neither the feed's host nor its path" \
		eval '! grep -Eq "127\.0\.0\.1|secret-path" <<<"$out"'
done
# an invalid feed: validation
printf '[{"a":1}]' >"$T/bad-feed.json"
ISBITCOINLIT_REDIS_URL=unix://$T/empty.sock \
	ISBITCOINLIT_UPSTREAM_URL=file://$T/bad-feed.json \
	"$REFRESH" --once >/dev/null 2>&1
out=$(fcgiq "$T/none.sock" /is-bitcoin-lit "")
check "after a refresh of a feed with no valid sample: the detail says validation" \
	grep -q 'the last refresh failed at [^ ]* (validation: ' <<<"$out"
out=$(fcgiq "$T/none.sock" /healthz "")
check "no sample yet: /healthz 200, age_s null, data none" \
	grep -q '"as_of":null,"age_s":null,"data":"none",' <<<"$out"
kill "$(cat "$T/off.pid")" "$(cat "$T/none.pid")"

# ---- a pool whose workers keep dying gives up, loudly ----
"$API" --listen "$T/crash.sock" --workers 1 2>"$T/crash.log" &
MPID=$!
for _ in $(seq 400); do
	w=$(pgrep -P "$MPID")
	[ -n "$w" ] && kill -KILL $w
	kill -0 "$MPID" 2>/dev/null || break
	sleep 0.02
done
wait "$MPID"
mrc=$?
check "workers killed as they start: the master gives up with exit 1" test "$mrc" = 1
check "and says so" grep -q 'workers keep crashing, giving up' "$T/crash.log"

"$top_builddir/tests/feed_server" "$T" "$T/port" &
echo $! >"$T/feed.pid"
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
ISBITCOINLIT_UPSTREAM_URL=http://127.0.0.1:$(cat "$T/port")/slow/1500/feed.json \
	ISBITCOINLIT_REFRESH_TOKEN= ISBITCOINLIT_REFRESH_OPEN=on "$REFRESH" --listen "$T/rf.sock" --workers 1 &
RPID=$!
for _ in $(seq 100); do [ -S "$T/rf.sock" ] && break; sleep 0.05; done
fcgi "$T/rf.sock" POST /refresh >"$T/inflight" &
CPID=$!
# in flight: it holds the lock while it downloads the slow feed
in_flight() { [ "$(redis-cli -s "$T/r.sock" exists is-bitcoin-lit:refresh:lock)" = 1 ]; }
check "a refresh is in flight" wait_for 10 in_flight
kill -TERM "$RPID"
wait "$CPID"
wait "$RPID"
rrc=$?
check "SIGTERM during a refresh: the request in flight completes" \
	grep -q 'Status: 200' "$T/inflight"
check "then the pool exits 0" test "$rrc" = 0

finish
