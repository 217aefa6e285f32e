#!/bin/bash
# The real kernel round trip, as root (it changes kernel.core_pattern for
# the whole machine: the test is RUN_SERIAL, and puts back core_pattern and
# core_pipe_limit, and removes what it installed, on any exit).
# corepack --install-handler sets the handler (the build tree's corepack);
# the app, whose libcrash was replaced on disk after it was loaded, crashes;
# the kernel pipes the core to corepack --handler while it keeps the
# process.  The spool then holds one bundle, mode 0600, owned by root, with
# the library that was mapped (its old build-id, through map_files), and gdb
# on it, the originals hidden, shows the crash's frames.  The handler's
# syslog line is read from a /dev/log socket the test listens on when the
# machine has none.  A core over --max-core is refused with one line and
# no bundle.  The time the crashed process waited for the handler (from
# the crash to its reaping) is measured on this core and on a 1 GiB one.
# --uninstall-handler puts everything back.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
[[ $CP_SELFCHECK == 1 ]] && cp_skip "nothing to check without corepack"
[[ $(id -u) == 0 ]] || cp_skip "needs root: sets kernel.core_pattern for the whole machine"
cp_need python3:python3
# The kernel starts the handler in the initial root: inside a chroot the
# build tree's path names nothing there.  A chroot's / is (usually) not a
# mount point: /proc/self/mountinfo then lists none at "/".
awk '$5 == "/" { found = 1 } END { exit !found }' /proc/self/mountinfo ||
	cp_skip "runs in a chroot: the kernel starts core_pattern's handler in the initial root, where '$COREPACK' is not"
cp_lock_core_pattern
old_pattern=$(cat /proc/sys/kernel/core_pattern)
old_limit=$(cat /proc/sys/kernel/core_pipe_limit)
printf '%s\n' "$old_limit" >/proc/sys/kernel/core_pipe_limit 2>/dev/null ||
	cp_skip "cannot set kernel.core_pipe_limit here (a container?)"
[[ -e /etc/sysctl.d/50-corepack.conf || -e /var/lib/corepack/previous-core-pattern ]] &&
	cp_skip "corepack's handler is installed on this machine: the test leaves it alone"
exe=$(readlink -f "$COREPACK")
[[ $exe != *[[:space:]%]* ]] || cp_skip "the build tree's path '$exe' has a space or %: kernel.core_pattern cannot hold it"

made_state_dir=0
[[ -d /var/lib/corepack ]] || made_state_dir=1
log_pid=
made_log=0
restore() {
	printf '%s\n' "$old_pattern" >/proc/sys/kernel/core_pattern || true
	printf '%s\n' "$old_limit" >/proc/sys/kernel/core_pipe_limit || true
	rm -f /etc/sysctl.d/50-corepack.conf /var/lib/corepack/previous-core-pattern
	((made_state_dir)) && rmdir /var/lib/corepack 2>/dev/null
	[[ -n $log_pid ]] && kill "$log_pid" 2>/dev/null
	((made_log)) && rm -f /dev/log
	cp_cleanup
}
trap restore EXIT

# syslog: listen on /dev/log when nothing does.
syslog=$CP_WORK/logs/syslog
: >"$syslog"
if [[ ! -e /dev/log ]]; then
	python3 - "$syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
