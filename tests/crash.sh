#!/usr/bin/env bash
# A refresh that dies half-way, one that outlives its lock, and an API
# cache fill that loses the race to a refresh, against the local stack.  tests/redis_gate stands between the refresh and the real
# Redis and stops it at its cache write: killed there (SIGKILL, after the
# series were written), or held there while its lock expires and another
# refresh runs.  The API must stay consistent (a whole summary, old or
# new) and the next refresh must converge.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli cgi-fcgi

stack_setup crash
export ISBITCOINLIT_REFRESH_EVERY_S=3600	# the test's refreshes only
stack_up
PREFIX=is-bitcoin-lit
GATE=$top_builddir/tests/redis_gate
REFRESH=$top_builddir/src/isbitcoinlit-refresh

# feed N: the stack's feed and N hours more, values set by N
feed() {
	sed -e 's/^\[//' -e 's/\]$//' "$T/feed.json" >"$T/body"
	awk -v n="$1" 'BEGIN { for (i = 0; i < 120 * n; i++)
		printf ",{\"timestamp\":%.3f,\"mean\":%.3f,\"btc_price\":%d}",
		    1625679626 + i * 30, 0.1 * n + i / 10000, 30000 + 1000 * n + i }' >"$T/more"
	printf '[%s%s]\n' "$(cat "$T/body")" "$(cat "$T/more")" >"$T/feed$1.json"
}
feed 1
feed 2
feed 3
feed 4
# the summary the series hold now, computed (a miss of the api, asked at
# its socket: nginx's microcache may hold an answer of the last 2 s)
computed() {
	$RCLI del "$PREFIX:cache" >/dev/null
	fcgi "$API_SOCK" /is-bitcoin-lit | tr -d '\r' | sed '1,/^$/d' >"$T/b"
	cat "$T/b"
}
cached() { $RCLI get "$PREFIX:cache"; }
# refresh_direct FEED: one refresh straight at Redis, retried while locked
refresh_direct() {
	ISBITCOINLIT_REDIS_URL=unix://$STATE/redis.sock \
	    ISBITCOINLIT_UPSTREAM_URL=file://$1 refresh_once >/dev/null 2>&1
}
gate_at() {	# REDIS_SOCKET TRIGGER [gate options]: a gate on $T/gate.sock
	local sock=$1 trigger=$2
	shift 2
	rm -f "$T/held"
	"$GATE" "$@" "$T/gate.sock" "$sock" "$trigger" "$T/held" &
	GATEPID=$!
	wait_for 5 test -S "$T/gate.sock"
}
# responder NAME ENV...: a refresh responder on $T/NAME.sock with those
# settings (its pid in $RESPONDER); stop it with responder_stop
responder() {
	local name=$1
	shift
	env ISBITCOINLIT_REFRESH_TOKEN= ISBITCOINLIT_REFRESH_OPEN=on "$@" ${TEST_PREFIX:-} "$REFRESH" --listen "$T/$name.sock" --workers 1 \
	    2>"$T/$name.log" &
	RESPONDER=$!
	echo "$RESPONDER" >"$T/$name.pid"
	wait_for 10 test -S "$T/$name.sock"
}
responder_stop() { kill "$RESPONDER"; wait "$RESPONDER" 2>/dev/null; }
gate_stop() { kill "$GATEPID" 2>/dev/null; wait "$GATEPID" 2>/dev/null; }
fcgi() {	# SOCKET URI [METHOD]: a FastCGI request straight at a responder
	env -i REQUEST_METHOD="${3:-GET}" DOCUMENT_URI="$2" CONTENT_LENGTH=0 \
	    cgi-fcgi -bind -connect "$1" 2>/dev/null
}

API_SOCK=$STATE/api.sock
[ -s "$STATE/run.dir" ] && API_SOCK=$(cat "$STATE/run.dir")/api.sock
req GET /is-bitcoin-lit >/dev/null
cp "$T/b" "$T/s0"

# ---- killed between the series write and the cache write ----
gate_at "$STATE/redis.sock" "$PREFIX:cache" -k "$T/victim.pid"
# a short lock (1 s upstream + 20 x 100 ms + 2 s) for the test's sake
ISBITCOINLIT_REDIS_URL=unix://$T/gate.sock ISBITCOINLIT_REDIS_TIMEOUT_MS=100 \
ISBITCOINLIT_UPSTREAM_TIMEOUT_S=1 ISBITCOINLIT_UPSTREAM_URL=file://$T/feed1.json \
	${TEST_PREFIX:-} "$REFRESH" --once >/dev/null 2>&1 &
