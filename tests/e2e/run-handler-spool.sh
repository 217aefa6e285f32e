#!/bin/bash
# corepack --handler run by hand, as the kernel would run it (the core on
# standard input, the process still there), as any user: the bundle's
# name from the process's comm made safe, mode 0600, one log line; the
# limits (--max-core, --keep-free) refuse with one line and leave nothing;
# --max-bundles removes the oldest bundles and nothing else; a spool that
# is not ours alone, or is a symlink, is refused; usage errors.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
. "$CP_E2E_DIR/live-lib.sh"
cp_init
cp_need gcore:gdb
[[ $CP_SELFCHECK == 1 ]] && cp_skip "nothing to check without corepack"

cp_build_live
# A program whose name (its comm) is hostile: spaces, shell characters,
# a leading dot.
odd='.a b$(c)'
cp "$CP_LIVE_APP" "$CP_WORK/b/bin/$odd"
cp_start_waiting "$CP_WORK/run" "$CP_WORK/b/bin/$odd"
pid=$CP_WAIT_PID
if ! gcore -o "$CP_WORK/gcore" "$pid" </dev/null >"$CP_WORK/logs/gcore" 2>&1; then
	cp_kill_waiting
	grep -q 'ptrace: Operation not permitted' "$CP_WORK/logs/gcore" &&
		cp_skip "gcore cannot attach here (ptrace: Operation not permitted; see /proc/sys/kernel/yama/ptrace_scope)"
	cp_fail "gcore failed on pid $pid" "$CP_WORK/logs/gcore"
fi
core=$CP_WORK/gcore.$pid
spool=$CP_WORK/spool

# handler ARGS...: corepack --handler PID ARGS... with the core on stdin.
handler() { "$COREPACK" --handler "$pid" "$@" <"$core"; }

