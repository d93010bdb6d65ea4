# Helpers for the shell tests (bash): TAP results, ports, HTTP requests,
# a generated feed.  Source it after setting top_srcdir/top_builddir.
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
n=0 failed=0

# Every test starts from the defaults: the caller's settings would change
# what the programs do (the C tests scrub them too).  Only the tests' own
# knobs, ISBITCOINLIT_TEST_*, pass through.
for _v in $(compgen -e); do
	case $_v in
	ISBITCOINLIT_TEST_*) ;;
	ISBITCOINLIT_*) unset "$_v" ;;
	esac
done
unset _v

# Memory errors of any program this test starts are reports in $REPORTS:
# AddressSanitizer's and UBSan's (log_path) and valgrind's (--log-file,
# for every program run under $TEST_PREFIX, the local stack's too).
# finish() fails the test when one holds anything.
REPORTS=$(mktemp -d /tmp/isbitcoinlit-reports.XXXXXX)
chmod 0777 "$REPORTS"	# programs that drop privileges write there too
[ -n "${ASAN_OPTIONS:-}" ] && export ASAN_OPTIONS="$ASAN_OPTIONS:log_path=$REPORTS/asan"
[ -n "${UBSAN_OPTIONS:-}" ] && export UBSAN_OPTIONS="$UBSAN_OPTIONS:log_path=$REPORTS/ubsan"
# valgrind cannot run a program that installs a seccomp filter: under it
# the programs run unconfined (tests/sandbox_test proves the sandbox).
case "${TEST_PREFIX:-}" in
*valgrind*) export TEST_PREFIX="$TEST_PREFIX --log-file=$REPORTS/valgrind.%p"
	export ISBITCOINLIT_SANDBOX=off ;;
