#!/bin/bash
# An executable whose path ends in a backslash (issue 19, kind 8).  gdb
# joins a command-file line that ends in '\' with the next one, escaped or
# not, so corepack.gdb's "file sysroot/.../app\\" swallowed the
# "core-file core" after it: `gdb -nx -x corepack.gdb` loaded no core.  A
# real program named "app\" crashes, is packed and unpacked; gdb through
# corepack.gdb (the bundle's own, and the one coreunpack writes) and
# through ./run-gdb.sh shows its frames.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack

CU_SRC=$CP_PROGS/threads.c
dir=$CP_WORK/b
mkdir -p "$dir"
exe="$dir/threads\\"
gcc "${CP_CFLAGS[@]}" -pthread -o "$exe" "$CU_SRC"
cp_crash "$CP_WORK/crash" "$exe"
cp_pack "$CP_CORE" "$CP_WORK/backslash.tar.zst"
got=$(tar -xOf "$CP_BUNDLE_FILE" --wildcards '*/manifest.json' 2>/dev/null | jq -r .gdb.executable)
[[ $got == "$exe" ]] || cp_fail "the manifest's executable is '$got', expected '$exe'"

# gdb_x DIR LOG: gdb -nx -batch -x corepack.gdb in DIR shows the crash.
gdb_x() {
	cp_gdb_mark -ex bt
	(cd "$1" && gdb -nx -batch -x corepack.gdb "${CP_GDB_ARGS[@]}") </dev/null >"$2" 2>&1 ||
		cp_fail "gdb -nx -x corepack.gdb failed in $1" "$2" "$1/corepack.gdb"
	cp_assert_frames "$2" "crash_gamma threads.c:$(cp_line "$CU_SRC" crash_gamma)" \
		"work_gamma threads.c:$(cp_line "$CU_SRC" work_gamma)"
}

cp_check "the bundle's own corepack.gdb loads the executable and the core"
cp_extract "$CP_BUNDLE_FILE"
gdb_x "$CP_BUNDLE_DIR" "$CP_WORK/logs/gdb-bundle.out"

cp_check "coreunpack's corepack.gdb and run-gdb.sh do too"
cu_unpack "$CP_UNPACK/u" "$CP_BUNDLE_FILE"
cu_check_unpacked "$CP_UNPACK/u"
gdb_x "$CP_UNPACK/u" "$CP_WORK/logs/gdb-unpacked.out"
cu_run_gdb "$CP_WORK/logs/gdb-run.out" "$CP_UNPACK/u"
cp_finish
