#!/bin/bash
# Libraries loaded by relative names: relapp is linked against
# "../lib/libcrash.so" (its DT_NEEDED, resolved by the loader from the
# working directory), changes to plugins/ and dlopens "./plugin.so", which
# calls libcrash, which crashes.  The loader's link_map keeps both names
# relative; gdb resolves such a name from its own working directory, so on
# the origin only a gdb started in plugins/ (where the core lands) loads
# them.  corepack makes the bundle's directories of those objects gdb's
# solib-search-path: unpacked elsewhere, originals hidden, run-gdb.sh from
# any directory and corepack.gdb from the bundle's show the origin's frames
# and read every library from the bundle.  Two files of one base name
# loaded by relative names are warned about.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack
[[ $CP_SELFCHECK != 1 ]] || cp_skip "compares the bundle with the origin: nothing to do in SELFCHECK mode"

R=$CP_WORK/app
mkdir -p "$R/bin" "$R/lib" "$R/plugins" "$R/other"
# No SONAME: the DT_NEEDED is the path the link was given.
gcc "${CP_CFLAGS[@]}" -fPIC -shared -o "$R/lib/libcrash.so" "$CP_PROGS/libcrash.c"
gcc "${CP_CFLAGS[@]}" -fPIC -shared -I"$CP_PROGS" -o "$R/plugins/plugin.so" "$CP_PROGS/plugin.c"
gcc "${CP_CFLAGS[@]}" -O2 -fPIC -shared -I"$CP_PROGS" -o "$R/other/plugin.so" "$CP_PROGS/plugin.c"
(cd "$R/bin" && gcc "${CP_CFLAGS[@]}" -I"$CP_PROGS" -o relapp "$CP_PROGS/relapp.c" ../lib/libcrash.so -ldl)
readelf -d "$R/bin/relapp" | grep -q 'NEEDED.*\[\.\./lib/libcrash\.so\]' ||
	cp_fail "relapp's DT_NEEDED is not ../lib/libcrash.so"

# rel_crash CORE-VAR ARGS...: run relapp in bin/ (where ../lib resolves);
# it crashes in plugins/, where the core lands.
rel_crash() {
	local pid st=0
	# Backdated: a process this short can crash within the clock tick
	# the stamp was made in, and find -newer wants a later time.
	touch -d "@$(($(date +%s) - 2))" "$R/plugins/.stamp"
	(cd "$R/bin" && exec ./relapp "$@") </dev/null >"$CP_WORK/logs/relapp.out" 2>&1 &
	pid=$!
	wait "$pid" || st=$?
	((st > 128)) || cp_fail "relapp was expected to crash, exit status $st" "$CP_WORK/logs/relapp.out"
	cp_find_core "$R/plugins" "$pid" "$R/plugins/.stamp"
}

CP_FRAMES=(
	"crash_store libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_store)"
	"crash_deep libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_deep)"
	"plugin_entry plugin.c:$(cp_line "$CP_PROGS/plugin.c" plugin_entry)"
	"rel_run relapp.c:$(cp_line "$CP_PROGS/relapp.c" rel_run)"
	"main relapp.c:$(cp_line "$CP_PROGS/relapp.c" main)"
)
rel_crash "$R/plugins"
core=$CP_CORE

cp_check "on the origin, gdb started where the process crashed loads both relative names"
cp_gdb_mark -batch -ex bt -ex 'info sharedlibrary'
(cd "$R/plugins" && gdb -nx -iex 'set auto-load off' -iex 'set debuginfod enabled off' \
	-ex "file $R/bin/relapp" -ex "core-file $core" "${CP_GDB_ARGS[@]}") </dev/null \
	>"$CP_WORK/logs/origin.out" 2>&1 || cp_fail "gdb on the origin failed" "$CP_WORK/logs/origin.out"
