#!/bin/bash
# Threads and libthread_db.  A four-thread program crashes; its bundle is
# unpacked twice and both directories are moved.  Without --trust gdb must
# use the host's libthread_db (native code from a bundle never runs by
# default) and still list every thread; with --trust it loads the
# bundle's (gdb 13 prints 'Using host libthread_db library "PATH"' either
# way: PATH tells them apart).  Each thread shows its own frames.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cu_need_unpack

src=$CP_PROGS/threads.c
mkdir -p "$CP_WORK/b"
gcc "${CP_CFLAGS[@]}" -pthread -o "$CP_WORK/b/threads" "$src"
cp_crash "$CP_WORK/crash" "$CP_WORK/b/threads"
cp_pack "$CP_CORE" "$CP_WORK/threads.tar.zst"
tdb_dir=$(jq -r '.gdb.thread_db_dir // empty' <(tar -xOf "$CP_BUNDLE_FILE" --wildcards '*/manifest.json' 2>/dev/null))
[[ -n $tdb_dir ]] || cp_fail "the bundle has no libthread_db (gdb.thread_db_dir)"

cu_unpack "$CP_UNPACK/plain" "$CP_BUNDLE_FILE"
grep -q "trusted" "$CU_OUT" && cp_fail "coreunpack says trusted without --trust" "$CU_OUT"
grep -q '^trust=0$' "$CP_UNPACK/plain/run-gdb.sh" || cp_fail "run-gdb.sh without --trust has no trust=0" "$CP_UNPACK/plain/run-gdb.sh"
cu_unpack "$CP_UNPACK/trusted" "$CP_BUNDLE_FILE" --trust
grep -q "^trusted: gdb will load the bundle's libthread_db$" "$CU_OUT" || cp_fail "coreunpack --trust does not say so" "$CU_OUT"
grep -q '^trust=1$' "$CP_UNPACK/trusted/run-gdb.sh" || cp_fail "run-gdb.sh with --trust has no trust=1" "$CP_UNPACK/trusted/run-gdb.sh"
mv "$CP_UNPACK/plain" "$CP_UNPACK/plain-moved"
mv "$CP_UNPACK/trusted" "$CP_UNPACK/trusted-moved"
cp_hide_originals "$CP_WORK"

crashing=(
	"crash_gamma threads.c:$(cp_line "$src" crash_gamma)"
	"work_gamma threads.c:$(cp_line "$src" work_gamma)"
	"thread_gamma threads.c:$(cp_line "$src" thread_gamma)"
)
for mode in plain trusted; do
	CP_BUNDLE_DIR=$CP_UNPACK/$mode-moved
	out=$CP_WORK/logs/gdb-$mode.out
	cp_gdb "$out" -batch -ex 'info threads' -ex bt -ex 'thread apply all bt' -ex 'info sharedlibrary'
	tdb_line=$(grep -E '^Using (host )?libthread_db library "' "$out" | head -n1 || true)
	[[ -n $tdb_line ]] || cp_fail "$mode: gdb loaded no libthread_db" "$out"
	if [[ $mode == trusted ]]; then
		cp_check "trusted: libthread_db from the bundle ($CP_BUNDLE_DIR/sysroot$tdb_dir)"
		[[ $tdb_line == *"\"$CP_BUNDLE_DIR/sysroot$tdb_dir/libthread_db"* ]] ||
			cp_fail "trusted: libthread_db not from the bundle: $tdb_line" "$out"
	else
		cp_check "plain: the host's libthread_db, none from the bundle"
		[[ $tdb_line == 'Using host libthread_db library "'* && $tdb_line != *"$CP_BUNDLE_DIR"* ]] ||
			cp_fail "plain: not the host's libthread_db: $tdb_line" "$out"
	fi
	cp_check "$mode: bt of the current thread: ${crashing[*]}"
	cp_gdb_section "$out" 2 >"$CP_WORK/logs/bt-$mode"
	cp_assert_frames "$CP_WORK/logs/bt-$mode" "$out" "${crashing[@]}"
	cp_check "$mode: info threads lists 4 threads"
	n=$(cp_gdb_section "$out" 1 | grep -c -E '^[* ] +[0-9]+ +Thread 0x' || true)
	[[ $n == 4 ]] || cp_fail "$mode: info threads lists $n threads (as 'Thread 0x...'), expected 4" "$out"
	rm -f "$CP_WORK"/logs/thread-[0-9]*
	cp_gdb_section "$out" 3 | awk -v dir="$CP_WORK/logs" '
		/^Thread [0-9]+ \(/ { f = dir "/thread-" $2; printf "" > f }
		f { print > f }' 
	for want in "park_alpha threads.c:* thread_alpha threads.c:$(cp_line "$src" thread_alpha)" \
		"park_beta threads.c:* thread_beta threads.c:$(cp_line "$src" thread_beta)" \
		"park_main threads.c:* main threads.c:$(cp_line "$src" main)"; do
		read -r f1 a1 f2 a2 <<<"$want"
		ok=0
		for f in "$CP_WORK"/logs/thread-[0-9]*; do
			(cp_assert_frames "$f" "$f1 $a1" "$f2 $a2") >/dev/null 2>&1 && ok=1 && break
		done
		((ok)) || cp_fail "$mode: no thread's backtrace has $f1 then $f2" "$out"
	done
	cp_assert_sharedlibs "$out" "$(cp_want_libc)"
done
cp_report
