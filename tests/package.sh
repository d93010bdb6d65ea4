#!/usr/bin/env bash
# The Debian package, as an operator gets it: built from a clean clone of
# this checkout's HEAD with dpkg-buildpackage (which leaves the clone as
# git found it, the build's files ignored, and writes the -dbgsym package
# docs/deployment.md names), checked by lintian (no error,
# no warning), installed with apt-get on this machine, its programs run
# behind nginx with its own example site's settings, then purged: nothing
# it installed is left.  Needs root and a throwaway machine (CI): it
# installs into /usr, /lib and /etc.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"

if [ -n "${ISBITCOINLIT_TEST_SKIP_HEAVY:-}" ]; then
	echo "1..0 # SKIP the package is built and installed in the plain pass"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP installs a package: needs root"
	exit 0
fi
need dpkg-buildpackage lintian apt-get git nginx redis-server curl flock
if ! git -C "$top_srcdir" rev-parse --verify -q HEAD >/dev/null; then
	echo "1..0 # SKIP not a git checkout: the package is built from HEAD"
	exit 0
fi
if dpkg-query -W -f='${Status}' isbitcoinlit 2>/dev/null | grep -q installed; then
	echo "1..0 # SKIP a package isbitcoinlit is installed here already"
	exit 0
fi

# One test at a time changes the system (tests/operator.sh installs too).
exec 9>/tmp/isbitcoinlit-system.lock
flock 9

