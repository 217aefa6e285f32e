#!/bin/bash
# Benchmark for issue 17's targets: corepack and coreunpack against the
# floor (the least work any packer of this core must do) and against
# bsdtar, runs alternated, medians reported with their min-max and each
# ratio against its target.  A measurement, not a test: it asserts nothing
# and exits 0 after its report (1 when it cannot measure, 2 on bad options).
#
#   bench/run.sh [BUILD_DIR]        (default: build)
#
# What it measures, on a core made here (bench/bigcore.c: HEAP_MIB of mixed
# data, one page touched every 2 MiB of a SPARSE_MIB mapping, then abort):
#   pack:   corepack -q -f --level L -j T CORE -o cp.tar.zst
#     against the floor, zstd on the core's data bytes alone:
#           zstd -q -f -T$THREADS -$LEVEL data.bin -o floor.zst
#     where data.bin (bench/databytes.c, untimed) is the core's data
#     regions (SEEK_DATA/SEEK_HOLE) back to back, holes left out;
#     and against bsdtar on the bundle's own unpacked tree (untimed, from
#     the corepack under test):
#           bsdtar --zstd --options zstd:compression-level=L,zstd:threads=T
#                  -C tree -cf bt.tar.zst TOP
#   unpack: coreunpack -q -C DIR cp.tar.zst
#     against   zstd -d -q -f floor.zst -o data.out
#     and whether the unpacked core is still sparse (its allocated bytes
#     over the original core's).
#   small:  corepack on a small core (a -g program linked with 48 -g shared
#     libraries, ~40 MiB of data), warm, and the bundle's object count.
# Rounds alternate the tools (corepack, floor, bsdtar, coreunpack, zstd -d,
# then again), in each regime: "warm" (every input of the timed command
# read into the page cache just before) and "cold" (drop_caches just
# before).  Before every timed run, untimed: the tool's previous output
# deleted, sync, then the regime's preparation.  Wall seconds and peak RSS
# from /usr/bin/time.
#
# Environment: ROUNDS (default 5), HEAP_MIB (1536), SPARSE_MIB (6144),
# LEVEL (3), THREADS (2, the issue's setting), BENCH_DIR
# (/var/tmp/corepack-bench, emptied first), REGIMES ("warm cold"),
# BENCH_REUSE=1 (keep BENCH_DIR and reuse its cores and data.bin when
# present; the bundle and the tree are always made again).
# Needs: a built corepack and coreunpack, gcc, zstd, bsdtar
# (libarchive-tools), GNU tar, jq, /usr/bin/time (time);
# kernel.core_pattern a plain file name (e.g. core); root for the cold
# regime (skipped otherwise); free disk of about seven times the core's
# data (HEAP_MIB).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
corepack=$build/corepack
coreunpack=$build/coreunpack
rounds=${ROUNDS:-5}
level=${LEVEL:-3}
threads=${THREADS:-2}
heap_mib=${HEAP_MIB:-1536}
sparse_mib=${SPARSE_MIB:-6144}
work=${BENCH_DIR:-/var/tmp/corepack-bench}
regimes=${REGIMES:-warm cold}
reuse=${BENCH_REUSE:-0}

die() {
	echo "bench: $*" >&2
	exit 1
}

for v in "$rounds" "$level" "$threads" "$heap_mib" "$sparse_mib"; do
	case $v in
	'' | *[!0-9]*) echo "bench: ROUNDS, LEVEL, THREADS, HEAP_MIB, SPARSE_MIB must be numbers" >&2 && exit 2 ;;
	esac
done
[ "$rounds" -ge 1 ] || { echo "bench: ROUNDS must be at least 1" >&2 && exit 2; }
for r in $regimes; do
	case $r in
	warm | cold) ;;
	*) echo "bench: unknown regime '$r' in REGIMES (warm, cold)" >&2 && exit 2 ;;
	esac
done
for t in tar zstd bsdtar /usr/bin/time gcc jq awk; do
	command -v "$t" >/dev/null || die "'$t' not found (apt-get install tar zstd libarchive-tools time gcc jq gawk)"
done
{ [ -x "$corepack" ] && [ -x "$coreunpack" ]; } || die "no corepack or coreunpack in $build (build first)"

# The kernel must write the core as a file in the crashing program's
# directory: a pipe handler or a path elsewhere would not leave it here.
pattern=$(cat /proc/sys/kernel/core_pattern)
case $pattern in
'' | *'/'* | '|'* | *'%'*) die "kernel.core_pattern is '$pattern', not a plain file name (sysctl kernel.core_pattern=core)" ;;
esac

