#!/bin/bash
# The unwinder (the child corepack forks to unwind the threads) opens files
# under --sysroot and --debug-dir only.  It runs under strace -f; the child
# makes itself non-dumpable, and strace can read the names it passes to
# open() only with CAP_SYS_PTRACE, so this check needs root.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check in SELFCHECK mode"
[[ $(id -u) == 0 ]] ||
	cp_skip "needs root: strace cannot read the file names opened by the non-dumpable unwinder child"
cp_need strace:strace

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
root=$CP_WORK/root
bt_make_sysroot "$root"

cp_check "the unwinder opens files under the sysroot and the debug directory only"
bt_driver_init
# (LeakSanitizer refuses to run under ptrace)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	strace -f -qq -e trace=open,openat -o "$CP_WORK/logs/strace" \
	"$BT_DRIVER" --sysroot "$root" --debug-dir "$CP_DEBUGROOT" "$CP_CORE" >/dev/null 2>&1 ||
	cp_fail "bt-driver under strace failed" "$CP_WORK/logs/strace"
# The driver's own pid opens libraries, the core, and scans; the unwinder
# is the child it forks.
main=$(head -n1 "$CP_WORK/logs/strace" | cut -d' ' -f1)
grep -v "^$main " "$CP_WORK/logs/strace" | grep -E 'open(at)?\(' >"$CP_WORK/logs/child-calls" || true
[[ -s $CP_WORK/logs/child-calls ]] || cp_fail "strace shows no file opened by the unwinder" "$CP_WORK/logs/strace"
if grep -v -E 'open(at)?\((AT_FDCWD, )?"' "$CP_WORK/logs/child-calls" >"$CP_WORK/logs/undecoded"; then
	cp_fail "strace could not read the names of some files the unwinder opened" "$CP_WORK/logs/undecoded"
fi
sed -n 's/.*open[at]*([^"]*"\([^"]*\)".*/\1/p' "$CP_WORK/logs/child-calls" | sort -u >"$CP_WORK/logs/child-opens"
if grep -v -e "^$root/" -e "^$CP_DEBUGROOT/" "$CP_WORK/logs/child-opens" >"$CP_WORK/logs/outside"; then
	cp_fail_later "the unwinder opened files outside the sysroot and debug dir: $(tr '\n' ' ' <"$CP_WORK/logs/outside")"
fi
sed 's/^/  opened: /' "$CP_WORK/logs/child-opens"
cp_finish
