#!/bin/bash
# A program started through the dynamic loader, as wrappers and patched
# toolchains do: `/lib64/ld-linux-x86-64.so.2 ./app PLUGIN` (the loader
# named by the app's own PT_INTERP).  The kernel records the loader as the
# executable (AT_PHDR, AT_ENTRY, AT_EXECFN, NT_FILE's first mapping);
# the app is the loader's first link_map entry, and r_debug is reachable
# only through the loader's _r_debug (the loader has no DT_DEBUG).
#
# corepack must record the app as the executable and the loader as its
# interpreter, pack every library, and make run-gdb.sh (and corepack.gdb)
# load the loader with the app's symbols at its load bias.  The reference
# is gdb on the origin given the same: `gdb -ex 'file app'` alone shows
# '??' there (gdb relocates a PIE by AT_ENTRY, which is the loader's, and
# finds no libraries), so the origin's gdb gets the loader as its file and
# the app by add-symbol-file at the bias read from NT_FILE by this test.
# Unpacked by coreunpack elsewhere, with the originals hidden, gdb must
# show the same frames (function, file:line) and read libc, the loader,
# libcrash and the plugin from the bundle.  The same core without its
# NT_FILE note (kinds 4 and 6 together: the main map has no name; the
# program is found at its l_addr and named by the command line) must give
# the same bundle's worth.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
cp_need eu-readelf:elfutils python3:python3

