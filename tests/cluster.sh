#!/usr/bin/env bash
# Redis Cluster, on real processes: three masters made by
# `redis-cli --cluster create`.  A prefix without a hash tag is refused at
# start-up; with "{is-bitcoin-lit}" the stack starts on a URL whose first
# seed is down, ingests and serves through the second, a node that does
# not own the slot (MOVED), and keeps serving while
# `redis-cli --cluster reshard` moves that slot to another node under load.
# Run for the sortedset backend, and for the module when
# ISBITCOINLIT_TEST_TS_MODULE names a redistimeseries.so.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
need nginx curl redis-server redis-cli

stack_setup cluster
# Every request reaches the responders: each request's route (ASK, MOVED, a dead owner) is checked a request at a time (the
# microcache as shipped: faults.sh, contention.sh, crash.sh, e2e.sh, edge.sh).
export ISBITCOINLIT_MICROCACHE=0
export ISBITCOINLIT_REFRESH_EVERY_S=3600
PREFIX='{is-bitcoin-lit}'

# cluster NAME [module]: three fresh masters; sets P1 P2 P3
cluster() {
	local i p
	for i in 1 2 3; do
		p=$(free_port)
		mkdir -p "$T/$1$i"
		# the bus port too: port + 10000 may be in the ephemeral range
		cat >"$T/$1$i/redis.conf" <<-EOF
		port $p
		bind 127.0.0.1
		daemonize yes
		dir $T/$1$i
		pidfile $T/$1$i.pid
		logfile $T/$1$i.log
		save ""
		appendonly yes
		cluster-enabled yes
		cluster-port $(free_port)
		cluster-config-file $T/$1$i/nodes.conf
		cluster-node-timeout 2000
		cluster-require-full-coverage no
		${2:+loadmodule $2}
		EOF
		redis-server "$T/$1$i/redis.conf" || return 1
		wait_for 5 redis-cli -p "$p" ping >/dev/null || return 1
		eval "P$i=$p"
	done
	redis-cli --cluster create "127.0.0.1:$P1" "127.0.0.1:$P2" "127.0.0.1:$P3" \
		--cluster-replicas 0 --cluster-yes >"$T/create.log" 2>&1 || return 1
	cluster_ok() { redis-cli -p "$P1" cluster info | grep -q 'cluster_state:ok'; }
	wait_for 20 cluster_ok
}

# owner SLOT: "id port first-slot-of-its-range" of the master that has it
owner() {	# SLOT [PORT]: the owner's id, port and first slot, as PORT sees it
	redis-cli -p "${2:-$P1}" cluster nodes | awk -v s="$1" '{
		for (i = 9; i <= NF; i++) {
			split($i, r, "-"); if (r[2] == "") r[2] = r[1]
			if (s + 0 >= r[1] + 0 && s + 0 <= r[2] + 0) {
				split($2, a, "[:@]"); print $1, a[2], r[1]; exit
			}
		}
	}'
}