VICTIM=$!
echo "$VICTIM" >"$T/victim.pid"
wait "$VICTIM"
vrc=$?
check "the refresh was killed at its cache write (exit $vrc)" \
	test "$vrc" = 137 -a -f "$T/held"
gate_stop
n1=$($RCLI zcard "$PREFIX:price:mean:30s")
newest=$($RCLI zrange "$PREFIX:price:mean:30s" -1 -1 withscores | tail -n 1)
check "its series write is there (newest sample $newest), its lock too" \
	test "$newest" -ge 1625679626000 -a "$($RCLI exists "$PREFIX:refresh:lock")" = 1
check "the API still serves the old summary from the cache" answers_same "$T/s0"
computed >"$T/s1"
check "a miss computes the summary of what the series hold, a new one" \
	bash -c "! cmp -s '$T/s0' '$T/s1'"
check "and it is a whole Summary document" body_is_schema Summary
ISBITCOINLIT_REDIS_URL=unix://$STATE/redis.sock ISBITCOINLIT_UPSTREAM_URL=file://$T/feed1.json \
	"$REFRESH" --once >/dev/null 2>&1
rc=$?
check "the next refresh meets the dead one's lock: exit 4 ($rc)" test "$rc" = 4
# the lock ends by its TTL (about 5 s); then the refresh goes through
converged() { refresh_direct "$T/feed1.json" && [ "$(cached)" = "$(cat "$T/s1")" ]; }
check "after the lock's TTL the next refresh converges: the cache holds the summary of the series" \
	wait_for 15 converged
check "the API serves it" answers_same "$T/s1"
check "no sample lost or doubled ($($RCLI zcard "$PREFIX:price:mean:30s") of $n1)" \
	test "$($RCLI zcard "$PREFIX:price:mean:30s")" = "$n1"

# ---- a refresh that outlives its lock ----
# Held at its last check of the lock, before its cache write (the third
# command naming the lock: the SET NX, the check before the series, this).
gate_at "$STATE/redis.sock" "$PREFIX:refresh:lock" -n 3
ISBITCOINLIT_REDIS_URL=unix://$T/gate.sock ISBITCOINLIT_REDIS_TIMEOUT_MS=20000 \
ISBITCOINLIT_UPSTREAM_URL=file://$T/feed2.json \
	${TEST_PREFIX:-} "$REFRESH" --once >"$T/slow.out" 2>&1 &
SLOW=$!
check "a refresh held before its cache write" wait_for 20 test -f "$T/held"
computed >"$T/s2"
check "its series are written: a miss computes a new summary" \
	bash -c "! cmp -s '$T/s1' '$T/s2'"
# its lock expires while it is still working
$RCLI del "$PREFIX:refresh:lock" >/dev/null
check "its lock gone, another refresh runs to its end" refresh_direct "$T/feed3.json"
computed >"$T/s3"
check "and commits the newest data" bash -c "! cmp -s '$T/s2' '$T/s3'"
# meanwhile a third refresh holds the lock: the slow one must not free it
$RCLI set "$PREFIX:refresh:lock" someone-else px 60000 >/dev/null
kill -USR1 "$GATEPID"
wait "$SLOW"
src=$?
check "the slow refresh finds its lock gone and stops: exit 4 ($src)" \
	test "$src" = 4 -a -n "$(grep -F 'lock expired before the cache was written' "$T/slow.out")"
check "it leaves the lock it no longer owns alone" \
	test "$($RCLI get "$PREFIX:refresh:lock")" = someone-else
check "it wrote no cache: the newest summary stays" test "$(cached)" = "$(cat "$T/s3")"
check "the API serves it" answers_same "$T/s3"
$RCLI del "$PREFIX:refresh:lock" >/dev/null
gate_stop
check "the next refresh converges on the newest data" refresh_direct "$T/feed3.json"
check "the cache holds the summary of the series" test "$(cached)" = "$(cat "$T/s3")"

# ---- an API fill that loses the race to a refresh ----
# The api computes a summary on a miss and writes the cache after its
# answer: held there, while a refresh commits newer data and its summary.
API=$top_builddir/src/isbitcoinlit-api
$RCLI del "$PREFIX:cache" >/dev/null
gate_at "$STATE/redis.sock" $'SET\r\n$20\r\nis-bitcoin-lit:cache'
ISBITCOINLIT_REDIS_URL=unix://$T/gate.sock ${TEST_PREFIX:-} "$API" \
	--listen "$T/gapi.sock" --workers 1 2>"$T/gapi.log" &
