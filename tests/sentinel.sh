#!/usr/bin/env bash
# Redis Sentinel, on real processes: a master, a replica and three
# sentinels.  The stack follows the master through a redis-sentinel:// URL;
# refreshes WAIT for ISBITCOINLIT_MIN_REPLICAS; the master is SIGKILLed
# under load and the API must answer only 200 or 503, then 200 again with
# no restart, and keep every acknowledged sample.  Then a replica serves
# the API's reads (ISBITCOINLIT_REDIS_READ_URL).  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli

stack_setup sentinel

M=$(free_port) R=$(free_port)
# start_redis NAME PORT [args...]: a data node on 127.0.0.1:PORT
start_redis() {
	local name=$1 port=$2
	shift 2
	mkdir -p "$T/$name"
	redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' \
		--appendonly yes --appendfsync always --dir "$T/$name" \
		--pidfile "$T/$name.pid" --logfile "$T/$name.log" "$@"
	wait_for 5 redis-cli -p "$port" ping >/dev/null
}
start_redis m "$M"
start_redis r "$R" --replicaof 127.0.0.1 "$M"
SENTINELS=""
for i in 1 2 3; do
	S=$(free_port)
	cat >"$T/sentinel$i.conf" <<EOF
port $S
bind 127.0.0.1
daemonize yes
pidfile $T/sentinel$i.pid
logfile $T/sentinel$i.log
dir $T
sentinel monitor lit 127.0.0.1 $M 2
sentinel down-after-milliseconds lit 1000
sentinel failover-timeout lit 10000
EOF
	redis-server "$T/sentinel$i.conf" --sentinel
	SENTINELS="$SENTINELS${SENTINELS:+,}127.0.0.1:$S"
	eval "S$i=$S"
done
master_port() { redis-cli -p "$S1" sentinel get-master-addr-by-name lit | sed -n 2p; }
ready() {	# every sentinel knows the replica and the two others
	local s
	for s in "$S1" "$S2" "$S3"; do
		[ "$(redis-cli -p "$s" sentinel replicas lit | grep -c "^$R\$")" -ge 1 ] &&
		[ "$(redis-cli -p "$s" sentinel sentinels lit | grep -c '^name$')" -ge 2 ] ||
			return 1
	done
	redis-cli -p "$R" info replication | grep -q 'master_link_status:up'
}
check "three sentinels see the master, the replica and each other" wait_for 30 ready

# the first sentinel named is down: the others are asked
export ISBITCOINLIT_REDIS_URL="redis-sentinel://127.0.0.1:$(free_port),$SENTINELS/lit"
export ISBITCOINLIT_TIMESERIES=sortedset

# ---- the master found through the sentinels; WAIT ----
out=$(ISBITCOINLIT_MIN_REPLICAS=1 refresh_once 2>&1)
check "a refresh through the sentinels, acknowledged by 1 replica" \
	grep -q '"status":"ok".*"replicas":1' <<<"$out"
out=$(ISBITCOINLIT_MIN_REPLICAS=2 ISBITCOINLIT_REPLICA_TIMEOUT_MS=300 refresh_once 2>&1)
rc=$?
check "2 replicas asked for, 1 there: exit 5, \"not replicated\" (rc $rc)" \
	test "$rc" = 5 -a -n "$(grep '"error":"not replicated".*1 of the 2 replicas' <<<"$out")"
out=$(ISBITCOINLIT_REDIS_URL="redis-sentinel://$SENTINELS/nosuch" refresh_once 2>&1)
rc=$?
check "an unknown master name: exit 3 and says so (rc $rc)" \
	test "$rc" = 3 -a -n "$(grep -F 'no master named \"nosuch\"' <<<"$out")"

if ! ISBITCOINLIT_MIN_REPLICAS=1 "$LOCAL" up >"$T/up.log" 2>&1; then
	nok "the stack comes up on the sentinels" "$(cat "$T/up.log")"
	finish
