#!/usr/bin/env bash
# Contention, through the local stack as shipped (the microcache on): many clients on a cold cache while
# a refresh commits new data (every answer is the old or the new summary,
# byte for byte, and Redis does a bounded amount of work per request); and
# more slow requests than workers while Redis hangs (JSON 503s from the
# responders, never nginx's 502 or 504, and service back soon after).
# TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli

stack_setup contention
export ISBITCOINLIT_REFRESH_EVERY_S=3600	# the test's refreshes only
export ISBITCOINLIT_REDIS_TIMEOUT_MS=300
stack_up
PREFIX=is-bitcoin-lit

# ---- a cold cache, many clients, a refresh committing new data ----
check "the old summary" test "$(req GET /is-bitcoin-lit)" = 200
cp "$T/b" "$T/old"
# the new feed: the old one and an hour more, with other values
sed -e 's/^\[//' -e 's/\]$//' "$T/feed.json" >"$T/body"
awk 'BEGIN { for (i = 0; i < 120; i++) printf ",{\"timestamp\":%.3f,\"mean\":%.2f,\"btc_price\":%d}",
	1625679626 + i * 30, 0.9 - i / 1000, 36000 + i }' >"$T/more"
printf '[%s%s]\n' "$(cat "$T/body")" "$(cat "$T/more")" >"$T/feed2.json"

calls() { $RCLI info commandstats | tr -d '\r' |
	awk -F'[=,]' '/^cmdstat_/ { n += $2 } END { print n + 0 }'; }
# getter I [past]: GETs in a loop, every body kept; with "past", each with
# a ?hours of its own (the summary reads none), so that each reaches the
# pool past nginx's microcache (a key of its own), as any client can
getter() {
	local k=0 q=""
	while [ ! -f "$T/stop" ]; do
		k=$((k + 1))
		[ -n "${2:-}" ] && q="?hours=past-$1-$k"
		curl -s -o "$T/bodies/$1.$k" -m 5 -w '%{http_code}\n' \
		    "$BASE/is-bitcoin-lit$q" >>"$T/codes.$1"
	done
}
mkdir -p "$T/bodies"
$RCLI del "$PREFIX:cache" >/dev/null
before=$(calls)
rm -f "$T/stop"
# the stack as shipped: four clients through the microcache, four past it
for i in 1 2 3 4; do getter "$i" & done
for i in 5 6 7 8; do getter "$i" past & done
sleep 0.3
cp "$T/feed2.json" "$T/feed.json"
st=$(req POST /refresh)
check "a refresh commits the new feed meanwhile ($st)" test "$st" = 200
sleep 2.5	# longer than the microcache keeps the old answer
touch "$T/stop"
wait
after=$(calls)
nreq=$(cat "$T"/codes.* | wc -l)
n200=$(cat "$T"/codes.* | grep -c '^200$')
check "every answer 200 ($n200 of $nreq)" test "$nreq" -gt 8 -a "$n200" = "$nreq"
new_seen() {	# I...: some answer of these clients is the new summary
	local i f
	for i in "$@"; do
		for f in "$T/bodies/$i".*; do
			cmp -s "$f" "$T/new" && return 0
		done
	done
	return 1
}
sleep 2.1	# the microcache's answer expired: the next request reaches the pool
$RCLI del "$PREFIX:cache" >/dev/null
check "the new summary (computed)" test "$(req GET /is-bitcoin-lit)" = 200
cp "$T/b" "$T/new"
check "it differs from the old one" bash -c "! cmp -s '$T/old' '$T/new'"
odd=0 nold=0 nnew=0
for f in "$T"/bodies/*; do
	if cmp -s "$f" "$T/old"; then nold=$((nold + 1))
	elif cmp -s "$f" "$T/new"; then nnew=$((nnew + 1))
	else odd=$((odd + 1)); [ "$odd" = 1 ] && cp "$f" "$T/odd"
	fi
done
check "every answer is the old or the new summary, byte for byte ($nold old, $nnew new, $odd other)" \
	test "$odd" = 0 -a "$nnew" -gt 0
check "the clients through the microcache saw the new summary within 2.5 s" new_seen 1 2 3 4
check "and those past it too" new_seen 5 6 7 8
if [ -f "$T/odd" ]; then echo "# an odd answer: $(head -c 300 "$T/odd")"; fi
# A miss costs at most 6 commands (GET, the newest of each series, the
# hours of each series, SET); a hit 1; the refresh some 20.
work=$((after - before))
check "Redis work bounded: $work commands for $nreq requests and one refresh" \
	test "$work" -le $((6 * nreq + 40))
echo "# cold cache under a refresh: $nreq requests ($nold old, $nnew new), $work Redis commands"

# ---- more slow requests than workers: Redis hangs ----
workers=$(pgrep -P "$(cat "$STATE/api.pid")" | wc -l)
clients=$((8 * workers))
$RCLI client pause 8000 all >/dev/null
sleep 2.1	# the microcache's last answer expired: every request reaches the pool
PAUSED=$(now_ms)
rm -f "$T/stop" "$T"/load.*
for i in $(seq "$clients"); do
	( curl -s -o "$T/sat.$i" -m 30 -w '%{http_code} %{time_total}\n' \
	    "$BASE/is-bitcoin-lit" >"$T/satcode.$i" ) &
done
wait
ENDED=$(now_ms)
codes=$(cat "$T"/satcode.* | cut -d' ' -f1 | sort | uniq -c | awk '{ printf "%s%sx%s", s, $1, $2; s = " " }')
bad=$(cat "$T"/satcode.* | awk '$1 != 503' | wc -l)
check "$clients slow requests on $workers workers: every answer a 503 from the responders ($codes)" \
	test "$bad" = 0
json=0
for i in $(seq "$clients"); do
	grep -q '"error":"redis unavailable"' "$T/sat.$i" && json=$((json + 1))
done
check "every 503 is the JSON \"redis unavailable\" ($json of $clients)" test "$json" = "$clients"
# (nginx's fastcgi_read_timeout, 10 s, would have answered 504 past it)
slowest=$(cat "$T"/satcode.* | awk '{ if ($2 > m) m = $2 } END { printf "%d", m * 1000 }')
echo "# the slowest of those answers took ${slowest} ms"
$RCLI client unpause >/dev/null
UNPAUSED=$(now_ms)
wait_for 10 serves
BACK=$(now_ms)
check "Redis answers again: 200 within 5 s ($((BACK - UNPAUSED)) ms)" \
	test $((BACK - UNPAUSED)) -le 5000
echo "# saturation: $clients clients on $workers workers, Redis paused: answered in $((ENDED - PAUSED)) ms ($codes), back $((BACK - UNPAUSED)) ms after"
finish
