#!/bin/bash
# An app crashes in its shared library (libcrash.so.1, a SONAME symlink)
# called from a plugin it dlopened through a symlink; all three are
# stripped, their debug info placed three ways (build-id tree passed with
# --debug-dir, .gnu_debuglink in .debug/, .gnu_debuglink beside the file).
# With the originals and /usr/lib/debug hidden, gdb on the extracted bundle
# must show every frame with function and file:line, and read every library
# from the bundle.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
CP_SELF_EXE=$CP_APP

if [[ $CP_SELFCHECK != 1 ]]; then
	cp_pack "$CP_CORE" "$CP_WORK/out.tar.zst" --debug-dir "$CP_DEBUGROOT"
	cp_extract "$CP_BUNDLE_FILE"
	cp_check_layout "$CP_CORE"
	cp_check_object /bin/app "$CP_APP"
	cp_check_object /libcrash.so.1.0.0 "$CP_LIB"
	cp_check_object /crashplugin-1.0.so "$CP_PLUGIN"

	cp_check "the loader's names resolve inside sysroot/"
	for name in "$CP_LIB_SONAME" "$CP_PLUGIN_LINK"; do
		[[ -L $CP_BUNDLE_DIR/sysroot$name ]] ||
			cp_fail "sysroot$name is not a symlink (the loader opened that name)" "$CP_WORK/logs/tar-list"
		[[ -f $CP_BUNDLE_DIR/sysroot$name ]] ||
			cp_fail "sysroot$name does not resolve to a file" "$CP_WORK/logs/tar-list"
	done
	cp_hide_originals "$CP_WORK"
fi

cp_check "bt shows ${CP_FRAMES[*]}"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"

# When the host has libc's debug file, the bundle must carry it.
wanted=(libcrash.so.1:debug plugin.so:debug "$(cp_want_libc)" ld-linux-x86-64.so.2)
cp_check "info sharedlibrary: ${wanted[*]}, all read, all from the bundle"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" "${wanted[@]}"
cp_report
