#!/bin/bash
# Cores whose stacks are garbage must not crash, hang or flood the unwinder:
# each report comes back in bounded time, names the crashing thread, and
# either shows frames (cut at --max-frames where the stack loops) or says
# why it stopped.
#   smash    random bytes over the whole stack above the crashing frame
#   regs     rsp into random bytes, rbp random, jump to a random address
#   loop     a frame whose saved rbp points at itself: the unwinder loops
#   recurse  unbounded recursion until the stack overflows
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check in SELFCHECK mode"
[[ $(uname -m) == x86_64 ]] || cp_skip "the hostile program is written for x86_64"

mkdir -p "$CP_WORK/b"
cat >"$CP_WORK/b/hostile.c" <<'PROG'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned char noise[256 * 1024];
static uint64_t chain[64] __attribute__((aligned(16)));
extern char hostile_loop_ra[];

/* The end of the [stack] mapping. */
static uintptr_t stack_end(void)
{
	char line[512];
	uintptr_t lo, hi, end = 0;
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "[stack]") && sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			end = hi;
	if (f)
		fclose(f);
	return end;
}

static void __attribute__((noinline)) smash(void)
{
	unsigned char here[64];
	uintptr_t from = (uintptr_t)here, to = stack_end();
	if (!to || to - from > sizeof(noise))
		to = from + sizeof(noise);
	/* memcpy's own frame lies below HERE: only our callers' frames, our
	 * saved registers and the environment are overwritten */
	memcpy(here, noise, to - from);
	__asm__ volatile("xor %%eax, %%eax\n\tmovl (%%rax), %%eax" ::: "rax", "memory");
}

static void __attribute__((noinline)) regs(void)
{
	uint64_t sp = ((uintptr_t)noise + sizeof(noise) / 2) & ~15ull;
	__asm__ volatile("mov %0, %%rsp\n\tmov %1, %%rbp\n\tjmp *%2" ::"r"(sp), "r"(next()),
			 "r"(next() & 0x00007fffffffffffull)
			 : "memory");
}

static void __attribute__((noinline)) loop(void)
{
	/* saved rbp = the frame itself, return address = inside this function */
	chain[32] = (uint64_t)(uintptr_t)&chain[32];
	chain[33] = (uint64_t)(uintptr_t)hostile_loop_ra;
	__asm__ volatile("mov %0, %%rbp\n"
			 "hostile_loop_ra:\n\t"
			 "xor %%eax, %%eax\n\tmovl (%%rax), %%eax" ::"r"(&chain[32])
			 : "rax", "memory");
}

static int __attribute__((noinline)) recurse(int n)
{
	volatile char pad[64];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

int main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(noise); i += 8) {
		uint64_t v = next();
		memcpy(noise + i, &v, 8);
	}
	if (argc < 2)
		return 2;
	if (!strcmp(argv[1], "smash"))
		smash();
	else if (!strcmp(argv[1], "regs"))
		regs();
	else if (!strcmp(argv[1], "loop"))
		loop();
	else if (!strcmp(argv[1], "recurse"))
		return recurse(0);
	return 2;
}
PROG
gcc "${CP_CFLAGS[@]}" -o "$CP_WORK/b/hostile" "$CP_WORK/b/hostile.c" 2>"$CP_WORK/logs/cc.err" ||
	cp_fail "cannot build the hostile program" "$CP_WORK/logs/cc.err"

for variant in smash regs loop recurse; do
	cp_crash "$CP_WORK/crash-$variant" "$CP_WORK/b/hostile" "$variant"
	out=$CP_WORK/logs/report-$variant
	start=$(date +%s)
	bt_driver "$out" "$CP_CORE" --all --timeout-ms 20000
	took=$(($(date +%s) - start))
	cp_log "$variant: bt-driver exited $BT_STATUS after ${took}s:"
	sed 's/^/  /' "$out" "$out.err"

	cp_check "$variant: the report comes back, bounded, with the crashing thread"
	((BT_STATUS == 0)) || { cp_fail_later "$variant: bt-driver exited $BT_STATUS"; continue; }
	((took < 30)) || cp_fail_later "$variant: the report took ${took}s"
	grep -E '^thread [0-9]+ \(crashing\):$' "$out" >/dev/null ||
		{ cp_fail_later "$variant: no crashing thread in the report"; continue; }
	n=$(bt_frames "$out" | wc -l)
	((n <= 128)) || cp_fail_later "$variant: $n frames, more than the default 128"
	if ((n == 0)) && ! grep -E '^\(.+\)$' "$out" >/dev/null && ! grep -q '^backtrace: ' "$out"; then
		cp_fail_later "$variant: no frames and no reason why"
	fi
	first=$(bt_frames "$out" | head -n1)
	case $variant in
	smash)
		[[ ${first%%$'\t'*} == smash ]] || cp_fail_later "smash: frame #0 is '$first', expected smash"
		;;
	regs)
		[[ ${first%%$'\t'*} == '??' ]] || cp_fail_later "regs: frame #0 is '$first', expected ??"
		;;
	loop | recurse)
		[[ ${first%%$'\t'*} == "$variant" ]] ||
			cp_fail_later "$variant: frame #0 is '$first', expected $variant"
		bt_expect_line "$out" '^\.\.\. more frames not shown \(cut at 128\)$'
		;;
	esac
done

cp_check "a tight deadline: --timeout-ms 1 on the recursion core says it timed out or finished"
bt_driver "$CP_WORK/logs/report-deadline" "$CP_CORE" --all --timeout-ms 1
((BT_STATUS == 0)) || cp_fail_later "--timeout-ms 1: bt-driver exited $BT_STATUS"
if ! grep -E '^backtrace: unwinder timed out after 1 ms$' "$CP_WORK/logs/report-deadline" >/dev/null &&
	! grep -q '^#0 ' "$CP_WORK/logs/report-deadline"; then
	cp_fail_later "--timeout-ms 1: neither frames nor 'timed out'"
fi
sed 's/^/  /' "$CP_WORK/logs/report-deadline"
cp_finish
