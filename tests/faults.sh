#!/usr/bin/env bash
# Faults and least privilege, through the local stack: Redis killed under
# load, Redis paused, Redis crashed and restarted from its AOF, the feed
# gone, /refresh from an address not allowed, Redis ACL users, and secrets
# kept out of ps, logs and error bodies.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli cgi-fcgi

stack_setup faults
export ISBITCOINLIT_REDIS_TIMEOUT_MS=500

stack_up
APIPID=$(cat "$STATE/api.pid")
WORKERS=$(pgrep -P "$APIPID" | sort | tr '\n' ' ')
req GET /is-bitcoin-lit >/dev/null
cp "$T/b" "$T/summary"
n_before=$($RCLI zcard is-bitcoin-lit:price:mean:30s)

# ---- Redis killed under load ----
load_start 4
sleep 0.5
kill -KILL "$(cat "$STATE/redis.pid")"
KILLED=$(now_ms)
sleep 3		# longer than the microcache keeps an answer (at most 2 s)
redis-server "$STATE/redis.conf"
wait_for 5 $RCLI ping >/dev/null
BACK=$(now_ms)
sleep 5		# answers well after the recovery, to see it end
load_stop
others=$(awk '$2 != 200 && $2 != 503' "$T/load" | wc -l)
check "Redis killed under load: only 200 or 503, never 502 or a hang ($others others)" \
	test "$others" = 0
first503=$(awk -v k="$KILLED" '$1 >= k && $2 == 503 { print $1; exit }' "$T/load")
check "503 answered while Redis is down" test -n "$first503"
last_bad=$(awk -v b="$BACK" '$1 >= b && $2 != 200 { t = $1 } END { print (t == "" ? 0 : t) }' "$T/load")
recovery=$(( last_bad > BACK ? last_bad - BACK : 0 ))
late=$(awk -v b="$((BACK + 3000))" '$1 >= b' "$T/load" | wc -l)
# Bounds far from the typical values (recovery: well under 1 s; a request
# while Redis is gone: one 500 ms timeout): they catch a hang, not noise.
check "Redis back: every answer is 200 within 3 s (${recovery} ms; $late answers after)" \
	test "$recovery" -le 3000 -a "$late" -gt 0
slow=$(awk '{ if (p && $1 - p > 5000) n++; p = $1 } END { print n + 0 }' "$T/load.1")
check "no request took ten times the Redis timeout" test "$slow" = 0
check "no api worker was restarted" \
	test "$(pgrep -P "$APIPID" | sort | tr '\n' ' ')" = "$WORKERS"
echo "# Redis kill: $(wc -l <"$T/load") requests, $(awk '$2 == 503' "$T/load" | wc -l) answered 503, recovery ${recovery} ms"

# ---- AOF: the data survived the crash ----
req GET /is-bitcoin-lit >/dev/null
check "after the crash and restart: the same summary (the AOF kept it)" \
	cmp -s "$T/b" "$T/summary"
n_price=$($RCLI zcard is-bitcoin-lit:price:mean:30s)
n_sent=$($RCLI zcard is-bitcoin-lit:sentiment:mean:30s)
check "every sample is still there ($n_price, $n_sent of $n_before)" \
	test "$n_before" -gt 0 -a "$n_price" = "$n_before" -a "$n_sent" = "$n_before"

