#!/bin/bash
# Split DWARF that cannot all be packed, each case named in a warning:
#  - the plugin's .dwo deleted from the build tree: "not found";
#  - the app compiled with an absolute -o, so its DW_AT_dwo_name is
#    absolute: packed, but gdb 13 opens such a name only at that path;
#  - the plugin's .dwo rebuilt from other code after the link: another DWO
#    id, not packed.
# The warnings are on corepack's stderr, in the manifest and in what
# coreunpack prints; gdb on the bundle shows what gdb on the origin shows
# in that state (libcrash's frame with its line; gdb 13 ends the backtrace
# there), and says which .dwo it misses.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/split-lib.sh"
cp_init
cu_need_unpack
cp_need eu-readelf:elfutils
[[ $CP_SELFCHECK != 1 ]] || cp_skip "checks corepack's warnings: nothing to do in SELFCHECK mode"

sd_build
(
	cd "$SD_BUILD"
	cc=(gcc "${CP_CFLAGS[@]}" -gsplit-dwarf -I"$CP_PROGS")
	"${cc[@]}" -c "$CP_PROGS/app.c" -o "$SD_BUILD/obj/app.o"
	"${cc[@]}" -o bin/app obj/app.o -Llib -l:libcrash.so.1 -Wl,-rpath,"$SD_BUILD/lib" -ldl
	rm obj/plugin.dwo
)
eu-readelf --debug-dump=info "$SD_APP" | grep -q "dwo_name.*\"$SD_BUILD/obj/app.dwo\"" ||
	cp_fail "the app's DW_AT_dwo_name is not the absolute $SD_BUILD/obj/app.dwo"
cp_crash "$CP_WORK/crash" "$SD_APP" "$SD_PLUGIN"
# gdb on the origin, in the same state: its backtrace is the reference
# (gdb 13 stops at the first frame when a .dwo is missing).
bt_gdb "$CP_WORK/logs/origin.out" "$SD_APP" "$CP_CORE" -ex bt
cp_frames "$CP_WORK/logs/origin.out" >"$CP_WORK/logs/origin.out.frames"

cp_pack "$CP_CORE" "$CP_WORK/missing.tar.zst"
plugin_id=$(sd_dwo_id "$SD_PLUGIN")
app_id=$(sd_dwo_id "$SD_APP")
want_missing="'$(readlink -f "$SD_PLUGIN")': split DWARF file 'obj/plugin.dwo' (compilation directory '$SD_BUILD', DWO id $plugin_id) not found"
want_abs="'$(readlink -f "$SD_APP")': split DWARF file '$SD_BUILD/obj/app.dwo' is packed as debug/.dwo/$app_id.dwo, but gdb 13 opens an absolute DW_AT_dwo_name only at that path"
for w in "$want_missing" "$want_abs"; do
	cp_check "corepack warns: $w"
	grep -q -F "corepack: warning: $w" "$CP_PACK_ERR" || cp_fail "no such warning" "$CP_PACK_ERR"
done
[[ $(grep -c 'split DWARF' "$CP_PACK_ERR") == 2 ]] ||
	cp_fail "not exactly two split DWARF warnings" "$CP_PACK_ERR"

cu_unpack "$CP_UNPACK/u" "$CP_BUNDLE_FILE"
CP_BUNDLE_DIR=$CP_UNPACK/u
for w in "$want_missing" "$want_abs"; do
	cp_check "the manifest and coreunpack carry it"
	cp_manifest --arg w "$w" -e '.warnings | any(startswith($w))' >/dev/null ||
		cp_fail "manifest.json has no warning '$w'" "$CP_BUNDLE_DIR/manifest.json"
	grep -q -F "coreunpack: warning: $w" "$CU_ERR" || cp_fail "coreunpack does not say it" "$CU_ERR"
done
[[ -f $CP_BUNDLE_DIR/debug/.dwo/$app_id.dwo ]] || cp_fail "the app's .dwo is not packed"
cp_manifest_object /plugin.so
[[ $(cp_manifest ".objects[$CP_OBJ].debug | length") == 0 ]] ||
	cp_fail "the plugin lists a debug file" "$CP_BUNDLE_DIR/manifest.json"
sd_check_dwo /libcrash.so.1.0.0 "$SD_LIB" "$SD_BUILD/obj/libcrash.dwo"

# Back on the origin: a .dwo built again after the object was linked.
(cd "$SD_BUILD" && gcc "${CP_CFLAGS[@]}" -gsplit-dwarf -c "$CP_PROGS/libcrash.c" -o obj/plugin.o)
[[ -f $SD_BUILD/obj/plugin.dwo ]] || cp_fail "no stale obj/plugin.dwo was written"
cp_check "a .dwo with another DWO id is named and not packed"
"$COREPACK" --list "$CP_CORE" >"$CP_WORK/logs/list.out" 2>"$CP_WORK/logs/list.err" ||
	cp_fail "corepack --list failed" "$CP_WORK/logs/list.err"
grep -q -F "corepack: warning: '$(readlink -f "$SD_PLUGIN")': split DWARF file '$SD_BUILD/obj/plugin.dwo' is not the one built with it (another DWO id than $plugin_id)" \
	"$CP_WORK/logs/list.err" || cp_fail "no warning about the stale .dwo" "$CP_WORK/logs/list.err"

cp_hide_originals "$CP_WORK"
cp_check "gdb on the bundle shows the origin's backtrace, libcrash's frame with its line"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt
cp_assert_frames "$CP_WORK/logs/gdb.out" \
	"crash_store libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_store)"
sd_same_frames "$CP_WORK/logs/origin.out" "$CP_WORK/logs/gdb.out"
grep -q -F 'Could not find DWO CU obj/plugin.dwo' "$CP_WORK/logs/gdb.out" ||
	cp_fail "gdb does not say the plugin's .dwo is missing" "$CP_WORK/logs/gdb.out"
cp_report
