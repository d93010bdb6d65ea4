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
expect_error "unknown option" \
	'cfg_dump: unknown option: --nope (see --help)' $TEST_PREFIX "$bin" --nope

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
out=$(env ISBITCOINLIT_CACHE_TTL_S=7 $TEST_PREFIX "$bin" --log-level warn)
case "$out" in
*cache_ttl_s=7*log_level=warn*) ok "variables and options are applied" ;;
*) nok "variables and options are applied" "$out" ;;
esac
finish