# The cold regime needs drop_caches, root only (and not in every container).
if [[ " $regimes " == *" cold "* ]]; then
	why=
	if [ "$(id -u)" != 0 ]; then
		why="not root"
	elif ! { sync && echo 3 >/proc/sys/vm/drop_caches; } 2>/dev/null; then
		why="cannot write /proc/sys/vm/drop_caches"
	fi
	if [ -n "$why" ]; then
		echo "== cold regime skipped: $why (drop_caches needs root)"
		kept=
		for r in $regimes; do
			[ "$r" = cold ] || kept="${kept:+$kept }$r"
		done
		regimes=$kept
	fi
fi

[ "$reuse" = 1 ] || rm -rf "${work:?}"
mkdir -p "$work"
cd "$work"

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/ {print $2}') GiB, kernel $(uname -r), $(df --output=fstype . | tail -1) at $work; $(date -u +%F)"
echo "== $("$corepack" --version | head -1); $("$coreunpack" --version | head -1)"
echo "== $(zstd --version | head -1 | sed 's/^[* ]*//; s/[* ]*$//'); $(bsdtar --version); $(tar --version | head -1)"
echo "== level $level, $threads threads, $rounds rounds, regimes: ${regimes:-none}"

# crashcore DIR: the core the kernel wrote in DIR (core or core.PID)
crashcore() {
	local f
	for f in "$1/$pattern" "$1/$pattern".*; do
		[ -f "$f" ] && echo "$f" && return 0
	done
	return 1
}
allocated() {
	local b
	b=$(stat -c '%b * %B' "$1")
	echo $((b))
}
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }

# The big core and its data bytes (both reused with BENCH_REUSE=1).
gcc -O2 -o databytes "$here/databytes.c"
if ! core=$(crashcore "$work/crash"); then
	gcc -O2 -o bigcore "$here/bigcore.c"
	rm -rf crash data.bin && mkdir crash
	# (the shell's "Aborted (core dumped)" goes to the log too)
	{ (cd crash && ulimit -c unlimited && ../bigcore "$heap_mib" "$sparse_mib") >crash.log 2>&1; } 2>>crash.log || true
	core=$(crashcore "$work/crash") || die "no core written in $work/crash: $(tr '\n' ' ' <crash.log)"
elif [ "$reuse" = 1 ]; then
	echo "== reusing $core (HEAP_MIB and SPARSE_MIB ignored)"
fi
[ data.bin -nt "$core" ] || ./databytes "$core" data.bin
core_alloc=$(allocated "$core")
echo "== core: $(mib "$(stat -c %s "$core")") MiB apparent, $(mib "$core_alloc") MiB allocated, $(mib "$(stat -c %s data.bin)") MiB of data"

