#!/bin/bash
# A bundle whose own run-gdb.sh and corepack.gdb carry a payload (correctly
# listed in its manifest, so every digest checks out).  coreunpack writes
# its own scripts over them; neither unpacking nor ./run-gdb.sh nor
# `gdb -nx -x corepack.gdb` runs the payload, and gdb still works.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
cu_threads_bundle

export M=$CP_WORK/PWNED CP_BUNDLE_FILE
cu_craft "$CP_WORK/payload.tar.zst" <<'PY'
b = Bundle.load(os.environ['CP_BUNDLE_FILE'])
m = os.environ['M']
b.replace('run-gdb.sh', ('#!/bin/sh\ntouch %s-run-gdb.sh\nexec gdb "$@"\n' % m).encode())
b.replace('corepack.gdb', ('shell touch %s-corepack.gdb\npython open("%s-python", "w")\n'
                           'set sysroot sysroot\nfile sysroot%s\ncore-file core\n'
                           % (m, m, b.manifest['gdb']['executable'])).encode())
b.write(out)
PY

# The payload is live: the bundle's scripts do run it when used directly.
mkdir -p "$CP_WORK/raw" && tar -C "$CP_WORK/raw" -xf "$CP_WORK/payload.tar.zst"
(cd "$CP_WORK/raw"/* && ./run-gdb.sh -batch -nx -ex quit) >/dev/null 2>&1 || true
[[ -e $M-run-gdb.sh ]] || cp_fail "control: the payload in the crafted run-gdb.sh does not run"
rm -f "$M"-*

cu_unpack "$CP_UNPACK/u" "$CP_WORK/payload.tar.zst"
cu_expect_no_marker "after unpacking"
cu_check_unpacked "$CP_UNPACK/u"
cp_check "the bundle's scripts were replaced"
if grep -l PWNED "$CP_UNPACK/u/run-gdb.sh" "$CP_UNPACK/u/corepack.gdb"; then
	cp_fail "a payload is still in the unpacked scripts" "$CP_UNPACK/u/run-gdb.sh" "$CP_UNPACK/u/corepack.gdb"
fi

cu_run_gdb "$CP_WORK/logs/gdb.out" "$CP_UNPACK/u"
cu_expect_no_marker "after ./run-gdb.sh"
cp_gdb_mark -ex bt
(cd "$CP_UNPACK/u" && gdb -nx -batch -x corepack.gdb "${CP_GDB_ARGS[@]}") </dev/null >"$CP_WORK/logs/gdb-x.out" 2>&1 ||
	cp_fail "gdb -nx -x corepack.gdb failed" "$CP_WORK/logs/gdb-x.out"
cp_assert_frames "$CP_WORK/logs/gdb-x.out" "crash_gamma threads.c:$(cp_line "$CU_SRC" crash_gamma)"
cu_expect_no_marker "after gdb -nx -x corepack.gdb"
cp_finish
