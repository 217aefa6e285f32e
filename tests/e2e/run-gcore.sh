#!/bin/bash
# A core written by gdb's gcore (section headers, gdb's own notes) of the
# app blocked in a read() inside libcrash.  The bundle must give gdb the
# same frames with file:line, every library read from the bundle.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need gcore:gdb

cp_build_trio
cp_start_waiting "$CP_WORK/run" "$CP_APP" "$CP_PLUGIN_LINK" wait
if ! gcore -o "$CP_WORK/run/gcore" "$CP_WAIT_PID" </dev/null >"$CP_WORK/logs/gcore" 2>&1; then
	cp_kill_waiting
	grep -q 'ptrace: Operation not permitted' "$CP_WORK/logs/gcore" &&
		cp_skip "gcore cannot attach here (ptrace: Operation not permitted; see /proc/sys/kernel/yama/ptrace_scope)"
	cp_fail "gcore failed on pid $CP_WAIT_PID" "$CP_WORK/logs/gcore"
fi
CP_CORE=$CP_WORK/run/gcore.$CP_WAIT_PID
cp_kill_waiting
[[ -s $CP_CORE ]] || cp_fail "gcore wrote no $CP_CORE" "$CP_WORK/logs/gcore"
readelf -SW "$CP_CORE" | grep -q 'There are no sections' &&
	cp_fail "the gcore core has no section headers: not a gdb-made core?"
cp_log "gcore wrote $CP_CORE"
CP_SELF_EXE=$CP_APP

if [[ $CP_SELFCHECK != 1 ]]; then
	cp_pack "$CP_CORE" "$CP_WORK/gcore.tar.zst" -e "$CP_APP" --debug-dir "$CP_DEBUGROOT"
	cp_extract "$CP_BUNDLE_FILE"
	cp_check_layout "$CP_CORE"
	cp_check_object /bin/app "$CP_APP"
	cp_check_object /libcrash.so.1.0.0 "$CP_LIB"
	cp_check_object /crashplugin-1.0.so "$CP_PLUGIN"
	cp_hide_originals "$CP_WORK"
fi

frames=(
	"crash_wait libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_wait)"
	"crash_deep libcrash.c:$(cp_line "$CP_PROGS/libcrash.c" crash_deep_wait)"
	"plugin_entry plugin.c:$(cp_line "$CP_PROGS/plugin.c" plugin_entry)"
	"app_run app.c:$(cp_line "$CP_PROGS/app.c" app_run)"
	"main app.c:$(cp_line "$CP_PROGS/app.c" main)"
)
cp_check "bt shows (below libc's read) ${frames[*]}"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt -ex 'info sharedlibrary'
cp_assert_frames "$CP_WORK/logs/gdb.out" "${frames[@]}"
wanted=(libcrash.so.1:debug plugin.so:debug "$(cp_want_libc)" ld-linux-x86-64.so.2)
cp_check "info sharedlibrary: ${wanted[*]}, all read, all from the bundle"
cp_assert_sharedlibs "$CP_WORK/logs/gdb.out" "${wanted[@]}"
cp_report
