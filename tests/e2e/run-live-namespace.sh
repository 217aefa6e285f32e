#!/bin/bash
# A live process in a private mount namespace whose program, library,
# symlinks and debug file exist only there (a tmpfs mounted in that
# namespace; the copies outside are deleted).  corepack --pid from outside,
# with no --sysroot, packs them all: the objects through /proc/PID/map_files,
# the SONAME symlink and the library's .gnu_debuglink file through the
# process's own root, /proc/PID/root.  gdb on the bundle shows every
# thread's frames.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/live-lib.sh"
cp_init
[[ $CP_SELFCHECK == 1 ]] && cp_skip "nothing to check without corepack: --pid writes the core itself"
[[ $(id -u) == 0 ]] || cp_skip "needs root: a private mount namespace (unshare -m) holding the program's files"
cp_need unshare:util-linux
unshare -m -- true 2>/dev/null || cp_skip "unshare -m fails here"

cp_build_live
cp -a "$CP_WORK/b" "$CP_WORK/stage"
cp_start_waiting "$CP_WORK/run" unshare -m --propagation private -- sh -c \
	'mount -t tmpfs -o mode=755 cp-live "$1" && cp -a "$2"/. "$1"/ && exec "$3"' \
	sh "$CP_WORK/b" "$CP_WORK/stage" "$CP_LIVE_APP"
pid=$CP_WAIT_PID
# The contents only: removing the directory itself would unmount the tmpfs
# on it in the other namespace (the kernel detaches mounts on a dentry
# deleted in any namespace).
find "$CP_WORK/b" -mindepth 1 -delete
rm -rf "$CP_WORK/stage"
cp_check "the program's files exist only in the process's namespace"
[[ ! -e $CP_LIVE_APP && -f /proc/$pid/root$CP_LIVE_APP && -L /proc/$pid/root$CP_LIB_SONAME ]] ||
	cp_fail "the files are not where the test put them"

CP_PACK_OUT=$CP_WORK/logs/pack.out
CP_PACK_ERR=$CP_WORK/logs/pack.err
st=0
cp_log "running: corepack --pid $pid --debug-dir $CP_DEBUGROOT -o $CP_WORK/ns.tar.zst"
"$COREPACK" --pid "$pid" --debug-dir "$CP_DEBUGROOT" -o "$CP_WORK/ns.tar.zst" >"$CP_PACK_OUT" 2>"$CP_PACK_ERR" || st=$?
((st == 0)) || cp_fail "corepack --pid exited $st" "$CP_PACK_OUT" "$CP_PACK_ERR"
sed "s/^/  corepack stderr: /" "$CP_PACK_ERR"
CP_BUNDLE_FILE=$CP_WORK/ns.tar.zst
CP_BUNDLE_SIZE=$(stat -c %s "$CP_BUNDLE_FILE")
cp_check "no warning: nothing missing"
if grep -E 'warning|missing|mismatch' "$CP_PACK_ERR"; then
	cp_fail "corepack warned" "$CP_PACK_ERR"
fi
cp_extract "$CP_BUNDLE_FILE"
for name in /liveapp /libcrash.so.1.0.0; do
	cp_check "'$name': ok, read through map_files"
	cp_manifest_object "$name"
	[[ $(cp_manifest ".objects[$CP_OBJ].status") == ok ]] || cp_fail "'$name' is not ok" "$CP_BUNDLE_DIR/manifest.json"
	[[ $(cp_manifest ".objects[$CP_OBJ].file") == /proc/$pid/map_files/* ]] ||
		cp_fail "'$name' was not read through map_files" "$CP_BUNDLE_DIR/manifest.json"
done
cp_check "libcrash's debug file (only in the namespace) is in the bundle"
id=$(cp_bundle_object_id /libcrash.so.1.0.0)
[[ -f $CP_BUNDLE_DIR/debug/.build-id/${id:0:2}/${id:2}.debug ]] ||
	cp_fail "no debug file for libcrash in the bundle" "$CP_WORK/logs/tar-list"
cp_check "the SONAME symlink (only in the namespace) is in the bundle"
[[ -L $CP_BUNDLE_DIR/sysroot$CP_LIB_SONAME ]] || cp_fail "no symlink sysroot$CP_LIB_SONAME" "$CP_WORK/logs/tar-list"

printf 'go\n' >&"$CP_GO_FD"
wait "$pid" 2>/dev/null || true
exec {CP_GO_FD}>&- {CP_READY_FD}>&-
cp_hide_originals "$CP_WORK"
cp_assert_live_threads
cp_report
