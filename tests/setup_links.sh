#!/usr/bin/env bash
# isbitcoinlit-setup runs as root and writes into /etc/redis, which Debian
# makes redis:redis 2770: group-writable and not sticky, so any member of
# the group redis may plant a name there (fs.protected_symlinks does not
# cover such a directory).  Here a throwaway user of a throwaway group, in
# a copy of such a directory, plants links to a file of root's at every
# name setup writes or used to write, and setup must never write through
# them: the victim stays byte for byte, owner and mode as it was, and
# setup says why it refused.  Needs root (useradd); the users it makes go
# again.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"

skip_all() { echo "1..0 # SKIP $1"; rm -rf "$REPORTS"; exit 0; }
[ "$(id -u)" = 0 ] || skip_all "not root (makes a throwaway user)"
for t in useradd userdel groupadd groupdel runuser; do
	command -v "$t" >/dev/null || skip_all "$t not installed"
done
# setup gives its Redis files to the user redis (redis-server's package)
getent passwd redis >/dev/null && getent group redis >/dev/null ||
	skip_all "no user redis (deploy/install-deps run)"
SETUP=$top_builddir/deploy/isbitcoinlit-setup
[ -f "$SETUP" ] || skip_all "deploy/isbitcoinlit-setup not built"
# setup remove also takes away the users, the site and the microcache of
# an installed IsBitcoinLit: one test at a time changes the system
# (tests/operator.sh, tests/package.sh), and none may be installed here
command -v flock >/dev/null || skip_all "flock not installed"
exec 9>/tmp/isbitcoinlit-system.lock
flock 9

T=$(mktemp -d /tmp/isbitcoinlit-links.XXXXXX)
chmod 0755 "$T"
U=iblit-plant$$
cleanup() {
	getent passwd "$U" >/dev/null && userdel "$U" 2>/dev/null
	getent group "$U" >/dev/null && groupdel "$U" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$U" || skip_all "useradd $U failed"

# /etc/redis as Debian makes it, owned by the throwaway user and group
ETC=$T/etc
R=$ETC/redis
S=$ETC/isbitcoinlit
mkdir -p "$R" "$S" "$T/var"
printf 'port 6379\ndir %s\n' "$T/var" >"$R/redis.conf"
chown -R "$U:$U" "$R"
chmod 2770 "$R"
chmod 0640 "$R/redis.conf"
for u in api refresh; do
	echo "ISBITCOINLIT_REDIS_URL=unix://isbitcoinlit-$u:pw$u@/run/redis/redis-server.sock" >"$S/$u.env"
done
: >"$S/isbitcoinlit.env"
# a file only root may write: what the links point at
VICTIM=$T/victim
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$VICTIM"
chmod 0644 "$VICTIM"
cp -p "$VICTIM" "$T/victim.orig"
victim_state() { stat -c '%u %g %a %s' "$VICTIM"; }
WAS=$(victim_state)
untouched() { cmp -s "$VICTIM" "$T/victim.orig" && [ "$(victim_state)" = "$WAS" ]; }
restore_victim() { cp -p "$T/victim.orig" "$VICTIM"; }

as_planter() { runuser -u "$U" -- "$@"; }
setup() {	# COMMAND: setup on the copy, its output in $T/out
	env ISBITCOINLIT_SETUP_REDIS_DIR="$R" ISBITCOINLIT_SETUP_SYSCONF="$S" \
	    ISBITCOINLIT_SETUP_EXAMPLES="$top_srcdir/deploy" \
	    ISBITCOINLIT_SETUP_CRON="$T/cron.d/isbitcoinlit" \
	    bash "$SETUP" "$@" >"$T/out" 2>&1
}

check "the throwaway user can plant a name in the redis directory" \
	as_planter ln -s "$VICTIM" "$R/probe"
rm -f "$R/probe"

# 1. the old temporary names: isbitcoinlit.acl.new
as_planter ln -s "$VICTIM" "$R/isbitcoinlit.acl.new"
setup redis
rc=$?
check "setup redis with isbitcoinlit.acl.new planted: the victim is untouched ($(victim_state))" untouched
check "and the ACL it wrote is a file of its own, 640 redis:redis" \
	test ! -L "$R/isbitcoinlit.acl" -a "$(stat -c '%a %U %G' "$R/isbitcoinlit.acl" 2>/dev/null)" = "640 redis redis"
check "and it finished (exit $rc)" test "$rc" = 0
restore_victim
rm -f "$R/isbitcoinlit.acl.new"

# 2. a link at the names setup writes: refused, said why
for name in isbitcoinlit.acl isbitcoinlit.conf; do
	rm -f "$R/$name"
	as_planter ln -s "$VICTIM" "$R/$name"
	setup redis
	rc=$?
	check "setup redis with $name a planted link: the victim is untouched" untouched
	check "and it refuses, saying why (exit $rc)" \
		bash -c "[ $rc != 0 ] && grep -q '$name.*not a file of ours' '$T/out'"
	[ "$rc" != 0 ] || sed 's/^/#   /' "$T/out"
	restore_victim
	rm -f "$R/$name"
done

# 3. redis.conf itself replaced by a link: no append through it
mv "$R/redis.conf" "$T/redis.conf.real"
as_planter ln -s "$VICTIM" "$R/redis.conf"
setup redis
rc=$?
check "setup redis with redis.conf a planted link: the victim is untouched" untouched
check "and it refuses, saying why (exit $rc)" \
	bash -c "[ $rc != 0 ] && grep -q 'redis.conf.*not a file of ours' '$T/out'"
restore_victim
rm -f "$R/redis.conf"
mv "$T/redis.conf.real" "$R/redis.conf"

# 4. setup remove: its redis.conf.new
rm -f "$R/isbitcoinlit.acl" "$R/isbitcoinlit.conf"
setup redis
check "setup redis (nothing planted) includes its file" \
	grep -q "include $R/isbitcoinlit.conf" "$R/redis.conf"
check "and redis.conf keeps its owner and mode" \
	test "$(stat -c '%U %a' "$R/redis.conf")" = "$U 640"
installed=""
for f in /etc/nginx/sites-available/isbitcoinlit /var/cache/isbitcoinlit; do
	[ -e "$f" ] && installed=$f
done
getent passwd isbitcoinlit-api >/dev/null && installed="the user isbitcoinlit-api"
if [ -n "$installed" ]; then
	skip "setup remove with redis.conf.new planted" "IsBitcoinLit is installed here ($installed)"
else
	as_planter ln -s "$VICTIM" "$R/redis.conf.new"
	setup remove
	rc=$?
	check "setup remove with redis.conf.new planted: the victim is untouched" untouched
	check "and it took its lines out of redis.conf (exit $rc)" \
		bash -c "[ $rc = 0 ] && ! grep -q -e '^include' -e isbitcoinlit-setup '$R/redis.conf'"
	check "and redis.conf keeps its owner and mode" \
		test "$(stat -c '%U %a' "$R/redis.conf")" = "$U 640"
fi
left=$(ls -A "$ETC" | grep -v -x -e redis -e isbitcoinlit)
check "no staging directory of setup's is left ($left)" test -z "$left"
finish
