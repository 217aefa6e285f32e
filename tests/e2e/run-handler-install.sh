#!/bin/bash
# --install-handler and --uninstall-handler in a scratch root
# (COREPACK_HANDLER_ROOT, for tests: etc/sysctl.d, var/lib/corepack and
# proc/sys/kernel under it), as any user: the values before are saved and
# said, the sysctl.d file holds both settings, a second install keeps the
# first saved values, uninstall restores them and removes the files;
# another pipe handler (systemd-coredump, apport) is replaced only with -f
# and put back by uninstall; a pattern changed by someone else since is
# left alone; paths the kernel's pattern cannot hold are refused.
# run-handler-kernel does the same on the real machine, as root.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
[[ $CP_SELFCHECK == 1 ]] && cp_skip "nothing to check without corepack"

# kernel.core_pattern holds 127 bytes, the default spool's path among
# them: the scratch root gets a short path of its own (the build tree may
# be deep, as CI's copy for nobody is).
CP_EXTRA_DIRS+=("$(mktemp -d /tmp/cph.XXXXXX)")
root=${CP_EXTRA_DIRS[-1]}
export COREPACK_HANDLER_ROOT=$root
mkdir -p "$root/proc/sys/kernel" "$root/etc/sysctl.d" "$root/var/lib"
pat=$root/proc/sys/kernel/core_pattern
lim=$root/proc/sys/kernel/core_pipe_limit
conf=$root/etc/sysctl.d/50-corepack.conf
saved=$root/var/lib/corepack/previous-core-pattern
exe=$(readlink -f "$COREPACK")
spool=$root/var/lib/corepack/spool
want="|$exe --handler %P --spool $spool"
[[ ${#want} -lt 128 ]] || cp_skip "the build tree's path is too long for kernel.core_pattern (${#want} bytes)"

# run OUT ERR CMD...: CMD must exit 0.
run() {
	local out=$1 err=$2 st=0
	shift 2
	"$@" >"$out" 2>"$err" || st=$?
	((st == 0)) || cp_fail "exit $st: $*" "$out" "$err"
}

cp_check "install over 'core': saved, said, set, written for boot; the default spool made 0700"
echo core >"$pat"
echo 0 >"$lim"
run "$CP_WORK/logs/i.out" "$CP_WORK/logs/i.err" "$COREPACK" --install-handler
grep -q -F "kernel.core_pattern was 'core' (core files written by the kernel), kernel.core_pipe_limit 0; saved in '$saved'" "$CP_WORK/logs/i.out" ||
	cp_fail "install does not say what was there" "$CP_WORK/logs/i.out"
[[ $(cat "$pat") == "$want" ]] || cp_fail "core_pattern is '$(cat "$pat")', expected '$want'"
[[ $(cat "$lim") == 16 ]] || cp_fail "core_pipe_limit is '$(cat "$lim")', expected 16"
grep -q -F -x "kernel.core_pattern = $want" "$conf" && grep -q -x 'kernel.core_pipe_limit = 16' "$conf" ||
	cp_fail "$conf does not hold both settings" "$conf"
grep -q -x 'kernel.core_pattern = core' "$saved" && grep -q -x 'kernel.core_pipe_limit = 0' "$saved" ||
	cp_fail "$saved does not hold the values before" "$saved"
[[ $(stat -c %a "$spool") == 700 ]] || cp_fail "the spool is mode $(stat -c %a "$spool")"

cp_check "a second install keeps the values saved by the first"
run "$CP_WORK/logs/i2.out" "$CP_WORK/logs/i2.err" "$COREPACK" --install-handler --spool "$spool"
grep -q -x 'kernel.core_pattern = core' "$saved" || cp_fail "the saved values changed" "$saved"

cp_check "uninstall restores 'core' and 0 and removes both files"
run "$CP_WORK/logs/u.out" "$CP_WORK/logs/u.err" "$COREPACK" --uninstall-handler
[[ $(cat "$pat") == core && $(cat "$lim") == 0 ]] || cp_fail "after uninstall: '$(cat "$pat")' '$(cat "$lim")'"
[[ ! -e $conf && ! -e $saved ]] || cp_fail "uninstall left $conf or $saved"
grep -q -F "kernel.core_pattern restored to 'core', kernel.core_pipe_limit to 0" "$CP_WORK/logs/u.out" ||
	cp_fail "uninstall does not say what it restored" "$CP_WORK/logs/u.out"
cp_expect_fail 1 "the handler is not installed" "$COREPACK" --uninstall-handler

cp_check "systemd-coredump's pipe is kept without -f"
sd='|/lib/systemd/systemd-coredump %P %u %g %s %t 9223372036854775808 %h'
printf '%s\n' "$sd" >"$pat"
echo 16 >"$lim"
cp_expect_fail 1 "kernel.core_pattern pipes cores to systemd-coredump \('\|/lib/systemd/systemd-coredump %P .*'\); use -f to replace it" \
	"$COREPACK" --install-handler
[[ $(cat "$pat") == "$sd" && ! -e $conf && ! -e $saved ]] || cp_fail "a refused install changed something"
run "$CP_WORK/logs/f.out" "$CP_WORK/logs/f.err" "$COREPACK" --install-handler -f
grep -q -F "(systemd-coredump)" "$CP_WORK/logs/f.out" || cp_fail "install -f does not name systemd-coredump" "$CP_WORK/logs/f.out"
[[ $(cat "$pat") == "$want" ]] || cp_fail "install -f did not set the pattern"
run "$CP_WORK/logs/u2.out" "$CP_WORK/logs/u2.err" "$COREPACK" --uninstall-handler
[[ $(cat "$pat") == "$sd" && $(cat "$lim") == 16 ]] || cp_fail "systemd-coredump's pattern was not put back: '$(cat "$pat")'"

cp_check "apport: replaced with -f, with a warning that its service sets the pattern again"
printf '%s\n' '|/usr/share/apport/apport -p%p -s%s -c%c -d%d -P%P -u%u -g%g -- %E' >"$pat"
cp_expect_fail 1 "pipes cores to apport" "$COREPACK" --install-handler
run "$CP_WORK/logs/a.out" "$CP_WORK/logs/a.err" "$COREPACK" --install-handler -f
grep -q 'apport sets kernel.core_pattern again when its service starts' "$CP_WORK/logs/a.err" ||
	cp_fail "no warning about apport" "$CP_WORK/logs/a.err"

cp_check "a pattern changed since the install is left alone by uninstall"
echo '/var/crash/core.%p' >"$pat"
run "$CP_WORK/logs/u3.out" "$CP_WORK/logs/u3.err" "$COREPACK" --uninstall-handler
[[ $(cat "$pat") == /var/crash/core.%p && ! -e $conf ]] || cp_fail "uninstall touched a pattern not corepack's"
grep -q "not corepack's: left as it is" "$CP_WORK/logs/u3.err" || cp_fail "no word of it" "$CP_WORK/logs/u3.err"

cp_check "a spool the pattern cannot hold"
mkdir -m 0700 "$CP_WORK/a b"
cp_expect_fail 1 "a path with a space, a control character or % cannot go into kernel.core_pattern" \
	"$COREPACK" --install-handler --spool "$CP_WORK/a b"
cp_expect_fail 1 "must be ours .* and writable by no one else" "$COREPACK" --install-handler --spool /tmp
cp_expect_fail 2 "--uninstall-handler takes no -f" "$COREPACK" --uninstall-handler -f
cp_expect_fail 2 "--pid, --handler, --install-handler and --uninstall-handler go alone" \
	"$COREPACK" --install-handler --uninstall-handler
cp_log "PASS"
