#!/bin/bash
# The static corepack on an older distribution, which has none of the
# libraries it was built with: a Debian 11 (bullseye, glibc 2.31) root made
# by debootstrap, with its own gcc and libc6-dbg.  The dlopen trio is
# built and crashed in that root, the static corepack (copied in, nothing
# else of this machine's) packs the core there, and the bundle is unpacked
# and debugged on this machine (Debian 12) with the root hidden: every
# frame with its source line, bullseye's libc read from the bundle with its
# debug file, and the frames gdb shows past main (set backtrace past-main)
# are the ones gdb shows on the crash in the root itself: libc's
# __libc_start_main with bullseye's source line (no host libc mixed in).
#
# Needs root (chroot, mounts) and, the first time, debootstrap and the
# Debian mirror (the root is cached as a tarball, about 470 MB; see
# lib-dist.sh); skips without them.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-dist.sh"
cp_init
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check in SELFCHECK mode"
dist_need_root "chroot into a Debian 11 root (and debootstrap to make it)"
cp_need unshare:util-linux chroot:coreutils
dist_need_mount_ns
[[ -n ${COREUNPACK:-} && -x $COREUNPACK ]] || cp_fail "COREUNPACK is not set (run through ctest)"

dist_subbuild static -DCOREPACK_STATIC=ON
dist_root_tarball bullseye gcc libc6-dev libc6-dbg gdb
R=$CP_WORK/bullseye
dist_extract "$DIST_TARBALL" "$R"
grep -q '^11' "$R/etc/debian_version" || cp_fail "the root is not Debian 11: $(cat "$R/etc/debian_version")"
install -m 0755 "$DIST_BUILD/corepack" "$R/usr/local/bin/corepack"

cp_check "the static corepack runs in the Debian 11 root"
dist_chroot "$R" corepack --version >"$CP_WORK/logs/version" 2>&1 ||
	cp_fail "the static corepack does not run in the Debian 11 root" "$CP_WORK/logs/version"

dist_trio chroot /work "$R"
cp_trio_frames
dist_crash_in "$R" /work/crash /work/app /work/plugin.so
core_in=${CP_CORE#"$R"}

cp_check "corepack packs the core in the root"
dist_chroot "$R" corepack -o /work/b11.tar.zst "$core_in" \
	>"$CP_WORK/logs/pack.out" 2>"$CP_WORK/logs/pack.err" ||
	cp_fail "the static corepack failed in the Debian 11 root" "$CP_WORK/logs/pack.out" "$CP_WORK/logs/pack.err"
sed 's/^/  corepack stdout: /' "$CP_WORK/logs/pack.out"
sed 's/^/  corepack stderr: /' "$CP_WORK/logs/pack.err"
grep -q -E '^[0-9a-f]{40} ok .*/libc-2\.31\.so$' "$CP_WORK/logs/pack.out" ||
	cp_fail "corepack did not pack bullseye's libc-2.31.so as 'ok'" "$CP_WORK/logs/pack.out"
grep -q '^#0 .* crash_store' "$CP_WORK/logs/pack.out" ||
	cp_fail "the static corepack's own unwinder shows no crash_store frame" "$CP_WORK/logs/pack.out"

cp_check "gdb in the root itself on the same core (the reference for libc's frames)"
dist_chroot "$R" gdb -nx -batch -iex 'set debuginfod enabled off' -iex 'set backtrace past-main on' -ex 'file /work/app' \
	-ex "core-file $core_in" -ex 'echo \n@@cp-ex 1@@\n' -ex bt -ex 'echo @@cp-end@@\n' \
	</dev/null >"$CP_WORK/logs/gdb-origin.out" 2>&1 || cp_fail "gdb in the root failed" "$CP_WORK/logs/gdb-origin.out"

mv "$R/work/b11.tar.zst" "$CP_WORK/b11.tar.zst"
CP_BUNDLE_FILE=$CP_WORK/b11.tar.zst
CP_BUNDLE_SIZE=$(stat -c %s "$CP_BUNDLE_FILE")
dest=$CP_UNPACK/b11
"$COREUNPACK" -C "$dest" "$CP_BUNDLE_FILE" </dev/null >"$CP_WORK/logs/unpack.out" 2>&1 ||
	cp_fail "coreunpack failed on the Debian 11 bundle" "$CP_WORK/logs/unpack.out"
CP_BUNDLE_DIR=$dest
cp_hide_originals "$CP_WORK"

cp_check "gdb here (Debian 12) on the unpacked bundle: ${CP_FRAMES[*]}, then libc's frames as in the root"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -iex 'set backtrace past-main on' -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1:debug plugin.so:debug libc.so.6:debug
cp_frames "$CP_WORK/logs/gdb-origin.out" >"$CP_WORK/logs/frames-origin"
cp_frames "$CP_WORK/logs/gdb.out" >"$CP_WORK/logs/frames-here"
diff "$CP_WORK/logs/frames-origin" "$CP_WORK/logs/frames-here" >"$CP_WORK/logs/frames-diff" ||
	cp_fail "the frames differ from gdb's in the Debian 11 root" "$CP_WORK/logs/frames-diff"
grep -q '^__libc_start_main	libc-start.c:[0-9]*$' "$CP_WORK/logs/frames-here" ||
	cp_fail "no __libc_start_main frame with its source line (bullseye's libc debug file)" "$CP_WORK/logs/frames-here"
cp_report
