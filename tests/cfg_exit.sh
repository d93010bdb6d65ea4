#!/usr/bin/env bash
# A program given a bad value prints one line naming the variable and the
# value and exits 2; --help and --version exit 0.
set -u
bin=${top_builddir:-.}/tests/cfg_dump
. "$(dirname "$0")/lib.sh"

expect_error() { # desc want-stderr command...
	desc=$1 want=$2; shift 2
	out=$("$@" 2>&1 >/dev/null); rc=$?
	if [ "$rc" -eq 2 ] && [ "$out" = "$want" ]; then ok "$desc"
	else nok "$desc" "exit $rc, stderr: $out" "want exit 2, stderr: $want"; fi
}

expect_error "bad variable value" \
	'cfg_dump: ISBITCOINLIT_CACHE_TTL_S: not a positive integer: "abc"' \
	env ISBITCOINLIT_CACHE_TTL_S=abc $TEST_PREFIX "$bin"
expect_error "bad Redis URL, password hidden" \
	'cfg_dump: ISBITCOINLIT_REDIS_URL: bad port (1-65535): "redis://:***@h:0"' \
	env ISBITCOINLIT_REDIS_URL=redis://:hunter2@h:0 $TEST_PREFIX "$bin"
expect_error "bad option value" \
	'cfg_dump: --timeseries: not one of auto, redistimeseries, sortedset: "x"' \
	$TEST_PREFIX "$bin" --timeseries x
expect_error "a bucket that is neither hour nor day" \
	'cfg_dump: ISBITCOINLIT_BUCKET: not one of hour, day: "week"' \
	env ISBITCOINLIT_BUCKET=week $TEST_PREFIX "$bin"
expect_error "a window of 1 (no direction)" \
	'cfg_dump: --window: not an integer from 2 to 24: "1"' \
	$TEST_PREFIX "$bin" --window 1
expect_error "a window of 25" \
	'cfg_dump: ISBITCOINLIT_WINDOW: not an integer from 2 to 24: "25"' \
	env ISBITCOINLIT_WINDOW=25 $TEST_PREFIX "$bin"
expect_error "unknown option" \
	'cfg_dump: unknown option: --nope (see --help)' $TEST_PREFIX "$bin" --nope
refresh=${top_builddir:-.}/src/isbitcoinlit-refresh
expect_error "a price-only upstream format is refused at start-up" \
	'isbitcoinlit-refresh: ISBITCOINLIT_UPSTREAM_FORMAT (--upstream-format): kraken-ohlc gives no sentiment, and this feed must give price and sentiment' \
	env ISBITCOINLIT_UPSTREAM_FORMAT=kraken-ohlc timeout 20 $TEST_PREFIX "$refresh" --once
expect_error "an unknown upstream format is refused at start-up" \
	'isbitcoinlit-refresh: ISBITCOINLIT_UPSTREAM_FORMAT (--upstream-format): not one of auto, senticrypt-v1, senticrypt-v2, kraken-ohlc, coinbase-candles: "csv"' \
	timeout 20 $TEST_PREFIX "$refresh" --once --upstream-format csv
expect_error "an unknown upstream format from the environment too" \
	'isbitcoinlit-refresh: ISBITCOINLIT_UPSTREAM_FORMAT (--upstream-format): not one of auto, senticrypt-v1, senticrypt-v2, kraken-ohlc, coinbase-candles: "senticrypt-v3"' \
	env ISBITCOINLIT_UPSTREAM_FORMAT=senticrypt-v3 timeout 20 $TEST_PREFIX "$refresh" --once
expect_error "an unknown price format is refused at start-up" \
	'isbitcoinlit-refresh: ISBITCOINLIT_PRICE_FORMAT (--price-format): not one of auto, senticrypt-v1, senticrypt-v2, kraken-ohlc, coinbase-candles: "kraken"' \
	timeout 20 $TEST_PREFIX "$refresh" --once --price-url file:///nonexistent --price-format kraken
expect_error "from the environment, and with no price feed set" \
	'isbitcoinlit-refresh: ISBITCOINLIT_PRICE_FORMAT (--price-format): not one of auto, senticrypt-v1, senticrypt-v2, kraken-ohlc, coinbase-candles: "csv"' \
	env ISBITCOINLIT_PRICE_FORMAT=csv timeout 20 $TEST_PREFIX "$refresh" --once

