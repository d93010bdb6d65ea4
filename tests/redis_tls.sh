#!/usr/bin/env bash
# Redis over TLS, on real processes: a TLS-only redis-server (no plain
# port) with a certificate from a throwaway CA made here by openssl, and
# the local stack reaching it through its stunnel4 tunnel on a unix socket
# (ISBITCOINLIT_REDIS_TLS): a refresh and the API work, the data is on the
# TLS server, `down` stops the tunnel; a client certificate when Redis
# asks for one.  Certificate verification is on: a
# tunnel that trusts another CA, or checks another name, fails closed --
# the programs get no Redis (exit 3, 503) and say what to look at, the
# tunnel's log says why, and nothing is written.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli openssl stunnel4

stack_setup tls
PW=tls-redis-secret

# ---- a throwaway CA, a server certificate for localhost, another CA ----
ca() {	# NAME: a self-signed CA in $T/NAME.pem, $T/NAME.key
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$1" \
	    -keyout "$T/$1.key" -out "$T/$1.pem" 2>/dev/null
}
if ! ca test-ca || ! ca other-ca ||
    ! openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
	-keyout "$T/server.key" -out "$T/server.csr" 2>/dev/null ||
    ! printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$T/ext" ||
    ! openssl x509 -req -days 2 -in "$T/server.csr" -CA "$T/test-ca.pem" \
	-CAkey "$T/test-ca.key" -CAcreateserial -extfile "$T/ext" \
	-out "$T/server.pem" 2>/dev/null; then
	nok "a CA and a server certificate made by openssl"
	finish
fi
ok "a CA and a server certificate made by openssl"

# ---- a TLS-only Redis ----
P=$(free_port)
if ! redis-server --port 0 --tls-port "$P" --bind 127.0.0.1 --daemonize yes \
    --save '' --dir "$T" --pidfile "$T/redis-tls.pid" --logfile "$T/redis-tls.log" \
    --requirepass "$PW" --tls-cert-file "$T/server.pem" \
    --tls-key-file "$T/server.key" --tls-ca-cert-file "$T/test-ca.pem" \
    --tls-auth-clients no; then
	nok "a TLS-only redis-server starts" "$(cat "$T/redis-tls.log")"
	finish
fi
tcli() { REDISCLI_AUTH=$PW redis-cli --tls --cacert "$T/test-ca.pem" -p "$P" "$@"; }
check "a TLS-only redis-server answers over TLS" wait_for 5 tcli ping
check "and not in plain text" \
	bash -c "! REDISCLI_AUTH=$PW redis-cli -p $P ping >/dev/null 2>&1"

# ---- the local stack through its tunnel ----
export ISBITCOINLIT_REDIS_TLS=127.0.0.1:$P ISBITCOINLIT_REDIS_TLS_CA=$T/test-ca.pem
export ISBITCOINLIT_REDIS_URL=unix://:$PW@$T/state/redis-tls.sock
if ! "$LOCAL" up >"$T/up.log" 2>&1; then
	nok "the stack comes up through the TLS tunnel" "$(cat "$T/up.log")"
	finish
fi
ok "the stack comes up through the TLS tunnel"
STATE=$ISBITCOINLIT_STATE_DIR
check "the first refresh went over TLS" grep -q '"status":"ok"' "$T/up.log"
check "GET /is-bitcoin-lit: 200" test "$(req GET /is-bitcoin-lit)" = 200
check "the series and the cache are on the TLS server" \
	test "$(tcli exists is-bitcoin-lit:price:mean:30s is-bitcoin-lit:cache)" = 2
check "the tunnel checked the certificate" \
	grep -q 'Certificate accepted at depth=0: CN=localhost' "$STATE/tunnel.log"
check "status lists the tunnel" bash -c "'$LOCAL' status | grep -q '^tunnel: running'"
TUNNEL=$(cat "$STATE/tunnel.pid")
"$LOCAL" down >/dev/null
check "down stops the tunnel" bash -c "! kill -0 $TUNNEL 2>/dev/null"
unset ISBITCOINLIT_REDIS_TLS ISBITCOINLIT_REDIS_TLS_CA

