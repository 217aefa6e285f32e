#!/bin/bash
# The crash report made at pack time for an app that crashes in its shared
# library (libcrash.so.1) called from a plugin it dlopened; all three are
# stripped, their debug files found three ways (--debug-dir build-id tree,
# .debug/ debuglink, debuglink beside the file).  The report's header names
# the executable, command line, pid and signal; its backtrace has the same
# functions in the same order and the same file:line as gdb's on the
# original files.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/bt-lib.sh"
cp_init
[[ $CP_SELFCHECK != 1 ]] || cp_skip "nothing to check against gdb in SELFCHECK mode"

cp_build_trio
cp_trio_frames
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"

report=$CP_WORK/logs/report.txt
bt_gdb "$CP_WORK/logs/gdb.out" "$CP_APP" "$CP_CORE" -ex bt
bt_report "$report" "$CP_CORE" --debug-dir "$CP_DEBUGROOT"
cp_log "report from $BT_FROM:"
sed 's/^/  /' "$report"

cp_check "report header: executable, command line, signal, fault address"
bt_expect_line "$report" "^executable: $CP_APP\$"
# NT_PRPSINFO keeps 79 bytes of the command line
cmdline="$CP_APP $CP_PLUGIN_LINK"
got=$(sed -n 's/^command line: //p' "$report")
if ((${#cmdline} > 79)); then
	[[ $got == "${cmdline:0:79} (maybe cut: the kernel keeps 79 bytes)" ]] ||
		cp_fail_later "command line is '$got', expected the first 79 bytes of '$cmdline'"
else
	[[ $got == "$cmdline" ]] || cp_fail_later "command line is '$got', expected '$cmdline'"
fi
bt_expect_line "$report" '^pid: [0-9]+$'
bt_expect_line "$report" '^signal: 11 \(SIGSEGV\), code 1 \(SEGV_MAPERR\), fault address 0x0{16}$'
bt_expect_line "$report" '^threads: 1$'
if grep -q '^backtrace: ' "$report"; then
	cp_fail_later "the report says the backtrace failed: $(grep '^backtrace: ' "$report")"
fi

cp_check "the crashing thread's frames: ${CP_FRAMES[*]}"
bt_frames "$report" >"$CP_WORK/logs/ours"
bt_gdb_frames "$CP_WORK/logs/gdb.out" >"$CP_WORK/logs/gdb-frames"
for ((i = 0; i < ${#CP_FRAMES[@]}; i++)); do
	want=${CP_FRAMES[i]%% *}$'\t'${CP_FRAMES[i]#* }
	got=$(sed -n "$((i + 1))p" "$CP_WORK/logs/ours")
	[[ $got == "$want" ]] || cp_fail_later "frame #$i is '$got', expected '$want'"
done

cp_check "the crashing thread's frames are gdb's"
bt_compare "$CP_WORK/logs/ours" "$CP_WORK/logs/gdb-frames" "crashing thread"
cp_finish