# A password holding '/', '?' or '#' (not percent-encoded): refused, and
# no part of it on stderr, from the environment or from --redis-url.
hides_password() { # desc secret command...
	desc=$1 secret=$2; shift 2
	out=$("$@" 2>&1 >/dev/null </dev/null); rc=$?
	case "$out" in
	*"$secret"*) nok "$desc" "exit $rc, stderr: $out" "want no \"$secret\"" ;;
	*"percent-encode"*) [ "$rc" -eq 2 ] && ok "$desc" ||
		nok "$desc" "exit $rc, stderr: $out" "want exit 2" ;;
	*) nok "$desc" "exit $rc, stderr: $out" "want a percent-encode hint" ;;
	esac
}
for prog in isbitcoinlit-api isbitcoinlit-refresh; do
	p=${top_builddir:-.}/src/$prog
	hides_password "$prog: a password with '/' in the environment is not printed" \
		def+ghi env ISBITCOINLIT_REDIS_URL='redis://:abc/def+ghi==@redis.example:6379' \
		timeout 20 $TEST_PREFIX "$p"
	hides_password "$prog: nor with --redis-url" def+ghi \
		timeout 20 $TEST_PREFIX "$p" --redis-url 'redis://:abc/def+ghi==@redis.example:6379'
	hides_password "$prog: nor a unix:// password with '/'" pa/ss \
		timeout 20 $TEST_PREFIX "$p" --redis-url='unix://:pa/ss@/path'
	hides_password "$prog: nor one with '?'" pa?ss \
		env ISBITCOINLIT_REDIS_URL='redis://u:pa?ss@h' timeout 20 $TEST_PREFIX "$p"
	hides_password "$prog: nor one with '#'" pa#ss \
		timeout 20 $TEST_PREFIX "$p" --redis-url 'redis://:pa#ss@h:1/0'
done
out=$(timeout 20 $TEST_PREFIX "${top_builddir:-.}/src/isbitcoinlit-api" \
	'redis://:s3cr3t-pw@h:6379' 2>&1 >/dev/null </dev/null); rc=$?
case "$rc:$out" in
*s3cr3t-pw*) nok "a URL given without --redis-url: its password not printed" "$out" ;;
2:*"unexpected argument"*) ok "a URL given without --redis-url: its password not printed" ;;
*) nok "a URL given without --redis-url: its password not printed" "exit $rc: $out" ;;
esac
out=$(ISBITCOINLIT_REDIS_URL='redis:/:s3cr3t-pw@h:6379' timeout 20 $TEST_PREFIX \
	"${top_builddir:-.}/src/isbitcoinlit-api" 2>&1 >/dev/null </dev/null); rc=$?
case "$rc:$out" in
*s3cr3t-pw*) nok "a URL with a typo in its scheme: its password not printed" "$out" ;;
2:*"not a redis://"*) ok "a URL with a typo in its scheme: its password not printed" ;;
*) nok "a URL with a typo in its scheme: its password not printed" "exit $rc: $out" ;;
esac
hides_password "isbitcoinlit-api: nor the read URL's" pa/ss \
	env ISBITCOINLIT_REDIS_READ_URL='redis://:pa/ss@h' \
	timeout 20 $TEST_PREFIX "${top_builddir:-.}/src/isbitcoinlit-api"

out=$($TEST_PREFIX "$bin" --help 2>&1); rc=$?
case "$rc:$out" in
0:*ISBITCOINLIT_REDIS_URL*) ok "--help exits 0 and lists the variables" ;;
*) nok "--help exits 0 and lists the variables" "exit $rc" ;;
esac
out=$($TEST_PREFIX "$bin" --version 2>&1); rc=$?
case "$rc:$out" in
0:cfg_dump\ [0-9]*) ok "--version exits 0" ;;
*) nok "--version exits 0" "exit $rc: $out" ;;
esac
# --listen never binds every interface, however the address is spelt: the
# address is checked once resolved.  (Redis need not answer: the pool
# binds before any worker connects.)
port=$(free_port)
for a in "0:$port" "0x0:$port" "0.0.0.0:$port" "[::]:$port" "[::0]:$port" \
    "[0:0:0:0:0:0:0:0]:$port" "[::ffff:0.0.0.0]:$port" ":$port"; do
	out=$(timeout 20 $TEST_PREFIX "${top_builddir:-.}/src/isbitcoinlit-api" \
	    --listen "$a" --redis-url redis://127.0.0.1:1 2>&1 >/dev/null </dev/null)
	rc=$?
	case "$rc:$out" in
	0:*|124:*) nok "--listen $a is refused" "exit $rc: $out" ;;
	*"all interfaces"*|*"no address"*) ok "--listen $a is refused" ;;
	*) nok "--listen $a is refused" "exit $rc: $out" ;;
	esac
done
out=$(env ISBITCOINLIT_CACHE_TTL_S=7 $TEST_PREFIX "$bin" --log-level warn)
case "$out" in
*cache_ttl_s=7*log_level=warn*) ok "variables and options are applied" ;;
*) nok "variables and options are applied" "$out" ;;
esac
out=$(env ISBITCOINLIT_BUCKET=day $TEST_PREFIX "$bin" --window 5)
case "$out" in
*bucket=day*window=5*retention_s=2678400*) ok "day buckets: 31 days of retention unless set" ;;
*) nok "day buckets: 31 days of retention unless set" "$out" ;;
esac
out=$($TEST_PREFIX "$bin")
case "$out" in
*bucket=hour*window=3*retention_s=86400*) ok "the defaults: hour buckets, window 3, 24 h" ;;
*) nok "the defaults: hour buckets, window 3, 24 h" "$out" ;;
esac
finish