cp_check "a missing spool is made, mode 0700; the bundle is _.a_b__c_-PID-TIME.tar.zst, mode 0600"
st=0
handler --spool "$spool" >"$CP_WORK/logs/h.out" 2>"$CP_WORK/logs/h.err" || st=$?
((st == 0)) || cp_fail "corepack --handler exited $st" "$CP_WORK/logs/h.out" "$CP_WORK/logs/h.err"
[[ $(stat -c %a "$spool") == 700 ]] || cp_fail "the spool is mode $(stat -c %a "$spool"), expected 700"
mapfile -t made < <(ls -A "$spool")
((${#made[@]} == 1)) || cp_fail "the spool holds ${#made[@]} files, expected 1: ${made[*]}"
[[ ${made[0]} =~ ^_\.a_b__c_-$pid-[0-9]+\.tar\.zst$ ]] || cp_fail "bundle named '${made[0]}'"
[[ $(stat -c %a "$spool/${made[0]}") == 600 ]] || cp_fail "the bundle is mode $(stat -c %a "$spool/${made[0]}")"
[[ ! -s $CP_WORK/logs/h.out ]] || cp_fail "the handler wrote on stdout" "$CP_WORK/logs/h.out"
cp_check "one line on stderr (as in syslog) naming the process, its signal and the bundle"
[[ $(grep -c '' "$CP_WORK/logs/h.err") == 1 ]] || cp_fail "not one line" "$CP_WORK/logs/h.err"
grep -q -F "corepack: process $pid ('.a b\$(c)', uid $(id -u)): signal 19 (SIGSTOP): '$spool/${made[0]}' written" "$CP_WORK/logs/h.err" ||
	cp_fail "the line does not say what happened" "$CP_WORK/logs/h.err"
grep -q "5 objects packed (4 through map_files;" "$CP_WORK/logs/h.err" || [[ $(id -u) != 0 ]] ||
	cp_fail "as root, the objects were not read through map_files" "$CP_WORK/logs/h.err"
CP_BUNDLE_FILE=$spool/${made[0]}
CP_BUNDLE_SIZE=$(stat -c %s "$CP_BUNDLE_FILE")
cp_extract "$CP_BUNDLE_FILE"
cp_check_layout "$core"
cp_manifest_object /libcrash.so.1.0.0
[[ $(cp_manifest ".objects[$CP_OBJ].status") == ok ]] || cp_fail "libcrash is not ok" "$CP_BUNDLE_DIR/manifest.json"

first=${made[0]}
# The refusals below reuse the spool and the PID: within the same second
# as the first bundle, their name (PID-TIME) would be taken and the
# refusal would be "already exists" instead.  A real PID crashes once.
made_at=${first%.tar.zst}
made_at=${made_at##*-}
while (($(date +%s) <= made_at)); do sleep 0.1; done
cp_expect_fail 1 "the core is more than 1024 bytes" handler --spool "$spool" --max-core 1K
cp_expect_fail 1 "refused: .* free in '$spool', 1000.0 TiB to keep free" handler --spool "$spool" --keep-free 1000T
cp_check "the refusals left nothing in the spool"
[[ $(ls -A "$spool") == "$first" ]] || cp_fail "spool: $(ls -A "$spool")"

cp_check "--max-bundles 2: the oldest bundles go, other files stay"
touch -d '3 days ago' "$spool/old-1-100.tar.zst"
touch -d '2 days ago' "$spool/older-2-200.tar.zst" "$spool/notes.txt" "$spool/.x-3-300.tar.zst"
touch -d '1 day ago' "$spool/$first"
sleep 1 # a new second: a new name
handler --spool "$spool" --max-bundles 2 2>"$CP_WORK/logs/h2.err" ||
	cp_fail "corepack --handler --max-bundles 2 failed" "$CP_WORK/logs/h2.err"
grep -q 'older bundles removed from the spool' "$CP_WORK/logs/h2.err" || cp_fail "no word of the removal" "$CP_WORK/logs/h2.err"
left=$(ls -A "$spool" | grep -v -F -x -e notes.txt -e .x-3-300.tar.zst -e "$first" | grep -c '' || true)
[[ $left == 1 && -f $spool/notes.txt && -f $spool/.x-3-300.tar.zst && -f $spool/$first ]] ||
	cp_fail "the spool holds: $(ls -A "$spool" | tr '\n' ' ')"

cp_check "a spool others may write, or a symlink, is refused"
mkdir -m 0777 "$CP_WORK/open"
chmod 0777 "$CP_WORK/open"
cp_expect_fail 1 "cannot use the spool '$CP_WORK/open': owned by uid [0-9]+, mode 0777" handler --spool "$CP_WORK/open"
ln -s spool "$CP_WORK/link"
cp_expect_fail 1 "cannot use the spool '$CP_WORK/link': not a directory" handler --spool "$CP_WORK/link"
[[ -z $(ls -A "$CP_WORK/open") ]] || cp_fail "files left in $CP_WORK/open"

cp_check "a process that is gone"
cp_kill_waiting
cp_expect_fail 1 "no process $pid" handler --spool "$spool"

cp_expect_fail 2 "--handler needs --spool DIR" "$COREPACK" --handler 1
cp_expect_fail 2 "the handler options take no -o" "$COREPACK" --handler 1 --spool "$spool" -o x.tar.zst
cp_expect_fail 2 "--max-core, --keep-free and --max-bundles go with --handler" "$COREPACK" --max-core 1G core
cp_expect_fail 2 "invalid size '1Q'" "$COREPACK" --handler 1 --spool "$spool" --max-core 1Q
cp_expect_fail 2 "no core file goes with --handler" "$COREPACK" --handler 1 --spool "$spool" core
cp_expect_fail 2 "invalid process id '0'" "$COREPACK" --pid 0
cp_expect_fail 2 "--pid reads the process's own root: --sysroot makes no sense" "$COREPACK" --pid 1 --sysroot /
cp_report