# ---- an outage shows as an outage (the microcache as shipped) ----
# Clients keep asking while Redis stops: within 2 s every answer is the
# responder's 503, never nginx's last cached summary for as long as the
# traffic lasts; Redis back, 200 again within 2 s.
# outage WHAT STATUS NAME SECONDS: two clients ask without pause while the
# component NAME (its pid file in $STATE) is stopped; from 2 s after it is
# gone every answer is STATUS, for the SECONDS the load goes on
outage() {
	local pid late bad stopped
	serves
	load_start 2
	sleep 1
	pid=$(cat "$STATE/$3.pid")
	kill -TERM "$pid"
	wait_for 10 eval "! kill -0 $pid 2>/dev/null"
	stopped=$(now_ms)
	sleep "$4"
	load_stop
	late=$(awk -v s=$((stopped + 2000)) '$1 >= s' "$T/load" | wc -l)
	bad=$(awk -v s=$((stopped + 2000)) -v w="$2" '$1 >= s && $2 != w' "$T/load" | wc -l)
	check "$1 under steady traffic: from 2 s on every answer is $2 ($bad of $late were not; $(awk '$2 == 200' "$T/load" | wc -l) 200s in all)" \
		test "$late" -gt 10 -a "$bad" = 0
	awk -v s=$((stopped + 2000)) -v w="$2" '$1 >= s && $2 != w' "$T/load" |
		head -n 3 | sed 's/^/#   /'
}
outage "Redis stopped" 503 redis 5
redis-server "$STATE/redis.conf"
wait_for 5 $RCLI ping >/dev/null
st=$(req_until 2 200 GET /is-bitcoin-lit)
check "Redis back: 200 again within 2 s ($st)" test "$st" = 200

# ---- Redis paused (slow) ----
$RCLI del is-bitcoin-lit:cache >/dev/null
$RCLI client pause 20000 all >/dev/null
t0=$(now_ms)
st=$(req_until 5 503 GET /is-bitcoin-lit)	# the microcache's answer first
t1=$(now_ms)
check "Redis paused: 503 from the responder ($st)" test "$st" = 503
check "within the timeout's bound, long before the pause ends ($((t1 - t0)) ms)" \
	test $((t1 - t0)) -lt 10000
$RCLI client unpause >/dev/null
st=$(req GET /is-bitcoin-lit)
check "pause over: the next request is served normally" test "$st" = 200

# ---- the feed gone: 502, nothing changed ----
before=$($RCLI get is-bitcoin-lit:cache)
mv "$T/feed.json" "$T/feed.gone"
st=$(req POST /refresh)
check "feed unreadable: POST /refresh answers 502" test "$st" = 502
check "upstream failed" grep -q '"error":"upstream failed"' "$T/b"
check "the cache is unchanged" test "$($RCLI get is-bitcoin-lit:cache)" = "$before"
mv "$T/feed.gone" "$T/feed.json"

# ---- /refresh only from allowed addresses ----
st=$(curl -s -o "$T/b" -w '%{http_code}' --interface 127.0.0.2 -X POST "$BASE/refresh")
check "POST /refresh from 127.0.0.2 (not allowed): 403" test "$st" = 403
check "the 403 is an Error document" body_is_schema Error
st=$(curl -s -o "$T/b" -w '%{http_code}' --interface 127.0.0.2 "$BASE/is-bitcoin-lit")
check "the API itself answers any address" test "$st" = 200

# ---- the api pool stopped under steady traffic: nginx's 502 ----
outage "the api pool stopped" 502 api 4
"$LOCAL" down >/dev/null

# ---- Redis ACL users (deploy/redis-acl.example), as shipped ----
# aof_restart NAME BACKEND [MODULE]: a refresh as the refresh user and the
# documents as the api user, then Redis restarted as an operator does
# (SHUTDOWN, start): the same keys, samples, documents and numbers
aof_restart() {
	local name=$1 backend=$2 before after
	acl_redis "$name" "${3:-}"
	ISBITCOINLIT_TIMESERIES=$backend \
	ISBITCOINLIT_REDIS_URL="unix://isbitcoinlit-refresh:refreshpw@$T/$name.sock" \
		"$top_builddir/src/isbitcoinlit-refresh" --once >"$T/$name.out" 2>&1
	ISBITCOINLIT_TIMESERIES=$backend \
	ISBITCOINLIT_REDIS_URL="unix://isbitcoinlit-refresh:refreshpw@$T/$name.sock" \
		"$top_builddir/src/isbitcoinlit-refresh" --once >>"$T/$name.out" 2>&1
	check "$backend, shipped ACL and AOF: two refreshes as the refresh user" \
		test "$(grep -c '"status":"ok"' "$T/$name.out")" = 2
	restart_from_aof "$name"
	before=$(grep -c ':mean:30s ' "$T/$name.before")
	check "$backend: both series, the cache, the histories and the refresh's numbers were written ($(wc -l <"$T/$name.before") keys)" \
		bash -c "[ $before = 2 ] && grep -q ':cache string' '$T/$name.before' &&
		    grep -q ':history:24 string' '$T/$name.before' &&
		    grep -q ':refresh:stats hash' '$T/$name.before'"
	check "$backend: after a restart from the AOF under the shipped ACL, every sample, document and number is there" \
		cmp -s "$T/$name.before" "$T/$name.after"
	[ -n "$(grep -v -x -F -f "$T/$name.after" "$T/$name.before")" ] &&
		diff "$T/$name.before" "$T/$name.after" | sed 's/^/#   /'
	check "$backend: Redis refused nothing while loading its AOF" \
		bash -c "! grep -q 'CRITICAL' '$T/$name.log'"
	grep 'CRITICAL' "$T/$name.log" | head -n 2 | sed 's/^/#   /'
	as_test "$name" shutdown nosave >/dev/null 2>&1
}
aof_restart aof-zset sortedset
if [ -n "${ISBITCOINLIT_TEST_TS_MODULE:-}" ] && [ -f "$ISBITCOINLIT_TEST_TS_MODULE" ]; then
	aof_restart aof-rts redistimeseries "$ISBITCOINLIT_TEST_TS_MODULE"
