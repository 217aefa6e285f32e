#!/bin/bash
# --sysroot: the crashed program's files are not at their paths on this
# machine but under a directory (a container's root, a mounted image).  The
# app, libcrash and plugin are moved under ROOT after the crash, with
# absolute symlinks as the container sees them (libcrash.so.1 ->
# /.../libcrash.so.1.0.0, usr/lib64/ld-linux-x86-64.so.2 -> /lib/...) and
# the debug files in ROOT/usr/lib/debug/.build-id.  corepack --sysroot ROOT
# must pack them under their origin paths, resolving the absolute links
# inside ROOT, and gdb on the bundle must show every frame.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
[[ $(uname -m) == x86_64 ]] || cp_skip "x86_64 paths are used; this is $(uname -m)"

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
CP_SELF_EXE=$CP_APP
if [[ $CP_SELFCHECK == 1 ]]; then
	cp_log "PASS (selfcheck: nothing to check without corepack)"
	exit 0
fi

# The container's root: the host's libc and loader, and our tree moved in.
root=$CP_WORK/root
multi=usr/lib/x86_64-linux-gnu
mkdir -p "$root/$multi" "$root/usr/lib64" "$root/usr/lib/debug/.build-id"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
for f in libc.so.6 ld-linux-x86-64.so.2 libthread_db.so.1; do
	[[ -e /$multi/$f ]] && cp "$(readlink -f "/$multi/$f")" "$root/$multi/$f"
done
ln -s "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" "$root/usr/lib64/ld-linux-x86-64.so.2"
mkdir -p "$root$CP_WORK"
mv "$CP_WORK/b" "$root$CP_WORK/b"
ln -sfn "$CP_LIB" "$root$CP_LIB_SONAME" # absolute, as the container sees it
mv "$CP_DEBUGROOT/.build-id/"* "$root/usr/lib/debug/.build-id/"
libc_dbg=$(cp_host_debug_file /lib/x86_64-linux-gnu/libc.so.6)
if [[ -n $libc_dbg ]]; then
	mkdir -p "$root/usr/lib/debug/.build-id/$(basename "$(dirname "$libc_dbg")")"
	cp "$libc_dbg" "$root/usr/lib/debug/.build-id/$(basename "$(dirname "$libc_dbg")")/"
fi
[[ ! -e $CP_APP ]] || cp_fail "the app is still at its origin path"

cp_pack "$CP_CORE" "$CP_WORK/container.tar.zst" --sysroot "$root"
cp_extract "$CP_BUNDLE_FILE"
cp_check_layout "$CP_CORE"
cp_check_object /bin/app "$root$CP_APP"
cp_check_object /libcrash.so.1.0.0 "$root$CP_LIB"
cp_check_object /crashplugin-1.0.so "$root$CP_PLUGIN"
cp_check "objects are packed under their origin paths, not under the sysroot's"
for f in "$CP_APP" "$CP_LIB"; do
	[[ -f $CP_BUNDLE_DIR/sysroot$f ]] || cp_fail "no sysroot$f in the bundle" "$CP_WORK/logs/tar-list"
done
if grep -F -e "${root#/}/" "$CP_WORK/logs/tar-list" >"$CP_WORK/logs/rooted"; then
	cp_fail "bundle entries carry the --sysroot directory in their names" "$CP_WORK/logs/rooted"
fi
cp_check "sysroot$CP_LIB_SONAME and sysroot/lib64/ld-linux-x86-64.so.2 resolve inside the bundle"
for f in "$CP_LIB_SONAME" /lib64/ld-linux-x86-64.so.2; do
	r=$(readlink -f "$CP_BUNDLE_DIR/sysroot$f" || true)
	[[ $r == "$(readlink -f "$CP_BUNDLE_DIR")"/* && -f $r ]] ||
		cp_fail "sysroot$f resolves to '$r', not a file inside the bundle" "$CP_WORK/logs/tar-list"
done
cp_hide_originals "$CP_WORK"

cp_check "bt shows ${CP_FRAMES[*]}"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
wanted=(libcrash.so.1:debug plugin.so:debug "$(cp_want_libc)" ld-linux-x86-64.so.2)
cp_check "info sharedlibrary: ${wanted[*]}, all read, all from the bundle"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" "${wanted[@]}"
cp_report
