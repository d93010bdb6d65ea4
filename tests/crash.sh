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
if ! "$LOCAL" up >"$T/up.log" 2>&1; then
	nok "the stack comes up" "$(cat "$T/up.log")"
	finish
fi
STATE=$ISBITCOINLIT_STATE_DIR
RCLI="redis-cli -s $STATE/redis.sock"
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
# the summary the series hold now, computed (a miss)
computed() { $RCLI del "$PREFIX:cache" >/dev/null; req GET /is-bitcoin-lit >/dev/null; cat "$T/b"; }
cached() { $RCLI get "$PREFIX:cache"; }
# refresh_direct FEED: one refresh straight at Redis, retried while locked
refresh_direct() {
	ISBITCOINLIT_REDIS_URL=unix://$STATE/redis.sock \
	    ISBITCOINLIT_UPSTREAM_URL=file://$1 refresh_once >/dev/null 2>&1
}
gate_start() {	# KILL_PID_FILE or nothing
	rm -f "$T/held"
	"$GATE" "$T/gate.sock" "$STATE/redis.sock" "$PREFIX:cache" "$T/held" "$@" &
	GATEPID=$!
	echo "$GATEPID" >"$T/gate.pid"
	wait_for 5 test -S "$T/gate.sock"
}
gate_stop() { kill "$GATEPID" 2>/dev/null; wait "$GATEPID" 2>/dev/null; }

req GET /is-bitcoin-lit >/dev/null
cp "$T/b" "$T/s0"

# ---- killed between the series write and the cache write ----
gate_start "$T/victim.pid"
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
gate_start
ISBITCOINLIT_REDIS_URL=unix://$T/gate.sock ISBITCOINLIT_REDIS_TIMEOUT_MS=20000 \
ISBITCOINLIT_UPSTREAM_URL=file://$T/feed2.json \
	${TEST_PREFIX:-} "$REFRESH" --once >"$T/slow.out" 2>&1 &
SLOW=$!
check "a refresh held at its cache write" wait_for 20 test -f "$T/held"
computed >"$T/s2"
check "its series are written: a miss computes a new summary" \
	bash -c "! cmp -s '$T/s1' '$T/s2'"
# its lock expires while it is still writing
$RCLI del "$PREFIX:refresh:lock" >/dev/null
check "its lock gone, another refresh runs to its end" refresh_direct "$T/feed3.json"
cp "$T/feed3.json" "$T/current.json"
computed >"$T/s3"
check "and commits the newest data" bash -c "! cmp -s '$T/s2' '$T/s3'"
# meanwhile a third refresh holds the lock: the slow one must not free it
$RCLI set "$PREFIX:refresh:lock" someone-else px 60000 >/dev/null
kill -USR1 "$GATEPID"
wait "$SLOW"
src=$?
check "the slow refresh finishes when let through (exit $src)" test "$src" = 0
check "it leaves the lock it no longer owns alone" \
	test "$($RCLI get "$PREFIX:refresh:lock")" = someone-else
st=$(req GET /is-bitcoin-lit)
check "the API serves a whole summary meanwhile ($st)" test "$st" = 200
check "one of the summaries the series have held" \
	bash -c "cmp -s '$T/b' '$T/s2' || cmp -s '$T/b' '$T/s3'"
$RCLI del "$PREFIX:refresh:lock" >/dev/null
gate_stop
check "the next refresh converges on the newest data" refresh_direct "$T/feed3.json"
check "the cache holds the summary of the series" test "$(cached)" = "$(cat "$T/s3")"
check "the API serves it" answers_same "$T/s3"

# ---- an API fill that loses the race to a refresh ----
# The api computes a summary on a miss and writes the cache after its
# answer: held there, while a refresh commits newer data and its summary.
API=$top_builddir/src/isbitcoinlit-api
$RCLI del "$PREFIX:cache" >/dev/null
rm -f "$T/held"
"$GATE" "$T/gate.sock" "$STATE/redis.sock" $'SET\r\n$20\r\nis-bitcoin-lit:cache' "$T/held" &
GATEPID=$!
wait_for 5 test -S "$T/gate.sock"
ISBITCOINLIT_REDIS_URL=unix://$T/gate.sock ${TEST_PREFIX:-} "$API" \
	--listen "$T/gapi.sock" --workers 1 2>"$T/gapi.log" &
GAPI=$!
echo "$GAPI" >"$T/gapi.pid"
wait_for 10 test -S "$T/gapi.sock"
fcgi() { env -i REQUEST_METHOD=GET DOCUMENT_URI="$2" cgi-fcgi -bind -connect "$1" 2>/dev/null; }
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
finish
