#!/bin/bash
# A bundle with gdb auto-load scripts everywhere gdb would look for them:
# OBJFILE-gdb.py beside the executable, libc and the debug files, under the
# debug directory's mirror of the library's path, and a .gdbinit below
# sysroot/ and debug/.  All are listed in the manifest (the bundle is
# accepted), none runs: run-gdb.sh starts gdb with -nx and auto-loading
# off, with and without --trust (which allows libthread_db only).
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
cu_threads_bundle

export M=$CP_WORK/PWNED CP_BUNDLE_FILE
cu_craft "$CP_WORK/payload.tar.zst" <<'PY'
b = Bundle.load(os.environ['CP_BUNDLE_FILE'])
m = os.environ['M']
def payload(tag):
    return ('import os\nopen("%s-%s", "w").write("ran")\n' % (m, tag)).encode()
placed = []
for o in b.manifest['objects']:
    if not o.get('bundle_path'):
        continue
    base = os.path.basename(o['real_path'])
    b.file(o['bundle_path'] + '-gdb.py', payload(base))
    b.file('debug' + o['real_path'] + '-gdb.py', payload('debugdir-' + base))
    for d in o.get('debug', []):
        b.file(d['bundle_path'] + '-gdb.py', payload('debugfile-' + base))
    placed.append(base)
b.file('sysroot/.gdbinit', ('shell touch %s-sysroot-gdbinit\n' % m).encode())
b.file('debug/.gdbinit', ('shell touch %s-debug-gdbinit\n' % m).encode())
print('scripts for', placed)
b.write(out)
PY
sed 's/^/  craft: /' "$CP_WORK/logs/craft.out"

# The payload is live: gdb with auto-loading allowed runs it.
mkdir -p "$CP_WORK/raw" && tar -C "$CP_WORK/raw" -xf "$CP_WORK/payload.tar.zst"
raw=$(echo "$CP_WORK/raw"/*)
exe=$(jq -r .gdb.executable "$raw/manifest.json")
gdb -nx -batch -iex 'set auto-load safe-path /' -iex "set sysroot $raw/sysroot" \
	-iex "set debug-file-directory $raw/debug" -ex "file $raw/sysroot$exe" -ex "core-file $raw/core" \
	</dev/null >"$CP_WORK/logs/control.out" 2>&1 || true
ls "$M"-* >/dev/null 2>&1 || cp_fail "control: gdb with auto-loading did not run the -gdb.py payload" "$CP_WORK/logs/control.out"
cp_log "control: gdb with auto-loading on ran: $(cd "$CP_WORK" && echo PWNED-*)"
rm -f "$M"-*

for mode in plain trust; do
	opt=()
	[[ $mode == trust ]] && opt=(--trust)
	cu_unpack "$CP_UNPACK/$mode" "$CP_WORK/payload.tar.zst" "${opt[@]}"
	cu_expect_no_marker "$mode: after unpacking"
	cp_check "$mode: ./run-gdb.sh -batch runs none of the scripts"
	cu_run_gdb "$CP_WORK/logs/gdb-$mode.out" "$CP_UNPACK/$mode" -ex 'info threads' -ex 'info auto-load'
	cu_expect_no_marker "$mode: after ./run-gdb.sh"
	(cd "$CP_UNPACK/$mode" && ./run-gdb.sh -batch -ex 'info sharedlibrary') </dev/null >"$CP_WORK/logs/gdb-$mode-2.out" 2>&1 ||
		cp_fail "$mode: run-gdb.sh from its own directory failed" "$CP_WORK/logs/gdb-$mode-2.out"
	cu_expect_no_marker "$mode: after ./run-gdb.sh in the bundle's directory"
done
cp_finish
