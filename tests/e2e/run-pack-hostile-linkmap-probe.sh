#!/bin/bash
# Issue 19, kind 10: probes.  A process writes a library name of its choice
# into its own link_map ("PROBE/secret-link/plugin.so", PROBE a directory
# its owner may not search, holding a symlink whose target is the secret),
# and crashes.  Today corepack, packing the core as another user, looks the
# name up, follows PROBE/secret-link and records it, target included, in
# the bundle.  Names from the core's memory that the crashed process's
# owner could not resolve must not be probed at all (no lookup inside
# PROBE, checked with strace when it can run), and nothing found there
# reaches the bundle or the output.
#
# The owner is made another user by crafting the core's NT_PRPSINFO uid and
# gid (65534, or 65533 for a test run as 65534): the test runs as any user.
source "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need python3:python3
umask 022

owner=65534
[[ $(id -u) != 65534 ]] || owner=65533
cp_build_trio
chmod 755 "$CP_WORK"
d=$CP_WORK
while [[ $d != / ]]; do
	[[ $(($(stat -c '0%a' "$d") & 1)) == 1 ]] ||
		cp_skip "'$d' is not searchable by other users: an unprivileged owner could not have run the test program"
	d=$(dirname "$d")
done
gcc "${CP_CFLAGS[@]}" -o "$CP_WORK/lmname" "$CP_PROGS/lmname.c" -ldl

probe=$CP_WORK/probe
secret=secret-target-$$-$RANDOM
mkdir -m 700 "$probe"
ln -s "/srv/$secret" "$probe/secret-link"
cp_crash "$CP_WORK/crash" "$CP_WORK/lmname" "$CP_PLUGIN" "$probe/secret-link/plugin.so"
python3 "$CP_E2E_DIR/corecraft.py" "$CP_CORE" "$CP_WORK/crafted" --owner "$owner:$owner"

cp_check "the core's link_map holds the crafted name"
[[ $CP_SELFCHECK == 1 ]] && { cp_log "PASS (selfcheck)"; exit 0; }
"$COREPACK" --list --format json "$CP_WORK/crafted" 2>/dev/null |
	jq -e --arg n "$probe/secret-link/plugin.so" '[.objects[].names[].path] | index($n)' >/dev/null ||
	cp_fail "corepack --list does not see the name '$probe/secret-link/plugin.so' (the program did not set it)"

traced=0
st=0
if command -v strace >/dev/null && strace -f -o /dev/null true 2>/dev/null; then
	cp_check "corepack looks nothing up inside '$probe' (strace)"
	# LeakSanitizer cannot run under ptrace (a sanitizer build).
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		strace -f -y -qq -e trace=%file -o "$CP_WORK/logs/strace" \
		"$COREPACK" --no-backtrace -o "$CP_WORK/p.tar.zst" "$CP_WORK/crafted" \
		>"$CP_WORK/logs/pack.out" 2>"$CP_WORK/logs/pack.err" || st=$?
	traced=1
else
	cp_log "strace cannot run here: the lookups are not traced, only the bundle and output are checked"
	"$COREPACK" --no-backtrace -o "$CP_WORK/p.tar.zst" "$CP_WORK/crafted" \
		>"$CP_WORK/logs/pack.out" 2>"$CP_WORK/logs/pack.err" || st=$?
fi
((st == 0)) || cp_fail "corepack exited $st" "$CP_WORK/logs/pack.err"
if ((traced)) && grep -F "secret-link" "$CP_WORK/logs/strace" >"$CP_WORK/logs/probes"; then
	cp_fail "corepack probed inside '$probe'" "$CP_WORK/logs/probes"
fi

cp_check "the name is reported, and nothing found behind it reaches the bundle or the output"
grep -qF "corepack: warning: '$probe/secret-link/plugin.so': cannot resolve '$probe/secret-link/plugin.so': the crashed process (uid $owner, gid $owner) may not search '$probe'; the name is not reproduced in the bundle" \
	"$CP_WORK/logs/pack.err" || cp_fail "no warning naming the probe" "$CP_WORK/logs/pack.err"
if grep -F "$secret" "$CP_WORK/logs/pack.out" "$CP_WORK/logs/pack.err"; then
	cp_fail "the symlink's target reached corepack's output"
fi
tar -tvf "$CP_WORK/p.tar.zst" >"$CP_WORK/logs/list"
if grep -E "$secret|/probe/" "$CP_WORK/logs/list" >"$CP_WORK/logs/leak"; then
	cp_fail "the bundle records what lies behind the probe" "$CP_WORK/logs/leak"
fi
cp_extract "$CP_WORK/p.tar.zst"
if grep -F "$secret" "$CP_BUNDLE_DIR/manifest.json"; then
	cp_fail "the manifest records the symlink's target"
fi
[[ $(cp_manifest ".objects[] | select(.path == \"$CP_PLUGIN\") | .status") == ok ]] ||
	cp_fail "the plugin itself (readable by its owner) is not packed" "$CP_BUNDLE_DIR/manifest.json"
mkdir -p "$CP_UNPACK/u"
"$COREUNPACK" -q -C "$CP_UNPACK/u" "$CP_WORK/p.tar.zst" >"$CP_WORK/logs/unpack" 2>&1 ||
	cp_fail "coreunpack refused the bundle" "$CP_WORK/logs/unpack"
cp_log "RESULT the probe was reported, not followed (traced: $traced)"
cp_finish