# The small core: 48 tiny -g shared libraries and a -g program calling each
# of them, with ~40 MiB of mixed data, aborted in a directory of its own.
if ! small_core=$(crashcore "$work/small/crash"); then
	rm -rf small && mkdir -p small/crash
	{
		echo '#include <stdint.h>'
		echo '#include <stdlib.h>'
		echo '#include <string.h>'
		for i in $(seq -w 0 47); do echo "int f$i(int);"; done
		cat <<'EOF'
int main(void)
{
	static const char text[] = "GET /api/v1/items status: ok request timeout id=";
	uint64_t r = 0x9e3779b97f4a7c15ull;
	volatile int sum = 0;
	for (int i = 0; i < 40; i++) {
		uint8_t *p = malloc(1 << 20);
		for (size_t o = 0; o < 1 << 20; o += 64) {
			r ^= r << 13, r ^= r >> 7, r ^= r << 17;
			if (i % 3 == 0) /* random */
				for (int k = 0; k < 64; k += 8, r = r * 6364136223846793005ull + 1)
					memcpy(p + o + k, &r, 8);
			else if (i % 3 == 1) /* text-like */
				memcpy(p + o, text + r % 16, 32), memcpy(p + o + 32, text + r % 13, 32);
			else /* small integers */
				memset(p + o, 0, 64), memcpy(p + o, &r, 2);
		}
		sum += p[i];
	}
EOF
		for i in $(seq -w 0 47); do echo "	sum += f$i(sum);"; done
		echo '	abort();'
		echo '}'
	} >small/main.c
	libs=()
	for i in $(seq -w 0 47); do
		echo "int f$i(int x) { return x * $((10#$i + 3)) + $((10#$i)); }" >"small/s$i.c"
		gcc -shared -fPIC -g -o "small/libs$i.so" "small/s$i.c"
		libs+=("-ls$i")
	done
	gcc -g -o small/smallcore small/main.c -L"$work/small" "${libs[@]}" -Wl,-rpath,"$work/small"
	{ (cd small/crash && ulimit -c unlimited && ../smallcore) >small/crash.log 2>&1; } 2>>small/crash.log || true
	small_core=$(crashcore "$work/small/crash") || die "no core written in $work/small/crash: $(tr '\n' ' ' <small/crash.log)"
fi
echo "== small core: $(mib "$(stat -c %s "$small_core")") MiB apparent"

# The tree bsdtar packs: the bundle's own unpacked contents, always from
# the corepack under test, named as the timed runs' bundle is (its top
# directory is the bundle's name).  Its manifest also names the files corepack
# reads, which the warm regime reads in first.
"$corepack" -q -f --level "$level" -j "$threads" "$core" -o cp.tar.zst
rm -rf tree && mkdir tree && tar -C tree -xf cp.tar.zst
top=$(ls tree)
manifest=tree/$top/manifest.json
core_in_bundle=$(jq -r .core.path "$manifest")
origins() { jq -r '.objects[] | .file, (.debug[]? | .origin) | select(. != null)' "$1"; }
{
	echo "$core"
	origins "$manifest"
} >corepack.in
"$corepack" -q -f --level "$level" -j "$threads" "$small_core" -o small.tar.zst
tar -xOf small.tar.zst --wildcards '*/manifest.json' >small.json
{
	echo "$small_core"
	origins small.json
} >small.in
small_objects=$(jq '.objects | length' small.json)

# readin LIST: read every file LIST names (directories recursively) into
# the page cache; GNU tar -S reads a sparse file's data regions only, where
# cat would also fill the cache with the holes' zeros (a file gone since
# the manifest was made, as after an upgrade with BENCH_REUSE=1, is skipped).
readin() { tar -S -P --ignore-failed-read -cf - -T "$1" | cat >/dev/null; }
echo "$work/data.bin" >floor.in
echo "$work/tree" >bsdtar.in
echo "$work/cp.tar.zst" >coreunpack.in
echo "$work/floor.zst" >zstd-d.in

# run REGIME NAME OUTPUT CMD...: one timed run of CMD writing OUTPUT (a file
# or a directory); appends "seconds peak_rss_kib output_bytes" to
# REGIME-NAME.dat.
run() {
	local regime=$1 name=$2 out=$3
	shift 3
	# Each tool makes its output afresh, as in use: replacing the last
	# round's file would time its deletion too.
	rm -rf "$out"
	[ "$name" = coreunpack ] && mkdir "$out"
	sync
	case $regime in
	warm) readin "$name.in" ;;
	cold) echo 3 >/proc/sys/vm/drop_caches ;;
	esac
	/usr/bin/time -f '%e %M' -o time.tmp "$@" >/dev/null 2>run.err || {
		cat run.err >&2
		die "$name failed"
	}
	local size
	if [ -d "$out" ]; then
		size=$(du -s -B1 "$out" | cut -f1) # allocated: the tree is sparse
	else
		size=$(stat -c %s "$out")
	fi
	echo "$(cat time.tmp) $size" >>"$regime-$name.dat"
}

