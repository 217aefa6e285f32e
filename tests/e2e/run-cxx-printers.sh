#!/bin/bash
# C++ pretty printers: cxxapp crashes in a function taking a std::string
# and a std::vector<int>.  On the origin, gdb shows them through
# libstdc++'s printers, which it auto-loads (s="hello", v=std::vector of
# length 3 ...).  run-gdb.sh keeps auto-loading off, so it registers the
# printers of the debugging machine's gcc itself: unpacked elsewhere,
# originals hidden, bt and info args are the origin's, and the printers are
# this machine's (global), none from the bundle.  With coreunpack --trust
# the printers packed with the bundle's libstdc++ are auto-loaded instead:
# with this machine's hidden (as root, in a mount namespace) they still
# print the same; without --trust the values are then raw.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
cp_need g++:g++
[[ $CP_SELFCHECK != 1 ]] || cp_skip "compares the bundle with the origin: nothing to do in SELFCHECK mode"
host_printers=
for d in /usr/share/gcc/python /usr/share/gcc-*/python; do
	[[ -f $d/libstdcxx/v6/printers.py ]] && host_printers=$d && break
done
[[ -n $host_printers ]] ||
	cp_skip "this machine has no libstdc++ pretty printers (/usr/share/gcc/python, package libstdc++6)"

mkdir -p "$CP_WORK/b"
g++ "${CP_CFLAGS[@]}" -o "$CP_WORK/b/cxxapp" "$CP_PROGS/cxxapp.cc"
cp_crash "$CP_WORK/crash" "$CP_WORK/b/cxxapp"
cmds=(-batch -ex bt -ex 'frame function cxx_crash' -ex 'info args' -ex 'info pretty-printer')

cp_check "on the origin, gdb (auto-loading its printers) shows the string and the vector"
cp_gdb_mark "${cmds[@]}"
gdb -nx -iex 'set debuginfod enabled off' -ex "file $CP_WORK/b/cxxapp" -ex "core-file $CP_CORE" \
	"${CP_GDB_ARGS[@]}" </dev/null >"$CP_WORK/logs/origin.out" 2>&1 ||
	cp_fail "gdb on the origin failed" "$CP_WORK/logs/origin.out"
cp_gdb_section "$CP_WORK/logs/origin.out" 1 >"$CP_WORK/logs/origin.bt"
cp_gdb_section "$CP_WORK/logs/origin.out" 3 >"$CP_WORK/logs/origin.args"
grep -q -x 's = "hello"' "$CP_WORK/logs/origin.args" &&
	grep -q -x 'v = std::vector of length 3, capacity 3 = {1, 2, 3}' "$CP_WORK/logs/origin.args" ||
	cp_fail "gdb on the origin does not print through libstdc++'s printers" "$CP_WORK/logs/origin.out"
cp_assert_frames "$CP_WORK/logs/origin.out" \
	"cxx_crash cxxapp.cc:$(cp_line "$CP_PROGS/cxxapp.cc" cxx_crash)" \
	"main cxxapp.cc:$(cp_line "$CP_PROGS/cxxapp.cc" main)"
sed 's/^/  origin: /' "$CP_WORK/logs/origin.bt" "$CP_WORK/logs/origin.args"

cp_pack "$CP_CORE" "$CP_WORK/cxx.tar.zst"
cu_unpack "$CP_UNPACK/u" "$CP_BUNDLE_FILE"
cu_unpack "$CP_UNPACK/t" "$CP_BUNDLE_FILE" --trust
CP_BUNDLE_DIR=$CP_UNPACK/u
stdcxx=$(readlink -f "$(gcc -print-file-name=libstdc++.so.6)")
cp_check "the bundle holds libstdc++'s gdb script and the printers it imports (for --trust)"
cp_manifest --arg p "$stdcxx" -e \
	'[.gdb_scripts[] | select(.kind == "auto-load" and .object == $p and .bundle_path == "sysroot" + $p + "-gdb.py")] | length == 1' \
	>/dev/null || cp_fail "no auto-load script of $stdcxx in gdb_scripts" "$CP_BUNDLE_DIR/manifest.json"
