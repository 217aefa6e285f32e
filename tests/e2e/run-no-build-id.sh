#!/bin/bash
# Objects without a build-id (old toolchains, -Wl,--build-id=none,
# patchelf'ed binaries), as users build them: the trio (app, libcrash,
# a dlopened plugin) linked with --build-id=none, debug info split off
# behind .gnu_debuglink.  With no build-id, what the core holds of each
# object (its dumped ELF headers and other read-only pages) is compared
# with the file:
#  1. the right files: app, libcrash and the plugin are "ok", verified by
#     content; unpacked elsewhere with the originals hidden, gdb shows the
#     frames gdb shows on the origin (function and file:line);
#  2. libcrash replaced, between load and crash, by another build without a
#     build-id: "mismatch" naming it, not packed, --strict fails;
#  3. an app patchelf'ed before it ran is ok; patchelf'ed again after the
#     crash, it is a mismatch;
#  4. a core that holds none of their pages (coredump_filter without the
#     ELF-headers bit): "no-build-id" (libc and the loader, with build-ids,
#     "unverified"), each with a warning, packed unchecked.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need patchelf:patchelf

NOBID=(-Wl,--build-id=none)

# build_nobid DIR [CFLAGS...]: the trio in DIR without build-ids; each
# object's debug file is found through its .gnu_debuglink (in .debug/).
build_nobid() {
	local b=$1
	shift
	mkdir -p "$b/bin/.debug" "$b/lib/.debug" "$b/plugins/.debug"
	gcc "${CP_CFLAGS[@]}" "${NOBID[@]}" "$@" -fPIC -shared -Wl,-soname,libcrash.so.1 \
		-o "$b/lib/libcrash.so.1.0.0" "$CP_PROGS/libcrash.c"
	cp_split_debug "$b/lib/libcrash.so.1.0.0" "$b/lib/.debug/libcrash.so.1.0.0.debug"
	ln -sfn libcrash.so.1.0.0 "$b/lib/libcrash.so.1"
	ln -sfn libcrash.so.1 "$b/lib/libcrash.so"
	gcc "${CP_CFLAGS[@]}" "${NOBID[@]}" "$@" -fPIC -shared -I"$CP_PROGS" \
		-o "$b/plugins/crashplugin-1.0.so" "$CP_PROGS/plugin.c" -L"$b/lib" -lcrash \
		-Wl,-rpath,"$b/lib"
	cp_split_debug "$b/plugins/crashplugin-1.0.so" "$b/plugins/.debug/crashplugin-1.0.so.debug"
	ln -sfn plugins/crashplugin-1.0.so "$b/plugin.so"
	gcc "${CP_CFLAGS[@]}" "${NOBID[@]}" "$@" -I"$CP_PROGS" -o "$b/bin/app" "$CP_PROGS/app.c" \
		-L"$b/lib" -lcrash -Wl,-rpath,"$b/lib" -ldl
	cp_split_debug "$b/bin/app" "$b/bin/.debug/app.debug"
	local f
	for f in "$b/bin/app" "$b/lib/libcrash.so.1.0.0" "$b/plugins/crashplugin-1.0.so"; do
		[[ -z $(cp_build_id "$f") ]] || cp_fail "$f was linked with a build-id"
	done
}

# status_of NAME-SUFFIX: st, how and bp: the status, verified_by and
# bundle_path of the manifest object (CP_OBJ).
status_of() {
	cp_manifest_object "$1"
	read -r st how bp < <(cp_manifest ".objects[$CP_OBJ] | \"\(.status) \(.verified_by) \(.bundle_path)\"")
}

# --- 2. a library replaced between load and crash -----------------------
build_nobid "$CP_WORK/b2"
cp_start_waiting "$CP_WORK/run2" "$CP_WORK/b2/bin/app" "$CP_WORK/b2/plugin.so" wait
build_nobid "$CP_WORK/rebuild" -DLIBCRASH_VARIANT=2
mv -f "$CP_WORK/rebuild/lib/libcrash.so.1.0.0" "$CP_WORK/b2/lib/libcrash.so.1.0.0"
cp_release_crash
core2=$CP_CORE
cp_pack "$core2" "$CP_WORK/replaced.tar.zst"
cp_check "replaced libcrash: a mismatch warning on stderr naming it"
grep 'mismatch' "$CP_PACK_ERR" | grep -q "b2/lib/libcrash\.so\.1\.0\.0.*differs from the file" ||
	cp_fail "no mismatch warning for libcrash" "$CP_PACK_ERR"
cp_extract "$CP_BUNDLE_FILE"
status_of /b2/lib/libcrash.so.1.0.0
[[ $st == mismatch && $bp == null ]] ||
	cp_fail "replaced libcrash: status '$st', bundle_path '$bp'; expected mismatch, not packed" \
		"$CP_BUNDLE_DIR/manifest.json"
for name in /b2/bin/app /b2/plugins/crashplugin-1.0.so; do
	status_of "$name"
	[[ $st == ok && $how == content ]] ||
		cp_fail "$name: status '$st' verified by '$how', expected ok by content" "$CP_BUNDLE_DIR/manifest.json"
