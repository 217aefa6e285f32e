#!/bin/bash
# Split DWARF in DWARF packages: the app, library and plugin built with
# -gsplit-dwarf -gdwarf-4 (GNU DebugFission: DW_AT_GNU_dwo_id), each
# object's .dwo files packed by binutils' dwp into OBJECT.dwp beside it
# (the library's named after the loader's name for it, libcrash.so.1.dwp),
# the .dwo files deleted.  corepack finds each .dwp where gdb does, checks
# that its index lists every skeleton's DWO id and packs it; gdb on the
# bundle, build tree hidden, shows the origin's frames and arguments.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/split-lib.sh"
cp_init
cu_need_unpack
cp_need eu-readelf:elfutils dwp:binutils
[[ $CP_SELFCHECK != 1 ]] || cp_skip "compares the bundle with the origin: nothing to do in SELFCHECK mode"

# binutils' dwp writes DWARF 4 packages only (on DWARF 5 units gdb 13
# reports "bad DWP hash table").
sd_build -gdwarf-4
(
	cd "$SD_BUILD"
	dwp -e bin/app -o bin/app.dwp
	dwp -e lib/libcrash.so.1.0.0 -o lib/libcrash.so.1.dwp
	dwp -e lib/plugin.so -o lib/plugin.so.dwp
	rm obj/*.dwo
) >"$CP_WORK/logs/dwp.out" 2>&1 || cp_fail "dwp failed" "$CP_WORK/logs/dwp.out"

cp_trio_frames
cp_crash "$CP_WORK/crash" "$SD_APP" "$SD_PLUGIN"
sd_origin_gdb "$CP_WORK/logs/origin.out"
bt_gdb "$CP_WORK/logs/origin-args.out" "$SD_APP" "$CP_CORE" -ex 'frame function crash_store' \
	-ex 'info args'
cp_gdb_section "$CP_WORK/logs/origin-args.out" 2 >"$CP_WORK/logs/origin-args"
grep -q '^value = 42$' "$CP_WORK/logs/origin-args" ||
	cp_fail "gdb on the origin shows no 'value = 42' in crash_store" "$CP_WORK/logs/origin-args.out"

cp_pack "$CP_CORE" "$CP_WORK/dwp.tar.zst"
if grep -E 'split DWARF|DWARF package' "$CP_PACK_ERR" >/dev/null; then
	cp_fail "corepack warned about split DWARF, all of it is there" "$CP_PACK_ERR"
fi
cu_unpack "$CP_UNPACK/u" "$CP_BUNDLE_FILE"
CP_BUNDLE_DIR=$CP_UNPACK/u

for spec in "/bin/app:$SD_APP:$SD_BUILD/bin/app.dwp" \
	"/libcrash.so.1.0.0:$SD_BUILD/lib/libcrash.so.1:$SD_BUILD/lib/libcrash.so.1.dwp" \
	"/plugin.so:$SD_PLUGIN:$SD_BUILD/lib/plugin.so.dwp"; do
	IFS=: read -r name obj dwpfile <<<"$spec"
	cp_check "'$name': its .dwp ($(basename "$dwpfile")) is packed and linked as sysroot + its path + .dwp"
	cp_manifest_object "$name"
	real=$(readlink -f "$obj")
	[[ $(cp_manifest ".objects[$CP_OBJ].debug | map(select(.kind == \"dwp\")) | length") == 1 ]] ||
		cp_fail "'$name' has not one dwp entry" "$CP_BUNDLE_DIR/manifest.json"
	bp=$(cp_manifest ".objects[$CP_OBJ].debug[] | select(.kind == \"dwp\") | .bundle_path")
	how=$(cp_manifest ".objects[$CP_OBJ].debug[] | select(.kind == \"dwp\") | .found_by")
	[[ $bp == "debug/.dwp$real.dwp" && $how == dwp ]] ||
		cp_fail "dwp entry of '$name': bundle_path '$bp', found_by '$how'" \
			"$CP_BUNDLE_DIR/manifest.json"
	cmp -s "$dwpfile" "$CP_BUNDLE_DIR/$bp" || cp_fail "$bp is not a copy of $dwpfile"
	# gdb opens a library by the loader's name and looks for NAME.dwp
	# without resolving symlinks: libcrash.so.1.dwp, not .so.1.0.0.dwp.
	for link in "sysroot$real.dwp" ${obj:+"sysroot$obj.dwp"}; do
		cp_manifest --arg l "$link" -e \
			".objects[$CP_OBJ].debug[] | select(.kind == \"dwp\") | .links | index([\$l])" \
			>/dev/null || cp_fail "$bp is not linked as $link" "$CP_BUNDLE_DIR/manifest.json"
	done
	sd_check_links "$CP_OBJ" "$bp"
done
grep -q -E "^    dwp   debug/\.dwp$SD_BUILD/bin/app\.dwp \([0-9.]+ [KM]?i?B, found by dwp\)\$" "$CU_OUT" ||
	cp_fail "coreunpack does not list app.dwp" "$CU_OUT"

cp_hide_originals "$CP_WORK"
cp_check "bt on the bundle, the build tree hidden"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
if grep -q -E 'Could not find DWO|DWP|Dwarf Error' "$CP_WORK/logs/gdb.out"; then
	cp_fail "gdb complains about split DWARF" "$CP_WORK/logs/gdb.out"
fi
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
sd_same_frames "$CP_WORK/logs/origin.out" "$CP_WORK/logs/gdb.out"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1:debug plugin.so:debug "$(cp_want_libc)"

cp_check "crash_store's arguments are the origin's"
cp_gdb "$CP_WORK/logs/args.out" -batch -ex 'frame function crash_store' -ex 'info args'
cp_gdb_section "$CP_WORK/logs/args.out" 2 >"$CP_WORK/logs/args"
diff "$CP_WORK/logs/origin-args" "$CP_WORK/logs/args" >"$CP_WORK/logs/args.diff" ||
	cp_fail "info args differs (< origin, > bundle)" "$CP_WORK/logs/args.diff"
cp_report
