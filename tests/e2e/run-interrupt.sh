#!/bin/bash
# Packing a large core: the progress line appears on a terminal and only
# there; --nice lowers the CPU priority of the packing process; Ctrl-C
# (SIGINT) and SIGTERM stop it with exit 1 and leave no bundle and no
# temporary file.
source "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need script:bsdutils

gcc "${CP_CFLAGS[@]}" -o "$CP_WORK/bigheap" "$CP_PROGS/bigheap.c"
cp_crash "$CP_WORK/run" "$CP_WORK/bigheap" 96
core=$CP_CORE
out=$CP_UNPACK/out
mkdir -p "$out"

cp_check "no progress line when stderr is not a terminal"
"$COREPACK" -f --no-backtrace --level 1 "$core" -o "$out/a.tar.zst" >/dev/null 2>"$out/err" ||
	cp_fail "corepack failed" "$out/err"
if grep -q $'\r' "$out/err"; then cp_fail "progress written to a non-terminal" "$out/err"; fi

cp_check "a progress line on a terminal (bytes done of total, rate, time left), none with -q"
# script(1) gives corepack a terminal; its stderr lands in the typescript.
script -qec "'$COREPACK' -f --no-backtrace --level 3 -j1 '$core' -o '$out/b.tar.zst' >/dev/null" "$out/tty.log" >/dev/null
grep -aqE $'\r''corepack: [0-9.]+ [KMG]i?B of [0-9.]+ [KMG]i?B, [0-9.]+ [KMG]i?B/s, [0-9]+s left' "$out/tty.log" ||
	cp_fail "no progress line on the terminal" "$out/tty.log"
script -qec "'$COREPACK' -q -f --no-backtrace --level 1 '$core' -o '$out/c.tar.zst'" "$out/tty-q.log" >/dev/null
if grep -aq 'MiB/s' "$out/tty-q.log"; then cp_fail "-q still shows progress" "$out/tty-q.log"; fi
rm -f "$out"/*.tar.zst

# interrupt SIGNAL: start a slow pack, wait until it writes its temporary
# file, send SIGNAL, expect exit 1, one message, nothing left.
interrupt() {
	local sig=$1 pid st=0 nice_field
	"$COREPACK" --nice --no-backtrace --level 9 -j1 "$core" -o "$out/x.tar.zst" >/dev/null 2>"$out/int.err" &
	pid=$!
	cp_wait_writing "$pid" "$out" || cp_fail "no temporary file appeared beside the output"
	if [[ $sig == INT ]]; then
		# field 19 of /proc/PID/stat is the nice value
		nice_field=$(awk '{print $19}' "/proc/$pid/stat")
		[[ $nice_field == 19 ]] || cp_fail "--nice: nice value $nice_field, expected 19"
	fi
	kill -s "$sig" "$pid"
	wait "$pid" || st=$?
	[[ $st == 1 ]] || cp_fail "SIG$sig: exit status $st, expected 1" "$out/int.err"
	grep -q '^corepack: interrupted; no bundle written$' "$out/int.err" ||
		cp_fail "SIG$sig: no 'interrupted' message" "$out/int.err"
	[[ -z $(ls -A "$out" | grep -v '^int\.err$\|^err$\|^tty') ]] ||
		cp_fail "SIG$sig left files behind: $(ls -A "$out")"
}
cp_check "--nice runs at nice 19; SIGINT stops the pack and leaves nothing"
interrupt INT
cp_check "SIGTERM stops the pack and leaves nothing"
interrupt TERM
cp_log "RESULT interrupted twice, nothing left in $out"
cp_finish