run_backend() {
	local backend=$1 module=${2:-}
	echo "# backend $backend"
	if ! cluster "$backend" "$module"; then
		nok "$backend: a 3-master cluster forms" "$(cat "$T/create.log")"
		return
	fi
	ok "$backend: a 3-master cluster forms (ports $P1 $P2 $P3)"
	export ISBITCOINLIT_TIMESERIES=$backend
	export ISBITCOINLIT_REDIS_URL=redis://127.0.0.1:$P1

	# a prefix without a hash tag: refused at start-up, exit 2
	out=$(ISBITCOINLIT_KEY_PREFIX=is-bitcoin-lit refresh_once 2>&1)
	rc=$?
	check "$backend: refresh refuses a prefix without a hash tag (exit $rc)" \
		test "$rc" = 2 -a -n "$(grep -F 'has no hash tag' <<<"$out")"
	out=$(ISBITCOINLIT_KEY_PREFIX=is-bitcoin-lit timeout 60 ${TEST_PREFIX:-} \
		"$top_builddir/src/isbitcoinlit-api" \
		--listen "$T/api-refused.sock" 2>&1)
	rc=$?
	check "$backend: the api refuses it too (exit $rc)" \
		test "$rc" = 2 -a -n "$(grep -F 'use a prefix such as "{is-bitcoin-lit}"' <<<"$out")"
	check "$backend: and nothing was written" \
		test "$(redis-cli -c -p "$P1" exists is-bitcoin-lit:cache)" = 0

	# the hash-tagged prefix, seeded with a node that does not own the
	# slot, named after a seed that is down
	export ISBITCOINLIT_KEY_PREFIX=$PREFIX
	SLOT=$(redis-cli -p "$P1" cluster keyslot "$PREFIX")
	read -r OWNER OPORT FIRST <<<"$(owner "$SLOT")"
	for p in $P1 $P2 $P3; do [ "$p" != "$OPORT" ] && { SEED=$p; break; }; done
	DOWN=$(free_port)
	export ISBITCOINLIT_REDIS_URL=redis://127.0.0.1:$DOWN,127.0.0.1:$SEED
	if ! "$LOCAL" up >"$T/up.log" 2>&1; then
		nok "$backend: the stack comes up on the cluster, its first seed down" "$(cat "$T/up.log")"
		return
	fi
	ok "$backend: the stack comes up on the cluster, its first seed down (seeds :$DOWN,:$SEED, slot $SLOT on :$OPORT)"
	out=$(ISBITCOINLIT_REDIS_URL=redis://127.0.0.1:$DOWN refresh_once 2>&1)
	rc=$?
	check "$backend: with the down seed alone: exit 3 (rc $rc)" test "$rc" = 3
	redis-cli -p "$OPORT" keys '*' | sort >"$T/keys"
	slots=$(while read -r k; do redis-cli -p "$OPORT" cluster keyslot "$k"; done <"$T/keys" | sort -u)
	ours=$(grep -cFx -e "$PREFIX:cache" -e "$PREFIX:price:mean:30s" \
		-e "$PREFIX:sentiment:mean:30s" "$T/keys")
	check "$backend: series and cache (and the lock, if held) on the slot's owner, all in slot $SLOT ($(wc -l <"$T/keys") keys)" \
		test "$slots" = "$SLOT" -a "$ours" = 3
	check "$backend: the seed node holds none of them" \
		test "$(redis-cli -p "$SEED" dbsize)" = 0
	check "$backend: GET /is-bitcoin-lit: 200 through MOVED" \
		test "$(req GET /is-bitcoin-lit)" = 200
	cp "$T/b" "$T/summary"
	redis-cli -p "$OPORT" del "$PREFIX:cache" >/dev/null
	check "$backend: a miss computed on the cluster: the same summary" \
		answers_same "$T/summary"
	check "$backend: GET /healthz: 200" test "$(req GET /healthz)" = 200

	# ---- the slot migrated under load ----
	for p in $P1 $P2 $P3; do [ "$p" != "$OPORT" ] && [ "$p" != "$SEED" ] && TO=$p; done
	TOID=$(redis-cli -p "$TO" cluster myid)
	refresh_loop() {
		while [ ! -f "$T/stop" ]; do
			refresh_once >/dev/null 2>&1
			echo "$(now_ms) $?"
		done >"$T/refresh.log"
	}
	nocache_loop() {	# every request reads the series
		while [ ! -f "$T/stop" ]; do
			redis-cli -p "$OPORT" del "$PREFIX:cache" >/dev/null 2>&1
			redis-cli -p "$TO" del "$PREFIX:cache" >/dev/null 2>&1
			sleep 0.05
		done
	}
	load_start 2
	refresh_loop &
	nocache_loop &
	sleep 0.5
	START=$(now_ms)
	redis-cli --cluster reshard "127.0.0.1:$SEED" --cluster-from "$OWNER" \
		--cluster-to "$TOID" --cluster-slots $((SLOT - FIRST + 1)) \
		--cluster-yes >"$T/reshard.log" 2>&1
	rc=$?
	END=$(now_ms)
	sleep 1
	load_stop
	check "$backend: redis-cli --cluster reshard moved $((SLOT - FIRST + 1)) slots (exit $rc, $((END - START)) ms)" \
		test "$rc" = 0
	read -r NEWOWNER _ _ <<<"$(owner "$SLOT")"
	check "$backend: slot $SLOT is now on :$TO" test "$NEWOWNER" = "$TOID"
	total=$(wc -l <"$T/load")
	bad=$(awk '$2 != 200' "$T/load" | wc -l)
	during=$(awk -v s="$START" -v e="$END" '$1 >= s && $1 <= e' "$T/load" | wc -l)
	rtotal=$(wc -l <"$T/refresh.log")
	rbad=$(awk '$2 != 0' "$T/refresh.log" | wc -l)
	check "$backend: no GET failed ($bad of $total; $during during the migration)" \
		test "$bad" = 0
	check "$backend: no refresh failed ($rbad of $rtotal)" test "$rbad" = 0
	echo "# $backend slot migration: $total GETs ($during during the $((END - START)) ms reshard), $bad failed; $rtotal refreshes, $rbad failed"
	check "$backend: the keys moved with the slot" \
		test "$(redis-cli -p "$TO" cluster countkeysinslot "$SLOT")" -ge 2
	redis-cli -p "$TO" del "$PREFIX:cache" >/dev/null
	check "$backend: after the migration: 200, the same summary" \
		answers_same "$T/summary"

	# ---- ASK, step by step: the cache alone moves back to the old owner ----
	wait_for 5 key_is "$TO" "$PREFIX:cache" 1
	redis-cli -p "$OPORT" cluster setslot "$SLOT" importing "$TOID" >/dev/null
	redis-cli -p "$TO" cluster setslot "$SLOT" migrating "$OWNER" >/dev/null
	redis-cli -p "$TO" migrate 127.0.0.1 "$OPORT" "" 0 5000 keys "$PREFIX:cache" >/dev/null
	check "$backend: slot $SLOT half-migrated: a cache hit through ASK" \
		test "$(req GET /is-bitcoin-lit)" = 200 -a "$(hdr X-Cache)" = hit
	check "$backend: the same summary" cmp -s "$T/b" "$T/summary"
	out=$(refresh_once 2>&1)
	check "$backend: a refresh writes the series here and the cache there" \
		grep -q '"status":"ok"' <<<"$out"
	asking_exists() { printf 'ASKING\nEXISTS %s\n' "$2" | redis-cli -p "$1" | tail -n 1; }
	check "$backend: the cache is on the importing node" \
		test "$(asking_exists "$OPORT" "$PREFIX:cache")" = 1 \
		-a "$(redis-cli -p "$TO" exists "$PREFIX:cache" | cut -d' ' -f1)" = ASK
	# every key still here goes back (the series, and what the refreshes
	# keep in the slot besides: histories, their numbers): a node that
	# still holds keys of a slot refuses to give it away
	redis-cli -p "$TO" cluster getkeysinslot "$SLOT" 1000 >"$T/left"
	echo "# $backend: keys of slot $SLOT still on :$TO: $(tr '\n' ' ' <"$T/left")"
	if [ -s "$T/left" ]; then
		# shellcheck disable=SC2046 # one key a line, no blanks in them
		redis-cli -p "$TO" migrate 127.0.0.1 "$OPORT" "" 0 5000 replace \
			keys $(cat "$T/left") >/dev/null
	fi
	for p in $OPORT $TO $P1 $P2 $P3; do	# the importing node first
		out=$(redis-cli -p "$p" cluster setslot "$SLOT" node "$OWNER")
		[ "$out" = OK ] || echo "# cluster setslot on :$p: $out"
	done
	# the nodes converge on the owner before a client is sent there
	agreed() {
		local p id
		for p in $P1 $P2 $P3; do
			read -r id _ <<<"$(owner "$SLOT" "$p")"
			[ "$id" = "$OWNER" ] || return 1
		done
	}
	check "$backend: every node sees slot $SLOT back on :$OPORT" wait_for 20 agreed
	redis-cli -p "$OPORT" del "$PREFIX:cache" >/dev/null
	check "$backend: slot back on :$OPORT: 200, the same summary" \
		answers_same "$T/summary"

	# ---- MOVED without a host ("MOVED 13976 :port") ----
	for p in $P1 $P2 $P3; do
		redis-cli -p "$p" config set cluster-preferred-endpoint-type \
			unknown-endpoint >/dev/null
	done
	moved=$(redis-cli -p "$SEED" get "$PREFIX:cache" | cut -d' ' -f1,3)
	out=$(refresh_once 2>&1)
	check "$backend: a MOVED that names no host ($moved): the same host, refresh ok" \
		test "$moved" = "MOVED :$OPORT" -a -n "$(grep '"status":"ok"' <<<"$out")"

	# ---- the seed node gone, then the slot's owner restarted ----
	node_of() { grep -l "^port $1\$" "$T/$backend"?/redis.conf; }
	for _ in 1 2 3 4 5 6; do req GET /is-bitcoin-lit >/dev/null; done
	seedconf=$(node_of "$SEED") ownerconf=$(node_of "$OPORT")
	kill -KILL "$(cat "${seedconf%/redis.conf}.pid")"
	st=$(statuses 20)
	check "$backend: the seed node killed: the owner still serves ($st)" test "$st" = "20x200"
	kill -KILL "$(cat "${ownerconf%/redis.conf}.pid")"
	st=$(statuses 20)
	check "$backend: and the owner killed too: 503, no hang ($st)" test "$st" = "20x503"
	redis-server "$ownerconf"
	check "$backend: the owner back (from its AOF), the seed still gone: 200 again" \
		wait_for 20 serves
	st=$(statuses 20)
	check "$backend: every answer 200 ($st)" test "$st" = "20x200"
	"$LOCAL" down >/dev/null
	for i in 1 2 3; do kill "$(cat "$T/$backend$i.pid")" 2>/dev/null; done
}

run_backend sortedset
if [ -n "${ISBITCOINLIT_TEST_TS_MODULE:-}" ]; then
	run_backend redistimeseries "$ISBITCOINLIT_TEST_TS_MODULE"
else
	skip "redistimeseries on a cluster" "ISBITCOINLIT_TEST_TS_MODULE is not set"
fi
finish
