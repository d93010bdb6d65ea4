#!/usr/bin/env bash
# The deployment files: every systemd unit passes systemd-analyze verify and
# stays hardened; the example environment file and docs/configuration.md name every
# variable the programs take; make install puts the dashboard's gzip files
# beside its files.  TAP output.
set -u
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d /tmp/isbitcoinlit-deploy.XXXXXX)
trap 'rm -rf "$T"' EXIT

# the variables, from the programs' own --help
vars=$( { "$top_builddir/src/isbitcoinlit-api" --help
	"$top_builddir/src/isbitcoinlit-refresh" --help; } |
	grep -o 'ISBITCOINLIT_[A-Z_]*' | sort -u)
[ -n "$vars" ] && ok "--help lists the variables" || nok "--help lists the variables"
for v in $vars; do
	missing=""
	grep -q "^#*$v=" "$top_srcdir/deploy/isbitcoinlit.env" || missing="$missing env-file"
	grep -q "\`$v\`" "$top_srcdir/docs/configuration.md" || missing="$missing docs/configuration.md"
	[ -z "$missing" ] && ok "$v is documented" || nok "$v is documented" "missing in:$missing"
done

if ! command -v systemd-analyze >/dev/null; then
	skip "systemd units" "systemd-analyze not installed"
else
	# the units as make install writes them, pointing at this build
	for f in "$top_srcdir"/deploy/systemd/*.in; do
		b=$(basename "$f" .in)
		sed -e "s|@bindir@|$top_builddir/src|g" -e "s|@sysconfdir@|/etc|g" \
		    -e "s|@docdir@|/usr/share/doc/isbitcoinlit|g" "$f" >"$T/$b"
	done
	out=$(cd "$T" && systemd-analyze verify ./isbitcoinlit-* 2>&1)
	[ -z "$out" ] && ok "systemd-analyze verify: every unit" ||
		nok "systemd-analyze verify: every unit" "$out"
	for u in "$T"/*.service; do
		e=$(cd "$T" && systemd-analyze security --offline=true "./$(basename "$u")" 2>/dev/null |
		    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		if [ -n "$e" ] && awk "BEGIN { exit !($e <= 2.0) }"; then
			ok "$(basename "$u"): exposure $e"
		else
			nok "$(basename "$u"): exposure '$e', want at most 2.0"
		fi
	done
	# a memory cap on every service, so that no input can take the host
	for u in "$T"/*.service; do
		grep -q '^MemoryMax=[0-9][0-9]*[KMG]$' "$u" &&
			ok "$(basename "$u"): MemoryMax" ||
			nok "$(basename "$u"): MemoryMax" "no MemoryMax= in the unit"
	done
	for u in "$T"/*.socket; do
		grep -q '^SocketMode=0660$' "$u" && ok "$(basename "$u"): mode 0660" ||
			nok "$(basename "$u"): mode 0660"
	done
	grep -q '^AccuracySec=1s$' "$T/isbitcoinlit-refresh-once.timer" &&
		ok "the timer: AccuracySec=1s" || nok "the timer: AccuracySec=1s"
fi
# the scripts stop the processes they started, by pid, never by name
# (pkill -f would also end another user's or another test's)
byname=$(cd "$top_srcdir" && grep -nE '(^|[^a-z_-])(pkill|killall)([^a-z_-]|$)' \
	tests/*.sh tests/bench/run tests/run deploy/isbitcoinlit-local \
	deploy/*.in .ci/run fuzz/run 2>/dev/null | grep -v '^tests/deploy\.sh:')
[ -z "$byname" ] && ok "no script kills by name" ||
	nok "no script kills by name" "$byname"

# ---- make install: the dashboard's files, each with its gzip beside ----
# (nginx's gzip_static serves FILE.gz): the bytes of the file once
# gunzipped, no name or time inside (gzip -n), the file's own time
if make -s -C "$top_builddir" install-data DESTDIR="$T/dest" pkgdatadir=/pkg \
    >"$T/install.log" 2>&1; then
	for f in index.html app.js app.css; do
		w=$T/dest/pkg/www
		check "make install: www/$f.gz beside www/$f, the same bytes once gunzipped" \
			bash -c "gzip -dc '$w/$f.gz' | cmp -s - '$w/$f'"
		check "make install: www/$f.gz without a name or a time, with the file's time" \
			bash -c "[ \"\$(od -An -tx1 -j3 -N5 '$w/$f.gz' | tr -d ' ')\" = 0000000000 ] &&
			    [ \"\$(stat -c %.9Y '$w/$f.gz')\" = \"\$(stat -c %.9Y '$w/$f')\" ]"
	done
else
	nok "make install-data into a scratch directory" "$(tail -n 20 "$T/install.log")"
fi

# ---- the HTTP site next to Debian's stock default site ----
# nginx with a copy of the default server block (listen ... default_server,
# server_name _) and the shipped site on the same port: the site answers
# for its server name, the default site for any other.
DEFAULT_SITE=/etc/nginx/sites-available/default
if ! command -v nginx >/dev/null || [ ! -f "$DEFAULT_SITE" ]; then
	skip "the site next to Debian's default site" "no nginx or no $DEFAULT_SITE"
else
	P=$(free_port)
	N=$T/nginx
	mkdir -p "$N/tmp"
	sed -e "s|listen 80 default_server;|listen 127.0.0.1:$P default_server;|" \
	    -e '/listen \[::\]:80 default_server;/d' "$DEFAULT_SITE" >"$N/default"
	for f in "$top_srcdir"/nginx/*.conf; do
		sed -e "s|@NGINX_DIR@|$N|g" -e "s|@WWW_DIR@|$top_srcdir/www|g" \
		    -e "s|@HTTP_LISTEN@|127.0.0.1:$P|g" \
		    -e "s|@SERVER_NAME@|lit.example.org|g" -e "s|@CACHE_DIR@|$N/cache|g" \
		    -e "s|@API_SOCKET@|$N/api.sock|g" -e "s|@REFRESH_SOCKET@|$N/refresh.sock|g" \
		    "$f" >"$N/$(basename "$f")"
	done
	cp "$top_srcdir/nginx/openapi.json" /etc/nginx/fastcgi_params "$N/"
	chmod -R a+rX "$T"
	nginx_conf "$N" "$N/default" "$N/isbitcoinlit-http.conf"
	if nginx -q -p "$N" -c "$N/nginx.conf" 2>"$N/start.err"; then
		trap 'nginx -q -p "$N" -c "$N/nginx.conf" -s stop 2>/dev/null; rm -rf "$T"' EXIT
		wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$P/"
		st=$(curl -s -o "$T/b" -w '%{http_code} %{content_type}' \
		    -H 'Host: lit.example.org' "http://127.0.0.1:$P/openapi.json")
		check "next to the default site, Host: lit.example.org gets the site ($st)" \
		    test "$st" = "200 application/json; charset=utf-8"
		st=$(curl -s -o "$T/b" -w '%{http_code} %{content_type}' \
		    -H 'Host: lit.example.org' "http://127.0.0.1:$P/docs")
		check "and /docs, the interactive documentation its include file adds ($st)" \
		    bash -c "[ '$st' = '200 text/html; charset=utf-8' ] && cmp -s '$T/b' '$top_srcdir/www/docs/index.html'"
		st=$(curl -s -o "$T/b" -w '%{http_code}' -H 'Host: lit.example.org' \
		    "http://127.0.0.1:$P/is-bitcoin-lit")
		check "and GET /is-bitcoin-lit reaches the site (JSON 502 without responders: $st)" \
		    grep -q '"error":"bad gateway"' "$T/b"
		st=$(curl -s -o "$T/b" -w '%{http_code}' -H 'Host: other.example.org' \
		    "http://127.0.0.1:$P/openapi.json")
		check "another name gets the default site ($st)" \
		    bash -c "[ $st = 404 ] && ! grep -q openapi '$T/b'"
		check "nginx warns of no conflicting server name" \
		    bash -c "! grep -q 'conflicting server name' '$N/error.log' '$N/start.err'"
		nginx -q -p "$N" -c "$N/nginx.conf" -s stop
	else
		nok "nginx starts with the default site and the site" "$(cat "$N/start.err")"
	fi
fi
finish