with open(sys.argv[1], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
PY
	log_pid=$!
	made_log=1
	for ((i = 0; i < 100; i++)); do [[ -S /dev/log ]] && break; sleep 0.05; done
	[[ -S /dev/log ]] || cp_fail "the test's /dev/log listener did not start"
else
	cp_log "/dev/log exists (a syslog daemon): the handler's lines go there, not checked"
fi

spool=$CP_WORK/spool
cp_check "--install-handler --spool $spool sets the handler"
"$COREPACK" --install-handler --spool "$spool" >"$CP_WORK/logs/install.out" 2>&1 ||
	cp_fail "--install-handler failed" "$CP_WORK/logs/install.out"
cat "$CP_WORK/logs/install.out"
[[ $(cat /proc/sys/kernel/core_pattern) == "|$exe --handler %P --spool $spool" ]] ||
	cp_fail "core_pattern is '$(cat /proc/sys/kernel/core_pattern)'"
[[ $(cat /proc/sys/kernel/core_pipe_limit) -ge 16 ]] || cp_fail "core_pipe_limit is $(cat /proc/sys/kernel/core_pipe_limit)"

now() { date +%s.%N; }
# crash_wait PID T0: wait for PID (released at T0) to die of a signal;
# sets WAITED to the seconds from T0 to its reaping.
crash_wait() {
	local st=0
	wait "$1" 2>/dev/null || st=$?
	WAITED=$(python3 -c "print(f'{$(now) - $2:.2f}')")
	((st > 128)) || cp_fail "pid $1 was expected to crash, exit status $st"
}

cp_build_trio
# The handler has no --debug-dir: the app's debug file goes where its
# .gnu_debuglink finds it, beside it.
id=$(cp_build_id "$CP_APP")
mv "$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug" "$CP_WORK/b/bin/app.debug"
cp_start_waiting "$CP_WORK/run" "$CP_APP" "$CP_PLUGIN_LINK" wait
pid=$CP_WAIT_PID
old_id=$(cp_build_id "$CP_LIB")
mkdir -p "$CP_WORK/rebuild"
cp_build_lib "$CP_WORK/rebuild/libcrash.so.1.0.0" -DLIBCRASH_VARIANT=2
mv -f "$CP_WORK/rebuild/libcrash.so.1.0.0" "$CP_LIB"
new_id=$(cp_build_id "$CP_LIB")
cp_log "replaced $CP_LIB: build-id $old_id -> $new_id"
t0=$(now)
printf 'go\n' >&"$CP_GO_FD"
crash_wait "$pid" "$t0"
exec {CP_GO_FD}>&- {CP_READY_FD}>&-
small_wait=$WAITED

cp_check "one bundle app-$pid-TIME.tar.zst in the spool, mode 0600, owned by root"
mapfile -t made < <(ls -A "$spool")
((${#made[@]} == 1)) || cp_fail "the spool holds ${#made[@]} files: ${made[*]}" "$syslog"
[[ ${made[0]} =~ ^app-$pid-[0-9]+\.tar\.zst$ ]] || cp_fail "bundle named '${made[0]}'"
[[ $(stat -c '%a %u' "$spool/${made[0]}") == '600 0' ]] || cp_fail "bundle mode/owner $(stat -c '%a %u' "$spool/${made[0]}")"
if ((made_log)); then
	cp_check "syslog: one line for the crash"
	grep -q "corepack\[[0-9]*\]: process $pid ('app', uid 0): signal 11 (SIGSEGV): '$spool/${made[0]}' written" "$syslog" ||
		cp_fail "no syslog line for the crash" "$syslog"
	[[ $(grep -c '' "$syslog") == 1 ]] || cp_fail "not one syslog line" "$syslog"
fi
CP_BUNDLE_FILE=$spool/${made[0]}
CP_BUNDLE_SIZE=$(stat -c %s "$CP_BUNDLE_FILE")
cp_extract "$CP_BUNDLE_FILE"
cp_check "libcrash: ok, the mapped build-id $old_id (on disk now: $new_id), through map_files"
cp_manifest_object /libcrash.so.1.0.0
[[ $(cp_manifest ".objects[$CP_OBJ].status") == ok ]] || cp_fail "libcrash is not ok" "$CP_BUNDLE_DIR/manifest.json"
[[ $(cp_manifest ".objects[$CP_OBJ].file") == /proc/$pid/map_files/* ]] || cp_fail "libcrash not read through map_files" "$CP_BUNDLE_DIR/manifest.json"
bp=$(cp_manifest ".objects[$CP_OBJ].bundle_path")
f=$CP_BUNDLE_DIR/${bp#/}
[[ -e $f ]] || f=$(dirname "$CP_BUNDLE_DIR")/${bp#/}
[[ $(cp_build_id "$f") == "$old_id" ]] || cp_fail "the bundle's libcrash has build-id $(cp_build_id "$f")"

cp_check "a core over --max-core: refused in one syslog line, no bundle, the process not held"
printf '%s\n' "|$exe --handler %P --spool $spool --max-core 64K" >/proc/sys/kernel/core_pattern
: >"$syslog"
mkdir -p "$CP_WORK/run2"
(cd "$CP_WORK/run2" && exec "$CP_APP" "$CP_PLUGIN_LINK") </dev/null >/dev/null 2>&1 &
pid2=$!
crash_wait "$pid2" "$(now)"
[[ $(ls -A "$spool") == "${made[0]}" ]] || cp_fail "the spool holds: $(ls -A "$spool")"
if ((made_log)); then
	grep -q "process $pid2 ('app', uid 0): 'standard input': the core is more than 65536 bytes decompressed (the limit)" "$syslog" ||
		cp_fail "no syslog line for the refusal" "$syslog"
	[[ $(grep -c '' "$syslog") == 1 ]] || cp_fail "not one syslog line" "$syslog"
fi

# The 1 GiB core: only the time is measured (and the bundle checked to be
# there); it needs the memory and twice the space.
big_wait=
avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
free_kb=$(df -Pk "$spool" | awk 'NR == 2 {print $4}')
if ((avail_kb > 3 * 1024 * 1024 && free_kb > 12 * 1024 * 1024)); then
	printf '%s\n' "|$exe --handler %P --spool $spool" >/proc/sys/kernel/core_pattern
	gcc "${CP_CFLAGS[@]}" -o "$CP_WORK/bigheap" "$CP_PROGS/bigheap.c"
	mkdir -p "$CP_WORK/run3"
	t0=$(now)
	(cd "$CP_WORK/run3" && exec "$CP_WORK/bigheap" 1024) </dev/null >/dev/null 2>&1 &
	pid3=$!
	# the 1 GiB is filled before the crash: time from the fault, read from
	# the bundle's core's timestamp would be finer; the fill is timed alone
	crash_wait "$pid3" "$t0"
	big_total=$WAITED
	big=$(ls "$spool"/bigheap-"$pid3"-*.tar.zst 2>/dev/null | head -n1)
	[[ -n $big ]] || cp_fail "no bundle for the 1 GiB core" "$syslog"
	big_wait=$(grep -o "process $pid3 .*the process waited [0-9.]* s" "$syslog" | grep -o '[0-9.]* s$' || true)
	cp_log "1 GiB core: bundle $(stat -c %s "$big") bytes; fill+crash+handler ${big_total} s; the handler's own time (the process waited) ${big_wait:-not logged}"
else
	cp_log "the 1 GiB core is left out: $((avail_kb / 1024)) MiB of memory, $((free_kb / 1024)) MiB free in the spool"
fi

cp_check "--uninstall-handler puts the values back"
"$COREPACK" --uninstall-handler >"$CP_WORK/logs/uninstall.out" 2>&1 ||
	cp_fail "--uninstall-handler failed" "$CP_WORK/logs/uninstall.out"
[[ $(cat /proc/sys/kernel/core_pattern) == "$old_pattern" && $(cat /proc/sys/kernel/core_pipe_limit) == "$old_limit" ]] ||
	cp_fail "after uninstall: '$(cat /proc/sys/kernel/core_pattern)' $(cat /proc/sys/kernel/core_pipe_limit)"
[[ ! -e /etc/sysctl.d/50-corepack.conf ]] || cp_fail "uninstall left /etc/sysctl.d/50-corepack.conf"

cp_trio_frames
cp_hide_originals "$CP_WORK"
cp_gdb "$CP_WORK/logs/gdb.out" -batch -ex bt
cp_check "bt abroad: ${CP_FRAMES[*]}"
cp_assert_frames "$CP_WORK/logs/gdb.out" "${CP_FRAMES[@]}"
big_note=
[[ -n $big_wait ]] && big_note="; 1 GiB core: $big_wait by the handler's own clock"
cp_log "RESULT the crashed process waited for the handler (crash to reaping): ${small_wait} s for a $(stat -c %s "$CP_BUNDLE_DIR/core")-byte core$big_note"
cp_report
