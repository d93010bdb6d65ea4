#!/usr/bin/env bash
# The operator's path: docs/deployment.md, its two blocks run
# as they are written, on this machine (a throwaway Debian 12 machine as
# root, as CI's): install to /usr and /etc from a copy of the sources,
# Debian's own redis-server and nginx (its default site enabled), the
# programs under isbitcoinlit-spawn.  Then checks what an operator would,
# runs the "Removing" block of docs/deployment.md, and checks that nothing is left.
# Whatever happens, it puts back what it changed: the nginx and Redis
# configurations, the services' running state, Redis's data
# files, and it stops only what it started.  TAP output.
#
# Skipped when not root, not Debian 12, in a sanitizer or valgrind pass
# (the block builds its own plain programs), when IsBitcoinLit is already
# installed here, when something other than Debian's nginx holds port 80,
# or with ISBITCOINLIT_TEST_OPERATOR=no or ISBITCOINLIT_TEST_SKIP_HEAVY set.
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

running() {	# PIDFILE: the service of that pid file runs
	[ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}
NGINX_WAS=0 REDIS_WAS=0
running /run/nginx.pid && NGINX_WAS=1
running /run/redis/redis-server.pid && REDIS_WAS=1
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
block install >"$T/install.sh"
block remove >"$T/remove.sh"
check "docs/deployment.md's install block is there" test -s "$T/install.sh"
check "docs/deployment.md's remove block is there" test -s "$T/remove.sh"

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

# The operator types these lines: the feed is a setting given to
# isbitcoinlit-setup config (docs/deployment.md says how).
(cd "$SRC" && ISBITCOINLIT_UPSTREAM_URL="file://$T/feed.json" \
    bash -ex "$T/install.sh") >"$T/install.log" 2>&1
rc=$?
check "the install block runs to its end (exit $rc)" test "$rc" = 0
[ "$rc" = 0 ] || tail -n 40 "$T/install.log" | sed 's/^/#   /'
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

TOKEN=$(sed -n 's/^ISBITCOINLIT_REFRESH_TOKEN=//p' /etc/isbitcoinlit/refresh.env)
check "config generated a refresh token" test "${#TOKEN}" -ge 32
st=$(req POST /refresh)
check "POST /refresh without the token: 401 ($st)" test "$st" = 401
st=$(req POST /refresh -H "Authorization: Bearer $TOKEN")
check "POST /refresh with the token: 200 ($st)" test "$st" = 200
check "the refresh report says ok" grep -q '"status":"ok"' "$T/b"
# docs/deployment.md's own command for it
out=$(eval "$(sed -n '/^curl -X POST/p' "$top_srcdir/docs/deployment.md") -s")
check "docs/deployment.md's refresh command works" grep -q '"status":"ok"' <<<"$out"

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

# The README's "Removing" block, as written
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
finish