fi
ok "the stack comes up on the sentinels"
STATE=$ISBITCOINLIT_STATE_DIR
check "GET /is-bitcoin-lit: 200" test "$(req GET /is-bitcoin-lit)" = 200
cp "$T/b" "$T/summary"
# More samples after the feed's end, acknowledged: these must survive.
sed -e 's/^\[//' -e 's/\]$//' "$T/feed.json" >"$T/body"
awk 'BEGIN { for (i = 0; i < 20; i++) printf ",{\"timestamp\":%.3f,\"mean\":0.5,\"btc_price\":34000}", 1625679626 + i * 30 }' >"$T/more"
printf '[%s%s]\n' "$(cat "$T/body")" "$(cat "$T/more")" >"$T/feed2.json"
out=$(ISBITCOINLIT_MIN_REPLICAS=1 ISBITCOINLIT_UPSTREAM_URL=file://$T/feed2.json refresh_once 2>&1)
check "a second refresh (20 newer samples), acknowledged" grep -q '"replicas":1' <<<"$out"
KEY=is-bitcoin-lit:price:mean:30s
redis-cli -p "$M" zrange "$KEY" 0 -1 >"$T/acked"
req GET /is-bitcoin-lit >/dev/null
cp "$T/b" "$T/summary"
APIPID=$(cat "$STATE/api.pid")
WORKERS=$(pgrep -P "$APIPID" | sort | tr '\n' ' ')

# ---- the master killed under load ----
load_start 3
sleep 0.5
kill -KILL "$(cat "$T/m.pid")"
KILLED=$(now_ms)
switched() { [ "$(master_port)" = "$R" ]; }
wait_for 30 switched
SWITCHED=$(now_ms)
wait_for 10 serves
sleep 4		# a tail of answers well after the switch
load_stop
check "the sentinels promoted the replica" test "$(master_port)" = "$R"
others=$(awk '$2 != 200 && $2 != 503' "$T/load" | wc -l)
check "master killed under load: only 200 or 503 ($others others)" test "$others" = 0
first503=$(awk -v k="$KILLED" '$1 >= k && $2 == 503 { print $1; exit }' "$T/load")
last503=$(awk '$2 == 503 { t = $1 } END { print (t == "" ? 0 : t) }' "$T/load")
first200=$(awk -v l="$last503" '$1 > l && $2 == 200 { print $1; exit }' "$T/load")
failover=$((SWITCHED - KILLED))
if [ -z "$first503" ]; then
	window=0	# the switch fell between two requests
elif [ -n "$first200" ]; then
	window=$((first200 - first503))
else
	window=none	# no 200 after the last 503: the service never came back
fi
# A bound far from the typical value (about the failover): the window
# measures the failover, the benchmark of it is the log line below.
check "503 no longer than the failover and its margin (${window} ms of 503, failover ${failover} ms)" \
	test "$window" != none -a "${window/none/0}" -le $((3 * failover + 3000))
tailn=$(awk -v s="$((SWITCHED + 3000))" '$1 >= s' "$T/load" | wc -l)
tail200=$(awk -v s="$((SWITCHED + 3000))" '$1 >= s && $2 != 200' "$T/load" | wc -l)
check "every answer is 200 from 3 s after the switch ($tail200 others of $tailn)" \
	test "$tailn" -gt 0 -a "$tail200" = 0
check "no api worker was restarted" \
	test "$(pgrep -P "$APIPID" | sort | tr '\n' ' ')" = "$WORKERS"
req GET /is-bitcoin-lit >/dev/null
check "the same summary from the new master" cmp -s "$T/b" "$T/summary"
redis-cli -p "$R" zrange "$KEY" 0 -1 >"$T/after"
# the 20 newer samples are among the acknowledged ones
newer=$(awk -F: '$1 >= 1625679626000' "$T/acked" | wc -l)
check "every acknowledged sample is on the new master ($(wc -l <"$T/acked") samples, $newer newer)" \
	test "$newer" = 20 -a -z "$(comm -23 <(sort "$T/acked") <(sort "$T/after"))"
echo "# failover: killed at 0, sentinels switched at ${failover} ms;" \
	"503 from $((first503 - KILLED)) ms for ${window} ms;" \
	"$(wc -l <"$T/load") requests, $(awk '$2 == 503' "$T/load" | wc -l) answered 503"

# ---- no replica left; the old master comes back as a replica ----
out=$(ISBITCOINLIT_MIN_REPLICAS=1 ISBITCOINLIT_REPLICA_TIMEOUT_MS=200 refresh_once 2>&1)
rc=$?
check "no replica left: the refresh says \"not replicated\" (rc $rc)" test "$rc" = 5
start_redis m "$M"
rejoined() {
	redis-cli -p "$M" info replication | grep -q "master_port:$R" &&
	redis-cli -p "$M" info replication | grep -q 'master_link_status:up'
}
check "the old master rejoins as a replica of the new one" wait_for 30 rejoined
out=$(ISBITCOINLIT_MIN_REPLICAS=1 refresh_once 2>&1)
check "a refresh is acknowledged again" grep -q '"replicas":1' <<<"$out"

# ---- a planned failover: the demoted master answers -READONLY ----
for _ in 1 2 3 4 5 6; do req GET /is-bitcoin-lit >/dev/null; done	# warm every worker
redis-cli -p "$S1" sentinel failover lit >/dev/null
back() {
	[ "$(master_port)" = "$M" ] &&
	redis-cli -p "$M" role | head -n 1 | grep -qx master &&
	redis-cli -p "$R" info replication | grep -q "master_port:$M"
}
check "SENTINEL FAILOVER: the old master is the master again" wait_for 30 back
redis-cli -p "$M" del is-bitcoin-lit:cache >/dev/null
wait_for 5 key_is "$R" is-bitcoin-lit:cache 0
st=$(req GET /is-bitcoin-lit)
check "after the planned failover: 200 ($st)" test "$st" = 200
check "and the cache write of that miss reached the new master" \
	wait_for 5 key_is "$M" is-bitcoin-lit:cache 1
check "still no api worker restarted" \
	test "$(pgrep -P "$APIPID" | sort | tr '\n' ' ')" = "$WORKERS"

# ---- reads from a replica ($R now) ----
"$LOCAL" down >/dev/null
export ISBITCOINLIT_REFRESH_EVERY_S=3600
gets() { redis-cli -p "$1" info commandstats | tr -d '\r' | sed -n 's/^cmdstat_get:calls=\([0-9]*\),.*/\1/p'; }
if ! ISBITCOINLIT_REDIS_READ_URL=redis://127.0.0.1:$R "$LOCAL" up >"$T/up.log" 2>&1; then
	nok "the stack comes up with a read replica" "$(cat "$T/up.log")"
	finish
fi
ok "the stack comes up with a read replica"
# the refresh loop's own GETs (its lock) would blur the count
wait_for 10 test -s "$STATE/every.pid" && kill "$(cat "$STATE/every.pid")"
wait_for 10 key_is "$M" is-bitcoin-lit:refresh:lock 0
before_r=$(gets "$R") before_m=$(gets "$M")
for _ in 1 2 3 4 5; do req GET /is-bitcoin-lit >/dev/null; done
check "GET /is-bitcoin-lit: 200" test "$(req GET /is-bitcoin-lit)" = 200
check "the cache was read on the replica" test "$(( $(gets "$R") - before_r ))" -ge 6
check "and not on the master" test "$(( $(gets "$M") - before_m ))" = 0
redis-cli -p "$M" del is-bitcoin-lit:cache >/dev/null
wait_for 5 key_is "$R" is-bitcoin-lit:cache 0
check "a miss computed from the replica: 200" test "$(req GET /is-bitcoin-lit)" = 200
check "and its cache write went to the master" \
	wait_for 5 key_is "$M" is-bitcoin-lit:cache 1
kill -KILL "$(cat "$T/r.pid")"
check "the replica gone: 200 from the master" test "$(req GET /is-bitcoin-lit)" = 200
finish