else
	skip "redistimeseries, shipped ACL and AOF" "no ISBITCOINLIT_TEST_TS_MODULE"
fi

acl_redis acl
check "redis-server takes the example ACL file and redis.conf.example" \
	as_test acl ping
REFRESH=$top_builddir/src/isbitcoinlit-refresh
API=$top_builddir/src/isbitcoinlit-api
out=$(ISBITCOINLIT_REDIS_URL="unix://isbitcoinlit-refresh:refreshpw@$T/acl.sock" \
	"$REFRESH" --once 2>&1)
check "the refresh user can refresh" grep -q '"status":"ok"' <<<"$out"
"$API" --listen "$T/acl-api.sock" --workers 1 \
	--redis-url "unix://isbitcoinlit-api:apipw@$T/acl.sock" 2>"$T/acl-api.log" &
echo $! >"$T/acl-api.pid"
wait_for 5 test -S "$T/acl-api.sock"
fcgi() { env -i REQUEST_METHOD=GET DOCUMENT_URI="$2" cgi-fcgi -bind -connect "$1" 2>/dev/null; }
as_test acl del is-bitcoin-lit:cache >/dev/null
out=$(fcgi "$T/acl-api.sock" /is-bitcoin-lit)
check "the api user computes the summary (a miss)" grep -q 'X-Cache: miss' <<<"$out"
acl_cached() { [ "$(as_test acl exists is-bitcoin-lit:cache)" = 1 ]; }
wait_for 5 acl_cached
out=$(fcgi "$T/acl-api.sock" /is-bitcoin-lit)
check "and writes the cache (then a hit)" grep -q 'X-Cache: hit' <<<"$out"
check "the refresh user records the refresh's numbers" test \
	"$(as_test acl hget is-bitcoin-lit:refresh:stats successes)" = 1
out=$(fcgi "$T/acl-api.sock" /metrics)
check "the api user reads them for /metrics" bash -c \
	"grep -q '^isbitcoinlit_redis_up 1' <<<\"\$1\" && grep -q '^isbitcoinlit_refresh_successes_total 1' <<<\"\$1\"" _ "$out"
check "ps shows no password on the command line" \
	bash -c "! ps -o args= -p $(cat "$T/acl-api.pid") | grep -q apipw"
check "ps shows the URL with the password masked" \
	bash -c "ps -o args= -p $(cat "$T/acl-api.pid") | grep -q 'isbitcoinlit-api:xxxxx@'"
out=$(redis-cli -s "$T/acl.sock" --user isbitcoinlit-api --pass apipw --no-auth-warning \
	zadd is-bitcoin-lit:price:mean:30s 1 x 2>&1)
check "the api user cannot write the series" grep -q NOPERM <<<"$out"
out=$(redis-cli -s "$T/acl.sock" --user isbitcoinlit-api --pass apipw --no-auth-warning \
	set other-key 1 2>&1)
