#!/bin/bash
# The report of a four-thread program whose thread "gamma" crashes: the
# crashing thread comes first and is marked, every thread's backtrace has
# the functions and file:line gdb's "thread apply all bt" shows for it on
# the original files (libc's inlined and tail-called functions included when
# its debug file is installed), and the limits hold: --max-threads,
# --max-frames and --crashing-only cut and say so.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check against gdb in SELFCHECK mode"

src=$CP_PROGS/threads.c
mkdir -p "$CP_WORK/b"
gcc "${CP_CFLAGS[@]}" -pthread -o "$CP_WORK/b/threads" "$src"
cp_crash "$CP_WORK/crash" "$CP_WORK/b/threads"

report=$CP_WORK/logs/report.txt
bt_gdb "$CP_WORK/logs/gdb.out" "$CP_WORK/b/threads" "$CP_CORE" -ex 'thread apply all bt'
bt_report "$report" "$CP_CORE"
cp_log "report from $BT_FROM:"
sed 's/^/  /' "$report"

cp_check "header: SIGSEGV at 0, 4 threads; the first thread is the crashing one"
bt_expect_line "$report" '^signal: 11 \(SIGSEGV\), code 1 \(SEGV_MAPERR\), fault address 0x0{16}$'
bt_expect_line "$report" '^threads: 4$'
mapfile -t tids < <(bt_tids "$report")
((${#tids[@]} == 4)) || cp_fail "the report has ${#tids[@]} threads, expected 4" "$report"
grep -E "^thread ${tids[0]} \\(crashing\\):\$" "$report" >/dev/null ||
	cp_fail "the first thread of the report is not the crashing one" "$report"
[[ $(grep -c '(crashing)' "$report") == 1 ]] || cp_fail "not exactly one crashing thread" "$report"

cp_check "the crashing thread: crash_gamma, work_gamma, thread_gamma"
bt_frames "$report" >"$CP_WORK/logs/ours-crashing"
want=$(printf '%s\n' "crash_gamma	threads.c:$(cp_line "$src" crash_gamma)" \
	"work_gamma	threads.c:$(cp_line "$src" work_gamma)" \
	"thread_gamma	threads.c:$(cp_line "$src" thread_gamma)")
[[ $(head -n3 "$CP_WORK/logs/ours-crashing") == "$want" ]] ||
	cp_fail_later "the crashing thread does not start with crash_gamma, work_gamma, thread_gamma"

cp_check "every thread's frames are gdb's (thread apply all bt)"
bt_gdb_split "$CP_WORK/logs/gdb.out" "$CP_WORK/logs/gdb-threads"
for tid in "${tids[@]}"; do
	g=$CP_WORK/logs/gdb-threads/lwp-$tid
	[[ -f $g ]] || { cp_fail_later "gdb shows no thread LWP $tid"; continue; }
	bt_gdb_frames "$g" >"$g.frames"
	bt_frames "$report" "$tid" >"$CP_WORK/logs/ours-$tid"
	bt_compare "$CP_WORK/logs/ours-$tid" "$g.frames" "thread $tid"
done

cp_check "--max-threads 2: two threads, the crashing one first, the cut said"
bt_driver "$CP_WORK/logs/max-threads" "$CP_CORE" --all --max-threads 2
((BT_STATUS == 0)) || cp_fail "bt-driver exited $BT_STATUS" "$CP_WORK/logs/max-threads.err"
[[ $(bt_tids "$CP_WORK/logs/max-threads" | head -n1) == "${tids[0]}" ]] ||
	cp_fail_later "--max-threads 2: the crashing thread is not first"
[[ $(bt_tids "$CP_WORK/logs/max-threads" | wc -l) == 2 ]] ||
	cp_fail_later "--max-threads 2: not 2 threads"
bt_expect_line "$CP_WORK/logs/max-threads" '^\.\.\. 2 more threads not unwound \(cut at 2\)$'

cp_check "--max-frames 2: two frames per thread, the cut said"
bt_driver "$CP_WORK/logs/max-frames" "$CP_CORE" --all --max-frames 2
((BT_STATUS == 0)) || cp_fail "bt-driver exited $BT_STATUS" "$CP_WORK/logs/max-frames.err"
n=$(grep -c '^#' "$CP_WORK/logs/max-frames" || true)
[[ $n == 8 ]] || cp_fail_later "--max-frames 2: $n frames in all, expected 8"
[[ $(grep -c '^\.\.\. more frames not shown (cut at 2)$' "$CP_WORK/logs/max-frames") == 4 ]] ||
	cp_fail_later "--max-frames 2: not every thread says it was cut"

cp_check "--crashing-only: the crashing thread only, as in the full report"
bt_driver "$CP_WORK/logs/crashing-only" "$CP_CORE" --all --crashing-only
((BT_STATUS == 0)) || cp_fail "bt-driver exited $BT_STATUS" "$CP_WORK/logs/crashing-only.err"
[[ $(bt_tids "$CP_WORK/logs/crashing-only") == "${tids[0]}" ]] ||
	cp_fail_later "--crashing-only: threads $(bt_tids "$CP_WORK/logs/crashing-only" | tr '\n' ' ')"
bt_frames "$CP_WORK/logs/crashing-only" >"$CP_WORK/logs/ours-only"
cmp -s "$CP_WORK/logs/ours-only" "$CP_WORK/logs/ours-crashing" ||
	cp_fail_later "--crashing-only: frames differ from the full report's"

cp_check "without --all: the crashing thread only, the others counted"
bt_driver "$CP_WORK/logs/summary" "$CP_CORE"
bt_expect_line "$CP_WORK/logs/summary" '^\(3 other threads not shown\)$'
[[ $(bt_tids "$CP_WORK/logs/summary") == "${tids[0]}" ]] ||
	cp_fail_later "the summary shows threads $(bt_tids "$CP_WORK/logs/summary" | tr '\n' ' ')"
cp_finish