# ---- fail closed: another CA, another name ----
# tunnel NAME CA CHECK: a tunnel of this test's own on $T/NAME.sock
tunnel() {
	cat >"$T/$1.conf" <<-EOF
	foreground = yes
	pid =
	syslog = no
	output = $T/$1.log
	[redis]
	client = yes
	accept = $T/$1.sock
	connect = 127.0.0.1:$P
	verifyChain = yes
	CAfile = $2
	$3
	EOF
	stunnel4 "$T/$1.conf" &
	echo $! >"$T/$1.pid"
	wait_for 5 test -S "$T/$1.sock"
}
tunnel wrongca "$T/other-ca.pem" "checkHost = localhost"
tunnel wrongname "$T/test-ca.pem" "checkHost = redis.example.org"
for t in wrongca wrongname; do
	out=$(ISBITCOINLIT_REDIS_URL=unix://:$PW@$T/$t.sock \
	    ISBITCOINLIT_KEY_PREFIX=$t refresh_once 2>&1)
	rc=$?
	check "$t: the refresh fails closed: exit 3 (rc $rc)" test "$rc" = 3
	check "$t: and says where to look" \
		grep -q 'a TLS tunnel on this socket closes it so when the TLS handshake or the check of Redis.s certificate fails' <<<"$out"
	check "$t: no password in what it says" bash -c "! grep -q '$PW' <<<'$out'"
	check "$t: the tunnel's log says the certificate was refused" \
		grep -q 'certificate verify failed' "$T/$t.log"
	check "$t: nothing was written" test "$(tcli keys "$t:*" | wc -w)" = 0
done

# ---- a Redis that asks for a client certificate ----
unset ISBITCOINLIT_REDIS_TLS_NAME
export ISBITCOINLIT_REDIS_TLS=127.0.0.1:$P ISBITCOINLIT_REDIS_TLS_CA=$T/test-ca.pem
export ISBITCOINLIT_REDIS_URL=unix://:$PW@$T/state/redis-tls.sock
openssl req -newkey rsa:2048 -nodes -subj /CN=isbitcoinlit \
    -keyout "$T/client.key" -out "$T/client.csr" 2>/dev/null &&
openssl x509 -req -days 2 -in "$T/client.csr" -CA "$T/test-ca.pem" \
    -CAkey "$T/test-ca.key" -CAcreateserial -out "$T/client.pem" 2>/dev/null
tcli config set tls-auth-clients yes >/dev/null 2>&1 ||
	REDISCLI_AUTH=$PW redis-cli --tls --cacert "$T/test-ca.pem" \
	    --cert "$T/client.pem" --key "$T/client.key" -p "$P" \
	    config set tls-auth-clients yes >/dev/null
if "$LOCAL" up >"$T/up.log" 2>&1; then
	nok "client certificates required, none given: the stack does not come up" "$(cat "$T/up.log")"
else
	ok "client certificates required, none given: the stack does not come up"
fi
"$LOCAL" down >/dev/null
if ISBITCOINLIT_REDIS_TLS_CERT=$T/client.pem ISBITCOINLIT_REDIS_TLS_KEY=$T/client.key \
    "$LOCAL" up >"$T/up.log" 2>&1; then
	ok "with ISBITCOINLIT_REDIS_TLS_CERT and _KEY: the stack comes up"
else
	nok "with ISBITCOINLIT_REDIS_TLS_CERT and _KEY: the stack comes up" "$(cat "$T/up.log")"
fi
check "and serves: 200" test "$(req GET /is-bitcoin-lit)" = 200
"$LOCAL" down >/dev/null
REDISCLI_AUTH=$PW redis-cli --tls --cacert "$T/test-ca.pem" --cert "$T/client.pem" \
    --key "$T/client.key" -p "$P" config set tls-auth-clients no >/dev/null

# the local stack's own tunnel, trusting another CA, or checking another
# name: it does not come up, its API answers 503 (no hang)
for t in "other-ca.pem localhost" "test-ca.pem redis.example.org"; do
	set -- $t
	export ISBITCOINLIT_REDIS_TLS=127.0.0.1:$P ISBITCOINLIT_REDIS_TLS_CA=$T/$1 \
	    ISBITCOINLIT_REDIS_TLS_NAME=$2
	if "$LOCAL" up >"$T/up.log" 2>&1; then
		nok "the stack's tunnel with CA $1, name $2: the stack does not come up" \
		    "$(cat "$T/up.log")"
	else
		ok "the stack's tunnel with CA $1, name $2: the stack does not come up"
	fi
	check "CA $1, name $2: the API answers 503 redis unavailable" \
		test "$(req GET /is-bitcoin-lit)" = 503 -a -n "$(grep -F '"redis unavailable"' "$T/b")"
	check "CA $1, name $2: the tunnel's log says the certificate was refused" \
		grep -q 'certificate verify failed' "$STATE/tunnel.log"
	"$LOCAL" down >/dev/null
done
finish
