#!/usr/bin/env bash
# The manual pages: mandoc -Tlint finds nothing to say (a "referenced
# manual not found" about a page that is not installed on this machine
# aside: the pages name each other, and mandoc only knows the pages it has
# read before); each program's --help ends with a line naming its page,
# and the page documents every option and variable --help lists;
# make install puts the pages in man7 and man8, make uninstall removes them.
# TAP.
set -u
. "$(dirname "$0")/lib.sh"
need mandoc

T=$(mktemp -d /tmp/isbitcoinlit-man.XXXXXX)
trap 'rm -rf "$T"' EXIT
MAN=$top_srcdir/man
PAGES="$MAN/isbitcoinlit.7 $MAN/isbitcoinlit-api.8 $MAN/isbitcoinlit-refresh.8
	$MAN/isbitcoinlit-setup.8 $MAN/isbitcoinlit-spawn.8"

for p in $PAGES; do
	out=$(mandoc -Tlint -Wwarning "$p" 2>&1)
	check "mandoc -Tlint -Wwarning $(basename "$p"): nothing ($out)" \
		test -z "$out"
done
# shellcheck disable=SC2086
mandoc -Tlint $PAGES >"$T/lint" 2>&1
grep -v -e 'outdated mandoc.db' -e 'STYLE: referenced manual not found' \
	"$T/lint" >"$T/lint.left"
check "mandoc -Tlint of all the pages: no style message either ($(head -c 300 "$T/lint.left"))" \
	test ! -s "$T/lint.left"

for prog in isbitcoinlit-api isbitcoinlit-refresh; do
	${TEST_PREFIX:-} "$top_builddir/src/$prog" --help >"$T/$prog.help"
	check "$prog --help ends with a line pointing to its page" \
		test "$(tail -n 1 "$T/$prog.help")" = \
		"The manual: man 8 $prog (and man 7 isbitcoinlit)."
	check "that page is $prog(8)" grep -qx ".Dt ${prog^^} 8" "$MAN/$prog.8"
	missing=""
	for o in $(grep -o '^  --[a-z-]*' "$T/$prog.help" | tr -d ' '); do
		grep -q "^\.It Fl -${o#--}\b" "$MAN/$prog.8" || missing="$missing $o"
	done
	check "$prog(8) describes every option of --help ($missing)" test -z "$missing"
	missing=""
	for v in $(grep -o 'env ISBITCOINLIT_[A-Z_]*' "$T/$prog.help" | cut -d' ' -f2); do
		grep -q "Ev $v\b" "$MAN/isbitcoinlit.7" || missing="$missing $v"
	done
	check "isbitcoinlit(7) lists every variable of $prog ($missing)" test -z "$missing"
done

# installed where man(1) looks, and removed again
${MAKE:-make} -s -C "$top_builddir" install DESTDIR="$T/inst" >"$T/install.log" 2>&1
check "make install succeeds" test "$?" = 0
found=$(find "$T/inst" -name 'isbitcoinlit*.[78]' | sed 's|.*/\(man[78]/\)|\1|' | sort | tr '\n' ' ')
check "it puts the pages in man7 and man8 ($found)" test "$found" = \
	"man7/isbitcoinlit.7 man8/isbitcoinlit-api.8 man8/isbitcoinlit-refresh.8 man8/isbitcoinlit-setup.8 man8/isbitcoinlit-spawn.8 "
${MAKE:-make} -s -C "$top_builddir" uninstall DESTDIR="$T/inst" >>"$T/install.log" 2>&1
check "make uninstall removes them" test -z "$(find "$T/inst" -name 'isbitcoinlit*.[78]')"

finish
