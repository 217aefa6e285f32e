#!/bin/bash
# A core without NT_FILE, as old kernels and some dumpers write them (and
# the kernel past about 65,000 mappings: run-many-mappings.sh): the trio's
# core with its NT_FILE note turned into an unknown one.  The libraries
# must come from the loader's link_map and their dumped ELF headers, the
# executable from AT_EXECFN and its program headers at AT_PHDR; corepack
# says once what was missing and what it used, on stderr and in the
# manifest's warnings.  Unpacked elsewhere with the originals hidden, gdb
# shows the frames gdb shows on the origin, every library read from the
# bundle.  A second crash, started as ./app from its own directory (where
# the core lands), gives a relative AT_EXECFN: the executable is found from
# the core's directory and proved by its build-id.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need python3:python3 eu-readelf:elfutils cp:coreutils

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
cp_has_nt_file "$CP_CORE" || cp_fail "the kernel wrote no NT_FILE note to begin with"
core=$CP_WORK/crash/core.no-nt-file
cp_drop_nt_file "$CP_CORE" "$core"
cp_has_nt_file "$core" && cp_fail "$core still has an NT_FILE note"
CP_SELF_EXE=$CP_APP
CP_CORE=$core

# Relative AT_EXECFN: ./app run in the app's directory (by env, which
# hands execve the name as given; a shell would make it absolute).
cp_crash "$CP_WORK/b/bin" env ./app "$CP_PLUGIN_LINK"
rel_core=$CP_WORK/b/bin/core.no-nt-file
cp_drop_nt_file "$CP_CORE" "$rel_core"
rm -f "$CP_CORE"
CP_CORE=$core

cp_check "relative AT_EXECFN: the executable from the core's directory, verified"
cp_pack "$rel_core" "$CP_WORK/relative.tar.zst" --debug-dir "$CP_DEBUGROOT"
grep -q "no NT_FILE note.*the executable from AT_EXECFN, relative to the core's directory" \
	"$CP_PACK_ERR" || cp_fail "no warning saying where the executable came from" "$CP_PACK_ERR"
cp_extract "$CP_BUNDLE_FILE"
cp_check_object /bin/app "$CP_APP"
[[ $(cp_manifest '.core.executable') == "$CP_APP" ]] ||
	cp_fail "core.executable is not $CP_APP" "$CP_BUNDLE_DIR/manifest.json"

cp_origin_gdb "$CP_WORK/logs/origin.out" -ex "file $CP_APP" -ex "core-file $core" -ex bt
cp_pack "$core" "$CP_WORK/no-nt-file.tar.zst" --debug-dir "$CP_DEBUGROOT"
cp_check "one warning, on stderr and in the manifest: no NT_FILE, link_map and headers used instead"
n=$(grep -c 'NT_FILE' "$CP_PACK_ERR" || true)
[[ $n == 1 ]] || cp_fail "$n warnings mention NT_FILE, expected 1" "$CP_PACK_ERR"
grep -q "no NT_FILE note.*4 libraries were taken from the loader's link_map and placed by the ELF headers dumped in the core; the executable from AT_EXECFN$" \
	"$CP_PACK_ERR" || cp_fail "the warning does not say what was used instead" "$CP_PACK_ERR"
cp_extract "$CP_BUNDLE_FILE"
cp_check_layout "$core"
[[ $(cp_manifest '[.warnings[] | select(contains("NT_FILE"))] | length') == 1 ]] ||
	cp_fail "the manifest's warnings do not hold the NT_FILE warning once" "$CP_BUNDLE_DIR/manifest.json"
[[ $(cp_manifest '.core.nt_file') == false ]] || cp_fail "core.nt_file is not false" "$CP_BUNDLE_DIR/manifest.json"
# Without NT_FILE an object's names are the loader's (the SONAME link, the
# name dlopen was given), not the files they lead to.
cp_check_object /bin/app "$CP_APP"
cp_check_object /lib/libcrash.so.1 "$CP_LIB"
cp_check_object /plugin.so "$CP_PLUGIN"
for name in /libc.so.6 /ld-linux-x86-64.so.2; do
	cp_manifest_object "$name"
	[[ $(cp_manifest ".objects[$CP_OBJ].status") == ok ]] ||
		cp_fail "$name is not ok" "$CP_BUNDLE_DIR/manifest.json"
done
cp_manifest_object /bin/app
[[ $(cp_manifest ".objects[$CP_OBJ].role") == executable ]] ||
	cp_fail "the app is not the executable" "$CP_BUNDLE_DIR/manifest.json"

cp_hide_originals "$CP_WORK"
cp_trio_frames
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_check "bt on the bundle: ${CP_FRAMES[*]}, as on the origin"
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_assert_same_frames "$CP_WORK/logs/origin.out" 3 "$CP_WORK/logs/gdb.out" 1
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1:debug plugin.so:debug \
	"$(cp_want_libc)" ld-linux-x86-64.so.2
cp_report
