#!/bin/bash
# Crashes inside libc and the vDSO, where the frames gdb shows come from
# inlined functions, tail calls (rebuilt from DW_TAG_call_site) and symbol
# aliases:
#   abort  abort() -> raise -> pthread_kill: SIGABRT from tgkill, the
#          header names the sender (the process itself)
#   vdso   clock_gettime writing through a bad pointer: the vDSO has no
#          file, its frame comes from the image in the core's memory
#   signal a crash in a signal handler: the trampoline's frame is
#          "<signal handler called>" and the frames below it follow
# The report's frames are gdb's for each.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check against gdb in SELFCHECK mode"

mkdir -p "$CP_WORK/b"
cat >"$CP_WORK/b/libc.c" <<'PROG'
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void handler(int sig)
{
	*(volatile int *)0 = sig; /* LINE:handler */
}

static void __attribute__((noinline)) fail(void)
{
	abort(); /* LINE:fail */
}

static void __attribute__((noinline)) fail_with(int sig)
{
	raise(sig); /* LINE:fail_with */
}

static void __attribute__((noinline)) tick(void)
{
	clock_gettime(CLOCK_MONOTONIC, (struct timespec *)16); /* LINE:tick */
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "abort") == 0)
		fail();
	if (argc > 1 && strcmp(argv[1], "signal") == 0) {
		signal(SIGUSR1, handler);
		fail_with(SIGUSR1);
	}
	tick();
	return 0;
}
PROG
gcc "${CP_CFLAGS[@]}" -o "$CP_WORK/b/libc" "$CP_WORK/b/libc.c"

for variant in abort vdso signal; do
	cp_crash "$CP_WORK/crash-$variant" "$CP_WORK/b/libc" "$variant"
	report=$CP_WORK/logs/report-$variant
	bt_gdb "$CP_WORK/logs/gdb-$variant" "$CP_WORK/b/libc" "$CP_CORE" -ex bt
	bt_report "$report" "$CP_CORE"
	cp_log "$variant: report from $BT_FROM:"
	sed 's/^/  /' "$report"

	cp_check "$variant: the header and the program's own frame"
	bt_frames "$report" >"$CP_WORK/logs/ours-$variant"
	if [[ $variant == abort ]]; then
		pid=$(sed -n 's/^pid: //p' "$report")
		bt_expect_line "$report" "^signal: 6 \\(SIGABRT\\), code -6 \\(SI_TKILL\\), sent by pid $pid \\(uid $(id -u)\\)\$"
		want="fail	libc.c:$(cp_line "$CP_WORK/b/libc.c" fail)"
	elif [[ $variant == signal ]]; then
		bt_expect_line "$report" '^signal: 11 \(SIGSEGV\), code 1 \(SEGV_MAPERR\), fault address 0x0{16}$'
		[[ $(sed -n 2p "$CP_WORK/logs/ours-$variant") == "<signal-handler-called>	" ]] ||
			cp_fail_later "signal: frame #1 is not <signal handler called>"
		want="fail_with	libc.c:$(cp_line "$CP_WORK/b/libc.c" fail_with)"
	else
		bt_expect_line "$report" '^signal: 11 \(SIGSEGV\), code 1 \(SEGV_MAPERR\), fault address 0x0{14}10$'
		grep -E '^#0  0x[0-9a-f]+ [A-Za-z_][A-Za-z0-9_]*\+0x[0-9a-f]+ \(\[vdso\]\)$' "$report" >/dev/null ||
			cp_fail_later "vdso: frame #0 is not a named function of [vdso]"
		want="tick	libc.c:$(cp_line "$CP_WORK/b/libc.c" tick)"
	fi
	grep -qxF "$want" "$CP_WORK/logs/ours-$variant" || cp_fail_later "$variant: no frame '$want'"

	cp_check "$variant: the frames are gdb's"
	bt_gdb_frames "$CP_WORK/logs/gdb-$variant" >"$CP_WORK/logs/gdb-frames-$variant"
	bt_compare "$CP_WORK/logs/ours-$variant" "$CP_WORK/logs/gdb-frames-$variant" "$variant"
done
cp_finish