cp_build_trio
interp=$(readelf -lW "$CP_APP" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[[ -x $interp ]] || cp_fail "the app's PT_INTERP '$interp' is not an executable file"
cp_crash "$CP_WORK/b/bin" "$interp" ./app "$CP_PLUGIN_LINK"
core=$CP_CORE

# The app's load bias, from the core's NT_FILE: where offset 0 of the app
# is mapped (the app is a PIE linked at 0).
bias=$(eu-readelf -n "$core" | awk -v app="$CP_APP" '!done && $NF == app && $2 == "00000000" {
	split($1, r, "-"); print "0x" r[1]; done = 1 }')
[[ $bias =~ ^0x[0-9a-f]+$ ]] || cp_fail "no mapping of $CP_APP at offset 0 in the core's NT_FILE"
cp_log "the kernel ran $interp; the app is mapped at $bias"

cp_check "gdb on the origin: the loader as the file, the app at $bias"
cp_origin_gdb "$CP_WORK/logs/origin.out" -ex "file $interp" \
	-ex "add-symbol-file $CP_APP -o $bias" -ex "core-file $core" -ex bt -ex 'info sharedlibrary'
cp_origin_gdb "$CP_WORK/logs/origin-file-app.out" -ex "file $CP_APP" -ex "core-file $core" -ex bt
cp_log "for the record, gdb on the origin with only 'file app': $(cp_gdb_section \
	"$CP_WORK/logs/origin-file-app.out" 3 | grep -c '?? ()' || true) '??' frames"

cp_pack "$core" "$CP_WORK/loader.tar.zst" --debug-dir "$CP_DEBUGROOT"
cp_check "stderr says the process was started through the loader, naming the app"
grep -q "started through the dynamic loader.*the program is '$CP_APP'" "$CP_PACK_ERR" ||
	cp_fail "no warning naming the program started through the loader" "$CP_PACK_ERR"
cp_extract "$CP_BUNDLE_FILE"
cp_check_layout "$core"
cp_check "manifest: the app is the executable, the loader its interpreter, program_offset $bias"
cp_manifest_object /bin/app
[[ $(cp_manifest ".objects[$CP_OBJ].role") == executable ]] ||
	cp_fail "the app's role is not executable" "$CP_BUNDLE_DIR/manifest.json"
cp_manifest_object "/$(basename "$interp")"
[[ $(cp_manifest ".objects[$CP_OBJ].role") == interpreter ]] ||
	cp_fail "the loader's role is not interpreter" "$CP_BUNDLE_DIR/manifest.json"
[[ $(cp_manifest '.core.executable') == "$CP_APP" ]] ||
	cp_fail "core.executable is not the app" "$CP_BUNDLE_DIR/manifest.json"
[[ $(cp_manifest '.gdb.program_offset') == "$bias" ]] ||
	cp_fail "gdb.program_offset is not $bias" "$CP_BUNDLE_DIR/manifest.json"
for f in "$CP_APP" "$CP_LIB" "$CP_PLUGIN"; do
	cp_check_object "/$(basename "$f")" "$f"
done
[[ $(cp_manifest '.core.link_map_entries') -ge 5 ]] ||
	cp_fail "fewer than 5 link_map entries read" "$CP_BUNDLE_DIR/manifest.json"

cp_check "without NT_FILE: the program from the command line, the same offset"
cp_drop_nt_file "$core" "$core.no-nt-file"
main_bundle=$CP_BUNDLE_FILE
cp_pack "$core.no-nt-file" "$CP_WORK/loader-no-nt-file.tar.zst" --debug-dir "$CP_DEBUGROOT"
grep -q "started through the dynamic loader.*the program is '$CP_APP'" "$CP_PACK_ERR" ||
	cp_fail "no warning naming the program started through the loader" "$CP_PACK_ERR"
grep -q "no NT_FILE note.*the executable from the command line in NT_PRPSINFO (after the loader), relative to the core's directory" \
	"$CP_PACK_ERR" || cp_fail "the NT_FILE warning does not say where the program came from" "$CP_PACK_ERR"
cp_extract "$CP_BUNDLE_FILE"
nofile_dir=$CP_BUNDLE_DIR
[[ $(cp_manifest '.core.executable') == "$CP_APP" && $(cp_manifest '.gdb.program_offset') == "$bias" ]] ||
	cp_fail "without NT_FILE: core.executable or gdb.program_offset wrong" "$CP_BUNDLE_DIR/manifest.json"
cp_check_object /bin/app "$CP_APP"
CP_BUNDLE_FILE=$main_bundle

cu_unpack "$CP_UNPACK/new" "$CP_BUNDLE_FILE"
cu_check_unpacked "$CP_UNPACK/new"
mv "$CP_UNPACK/new" "$CP_UNPACK/moved dir"
CP_BUNDLE_DIR="$CP_UNPACK/moved dir"
cp_hide_originals "$CP_WORK"

cp_trio_frames
cp_check "run-gdb.sh (coreunpack's, moved to a directory with a space): ${CP_FRAMES[*]}"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_assert_same_frames "$CP_WORK/logs/origin.out" 4 "$CP_WORK/logs/gdb.out" 1
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1:debug plugin.so:debug \
	"$(cp_want_libc)" "$(basename "$interp")"

cp_check "corepack.gdb, from the bundle's directory: the same frames"
cp_gdb_mark -ex bt
(cd "$CP_BUNDLE_DIR" && cp_hidden gdb -nx -batch -x corepack.gdb "${CP_GDB_ARGS[@]}") \
	</dev/null >"$CP_WORK/logs/gdb-x.out" 2>&1 || cp_fail "gdb -x corepack.gdb failed" "$CP_WORK/logs/gdb-x.out"
cp_assert_same_frames "$CP_WORK/logs/origin.out" 4 "$CP_WORK/logs/gdb-x.out" 1

cp_check "the bundle of the core without NT_FILE: the same frames, every library"
CP_BUNDLE_DIR=$nofile_dir
cp_gdb "$CP_WORK/logs/gdb-nofile.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_same_frames "$CP_WORK/logs/origin.out" 4 "$CP_WORK/logs/gdb-nofile.out" 1
cp_assert_sharedlibs "$CP_WORK/logs/gdb-nofile.out" libcrash.so.1:debug plugin.so:debug \
	"$(cp_want_libc)" "$(basename "$interp")"
CP_BUNDLE_DIR="$CP_UNPACK/moved dir"
cp_report
