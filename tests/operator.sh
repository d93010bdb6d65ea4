#!/usr/bin/env bash
# The operator's path: docs/deployment.md's blocks run as they are
# written, on this machine (a throwaway Debian 12 machine as root, as
# CI's, without systemd), both routes one after the other.  From the
# sources: install to /usr and /etc from a copy of the sources, Debian's
# own redis-server and nginx (its default site enabled), the programs
# under isbitcoinlit-spawn and cron; the first refresh fails (a feed that
# does not resolve, as with no network) and the docs' local copy of a
# feed mends it.  Then checks what an operator would, runs the removal
# block, and checks that nothing is left.  From the package: builds it
# from a clone of HEAD, installs it with apt on that clean state, follows
# the package's blocks to a 200 and removes it again.  Whatever happens,
# it puts back what it changed: the nginx and Redis configurations, the
# services' running state (cron's too), Redis's data files, and it stops
# only what it started.  TAP output.
#
# Skipped when not root, not Debian 12, in a sanitizer or valgrind pass
# (the block builds its own plain programs), when IsBitcoinLit is already
# installed here, when something other than Debian's nginx holds port 80,
# or with ISBITCOINLIT_TEST_OPERATOR=no or ISBITCOINLIT_TEST_SKIP_HEAVY set.
# The package route is skipped outside a git checkout (it builds HEAD).
set -u
. "$(dirname "$0")/lib.sh"

skip_all() { echo "1..0 # SKIP $1"; rm -rf "$REPORTS"; exit 0; }
[ "${ISBITCOINLIT_TEST_OPERATOR:-yes}" != no ] || skip_all "ISBITCOINLIT_TEST_OPERATOR=no"
[ -z "${ISBITCOINLIT_TEST_SKIP_HEAVY:-}" ] ||
	skip_all "the operator's path runs in the plain pass (ISBITCOINLIT_TEST_SKIP_HEAVY)"
[ "$(id -u)" = 0 ] || skip_all "not root"
grep -q '^12\.' /etc/debian_version 2>/dev/null || skip_all "not Debian 12"
[ -z "${TEST_PREFIX:-}" ] && [ -z "${ASAN_OPTIONS:-}" ] ||
	skip_all "a sanitizer or valgrind pass (the operator's build is a plain one)"
for t in service nginx redis-server spawn-fcgi curl make; do
	command -v "$t" >/dev/null ||
		skip_all "$t not installed (deploy/install-deps build run test)"
done
# One test at a time changes the system (tests/package.sh installs too):
# wait for the other before looking at what is installed.
command -v flock >/dev/null || skip_all "flock not installed"
exec 9>/tmp/isbitcoinlit-system.lock
flock 9
[ -f /etc/nginx/sites-enabled/default ] || skip_all "Debian's default nginx site is not enabled"
for f in /usr/bin/isbitcoinlit-api /usr/sbin/isbitcoinlit-setup /etc/isbitcoinlit \
    /usr/share/isbitcoinlit /etc/nginx/sites-available/isbitcoinlit; do
	[ -e "$f" ] && skip_all "IsBitcoinLit is installed here ($f)"
done
getent passwd isbitcoinlit-api >/dev/null && skip_all "the user isbitcoinlit-api exists"
dpkg-query -W -f='${Status}' isbitcoinlit 2>/dev/null | grep -q installed &&
	skip_all "a package isbitcoinlit is installed here"
[ -e /etc/cron.d/isbitcoinlit ] && skip_all "/etc/cron.d/isbitcoinlit exists"
[ -e /srv/isbitcoinlit ] && skip_all "/srv/isbitcoinlit exists"

