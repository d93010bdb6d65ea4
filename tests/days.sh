#!/usr/bin/env bash
# Day buckets end to end, on both backends: the local stack with
# ISBITCOINLIT_BUCKET=day reads a SentiCrypt v1 feed of ~40 days before
# today (several samples a day, some dated "YYYY-MM-DD"); this test works
# out the daily means, the window of 3 days, the directions, the verdict
# and the histories itself and compares them with what nginx serves.
# TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli

stack_setup days
export ISBITCOINLIT_BUCKET=day
export ISBITCOINLIT_MICROCACHE=0

# the feed (tests/lib.sh make_day_feed): ~40 days before today, the
# verdict lit; the samples in $T/samples for the means below
today=$(( $(date -u +%s) / 86400 * 86400 ))
make_day_feed "$T/feed.json" "$T/samples" "$today"

# expected_summary: the window of 3 days ending with D-1 (the newest sample's)
expected_summary() {
	awk -v today="$today" -v asof="$((today - 86400 + 21 * 3600))" "$AWK_DOC"'
	{ ps[$1] += $2; ss[$1] += $3; n[$1]++ }
	END {
		k = 0;
		for (d = 3; d >= 1; d--) {
			day = today - d * 86400;
			if (!(day in n)) continue;
			t[k] = day; p[k] = ps[day] / n[day]; s[k] = ss[day] / n[day];
			k++;
		}
		printf "%s", day_summary(k, t, p, s, asof);
	}' "$T/samples"
}
# expected_history N: the N days ending with D-1 (31 kept by the retention)
expected_history() {
	awk -v N="$1" -v today="$today" -v asof="$((today - 86400 + 21 * 3600))" "$AWK_DOC"'
	{ ps[$1] += $2; ss[$1] += $3; n[$1]++ }
	END {
		printf "{\"days\":%d,\"daily\":[", N;
		for (d = N; d >= 1; d--) {
			day = today - d * 86400;
			printf "%s{\"time\":\"%s\",\"price\":%s,\"sentiment\":%s,\"price_samples\":%d,\"sentiment_samples\":%d}",
			    (d < N ? "," : ""), iso(day), num(ps[day] / n[day]), num(ss[day] / n[day]), n[day], n[day];
		}
		printf "],\"as_of\":\"%s\"}", iso(asof);
	}' "$T/samples"
}

run_backend() { # backend [module]
	local b=$1
	export ISBITCOINLIT_TIMESERIES=$b
	if [ -n "${2:-}" ]; then export ISBITCOINLIT_REDIS_MODULE=$2
	else unset ISBITCOINLIT_REDIS_MODULE; fi
	stack_up
	check "$b: the refresh primed the day summary" \
		test "$($RCLI exists is-bitcoin-lit:cache is-bitcoin-lit:history:d:31 is-bitcoin-lit:history:d:1)" = 3
	check "$b: no hour history in day mode" \
		test "$($RCLI exists is-bitcoin-lit:history:24)" = 0
	expected_summary >"$T/want"
	st=$(req GET /is-bitcoin-lit)
	check "$b: the summary of the last 3 days as this test works it out ($(head -c 400 "$T/b"))" \
		test "$st" = 200 -a "$(cat "$T/b")" = "$(cat "$T/want")"
	grep -q '"verdict":"lit"' "$T/want" || nok "$b: the feed makes the verdict lit" "$(cat "$T/want")"
	check "$b: the summary matches the SummaryDaily schema" body_is_schema SummaryDaily
	$RCLI del is-bitcoin-lit:cache >/dev/null
	st=$(req GET /is-bitcoin-lit)
	check "$b: computed again on a miss: the same document" \
		test "$st:$(hdr X-Cache)" = 200:miss -a "$(cat "$T/b")" = "$(cat "$T/want")"
	for N in 31 7 1; do
		expected_history "$N" >"$T/want"
		st=$(req GET "/history?days=$N")
		check "$b: /history?days=$N as this test works it out" \
			test "$st" = 200 -a "$(cat "$T/b")" = "$(cat "$T/want")"
		[ "$(cat "$T/b")" = "$(cat "$T/want")" ] || {
			echo "#   got  $(head -c 300 "$T/b")"; echo "#   want $(head -c 300 "$T/want")"; }
	done
	check "$b: the history matches the HistoryDaily schema" body_is_schema HistoryDaily
	expected_history 31 >"$T/want"
	$RCLI del is-bitcoin-lit:history:d:31 >/dev/null
	st=$(req GET /history)
	check "$b: /history: 31 days by default, computed on a miss" \
		test "$st:$(hdr X-Cache)" = 200:miss -a "$(cat "$T/b")" = "$(cat "$T/want")"
	st=$(req GET "/history?hours=24")
	check "$b: ?hours= in day mode: 400 that says to ask for days" \
		bash -c "[ $st = 400 ] && grep -q 'days=N' '$T/b'"
	st=$(req GET "/history?days=32")
	check "$b: ?days=32: 400" test "$st" = 400
	st=$(req GET "/history?days=3&hours=")
	check "$b: an empty hours= is not asked (as nginx's \$arg_hours)" test "$st" = 200
	# a summary of hour mode in the cache is refused and recomputed
	$RCLI set is-bitcoin-lit:cache '{"hourly_average_of_averages":[],"sentiment_direction":"flat","price_direction":"flat","verdict":"mixed","as_of":"2021-07-07T14:00:00+00:00"}' >/dev/null
	expected_summary >"$T/want"
	st=$(req GET /is-bitcoin-lit)
	check "$b: an hour-mode summary in the cache is refused and recomputed" \
		test "$st:$(hdr X-Cache)" = 200:miss -a "$(cat "$T/b")" = "$(cat "$T/want")"
	"$LOCAL" down >/dev/null 2>&1
	rm -rf "$ISBITCOINLIT_STATE_DIR"
}

run_backend sortedset
if [ -n "${ISBITCOINLIT_TEST_TS_MODULE:-}" ] && [ -f "$ISBITCOINLIT_TEST_TS_MODULE" ]; then
	run_backend redistimeseries "$ISBITCOINLIT_TEST_TS_MODULE"
else
	skip "redistimeseries in day mode" "no ISBITCOINLIT_TEST_TS_MODULE"
fi
finish
