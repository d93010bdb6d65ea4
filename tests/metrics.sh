#!/usr/bin/env bash
# GET /metrics on the local stack through real nginx: promtool accepts the
# text; counters move with requests, whichever worker answers; a worker
# killed shows as a crash and a start; the refresh's numbers (a --once
# process's failure among them) come from Redis; Redis down gives
# isbitcoinlit_redis_up 0 and the pool's counters still; 127.0.0.2 is
# refused.  Then a real Prometheus scrapes the stack and a counter is read
# back through its HTTP query API.  TAP.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli promtool prometheus

stack_setup metrics
# Every request reaches the responders: the counters of the responders are counted a request at a time (the
# microcache as shipped: faults.sh, contention.sh, crash.sh, e2e.sh, edge.sh).
export ISBITCOINLIT_MICROCACHE=0
REFRESH=$top_builddir/src/isbitcoinlit-refresh
stack_up

# metric NAME{LABELS}: its value in a fresh scrape ("" when absent)
metric() {
	curl -s -m 5 "$BASE/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
LIT='isbitcoinlit_api_requests_total{route="/is-bitcoin-lit",code="200"}'

st=$(req GET /metrics)
check "GET /metrics: 200" test "$st" = 200
check "Content-Type is the Prometheus text format" \
	test "$(hdr Content-Type)" = "text/plain; version=0.0.4; charset=utf-8"
check "Cache-Control: no-store" test "$(hdr Cache-Control)" = no-store
check "no CORS header" bash -c "! grep -qi '^Access-Control' '$T/h'"
promtool check metrics <"$T/b" >"$T/promtool.out" 2>&1
check "promtool check metrics passes, with nothing to say ($(head -c 300 "$T/promtool.out"))" \
	test "$?" = 0 -a ! -s "$T/promtool.out"
cp "$T/b" "$T/metrics.first"
check "the pool's size: 2 workers, both running" bash -c \
	"grep -qx 'isbitcoinlit_api_workers 2' '$T/b' && grep -qx 'isbitcoinlit_api_workers_running 2' '$T/b'"
check "Redis was read" grep -qx 'isbitcoinlit_redis_up 1' "$T/b"
check "the first refresh is counted, with its samples" \
	awk '$1 == "isbitcoinlit_refresh_successes_total" && $2 >= 1 { f = 1 }
	     $1 == "isbitcoinlit_refresh_samples_received_total" && $2 >= 2900 { g = 1 }
	     END { exit !(f && g) }' "$T/b"
st=$(req GET /healthz)
asof=$(grep -o '"as_of":"[^"]*"' "$T/b" | head -n 1 | cut -d'"' -f4)
newest=$(metric isbitcoinlit_newest_sample_timestamp_seconds)
check "the newest sample's time is /healthz's as_of ($newest, $asof)" \
	test "${newest%.*}" = "$(date -u -d "$asof" +%s)"
# HEAD on a raw connection: curl would wait for the body Content-Length promises
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'HEAD /metrics HTTP/1.0\r\nHost: x\r\n\r\n' >&3
timeout 5 cat <&3 >"$T/raw"
exec 3<&-
check "HEAD /metrics: 200 with a Content-Length, headers only" \
	test "$(head -c 12 "$T/raw")" = "HTTP/1.1 200" -a \
	-n "$(grep '^Content-Length: [1-9]' "$T/raw")" -a \
	"$(sed '1,/^\r$/d' "$T/raw" | wc -c)" = 0
st=$(req POST /metrics)
check "POST /metrics: 405, Allow: GET, HEAD" test "$st:$(hdr Allow)" = "405:GET, HEAD"
st=$(curl -s -o "$T/b" -w '%{http_code}' --interface 127.0.0.2 "$BASE/metrics")
check "GET /metrics from 127.0.0.2 (not allowed): 403" test "$st" = 403

# ---- counters move, and any worker answers for the whole pool ----
v0=$(metric "$LIT")
h0=$(metric 'isbitcoinlit_api_cache_lookups_total{result="hit"}')
for _ in 1 2 3 4 5; do req GET /is-bitcoin-lit >/dev/null; done
etag=$(hdr ETag)
st=$(req GET /is-bitcoin-lit -H "If-None-Match: $etag")
same=1
for _ in 1 2 3 4 5 6; do
	[ "$(metric "$LIT")" = $((v0 + 5)) ] || same=0
done
check "five GETs: the 200 counter moved by five in six scrapes ($v0 then $(metric "$LIT"))" \
	test "$same" = 1
check "the 304 is counted apart" test "$(metric \
	'isbitcoinlit_api_requests_total{route="/is-bitcoin-lit",code="304"}')" -ge 1
check "six cache hits" test "$(metric \
	'isbitcoinlit_api_cache_lookups_total{result="hit"}')" = $((h0 + 6))
check "the durations are counted" test "$(metric \
	'isbitcoinlit_api_request_duration_seconds_count{route="/is-bitcoin-lit"}')" -ge $((v0 + 6))

# ---- a worker killed: a crash and a start ----
c0=$(metric isbitcoinlit_api_worker_crashes_total)
s0=$(metric isbitcoinlit_api_worker_starts_total)
victim=$(pgrep -P "$(cat "$STATE/api.pid")" | head -n 1)
kill -KILL "$victim"
respawned() {
	[ "$(metric isbitcoinlit_api_worker_crashes_total)" = $((c0 + 1)) ] &&
	[ "$(metric isbitcoinlit_api_worker_starts_total)" = $((s0 + 1)) ] &&
	[ "$(metric isbitcoinlit_api_workers_running)" = 2 ]
}
check "a worker SIGKILLed: one crash, one start, two running again" \
	wait_for 10 respawned

# ---- the refresh's numbers: kept in Redis, --once processes count ----
# a --once refresh with these variables, again while the stack's loop
# holds the lock (exit 4)
once_unlocked() {
	for _ in $(seq 100); do
		env "$@" ISBITCOINLIT_REDIS_URL="$(cat "$STATE/redis.url")" \
			${TEST_PREFIX:-} "$REFRESH" --once >/dev/null 2>&1
		[ "$?" = 4 ] || break
		sleep 0.1
	done
}
f0=$(metric 'isbitcoinlit_refresh_failures_total{cause="upstream"}')
once_unlocked ISBITCOINLIT_UPSTREAM_URL="file://$T/no-such-feed.json"
check "a --once refresh that failed upstream is counted" \
	test "$(metric 'isbitcoinlit_refresh_failures_total{cause="upstream"}')" = $((f0 + 1))
p0=$(metric 'isbitcoinlit_refresh_feed_failures_total{role="price"}')
s0=$(metric 'isbitcoinlit_refresh_feed_failures_total{role="sentiment"}')
# a price feed that fails, the sentiment's works
once_unlocked ISBITCOINLIT_PRICE_URL="file://$T/no-such-price.json"
check "a failed price feed is counted for role price, not sentiment" \
	test "$(metric 'isbitcoinlit_refresh_feed_failures_total{role="price"}')" = $((p0 + 1)) -a \
	"$(metric 'isbitcoinlit_refresh_feed_failures_total{role="sentiment"}')" = "$s0"
n0=$(metric isbitcoinlit_refresh_successes_total)
ISBITCOINLIT_REDIS_URL=$(cat "$STATE/redis.url") refresh_once >/dev/null
check "a --once refresh that succeeded is counted" \
	test "$(metric isbitcoinlit_refresh_successes_total)" -ge $((n0 + 1))
check "its end is the last success" test "$(metric \
	isbitcoinlit_refresh_last_success_timestamp_seconds | cut -d. -f1)" -ge $(( $(now_ms) / 1000 - 60 ))

# ---- Redis down: the pool's counters still, redis_up 0; then back ----
RPID=$($RCLI info server | tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }')
e0=$(metric isbitcoinlit_api_redis_errors_total)
kill -TERM "$RPID"
gone() { ! kill -0 "$1" 2>/dev/null; }
wait_for 10 gone "$RPID"
st=$(req GET /metrics)
check "Redis down: /metrics still 200" test "$st" = 200
check "isbitcoinlit_redis_up 0, no number kept in Redis" \
	bash -c "grep -qx 'isbitcoinlit_redis_up 0' '$T/b' && ! grep -q '^isbitcoinlit_refresh_' '$T/b'"
check "the pool's counters are still there" grep -q "^$LIT" "$T/b"
check "the failed Redis read is counted" test "$(metric isbitcoinlit_api_redis_errors_total)" -gt "$e0"
redis-server "$STATE/redis.conf"
up() { [ "$($RCLI ping 2>/dev/null)" = PONG ]; }
wait_for 10 up
back() { [ "$(metric isbitcoinlit_redis_up)" = 1 ]; }
check "Redis back: isbitcoinlit_redis_up 1 again, by itself" wait_for 10 back

# ---- a real Prometheus scrapes the stack ----
PP=$(free_port)
mkdir -p "$T/prom"
cat >"$T/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: isbitcoinlit
    static_configs:
      - targets: ['127.0.0.1:$PORT']
EOF
promtool check config "$T/prometheus.yml" >/dev/null 2>&1
check "promtool accepts the scrape configuration" test "$?" = 0
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/prom" \
	--web.listen-address="127.0.0.1:$PP" >"$T/prometheus.log" 2>&1 &
echo $! >"$T/prometheus.pid"
want=$(metric "$LIT")
# query EXPR: the first result's value, from Prometheus's HTTP API
query() {
	curl -s -m 5 -G "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
		grep -o '"value":\[[^]]*\]' | head -n 1 | cut -d'"' -f4
}
scraped() { got=$(query "$LIT"); [ -n "$got" ] && [ "$got" -ge "$want" ]; }
got=""
check "the 200 counter is at least 5 before Prometheus starts ($want)" test "$want" -ge 5
check "Prometheus scraped the stack: the 200 counter through /api/v1/query" \
	wait_for 60 scraped
echo "# Prometheus answered $got, /metrics said $want before"
check "Prometheus sees the target up" test "$(query 'up{job="isbitcoinlit"}')" = 1
check "and the refresh's numbers" test -n "$(query isbitcoinlit_refresh_successes_total)"
kill "$(cat "$T/prometheus.pid")"
wait "$(cat "$T/prometheus.pid")" 2>/dev/null
rm -f "$T/prometheus.pid"

finish
