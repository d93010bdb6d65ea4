#!/usr/bin/env bash
# Redis Sentinel, on real processes: a master, a replica and three
# sentinels, each with a password of its own (the data nodes' and the
# sentinels'; an ACL user on the sentinels that may only ask where the
# master is).  The stack follows the
# master through a redis-sentinel:// URL; refreshes WAIT for
# ISBITCOINLIT_MIN_REPLICAS; the master is SIGKILLed under load and the
# API must answer only 200 or 503, then 200 again with no restart, and keep
# every acknowledged sample.  Then a replica serves the API's reads
# (ISBITCOINLIT_REDIS_READ_URL) through tests/redis_gate, which is stopped
# to blackhole it: the breaker keeps the requests off it, logged once.
# Last, every sentinel stopped: 503s that do not ask them each time.
# Run for the sortedset backend, and for the module when
# ISBITCOINLIT_TEST_TS_MODULE names a redistimeseries.so.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli

stack_setup sentinel
# Every request reaches the responders: where each request reads (master, replica) is counted a request at a time (the
# microcache as shipped: faults.sh, contention.sh, crash.sh, e2e.sh, edge.sh).
export ISBITCOINLIT_MICROCACHE=0
# a test cut short leaves no stopped process behind (the gate, sentinels)
trap 'kill -CONT $(cat "$T"/*.pid 2>/dev/null) 2>/dev/null; stack_cleanup' EXIT
GATE=$top_builddir/tests/redis_gate
MPW=data-n0de-secret SPW=sent1nel-secret
export REDISCLI_AUTH=$MPW	# redis-cli on the data nodes (key_is too)
scli() { REDISCLI_AUTH=$SPW redis-cli "$@"; }	# on a sentinel

# start_redis NAME PORT [args...]: a data node on 127.0.0.1:PORT and on
# $T/NAME.sock, with the password, and the module when $MODULE is set
start_redis() {
	local name=$1 port=$2
	shift 2
	mkdir -p "$T/$name"
	redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' \
		--unixsocket "$T/$name.sock" --unixsocketperm 700 \
		--requirepass "$MPW" --masterauth "$MPW" \
		--appendonly yes --appendfsync always --dir "$T/$name" \
		--pidfile "$T/$name.pid" --logfile "$T/$name.log" \
		${MODULE:+--loadmodule "$MODULE"} "$@"
	wait_for 5 redis-cli -p "$port" ping >/dev/null
}

# sentinel_conf I MASTER_PORT: the configuration of sentinel I
sentinel_conf() {
	cat <<-EOF
	port $S
	bind 127.0.0.1
	daemonize yes
	pidfile $T/${B}sentinel$1.pid
	logfile $T/${B}sentinel$1.log
	dir $T
	requirepass $SPW
	sentinel sentinel-pass $SPW
	user lit on >lit-acl-secret -@all +sentinel|get-master-addr-by-name
	sentinel monitor lit 127.0.0.1 $2 2
	sentinel auth-pass lit $MPW
	sentinel down-after-milliseconds lit 1000
	sentinel failover-timeout lit 10000
	EOF
}

# durations FILE: "max X ms, median Y ms" of the curl times (s) in FILE
durations() {
	sort -n "$1" | awk '{ t[NR] = $1 * 1000 } END {
		printf "max %.1f ms, median %.1f ms", t[NR], t[int((NR + 1) / 2)] }'
}

