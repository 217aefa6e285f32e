#!/bin/bash
# coreunpack killed with SIGKILL (the OOM killer, a supervisor's timeout)
# in the middle of an unpack (issue 19, kind 15): nothing can run on the
# way out, so its hidden staging directory, holding part of the bundle,
# stays.  The next coreunpack in that directory removes it before it
# starts, because no process holds its lock any more, and leaves alone the
# staging directory of a coreunpack that is still running.
#  1. A coreunpack waits on a FIFO: its staging directory is live.
#  2. Another is fed a bundle through a FIFO, half of it: once its
#     staging directory holds a file, SIGKILL.  It is left behind (the
#     control), and the live one's is still there.
#  3. A third unpacks a whole bundle there: it succeeds, the killed one's
#     directory is gone, the live one's is not.
#  4. The first gets its bundle and fails (the names exist by now);
#     nothing at all is left.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
cu_craft "$b/big.tar" <<'PY'
import random
random.seed(15)
b = Bundle.synthetic()
b.manifest['manifest_version'] = 1  # either form does; older coreunpacks read this one
b.file('sysroot/usr/lib/libbig.so', bytes(random.getrandbits(8) for _ in range(4 << 20)))
b.write(out)
PY
t=$CU_BOX/t
mkdir -p "$t"

# stages: the staging directories in $t, one per line.
stages() {
	find "$t" -mindepth 1 -maxdepth 1 -name '.coreunpack-*' -printf '%f\n' | sort
}

# wait_for WHAT COMMAND...: poll COMMAND for up to 10 s.
wait_for() {
	local what=$1 i
	shift
	for ((i = 0; i < 200; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	cp_fail "timed out waiting for $what"
}

cp_check "a coreunpack killed mid-unpack leaves its staging directory; a live one's stays"
mkfifo "$CP_WORK/fifo1" "$CP_WORK/fifo2"
"$COREUNPACK" -q -C "$t" "$CP_WORK/fifo2" >"$CP_WORK/logs/live.out" 2>&1 &
live=$!
exec 4>"$CP_WORK/fifo2"
one_stage() { [[ $(stages | wc -l) == 1 ]]; }
wait_for "the first coreunpack's staging directory" one_stage
live_stage=$(stages)

"$COREUNPACK" -q -C "$t" "$CP_WORK/fifo1" >"$CP_WORK/logs/killed.out" 2>&1 &
killed=$!
exec 3>"$CP_WORK/fifo1"
size=$(stat -c %s "$b/big.tar")
head -c $((size / 2)) "$b/big.tar" >&3
has_data() { [[ -n $(find "$t" -path '*/.coreunpack-*/*' -type f -print -quit) ]]; }
wait_for "the staging directory to hold a file" has_data
kill -KILL "$killed"
wait "$killed" 2>/dev/null || true
exec 3>&-
abandoned=$(stages | grep -v -x -F "$live_stage" || true)
[[ $(wc -l <<<"$abandoned") == 1 && -n $abandoned ]] ||
	cp_fail "control: expected one more staging directory after SIGKILL, found: '$(stages)'"
cp_log "left by SIGKILL: $abandoned ($(find "$t/$abandoned" -type f | wc -l) files)"
[[ -d $t/$live_stage ]] || cp_fail "the running coreunpack's $live_stage was removed by the killed one"

cu_run "$CP_WORK/logs/third" "$CU_BOX" -C t "$b/big.tar"
[[ $CU_ST == 0 ]] || cp_fail "coreunpack after the killed one exited $CU_ST" "$CP_WORK/logs/third.err"
for n in core manifest.json run-gdb.sh sysroot; do
	[[ -e $t/$n ]] || cp_fail "no $n in $t after the unpack"
done
[[ ! -e $t/$abandoned ]] || cp_fail "the killed coreunpack's $abandoned is still there"
[[ -d $t/$live_stage ]] || cp_fail "the running coreunpack's $live_stage was removed"
cmp -s <(tar -xOf "$b/big.tar" crash/sysroot/usr/lib/libbig.so) "$t/sysroot/usr/lib/libbig.so" ||
	cp_fail "libbig.so differs after the unpack"

cp_check "the first one finishes (refused: the names exist now) and nothing is left"
cat "$b/big.tar" >&4
exec 4>&-
st=0
wait "$live" || st=$?
[[ $st == 1 ]] || cp_fail "the first coreunpack exited $st, expected 1" "$CP_WORK/logs/live.out"
grep -q "appeared while unpacking" "$CP_WORK/logs/live.out" ||
	cp_fail "the first coreunpack's message" "$CP_WORK/logs/live.out"
[[ -z $(stages) ]] || cp_fail "staging directories left: $(stages)"
cp_finish
