#!/bin/bash
# The dlopen-stripped case built with gcc -m32: a 32-bit core (32-bit
# NT_FILE fields, /lib/ld-linux.so.2 through /lib -> usr/lib).  gdb on the
# bundle must show every frame with file:line and read every library from
# the bundle.  Skips when gcc -m32 cannot link (apt-get install gcc-multilib).
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init

printf 'int main(void) { return 0; }\n' >"$CP_WORK/probe.c"
gcc -m32 -o "$CP_WORK/probe" "$CP_WORK/probe.c" -ldl >"$CP_WORK/logs/probe" 2>&1 ||
	cp_skip "gcc -m32 cannot link a program (apt-get install gcc-multilib): $(head -n1 "$CP_WORK/logs/probe")"
"$CP_WORK/probe" || cp_skip "a 32-bit program does not run here"

cp_build_trio -m32
cp_trio_frames
file_class=$(readelf -hW "$CP_APP" | sed -n 's/^ *Class: *//p')
[[ $file_class == ELF32 ]] || cp_fail "gcc -m32 built a $file_class executable"
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
CP_SELF_EXE=$CP_APP
[[ $(readelf -hW "$CP_CORE" | sed -n 's/^ *Class: *//p') == ELF32 ]] ||
	cp_fail "the core of a 32-bit program is not ELF32"
interp=$(readelf -lW "$CP_APP" | sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')

if [[ $CP_SELFCHECK != 1 ]]; then
	cp_pack "$CP_CORE" "$CP_WORK/m32.tar.zst" --debug-dir "$CP_DEBUGROOT"
	cp_extract "$CP_BUNDLE_FILE"
	cp_check_layout "$CP_CORE"
	cp_check_object /bin/app "$CP_APP"
	cp_check_object /libcrash.so.1.0.0 "$CP_LIB"
	cp_check_object /crashplugin-1.0.so "$CP_PLUGIN"
	cp_check "the interpreter $interp resolves inside sysroot/"
	[[ -f $CP_BUNDLE_DIR/sysroot$interp ]] ||
		cp_fail "sysroot$interp does not resolve to a file in the bundle" "$CP_WORK/logs/tar-list"
	cp_hide_originals "$CP_WORK"
fi

cp_check "bt shows ${CP_FRAMES[*]}"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
wanted=(libcrash.so.1:debug plugin.so:debug "$(cp_want_libc /usr/lib32/libc.so.6)" "${interp##*/}")
cp_check "info sharedlibrary: ${wanted[*]}, all read, all from the bundle"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" "${wanted[@]}"
cp_report
