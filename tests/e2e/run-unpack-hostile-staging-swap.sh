#!/bin/bash
# Another user swaps the staging directory for a symlink while coreunpack
# runs (issue 19, kind 1).  coreunpack used the staging directory by path
# (chdir, open, nftw): with -C DIR and DIR writable by someone else, a
# racing process could rename it away and put a symlink in its place, and
# the bundle (its own run-gdb.sh with it) was extracted where the symlink
# pointed, or left in the renamed directory.  Now the staging directory is
# only ever used through the descriptor it was created with: whatever the
# racer does, no file lands outside DIR, and the unpack either completes
# or is refused with nothing left.
#  1. Deterministic: the bundle comes through a FIFO, so coreunpack waits
#     with its staging directory made; the test renames it away, puts a
#     symlink to OUTSIDE in its place, then sends the bundle: a good one,
#     then one refused at its end (whose data the old code left in
#     OUTSIDE, its own run-gdb.sh included).
#  2. Racing: a loop swaps every staging directory it sees while
#     coreunpack unpacks a 4 MiB bundle, 12 times over.
# In both, OUTSIDE and the renamed directories must hold no file.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
cu_craft "$b/big.tar" <<'PY'
import random
random.seed(1)
b = Bundle.synthetic()
b.manifest['manifest_version'] = 1  # either form does; older coreunpacks read this one
b.file('sysroot/usr/lib/libbig.so', bytes(random.getrandbits(8) for _ in range(4 << 20)))
b.write(out)
PY
cu_craft "$b/refused.tar" <<'PY'
b = Bundle.synthetic()
b.manifest['manifest_version'] = 1
b.file('sysroot/usr/lib/libbad.so', b'these bytes', listed=False)
b.extra_files = [{'path': 'sysroot/usr/lib/libbad.so', 'size': 11, 'sha256': sha(b'other bytes')}]
b.write(out)
PY
t=$CU_BOX/shared
outside=$CP_WORK/outside
moved=$CP_WORK/moved
mkdir -p "$t" "$outside" "$moved"

# nothing_outside WHAT: no file or symlink in OUTSIDE or the renamed
# staging directories.
nothing_outside() {
	find "$outside" "$moved" -mindepth 1 ! -type d >"$CP_WORK/logs/outside"
	[[ ! -s $CP_WORK/logs/outside ]] ||
		cp_fail "$1: files were written outside '$t'" "$CP_WORK/logs/outside"
}

# the_outcome LOG STATUS: a completed unpack (coreunpack's run-gdb.sh in
# place, no staging directory) or a refusal that left no bundle name.
the_outcome() {
	local log=$1 st=$2 n
	if [[ $st == 0 ]]; then
		[[ -f $t/core && -f $t/run-gdb.sh && ! -L $t/run-gdb.sh ]] ||
			cp_fail "coreunpack succeeded but '$t' lacks the bundle" "$log"
		grep -q '^exec "\$gdb" -nx' "$t/run-gdb.sh" || cp_fail "run-gdb.sh is not coreunpack's" "$t/run-gdb.sh"
	else
		[[ $st == 1 ]] || cp_fail "coreunpack exited $st" "$log"
		for n in core sysroot debug manifest.json digests.json run-gdb.sh corepack.gdb report.txt; do
			[[ ! -e $t/$n ]] || cp_fail "refused, but '$t/$n' exists" "$log"
		done
	fi
	# Start the next round clean: the racer's symlinks and our names.
	find "$t" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
}

for bundle in big refused; do
	cp_check "$bundle: the staging directory renamed and replaced by a symlink before the bundle arrives"
	rm -f "$CP_WORK/fifo"
	mkfifo "$CP_WORK/fifo"
	"$COREUNPACK" -C "$t" "$CP_WORK/fifo" >"$CP_WORK/logs/fifo.out" 2>&1 &
	pid=$!
	exec 3>"$CP_WORK/fifo"
	for ((i = 0; i < 200; i++)); do
		stage=$(find "$t" -mindepth 1 -maxdepth 1 -name '.coreunpack-*' -type d -printf '%f\n' | head -n1)
		[[ -n $stage ]] && break
		sleep 0.05
	done
	[[ -n $stage ]] || cp_fail "coreunpack made no staging directory" "$CP_WORK/logs/fifo.out"
	mv "$t/$stage" "$moved/fifo-$bundle"
	ln -s "$outside" "$t/$stage"
	cat "$b/$bundle.tar" >&3
	exec 3>&-
	st=0
	wait "$pid" || st=$?
	sed 's/^/  coreunpack: /' "$CP_WORK/logs/fifo.out"
	nothing_outside "$bundle"
	[[ $bundle == big || $st == 1 ]] || cp_fail "the refused bundle exited $st" "$CP_WORK/logs/fifo.out"
	the_outcome "$CP_WORK/logs/fifo.out" "$st"
done

cp_check "a racer swapping every staging directory it sees, over 12 unpacks"
cat >"$CP_WORK/logs/racer.py" <<'PY'
import os, sys, time
t, outside, moved, stop = sys.argv[1:5]
swaps = 0
while not os.path.exists(stop):
    try:
        entries = list(os.scandir(t))
    except OSError:
        break  # the test is over
    for e in entries:
        if e.name.startswith('.coreunpack-') and e.is_dir(follow_symlinks=False):
            try:
                os.rename(e.path, os.path.join(moved, 'race-%d' % swaps))
                os.symlink(outside, e.path)
                swaps += 1
            except OSError:
                pass
print(swaps)
PY
python3 "$CP_WORK/logs/racer.py" "$t" "$outside" "$moved" "$CP_WORK/stop" >"$CP_WORK/logs/swaps" &
racer=$!
# A failure must not leave the racer running.
trap 'kill "$racer" 2>/dev/null || true; cp_cleanup' EXIT
refused=0
for ((round = 0; round < 12; round++)); do
	st=0
	"$COREUNPACK" -q -C "$t" "$b/big.tar" >"$CP_WORK/logs/race.out" 2>&1 || st=$?
	((st == 0)) || refused=$((refused + 1))
	nothing_outside "round $round"
	the_outcome "$CP_WORK/logs/race.out" "$st"
done
touch "$CP_WORK/stop"
wait "$racer"
swaps=$(cat "$CP_WORK/logs/swaps")
cp_log "the racer swapped $swaps staging directories; $refused of 12 unpacks were refused"
((swaps > 0)) || cp_fail "the racer never caught a staging directory: nothing was tested"
cp_finish