esac

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift
	local l; for l in "$@"; do echo "#   $l"; done
}
# check DESCRIPTION COMMAND...: ok when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d" "failed: $*"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
# reports_clean: no memory error reported; no worker of the local stack
# died from a signal other than the tests' own SIGKILL and SIGTERM, or
# exited with a failure, and its logs hold no UBSan "runtime error" (UBSan
# writes to stderr whatever its log_path when built with ASan)
reports_clean() {
	local f bad="" died
	for f in "$REPORTS"/*; do
		[ -s "$f" ] && bad="$bad $f"
	done
	if [ -n "$bad" ]; then
		nok "no memory error in a program this test started" \
		    "$(cat $bad | head -n 40)"
	else
		ok "no memory error in a program this test started"
	fi
	if [ -n "${ISBITCOINLIT_STATE_DIR:-}" ] && [ -d "$ISBITCOINLIT_STATE_DIR" ]; then
		died=$(cat "$ISBITCOINLIT_STATE_DIR"/*.log 2>/dev/null |
		    grep -E 'worker (died .*signal=|exited .*status=[1-9])|runtime error:' |
		    grep -vE 'signal=(9|15) ' || true)
		[ -z "$died" ] && ok "no worker of the stack died or failed" ||
			nok "no worker of the stack died or failed" "$died"
	fi
	rm -rf "$REPORTS"
}
finish() { reports_clean; echo "1..$n"; [ "$failed" -eq 0 ]; exit; }

# need TOOL...: skip the whole test when one is missing
need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null && continue
		echo "1..0 # SKIP $tool not installed (deploy/install-deps test)"
		exit 0
	done
}

free_port() {
	local p
	for _ in $(seq 50); do
		# below the ephemeral range (32768-), where no client port can be
		p=$((10000 + RANDOM % 22000))
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
	echo 18080
}

# make_feed FILE: a 24 h SentiCrypt v1 feed of 2,900 samples
make_feed() {
	awk 'BEGIN { srand(11); printf "[";
		for (i = 0; i < 2900; i++)
			printf "%s{\"count\":%d,\"timestamp\":%.7f,\"rate\":0.0,\"mean\":%.3f,\"btc_price\":\"%.2f\"}",
			    (i ? "," : ""), 7000 + i, 1625592626.3452034 + i * 30 + rand(),
			    rand() - 0.4, 33000 + rand() * 2000;
		print "]" }' >"$1"
}

# Functions for a test's awk oracle of the JSON documents (prepend to the
# program): num(v), the shortest decimal that reads back, as the documents
# write numbers; iso(t), RFC 3339 UTC of epoch seconds; day_summary(k, t,
# p, s, asof), the compact day-mode summary of the k rows t[i] (the day),
# p[i] and s[i] (its price and sentiment means), oldest first, with the
# directions and the verdict worked out here.
AWK_DOC='function num(v,   k, t) { for (k = 1; k <= 17; k++) { t = sprintf("%." k "g", v); if (t + 0 == v) return t } return t }
function iso(t) { return strftime("%Y-%m-%dT%H:%M:%S+00:00", t, 1) }
function dir(a, b) { return a == b ? "flat" : b > a ? "rising" : "falling" }
function day_summary(k, t, p, s, asof,   out, i, pd, sd, v) {
	out = "{\"daily_average_of_averages\":[";
	for (i = 0; i < k; i++)
		out = out (i ? "," : "") "{\"time\":\"" iso(t[i]) "\",\"price\":" num(p[i]) ",\"sentiment\":" num(s[i]) "}";
	pd = k < 2 ? "flat" : dir(p[0], p[k - 1]);
	sd = k < 2 ? "flat" : dir(s[0], s[k - 1]);
	v = pd == sd && pd == "rising" ? "lit" : pd == sd && pd == "falling" ? "not lit" : "mixed";
	return sprintf("%s],\"sentiment_direction\":\"%s\",\"price_direction\":\"%s\",\"verdict\":\"%s\",\"as_of\":\"%s\"}", out, sd, pd, v, iso(asof));
}'

# make_day_feed FEED SAMPLES TODAY: a SentiCrypt v1 feed for day buckets in
# FEED: days TODAY-39 .. TODAY-1 (TODAY: a UTC midnight in epoch seconds),
# samples at 02, 08, 14 and 20 h, one more at 00:00 ("YYYY-MM-DD") every
# third day, and 21 h on the newest day; prices drift up over the last
# days, the sentiment too (a lit verdict).  SAMPLES gets "day price
# sentiment" a line, in time order, for a test to work out the means.
make_day_feed() {
	awk -v today="$3" -v feed="$1" -v samples="$2" 'BEGIN {
		srand(5); printf "[" >feed; sep = "";
		for (d = 39; d >= 1; d--) {
			day = today - d * 86400; nh = 0;
			if (d % 3 == 0) hours[nh++] = -1;
			hours[nh++] = 2; hours[nh++] = 8; hours[nh++] = 14; hours[nh++] = 20;
			if (d == 1) hours[nh++] = 21;
			for (i = 0; i < nh; i++) {
				p = 30000 + int(rand() * 4000) / 4 + (d <= 3 ? (4 - d) * 5000 : 0);
				s = 0.1 + int(rand() * 600) / 1000 + (d <= 3 ? (4 - d) * 0.05 : 0);
				if (hours[i] < 0) ts = "\"" strftime("%Y-%m-%d", day, 1) "\"";
				else ts = sprintf("%d.25", day + hours[i] * 3600);
				printf "%s{\"timestamp\":%s,\"btc_price\":%s,\"mean\":%s,\"count\":1}",
				    sep, ts, p, s >feed;
				sep = ",";
				print day, p, s >samples;
			}
		}
		print "]" >feed;
	}'
}

# make_v2_feed FEED SAMPLES TODAY DAYS: a SentiCrypt v2 feed (/v2/all.json,
# one object a UTC day, "date" its day) in FEED: days TODAY-(DAYS-1) ..
# TODAY (a UTC midnight in epoch seconds), oldest first; the sentiment and
# the price rise over the last three days (a lit verdict when v2 gives
# both).  SAMPLES gets "day price sentiment" a line, in time order.
make_v2_feed() {
	awk -v today="$3" -v days="$4" -v feed="$1" -v samples="$2" 'BEGIN {
		srand(23); printf "[" >feed; sep = "";
		for (d = days - 1; d >= 0; d--) {
			day = today - d * 86400;
			p = 30000 + int(rand() * 1000) + (d <= 2 ? (3 - d) * 2000 : 0);
			s = int(rand() * 300) / 1000 + (d <= 2 ? (3 - d) * 0.25 : 0);
			printf "%s{\"date\":\"%s\",\"price\":%d.0,\"volume\":2004.0,\"score1\":-0.5078,\"score2\":0.1192,\"score3\":0.1719,\"count\":12,\"mean\":%s,\"sum\":-0.8669}",
			    sep, strftime("%Y-%m-%d", day, 1), p, s >feed;
			sep = ",";
			print day, p, s >samples;
		}
		print "]" >feed;
	}'
}

# make_kraken_feed FEED SAMPLES HOUR: Kraken OHLC (XXBTZUSD, interval=60)
# in FEED: 720 hourly candles, oldest first, ending with the open one that
# starts at HOUR (epoch seconds), prices as strings; the VWAP, in whole
# dollars (sums are exact in a test's awk and in the service), falls over
# the last days.  SAMPLES gets "time price" a line, in time order.
make_kraken_feed() {
	awk -v hour="$3" -v feed="$1" -v samples="$2" 'BEGIN {
		srand(29); printf "{\"error\":[],\"result\":{\"XXBTZUSD\":[" >feed;
		for (i = 719; i >= 0; i--) {
			t = hour - i * 3600;
			v = 60000 - int((719 - i) / 24) * 50 + int(rand() * 100);
			printf "%s[%d,\"%d.0\",\"%d.5\",\"%d.5\",\"%d.0\",\"%d\",\"3.39243896\",23]",
			    (i < 719 ? "," : ""), t, v, v + 3, v - 3, v + 2, v >feed;
			print t, v >samples;
		}
		printf "],\"last\":%d}}\n", hour - 3600 >feed;
	}'
}

# req METHOD PATH [curl args]: status echoed, headers in $T/h, body in $T/b
# (a POST to /refresh carries the stack's token, unless it has its own)
req() {
	local m=$1 p=$2 auth=()
	shift 2
	rm -f "$T/b" "$T/h"
	touch "$T/b"	# curl writes no file for an empty body
	[ "$m" = POST ] && [ "${p%%\?*}" = /refresh ] &&
	    [ -n "${ISBITCOINLIT_REFRESH_TOKEN:-}" ] &&
	    [[ " $* " != *"Authorization:"* ]] &&
		auth=(-H "Authorization: Bearer $ISBITCOINLIT_REFRESH_TOKEN")
	curl -s -o "$T/b" -D "$T/h" -X "$m" "${auth[@]}" "$@" "$BASE$p" \
	    -w '%{http_code}'
}
# answers_same FILE: GET /is-bitcoin-lit answers 200 with FILE's bytes,
# within 3 s (the microcache keeps an answer up to 2 s)
answers_same() {
	for _ in $(seq 30); do
		[ "$(req GET /is-bitcoin-lit)" = 200 ] && cmp -s "$T/b" "$1" && return 0
		sleep 0.1
	done
	return 1
}
hdr() { tr -d '\r' <"$T/h" | grep -i "^$1:" | head -n 1 | cut -d' ' -f2-; }
body_is_schema() {
	"$top_builddir/tests/schema_check" "$top_srcdir/nginx/openapi.json" "$1" "$T/b" 2>&1
}

# statuses N: N GETs of $BASE/is-bitcoin-lit, their statuses counted: "40x200"
statuses() {
	for _ in $(seq "$1"); do
		curl -s -o /dev/null -m 5 -w '%{http_code}\n' "$BASE/is-bitcoin-lit"
	done | sort | uniq -c | awk '{ printf "%s%sx%s", s, $1, $2; s = " " }'
}
# req_until SECONDS STATUS METHOD PATH [curl args]: req again until it
# answers STATUS, for at most SECONDS (the microcache may answer the first
# second); the last status echoed, its headers and body as req leaves them
req_until() {
	local limit=$(( $1 * 10 )) want=$2 st=""
	shift 2
	for _ in $(seq "$limit"); do
		st=$(req "$@")
		[ "$st" = "$want" ] && break
		sleep 0.1
	done
	echo "$st"
}
# serves: GET /is-bitcoin-lit answers 200
serves() { [ "$(statuses 1)" = 1x200 ]; }
# key_is PORT KEY 0|1: whether the Redis on 127.0.0.1:PORT holds KEY
key_is() { [ "$(redis-cli -p "$1" exists "$2")" = "$3" ]; }

# acl_redis NAME [MODULE]: a Redis as deploy/redis.conf.example sets it (AOF,
# everysec, no snapshots, noeviction) on the socket $T/NAME.sock, with the
# example's users as they are (the default user off) and one more, the
# test's own; with MODULE loaded, the rights redis.conf.example says to add.
acl_redis() {
	local name=$1 module=${2:-}
	sed -e 's/CHANGE-ME-api/apipw/; s/CHANGE-ME-refresh/refreshpw/' \
	    "$top_srcdir/deploy/redis-acl.example" >"$T/$name.acl"
	if [ -n "$module" ]; then
		sed -i -e '/^user isbitcoinlit-api /s/$/ (~is-bitcoin-lit:price:* ~is-bitcoin-lit:sentiment:* +ts.get +ts.range)/' \
		    -e '/^user isbitcoinlit-refresh /s/$/ +ts.create +ts.alter +ts.madd +ts.get +ts.range/' \
		    "$T/$name.acl"
	fi
	echo "user isbitcoinlit-test on >testpw ~* &* +@all" >>"$T/$name.acl"
	{
		grep -vE '^(port|bind|unixsocket|unixsocketperm|aclfile)[[:space:]]' \
		    "$top_srcdir/deploy/redis.conf.example"
		echo "port 0"
		echo "unixsocket $T/$name.sock"
		echo "unixsocketperm 700"
		echo "aclfile $T/$name.acl"
		echo "dir $T/$name"
		echo "pidfile $T/$name.pid"
		echo "logfile $T/$name.log"
		echo "daemonize yes"
		[ -n "$module" ] && echo "loadmodule $module"
	} >"$T/$name.conf"
	mkdir -p "$T/$name"
	redis-server "$T/$name.conf"
	wait_for 5 test -S "$T/$name.sock"
}
# as_test NAME ARGS...: redis-cli on $T/NAME.sock as the test's own user
as_test() {
	local name=$1
	shift
	redis-cli -s "$T/$name.sock" --user isbitcoinlit-test --pass testpw \
	    --no-auth-warning "$@"
}
# contents NAME: every key of the prefix with its type and a digest of its
# value (the samples of a series, a cached document, the refresh's numbers;
# a module series' retention and duplicate policy too)
contents() {
	local k t
	as_test "$1" --scan --pattern 'is-bitcoin-lit:*' | sort | while read -r k; do
		t=$(as_test "$1" type "$k")
		case $t in
		zset) echo "$k $t $(as_test "$1" zcard "$k") $(as_test "$1" zrange "$k" 0 -1 withscores | md5sum)" ;;
		string) echo "$k $t $(as_test "$1" get "$k" | md5sum)" ;;
		hash) echo "$k $t $(as_test "$1" hgetall "$k" | paste - - | sort | md5sum)" ;;
		TSDB-TYPE) echo "$k $t $(as_test "$1" ts.info "$k" |
		    grep -A1 -xE 'retentionTime|duplicatePolicy' | paste -sd ' ') $(as_test "$1" ts.range "$k" - + | paste - - | wc -l) $(as_test "$1" ts.range "$k" - + | md5sum)" ;;
		*) echo "$k $t" ;;
		esac
	done
}
# restart_from_aof NAME: acl_redis NAME's contents in $T/NAME.before, a
# SHUTDOWN, a start from its AOF, its contents in $T/NAME.after
restart_from_aof() {
	local name=$1 pid
	contents "$name" >"$T/$name.before"
	pid=$(cat "$T/$name.pid")
	as_test "$name" shutdown >/dev/null 2>&1
	wait_for 10 eval "! kill -0 $pid 2>/dev/null"
	redis-server "$T/$name.conf"
	wait_for 5 eval "as_test $name ping >/dev/null 2>&1"
	contents "$name" >"$T/$name.after"
}
# wait_for SECONDS COMMAND...: until the command succeeds; 0 if it did
wait_for() {
	local limit=$(( $1 * 20 ))
	shift
	for _ in $(seq "$limit"); do "$@" && return 0; sleep 0.05; done
	return 1
}

now_ms() { date +%s%3N; }

# refresh_once: isbitcoinlit-refresh --once under $TEST_PREFIX (valgrind in
# CI), run again while another refresh (the stack's loop) holds the lock;
# its report on stdout, its exit status
refresh_once() {
	local rc
	for _ in $(seq 100); do
		${TEST_PREFIX:-} "$top_builddir/src/isbitcoinlit-refresh" --once \
		    >"$T/refresh.out"
		rc=$?
		[ "$rc" = 4 ] || break
		sleep 0.1
	done
	cat "$T/refresh.out"
	return "$rc"
}

# open_to_stack SOCKET: a socket of the test's own that the local stack's
# programs must reach: run as root they are isbitcoinlit-local (its group
# may connect), else the test's own user
open_to_stack() {
	[ "$(id -u)" = 0 ] || return 0
	if getent group isbitcoinlit-local >/dev/null; then
		chgrp isbitcoinlit-local "$1" && chmod 0660 "$1"
	else
		chmod 0666 "$1"
	fi
}

# stack_setup NAME: a private directory $T for a test of the local stack
# (its state in $T/state, $LOCAL to drive it), nginx's port in $PORT and
# $BASE, a generated feed as the upstream, warn-level logs.  On exit the
# stack is stopped, every process with a pid file in $T is stopped and $T
# removed (with ISBITCOINLIT_TEST_KEEP=DIR the logs are copied there first).
stack_setup() {
	T=$(mktemp -d "/tmp/isbitcoinlit-$1.XXXXXX")
	chmod 0711 "$T"	# nginx's workers pass through to the sockets
	export ISBITCOINLIT_STATE_DIR=$T/state
	# the programs of this build, under the tests' wrapper (valgrind)
	export ISBITCOINLIT_BUILD_DIR=$top_builddir
	export ISBITCOINLIT_WRAPPER=${TEST_PREFIX:-}
	LOCAL=$top_srcdir/deploy/isbitcoinlit-local
	trap stack_cleanup EXIT
	PORT=$(free_port)
	export ISBITCOINLIT_HTTP_PORT=$PORT
	BASE=http://127.0.0.1:$PORT
	make_feed "$T/feed.json"
	export ISBITCOINLIT_UPSTREAM_URL=file://$T/feed.json
	export ISBITCOINLIT_LOG_LEVEL=warn
	export ISBITCOINLIT_REFRESH_TOKEN=test-$RANDOM$RANDOM$RANDOM
	# The stack as shipped: nginx's one-second microcache on.  A test that
	# needs every request to reach the responders sets
	# ISBITCOINLIT_MICROCACHE=0 after this, and says which scenario of its
	# runs once as shipped too.
	unset ISBITCOINLIT_MICROCACHE
}
# stack_up: the local stack up, else a failed check and the end of the
# test; then $STATE and $RCLI (redis-cli on the stack's Redis)
stack_up() {
	if ! "$LOCAL" up >"$T/up.log" 2>&1; then
		nok "the stack comes up" "$(cat "$T/up.log")"
		finish
	fi
	STATE=$ISBITCOINLIT_STATE_DIR
	RCLI="redis-cli -s $STATE/redis.sock"
}
stack_cleanup() {
	local p
	"$LOCAL" down >/dev/null 2>&1
	for p in "$T"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	[ -n "${ISBITCOINLIT_TEST_KEEP:-}" ] &&
		cp "$T"/*.log "$T"/state/*.log "$ISBITCOINLIT_TEST_KEEP"/ 2>/dev/null
	rm -rf "$T"
}

# load_start N: N clients GET $BASE/is-bitcoin-lit in a loop, one line
# "ms status" a request in $T/load.I; load_stop ends them (and any other
# background loop that watches $T/stop) and sorts every line into $T/load.
load_start() {
	local i
	rm -f "$T/stop"
	for i in $(seq "$1"); do
		while [ ! -f "$T/stop" ]; do
			echo "$(now_ms) $(curl -s -o /dev/null -m 5 -w '%{http_code}' \
			    "$BASE/is-bitcoin-lit")"
		done >"$T/load.$i" &
	done
}
load_stop() {
	touch "$T/stop"
	wait
	sort -n "$T"/load.* >"$T/load"
}

# nginx_conf DIR INCLUDE...: DIR/nginx.conf, an http {} as Debian's
# nginx.conf has it (types by extension, a binary default) that includes
# each INCLUDE; its pid, error log and temporary files in DIR; the workers
# www-data when run as root.  Start it with nginx -q -p DIR -c DIR/nginx.conf.
nginx_conf() {
	local d=$1 user="" f
	shift
	mkdir -p "$d/tmp"
	if [ "$(id -u)" = 0 ]; then
		user="user www-data;"
		chown www-data "$d/tmp"
	fi
	{
		echo "$user"
		echo "worker_processes 1;"
		echo "pid $d/nginx.pid;"
		echo "error_log $d/error.log warn;"
		echo "events { worker_connections 64; }"
		echo "http {"
		echo "    include /etc/nginx/mime.types;"
		echo "    default_type application/octet-stream;"
		echo "    access_log off;"
		echo "    client_body_temp_path $d/tmp/body;"
		for f in fastcgi proxy uwsgi scgi; do
			echo "    ${f}_temp_path $d/tmp/$f;"
		done
		for f in "$@"; do echo "    include $f;"; done
		echo "}"
	} >"$d/nginx.conf"
}

# npm_tools DIR SUBDIR PACKAGE: the npm packages DIR/package-lock.json pins,
# installed with npm ci once per lock file into $NPM_DIR (the tests' npm
# cache, SUBDIR below it); when npm cannot install them the whole test is
# skipped (TAP "1..0 # SKIP").  PACKAGE: one of them, to see they are there.
npm_tools() {
	local src=$1 lock=$1/package-lock.json
	NPM_DIR=${ISBITCOINLIT_TEST_NPM_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/isbitcoinlit-npm}${2:+/$2}
	if ! cmp -s "$lock" "$NPM_DIR/package-lock.json" ||
	    [ ! -f "$NPM_DIR/node_modules/$3/package.json" ]; then
		mkdir -p "$NPM_DIR"
		cp "$src/package.json" "$lock" "$NPM_DIR/"
		if ! (cd "$NPM_DIR" && timeout 300 npm ci --ignore-scripts --no-audit \
		    --no-fund --loglevel=error) >"$NPM_DIR/npm-ci.log" 2>&1; then
			echo "1..0 # SKIP $3 could not be installed with npm ci (see $NPM_DIR/npm-ci.log)"
			rm -f "$NPM_DIR/package-lock.json"
			rm -rf "$REPORTS"
			exit 0
		fi
	fi
}
