#!/bin/bash
# Split DWARF, .dwo files: an app, its shared library and a plugin it
# dlopens, built with -gsplit-dwarf (DWARF 5) in a build tree the way make
# and cmake build (objects hold skeleton units naming obj/NAME.dwo relative
# to the build tree), crash in the library.  corepack finds each .dwo at
# DW_AT_comp_dir/DW_AT_dwo_name, checks its DWO id, packs it and links it
# where gdb looks; coreunpack unpacks elsewhere; with the build tree and
# /usr/lib/debug hidden, gdb on the bundle shows the same frames (function,
# file:line) as gdb on the origin, and the locals that only the .dwo holds,
# and reads every library from the bundle.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/split-lib.sh"
cp_init
cu_need_unpack
cp_need eu-readelf:elfutils
[[ $CP_SELFCHECK != 1 ]] || cp_skip "compares the bundle with the origin: nothing to do in SELFCHECK mode"

sd_build
cp_trio_frames
cp_crash "$CP_WORK/crash" "$SD_APP" "$SD_PLUGIN"
sd_origin_gdb "$CP_WORK/logs/origin.out"
bt_gdb "$CP_WORK/logs/origin-args.out" "$SD_APP" "$CP_CORE" -ex 'frame function crash_store' \
	-ex 'info args'
cp_gdb_section "$CP_WORK/logs/origin-args.out" 2 >"$CP_WORK/logs/origin-args"
grep -q '^value = 42$' "$CP_WORK/logs/origin-args" ||
	cp_fail "gdb on the origin shows no 'value = 42' in crash_store" "$CP_WORK/logs/origin-args.out"

cp_pack "$CP_CORE" "$CP_WORK/split.tar.zst"
if grep -E 'split DWARF|DWARF package' "$CP_PACK_ERR" >/dev/null; then
	cp_fail "corepack warned about split DWARF, all of it is there" "$CP_PACK_ERR"
fi
cu_unpack "$CP_UNPACK/u" "$CP_BUNDLE_FILE"
cu_check_unpacked "$CP_UNPACK/u"
CP_BUNDLE_DIR=$CP_UNPACK/u
sd_check_dwo /bin/app "$SD_APP" "$SD_BUILD/obj/app.dwo"
sd_check_dwo /libcrash.so.1.0.0 "$SD_LIB" "$SD_BUILD/obj/libcrash.dwo"
sd_check_dwo /plugin.so "$SD_PLUGIN" "$SD_BUILD/obj/plugin.dwo"
cp_check "the bundle's symlinks stay inside it"
cp_check_symlinks "$CP_BUNDLE_DIR"
cp_check "coreunpack lists each object's .dwo"
for obj in "$SD_APP" "$SD_LIB" "$SD_PLUGIN"; do
	id=$(sd_dwo_id "$obj")
	grep -q -E "^    dwo   debug/\.dwo/$id\.dwo \([0-9.]+ [KM]?i?B, found by dwo-comp-dir\)\$" "$CU_OUT" ||
		cp_fail "no 'dwo' line for $(basename "$obj") ($id)" "$CU_OUT"
done

cp_hide_originals "$CP_WORK"
cp_check "bt on the bundle, the build tree hidden"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
if grep -q 'Could not find DWO' "$CP_WORK/logs/gdb.out"; then
	cp_fail "gdb did not find a .dwo" "$CP_WORK/logs/gdb.out"
fi
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
sd_same_frames "$CP_WORK/logs/origin.out" "$CP_WORK/logs/gdb.out"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1:debug plugin.so:debug "$(cp_want_libc)"

cp_check "crash_store's arguments, which only its .dwo describes, are the origin's"
cp_gdb "$CP_WORK/logs/args.out" -batch -ex 'frame function crash_store' -ex 'info args'
cp_gdb_section "$CP_WORK/logs/args.out" 2 >"$CP_WORK/logs/args"
diff "$CP_WORK/logs/origin-args" "$CP_WORK/logs/args" >"$CP_WORK/logs/args.diff" ||
	cp_fail "info args differs (< origin, > bundle)" "$CP_WORK/logs/args.diff"

cp_check "the same from the bundle's directory with corepack.gdb"
(cd "$CP_BUNDLE_DIR" && cp_hidden gdb -nx -batch -x corepack.gdb -ex 'echo \n@@cp-ex 1@@\n' \
	-ex bt -ex 'echo @@cp-end@@\n') </dev/null >"$CP_WORK/logs/gdbx.out" 2>&1 ||
	cp_fail "gdb -x corepack.gdb failed" "$CP_WORK/logs/gdbx.out"
sd_same_frames "$CP_WORK/logs/origin.out" "$CP_WORK/logs/gdbx.out"
cp_report
