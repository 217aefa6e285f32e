#!/bin/bash
# The backtrace uses the files the scan found under --sysroot and
# --debug-dir, and no others.  The trio's files (and the libraries the core
# maps) are copied into a sysroot and the originals moved away: the report
# shows every frame with function and file:line (that the unwinder opens
# nothing outside the sysroot and the debug directory is
# run-backtrace-sysroot-opens.sh).  Then the sysroot's libcrash is replaced by another build
# (mismatch) and removed (missing): its frames are "??" with the module
# named and its status, and unwinding goes on through them to the plugin,
# the app and main.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check in SELFCHECK mode"

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"

root=$CP_WORK/root
bt_make_sysroot "$root"

report=$CP_WORK/logs/report.txt
BT_SOURCE=driver bt_report "$report" "$CP_CORE" --sysroot "$root" --debug-dir "$CP_DEBUGROOT"
sed 's/^/  /' "$report"
cp_check "all frames from the sysroot's files: ${CP_FRAMES[*]}"
bt_frames "$report" >"$CP_WORK/logs/ours"
printf '%s\n' "${CP_FRAMES[@]}" | sed 's/ /\t/' >"$CP_WORK/logs/want"
cmp -s "$CP_WORK/logs/ours" "$CP_WORK/logs/want" ||
	cp_fail_later "frames differ from ${CP_FRAMES[*]}"

# bad_lib STATUS: libcrash's two frames are ?? naming libcrash and STATUS;
# the plugin's, the app's and main's follow, symbolized.
bad_lib() {
	local status=$1 out=$CP_WORK/logs/report-$1
	BT_SOURCE=driver bt_report "$out" "$CP_CORE" --sysroot "$root" --debug-dir "$CP_DEBUGROOT"
	sed 's/^/  /' "$out"
	cp_check "$status libcrash: ?? frames naming it, then the others symbolized"
	local want
	want=$(printf '%s\n' '??	' '??	' "${CP_FRAMES[@]:2}" | sed 's/ /\t/')
	[[ $(bt_frames "$out") == "$want" ]] || cp_fail_later "$status: frames are not ??, ??, ${CP_FRAMES[*]:2}"
	[[ $(grep -c "^#[01]  0x[0-9a-f]* ?? (libcrash.so.1.0.0, $status: not symbolized)\$" "$out") == 2 ]] ||
		cp_fail_later "$status: frames #0 and #1 do not name libcrash.so.1.0.0 and '$status'"
}

lib=$root${CP_LIB}
cp_build_lib "$CP_WORK/v2/libcrash.so.1.0.0" -DLIBCRASH_VARIANT=2
cp "$CP_WORK/v2/libcrash.so.1.0.0" "$lib"
bad_lib mismatch
rm -f -- "$lib"
bad_lib missing
cp_finish