CP_SELFCHECK=1 cp_assert_sharedlibs "$CP_WORK/logs/origin.out" libcrash.so:debug plugin.so:debug
grep -q -E 'Yes +\.\./lib/libcrash\.so$' "$CP_WORK/logs/origin.out" &&
	grep -q -E 'Yes +\./plugin\.so$' "$CP_WORK/logs/origin.out" ||
	cp_fail "the origin's link_map names are not ../lib/libcrash.so and ./plugin.so" "$CP_WORK/logs/origin.out"
cp_assert_frames "$CP_WORK/logs/origin.out" "${CP_FRAMES[@]}"
cp_frames "$CP_WORK/logs/origin.out" >"$CP_WORK/logs/origin.frames"

cp_pack "$core" "$CP_WORK/rel.tar.zst"
cu_unpack "$CP_UNPACK/u" "$CP_BUNDLE_FILE"
CP_BUNDLE_DIR=$CP_UNPACK/u
cp_check "the manifest: the loader's relative names, and their directories as solib_search_path"
[[ $(cp_manifest -c '.gdb.solib_search_path') == "[\"$R/lib\",\"$R/plugins\"]" ]] ||
	cp_fail "gdb.solib_search_path is $(cp_manifest -c '.gdb.solib_search_path')" "$CP_BUNDLE_DIR/manifest.json"
for n in ../lib/libcrash.so ./plugin.so; do
	cp_manifest --arg n "$n" -e '[.objects[].names[]? | select(.path == $n and .source == "link_map")] | length == 1' \
		>/dev/null || cp_fail "no object with the link_map name $n" "$CP_BUNDLE_DIR/manifest.json"
done
# corepack.gdb runs in the executable's directory: its paths are relative to it.
grep -q -E "^set solib-search-path (\\.\\.(/\\.\\.)*|\\.)$R/lib:(\\.\\.(/\\.\\.)*|\\.)$R/plugins\$" "$CP_BUNDLE_DIR/corepack.gdb" ||
	cp_fail "corepack.gdb does not set solib-search-path" "$CP_BUNDLE_DIR/corepack.gdb"

cp_check "two files of one base name loaded by relative names: the one gdb would take first is named"
rel_crash "$R/plugins" "$R/other"
"$COREPACK" --list "$CP_CORE" >"$CP_WORK/logs/list.out" 2>"$CP_WORK/logs/list.err" ||
	cp_fail "corepack --list failed" "$CP_WORK/logs/list.err"
grep -q -F "corepack: warning: '$R/plugins/plugin.so': gdb looks up the loader's name './plugin.so' by its base name and finds '$R/other/plugin.so' first: it will load that file instead" \
	"$CP_WORK/logs/list.err" || cp_fail "no warning about the two plugin.so" "$CP_WORK/logs/list.err"

cp_hide_originals "$CP_WORK"
cd "$CP_UNPACK"
cp_check "run-gdb.sh from elsewhere: the origin's frames, every library from the bundle"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so:debug plugin.so:debug "$(cp_want_libc)"
cp_frames "$CP_WORK/logs/gdb.out" >"$CP_WORK/logs/gdb.frames"
diff "$CP_WORK/logs/origin.frames" "$CP_WORK/logs/gdb.frames" >"$CP_WORK/logs/frames.diff" ||
	cp_fail "frames differ (< origin, > bundle)" "$CP_WORK/logs/frames.diff"

cp_check "corepack.gdb from the bundle's directory: the same frames"
cp_gdb_mark -batch -ex bt
(cd "$CP_BUNDLE_DIR" && cp_hidden gdb -nx -x corepack.gdb "${CP_GDB_ARGS[@]}") </dev/null \
	>"$CP_WORK/logs/gdbx.out" 2>&1 || cp_fail "gdb -x corepack.gdb failed" "$CP_WORK/logs/gdbx.out"
cp_frames "$CP_WORK/logs/gdbx.out" >"$CP_WORK/logs/gdbx.frames"
diff "$CP_WORK/logs/origin.frames" "$CP_WORK/logs/gdbx.frames" >"$CP_WORK/logs/framesx.diff" ||
	cp_fail "frames differ (< origin, > corepack.gdb)" "$CP_WORK/logs/framesx.diff"
cd /

cp_report
