#!/bin/bash
# The Debian package: `cpack -G DEB` in a build tree of its own makes
# corepack_VERSION_ARCH.deb with the binaries in /usr/bin, both man pages,
# the format reference and the copyright file, and a Depends line from
# dpkg-shlibdeps naming the package of every shared library the binaries
# need (checked against ldd).  `apt install ./corepack_*.deb` then
# installs it on a pristine Debian 12 (debootstrap minbase, nothing else),
# pulling those packages from the mirror, and there `corepack --version`,
# `coreunpack --version` and `man -w corepack` work and a real core (the
# dlopen trio, crashed in that root) is packed by corepack and unpacked by
# coreunpack; gdb here, with the root hidden, shows every frame of the
# bundle coreunpack made there.
#
# Needs root (chroot, mounts), debootstrap the first time (the root is
# cached; see lib-dist.sh) and the Debian mirror (apt resolves the
# dependencies); skips without them.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-dist.sh"
cp_init
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check in SELFCHECK mode"
cp_need cpack:cmake dpkg-deb:dpkg dpkg-shlibdeps:dpkg-dev ldd:libc-bin

dist_subbuild deb -DCMAKE_INSTALL_PREFIX=/usr
rm -f "$DIST_BUILD"/corepack_*.deb
(cd "$DIST_BUILD" && flock "$CP_BUILD_DIR/deb.lock" cpack -G DEB) >"$CP_WORK/logs/cpack.log" 2>&1 ||
	cp_fail "cpack -G DEB failed" "$CP_WORK/logs/cpack.log"