T=$(mktemp -d /tmp/isbitcoinlit-package.XXXXXX)
chmod 0711 "$T"
cleanup() {
	local p
	for p in "$T"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
	dpkg-query -W -f='${Status}' isbitcoinlit 2>/dev/null | grep -q installed &&
		apt-get purge -y -qq isbitcoinlit >/dev/null 2>&1
	if [ -n "${SECRETS_MADE:-}" ]; then	# a purge that left them
		rm -f /etc/isbitcoinlit/api.env /etc/isbitcoinlit/refresh.env
		rmdir /etc/isbitcoinlit 2>/dev/null
	fi
	[ -n "${ISBITCOINLIT_TEST_KEEP:-}" ] &&
		cp "$T"/*.log "$ISBITCOINLIT_TEST_KEEP"/ 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# ---- build and lint ----
git clone -q "$top_srcdir" "$T/src"
# (not under this make: its TESTS would reach the package's own make check)
if (cd "$T/src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u TESTS \
    dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b builds the package"
else
	nok "dpkg-buildpackage -us -uc -b builds the package" "$(tail -n 20 "$T/build.log")"
	finish
fi
DEB=$(ls "$T"/isbitcoinlit_*.deb)
out=$(git -C "$T/src" status --porcelain --ignored=no)
check "the build leaves nothing git does not ignore ($(echo $out))" test -z "$out"
check "the -dbgsym package docs/deployment.md names is built" \
	test -f "$(ls "$T"/isbitcoinlit-dbgsym_*_*.deb 2>/dev/null | head -n 1)"
lintian --fail-on error,warning "$T"/isbitcoinlit_*.changes >"$T/lintian.log" 2>&1
rc=$?
if [ "$rc" = 0 ] && ! grep -Eq '^[EW]: ' "$T/lintian.log"; then
	ok "lintian: no error and no warning"
else
	nok "lintian: no error and no warning" "$(grep -E '^[EW]: ' "$T/lintian.log")"
fi

# ---- install ----
if apt-get install -y -qq --no-install-recommends "$DEB" >"$T/install.log" 2>&1; then
	ok "apt-get install ./isbitcoinlit_*.deb"
else
	nok "apt-get install ./isbitcoinlit_*.deb" "$(tail -n 20 "$T/install.log")"
	finish
fi
dpkg -L isbitcoinlit >"$T/files"
for f in /usr/bin/isbitcoinlit-api /usr/bin/isbitcoinlit-refresh \
    /lib/systemd/system/isbitcoinlit-api.socket \
    /lib/systemd/system/isbitcoinlit-refresh-once.timer \
    /usr/share/isbitcoinlit/nginx/openapi.json \
    /usr/share/isbitcoinlit/www/index.html \
    /usr/share/isbitcoinlit/www/index.html.gz \
    /usr/share/isbitcoinlit/www/app.js.gz /usr/share/isbitcoinlit/www/app.css.gz \
    /usr/share/isbitcoinlit/www/docs/index.html \
    /usr/share/isbitcoinlit/www/docs/swagger-ui-bundle.js \
    /usr/share/isbitcoinlit/www/docs/LICENSE \
    /etc/nginx/sites-available/isbitcoinlit-example /usr/sbin/isbitcoinlit-setup \
    /usr/sbin/isbitcoinlit-spawn /usr/share/man/man8/isbitcoinlit-api.8.gz \
    /usr/share/man/man7/isbitcoinlit.7.gz; do
	check "installs $f" test -f "$f"
done
check "the environment file is a conffile readable by root only" test \
    "$(stat -c '%a %U' /etc/isbitcoinlit/isbitcoinlit.env):$(dpkg-query -W -f='${Conffiles}' isbitcoinlit | grep -c isbitcoinlit.env)" = "640 root:1"
check "the example site is not enabled" test ! -e /etc/nginx/sites-enabled/isbitcoinlit-example
# Debian's nginx.conf with the example site in place of sites-enabled/*
sed 's|include /etc/nginx/sites-enabled/\*;|include /etc/nginx/sites-available/isbitcoinlit-example;|' \
	/etc/nginx/nginx.conf >"$T/nginx-t.conf"
check "nginx accepts the example site (nginx -t with it included)" \
	nginx -t -q -c "$T/nginx-t.conf"

# ---- the installed programs behind nginx ----
cat >"$T/redis.conf" <<EOF
port 0
unixsocket $T/redis.sock
unixsocketperm 700
dir $T
pidfile $T/redis.pid
daemonize yes
save ""
EOF
redis-server "$T/redis.conf"
wait_for 5 redis-cli -s "$T/redis.sock" ping >/dev/null
make_feed "$T/feed.json"
TOKEN=package-$RANDOM$RANDOM
export ISBITCOINLIT_REDIS_URL=unix://$T/redis.sock ISBITCOINLIT_UPSTREAM_URL=file://$T/feed.json
/usr/bin/isbitcoinlit-api --listen "$T/api.sock" --workers 2 2>"$T/api.log" &
echo $! >"$T/api.pid"
ISBITCOINLIT_REFRESH_TOKEN=$TOKEN /usr/bin/isbitcoinlit-refresh --listen "$T/refresh.sock" \
	--workers 1 2>"$T/refresh.log" &
echo $! >"$T/refresh.pid"
wait_for 10 test -S "$T/api.sock" -a -S "$T/refresh.sock"
chgrp www-data "$T/api.sock" "$T/refresh.sock"
# the example site as installed, on a free port, the sockets and cache here
PORT=$(free_port)
BASE=http://127.0.0.1:$PORT
mkdir -p "$T/nginx"
sed -e "s|listen 80;|listen 127.0.0.1:$PORT;|" \
    -e "s|/run/isbitcoinlit/|$T/|g" -e "s|/var/cache/isbitcoinlit|$T/nginx/cache|" \
    /etc/nginx/sites-available/isbitcoinlit-example >"$T/nginx/site.conf"
nginx_conf "$T/nginx" "$T/nginx/site.conf"
if nginx -q -p "$T/nginx" -c "$T/nginx/nginx.conf" 2>"$T/nginx-start.log"; then
	wait_for 5 test -s "$T/nginx/nginx.pid"
	cp "$T/nginx/nginx.pid" "$T/nginx.pid"
	wait_for 10 curl -s -o /dev/null "$BASE/healthz"
	st=$(req POST /refresh -H "Authorization: Bearer $TOKEN")
	check "POST /refresh with the token: 200 ($st)" test "$st" = 200
	st=$(req GET /is-bitcoin-lit)
	check "GET /is-bitcoin-lit: 200, a Summary ($st)" test "$st" = 200
	check "the Summary matches the installed OpenAPI document" \
		"$top_builddir/tests/schema_check" /usr/share/isbitcoinlit/nginx/openapi.json Summary "$T/b"
	st=$(req GET /healthz)
	check "GET /healthz: 200 ($st)" test "$st" = 200
	st=$(req GET /)
	check "GET /: the installed dashboard ($st)" test "$st:$(hdr Content-Type)" = "200:text/html; charset=utf-8"
	st=$(req GET / -H 'Accept-Encoding: gzip')
	check "GET / accepting gzip: the installed index.html.gz ($st, $(hdr Content-Encoding), Vary: $(hdr Vary))" \
		bash -c "[ '$st:$(hdr Content-Encoding):$(hdr Vary)' = '200:gzip:Accept-Encoding' ] &&
		    gzip -dc '$T/b' | cmp -s - /usr/share/isbitcoinlit/www/index.html"
	st=$(req GET /openapi.json)
	check "GET /openapi.json: the installed document ($st)" cmp -s "$T/b" /usr/share/isbitcoinlit/nginx/openapi.json
	st=$(req GET /docs)
	check "GET /docs: the installed interactive documentation ($st)" \
	    bash -c "[ $st = 200 ] && cmp -s '$T/b' /usr/share/isbitcoinlit/www/docs/index.html"
	st=$(req GET /docs/swagger-ui-bundle.js)
	check "GET /docs/swagger-ui-bundle.js: the installed file ($st)" \
	    bash -c "[ $st = 200 ] && cmp -s '$T/b' /usr/share/isbitcoinlit/www/docs/swagger-ui-bundle.js"
else
	nok "nginx runs the installed example site" "$(cat "$T/nginx-start.log")"
fi
for p in nginx api refresh redis; do
	[ -f "$T/$p.pid" ] && kill "$(cat "$T/$p.pid")" 2>/dev/null
done
rm -f "$T"/*.pid

# ---- purge ----
# the secrets isbitcoinlit-setup config writes beside the conffile (each
# program's Redis password, the refresh token): purged with the package
# even when isbitcoinlit-setup remove was not run first
SECRETS_MADE=1
for u in api refresh; do
	install -m 0640 /dev/null "/etc/isbitcoinlit/$u.env"
	echo "ISBITCOINLIT_REDIS_URL=redis://isbitcoinlit-$u:secret-$RANDOM@127.0.0.1:6379/0" \
		>>"/etc/isbitcoinlit/$u.env"
done
if apt-get purge -y -qq isbitcoinlit >"$T/purge.log" 2>&1; then
	ok "apt-get purge isbitcoinlit"
else
	nok "apt-get purge isbitcoinlit" "$(tail -n 20 "$T/purge.log")"
fi
left=""
while read -r f; do
	[ -d "$f" ] && continue	# directories (and /lib, a link to one): below
	[ -e "$f" ] || [ -L "$f" ] && left="$left $f"
done <"$T/files"
check "nothing it installed is left (files)" test -z "$left"
check "apt-get purge removes api.env and refresh.env (the secrets)" \
	test ! -e /etc/isbitcoinlit/api.env -a ! -e /etc/isbitcoinlit/refresh.env
for d in /etc/isbitcoinlit /usr/share/isbitcoinlit /usr/share/doc/isbitcoinlit; do
	check "$d is gone" test ! -e "$d"
done
check "dpkg knows no isbitcoinlit" sh -c '! dpkg-query -W isbitcoinlit >/dev/null 2>&1'

finish