running() {	# PIDFILE: the service of that pid file runs
	[ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}
NGINX_WAS=0 REDIS_WAS=0 CRON_WAS=0 CRON_REBOOT_WAS=0
running /run/nginx.pid && NGINX_WAS=1
running /run/redis/redis-server.pid && REDIS_WAS=1
# cron (install-deps run installs it): its running state, and whether it
# has run its @reboot lines since this machine started
running /run/crond.pid && CRON_WAS=1
[ -e /run/crond.reboot ] && CRON_REBOOT_WAS=1
if [ "$NGINX_WAS" = 0 ]; then
	for p in 80 443; do
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null &&
			skip_all "something other than Debian's nginx listens on port $p"
	done
fi
command -v openssl >/dev/null || skip_all "openssl not installed (deploy/install-deps test)"

T=$(mktemp -d /tmp/isbitcoinlit-operator.XXXXXX)
chmod 0755 "$T"
SRC=$T/src
# what this test changes, as it was
tar -C / -cpf "$T/etc.tar" etc/nginx etc/redis
ls -A /var/lib/redis 2>/dev/null | sort >"$T/redis-data.before"
RUN_REDIS_WAS=0
[ -d /run/redis ] && RUN_REDIS_WAS=1

cleanup() {
	set +e
	# the "Removing" block of docs/deployment.md did this unless the test failed early
	[ -x /usr/sbin/isbitcoinlit-spawn ] && /usr/sbin/isbitcoinlit-spawn stop >/dev/null 2>&1
	[ -x /usr/sbin/isbitcoinlit-setup ] && /usr/sbin/isbitcoinlit-setup remove >/dev/null 2>&1
	[ -f "$SRC/Makefile" ] && make -C "$SRC" -s uninstall >/dev/null 2>&1
	dpkg-query -W -f='${Status}' isbitcoinlit 2>/dev/null | grep -q installed &&
		apt-get purge -y -qq isbitcoinlit >/dev/null 2>&1
	rm -f /etc/cron.d/isbitcoinlit
	rm -rf /srv/isbitcoinlit
	if [ "$CRON_WAS" = 0 ] && [ -x /etc/init.d/cron ]; then
		service cron stop >/dev/null 2>&1
	fi
	[ "$CRON_REBOOT_WAS" = 1 ] || rm -f /run/crond.reboot
	# the configurations as they were, byte for byte (replaced only when
	# they differ: other tests read /etc/nginx meanwhile)
	# (never without the copy: a configuration removed and not put back
	# would break every later test of this machine)
	mkdir -p "$T/was"
	tar -C "$T/was" -xpf "$T/etc.tar" || return
	for d in nginx redis; do
		diff -rq --no-dereference "$T/was/etc/$d" "/etc/$d" >/dev/null 2>&1 && continue
		rm -rf "/etc/${d:?}"
		tar -C / -xpf "$T/etc.tar" "etc/$d"
	done
	# the services as they were
	if [ "$REDIS_WAS" = 1 ]; then service redis-server restart >/dev/null 2>&1
	else
		service redis-server stop >/dev/null 2>&1
		# the data files this test's Redis made
		comm -13 "$T/redis-data.before" <(ls -A /var/lib/redis 2>/dev/null | sort) |
			while IFS= read -r f; do rm -rf "/var/lib/redis/$f"; done
		[ "$RUN_REDIS_WAS" = 1 ] || rmdir /run/redis 2>/dev/null
	fi
	if [ "$NGINX_WAS" = 1 ]; then service nginx reload >/dev/null 2>&1
	else service nginx stop >/dev/null 2>&1
	fi
	if [ -n "${ISBITCOINLIT_TEST_KEEP:-}" ]; then
		cp "$T"/*.log "$ISBITCOINLIT_TEST_KEEP"/ 2>/dev/null
		cp /var/log/isbitcoinlit/*.log "$ISBITCOINLIT_TEST_KEEP"/ 2>/dev/null
	fi
	rm -rf /var/log/isbitcoinlit /run/isbitcoinlit /var/cache/isbitcoinlit "$T"
}
trap cleanup EXIT

# The two blocks of docs/deployment.md, as written.
block() {	# MARK: the shell block after <!-- operator: MARK -->
	awk -v m="<!-- operator: $1 -->" '
	    $0 == m { on = 1; next }
	    on == 1 && /^```sh$/ { on = 2; next }
	    on == 2 && /^```$/ { exit }
	    on == 2 { print }' "$top_srcdir/docs/deployment.md"
}
for b in install start check local-feed remove package-build package-install \
    package-start package-check package-remove; do
	block "$b" >"$T/$b.sh"
	check "docs/deployment.md's $b block is there" test -s "$T/$b.sh"
done

# The sources, as a release holds them; a feed the refresh user can read.
make -C "$top_builddir" -s distdir distdir="$SRC" >"$T/distdir.log" 2>&1
check "a copy of the sources (make distdir)" test -f "$SRC/configure.ac"
make_feed "$T/feed.json"
chmod -R a+rX "$T"
# lit.example.org is this machine, as the curl lines of docs/deployment.md say
curl() {
	command curl --resolve lit.example.org:80:127.0.0.1 \
	    --resolve lit.example.org:443:127.0.0.1 "$@"
}

# Data another application keeps in Debian's Redis (an RDB snapshot, its
# default): isbitcoinlit-setup redis turns the AOF on, and the data must
# survive it.  Only on a Redis this test started itself.
SEEDED=0
if [ "$REDIS_WAS" = 0 ] && service redis-server start >/dev/null 2>&1 &&
    wait_for 10 redis-cli ping >/dev/null 2>&1; then
	redis-cli set iblit-op-kept yes >/dev/null &&
	    redis-cli save >/dev/null && SEEDED=1
fi

# The operator types these lines.  The feed, a setting given to
# isbitcoinlit-setup config (docs/deployment.md says how), is one whose name
# never resolves (.invalid): the first refresh fails, as with no network.
(cd "$SRC" && ISBITCOINLIT_UPSTREAM_URL="http://feed.invalid/bitcoin.json" \
    bash -ex "$T/install.sh") >"$T/install.log" 2>&1
rc=$?
check "the install block runs to its end (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 40 "$T/install.log" | sed 's/^/#   /'

# spawn-fcgi missing (the package only suggests it): start refuses at once,
# naming it, and starts nothing (spawn-fcgi hidden in a mount namespace of
# its own, behind a file that is not executable)
: >"$T/no-spawn-fcgi"
chmod 0644 "$T/no-spawn-fcgi"
if unshare -m true 2>/dev/null; then
	unshare -m bash -c "mount --bind '$T/no-spawn-fcgi' \"\$(command -v spawn-fcgi)\" &&
	    exec /usr/sbin/isbitcoinlit-spawn start" >"$T/no-fcgi.out" 2>&1
	rc=$?
	check "without spawn-fcgi, spawn start fails at once, naming the package (exit $rc)" \
		bash -c "[ $rc != 0 ] && grep -q 'spawn-fcgi is not installed: apt-get install spawn-fcgi' '$T/no-fcgi.out'"
	check "and starts nothing" bash -c \
		"! ls /run/isbitcoinlit/*.pid >/dev/null 2>&1 && ! grep -q 'started [a-z]' '$T/no-fcgi.out'"
else
	skip "without spawn-fcgi, spawn start fails at once" "no unshare -m here"
fi

(cd "$SRC" && bash -ex "$T/start.sh") >"$T/start-block.log" 2>&1
rc=$?
check "the start block (spawn start, setup cron) runs to its end (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 20 "$T/start-block.log" | sed 's/^/#   /'

# No network at the first refresh: the refresh says why, the summary says
# the refresh ran and failed, the loop's log has the cause
(cd "$SRC" && bash -e "$T/check.sh") >"$T/check.out" 2>"$T/check.err"
check "step 3 with no feed: the refresh answers upstream failed, as the docs show" \
	grep -qF '{"error":"upstream failed","detail":"the feed could not be downloaded or held no valid sample; the log says why"}' "$T/check.out"
check "refresh.log has its cause, as the docs say" \
	grep -q "Couldn't resolve host name: Could not resolve host: feed.invalid" /var/log/isbitcoinlit/refresh.log
check "and the summary 503 no data: the last refresh failed (download)" \
	grep -Eq '"error":"no data","detail":"no sample is stored yet: the last refresh failed at [0-9T:+-]+ \(download: ' "$T/check.out"
sed 's/^/#   /' "$T/check.out"
echo
check "loop.log has the loop's failed refresh" \
	wait_for 10 grep -q "Couldn't resolve host name" /var/log/isbitcoinlit/loop.log
# the docs' local copy of a feed (bitcoin.json in the current directory)
cp "$T/feed.json" "$SRC/bitcoin.json"
(cd "$SRC" && bash -ex "$T/local-feed.sh") >"$T/local-feed.log" 2>&1
rc=$?
check "the local-feed block runs to its end (exit $rc)" test "$rc" = 0
check "and its refresh reads the copy: ok, 2,900 samples" \
	grep -q '"status":"ok","received":2900' "$T/local-feed.log"
[ "$rc" = 0 ] || tail -n 20 "$T/local-feed.log" | sed 's/^/#   /'
if [ "$SEEDED" = 1 ]; then
	check "a key Redis held in its RDB snapshot is in its AOF after the switch" \
	    grep -rqa iblit-op-kept /var/lib/redis/appendonlydir
else
	skip "a key Redis held in its RDB snapshot survives the switch to AOF" \
	    "the system's Redis ran before this test"
fi

BASE=http://lit.example.org
has_data() { [ "$(req GET /is-bitcoin-lit)" = 200 ]; }
wait_for 60 has_data
st=$(req GET /is-bitcoin-lit)
check "GET /is-bitcoin-lit: 200 once the loop refreshed ($st)" test "$st" = 200
check "it is a summary" body_is_schema Summary
st=$(req GET /healthz)
check "GET /healthz: 200 ($st)" test "$st" = 200
check "healthz: Redis ok" grep -q '"redis":"ok"' "$T/b"
# the interactive documentation: the generated site serves the installed
# files at /docs
for p in /docs /docs/swagger-ui-bundle.js /docs/init.js /docs/swagger-ui.css; do
	f=$top_srcdir/www$p
	[ "$p" = /docs ] && f=$top_srcdir/www/docs/index.html
	st=$(req GET "$p")
	check "GET $p: 200, the file as shipped ($st)" \
	    bash -c "[ $st = 200 ] && cmp -s '$T/b' '$f'"
done

TOKEN=$(sed -n 's/^ISBITCOINLIT_REFRESH_TOKEN=//p' /etc/isbitcoinlit/refresh.env)
check "config generated a refresh token" test "${#TOKEN}" -ge 32
st=$(req POST /refresh)
check "POST /refresh without the token: 401 ($st)" test "$st" = 401
st=$(req POST /refresh -H "Authorization: Bearer $TOKEN")
check "POST /refresh with the token: 200 ($st)" test "$st" = 200
check "the refresh report says ok" grep -q '"status":"ok"' "$T/b"
# (step 3 on a feed that works: in the package route below, /refresh's
# rate limit allows no more here)

st=$(curl -s -o "$T/b" -w '%{http_code}' http://127.0.0.1/)
check "Debian's default site still answers other names ($st)" \
	bash -c "[ $st = 200 ] && grep -q 'Welcome to nginx' '$T/b'"

# redis-cli as a program would connect: its user, password and address
# from the URL in its env file (unix:// or redis://)
url_of() { sed -n 's/^ISBITCOINLIT_REDIS_URL=//p' "/etc/isbitcoinlit/$1.env" | tail -n 1; }
rcli() {	# api|refresh ARG...: as that program's Redis user
	local url
	url=$(url_of "$1")
	shift
	case $url in
	unix://*) set -- -s "/${url#*@/}" --user "$(sed 's|^unix://\([^:]*\):.*|\1|' <<<"$url")" \
	    --pass "$(sed 's|^unix://[^:]*:\([^@]*\)@.*|\1|' <<<"$url")" "$@" ;;
	*) set -- -u "$url" "$@" ;;
	esac
	redis-cli --no-auth-warning "$@"
}

# Every sample, cached document and refresh number survives a restart of
# Redis under the ACL setup wrote: the AOF is replayed in full (MULTI/EXEC
# writes included), counted before and after.
redis_counts() {
	local k i
	for k in price sentiment; do
		echo "$k: $(rcli api zrange "is-bitcoin-lit:$k:mean:30s" 0 -1 | wc -l) samples"
	done
	echo "cache: $(rcli api get is-bitcoin-lit:cache | md5sum)"
	for i in $(seq 24); do
		echo "history:$i: $(rcli api get "is-bitcoin-lit:history:$i" | md5sum)"
	done
	echo "stats: $(rcli api hgetall is-bitcoin-lit:refresh:stats | paste -sd ' ')"
}
redis_counts >"$T/counts.before"
check "before the restart: samples in both series, the cache and the refresh numbers" \
	bash -c "! grep -q '^[a-z]*: 0 samples' '$T/counts.before' &&
	    ! grep -q '^cache: $(: | md5sum)' '$T/counts.before' &&
	    ! grep -qx 'stats: ' '$T/counts.before'"
service redis-server restart >/dev/null 2>&1
redis_answers() { [ "$(rcli api ping 2>/dev/null)" = PONG ]; }
wait_for 20 redis_answers
check "Redis answers again after the restart" redis_answers
redis_counts >"$T/counts.after"
out=$(diff "$T/counts.before" "$T/counts.after")
check "after service redis-server restart: every sample, document and refresh number is there" \
	test -z "$out"
[ -z "$out" ] || echo "$out" | sed 's/^/#   /'

# An outage shows as one through the site as setup wrote it (the microcache
# on): Redis stopped while a client keeps asking, every answer from 2 s on
# is the responder's 503; Redis started again, 200 within 3 s.
has_data
service redis-server stop >/dev/null 2>&1
STOPPED=$(now_ms)
for _ in $(seq 40); do
	echo "$(now_ms) $(curl -s -o /dev/null -m 5 -w '%{http_code}' "$BASE/is-bitcoin-lit")"
	sleep 0.1
done >"$T/outage"
late=$(awk -v s=$((STOPPED + 2000)) '$1 >= s' "$T/outage" | wc -l)
bad=$(awk -v s=$((STOPPED + 2000)) '$1 >= s && $2 != 503' "$T/outage" | wc -l)
check "Redis stopped: from 2 s on every answer is 503 ($bad of $late were not)" \
	test "$late" -gt 5 -a "$bad" = 0
service redis-server start >/dev/null 2>&1
wait_for 20 redis_answers
check "Redis started again: 200 within 3 s" wait_for 3 has_data

# The services' own users reach Redis with their URLs, and nothing else
# of it: not the configuration (a member of the group redis could replace
# the ACL file or add a loadmodule), not its data
for u in api refresh; do
	out=$(runuser -u "isbitcoinlit-$u" -- bash -c "$(declare -f url_of rcli); rcli $u ping" 2>&1)
	check "isbitcoinlit-$u reaches Redis with the URL of $u.env ($out)" test "$out" = PONG
	check "isbitcoinlit-$u is in no group redis ($(id -nG "isbitcoinlit-$u"))" \
		bash -c "! id -nG isbitcoinlit-$u | grep -qw redis"
	check "isbitcoinlit-$u cannot make a file in /etc/redis" \
		bash -c "! runuser -u isbitcoinlit-$u -- touch /etc/redis/iblit-probe 2>/dev/null"
	rm -f /etc/redis/iblit-probe
	check "isbitcoinlit-$u cannot append to /etc/redis/isbitcoinlit.acl" \
		bash -c "! runuser -u isbitcoinlit-$u -- sh -c ': >>/etc/redis/isbitcoinlit.acl' 2>/dev/null"
	check "isbitcoinlit-$u cannot read /etc/redis/redis.conf" \
		bash -c "! runuser -u isbitcoinlit-$u -- cat /etc/redis/redis.conf >/dev/null 2>&1"
	check "isbitcoinlit-$u cannot list /var/lib/redis" \
		bash -c "! runuser -u isbitcoinlit-$u -- ls /var/lib/redis >/dev/null 2>&1"
done

# the processes and their users
user_of() { ps -o user= -p "$1" | tr -d ' '; }
for p in api:isbitcoinlit-api refresh:isbitcoinlit-refresh loop:isbitcoinlit-refresh; do
	name=${p%%:*} want=${p#*:}
	pid=$(cat "/run/isbitcoinlit/$name.pid" 2>/dev/null)
	check "$name runs as $want ($(user_of "$pid"))" test "$(user_of "$pid")" = "$want"
done
pid=$(cat /run/isbitcoinlit/api.pid)
workers=$(ps -o user= --ppid "$pid" | sort -u | tr -d ' ' | tr '\n' ' ')
check "the api's children are its workers, as isbitcoinlit-api ($workers)" \
	test "$workers" = "isbitcoinlit-api "
nw=$(ps -o user= --ppid "$(cat /run/nginx.pid)" | sort -u | tr -d ' ')
check "nginx's workers run as www-data ($nw)" test "$nw" = www-data
rs=$(ps -o user= -p "$(cat /run/redis/redis-server.pid)" | tr -d ' ')
check "redis-server runs as redis ($rs)" test "$rs" = redis

# file modes: secrets readable by root and their users only
mode() { stat -c '%a %U %G' "$1"; }
check "isbitcoinlit.env: 640 root isbitcoinlit ($(mode /etc/isbitcoinlit/isbitcoinlit.env))" \
	test "$(mode /etc/isbitcoinlit/isbitcoinlit.env)" = "640 root isbitcoinlit"
check "api.env: 640 root isbitcoinlit-api ($(mode /etc/isbitcoinlit/api.env))" \
	test "$(mode /etc/isbitcoinlit/api.env)" = "640 root isbitcoinlit-api"
check "refresh.env: 640 root isbitcoinlit-refresh ($(mode /etc/isbitcoinlit/refresh.env))" \
	test "$(mode /etc/isbitcoinlit/refresh.env)" = "640 root isbitcoinlit-refresh"
check "the ACL file: 640 redis redis ($(mode /etc/redis/isbitcoinlit.acl))" \
	test "$(mode /etc/redis/isbitcoinlit.acl)" = "640 redis redis"
check "the api user cannot read refresh.env" \
	bash -c "! setpriv --reuid=isbitcoinlit-api --regid=isbitcoinlit-api --init-groups cat /etc/isbitcoinlit/refresh.env >/dev/null 2>&1"
for s in api refresh; do
	check "$s.sock: 660, group www-data ($(stat -c '%a %G' /run/isbitcoinlit/$s.sock))" \
		test "$(stat -c '%a %G' /run/isbitcoinlit/$s.sock)" = "660 www-data"
done

# Redis: the default user is off, each program's user has its rights only
out=$(redis-cli -h 127.0.0.1 -p 6379 ping 2>&1)
check "Redis refuses the default user ($out)" grep -q 'NOAUTH\|NOPERM\|WRONGPASS\|disabled' <<<"$out"
out=$(rcli api set is-bitcoin-lit:refresh:lock x 2>&1)
check "the api's Redis user may not take the refresh lock" grep -q NOPERM <<<"$out"

# the logs where the README says
check "api.log holds the pool's start" grep -q 'isbitcoinlit-api started' /var/log/isbitcoinlit/api.log
check "loop.log holds the loop's refreshes" grep -q 'refresh ok' /var/log/isbitcoinlit/loop.log
check "refresh.log holds the responder's refreshes" grep -q 'refresh ok' /var/log/isbitcoinlit/refresh.log
check "the logs: 640 root adm ($(mode /var/log/isbitcoinlit/api.log))" \
	test "$(mode /var/log/isbitcoinlit/api.log)" = "640 root adm"

# the logs rotate by the installed logrotate file, and the programs write
# on into the same names without a restart (copytruncate)
if command -v logrotate >/dev/null; then
	check "logrotate -d reads the installed file and its logs" bash -c \
		"logrotate -d /etc/logrotate.d/isbitcoinlit 2>&1 | grep -q 'considering log /var/log/isbitcoinlit/refresh.log'"
	logrotate -f -s "$T/logrotate.state" /etc/logrotate.d/isbitcoinlit
	check "a rotation moves refresh.log's lines to refresh.log.1 and empties it" bash -c \
		"grep -q 'refresh ok' /var/log/isbitcoinlit/refresh.log.1 &&
		 ! grep -q 'refresh ok' /var/log/isbitcoinlit/refresh.log"
	req POST /refresh -H "Authorization: Bearer $TOKEN" >/dev/null
	check "the refresh responder writes on into refresh.log" \
		wait_for 5 grep -q 'refresh ok' /var/log/isbitcoinlit/refresh.log
else
	skip "the logs rotate by the installed logrotate file" "no logrotate (deploy/install-deps run)"
fi

# start again what stopped
old=$(cat /run/isbitcoinlit/loop.pid)
kill -TERM "$old"
wait_for 30 bash -c "! kill -0 $old 2>/dev/null"
/usr/sbin/isbitcoinlit-spawn status >/dev/null
check "status says when the loop stopped (exit 3)" test $? = 3
/usr/sbin/isbitcoinlit-spawn start >"$T/start.log" 2>&1
check "start starts the loop again, and only it" \
	bash -c "grep -q 'started loop' '$T/start.log' && ! grep -q 'started api' '$T/start.log'"
check "status: all run" bash -c "/usr/sbin/isbitcoinlit-spawn status >/dev/null"

# a setting changed after config, as docs/deployment.md says: setup set,
# then spawn restart; the summary follows (four hours, no Redis cache)
rows() { req GET /is-bitcoin-lit >/dev/null; grep -o '"time":' "$T/b" | wc -l; }
out=$(/usr/sbin/isbitcoinlit-setup set ISBITCOINLIT_WINDOWW=4 2>&1)
check "setup set refuses a name no program reads (exit $?)" \
	grep -q 'neither isbitcoinlit-api nor isbitcoinlit-refresh reads it' <<<"$out"
/usr/sbin/isbitcoinlit-setup set ISBITCOINLIT_WINDOW=4 ISBITCOINLIT_CACHE=off >"$T/set.log" 2>&1
check "setup set writes the settings it is given (exit $?)" bash -c \
	"grep -qx ISBITCOINLIT_WINDOW=4 /etc/isbitcoinlit/isbitcoinlit.env &&
	 grep -qx ISBITCOINLIT_CACHE=off /etc/isbitcoinlit/isbitcoinlit.env"
check "and keeps isbitcoinlit.env 640 root isbitcoinlit ($(mode /etc/isbitcoinlit/isbitcoinlit.env))" \
	test "$(mode /etc/isbitcoinlit/isbitcoinlit.env)" = "640 root isbitcoinlit"
check "the summary has three hours before the restart ($(rows))" test "$(rows)" = 3
/usr/sbin/isbitcoinlit-spawn restart >"$T/restart.log" 2>&1
check "spawn restart stops and starts all three (exit $?)" bash -c \
	"grep -q 'started api' '$T/restart.log' && grep -q 'started loop' '$T/restart.log' &&
	 /usr/sbin/isbitcoinlit-spawn status >/dev/null"
wait_for 10 eval '[ "$(rows)" = 4 ]'
check "after the restart the summary has the four hours of ISBITCOINLIT_WINDOW=4 ($(rows))" \
	test "$(rows)" = 4
env_sum() { md5sum </etc/isbitcoinlit/isbitcoinlit.env; }
before=$(env_sum)
out=$(/usr/sbin/isbitcoinlit-setup set 'ISBITCOINLIT_UPSTREAM_URL="file:///x"' 2>&1)
check "setup set refuses a quoted value, which systemd and spawn would read apart" \
	test "$(env_sum):$(grep -c 'without quotes' <<<"$out")" = "$before:1"
out=$(/usr/sbin/isbitcoinlit-setup set ISBITCOINLIT_REDIS_READ_URL=redis://u:pw@127.0.0.1:6380/0 2>&1)
check "setup set refuses a program's own URL, a password both users could read" \
	test "$(env_sum):$(grep -c "one program's own" <<<"$out")" = "$before:1"
# a value the programs refuse: spawn says so instead of "started"
/usr/sbin/isbitcoinlit-setup set ISBITCOINLIT_WINDOW=99 >>"$T/set.log" 2>&1
out=$(/usr/sbin/isbitcoinlit-spawn restart 2>&1)
check "spawn restart on a window the programs refuse: fails, naming the log (exit $?)" \
	grep -q 'stopped as it started: see /var/log/isbitcoinlit/api.log' <<<"$out"
/usr/sbin/isbitcoinlit-setup set ISBITCOINLIT_WINDOW= ISBITCOINLIT_CACHE= >>"$T/set.log" 2>&1
/usr/sbin/isbitcoinlit-spawn restart >>"$T/restart.log" 2>&1
check "an empty value is the default again: spawn restart starts all three (exit $?)" \
	bash -c "/usr/sbin/isbitcoinlit-spawn status >/dev/null"
wait_for 10 eval '[ "$(rows)" = 3 ]'
check "and the summary has three hours again ($(rows))" test "$(rows)" = 3

# the site: bad input refused, a placeholder never left
site_sum() { cat /etc/nginx/sites-available/isbitcoinlit /etc/isbitcoinlit/nginx/* | md5sum; }
before=$(site_sum)
out=$(/usr/sbin/isbitcoinlit-setup nginx http 'lit.example.org;' 2>&1)
check "setup nginx refuses a bad server name" grep -q 'bad server name' <<<"$out"
tmpl=/usr/share/isbitcoinlit/nginx/isbitcoinlit-locations.conf
cp -p "$tmpl" "$T/locations.conf"
echo "# @SOMETHING_NEW@" >>"$tmpl"
out=$(/usr/sbin/isbitcoinlit-setup nginx http lit.example.org 2>&1)
rc=$?
cp -p "$T/locations.conf" "$tmpl"
check "setup nginx refuses to leave a placeholder (exit $rc)" \
	bash -c "[ $rc != 0 ] && grep -q 'SOMETHING_NEW' <<<'$out'"
check "and writes nothing" test "$(site_sum)" = "$before"
check "no placeholder in the site it wrote" \
	bash -c "! grep -rIq '@[A-Z_]*@' /etc/nginx/sites-available/isbitcoinlit /etc/isbitcoinlit/nginx"
# its first comment says what wrote it, not how to fill in its names
site_header() {	# http|HTTP: the site's first comment as setup writes it
	sed -n '1,/^[^#]/p' /etc/nginx/sites-available/isbitcoinlit >"$T/site-head"
	grep -q "^# The site for lit.example.org over $2, every name filled, written by$" "$T/site-head" &&
	    grep -q "^# \"isbitcoinlit-setup nginx $1 lit.example.org" "$T/site-head" &&
	    ! grep -qi 'fill in' "$T/site-head"
}
check "the site's first comment names the command that wrote it, and no names to fill in" \
	site_header http HTTP
# a site nginx -t refuses (its certificate is no certificate): the working
# site stays as it was, enabled
: >"$T/empty.pem"
out=$(/usr/sbin/isbitcoinlit-setup nginx https lit.example.org "$T/empty.pem" "$T/empty.pem" 2>&1)
rc=$?
check "setup nginx with a site nginx -t refuses: fails (exit $rc)" \
	bash -c "[ $rc != 0 ] && grep -q 'as it was is back' <<<'$out'"
check "and the working site is there as it was, enabled" \
	test "$(site_sum)" = "$before" -a -L /etc/nginx/sites-enabled/isbitcoinlit
check "setup nginx refuses a certificate path it cannot put in the site" \
	bash -c "/usr/sbin/isbitcoinlit-setup nginx https lit.example.org '$T/a;b' '$T/key.pem' 2>&1 | grep -q 'certificate or key path'"

# The same command for the HTTPS site, with a throwaway certificate
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lit.example.org \
	-addext subjectAltName=DNS:lit.example.org \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
out=$(/usr/sbin/isbitcoinlit-setup nginx https lit.example.org "$T/cert.pem" "$T/key.pem" 2>&1)
check "setup nginx https writes the site" grep -q 'wrote' <<<"$out"
service nginx restart >/dev/null 2>&1
BASE=https://lit.example.org
st=$(req GET /is-bitcoin-lit --cacert "$T/cert.pem")
check "HTTPS: GET /is-bitcoin-lit 200 ($st)" test "$st" = 200
st=$(req POST /refresh --cacert "$T/cert.pem" -H "Authorization: Bearer $TOKEN")
check "HTTPS: POST /refresh with the token 200 ($st)" test "$st" = 200
# docs/deployment.md's command for it, with this certificate
out=$(eval "$(sed -n '/^curl --cacert/s|/etc/isbitcoinlit/cert.pem|$T/cert.pem|p' "$top_srcdir/docs/deployment.md") -s")
check "HTTPS site: docs/deployment.md's HTTPS refresh line works" grep -q '"status":"ok"' <<<"$out"
out=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' http://lit.example.org/healthz)
check "HTTP redirects to HTTPS ($out)" test "$out" = "301 https://lit.example.org/healthz"
st=$(curl -s -o "$T/b" -w '%{http_code}' http://127.0.0.1/)
check "Debian's default site still answers other names ($st)" \
	bash -c "[ $st = 200 ] && grep -q 'Welcome to nginx' '$T/b'"
check "no placeholder in the HTTPS site" \
	bash -c "! grep -rIq '@[A-Z_]*@' /etc/nginx/sites-available/isbitcoinlit /etc/isbitcoinlit/nginx"
check "the HTTPS site's first comment names the command that wrote it" \
	site_header https HTTPS

# setup config over an older install (its users in the group redis, their
# URLs on Redis's socket): out of the group, the same user and password
# on loopback TCP, which setup redis made Redis listen on
API_URL=$(url_of api)
API_PW=${API_URL#redis://isbitcoinlit-api:}
API_PW=${API_PW%%@*}
usermod -a -G redis isbitcoinlit-api
sed -i "s|^ISBITCOINLIT_REDIS_URL=.*|ISBITCOINLIT_REDIS_URL=unix://isbitcoinlit-api:$API_PW@/run/redis/redis-server.sock|" \
	/etc/isbitcoinlit/api.env
/usr/sbin/isbitcoinlit-setup config >"$T/config-again.log" 2>&1
rc=$?
check "setup config over an older install (exit $rc)" test "$rc" = 0
check "takes isbitcoinlit-api out of the group redis ($(id -nG isbitcoinlit-api))" \
	bash -c "! id -nG isbitcoinlit-api | grep -qw redis"
check "and moves its URL to loopback TCP, its password kept" \
	test "$(url_of api)" = "$API_URL"
check "api.env keeps its owner and mode ($(mode /etc/isbitcoinlit/api.env))" \
	test "$(mode /etc/isbitcoinlit/api.env)" = "640 root isbitcoinlit-api"

# Without systemd, at boot: the start block's isbitcoinlit-setup cron
CRONF=/etc/cron.d/isbitcoinlit
SPAWN=/usr/sbin/isbitcoinlit-spawn
check "setup cron wrote $CRONF, 644 root root ($(mode $CRONF))" \
	test "$(mode $CRONF)" = "644 root root"
check "its lines start the programs at boot and every minute" bash -c \
	"grep -qxF '@reboot root test -x $SPAWN && $SPAWN start >/dev/null' $CRONF &&
	 grep -qxF '* * * * * root test -x $SPAWN && $SPAWN start >/dev/null' $CRONF"
all_run() { "$SPAWN" status >/dev/null; }
if [ -x /etc/init.d/cron ]; then
	# a boot, as cron sees one: nothing runs, and cron starts without
	# its mark of having run the @reboot lines since the machine started
	"$SPAWN" stop >/dev/null
	service cron stop >/dev/null 2>&1
	rm -f /run/crond.reboot
	# early in a minute, so that only the @reboot line can start them
	# in the 15 s allowed (the other starts on the minute)
	sec=$((10#$(date +%S)))
	[ "$sec" -lt 40 ] || sleep $((62 - sec))
	service cron start >/dev/null 2>&1
	check "a boot (cron started afresh): its @reboot line starts all three within 15 s" \
		wait_for 15 all_run
	old=$(cat /run/isbitcoinlit/loop.pid 2>/dev/null)
	kill -TERM "$old"
	wait_for 30 bash -c "! kill -0 $old 2>/dev/null"
	loop_again() { [ "$(cat /run/isbitcoinlit/loop.pid 2>/dev/null)" != "$old" ] && all_run; }
	check "the loop stopped: cron's every-minute line starts it again within 70 s" \
		wait_for 70 loop_again
	# cron stays on through the removal, which must stop it starting
	# the programs again (cleanup puts cron as it was)
else
	skip "cron's lines start the programs" "cron not installed (deploy/install-deps run)"
fi
check "the cron file names itself to spawn (ISBITCOINLIT_SPAWN_CRON)" \
	grep -qxF "ISBITCOINLIT_SPAWN_CRON=$CRONF" "$CRONF"
# spawn's lock: another user holding a lock on the script, or trying the
# lock file, stops no start or stop of root's
setsid runuser -u nobody -- flock "$SPAWN" sleep 120 &
holder=$!	# the leader of a session (and process group) of its own
sleep 0.5
timeout 60 "$SPAWN" restart >/dev/null 2>&1
rc=$?
check "another user's lock on isbitcoinlit-spawn blocks no restart (exit $rc)" \
	bash -c "[ $rc = 0 ] && '$SPAWN' status >/dev/null"
kill -- -"$holder" 2>/dev/null
wait "$holder" 2>/dev/null
check "spawn's lock file is root's alone ($(mode /run/isbitcoinlit-spawn.lock))" \
	bash -c "[ '$(mode /run/isbitcoinlit-spawn.lock)' = '600 root root' ] &&
	    ! runuser -u nobody -- sh -c 'exec 8</run/isbitcoinlit-spawn.lock' 2>/dev/null"
# a start from a cron file that is gone (setup remove deleted it while
# the start waited for the lock) starts nothing
# (the lock held here, as setup remove holds it, so that cron's own
# every-minute start waits meanwhile)
exec 9>>/run/isbitcoinlit-spawn.lock
flock 9
ISBITCOINLIT_SPAWN_LOCKED=1 "$SPAWN" stop >/dev/null
ISBITCOINLIT_SPAWN_LOCKED=1 ISBITCOINLIT_SPAWN_CRON=$T/no-such-cron-file \
	"$SPAWN" start >/dev/null 2>&1
rc=$?
check "a cron start whose cron file is gone starts nothing (exit $rc)" \
	bash -c "[ $rc = 0 ] && ! ls /run/isbitcoinlit/*.pid >/dev/null 2>&1"
exec 9>&-
# (started again without that descriptor, which the programs would keep)
"$SPAWN" start >/dev/null
# setup cron refuses a spawn that another user could change: cron would
# run it as root every minute
mkdir -p "$T/theirs" "$T/cron.d"
cp /usr/sbin/isbitcoinlit-setup /usr/sbin/isbitcoinlit-spawn "$T/theirs/"
chown nobody "$T/theirs"
ISBITCOINLIT_SETUP_CRON=$T/cron.d/isbitcoinlit "$T/theirs/isbitcoinlit-setup" cron \
	>"$T/theirs.out" 2>&1
rc=$?
check "setup cron refuses a spawn in a directory another user owns (exit $rc)" \
	bash -c "[ $rc != 0 ] && grep -q 'is not root.s alone' '$T/theirs.out' && [ ! -e '$T/cron.d/isbitcoinlit' ]"
chown root "$T/theirs"
ISBITCOINLIT_SETUP_CRON=$T/cron.d/isbitcoinlit "$T/theirs/isbitcoinlit-setup" cron \
	>"$T/theirs.out" 2>&1
rc=$?
check "and writes it once the directory is root's alone (exit $rc)" \
	bash -c "[ $rc = 0 ] && [ -e '$T/cron.d/isbitcoinlit' ]"
rm -rf "$T/theirs" "$T/cron.d"

# docs/deployment.md's removal block, as written
(cd "$SRC" && bash -ex "$T/remove.sh") >"$T/remove.log" 2>&1
rc=$?
check "the remove block runs to its end (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 30 "$T/remove.log" | sed 's/^/#   /'
left=$(find /usr /etc /run /var/cache -name '*isbitcoinlit*' 2>/dev/null | grep -v "^$T")
check "nothing of IsBitcoinLit is left in /usr, /etc, /run, /var/cache" test -z "$left"
[ -z "$left" ] || echo "$left" | sed 's/^/#   /'
check "the users and groups are gone" bash -c \
	'! getent passwd isbitcoinlit-api isbitcoinlit-refresh >/dev/null && ! getent group isbitcoinlit isbitcoinlit-api isbitcoinlit-refresh >/dev/null'
mkdir "$T/orig"
tar -C "$T/orig" -xpf "$T/etc.tar"
out=$(diff -r --no-dereference "$T/orig/etc/redis" /etc/redis 2>&1)
check "the Redis configuration is as it was" test -z "$out"
[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
out=$(diff -r --no-dereference "$T/orig/etc/nginx" /etc/nginx 2>&1)
check "the nginx configuration is as it was" test -z "$out"
[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
# what would start the programs again is gone, and nothing runs
sleep 1
check "nothing runs as isbitcoinlit-api or isbitcoinlit-refresh, cron or not" \
	bash -c "! ps -eo user= | grep -q '^isbitcoinlit-\(api\|refresh\)$'"

# ---- the package route, from the clean state the removal left ----
if ! git -C "$top_srcdir" rev-parse --verify -q HEAD >/dev/null ||
    ! command -v dpkg-buildpackage >/dev/null || ! command -v git >/dev/null; then
	skip "the package route" "not a git checkout, or no dpkg-buildpackage or git"
	finish
fi
P=$T/pkg
mkdir -p "$P"
git clone -q "$top_srcdir" "$P/src"
# apt-get as an operator answers it; the build's own tests are
# tests/package.sh's (nocheck)
printf 'APT::Get::Assume-Yes "true";\n' >"$T/apt.conf"
pkg_block() {	# NAME: docs/deployment.md's block NAME, in the clone, as written
	(cd "$P/src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u TESTS \
	    APT_CONFIG="$T/apt.conf" DEBIAN_FRONTEND=noninteractive \
	    DEB_BUILD_OPTIONS="nocheck parallel=2" bash -ex "$T/$1.sh") \
	    >"$T/$1.log" 2>&1
	rc=$?
	check "the $1 block runs to its end (exit $rc)" test "$rc" = 0
	[ "$rc" = 0 ] || tail -n 30 "$T/$1.log" | sed 's/^/#   /'
	return "$rc"
}
pkg_block package-build || finish
check "it wrote ../isbitcoinlit_0.1.0_amd64.deb and the -dbgsym package the docs name" \
	test -f "$P/isbitcoinlit_0.1.0_amd64.deb" -a -f "$P/isbitcoinlit-dbgsym_0.1.0_amd64.deb"
pkg_block package-install || finish
check "apt installed the package" \
	bash -c "dpkg-query -W -f='\${Status}' isbitcoinlit | grep -q 'ok installed'"
check "the package's setup wrote the site with its own first comment" site_header http HTTP
# the example site beside the site setup wrote: nginx refuses both, and
# setup nginx refuses while the example is enabled
site_sum_was=$(site_sum)
ln -s /etc/nginx/sites-available/isbitcoinlit-example /etc/nginx/sites-enabled/
check "nginx -t refuses the example site beside setup's (the same zones)" \
	bash -c "nginx -t 2>&1 | grep -q 'isbitcoinlit_refresh\" is already bound'"
/usr/sbin/isbitcoinlit-setup nginx http lit.example.org >"$T/example.out" 2>&1
rc=$?
check "setup nginx refuses while the example site is enabled, saying so (exit $rc)" \
	bash -c "[ $rc != 0 ] && grep -q 'example site is enabled' '$T/example.out'"
check "and writes nothing" test "$(site_sum)" = "$site_sum_was"
rm -f /etc/nginx/sites-enabled/isbitcoinlit-example
check "the example site's header says so" \
	grep -q 'never both' /etc/nginx/sites-available/isbitcoinlit-example
pkg_block package-start
check "the programs run" all_run
BASE=http://lit.example.org
# step 4 on the package's own feed (SentiCrypt's, which this machine may
# not reach): the report, or the failure the docs describe
pkg_block package-check
check "the package's step 4: the refresh's report, or the documented failure" \
	grep -q '"status":"ok"\|"error":"upstream failed"\|"error":"refresh running"' "$T/package-check.log"
cp "$T/feed.json" "$P/src/bitcoin.json"
pkg_block local-feed
pkg_block package-check
check "then step 4 again: the refresh ok" grep -q '"status":"ok","received":2900' "$T/package-check.log"
check "and a summary" grep -q '{"hourly_average_of_averages":' "$T/package-check.log"
st=$(req GET /is-bitcoin-lit)
check "GET /is-bitcoin-lit through the package's site: 200 ($st)" test "$st" = 200
check "it is a summary" body_is_schema Summary
pkg_block package-remove
check "the package is purged" bash -c "! dpkg-query -W isbitcoinlit >/dev/null 2>&1"
left=$(find /usr /etc /run /var/cache /srv -name '*isbitcoinlit*' 2>/dev/null | grep -v "^$T")
check "nothing of IsBitcoinLit is left in /usr, /etc, /run, /var/cache, /srv" test -z "$left"
[ -z "$left" ] || echo "$left" | sed 's/^/#   /'
check "the users and groups are gone" bash -c \
	'! getent passwd isbitcoinlit-api isbitcoinlit-refresh >/dev/null && ! getent group isbitcoinlit isbitcoinlit-api isbitcoinlit-refresh >/dev/null'
out=$(diff -r --no-dereference "$T/orig/etc/redis" /etc/redis 2>&1)
check "the Redis configuration is as it was" test -z "$out"
[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
out=$(diff -r --no-dereference "$T/orig/etc/nginx" /etc/nginx 2>&1)
check "the nginx configuration is as it was" test -z "$out"
[ -z "$out" ] || echo "$out" | sed 's/^/#   /'
finish
