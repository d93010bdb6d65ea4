#!/usr/bin/env bash
# The deployment files: every systemd unit passes systemd-analyze verify and
# stays hardened; the example environment file and the README name every
# variable the programs take.  TAP output.
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
	grep -q "\`$v\`" "$top_srcdir/README.md" || missing="$missing README"
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
	for u in "$T"/*.socket; do
		grep -q '^SocketMode=0660$' "$u" && ok "$(basename "$u"): mode 0660" ||
			nok "$(basename "$u"): mode 0660"
	done
	grep -q '^AccuracySec=1s$' "$T/isbitcoinlit-refresh-once.timer" &&
		ok "the timer: AccuracySec=1s" || nok "the timer: AccuracySec=1s"
fi
finish
