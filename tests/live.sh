#!/usr/bin/env bash
# Live feeds end to end, in day mode, on both backends: the local stack
# reads feeds made here in the public shapes of SentiCrypt v2 (one object
# a day), Kraken OHLC (hourly candles, oldest first, prices as strings,
# the last candle still open) and Coinbase candles (newest first, hours
# without trades missing), with times relative to now:
#   v2 alone; Kraken for the price + v2 for the sentiment; Coinbase + v2.
# This test works out the daily means, the window of 3 days, the
# directions, the verdict and as_of itself (awk) and compares them, byte
# for byte, with the summary nginx serves; the series' keys name their
# sources, and so does /healthz, which judges each series by its feed's
# step (a v2 feed three days behind is stale, the candles beside it
# fresh).  Then Kraken + v2 on a Redis as shipped (its users, its AOF): the
# api user's answers, a second refresh that replaces the newest values, a
# restart from the AOF that keeps every key.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli cgi-fcgi

stack_setup live
export ISBITCOINLIT_BUCKET=day
# every request reaches the responders (days.sh, e2e.sh: the microcache)
export ISBITCOINLIT_MICROCACHE=0

now=$(date -u +%s)
today=$(( now / 86400 * 86400 ))
hour=$(( now / 3600 * 3600 ))	# the open candle's start

# v2: days today-39 .. today, one object each, rising over the last
# three days (a lit verdict when v2 gives both); Kraken: 720 hourly
# candles ending with the open one, the price falling over the last days
# (tests/lib.sh).  $T/v2.samples: "day price sentiment" a line;
# $T/kraken.samples: "time price".
make_v2_feed "$T/v2.json" "$T/v2.samples" "$today" 40
make_kraken_feed "$T/kraken.json" "$T/kraken.samples" "$hour"

# Coinbase: 300 hourly candles, newest first, every seventh hour missing;
# the price the mean of open, high, low and close, whole numbers here
# (o + h + l + c a multiple of 4); flat-ish, then rising.
awk -v hour="$hour" 'BEGIN {
	srand(31); printf "[" >"'"$T"'/coinbase.json"; sep = "";
	for (i = 0; i < 300; i++) {
		if (i % 7 == 3) continue;
		t = hour - i * 3600;
		m = 40000 + int(rand() * 50) + (i < 72 ? (72 - i) * 10 : 0);
		# low, high, open, close around m: their sum is 4 m
		printf "%s[%d,%d,%d,%d,%d,12.5]", sep, t, m - 7, m + 9, m - 1, m - 1 >"'"$T"'/coinbase.json";
		sep = ",";
		print t, m >"'"$T"'/coinbase.samples";
	}
	print "]" >"'"$T"'/coinbase.json";
}'

# expected PRICE_SAMPLES: the summary from the price samples ("time price"
# a line, in time order; the v2 file's days when PRICE_SAMPLES is v2) and
# the v2 sentiment: daily means, 3 days ending with the newest sample's
# day, a row where both series have a sample
expected() {
	awk -v today="$today" -v v2="$1" "$AWK_DOC"'
	FILENAME == ARGV[1] {	# the v2 days: the sentiment
		ss[$1] += $3; sn[$1]++;
		if (v2 == "v2") { pt = $1; ps[$1] += $2; pn[$1]++ }
		if ($1 > newest) newest = $1;
		next
	}
	{	# the candles: the price
		day = $1 - $1 % 86400; ps[day] += $2; pn[day]++;
		if ($1 > newest) newest = $1
	}
	END {
		last = newest - newest % 86400; k = 0;
		for (d = 2; d >= 0; d--) {
			day = last - d * 86400;
			if (!(day in pn) || !(day in sn)) continue;
			t[k] = day; p[k] = ps[day] / pn[day]; s[k] = ss[day] / sn[day];
			k++;
		}
		printf "%s", day_summary(k, t, p, s, newest);
	}' "$V2S" ${2:+"$2"}
}
V2S=$T/v2.samples

# expected_history N PRICE_SAMPLES: /history?days=N with Kraken's candles
# for the price and v2 for the sentiment: the N days ending with the
# newest sample's day, each with its means and numbers of samples
expected_history() {
	awk -v N="$1" "$AWK_DOC"'
	FILENAME == ARGV[1] { ss[$1] += $3; sn[$1]++; if ($1 > newest) newest = $1; next }
	{ day = $1 - $1 % 86400; ps[day] += $2; pn[day]++; if ($1 > newest) newest = $1 }
	END {
		last = newest - newest % 86400;
		printf "{\"days\":%d,\"daily\":[", N;
		for (d = N - 1; d >= 0; d--) {
			day = last - d * 86400;
			printf "%s{\"time\":\"%s\",\"price\":%s,\"sentiment\":%s,\"price_samples\":%d,\"sentiment_samples\":%d}",
			    (d < N - 1 ? "," : ""), iso(day), num(ps[day] / pn[day]), num(ss[day] / sn[day]), pn[day], sn[day];
		}
		printf "],\"as_of\":\"%s\"}", iso(newest);
	}' "$V2S" "$2"
}

