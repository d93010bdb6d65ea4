#!/usr/bin/env bash
# Soak: 100,000 requests through nginx while the refresh loop runs every
# 2 s; every answer 200, and each api worker's RSS and open files flat.
# The count is what is asserted, not a rate: runs of wrk go on until it is
# reached (a generous cap on their number catches a hang).  Reports
# before/after.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx wrk redis-server

stack_setup soak
export ISBITCOINLIT_REFRESH_EVERY_S=2
export ISBITCOINLIT_LOG_LEVEL=info
stack_up
URL=http://127.0.0.1:$PORT/is-bitcoin-lit
APIPID=$(cat "$ISBITCOINLIT_STATE_DIR/api.pid")
workers=$(pgrep -P "$APIPID" | sort)

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
fds() { ls "/proc/$1/fd" | wc -l; }
snapshot() { local w; for w in $workers; do echo "$w $(rss "$w") $(fds "$w")"; done; }

# warm up: every worker has served, connected to Redis, loaded its script
wrk -t 2 -c 16 -d 2s "$URL" >/dev/null 2>&1
snapshot >"$T/before"

total=0 bad=0 runs=0
while [ "$total" -lt 100000 ] && [ "$runs" -lt 60 ]; do
	wrk -t 2 -c 32 -d 5s "$URL" >"$T/wrk" 2>&1
	r=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T/wrk")
	e=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)/\1/p' "$T/wrk" | head -n 1)
	# "Socket errors: connect A, read B, write C, timeout D": all count
	s=$(sed -n 's/.*Socket errors: *connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\).*/\1+\2+\3+\4/p' \
	    "$T/wrk" | head -n 1)
	[ -n "$r" ] || { bad=$((bad + 1)); echo "# wrk said: $(head -c 300 "$T/wrk")"; }
	total=$((total + ${r:-0}))
	bad=$((bad + ${e:-0} + ${s:-0}))
	runs=$((runs + 1))
done
snapshot >"$T/after"

check "at least 100,000 requests ($total)" test "$total" -ge 100000
check "every answer 200, no socket error or timeout ($bad others)" test "$bad" = 0
refreshes=$(grep -c 'refresh ok' "$ISBITCOINLIT_STATE_DIR/every.log")
check "the refresh loop ran meanwhile ($refreshes refreshes)" test "$refreshes" -ge 3
check "no api worker was replaced" test "$(pgrep -P "$APIPID" | sort | tr '\n' ' ')" = "$(echo $workers)"" "
while read -r w r0 f0; do
	read -r _ r1 f1 < <(grep "^$w " "$T/after")
	echo "# worker $w: RSS ${r0} kB -> ${r1} kB, open files $f0 -> $f1"
	if [ -n "${ASAN_OPTIONS:-}" ]; then
		# The quarantine keeps freed memory, so RSS says nothing here:
		# the plain pass measures it, LeakSanitizer checks the workers.
		echo "# worker $w: RSS not compared under AddressSanitizer"
	else
		check "worker $w: RSS flat (${r0} -> ${r1} kB)" test $((r1 - r0)) -le 256
	fi
	check "worker $w: open files flat ($f0 -> $f1)" test "$f1" -le "$f0"
done <"$T/before"
finish