[[ -f $CP_BUNDLE_DIR/sysroot$stdcxx-gdb.py ]] || cp_fail "sysroot$stdcxx-gdb.py is not in the bundle"
pydir=$(sed -n "s/^pythondir = '\(.*\)'\$/\1/p" "$CP_BUNDLE_DIR/sysroot$stdcxx-gdb.py")
[[ -f $CP_BUNDLE_DIR/sysroot$pydir/libstdcxx/v6/printers.py ]] ||
	cp_fail "the bundle has no sysroot$pydir/libstdcxx/v6/printers.py"
grep -q "^bundle_scripts=1\$" "$CP_BUNDLE_DIR/run-gdb.sh" || cp_fail "run-gdb.sh does not know of them"

cp_hide_originals "$CP_WORK"

# same WHAT OUT: bt and info args in gdb's output OUT are the origin's.
same() {
	cp_gdb_section "$2" 1 >"$2.bt"
	cp_gdb_section "$2" 3 >"$2.args"
	cat "$2.bt" "$2.args" | sed "s/^/  $1: /"
	diff "$CP_WORK/logs/origin.bt" "$2.bt" >"$2.diff" || cp_fail "$1: bt differs (< origin)" "$2.diff"
	diff "$CP_WORK/logs/origin.args" "$2.args" >"$2.diff" ||
		cp_fail "$1: info args differs (< origin)" "$2.diff"
}

cp_check "run-gdb.sh: the origin's bt and arguments, through this machine's printers"
cp_gdb "$CP_WORK/logs/gdb.out" "${cmds[@]}"
same run-gdb.sh "$CP_WORK/logs/gdb.out"
cp_gdb_section "$CP_WORK/logs/gdb.out" 4 >"$CP_WORK/logs/gdb.pp"
grep -A3 '^global pretty-printers:' "$CP_WORK/logs/gdb.pp" | grep -q '^  libstdc++-v6$' ||
	cp_fail "no global libstdc++-v6 printers" "$CP_WORK/logs/gdb.pp"
if grep -q '^objfile ' "$CP_WORK/logs/gdb.pp"; then
	cp_fail "printers of an objfile were loaded without --trust" "$CP_WORK/logs/gdb.pp"
fi

cp_check "corepack.gdb from the bundle's directory registers them too"
cp_gdb_mark "${cmds[@]}"
(cd "$CP_BUNDLE_DIR" && cp_hidden gdb -nx -x corepack.gdb "${CP_GDB_ARGS[@]}") </dev/null \
	>"$CP_WORK/logs/gdbx.out" 2>&1 || cp_fail "gdb -x corepack.gdb failed" "$CP_WORK/logs/gdbx.out"
same corepack.gdb "$CP_WORK/logs/gdbx.out"

if [[ $CP_HIDE_NS == 1 ]]; then
	CP_HIDE+=("$(dirname "$host_printers")")
	cp_log "also hiding ${CP_HIDE[*]: -1}: this machine's printers"
	cp_check "this machine's printers hidden, without --trust: raw values (nothing from the bundle runs)"
	cp_gdb "$CP_WORK/logs/raw.out" "${cmds[@]}"
	cp_gdb_section "$CP_WORK/logs/raw.out" 3 >"$CP_WORK/logs/raw.args"
	if grep -q -x 's = "hello"' "$CP_WORK/logs/raw.args"; then
		cp_fail "printers ran without --trust, with this machine's hidden" "$CP_WORK/logs/raw.out"
	fi
	sed 's/^/  raw: /' "$CP_WORK/logs/raw.args" | head -n 3
fi
cp_check "--trust: the bundle's own printers, auto-loaded from the bundle"
CP_BUNDLE_DIR=$CP_UNPACK/t
cp_gdb "$CP_WORK/logs/trust.out" "${cmds[@]}"
same "--trust" "$CP_WORK/logs/trust.out"
cp_gdb_section "$CP_WORK/logs/trust.out" 4 >"$CP_WORK/logs/trust.pp"
grep -A1 "^objfile $CP_BUNDLE_DIR/sysroot/.*libstdc++\.so\.6[.0-9]* pretty-printers:\$" \
	"$CP_WORK/logs/trust.pp" | grep -q '^  libstdc++-v6$' ||
	cp_fail "libstdc++'s printers were not loaded from the bundle" "$CP_WORK/logs/trust.pp"
cp_report
