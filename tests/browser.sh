#!/usr/bin/env bash
# The dashboard at / in a real browser: Debian's Chromium, headless, driven
# by puppeteer-core (pinned in tests/browser/package-lock.json, installed
# with npm ci into a cache outside the sources) against the local stack fed
# a generated 2021 feed.  The checks are in tests/browser/browser.js.
# Screenshots go to $ISBITCOINLIT_TEST_KEEP, else to tests/artifacts/ in the
# build tree.  Skipped only when Chromium, Node or npm, or puppeteer-core
# cannot be installed.  Then the page on live feeds in day mode.
set -uo pipefail
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

# Chromium, Node and npm: installed when missing (as root), else a skip.
have_tools() { command -v chromium >/dev/null && command -v node >/dev/null &&
	command -v npm >/dev/null; }
have_tools || "$top_srcdir/deploy/install-deps" browser >/dev/null 2>&1
if ! have_tools; then
	echo "1..0 # SKIP Chromium, Node or npm not installed and not installable (deploy/install-deps browser)"
	exit 0
fi

# puppeteer-core at the version the lock file pins, once per lock file
npm_tools "$top_srcdir/tests/browser" "" puppeteer-core

ART=${ISBITCOINLIT_TEST_KEEP:-$top_builddir/tests/artifacts}
mkdir -p "$ART"

stack_setup browser
stack_up

CHROMIUM=$(command -v chromium)
echo "# $("$CHROMIUM" --version 2>/dev/null | tail -n 1), node $(node --version)," \
    "puppeteer-core $(sed -n 's/^ *"version": "\(.*\)",$/\1/p' \
    "$NPM_DIR/node_modules/puppeteer-core/package.json" | head -n 1)"

# the page and its files, as nginx serves them
st=$(req GET /)
check "GET /: 200 HTML" test "$st:$(hdr Content-Type)" = "200:text/html; charset=utf-8"
check "the page's own CSP: script and style from this origin only" \
	grep -q "^Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self';" \
	<(tr -d '\r' <"$T/h")
check "the page is revalidated (no-cache, ETag)" \
	test "$(hdr Cache-Control):$(hdr ETag | cut -c1)" = 'no-cache:"'
www_bytes=$(find "$top_srcdir/www" -maxdepth 1 -type f -exec cat {} + | wc -c)
check "the page's files are under 50 kB ($www_bytes bytes)" test "$www_bytes" -lt 51200

# browse LABEL PROFILE [ARG]: browser.js [ARG] against the stack, with a
# profile of its own; its lines as TAP, each "LABEL" first
browse() {
	local label=$1 rc
	mkdir -p "$T/$2"
	BASE=$BASE CHROMIUM=$CHROMIUM ARTIFACTS=$ART PROFILE=$T/$2 RCLI=$RCLI \
	    NODE_PATH=$NPM_DIR/node_modules \
	    timeout 300 node "$top_srcdir/tests/browser/browser.js" ${3:+"$3"} \
	    >"$T/browser.out" 2>"$T/browser.err"
	rc=$?
	while IFS=$'\t' read -r kind what detail; do
		case $kind in
		OK) ok "$label$what" ;;
		NOK) nok "$label$what" "$detail" ;;
		SKIP) skip "$label$what" "$detail" ;;
		*) echo "# $kind $what $detail" ;;
		esac
	done <"$T/browser.out"
	check "${label}the browser script exits 0 (status $rc)" test "$rc" = 0
	[ "$rc" = 0 ] || sed 's/^/#   /' "$T/browser.err" | head -n 40
}
browse "" profile

# The same page on a stack with day buckets reading the live feeds, as the
# README's one line runs it: Kraken's candles up to now for the price,
# SentiCrypt v2 for the sentiment, first three days behind (stale), then
# caught up (browser.js copies FRESH_FEED over LIVE_FEED and refreshes)
"$LOCAL" down >/dev/null 2>&1
rm -rf "$ISBITCOINLIT_STATE_DIR"
export ISBITCOINLIT_BUCKET=day
today=$(( $(date -u +%s) / 86400 * 86400 ))
make_v2_feed "$T/v2.json" "$T/v2-old.samples" $(( today - 3 * 86400 )) 40
make_v2_feed "$T/v2-today.json" "$T/v2.samples" "$today" 40
make_kraken_feed "$T/kraken.json" "$T/kraken.samples" $(( $(date -u +%s) / 3600 * 3600 ))
chmod 0644 "$T"/v2*.json "$T/kraken.json"
export ISBITCOINLIT_UPSTREAM_URL=file://$T/v2.json ISBITCOINLIT_PRICE_URL=file://$T/kraken.json
stack_up
FRESH_FEED=$T/v2-today.json LIVE_FEED=$T/v2.json browse "day mode: " profile-days day
echo "# screenshots in $ART"

finish