debs=("$DIST_BUILD"/corepack_*.deb)
((${#debs[@]} == 1)) && [[ -f ${debs[0]} ]] || cp_fail "cpack made no single corepack_*.deb" "$CP_WORK/logs/cpack.log"
deb=$CP_WORK/${debs[0]##*/}
cp "${debs[0]}" "$deb"
version=$("$COREPACK" --version | awk 'NR == 1 {print $2}')
[[ ${deb##*/} == corepack_${version}_$(dpkg --print-architecture).deb ]] ||
	cp_fail "the package is named ${deb##*/}, expected corepack_${version}_$(dpkg --print-architecture).deb"

cp_check "the package holds the binaries, the man pages, the format reference and the copyright file"
dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./|/|' >"$CP_WORK/logs/contents"
for f in /usr/bin/corepack /usr/bin/coreunpack /usr/share/man/man1/corepack.1 \
	/usr/share/man/man1/coreunpack.1 /usr/share/doc/corepack/bundle-format.md \
	/usr/share/doc/corepack/copyright; do
	grep -q -x -F "$f" "$CP_WORK/logs/contents" || cp_fail "the package has no $f" "$CP_WORK/logs/contents"
done

cp_check "Depends names the package of every shared library the binaries need"
depends=$(dpkg-deb -f "$deb" Depends)
cp_log "RESULT Depends: $depends"
cp_log "RESULT Recommends: $(dpkg-deb -f "$deb" Recommends); Suggests: $(dpkg-deb -f "$deb" Suggests)"
mkdir -p "$CP_WORK/x"
dpkg-deb -x "$deb" "$CP_WORK/x"
for bin in corepack coreunpack; do
	# The libraries the binary itself names (DT_NEEDED), where ldd finds them.
	ldd "$CP_WORK/x/usr/bin/$bin" >"$CP_WORK/logs/ldd-$bin" || cp_fail "ldd fails on $bin"
	readelf -dW "$CP_WORK/x/usr/bin/$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' >"$CP_WORK/logs/needed-$bin"
	[[ -s $CP_WORK/logs/needed-$bin ]] || cp_fail "$bin names no shared library"
	while IFS= read -r soname; do
		lib=$(awk -v n="$soname" '$1 == n && $2 == "=>" {print $3}' "$CP_WORK/logs/ldd-$bin")
		[[ $lib == /* ]] || cp_fail "ldd does not find $soname for $bin" "$CP_WORK/logs/ldd-$bin"
		pkg=$(dpkg -S "$lib" 2>/dev/null | head -n1 | cut -d: -f1 || true)
		[[ -n $pkg ]] || pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -n1 | cut -d: -f1 || true)
		[[ -n $pkg ]] || cp_fail "no package owns $lib ($soname, needed by $bin)"
		grep -q -E "(^|, )$pkg( \\(|,|\$)" <<<"$depends" ||
			cp_fail "$bin needs $soname of package $pkg, which Depends ($depends) does not name"
		cp_log "$bin needs $soname: $pkg, in Depends"
	done <"$CP_WORK/logs/needed-$bin"
done

dist_need_root "chroot into a pristine Debian 12 root (and debootstrap to make it)"
cp_need unshare:util-linux chroot:coreutils
dist_need_mount_ns
dist_root_tarball bookworm
R=$CP_WORK/bookworm
dist_extract "$DIST_TARBALL" "$R"
grep -q '^12' "$R/etc/debian_version" || cp_fail "the root is not Debian 12: $(cat "$R/etc/debian_version")"
[[ ! -e $R/usr/bin/corepack ]] || cp_fail "the pristine root already has corepack"

cp_check "apt install ./${deb##*/} on the pristine Debian 12"
cp "$deb" "$R/tmp/"
mirror=$(dist_mirror)
if ! dist_chroot "$R" apt-get update >"$CP_WORK/logs/apt-update.log" 2>&1; then
	grep -q -E 'Could not resolve|Failed to fetch|Temporary failure|Unable to connect' "$CP_WORK/logs/apt-update.log" &&
		cp_skip "apt in the root cannot reach the Debian mirror $mirror (no network?)"
	cp_fail "apt-get update failed in the root" "$CP_WORK/logs/apt-update.log"
fi
dist_chroot "$R" sh -c 'cd /tmp && exec apt install -y ./"$1"' sh "${deb##*/}" \
	>"$CP_WORK/logs/apt-install.log" 2>&1 ||
	cp_fail "apt install ./${deb##*/} failed on the pristine Debian 12" "$CP_WORK/logs/apt-install.log"
dist_chroot "$R" dpkg-query -W -f='${Status} ${Version}\n' corepack >"$CP_WORK/logs/status" 2>&1 ||
	cp_fail "dpkg does not know corepack after apt install" "$CP_WORK/logs/status" "$CP_WORK/logs/apt-install.log"
grep -q "^install ok installed $version\$" "$CP_WORK/logs/status" ||
	cp_fail "corepack is not installed" "$CP_WORK/logs/status"
sed -n 's/^Setting up \(.*\) \.\.\.$/  apt set up: \1/p' "$CP_WORK/logs/apt-install.log"

cp_check "corepack --version, coreunpack --version and man -w corepack in the root"
for bin in corepack coreunpack; do
	dist_chroot "$R" "$bin" --version >"$CP_WORK/logs/v-$bin" 2>&1 ||
		cp_fail "$bin --version fails on the pristine Debian 12" "$CP_WORK/logs/v-$bin"
	head -n1 "$CP_WORK/logs/v-$bin" | grep -q -x "$bin $version" ||
		cp_fail "$bin --version is not '$bin $version'" "$CP_WORK/logs/v-$bin"
done
# minbase has no man: install the pager people have (man-db), as a user
# would, and ask it where the page is.
dist_chroot "$R" apt-get install -y --no-install-recommends man-db >"$CP_WORK/logs/apt-man.log" 2>&1 ||
	cp_fail "cannot install man-db in the root" "$CP_WORK/logs/apt-man.log"
for page in corepack coreunpack; do
	dist_chroot "$R" man -w "$page" >"$CP_WORK/logs/man-$page" 2>&1 ||
		cp_fail "man -w $page fails" "$CP_WORK/logs/man-$page"
	grep -q -x "/usr/share/man/man1/$page.1\(.gz\)\?" "$CP_WORK/logs/man-$page" ||
		cp_fail "man -w $page does not find the installed page" "$CP_WORK/logs/man-$page"
done

cp_check "a real pack and unpack in the root"
dist_trio host /work "$R"
cp_trio_frames
dist_crash_in "$R" /work/crash /work/app /work/plugin.so
core_in=${CP_CORE#"$R"}
dist_chroot "$R" corepack -o /work/pkg.tar.zst "$core_in" >"$CP_WORK/logs/pack.out" 2>&1 ||
	cp_fail "the installed corepack failed in the root" "$CP_WORK/logs/pack.out"
sed 's/^/  corepack: /' "$CP_WORK/logs/pack.out"
dist_chroot "$R" coreunpack -C /work/unpacked /work/pkg.tar.zst >"$CP_WORK/logs/unpack.out" 2>&1 ||
	cp_fail "the installed coreunpack failed in the root" "$CP_WORK/logs/unpack.out"
[[ -x $R/work/unpacked/run-gdb.sh && -x $R/work/unpacked/run-lldb.sh ]] ||
	cp_fail "the unpacked tree has no run-gdb.sh and run-lldb.sh" "$CP_WORK/logs/unpack.out"

# What the package made there is debugged here, with the root hidden.
mv "$R/work/unpacked" "$CP_UNPACK/unpacked"
CP_BUNDLE_DIR=$CP_UNPACK/unpacked
CP_BUNDLE_FILE=$R/work/pkg.tar.zst
CP_BUNDLE_SIZE=$(stat -c %s "$CP_BUNDLE_FILE")
cp_hide_originals "$CP_WORK"
cp_check "gdb on what the installed coreunpack unpacked: ${CP_FRAMES[*]}"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" libcrash.so.1 plugin.so libc.so.6
cp_report