rm -f ./*.dat ./*.blocks
for regime in $regimes; do
	for i in $(seq "$rounds"); do
		echo "== $regime round $i/$rounds"
		run "$regime" corepack cp.tar.zst "$corepack" -q -f --level "$level" -j "$threads" "$core" -o cp.tar.zst
		run "$regime" floor floor.zst zstd -q -f "-T$threads" "-$level" data.bin -o floor.zst
		run "$regime" bsdtar bt.tar.zst bsdtar --zstd --options "zstd:compression-level=$level,zstd:threads=$threads" -C tree -cf bt.tar.zst "$top"
		run "$regime" coreunpack u "$coreunpack" -q -C u cp.tar.zst
		allocated "u/$core_in_bundle" >>"$regime-coreunpack.blocks"
		run "$regime" zstd-d data.out zstd -d -q -f floor.zst -o data.out
	done
done
for i in $(seq "$rounds"); do
	run warm small small.tar.zst "$corepack" -q -f --level "$level" -j "$threads" "$small_core" -o small.tar.zst
done

# stats FILE COL [DIV]: "median min max" of column COL of FILE, each / DIV
stats() {
	awk -v c="$2" '{print $c}' "$1" | sort -g | awk -v d="${3:-1}" '
		{ a[NR] = $1 / d }
		END { printf "%s %s %s\n", (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2), a[1], a[NR] }'
}
med() { stats "$@" | cut -d' ' -f1; }
# verdict LABEL VALUE FORMAT TEST LIMIT TARGET: the report line for VALUE
# printed with FORMAT, "met" when the printed value passes TEST (le: <=
# LIMIT, lt: < LIMIT, within: |value - 1| <= LIMIT); VALUE "-" when it
# could not be computed (a median of 0 s below it).
verdict() {
	awk -v l="$1" -v v="$2" -v f="$3" -v t="$4" -v lim="$5" -v tt="$6" 'BEGIN {
		if (v == "-") { printf "%-40s: n/a (target %s)\n", l, tt; exit }
		s = sprintf(f, v); x = s + 0
		ok = (t == "le") ? x <= lim : (t == "lt") ? x < lim : (x - 1 <= lim && 1 - x <= lim)
		printf "%-40s: %s (target %s) %s\n", l, s, tt, ok ? "met" : "NOT met" }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "-"; else print a / b }'; }

row() { # row LABEL DATFILE
	local s r z
	read -r -a s <<<"$(stats "$2" 1)"
	read -r -a r <<<"$(stats "$2" 2 1024)"
	read -r -a z <<<"$(stats "$2" 3 1048576)"
	printf '%-12s %6.2f (%5.2f-%5.2f) %6.1f (%5.1f-%5.1f) %7.1f (%.1f-%.1f)\n' "$1" \
		"${s[0]}" "${s[1]}" "${s[2]}" "${r[0]}" "${r[1]}" "${r[2]}" "${z[0]}" "${z[1]}" "${z[2]}"
}

for regime in $regimes; do
	echo
	echo "== $regime: medians (min-max) of $rounds runs; level $level, $threads threads"
	printf '%-12s %-20s %-20s %s\n' tool seconds 'peak RSS MiB' 'output MiB'
	row corepack "$regime-corepack.dat"
	row floor "$regime-floor.dat"
	row bsdtar "$regime-bsdtar.dat"
	row coreunpack "$regime-coreunpack.dat"
	row 'zstd -d' "$regime-zstd-d.dat"
	echo "(output: the file's size; for coreunpack the unpacked tree's allocated bytes)"
	echo
	cp_t=$(med "$regime-corepack.dat" 1)
	verdict "$regime pack time corepack / floor" "$(ratio "$cp_t" "$(med "$regime-floor.dat" 1)")" %.2f le 1.10 '<= 1.10'
	verdict "$regime pack time corepack / bsdtar" "$(ratio "$cp_t" "$(med "$regime-bsdtar.dat" 1)")" %.2f le 1.00 '<= 1.00'
	verdict "$regime unpack time coreunpack / zstd -d" \
		"$(ratio "$(med "$regime-coreunpack.dat" 1)" "$(med "$regime-zstd-d.dat" 1)")" %.2f le 1.00 '<= 1.00'
	verdict "$regime peak RSS corepack, max (MiB)" "$(stats "$regime-corepack.dat" 2 1024 | cut -d' ' -f3)" %.1f le 64 '<= 64'
	verdict "$regime peak RSS coreunpack, max (MiB)" "$(stats "$regime-coreunpack.dat" 2 1024 | cut -d' ' -f3)" %.1f le 64 '<= 64'
	verdict "$regime unpacked core allocated / original" \
		"$(ratio "$(stats "$regime-coreunpack.blocks" 1 | cut -d' ' -f1)" "$core_alloc")" %.3f within 0.10 'within 10%'
done

echo
first=${regimes%% *}
if [ -n "$first" ]; then
	verdict "bundle size corepack / bsdtar" \
		"$(ratio "$(med "$first-corepack.dat" 3)" "$(med "$first-bsdtar.dat" 3)")" %.3f within 0.02 'within 2%'
fi
read -r -a s <<<"$(stats warm-small.dat 1)"
echo "small core: $small_objects objects, $(mib "$(stat -c %s "$small_core")") MiB; corepack ${s[0]} s (${s[1]}-${s[2]}) warm, bundle $(mib "$(med warm-small.dat 3)") MiB"
verdict "small core pack time, median (s)" "${s[0]}" %.2f lt 1 '< 1 s'
