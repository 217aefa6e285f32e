#!/bin/bash
# The backtrace uses the files the scan found under --sysroot and
# --debug-dir, and no others.  The trio's files (and the libraries the core
# maps) are copied into a sysroot and the originals moved away: the report
# shows every frame with function and file:line, and the unwinder (under
# strace, when there is one) opens nothing outside the sysroot and the debug
# directory.  Then the sysroot's libcrash is replaced by another build
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
mkdir -p "$root"
cp_check "building a sysroot from the core's NT_FILE paths"
# (eu-readelf: Debian's readelf cannot decode 64-bit NT_FILE notes)
cp_need eu-readelf:elfutils
eu-readelf -n "$CP_CORE" | sed -n 's/^ *[0-9a-f]*-[0-9a-f]* [0-9a-f]* [0-9]* *\(\/.*\)$/\1/p' |
	sort -u >"$CP_WORK/logs/nt-files"
[[ -s $CP_WORK/logs/nt-files ]] || cp_fail "no NT_FILE paths in the core"
while IFS= read -r f; do
	[[ -f $f ]] && cp --parents -L -- "$f" "$root/"
done <"$CP_WORK/logs/nt-files"
# the symlinks and debug files beside the objects (debuglink lookups)
mkdir -p "$root$CP_WORK"
cp -a "$CP_WORK/b" "$root$CP_WORK/"
mv "$CP_WORK/b" "$CP_WORK/b.away"

report=$CP_WORK/logs/report.txt
BT_SOURCE=driver bt_report "$report" "$CP_CORE" --sysroot "$root" --debug-dir "$CP_DEBUGROOT"
sed 's/^/  /' "$report"
cp_check "all frames from the sysroot's files: ${CP_FRAMES[*]}"
bt_frames "$report" >"$CP_WORK/logs/ours"
printf '%s\n' "${CP_FRAMES[@]}" | sed 's/ /\t/' >"$CP_WORK/logs/want"
cmp -s "$CP_WORK/logs/ours" "$CP_WORK/logs/want" ||
	cp_fail_later "frames differ from ${CP_FRAMES[*]}"

if command -v strace >/dev/null; then
	cp_check "the unwinder opens files under the sysroot and the debug directory only"
	bt_driver_init
	# (LeakSanitizer refuses to run under ptrace)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -qq -e trace=open,openat -o "$CP_WORK/logs/strace" \
		"$BT_DRIVER" --sysroot "$root" --debug-dir "$CP_DEBUGROOT" "$CP_CORE" >/dev/null 2>&1 ||
		cp_fail "bt-driver under strace failed" "$CP_WORK/logs/strace"
	# the driver's own pid opens libraries, the core, and scans; the
	# unwinder is the child it forks
	main=$(head -n1 "$CP_WORK/logs/strace" | cut -d' ' -f1)
	grep -v "^$main " "$CP_WORK/logs/strace" | grep -E 'open(at)?\(' |
		sed -n 's/.*open[at]*([^"]*"\([^"]*\)".*/\1/p' | sort -u >"$CP_WORK/logs/child-opens"
	[[ -s $CP_WORK/logs/child-opens ]] || cp_fail "strace shows no file opened by the unwinder" "$CP_WORK/logs/strace"
	if grep -v -e "^$root/" -e "^$CP_DEBUGROOT/" "$CP_WORK/logs/child-opens" >"$CP_WORK/logs/outside"; then
		cp_fail_later "the unwinder opened files outside the sysroot and debug dir: $(tr '\n' ' ' <"$CP_WORK/logs/outside")"
	fi
	sed 's/^/  opened: /' "$CP_WORK/logs/child-opens"
fi

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
