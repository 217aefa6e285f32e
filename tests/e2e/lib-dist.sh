# Helpers for the distribution tests (run-static*.sh, run-deb.sh), on top of
# lib.sh (sourced here): a build tree of their own beside the suite's (the
# static binaries, the Debian package), and Debian roots made by
# debootstrap, cached as tarballs, to run programs in with chroot.
#
# Environment: CP_BUILD_DIR (set by tests/e2e/CMakeLists.txt) is the build
# tree running the suite; the sub-builds go below it.  CP_DIST_CACHE
# overrides where the roots are cached (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/corepack-tests).

# shellcheck source=tests/e2e/lib.sh
. "${CP_E2E_DIR:-$(dirname "${BASH_SOURCE[0]}")}/lib.sh"

# dist_subbuild NAME CMAKE-ARGS...: configure and build the source tree in
# $CP_BUILD_DIR/NAME (kept: the next run only rebuilds what changed), with
# the binaries only (no tests), under a lock, since ctest -j runs tests at
# the same time.  Sets DIST_BUILD.
dist_subbuild() {
	local name=$1 src=${CP_SRC_DIR:-$(cd "$CP_E2E_DIR/../.." && pwd)}
	shift
	cp_need cmake:cmake flock:util-linux
	[[ -n ${CP_BUILD_DIR:-} && -d $CP_BUILD_DIR ]] ||
		cp_fail "CP_BUILD_DIR is not set to the build tree (run through ctest)"
	DIST_BUILD=$CP_BUILD_DIR/$name
	cp_log "building $DIST_BUILD: cmake $*"
	# A sanitizer or compiler chosen for the suite's build stays out.
	if ! (
		unset CFLAGS LDFLAGS CC
		flock 9
		cmake -S "$src" -B "$DIST_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF "$@" &&
			cmake --build "$DIST_BUILD" -j2
	) 9>"$CP_BUILD_DIR/$name.lock" >"$CP_WORK/logs/build-$name.log" 2>&1; then
		cp_fail "the build in $DIST_BUILD failed" "$CP_WORK/logs/build-$name.log"
	fi
}

# dist_need_root REASON: skip unless root.
dist_need_root() {
	[[ $(id -u) == 0 ]] || cp_skip "needs root: $1"
}

