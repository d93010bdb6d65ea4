#!/usr/bin/env bash
# A CDN in front of the site: a second nginx as a caching proxy (proxy_cache
# with no validity of its own, so it keeps what Cache-Control allows, per
# Vary) before the local stack as shipped (its microcache on).  Repeats are
# served by the proxy without reaching the responders (their request
# counters in /metrics), never past max-age: then the proxy asks again.
# The cache's TTL is made short (ISBITCOINLIT_CACHE_TTL_S) so that max-age
# passes within the test.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli gzip

stack_setup cdn
unset ISBITCOINLIT_MICROCACHE	# as shipped: on
TTL=6
export ISBITCOINLIT_CACHE_TTL_S=$TTL
stack_up

# The proxy: nginx as a CDN keeps what Cache-Control lets a shared cache
# keep (s-maxage, max-age), asks again with If-None-Match after, and says
# in X-CDN whether it answered from its cache.
C=$T/cdn
CP=$(free_port)
mkdir -p "$C/cache"
[ "$(id -u)" = 0 ] && chown www-data "$C/cache"
cat >"$C/cdn.conf" <<EOF
proxy_cache_path $C/cache levels=1:2 keys_zone=cdn:1m inactive=1h use_temp_path=off;
server {
    listen 127.0.0.1:$CP;
    location / {
        proxy_pass $BASE;
        proxy_http_version 1.1;
        proxy_cache cdn;
        proxy_cache_revalidate on;
        add_header X-CDN \$upstream_cache_status always;
    }
}
EOF
nginx_conf "$C" "$C/cdn.conf"
if ! nginx -q -p "$C" -c "$C/nginx.conf" 2>"$C/start.err"; then
	nok "the proxy starts" "$(cat "$C/start.err")"
	finish
fi
cp "$C/nginx.pid" "$T/cdn-nginx.pid"
CDN=http://127.0.0.1:$CP

# cdn PATH [curl args]: GET through the proxy, status echoed, headers in
# $T/h and body in $T/b as req leaves them
cdn() {
	local p=$1
	shift
	rm -f "$T/b" "$T/h"
	touch "$T/b"
	curl -s -o "$T/b" -D "$T/h" "$@" "$CDN$p" -w '%{http_code}'
}
# pool ROUTE: the requests the responders have answered on ROUTE, any status
pool() {
	curl -s -m 5 "$BASE/metrics" | awk -v r="route=\"$1\"" '
		index($1, "isbitcoinlit_api_requests_total{" r ",") == 1 { n += $2 }
		END { print n + 0 }'
}
# max_age: the max-age of the last answer's Cache-Control ("" if none)
max_age() { hdr Cache-Control | grep -o 'max-age=[0-9]*' | cut -d= -f2; }

# ---- the policy the site sends ----
sleep 2.1	# past any answer of the microcache
$RCLI del is-bitcoin-lit:cache >/dev/null
st=$(req GET /is-bitcoin-lit)
check "a computed summary: 200, shared caches may keep it the cache's TTL ($(hdr X-Cache), $(hdr Cache-Control))" \
	test "$st:$(hdr X-Cache):$(hdr Cache-Control)" = "200:miss:public, max-age=$TTL, stale-while-revalidate=30"
cached() { [ "$($RCLI exists is-bitcoin-lit:cache)" = 1 ]; }
wait_for 5 cached
sleep 2.1
st=$(req GET /is-bitcoin-lit)
left=$($RCLI pttl is-bitcoin-lit:cache)
ma=$(max_age)
check "from Redis's cache: max-age is the time it has left ($ma s, then $left ms)" \
	test "$st" = 200 -a -n "$ma" -a "$((ma * 1000))" -le "$((left + 100))" \
	-a "$ma" -lt "$TTL"
req GET /is-bitcoin-lit >/dev/null
check "from nginx's microcache: with Age ($(hdr Age)), the same max-age" \
	test "$(hdr Age):$(max_age)" = "2:$ma"

# ---- the proxy keeps a repeat, for max-age, then asks again ----
sleep 2.1
$RCLI del is-bitcoin-lit:cache >/dev/null
before=$(pool /is-bitcoin-lit)
t0=$(now_ms)
st=$(cdn /is-bitcoin-lit)
ma=$(max_age) age=$(hdr Age)
cp "$T/b" "$T/first"
check "through the proxy: 200, fetched ($(hdr X-CDN)), max-age $ma" \
	test "$st:$(hdr X-CDN):$ma" = "200:MISS:$TTL"
check "the responders answered it once" test "$(pool /is-bitcoin-lit)" = "$((before + 1))"
hits=""
for _ in 1 2 3 4 5; do
	cdn /is-bitcoin-lit >/dev/null
	hits="$hits $(hdr X-CDN)"
	cmp -s "$T/b" "$T/first" || hits="$hits(body differs)"
done
check "five repeats: from the proxy ($hits)" test "$hits" = " HIT HIT HIT HIT HIT"
check "none reached the responders ($(pool /is-bitcoin-lit))" \
	test "$(pool /is-bitcoin-lit)" = "$((before + 1))"
# then until the proxy asks again: no later than max-age (the proxy counts
# whole seconds: one more) after the first fetch
status=HIT
while [ "$status" = HIT ] && [ $(( $(now_ms) - t0 )) -lt $(( (TTL + 5) * 1000 )) ]; do
	sleep 0.2
	t1=$(now_ms)
	cdn /is-bitcoin-lit >/dev/null
	status=$(hdr X-CDN)
done
held=$(( t1 - t0 ))
fresh=$(( ma - ${age:-0} ))
check "the proxy asked again ($status) after $held ms: not before max-age ($fresh s), not a second after" \
	test "$status" != HIT -a "$held" -ge $(( fresh * 1000 - 200 )) \
	-a "$held" -le $(( (fresh + 1) * 1000 + 500 ))
check "and that reached the responders" test "$(pool /is-bitcoin-lit)" = "$((before + 2))"

# ---- /history: each ?hours its own, repeats kept too ----
before=$(pool /history)
cdn '/history?hours=3' >/dev/null
a=$(hdr X-CDN)
cdn '/history?hours=3' >/dev/null
b=$(hdr X-CDN)
check "/history?hours=3 through the proxy: fetched, then kept ($a $b)" \
	test "$a $b" = "MISS HIT"
check "one request of the responders ($(pool /history))" \
	test "$(pool /history)" = "$((before + 1))"

# ---- compression: one variant per Accept-Encoding (Vary) ----
sleep 2.1
cdn '/history?hours=2' --compressed >/dev/null
a="$(hdr X-CDN) $(hdr Content-Encoding) $(hdr Vary)"
cp "$T/b" "$T/gz-body"
cdn '/history?hours=2' >/dev/null
b="$(hdr X-CDN) $(hdr Content-Encoding)"
check "gzipped through the proxy, then a client without gzip gets its own variant ($a; $b)" \
	test "$a|$b" = "MISS gzip Accept-Encoding|MISS "
check "the same JSON in both" cmp -s "$T/b" "$T/gz-body"
cdn '/history?hours=2' --compressed >/dev/null
a=$(hdr X-CDN)
cdn '/history?hours=2' >/dev/null
b=$(hdr X-CDN)
check "each kept by the proxy ($a $b)" test "$a $b" = "HIT HIT"

finish
