#!/bin/sh
# Installs what corepack needs to build and test on Debian 12 (apt), then
# builds it in ./build.  Usage: scripts/setup.sh [BUILD_DIR [CMAKE_ARGS...]]
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
[ $# -gt 0 ] && shift

pkgs="build-essential cmake pkg-config libelf-dev libdw-dev libarchive-dev libcmocka-dev
libjson-c-dev libzstd-dev elfutils libc6-dbg gdb zstd xz-utils tar libarchive-tools clang binutils dwz strace bsdutils
util-linux python3 jq"
# 32-bit cores are tested where multilib exists.
[ "$(dpkg --print-architecture 2>/dev/null)" = amd64 ] && pkgs="$pkgs gcc-multilib"

missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	sudo=
	[ "$(id -u)" = 0 ] || sudo=sudo
	echo "setup: installing$missing"
	$sudo apt-get update -qq
	# shellcheck disable=SC2086
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
cmake --build "$build" -j"$(nproc)"
