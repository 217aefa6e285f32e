#!/bin/bash
# Benchmark: corepack and coreunpack against the tools people would use
# instead, on the same machine, runs alternated (A B C A B C ...), medians
# and ratios reported.  Not a test: it measures, it asserts nothing.
#
#   bench/run.sh [BUILD_DIR]        (default: build)
#
# Environment: ROUNDS (default 3), HEAP_MIB (1536), SPARSE_MIB (6144),
# LEVEL (3), THREADS (online CPUs), BENCH_DIR (/var/tmp/corepack-bench).
# Needs: GNU tar, zstd, bsdtar (libarchive-tools), /usr/bin/time (time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
corepack=$build/corepack
coreunpack=$build/coreunpack
rounds=${ROUNDS:-3}
level=${LEVEL:-3}
threads=${THREADS:-$(nproc)}
work=${BENCH_DIR:-/var/tmp/corepack-bench}

for t in tar zstd bsdtar /usr/bin/time gcc; do
	command -v "$t" >/dev/null || { echo "bench: '$t' not found (apt-get install tar zstd libarchive-tools time gcc)" >&2; exit 1; }
done
[ -x "$corepack" ] || { echo "bench: no corepack in $build (build first)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work"
cd "$work"
echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r)"
echo "== $(zstd --version | head -1); $(bsdtar --version); $(tar --version | head -1)"

gcc -O2 -o bigcore "$here/bigcore.c"
mkdir -p crash
( cd crash && ulimit -c unlimited && ../bigcore "${HEAP_MIB:-1536}" "${SPARSE_MIB:-6144}" ) 2>&1 || true
core=$work/crash/core
[ -f "$core" ] || { echo "bench: no core written (core_pattern: $(cat /proc/sys/kernel/core_pattern))" >&2; exit 1; }
echo "== core: $(du -h --apparent-size "$core" | cut -f1) apparent, $(du -h "$core" | cut -f1) allocated"

# The tree the other tools pack: the bundle's own unpacked contents.
"$corepack" -q -f --level "$level" -j "$threads" "$core" -o ref.tar.zst
rm -rf tree && mkdir tree && tar -C tree -xf ref.tar.zst
tree=$(ls tree)

# run NAME CMD...: one timed run; appends "seconds maxrss_kib size" to NAME.dat
run() {
	local name=$1 out=$2
	shift 2
	# Each tool creates its output afresh, as it would in use: replacing
	# the last round's 800 MiB file would time its deletion too (on ext4,
	# truncation for tar and bsdtar, a flush forced by rename for corepack).
	[ -f "$out" ] && rm -f "$out"
	sync
	echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
	/usr/bin/time -f '%e %M' -o time.tmp "$@" >/dev/null 2>run.err || { cat run.err >&2; exit 1; }
	local size=0
	[ -e "$out" ] && size=$(stat -c %s "$out")
	echo "$(cat time.tmp) $size" >>"$name.dat"
}

unpacked_blocks() { # allocated bytes of the core under DIR
	local f
	f=$(find "$1" -name core -type f | head -1)
	echo $(($(stat -c %b "$f") * $(stat -c %B "$f")))
}

rm -f ./*.dat
for i in $(seq "$rounds"); do
	echo "== round $i/$rounds"
	run corepack cp.tar.zst "$corepack" -q -f --level "$level" -j "$threads" "$core" -o cp.tar.zst
	run tar-zstd tz.tar.zst sh -c "tar -S -C tree -cf - '$tree' | zstd -q -T0 -$level >tz.tar.zst"
	run bsdtar bt.tar.zst bsdtar --zstd --options "zstd:compression-level=$level,zstd:threads=$threads" -C tree -cf bt.tar.zst "$tree"
	if [ -x "$coreunpack" ]; then
		rm -rf u1 u2 && mkdir u1 u2
		run coreunpack u1 "$coreunpack" -q -C u1 cp.tar.zst
		echo "$(unpacked_blocks u1)" >>coreunpack.blocks
		run zstd-tar u2 sh -c "zstd -dc cp.tar.zst | tar -C u2 -xf -"
		echo "$(unpacked_blocks u2)" >>zstd-tar.blocks
	fi
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
col() { awk -v c="$2" '{print $c}' "$1.dat" | median; }

echo
echo "== results (medians of $rounds runs; level $level, $threads threads)"
printf '%-12s %10s %12s %14s\n' tool seconds peak_rss_MiB size_MiB
for t in corepack tar-zstd bsdtar coreunpack zstd-tar; do
	[ -f "$t.dat" ] || continue
	printf '%-12s %10.2f %12.1f %14.1f\n' "$t" "$(col $t 1)" "$(echo "$(col $t 2) / 1024" | bc -l)" \
		"$(echo "$(col $t 3) / 1048576" | bc -l)"
done
cp_t=$(col corepack 1)
echo
printf 'pack time  corepack / tar-S|zstd-T0 : %.2f (target <= 0.80)\n' "$(echo "$cp_t / $(col tar-zstd 1)" | bc -l)"
printf 'pack time  corepack / bsdtar         : %.2f (target <= 1.00)\n' "$(echo "$cp_t / $(col bsdtar 1)" | bc -l)"
printf 'size       corepack / tar-S|zstd-T0 : %.3f (target within 2%%)\n' "$(echo "$(col corepack 3) / $(col tar-zstd 3)" | bc -l)"
printf 'size       corepack / bsdtar         : %.3f (target within 2%%)\n' "$(echo "$(col corepack 3) / $(col bsdtar 3)" | bc -l)"
printf 'peak RSS   corepack                  : %.1f MiB (target <= 64)\n' "$(echo "$(col corepack 2) / 1024" | bc -l)"
if [ -f coreunpack.dat ]; then
	printf 'unpack     coreunpack / zstd-dc|tar  : %.2f (target <= 1.00)\n' "$(echo "$(col coreunpack 1) / $(col zstd-tar 1)" | bc -l)"
	orig=$(($(stat -c %b "$core") * $(stat -c %B "$core")))
	printf 'unpacked core allocated / original  : %.3f (target within 10%%)\n' "$(echo "$(median <coreunpack.blocks) / $orig" | bc -l)"
fi
