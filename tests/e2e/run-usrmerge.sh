#!/bin/bash
# libc and the dynamic loader reached through the usr-merge symlinks: the
# loader's names (/lib64/ld-linux-x86-64.so.2, /lib/x86_64-linux-gnu/libc.so.6)
# go through /lib -> usr/lib and /lib64 -> usr/lib64, the kernel's NT_FILE
# names do not.  The bundle must reproduce the symlinks as relative links
# (sysroot/lib -> usr/lib, sysroot/lib64 -> usr/lib64) so that every name
# resolves inside it, no symlink may be absolute or lead outside, and gdb
# must read libc and the loader from the bundle.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init

[[ $(uname -m) == x86_64 ]] || cp_skip "x86_64 names are checked; this is $(uname -m)"
for l in /lib /lib64; do
	[[ -L $l && $(readlink -f "$l") == "/usr$l" ]] ||
		cp_skip "the host is not usr-merged ($l is not a symlink to usr$l)"
done

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
CP_SELF_EXE=$CP_APP
interp=$(readelf -lW "$CP_APP" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
[[ $interp == /lib64/ld-linux-x86-64.so.2 ]] || cp_skip "unexpected interpreter $interp"

if [[ $CP_SELFCHECK != 1 ]]; then
	cp_pack "$CP_CORE" "$CP_WORK/usrmerge.tar.zst" --debug-dir "$CP_DEBUGROOT"
	cp_extract "$CP_BUNDLE_FILE"
	cp_check_layout "$CP_CORE"
	x=$CP_BUNDLE_DIR
	xr=$(readlink -f "$x")

	for l in lib lib64; do
		cp_check "sysroot/$l is a symlink to usr/$l"
		[[ -L $x/sysroot/$l ]] || cp_fail "sysroot/$l is not a symlink" "$CP_WORK/logs/tar-list"
		t=$(readlink "$x/sysroot/$l")
		[[ $t == "usr/$l" ]] || cp_fail "sysroot/$l -> '$t', expected 'usr/$l'"
	done

	# in_bundle NAME ORIGIN-FILE: sysroot/NAME resolves to a regular file
	# inside the bundle with the build-id of the origin file.
	in_bundle() {
		local r id want
		cp_check "sysroot$1 resolves inside the bundle to $(readlink -f "$2")"
		r=$(readlink -f "$x/sysroot$1" || true)
		[[ -n $r && $r == "$xr"/* ]] || cp_fail "sysroot$1 resolves to '$r', outside $xr" "$CP_WORK/logs/tar-list"
		[[ -f $r ]] || cp_fail "sysroot$1 resolves to '$r', not a file" "$CP_WORK/logs/tar-list"
		id=$(cp_build_id "$r")
		want=$(cp_build_id "$2")
		[[ $id == "$want" ]] || cp_fail "sysroot$1 has build-id '$id', the host's file '$want'"
	}
	in_bundle "$interp" "$interp"
	in_bundle /usr/lib64/ld-linux-x86-64.so.2 "$interp"
	in_bundle "$(readlink -f "$interp")" "$interp"
	in_bundle /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libc.so.6
	in_bundle "$(readlink -f /lib/x86_64-linux-gnu/libc.so.6)" /lib/x86_64-linux-gnu/libc.so.6

	cp_check "manifest: libc and the loader ok"
	for n in /libc.so.6 /ld-linux-x86-64.so.2; do
		cp_manifest_object "$n"
		st=$(cp_manifest ".objects[$CP_OBJ].status // empty")
		[[ $st == ok ]] || cp_fail "manifest status of *$n is '$st', expected ok" "$x/manifest.json"
	done
	cp_hide_originals "$CP_WORK"
fi

cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_check "bt shows ${CP_FRAMES[*]}"
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
wanted=("$(cp_want_libc)" ld-linux-x86-64.so.2 libcrash.so.1:debug plugin.so:debug)
cp_check "info sharedlibrary: ${wanted[*]}, all read, all from the bundle"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" "${wanted[@]}"
if [[ $CP_SELFCHECK != 1 ]]; then
	cp_check "gdb names libc and the loader by their /lib, /lib64 names inside the bundle"
	grep -q -F "$CP_BUNDLE_DIR/sysroot/lib64/ld-linux-x86-64.so.2" "$CP_WORK/logs/gdb.out" ||
		grep -q -F "$(readlink -f "$CP_BUNDLE_DIR")/sysroot/lib64/ld-linux-x86-64.so.2" "$CP_WORK/logs/gdb.out" ||
		cp_fail "gdb did not load sysroot/lib64/ld-linux-x86-64.so.2" "$CP_WORK/logs/gdb.out"
fi
cp_check "each symlink is listed once in the manifest (several libraries share /lib)"
[[ $(cp_manifest '[.links[].path] | length == (unique | length)') == true ]] ||
	cp_fail "manifest.json lists a symlink twice: $(cp_manifest '[.links[].path] | group_by(.) | map(select(length > 1)[0])')"

cp_report