check "nor any other key" grep -q NOPERM <<<"$out"
out=$(ISBITCOINLIT_REDIS_URL="unix://isbitcoinlit-api:apipw@$T/acl.sock" \
	"$REFRESH" --once 2>&1)
check "a refresh as the api user fails: a permission error, not an outage" \
	grep -q '"error":"redis permission denied".*NOPERM' <<<"$out"
# an api whose Redis user may not read the series: the same, over HTTP
as_test acl acl setuser noseries on '>nspw' resetkeys \
	'~is-bitcoin-lit:cache' -@all +ping +select +get +set +type '+command|info' \
	'+cluster|info' +zrange +zrangebyscore >/dev/null
as_test acl del is-bitcoin-lit:cache >/dev/null
"$API" --listen "$T/acl-api2.sock" --workers 1 \
	--redis-url "unix://noseries:nspw@$T/acl.sock" 2>"$T/acl-api2.log" &
echo $! >"$T/acl-api2.pid"
wait_for 5 test -S "$T/acl-api2.sock"
out=$(fcgi "$T/acl-api2.sock" /is-bitcoin-lit)
check "an api user that may not read the series: 500 redis permission denied" \
	grep -q '"error":"redis permission denied"' <<<"$out"
check "and the log says which right" grep -q 'NOPERM' "$T/acl-api2.log"
kill "$(cat "$T/acl-api2.pid")"
# an api user of an ACL written before documents carried their time left
# (the example's line without +pttl): the documents still served, cached,
# with max-age=0, and the log names the right to add
old_acl=$(sed -n 's/^user isbitcoinlit-api on >[^ ]* //p' "$top_srcdir/deploy/redis-acl.example" |
	sed 's/ +pttl / /; s/ +pttl$//')
# shellcheck disable=SC2086
as_test acl acl setuser oldapi on '>oldpw' $old_acl >/dev/null
check "that user may not run PTTL" bash -c \
	"redis-cli -s '$T/acl.sock' --user oldapi --pass oldpw --no-auth-warning pttl is-bitcoin-lit:cache 2>&1 | grep -q NOPERM"
"$API" --listen "$T/acl-api3.sock" --workers 1 \
	--redis-url "unix://oldapi:oldpw@$T/acl.sock" 2>"$T/acl-api3.log" &
echo $! >"$T/acl-api3.pid"
wait_for 5 test -S "$T/acl-api3.sock"
fcgi "$T/acl-api3.sock" /is-bitcoin-lit >/dev/null
wait_for 5 acl_cached
out=$(fcgi "$T/acl-api3.sock" /is-bitcoin-lit)
check "an api user without PTTL: the cached summary, 200, max-age=0" \
	bash -c "grep -q '^Status: 200' <<<\"\$1\" && grep -q 'X-Cache: hit' <<<\"\$1\" &&
	    grep -q 'Cache-Control: public, max-age=0,' <<<\"\$1\"" _ "$out"
check "and the log says which right to add" grep -q 'give it +pttl' "$T/acl-api3.log"
kill "$(cat "$T/acl-api3.pid")"

# ---- secrets stay out of logs and error bodies ----
out=$(ISBITCOINLIT_REDIS_URL="unix://isbitcoinlit-api:wrong-Secret-42@$T/acl.sock" \
	"$REFRESH" --once 2>&1)
check "a wrong password: a clear error" grep -q 'WRONGPASS' <<<"$out"
check "that never shows the password" bash -c "! grep -q 'wrong-Secret-42' <<<\"\$1\"" _ "$out"
ACLPID=$(cat "$T/acl.pid")
kill "$ACLPID"
acl_gone() { ! kill -0 "$ACLPID" 2>/dev/null; }
wait_for 10 acl_gone
out=$(fcgi "$T/acl-api.sock" /is-bitcoin-lit)
check "Redis gone: 503 redis unavailable" grep -q '"error":"redis unavailable"' <<<"$out"
check "no password in the error body" bash -c "! grep -q apipw <<<\"\$1\"" _ "$out"
kill "$(cat "$T/acl-api.pid")"
wait 2>/dev/null
check "no password in the api's log" bash -c "! grep -q apipw '$T/acl-api.log'"
cat "$T/acl-api.log" | sed "s/^/# /"; finish
