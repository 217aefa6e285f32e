#!/bin/bash
# The round trip on the packing tests' programs: an app crashes in its
# shared library called from a plugin it dlopened, all three stripped with
# their debug info placed three ways.  Pack with corepack, unpack with
# coreunpack -C into a new directory, MOVE that directory, hide the build
# tree and /usr/lib/debug, and run the unpacked ./run-gdb.sh: every frame
# has its function and file:line, and every shared library was read from
# the unpacked tree.  Also: what coreunpack prints, and that the core stays
# sparse.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
cp_pack "$CP_CORE" "$CP_WORK/trio.tar.zst" --debug-dir "$CP_DEBUGROOT"

cu_unpack "$CP_UNPACK/new" "$CP_BUNDLE_FILE"
cu_check_unpacked "$CP_UNPACK/new"

cp_check "stdout lists every object with its debug file, the totals, the next command"
for name in app libcrash.so.1.0.0 crashplugin-1.0.so libc.so.6 ld-linux-x86-64.so.2; do
	grep -q -E "^[0-9a-f]{40} +ok +[0-9.]+ [KM]?i?B +/.*/$name\$" "$CU_OUT" ||
		cp_fail "no 'ok' line for $name" "$CU_OUT"
done
for f in "$CP_APP" "$CP_LIB" "$CP_PLUGIN"; do
	id=$(cp_build_id "$f")
	grep -q -F "    debug debug/.build-id/${id:0:2}/${id:2}.debug (" "$CU_OUT" ||
		cp_fail "no debug line for $(basename "$f") ($id)" "$CU_OUT"
done
grep -q -E '^core [0-9.]+ [KM]iB; [0-9]+ objects \([0-9]+ ok\) .*every one checked against the manifest$' "$CU_OUT" ||
	cp_fail "no total line" "$CU_OUT"
[[ $(tail -n1 "$CU_OUT") == "next: $CP_UNPACK/new/run-gdb.sh" ]] ||
	cp_fail "last line is not 'next: $CP_UNPACK/new/run-gdb.sh'" "$CU_OUT"

cp_check "the unpacked core takes no more disk than the original (holes kept)"
orig=$(stat -c %b "$CP_CORE")
unp=$(stat -c %b "$CP_UNPACK/new/core")
((unp <= orig)) || cp_fail "unpacked core uses $unp blocks, the original $orig"
cmp -s "$CP_CORE" "$CP_UNPACK/new/core" || cp_fail "the unpacked core differs from the original"

mv "$CP_UNPACK/new" "$CP_UNPACK/moved"
CP_BUNDLE_DIR=$CP_UNPACK/moved
cp_hide_originals "$CP_WORK"

cp_check "bt shows ${CP_FRAMES[*]}"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
wanted=(libcrash.so.1:debug plugin.so:debug "$(cp_want_libc)" ld-linux-x86-64.so.2)
cp_check "info sharedlibrary: ${wanted[*]}, all read, all from the moved directory"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" "${wanted[@]}"
cp_report
