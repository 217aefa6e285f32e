#!/bin/bash
# .gdbinit payloads.  In the bundle's top directory a .gdbinit is not a
# bundle name: the bundle is refused.  And when one sits beside the
# unpacked tree anyway (plain `tar -x` of such a bundle, the user's own
# ~/.gdbinit), ./run-gdb.sh still runs none: gdb starts with -nx.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
cu_threads_bundle

export M=$CP_WORK/PWNED CP_BUNDLE_FILE
cu_craft "$CP_WORK/gdbinit.tar.zst" <<'PY'
b = Bundle.load(os.environ['CP_BUNDLE_FILE'])
b.file('.gdbinit', ('shell touch %s-top-gdbinit\n' % os.environ['M']).encode())
b.write(out)
PY

cp_check "a bundle with a .gdbinit in its top directory is refused"
mkdir -p "$CP_WORK/box"
cu_run "$CP_WORK/logs/refused" "$CP_WORK/box" -C out "$CP_WORK/gdbinit.tar.zst"
[[ $CU_ST == 1 ]] || cp_fail "exit $CU_ST, expected 1" "$CP_WORK/logs/refused.out" "$CP_WORK/logs/refused.err"
grep -q -x "coreunpack: '$CP_WORK/gdbinit.tar.zst': refused entry '[^']*/.gdbinit': '.gdbinit' is not a bundle name (.*)" \
	"$CP_WORK/logs/refused.err" || cp_fail "wrong message" "$CP_WORK/logs/refused.err"
[[ ! -e $CP_WORK/box/out ]] || cp_fail "out/ left behind"
cu_expect_no_marker "after the refusal"

cp_check "./run-gdb.sh ignores a .gdbinit beside it, in the working directory and in HOME"
cu_unpack "$CP_UNPACK/u" "$CP_BUNDLE_FILE"
mkdir -p "$CP_WORK/home"
for d in "$CP_UNPACK/u" "$CP_WORK/home" "$CP_WORK/scratch"; do
	mkdir -p "$d"
	printf 'shell touch %s-gdbinit\npython open("%s-py", "w")\n' "$M" "$M" >"$d/.gdbinit"
done
# The payload is live: plain gdb reads ~/.gdbinit.
HOME=$CP_WORK/home gdb -batch -ex quit </dev/null >"$CP_WORK/logs/control.out" 2>&1 || true
[[ -e $M-gdbinit ]] || cp_fail "control: gdb without -nx did not run ~/.gdbinit" "$CP_WORK/logs/control.out"
rm -f "$M"-*

HOME=$CP_WORK/home cu_run_gdb "$CP_WORK/logs/gdb.out" "$CP_UNPACK/u"
cu_expect_no_marker "after ./run-gdb.sh from elsewhere"
(cd "$CP_UNPACK/u" && HOME=$CP_WORK/home ./run-gdb.sh -batch -ex bt) </dev/null >"$CP_WORK/logs/gdb-here.out" 2>&1 ||
	cp_fail "./run-gdb.sh in its directory failed" "$CP_WORK/logs/gdb-here.out"
cu_expect_no_marker "after ./run-gdb.sh in its own directory"
cp_finish