run_backend() {
B=$1 MODULE=${2:-}
echo "# backend $B"
export ISBITCOINLIT_TIMESERIES=$B
unset ISBITCOINLIT_REFRESH_EVERY_S
M=$(free_port) R=$(free_port)
start_redis "${B}m" "$M"
start_redis "${B}r" "$R" --replicaof 127.0.0.1 "$M"
SENTINELS=""
for i in 1 2 3; do
	S=$(free_port)
	sentinel_conf "$i" "$M" >"$T/${B}sentinel$i.conf"
	redis-server "$T/${B}sentinel$i.conf" --sentinel
	SENTINELS="$SENTINELS${SENTINELS:+,}127.0.0.1:$S"
	eval "S$i=$S"
done
master_port() { scli -p "$S1" sentinel get-master-addr-by-name lit | sed -n 2p; }
ready() {	# every sentinel knows the replica and the two others
	local s
	for s in "$S1" "$S2" "$S3"; do
		[ "$(scli -p "$s" sentinel replicas lit | grep -c "^$R\$")" -ge 1 ] &&
		[ "$(scli -p "$s" sentinel sentinels lit | grep -c '^name$')" -ge 2 ] ||
			return 1
	done
	redis-cli -p "$R" info replication | grep -q 'master_link_status:up'
}
if ! wait_for 30 ready; then
	nok "$B: three sentinels see the master, the replica and each other"
	return
fi
ok "$B: three sentinels (with a password) see the master, the replica and each other"

# the first sentinel named is down: the others are asked
export ISBITCOINLIT_REDIS_URL="redis-sentinel://:$MPW@:$SPW@127.0.0.1:$(free_port),$SENTINELS/lit"

# ---- the sentinels' own password and ACL user ----
out=$(ISBITCOINLIT_REDIS_URL="redis-sentinel://:$MPW@lit:lit-acl-secret@$SENTINELS/lit" refresh_once 2>&1)
check "$B: a refresh through sentinels that take an ACL user" \
	grep -q '"status":"ok"' <<<"$out"
out=$(ISBITCOINLIT_REDIS_URL="redis-sentinel://:$MPW@:wrong-sentinel-pw@$SENTINELS/lit" refresh_once 2>&1)
rc=$?
check "$B: a wrong sentinel password: exit 3, WRONGPASS from the sentinel, no password shown (rc $rc)" \
	test "$rc" = 3 -a -n "$(grep -F 'AUTH at sentinel 127.0.0.1:' <<<"$out" | grep -F WRONGPASS)" \
	-a -z "$(grep -e wrong-sentinel-pw -e "$MPW" <<<"$out")"
out=$(ISBITCOINLIT_REDIS_URL="redis-sentinel://:$MPW@$SENTINELS/lit" refresh_once 2>&1)
rc=$?
check "$B: no sentinel password where one is required: exit 3, NOAUTH (rc $rc)" \
	test "$rc" = 3 -a -n "$(grep -F NOAUTH <<<"$out")"

# ---- the master found through the sentinels; WAIT ----
out=$(ISBITCOINLIT_MIN_REPLICAS=1 refresh_once 2>&1)
check "$B: a refresh through the sentinels, acknowledged by 1 replica" \
	grep -q '"status":"ok".*"replicas":1' <<<"$out"
out=$(ISBITCOINLIT_MIN_REPLICAS=2 ISBITCOINLIT_REPLICA_TIMEOUT_MS=300 refresh_once 2>&1)
rc=$?
check "$B: 2 replicas asked for, 1 there: exit 5, \"not replicated\" (rc $rc)" \
	test "$rc" = 5 -a -n "$(grep '"error":"not replicated".*1 of the 2 replicas' <<<"$out")"
out=$(ISBITCOINLIT_REDIS_URL="redis-sentinel://:$MPW@:$SPW@$SENTINELS/nosuch" refresh_once 2>&1)
rc=$?
check "$B: an unknown master name: exit 3 and says so (rc $rc)" \
	test "$rc" = 3 -a -n "$(grep -F 'no master named \"nosuch\"' <<<"$out")"

if ! ISBITCOINLIT_MIN_REPLICAS=1 "$LOCAL" up >"$T/up.log" 2>&1; then
	nok "$B: the stack comes up on the sentinels" "$(cat "$T/up.log")"
	return
fi
ok "$B: the stack comes up on the sentinels"
STATE=$ISBITCOINLIT_STATE_DIR
check "$B: GET /is-bitcoin-lit: 200" test "$(req GET /is-bitcoin-lit)" = 200
cp "$T/b" "$T/summary"
# More samples after the feed's end, acknowledged: these must survive.
sed -e 's/^\[//' -e 's/\]$//' "$T/feed.json" >"$T/body"
awk 'BEGIN { for (i = 0; i < 20; i++) printf ",{\"timestamp\":%.3f,\"mean\":0.5,\"btc_price\":34000}", 1625679626 + i * 30 }' >"$T/more"
printf '[%s%s]\n' "$(cat "$T/body")" "$(cat "$T/more")" >"$T/feed2.json"
out=$(ISBITCOINLIT_MIN_REPLICAS=1 ISBITCOINLIT_UPSTREAM_URL=file://$T/feed2.json refresh_once 2>&1)
check "$B: a second refresh (20 newer samples), acknowledged" grep -q '"replicas":1' <<<"$out"
if [ "$B" = sortedset ]; then
	acked() { redis-cli -p "$1" zrange is-bitcoin-lit:price:mean:30s 0 -1 | cut -d: -f1; }
else
	acked() { redis-cli -p "$1" ts.range is-bitcoin-lit:price:mean:30s - + | awk 'NR % 2'; }
fi
acked "$M" >"$T/acked"
req GET /is-bitcoin-lit >/dev/null
cp "$T/b" "$T/summary"
APIPID=$(cat "$STATE/api.pid")
WORKERS=$(pgrep -P "$APIPID" | sort | tr '\n' ' ')

# ---- the master killed under load ----
load_start 3
sleep 0.5
kill -KILL "$(cat "$T/${B}m.pid")"
KILLED=$(now_ms)
switched() { [ "$(master_port)" = "$R" ]; }
wait_for 30 switched
SWITCHED=$(now_ms)
wait_for 10 serves
sleep 4		# a tail of answers well after the switch
load_stop
check "$B: the sentinels promoted the replica" test "$(master_port)" = "$R"
others=$(awk '$2 != 200 && $2 != 503' "$T/load" | wc -l)
check "$B: master killed under load: only 200 or 503 ($others others)" test "$others" = 0
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
check "$B: 503 no longer than the failover and its margin (${window} ms of 503, failover ${failover} ms)" \
	test "$window" != none -a "${window/none/0}" -le $((3 * failover + 3000))
tailn=$(awk -v s="$((SWITCHED + 3000))" '$1 >= s' "$T/load" | wc -l)
tail200=$(awk -v s="$((SWITCHED + 3000))" '$1 >= s && $2 != 200' "$T/load" | wc -l)
check "$B: every answer is 200 from 3 s after the switch ($tail200 others of $tailn)" \
	test "$tailn" -gt 0 -a "$tail200" = 0
check "$B: no api worker was restarted" \
	test "$(pgrep -P "$APIPID" | sort | tr '\n' ' ')" = "$WORKERS"
req GET /is-bitcoin-lit >/dev/null
check "$B: the same summary from the new master" cmp -s "$T/b" "$T/summary"
acked "$R" >"$T/after"
# the 20 newer samples are among the acknowledged ones
newer=$(awk '$1 >= 1625679626000' "$T/acked" | wc -l)
check "$B: every acknowledged sample is on the new master ($(wc -l <"$T/acked") samples, $newer newer)" \
	test "$newer" = 20 -a -z "$(comm -23 <(sort "$T/acked") <(sort "$T/after"))"
echo "# $B failover: killed at 0, sentinels switched at ${failover} ms;" \
	"503 from $((first503 - KILLED)) ms for ${window} ms;" \
	"$(wc -l <"$T/load") requests, $(awk '$2 == 503' "$T/load" | wc -l) answered 503"

# ---- no replica left; the old master comes back as a replica ----
out=$(ISBITCOINLIT_MIN_REPLICAS=1 ISBITCOINLIT_REPLICA_TIMEOUT_MS=200 refresh_once 2>&1)
rc=$?
check "$B: no replica left: the refresh says \"not replicated\" (rc $rc)" test "$rc" = 5
start_redis "${B}m" "$M"
rejoined() {
	redis-cli -p "$M" info replication | grep -q "master_port:$R" &&
	redis-cli -p "$M" info replication | grep -q 'master_link_status:up'
}
check "$B: the old master rejoins as a replica of the new one" wait_for 30 rejoined
out=$(ISBITCOINLIT_MIN_REPLICAS=1 refresh_once 2>&1)
check "$B: a refresh is acknowledged again" grep -q '"replicas":1' <<<"$out"

# ---- a planned failover: the demoted master answers -READONLY ----
for _ in 1 2 3 4 5 6; do req GET /is-bitcoin-lit >/dev/null; done	# warm every worker
scli -p "$S1" sentinel failover lit >/dev/null
back() {
	[ "$(master_port)" = "$M" ] &&
	redis-cli -p "$M" role | head -n 1 | grep -qx master &&
	redis-cli -p "$R" info replication | grep -q "master_port:$M"
}
check "$B: SENTINEL FAILOVER: the old master is the master again" wait_for 30 back
redis-cli -p "$M" del is-bitcoin-lit:cache >/dev/null
wait_for 5 key_is "$R" is-bitcoin-lit:cache 0
st=$(req GET /is-bitcoin-lit)
check "$B: after the planned failover: 200 ($st)" test "$st" = 200
check "$B: and the cache write of that miss reached the new master" \
	wait_for 5 key_is "$M" is-bitcoin-lit:cache 1
check "$B: still no api worker restarted" \
	test "$(pgrep -P "$APIPID" | sort | tr '\n' ' ')" = "$WORKERS"

# ---- reads from a replica ($R now), through a gate ----
"$LOCAL" down >/dev/null
export ISBITCOINLIT_REFRESH_EVERY_S=3600
gets() { redis-cli -p "$1" info commandstats | tr -d '\r' | sed -n 's/^cmdstat_get:calls=\([0-9]*\),.*/\1/p'; }
rm -f "$T/gate.sock"
"$GATE" "$T/gate.sock" "$T/${B}r.sock" never-sent-trigger "$T/held" &
echo $! >"$T/gate.pid"
wait_for 5 test -S "$T/gate.sock"
open_to_stack "$T/gate.sock"
if ! ISBITCOINLIT_REDIS_READ_URL=unix://:$MPW@$T/gate.sock \
    ISBITCOINLIT_REDIS_READ_RETRY_MS=2000 "$LOCAL" up >"$T/up.log" 2>&1; then
	nok "$B: the stack comes up with a read replica" "$(cat "$T/up.log")"
	return
fi
ok "$B: the stack comes up with a read replica"
# the refresh loop's own GETs (its lock) would blur the count
wait_for 10 test -s "$STATE/every.pid" && kill "$(cat "$STATE/every.pid")"
wait_for 10 key_is "$M" is-bitcoin-lit:refresh:lock 0
before_r=$(gets "$R") before_m=$(gets "$M")
for _ in 1 2 3 4 5; do req GET /is-bitcoin-lit >/dev/null; done
check "$B: GET /is-bitcoin-lit: 200" test "$(req GET /is-bitcoin-lit)" = 200
check "$B: the cache was read on the replica" test "$(( $(gets "$R") - before_r ))" -ge 6
check "$B: and not on the master" test "$(( $(gets "$M") - before_m ))" = 0
redis-cli -p "$M" del is-bitcoin-lit:cache >/dev/null
wait_for 5 key_is "$R" is-bitcoin-lit:cache 0
check "$B: a miss computed from the replica: 200" test "$(req GET /is-bitcoin-lit)" = 200
check "$B: and its cache write went to the master" \
	wait_for 5 key_is "$M" is-bitcoin-lit:cache 1

# ---- the replica blackholed: the gate stopped, its sockets open ----
NW=$(pgrep -P "$(cat "$STATE/api.pid")" | wc -l)
LOGAT=$(wc -l <"$STATE/api.log")
newlog() { tail -n +"$((LOGAT + 1))" "$STATE/api.log"; }
: >"$T/times"
before_m=$(gets "$M")
kill -STOP "$(cat "$T/gate.pid")"
for _ in $(seq 20); do
	curl -s -o /dev/null -m 30 -w '%{http_code} %{time_total}\n' \
	    "$BASE/is-bitcoin-lit" >>"$T/times"
done
st=$(awk '{ print $1 }' "$T/times" | sort | uniq -c | awk '{ printf "%sx%s ", $1, $2 }')
check "$B: replica blackholed: 20 requests, every one 200 from the master ($st)" \
	test "$st" = "20x200 " -a "$(( $(gets "$M") - before_m ))" -ge 20
said=$(newlog | grep -c 'failed: not asked again for 2000 ms')
if [ "$said" -ge 1 ] && [ "$said" -le "$NW" ] &&
    [ "$(newlog | grep -c 'replica read failed')" = 0 ]; then
	ok "$B: the breaker said so once per worker ($said lines, $NW workers), no line per request"
else
	nok "$B: the breaker said so once per worker ($said lines, $NW workers), no line per request" \
	    "$(newlog | tail -n 30)"
fi
awk '{ print $2 }' "$T/times" >"$T/t"
echo "# $B blackholed replica (timeout 1000 ms, $NW workers): 20 requests, $(durations "$T/t")"
kill -CONT "$(cat "$T/gate.pid")"
replica_read() {
	local b
	b=$(gets "$R")
	req GET /is-bitcoin-lit >/dev/null
	[ "$(gets "$R")" -gt "$b" ]
}
check "$B: the replica back: asked again after the retry time" \
	wait_for 20 replica_read
check "$B: and the log says it answers again" \
	eval 'newlog | grep -q "answers again"'
kill "$(cat "$T/gate.pid")"
kill -KILL "$(cat "$T/${B}r.pid")"
check "$B: the replica gone: 200 from the master" test "$(req GET /is-bitcoin-lit)" = 200

# ---- every sentinel unreachable (stopped): a bounded, remembered lookup ----
for i in 1 2 3; do kill -STOP "$(cat "$T/${B}sentinel$i.pid")"; done
redis-cli -p "$M" client kill type normal >/dev/null	# every process reconnects
: >"$T/times"
for _ in $(seq 20); do
	curl -s -o /dev/null -m 30 -w '%{http_code} %{time_total}\n' \
	    "$BASE/is-bitcoin-lit" >>"$T/times"
done
st=$(awk '{ print $1 }' "$T/times" | sort | uniq -c | awk '{ printf "%sx%s ", $1, $2 }')
check "$B: every sentinel stopped: 503 ($st)" test "$st" = "20x503 "
check "$B: a lookup asks the three within the timeout, its failure remembered" \
	grep -q 'asked again in' "$STATE/api.log"
awk '{ print $2 }' "$T/times" >"$T/t"
echo "# $B every sentinel stopped (timeout 1000 ms, 4 sentinels named): 20 requests, $(durations "$T/t")"
for i in 1 2 3; do kill -CONT "$(cat "$T/${B}sentinel$i.pid")"; done
check "$B: the sentinels back: 200 again" wait_for 20 serves
"$LOCAL" down >/dev/null
for f in "$T/$B"*.pid; do kill "$(cat "$f")" 2>/dev/null; done
}

run_backend sortedset
if [ -n "${ISBITCOINLIT_TEST_TS_MODULE:-}" ]; then
	run_backend redistimeseries "$ISBITCOINLIT_TEST_TS_MODULE"
else
	skip "the Sentinel checks on redistimeseries" "ISBITCOINLIT_TEST_TS_MODULE is not set"
fi
finish
