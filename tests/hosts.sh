#!/usr/bin/env bash
# Several api hosts behind one nginx, as nginx/isbitcoinlit-common.conf
# describes: the local stack's pool on its unix socket plus a second pool
# on TCP.  nginx passes over a pool that is down; a pool with
# FCGI_WEB_SERVER_ADDRS closes connections from any other address.  TAP.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli

stack_setup hosts
# Every request reaches the responders: which pool answers is counted a request at a time (the
# microcache as shipped: faults.sh, contention.sh, crash.sh, e2e.sh, edge.sh).
export ISBITCOINLIT_MICROCACHE=0
API=$top_builddir/src/isbitcoinlit-api
stack_up
export ISBITCOINLIT_REDIS_URL
ISBITCOINLIT_REDIS_URL=$(cat "$STATE/redis.url")

# pool PORT ALLOWED NAME: an api pool on 127.0.0.1:PORT for nginx at ALLOWED
pool() {
	FCGI_WEB_SERVER_ADDRS=$2 ISBITCOINLIT_LOG_LEVEL=debug "$API" \
		--listen "127.0.0.1:$1" --workers 2 2>"$T/$3.log" &
	echo $! >"$T/$3.pid"
	wait_for 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}
P2=$(free_port)
P3=$(free_port)
pool "$P2" 127.0.0.1 api2
pool "$P3" 192.0.2.1 api3

# upstream SERVER...: the api upstream of the running nginx, reloaded
upstream() {
	local lines="" s
	for s in "$@"; do lines="$lines    server $s;\n"; done
	awk -v l="$lines" '
		/^upstream isbitcoinlit_api \{/ { print; printf "%s", l; skip = 1; next }
		skip && /^\}/ { skip = 0 }
		!skip { print }' "$STATE/nginx/isbitcoinlit-common.conf" >"$T/common"
	cp "$T/common" "$STATE/nginx/isbitcoinlit-common.conf"
	old=$(pgrep -P "$(cat "$STATE/nginx.pid")" | tr '\n' ' ')
	nginx -q -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf" -s reload \
		2>"$T/reload.err" || return 1
	# the new configuration serves once every old worker is gone
	wait_for 10 old_workers_gone
}
old_workers_gone() {
	local p
	for p in $old; do kill -0 "$p" 2>/dev/null && return 1; done
	return 0
}

check "nginx reloads with the two-pool upstream" \
	upstream "unix:$STATE/api.sock" "127.0.0.1:$P2"
check "nginx -t takes the two-pool upstream" \
	nginx -q -t -p "$STATE/nginx" -c "$STATE/nginx/nginx.conf"
served() { grep -c 'request method=GET path=/is-bitcoin-lit status=200' "$T/$1.log"; }
st=$(statuses 40)
check "two pools: every answer 200 ($st)" test "$st" = "40x200"
n2=$(served api2)
check "both pools served ($n2 of 40 on the TCP pool)" test "$n2" -ge 1 -a "$n2" -le 39
pid=$(cat "$STATE/api.pid")
kill "$pid"
gone() { ! kill -0 "$pid" 2>/dev/null; }
wait_for 10 gone
st=$(statuses 40)
check "this host's pool stopped: the other host answers, every answer 200 ($st)" \
	test "$st" = "40x200"
check "nginx reloads with a pool that allows another address" \
	upstream "127.0.0.1:$P3"
st=$(statuses 5)
check "a pool that allows only another address: nginx gets no answer, 502 ($st)" \
	test "$st" = "5x502"
st=$(req GET /is-bitcoin-lit)
check "the 502 is an Error document ($st)" body_is_schema Error
check "and that pool is still up" kill -0 "$(cat "$T/api3.pid")"
check "nginx reloads with both TCP pools" \
	upstream "127.0.0.1:$P3" "127.0.0.1:$P2"
st=$(statuses 20)
check "with an allowed pool beside it: every answer 200 ($st)" test "$st" = "20x200"
finish