# step_s 1h: a tag's step in seconds
step_s() { case $1 in *h) echo $(( ${1%h} * 3600 )) ;; *d) echo $(( ${1%d} * 86400 )) ;; esac; }

# scenario BACKEND NAME PRICE_FEED PRICE_KEY_TAG: the stack up on the
# feeds, the summary against the oracle, the keys, the stack down
scenario() {
	local b=$1 name=$2 price=$3 tag=$4 want keys
	export ISBITCOINLIT_UPSTREAM_URL=file://$T/v2.json
	if [ "$price" = v2 ]; then
		unset ISBITCOINLIT_PRICE_URL
		expected v2 >"$T/want"
	else
		export ISBITCOINLIT_PRICE_URL=file://$T/$price.json
		expected "$price" "$T/$price.samples" >"$T/want"
	fi
	stack_up
	check "$b, $name: up's first refresh is ok" grep -q '"status":"ok"' "$T/up.log"
	st=$(req GET /is-bitcoin-lit)
	check "$b, $name: today's summary as this test works it out" \
		test "$st" = 200 -a "$(cat "$T/b")" = "$(cat "$T/want")"
	[ "$(cat "$T/b")" = "$(cat "$T/want")" ] || {
		echo "#   got  $(head -c 500 "$T/b")"; echo "#   want $(head -c 500 "$T/want")"; }
	check "$b, $name: a SummaryDaily document" body_is_schema SummaryDaily
	keys=$($RCLI hgetall is-bitcoin-lit:series | paste -sd ' ')
	check "$b, $name: the price's key names its source ($keys)" \
		grep -q "price is-bitcoin-lit:price:$tag" <<<"$keys"
	check "$b, $name: the sentiment's key names v2" \
		grep -q "sentiment is-bitcoin-lit:sentiment:senticrypt-v2:1d" <<<"$keys"
	# /healthz: each series' source and step, both fresh (today's v2
	# object, the open candle)
	req GET /healthz >/dev/null
	check "$b, $name: /healthz names each series' source, fresh" \
		grep -Eq '"data":"fresh","series":\{"price":\{"as_of":"[^"]*","age_s":[0-9]+,"data":"fresh","source":"'"${tag%:*}"'","step_s":'"$(step_s "${tag##*:}")"'\},"sentiment":\{"as_of":"[^"]*","age_s":[0-9]+,"data":"fresh","source":"senticrypt-v2","step_s":86400\}\}' "$T/b"
	"$LOCAL" down >/dev/null 2>&1
	rm -rf "$ISBITCOINLIT_STATE_DIR"
}

# stale BACKEND: Kraken up to now, v2 up to three days ago: /healthz calls
# the sentiment stale (older than STALE_AFTER_S and two days), the price
# fresh, the data stale
stale() {
	local b=$1
	make_v2_feed "$T/v2-old.json" "$T/v2-old.samples" $(( today - 3 * 86400 )) 40
	export ISBITCOINLIT_UPSTREAM_URL=file://$T/v2-old.json
	export ISBITCOINLIT_PRICE_URL=file://$T/kraken.json
	stack_up
	req GET /healthz >/dev/null
	check "$b, a v2 feed three days behind: the sentiment stale, the price fresh" \
		grep -Eq '"data":"stale","series":\{"price":\{"as_of":"[^"]*","age_s":[0-9]+,"data":"fresh","source":"kraken-ohlc","step_s":3600\},"sentiment":\{"as_of":"'"$(date -u -d @$(( today - 3 * 86400 )) +%Y-%m-%dT%H:%M:%S)"'\+00:00","age_s":[0-9]{6,},"data":"stale","source":"senticrypt-v2","step_s":86400\}\}' "$T/b"
	grep -q '"sentiment":{[^}]*"data":"stale"' "$T/b" || echo "#   got $(cat "$T/b")"
	"$LOCAL" down >/dev/null 2>&1
	rm -rf "$ISBITCOINLIT_STATE_DIR"
}

run_backend() {	# BACKEND [MODULE]
	export ISBITCOINLIT_TIMESERIES=$1
	if [ -n "${2:-}" ]; then export ISBITCOINLIT_REDIS_MODULE=$2
	else unset ISBITCOINLIT_REDIS_MODULE; fi
	scenario "$1" "SentiCrypt v2 alone" v2 senticrypt-v2:1d
	scenario "$1" "Kraken + v2" kraken kraken-ohlc:1h
	scenario "$1" "Coinbase + v2" coinbase coinbase-candles:1h
	stale "$1"
}

# ---- Kraken + v2 on a Redis as shipped ----
# The local stack's Redis has no users; this one is set up as
# redis.conf.example and redis-acl.example say (lib.sh acl_redis): the
# programs run as their own users, and the AOF is replayed as the default
# user, whose rights must cover every write of the live mode's scripts.

# fcgi_get SOCKET PATH [QUERY]: a GET straight to a responder; its headers
# in $T/h, its body in $T/b; the status echoed (200 when it sends none)
fcgi_get() {
	env -i REQUEST_METHOD=GET DOCUMENT_URI="$2" QUERY_STRING="${3:-}" \
	    cgi-fcgi -bind -connect "$1" >"$T/resp" 2>/dev/null
	sed '/^\r\?$/q' "$T/resp" >"$T/h"
	sed '1,/^\r\?$/d' "$T/resp" >"$T/b"
	hdr Status | cut -d" " -f1 | grep . || echo 200
}
# acl_refresh BACKEND NAME: isbitcoinlit-refresh --once as the refresh user
# on NAME's copies of the Kraken and v2 feeds; its report added to $T/NAME.out
acl_refresh() {
	ISBITCOINLIT_TIMESERIES=$1 \
	ISBITCOINLIT_UPSTREAM_URL=file://$T/$2.v2.json \
	ISBITCOINLIT_PRICE_URL=file://$T/$2.kraken.json \
	ISBITCOINLIT_REDIS_URL="unix://isbitcoinlit-refresh:refreshpw@$T/$2.sock" \
		${TEST_PREFIX:-} "$top_builddir/src/isbitcoinlit-refresh" --once \
		>>"$T/$2.out" 2>&1
}
# acl_answers BACKEND NAME WHEN: nothing cached, the api user computes the
# summary and the 7-day history from the series and the map, as this test
# works them out, and caches the history
acl_answers() {
	local b=$1 name=$2 st
	as_test "$name" del is-bitcoin-lit:cache is-bitcoin-lit:history:d:7 >/dev/null
	expected kraken "$T/$name.kraken.samples" >"$T/want"
	st=$(fcgi_get "$T/$name-api.sock" /is-bitcoin-lit)
	check "$b, shipped ACL, $3: the api user computes the summary as this test works it out" \
		test "$st:$(hdr X-Cache)" = 200:miss -a "$(cat "$T/b")" = "$(cat "$T/want")"
	[ "$(cat "$T/b")" = "$(cat "$T/want")" ] || {
		echo "#   got  $st $(head -c 500 "$T/b")"; echo "#   want $(head -c 500 "$T/want")"; }
	expected_history 7 "$T/$name.kraken.samples" >"$T/want"
	st=$(fcgi_get "$T/$name-api.sock" /history days=7)
	check "$b, shipped ACL, $3: and /history?days=7" \
		test "$st:$(hdr X-Cache)" = 200:miss -a "$(cat "$T/b")" = "$(cat "$T/want")"
	[ "$(cat "$T/b")" = "$(cat "$T/want")" ] || {
		echo "#   got  $st $(head -c 500 "$T/b")"; echo "#   want $(head -c 500 "$T/want")"; }
	check "$b, shipped ACL, $3: and caches the day history" wait_for 5 \
		eval "[ \"\$(as_test $name exists is-bitcoin-lit:history:d:7)\" = 1 ]"
}

# live_acl BACKEND [MODULE]: Kraken + v2 in day mode under the shipped ACL
# and redis.conf.example: a refresh, the api user's answers; the open
# candle and today's v2 object changed, a second refresh keeps the last
# values (replaced in the series), the answers follow; Redis shut down and
# started again from its AOF holds every key as before, its log says
# nothing against the AOF, and the api user's answers are the same.
live_acl() {
	local b=$1 name=acl-$1 v s ns out
	local V2S=$T/$name.v2.samples
	cp "$T/v2.json" "$T/$name.v2.json"
	cp "$T/v2.samples" "$V2S"
	cp "$T/kraken.json" "$T/$name.kraken.json"
	cp "$T/kraken.samples" "$T/$name.kraken.samples"
	acl_redis "$name" "${2:-}"
	acl_refresh "$b" "$name"
	check "$b, shipped ACL: a refresh of Kraken + v2 as the refresh user" \
		grep -q '"status":"ok"' "$T/$name.out"
	ISBITCOINLIT_TIMESERIES=$b ${TEST_PREFIX:-} "$top_builddir/src/isbitcoinlit-api" \
	    --listen "$T/$name-api.sock" --workers 1 \
	    --redis-url "unix://isbitcoinlit-api:apipw@$T/$name.sock" 2>"$T/$name-api.log" &
	echo $! >"$T/$name-api.pid"
	wait_for 5 test -S "$T/$name-api.sock"
	acl_answers "$b" "$name" "first refresh"
	out=$(redis-cli -s "$T/$name.sock" --user isbitcoinlit-api --pass apipw \
	    --no-auth-warning set is-bitcoin-lit:price:kraken-ohlc:1h x 2>&1)
	check "$b, shipped ACL: the api user still cannot write a series" grep -q NOPERM <<<"$out"
	expected kraken "$T/$name.kraken.samples" >"$T/$name.want1"

	# the open candle's VWAP up by 2; today's v2 sentiment up by 0.125
	v=$(tail -n 1 "$T/$name.kraken.samples" | cut -d' ' -f2)
	sed -i "s/\"$v\",\"3.39243896\",23\]\],\"last\"/\"$((v + 2))\",\"3.39243896\",23]],\"last\"/" \
	    "$T/$name.kraken.json"
	sed -i "\$s/ $v\$/ $((v + 2))/" "$T/$name.kraken.samples"
	s=$(tail -n 1 "$V2S" | cut -d' ' -f3)
	ns=$(awk -v s="$s" 'BEGIN { print s + 0.125 }')
	sed -i "s/\"mean\":$s,\"sum\":-0.8669}]/\"mean\":$ns,\"sum\":-0.8669}]/" "$T/$name.v2.json"
	sed -i "\$s/ $s\$/ $ns/" "$V2S"
	expected kraken "$T/$name.kraken.samples" >"$T/$name.want2"
	check "$b, shipped ACL: the feeds changed their newest values, and so the summary" bash -c \
		"grep -q '\"$((v + 2))\",\"3.39243896\",23]],' '$T/$name.kraken.json' &&
		 grep -q '\"mean\":$ns,\"sum\":-0.8669}]' '$T/$name.v2.json' &&
		 ! cmp -s '$T/$name.want1' '$T/$name.want2'"
	acl_refresh "$b" "$name"
	check "$b, shipped ACL: a second refresh (the last values replace the stored ones)" \
		test "$(grep -c '"status":"ok"' "$T/$name.out")" = 2
	acl_answers "$b" "$name" "values replaced"

	restart_from_aof "$name"
	check "$b, shipped ACL: both series, the map, the cache and the day histories were written ($(wc -l <"$T/$name.before") keys)" \
		bash -c "grep -q ':price:kraken-ohlc:1h ' '$T/$name.before' &&
		    grep -q ':sentiment:senticrypt-v2:1d ' '$T/$name.before' &&
		    grep -q ':series hash' '$T/$name.before' &&
		    grep -q ':cache string' '$T/$name.before' &&
		    grep -q ':history:d:7 string' '$T/$name.before'"
	check "$b, shipped ACL: after a restart from the AOF, every key holds what it held" \
		cmp -s "$T/$name.before" "$T/$name.after"
	diff "$T/$name.before" "$T/$name.after" | head -n 6 | sed 's/^/#   /'
	check "$b, shipped ACL: Redis loaded its AOF and logged no error" \
		bash -c "grep -q 'DB loaded from append only file' '$T/$name.log' &&
		    ! grep -iE 'critical|error|bad file|corrupt|truncated' '$T/$name.log'"
	grep -iE 'critical|error|bad file|corrupt|truncated' "$T/$name.log" | head -n 3 | sed 's/^/#   /'
	acl_answers "$b" "$name" "after the restart"
	kill "$(cat "$T/$name-api.pid")"
	as_test "$name" shutdown nosave >/dev/null 2>&1
}

# the feeds give what the scenarios need: each verdict is decided
check "the oracle's v2 verdict is lit" grep -q '"verdict":"lit"' <(expected v2)
run_backend sortedset
live_acl sortedset
if [ -n "${ISBITCOINLIT_TEST_TS_MODULE:-}" ] && [ -f "$ISBITCOINLIT_TEST_TS_MODULE" ]; then
	run_backend redistimeseries "$ISBITCOINLIT_TEST_TS_MODULE"
	live_acl redistimeseries "$ISBITCOINLIT_TEST_TS_MODULE"
else
	skip "redistimeseries: live feeds in day mode" "no ISBITCOINLIT_TEST_TS_MODULE"
	skip "redistimeseries: live feeds under the shipped ACL" "no ISBITCOINLIT_TEST_TS_MODULE"
fi
finish
