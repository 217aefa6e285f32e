#!/bin/bash
# corepack --pid on a live process of three threads whose libcrash was
# replaced on disk (renamed over, as an upgrade does) after it was loaded.
# The process keeps running (and crashes on cue afterwards).  As root the
# bundle holds the library that was mapped, read through
# /proc/PID/map_files: the old build-id, status ok.  As another user, who
# may not open map_files, corepack says it read the files by path under
# /proc/PID/root, and the replaced library is a mismatch.  Either way gdb
# on the bundle, the originals hidden, shows every thread's frames.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/live-lib.sh"
cp_init
[[ $CP_SELFCHECK == 1 ]] && cp_skip "nothing to check without corepack: --pid writes the core itself"

cp_build_live
cp_start_waiting "$CP_WORK/run" "$CP_LIVE_APP"
pid=$CP_WAIT_PID
root=0
[[ $(id -u) == 0 ]] && root=1
((root)) && cp_replace_lib

# live_pack BUNDLE: corepack --pid; skips when gdb may not attach here.
live_pack() {
	local st=0
	CP_PACK_OUT=$CP_WORK/logs/pack.out
	CP_PACK_ERR=$CP_WORK/logs/pack.err
	cp_log "running: corepack --pid $pid --debug-dir $CP_DEBUGROOT -o $1"
	"$COREPACK" --pid "$pid" --debug-dir "$CP_DEBUGROOT" -o "$1" >"$CP_PACK_OUT" 2>"$CP_PACK_ERR" || st=$?
	if ((st != 0)) && grep -q 'ptrace: Operation not permitted' "$CP_PACK_ERR"; then
		cp_kill_waiting
		cp_skip "gdb cannot attach here (ptrace: Operation not permitted; see /proc/sys/kernel/yama/ptrace_scope)"
	fi
	((st == 0)) || cp_fail "corepack --pid exited $st" "$CP_PACK_OUT" "$CP_PACK_ERR"
	sed "s/^/  corepack stderr: /" "$CP_PACK_ERR"
	CP_BUNDLE_FILE=$1
	CP_BUNDLE_SIZE=$(stat -c %s "$1")
	cp_check "the process still runs, not stopped"
	st=$(cp_proc_state "$pid")
	[[ $st == S || $st == R ]] || cp_fail "process $pid is in state '$st' after corepack --pid"
	grep -q "process $pid ('liveapp'): core written by gdb's gcore" "$CP_PACK_ERR" ||
		cp_fail "stderr does not say gcore wrote the core" "$CP_PACK_ERR"
}

live_pack "$CP_WORK/live.tar.zst"
cp_extract "$CP_BUNDLE_FILE"
cp_check "the bundle's core is a core, with 3 threads"
readelf -h "$CP_BUNDLE_DIR/core" | grep -q 'Type: *CORE' || cp_fail "the bundle's core is not an ELF core"
n=$(readelf -nW "$CP_BUNDLE_DIR/core" | grep -c 'NT_PRSTATUS' || true)
[[ $n == 3 ]] || cp_fail "the core has $n NT_PRSTATUS notes, expected 3"
if ((root)); then
	cp_check "stderr: every object read through /proc/$pid/map_files"
	grep -q "objects read through '/proc/$pid/map_files' (the very files mapped)" "$CP_PACK_ERR" ||
		cp_fail "stderr does not say the objects came through map_files" "$CP_PACK_ERR"
	cp_check "libcrash: status ok, the mapped (old) build-id $CP_OLD_ID, in the manifest and the bundle"
	cp_manifest_object /libcrash.so.1.0.0
	st=$(cp_manifest ".objects[$CP_OBJ].status")
	[[ $st == ok ]] || cp_fail "libcrash's status is '$st', expected ok" "$CP_BUNDLE_DIR/manifest.json"
	got=$(cp_bundle_object_id /libcrash.so.1.0.0)
	[[ $got == "$CP_OLD_ID" ]] || cp_fail "the bundle's libcrash has build-id '$got', expected the mapped $CP_OLD_ID (on disk now: $CP_NEW_ID)"
	for name in /liveapp /libcrash.so.1.0.0; do
		cp_manifest_object "$name"
		f=$(cp_manifest ".objects[$CP_OBJ].file")
		[[ $f == /proc/$pid/map_files/* ]] || cp_fail "'$name' was read from '$f', not map_files" "$CP_BUNDLE_DIR/manifest.json"
	done
else
	cp_check "stderr: map_files refused (not root), the files read under /proc/$pid/root"
	grep -q "by their paths under '/proc/$pid/root' (map_files needs CAP_SYS_ADMIN" "$CP_PACK_ERR" ||
		cp_fail "stderr does not say which way the files were read" "$CP_PACK_ERR"
	cp_manifest_object /libcrash.so.1.0.0
	[[ $(cp_manifest ".objects[$CP_OBJ].status") == ok ]] || cp_fail "libcrash is not ok" "$CP_BUNDLE_DIR/manifest.json"
	# Now an upgrade: by path, the replaced library is a mismatch.
	first_dir=$CP_BUNDLE_DIR
	cp_replace_lib
	live_pack "$CP_WORK/live2.tar.zst"
	cp_check "after the replacement, libcrash is a mismatch named on stderr"
	grep -i 'mismatch' "$CP_PACK_ERR" | grep -q 'libcrash\.so' ||
		cp_fail "no mismatch warning naming libcrash" "$CP_PACK_ERR"
	CP_BUNDLE_DIR=$first_dir
fi
cp_check "libcrash's debug file is in the bundle"
cp_manifest_object /libcrash.so.1.0.0
[[ $(cp_manifest ".objects[$CP_OBJ].debug | if type == \"array\" then length else (if . then 1 else 0 end) end") -gt 0 ]] ||
	cp_fail "no debug file for libcrash" "$CP_BUNDLE_DIR/manifest.json"

cp_check "the process runs on: released, it crashes as it was told to"
printf 'go\n' >&"$CP_GO_FD"
st=0
wait "$pid" 2>/dev/null || st=$?
exec {CP_GO_FD}>&- {CP_READY_FD}>&-
((st == 128 + 11)) || cp_fail "released after corepack --pid, liveapp exited $st, expected 139 (SIGSEGV)"

cp_hide_originals "$CP_WORK"
cp_assert_live_threads
cp_report