GAPI=$!
echo "$GAPI" >"$T/gapi.pid"
wait_for 10 test -S "$T/gapi.sock"
out=$(fcgi "$T/gapi.sock" /is-bitcoin-lit)
check "a miss answers the summary of the series" grep -q 'X-Cache: miss' <<<"$out"
check "its cache fill is held" wait_for 10 test -f "$T/held"
check "meanwhile a refresh commits newer data" refresh_direct "$T/feed4.json"
cached >"$T/s4"
check "its summary is in the cache" bash -c "! cmp -s '$T/s3' '$T/s4'"
kill -USR1 "$GATEPID"
# the worker's next request is served once its fill is done
fcgi "$T/gapi.sock" /healthz >/dev/null
check "the late fill does not replace the newer summary" \
	test "$(cached)" = "$(cat "$T/s4")"
kill "$GAPI"
wait "$GAPI" 2>/dev/null
gate_stop

# ---- the reply to the lock's SET NX lost ----
# The gate lets the SET through and drops its reply with the connection.
lock_gate() { gate_at "$STATE/redis.sock" $'NX\r\n$2\r\nPX' -c -n "$1"; }	# at the Nth lock
no_lock() { [ "$($RCLI exists "$PREFIX:refresh:lock")" = 0 ]; }
# a responder whose connection was open: the transport sends the SET again
lock_gate 2
responder rf ISBITCOINLIT_REDIS_URL=unix://$T/gate.sock \
	ISBITCOINLIT_UPSTREAM_URL=file://$T/feed4.json
out=$(fcgi "$T/rf.sock" /refresh POST)
check "a refresh over FastCGI (its connection now open)" grep -q 'Status: 200' <<<"$out"
out=$(fcgi "$T/rf.sock" /refresh POST)
check "the next one's SET NX reply lost, sent again: the lock is its own, 200" \
	test -f "$T/held" -a -n "$(grep 'Status: 200' <<<"$out")"
check "and it released its lock" no_lock
responder_stop
gate_stop
# a fresh connection: no second try, the refresh fails, the lock is freed
lock_gate 1
ISBITCOINLIT_REDIS_URL=unix://$T/gate.sock ISBITCOINLIT_UPSTREAM_URL=file://$T/feed4.json \
	${TEST_PREFIX:-} "$REFRESH" --once >/dev/null 2>&1
rc=$?
check "--once whose SET NX reply is lost: Redis failed, exit 3 ($rc)" \
	test "$rc" = 3 -a -f "$T/held"
check "the lock Redis took for it is freed at once, not left for its TTL" no_lock
gate_stop
ISBITCOINLIT_REDIS_URL=unix://$STATE/redis.sock ISBITCOINLIT_UPSTREAM_URL=file://$T/feed4.json \
	"$REFRESH" --once >/dev/null 2>&1
rc=$?
check "the next refresh runs at once (exit $rc)" test "$rc" = 0

# ---- WAIT after writes that went over two connections ----
# A master with a replica; the refresh responder's cache write loses its
# reply, so the transport sends it again on a new connection: WAIT there
# would vouch for that write alone, not for the series written before.
MP=$(free_port)
RP=$(free_port)
[ "$RP" = "$MP" ] && RP=$((MP + 1))
mkdir -p "$T/m" "$T/r"
redis-server --port "$MP" --bind 127.0.0.1 --unixsocket "$T/m/sock" --save '' \
	--daemonize yes --dir "$T/m" --pidfile "$T/m.pid" --logfile "$T/m/log"
redis-server --port "$RP" --bind 127.0.0.1 --save '' --replicaof 127.0.0.1 "$MP" \
	--daemonize yes --dir "$T/r" --pidfile "$T/r.pid" --logfile "$T/r/log"
synced() { redis-cli -p "$MP" info replication | grep -q 'slave0:.*state=online'; }
check "a master and its replica" wait_for 20 synced
gate_at "$T/m/sock" "$PREFIX:cache" -c -n 2
responder rw ISBITCOINLIT_REDIS_URL=unix://$T/gate.sock ISBITCOINLIT_MIN_REPLICAS=1 \
	ISBITCOINLIT_UPSTREAM_URL=file://$T/feed4.json
out=$(fcgi "$T/rw.sock" /refresh POST)
check "a refresh acknowledged by the replica" grep -q '"replicas":1' <<<"$out"
out=$(fcgi "$T/rw.sock" /refresh POST)
check "writes over two connections: 503 not replicated, not a false acknowledgement" \
	test -f "$T/held" -a -n "$(grep -F 'more than one Redis connection' <<<"$out")"
out=$(fcgi "$T/rw.sock" /refresh POST)
check "the next refresh, on one connection again, is acknowledged" \
	grep -q '"replicas":1' <<<"$out"
responder_stop
gate_stop
finish