# The Debian mirror this machine uses (apt's sources), else deb.debian.org.
dist_mirror() {
	local m
	m=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	[[ -n $m ]] || m=$(awk '$1 == "deb" && $2 ~ /^https?:/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
	printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# dist_root_tarball SUITE [PACKAGE...]: set DIST_TARBALL to a tarball of a
# Debian SUITE root (debootstrap --variant=minbase, plus PACKAGEs), made on
# first use and cached.  Skips when it must be made and debootstrap or the
# mirror is missing.  A plain bookworm root may come from the lead's
# fresh-machine cache.
dist_root_tarball() {
	local suite=$1 cache=${CP_DIST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/corepack-tests} name mirror tmp
	shift
	name=$suite-minbase
	(($# > 0)) && name=$name-$(printf '%s\n' "$@" | sort | tr '\n' '+' | sed 's/+$//')
	DIST_TARBALL=$cache/$name.tar
	if [[ ! -s $DIST_TARBALL && $suite == bookworm && $# == 0 ]]; then
		local fm=${XDG_CACHE_HOME:-$HOME/.cache}/fresh-machine/bookworm-minbase.tar
		[[ -s $fm ]] && DIST_TARBALL=$fm
	fi
	if [[ -s $DIST_TARBALL ]]; then
		cp_log "Debian $suite root: $DIST_TARBALL (cached)"
		return 0
	fi
	command -v debootstrap >/dev/null 2>&1 || cp_skip "no cached $suite root and no debootstrap (apt-get install debootstrap)"
	mirror=$(dist_mirror)
	if command -v wget >/dev/null 2>&1; then
		wget -q -T 20 -t 1 -O /dev/null "$mirror/dists/$suite/Release" ||
			cp_skip "no cached $suite root and the Debian mirror $mirror does not answer (no network?)"
	fi
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/.debootstrap-$suite.XXXXXX")
	cp_log "making a Debian $suite root with debootstrap ($mirror${*:+, then apt-get install $*}); cached in $DIST_TARBALL"
	# Packages go in with apt afterwards: debootstrap's --include does not
	# order the configuration of a large set (gdb's failed on bullseye).
	if ! debootstrap --variant=minbase "$suite" "$tmp/root" "$mirror" \
		>"$CP_WORK/logs/debootstrap.log" 2>&1; then
		rm -rf -- "$tmp"
		cp_fail "debootstrap $suite failed" "$CP_WORK/logs/debootstrap.log"
	fi
	if (($# > 0)); then
		cp /etc/resolv.conf "$tmp/root/etc/resolv.conf" 2>/dev/null || true
		if ! { dist_chroot "$tmp/root" apt-get update &&
			dist_chroot "$tmp/root" apt-get install -y --no-install-recommends "$@" &&
			dist_chroot "$tmp/root" apt-get clean; } >"$CP_WORK/logs/apt-root.log" 2>&1; then
			rm -rf -- "$tmp"
			cp_fail "apt-get install $* failed in the new $suite root" "$CP_WORK/logs/apt-root.log"
		fi
	fi
	tar -C "$tmp/root" -cf "$tmp/root.tar" . && mv "$tmp/root.tar" "$DIST_TARBALL"
	rm -rf -- "$tmp"
}

# dist_extract TARBALL DIR: a fresh root in DIR, with the host's resolver
# configuration (for apt).
dist_extract() {
	mkdir -p "$2"
	tar -C "$2" -xf "$1" || cp_fail "cannot extract $1"
	cp /etc/resolv.conf "$2/etc/resolv.conf" 2>/dev/null || true
}

# dist_need_mount_ns: skip unless a private mount namespace can be made
# here (dist_chroot mounts /proc and /dev in one).  In a chroot whose / is
# not a mount point (as a pristine-machine CI runs in), unshare cannot make
# / private: "cannot change root filesystem propagation".
dist_need_mount_ns() {
	local err
	err=$(unshare -m -- true 2>&1) ||
		cp_skip "cannot make a private mount namespace here (unshare -m: ${err##*: }; a chroot whose / is not a mount point?)"
}

# dist_chroot ROOT CMD...: run CMD (argv, no shell) in ROOT, in a private
# mount namespace with /proc and /dev, with a plain environment; the core
# size limit is inherited (cp_init raised it).
dist_chroot() {
	local root=$1
	shift
	unshare -m -- sh -c 'r=$1; shift
		mount -t proc proc "$r/proc" && mount --rbind /dev "$r/dev" || exit 125
		exec chroot "$r" /usr/bin/env -i HOME=/root LC_ALL=C DEBIAN_FRONTEND=noninteractive \
			PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"' sh "$root" "$@"
}

# dist_trio GCC-PREFIX DIR ROOT: build lib.sh's trio (app, libcrash, plugin;
# debug info in the objects) in ROOT$DIR, for running at DIR in ROOT.
# GCC-PREFIX is "chroot" to compile inside ROOT with its own gcc (for a root
# whose libc is older than this machine's), or "host".
dist_trio() {
	local how=$1 dir=$2 root=$3 p
	mkdir -p "$root$dir/lib" "$root$dir/src"
	cp "$CP_PROGS"/app.c "$CP_PROGS"/plugin.c "$CP_PROGS"/libcrash.c "$CP_PROGS"/libcrash.h "$root$dir/src/"
	local run=()
	p=$root$dir
	if [[ $how == chroot ]]; then
		run=(dist_chroot "$root")
		p=$dir
	fi
	{
		"${run[@]}" gcc "${CP_CFLAGS[@]}" -fPIC -shared -Wl,-soname,libcrash.so.1 \
			-o "$p/lib/libcrash.so.1" "$p/src/libcrash.c" &&
			ln -sf libcrash.so.1 "$root$dir/lib/libcrash.so" &&
			"${run[@]}" gcc "${CP_CFLAGS[@]}" -fPIC -shared -I"$p/src" -o "$p/plugin.so" \
				"$p/src/plugin.c" -L"$p/lib" -lcrash -Wl,-rpath,"$dir/lib" &&
			"${run[@]}" gcc "${CP_CFLAGS[@]}" -I"$p/src" -o "$p/app" "$p/src/app.c" \
				-L"$p/lib" -lcrash -Wl,-rpath,"$dir/lib" -ldl
	} >"$CP_WORK/logs/trio-build.log" 2>&1 || cp_fail "building the trio ($how) failed" "$CP_WORK/logs/trio-build.log"
}

# dist_crash_in ROOT DIR CMD...: run CMD in ROOT with working directory DIR
# (in ROOT), expect it to die of a signal; CP_CORE is the core it wrote
# (host path).
dist_crash_in() {
	local root=$1 dir=$2 st=0
	shift 2
	mkdir -p "$root$dir"
	touch "$root$dir/.stamp"
	dist_chroot "$root" sh -c 'cd "$1" && shift && exec "$@"' sh "$dir" "$@" \
		</dev/null >"$CP_WORK/logs/crash.out" 2>&1 || st=$?
	((st > 128)) || cp_fail "'$*' in $root was expected to crash, exit status $st" "$CP_WORK/logs/crash.out"
	[[ $CP_CORE_PATTERN != /* ]] ||
		cp_skip "core_pattern '$CP_CORE_PATTERN' is absolute: the core of a chrooted process lands in the chroot's $CP_CORE_PATTERN"
	local f cands=()
	cp_core_location "$root$dir"
	while IFS= read -r -d '' f; do
		cands+=("$f")
	done < <(find "$CP_CORE_DIR" -maxdepth 1 -type f -name "$CP_CORE_PREFIX*" ! -name '.*' \
		-newer "$root$dir/.stamp" -print0 2>/dev/null)
	((${#cands[@]} == 1)) ||
		cp_skip "the crash in $root left ${#cands[@]} core files in $CP_CORE_DIR (core_pattern '$CP_CORE_PATTERN')"
	CP_CORE=${cands[0]}
	cp_log "crashed '$*' in $root (signal $((st - 128))), core $CP_CORE"
}
