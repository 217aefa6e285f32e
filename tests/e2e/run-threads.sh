#!/bin/bash
# A program with four threads, each in its own functions; thread "gamma"
# crashes once all of them have reached a barrier.  gdb on the bundle must
# show the crash in the current thread, list all four threads in
# "info threads", and show each thread's own frames with file:line in
# "thread apply all bt".
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init

src=$CP_PROGS/threads.c
mkdir -p "$CP_WORK/b"
gcc "${CP_CFLAGS[@]}" -pthread -o "$CP_WORK/b/threads" "$src"
cp_crash "$CP_WORK/crash" "$CP_WORK/b/threads"
CP_SELF_EXE=$CP_WORK/b/threads

if [[ $CP_SELFCHECK != 1 ]]; then
	cp_pack "$CP_CORE" "$CP_WORK/threads.tar.zst"
	cp_extract "$CP_BUNDLE_FILE"
	cp_check_layout "$CP_CORE"
	cp_hide_originals "$CP_WORK"
fi

out=$CP_WORK/logs/gdb.out
cp_gdb "$out" -batch -ex 'info threads' -ex bt -ex 'thread apply all bt'

crashing=(
	"crash_gamma threads.c:$(cp_line "$src" crash_gamma)"
	"work_gamma threads.c:$(cp_line "$src" work_gamma)"
	"thread_gamma threads.c:$(cp_line "$src" thread_gamma)"
)
cp_check "bt of the current thread: ${crashing[*]}"
cp_gdb_section "$out" 2 >"$CP_WORK/logs/bt-current"
cp_assert_frames "$CP_WORK/logs/bt-current" "$out" "${crashing[@]}"

cp_check "info threads lists 4 threads"
n=$(cp_gdb_section "$out" 1 | grep -c -E '^[* ] +[0-9]+ +(Thread|LWP) ' || true)
[[ $n == 4 ]] || cp_fail "info threads lists $n threads, expected 4" "$out"

# One file per thread of "thread apply all bt".
cp_gdb_section "$out" 3 | awk -v dir="$CP_WORK/logs" '
	/^Thread [0-9]+ \(/ { f = dir "/thread-" $2; printf "" > f }
	f { print > f }' 
sections=("$CP_WORK"/logs/thread-[0-9]*)
n=${#sections[@]}
[[ $n == 4 ]] || cp_fail "thread apply all bt shows $n threads, expected 4" "$out"

# each_thread SPEC...: some thread's backtrace has these frames.
each_thread() {
	local f
	cp_check "a thread shows $*"
	for f in "$CP_WORK"/logs/thread-[0-9]*; do
		if (cp_assert_frames "$f" "$@") >/dev/null 2>&1; then
			return 0
		fi
	done
	cp_fail "no thread's backtrace has the frames $*" "$out"
}
each_thread "${crashing[@]}"
each_thread "park_alpha threads.c:*" "thread_alpha threads.c:$(cp_line "$src" thread_alpha)"
each_thread "park_beta threads.c:*" "thread_beta threads.c:$(cp_line "$src" thread_beta)"
each_thread "park_main threads.c:*" "main threads.c:$(cp_line "$src" main)"

cp_check "info sharedlibrary: libc.so.6, all read, all from the bundle"
cp_gdb "$CP_WORK/logs/gdb-libs.out" -batch -ex 'info sharedlibrary'
cp_assert_sharedlibs "$CP_WORK/logs/gdb-libs.out" "$(cp_want_libc)"
cp_report
