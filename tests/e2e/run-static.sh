#!/bin/bash
# The static binaries (cmake -DCOREPACK_STATIC=ON), built in a tree of their
# own below the suite's: both are static executables (no program
# interpreter, no shared library needed: ldd and file say so), print their
# versions, and do the whole job: the static corepack packs the dlopen
# trio's core, the static coreunpack unpacks it elsewhere, and gdb on the
# unpacked bundle (originals hidden) shows every frame with its source line.
# Also: neither binary holds libxml2 (kept out by src/cli/static_stubs.c)
# nor asks the linker's static-glibc questions (NSS lookups).  Prints the
# sizes, as built and stripped.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-dist.sh"
cp_init
cp_need file:file ldd:libc-bin readelf:binutils strip:binutils
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check in SELFCHECK mode"

dist_subbuild static -DCOREPACK_STATIC=ON
SC=$DIST_BUILD/corepack
SU=$DIST_BUILD/coreunpack

for bin in "$SC" "$SU"; do
	name=${bin##*/}
	cp_check "$name is a static executable"
	file -b "$bin" >"$CP_WORK/logs/file-$name"
	grep -q 'statically linked' "$CP_WORK/logs/file-$name" ||
		cp_fail "file(1) does not say $name is statically linked" "$CP_WORK/logs/file-$name"
	readelf -lW "$bin" >"$CP_WORK/logs/phdrs-$name"
	grep -q 'LOAD' "$CP_WORK/logs/phdrs-$name" || cp_fail "readelf shows no program headers of $name"
	if grep -q 'INTERP' "$CP_WORK/logs/phdrs-$name"; then
		cp_fail "$name has a program interpreter (PT_INTERP)" "$CP_WORK/logs/phdrs-$name"
	fi
	readelf -dW "$bin" >"$CP_WORK/logs/dynamic-$name" 2>&1 || true
	if grep -q 'NEEDED' "$CP_WORK/logs/dynamic-$name"; then
		cp_fail "$name needs shared libraries" "$CP_WORK/logs/dynamic-$name"
	fi
	st=0
	ldd "$bin" >"$CP_WORK/logs/ldd-$name" 2>&1 || st=$?
	grep -q 'not a dynamic executable' "$CP_WORK/logs/ldd-$name" ||
		cp_fail "ldd does not say $name is not dynamic (exit $st)" "$CP_WORK/logs/ldd-$name"
	cp_check "$name holds no libxml2 and no NSS lookup"
	if nm "$bin" 2>/dev/null | grep -E ' [TtWw] (xml[A-Z]|getpw(nam|uid|ent)|getgr(nam|gid|ent)|gethostby|getaddrinfo)' \
		>"$CP_WORK/logs/nm-$name"; then
		cp_fail "$name links libxml2 or an NSS function" "$CP_WORK/logs/nm-$name"
	fi
	"$bin" --version >"$CP_WORK/logs/version-$name" 2>&1 ||
		cp_fail "$name --version failed" "$CP_WORK/logs/version-$name"
	head -n1 "$CP_WORK/logs/version-$name" | grep -q "^$name [0-9]" ||
		cp_fail "$name --version prints no version" "$CP_WORK/logs/version-$name"
	strip -o "$CP_WORK/$name.stripped" "$bin"
	cp_log "RESULT static $name: $(stat -c %s "$bin") bytes as built (with debug info), $(stat -c %s "$CP_WORK/$name.stripped") bytes stripped"
done
grep -q '^elfutils ' "$CP_WORK/logs/version-corepack" ||
	cp_fail "the static corepack does not name elfutils in --version" "$CP_WORK/logs/version-corepack"

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
COREPACK=$SC cp_pack "$CP_CORE" "$CP_WORK/trio.tar.zst" --debug-dir "$CP_DEBUGROOT"
grep -q 'ok .*/libcrash.so.1.0.0$' "$CP_PACK_OUT" || cp_fail "the static corepack did not pack libcrash" "$CP_PACK_OUT"

cp_check "the static coreunpack unpacks it"
dest=$CP_UNPACK/static
"$SU" -C "$dest" "$CP_BUNDLE_FILE" </dev/null >"$CP_WORK/logs/unpack.out" 2>&1 ||
	cp_fail "the static coreunpack failed" "$CP_WORK/logs/unpack.out"
cmp -s "$CP_CORE" "$dest/core" || cp_fail "the unpacked core differs from the original"
CP_BUNDLE_DIR=$dest
cp_hide_originals "$CP_WORK"

cp_check "gdb on the unpacked bundle: ${CP_FRAMES[*]}"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1:debug plugin.so:debug "$(cp_want_libc)"
cp_report