done
mkdir -p "$CP_WORK/strict"
CP_EXPECT_WARNINGS=1 cp_expect_fail 1 'libcrash\.so' "$COREPACK" --strict \
	-o "$CP_WORK/strict/strict.tar.zst" "$core2"

# --- 3. patchelf before the run, and again after the crash ---------------
build_nobid "$CP_WORK/b3"
patchelf --set-rpath "$CP_WORK/b3/lib:/opt/corepack-test/lib" "$CP_WORK/b3/bin/app"
cp_crash "$CP_WORK/crash3" "$CP_WORK/b3/bin/app" "$CP_WORK/b3/plugin.so"
core3=$CP_CORE
cp_pack "$core3" "$CP_WORK/patched.tar.zst"
cp_extract "$CP_BUNDLE_FILE"
status_of /b3/bin/app
[[ $st == ok && $how == content ]] ||
	cp_fail "app patchelf'ed before it ran: status '$st' by '$how', expected ok by content" \
		"$CP_BUNDLE_DIR/manifest.json"
patchelf --set-rpath "/opt/corepack-test/a/much/longer/run/path/than/before:$CP_WORK/b3/lib" \
	"$CP_WORK/b3/bin/app"
cp_pack "$core3" "$CP_WORK/repatched.tar.zst"
cp_check "app patchelf'ed after the crash: a mismatch naming it"
grep 'mismatch' "$CP_PACK_ERR" | grep -q "b3/bin/app" ||
	cp_fail "no mismatch warning for the patchelf'ed app" "$CP_PACK_ERR"
cp_extract "$CP_BUNDLE_FILE"
status_of /b3/bin/app
[[ $st == mismatch && $bp == null ]] ||
	cp_fail "app patchelf'ed after the crash: status '$st', bundle_path '$bp'" "$CP_BUNDLE_DIR/manifest.json"

# --- 4. nothing of them in the core --------------------------------------
build_nobid "$CP_WORK/b1"
cp_crash "$CP_WORK/crash4" bash -c 'echo 0x23 >/proc/self/coredump_filter && exec "$0" "$@"' \
	"$CP_WORK/b1/bin/app" "$CP_WORK/b1/plugin.so"
cp_pack "$CP_CORE" "$CP_WORK/undumped.tar.zst"
cp_extract "$CP_BUNDLE_FILE"
for name in /b1/bin/app /b1/lib/libcrash.so.1.0.0 /b1/plugins/crashplugin-1.0.so; do
	status_of "$name"
	[[ $st == no-build-id && $how == null && $bp != null ]] ||
		cp_fail "$name, none of it dumped: status '$st' by '$how', bundle_path '$bp'; expected no-build-id, packed" \
			"$CP_BUNDLE_DIR/manifest.json"
	grep -q "'[^']*$name': no-build-id: .*none of its pages.*packed unchecked" "$CP_PACK_ERR" ||
		cp_fail "no warning that $name is packed unchecked" "$CP_PACK_ERR"
done
status_of /libc.so.6
[[ $st == unverified ]] || cp_fail "libc, none of it dumped: status '$st', expected unverified" \
	"$CP_BUNDLE_DIR/manifest.json"

# --- 1. the right files, end to end --------------------------------------
cp_crash "$CP_WORK/crash1" "$CP_WORK/b1/bin/app" "$CP_WORK/b1/plugin.so"
CP_SELF_EXE=$CP_WORK/b1/bin/app
cp_origin_gdb "$CP_WORK/logs/origin.out" -ex "file $CP_WORK/b1/bin/app" \
	-ex "core-file $CP_CORE" -ex bt
cp_pack "$CP_CORE" "$CP_WORK/nobid.tar.zst"
cp_check "no warning on stderr: every object verified"
[[ ! -s $CP_PACK_ERR ]] || cp_fail "corepack warned" "$CP_PACK_ERR"
cp_extract "$CP_BUNDLE_FILE"
cp_check_layout "$CP_CORE"
for name in /b1/bin/app /b1/lib/libcrash.so.1.0.0 /b1/plugins/crashplugin-1.0.so; do
	status_of "$name"
	[[ $st == ok && $how == content && $bp != null ]] ||
		cp_fail "$name: status '$st' by '$how', expected ok by content, packed" "$CP_BUNDLE_DIR/manifest.json"
	detail=$(cp_manifest ".objects[$CP_OBJ].detail")
	[[ $detail == *"bytes of it ("*" equal the file" ]] ||
		cp_fail "$name: detail '$detail' does not say what matched" "$CP_BUNDLE_DIR/manifest.json"
	cp_log "$name: $detail"
	dbg=$(cp_manifest ".objects[$CP_OBJ].debug[0].bundle_path // empty")
	[[ -n $dbg && -f $CP_BUNDLE_DIR/$dbg ]] || cp_fail "$name: no debug file packed" "$CP_BUNDLE_DIR/manifest.json"
done
cp_hide_originals "$CP_WORK"
cp_trio_frames
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_check "bt on the bundle: ${CP_FRAMES[*]}, as on the origin"
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_assert_same_frames "$CP_WORK/logs/origin.out" 3 "$CP_WORK/logs/gdb.out" 1
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1:debug plugin.so:debug "$(cp_want_libc)"
cp_report
