#!/bin/bash
# What holds the crashed process's memory, command line and environment
# stays private.  A real core is packed under umask 000 and 022: in the tar
# (tar -tv) core, manifest.json and report.txt are -rw------- while every
# other file is -rw-r--r-- or -rwxr-xr-x and every directory drwxr-xr-x,
# and the bundle file is 0600.  coreunpack under umask 000, 022 and 077
# makes those three 0600 (stat), and so it does for a crafted bundle whose
# headers give them 0644, 0755 and 0777.  Plain tar -xf keeps 0600 too.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cp_init
cp_need python3:python3
cu_need_unpack
cu_box

cp_build_trio
cp_crash "$CP_WORK/crash" "$CP_APP" "$CP_PLUGIN_LINK"
core=$CP_CORE
if [[ $CP_SELFCHECK == 1 ]]; then
	cp_log "PASS (selfcheck: nothing to check without corepack)"
	exit 0
fi

private='core|manifest\.json|report\.txt'

# check_tar BUNDLE: the modes in tar -tv's listing.
check_tar() {
	local b=$1 top mode name list=$CP_WORK/logs/tv
	top=$(cp_bundle_top "$b")
	tar -tvf "$b" >"$list" 2>&1 || cp_fail "tar -tvf $b failed" "$list"
	[[ $(stat -c %a "$b") == 600 ]] || cp_fail "the bundle $b is mode $(stat -c %a "$b"), expected 600"
	local seen=0
	while read -r mode _ _ _ _ name _; do
		case $name in
		"$top"/core | "$top"/manifest.json | "$top"/report.txt)
			[[ $mode == -rw------- ]] || cp_fail "$name is $mode in the tar, expected -rw-------" "$list"
			seen=$((seen + 1))
			;;
		*)
			[[ $mode == -rw-r--r-- || $mode == -rwxr-xr-x || $mode == drwxr-xr-x || $mode == lrwxrwxrwx ]] ||
				cp_fail "$name is $mode in the tar" "$list"
			;;
		esac
	done <"$list"
	((seen == 3)) || cp_fail "$seen of core, manifest.json, report.txt in the tar" "$list"
	grep -q -E " $top/corepack.gdb\$" "$list" && grep -q -E '^-rw-r--r-- .* [^ ]*/corepack.gdb$' "$list" ||
		cp_fail "corepack.gdb is not -rw-r--r--" "$list"
	grep -q -E '^-rwxr-xr-x .* [^ ]*/run-gdb.sh$' "$list" || cp_fail "run-gdb.sh is not -rwxr-xr-x" "$list"
}

# check_unpacked DIR UMASK: the three private files are 0600, and the
# others what the umask leaves of 0644/0755.
check_unpacked() {
	local d=$1 um=$2 f m
	for f in core manifest.json report.txt; do
		m=$(stat -c %a "$d/$f")
		[[ $m == 600 ]] || cp_fail "$d/$f is $m after coreunpack under umask $um, expected 600"
	done
	m=$(stat -c %a "$d/corepack.gdb")
	[[ $m == "$(printf '%o' $((0644 & ~um)))" ]] || cp_fail "$d/corepack.gdb is $m under umask $um"
	m=$(stat -c %a "$d/run-gdb.sh")
	[[ $m == "$(printf '%o' $((0755 & ~um)))" ]] || cp_fail "$d/run-gdb.sh is $m under umask $um"
}

for um in 000 022; do
	cp_check "packed under umask $um: private entries -rw------- in the tar"
	b=$CP_WORK/u$um.tar.zst
	(umask "$um" && exec "$COREPACK" -q --debug-dir "$CP_DEBUGROOT" -o "$b" "$core") \
		>"$CP_WORK/logs/pack.out" 2>"$CP_WORK/logs/pack.err" || cp_fail "corepack failed" "$CP_WORK/logs/pack.err"
	check_tar "$b"
	for uu in 000 022 077; do
		cp_check "unpacked under umask $uu: core, manifest.json, report.txt are 0600"
		d=$CP_WORK/x$um-$uu
		(umask "$uu" && exec "$COREUNPACK" -q -C "$d" "$b") >"$CP_WORK/logs/u.out" 2>"$CP_WORK/logs/u.err" ||
			cp_fail "coreunpack failed" "$CP_WORK/logs/u.err"
		check_unpacked "$d" "$((8#$uu))"
	done
done

cp_check "plain tar -xf under umask 000 keeps the private files 0600"
mkdir "$CP_WORK/plain"
(umask 000 && exec tar -xf "$CP_WORK/u000.tar.zst" -C "$CP_WORK/plain")
top=$(cp_bundle_top "$CP_WORK/u000.tar.zst")
for f in core manifest.json report.txt; do
	[[ $(stat -c %a "$CP_WORK/plain/$top/$f") == 600 ]] || cp_fail "tar -xf made $f $(stat -c %a "$CP_WORK/plain/$top/$f")"
done

cp_check "a bundle whose headers make them 0644, 0755, 0777: still 0600 after coreunpack"
cu_craft "$CP_WORK/open.tar.zst" <<'PY'
b = Bundle.synthetic()
b.find('core')[0].mode = 0o644
b.file('report.txt', b'a report\n', mode=0o777)
b.write(out)
PY
python3 - "$CP_WORK/open.tar.zst" <<'PY' || cp_fail "the crafted bundle does not have open modes"
import io, subprocess, sys, tarfile
raw = subprocess.run(['zstd', '-dcq', sys.argv[1]], stdout=subprocess.PIPE, check=True).stdout
modes = {m.name.split('/', 1)[1]: m.mode for m in tarfile.open(fileobj=io.BytesIO(raw)).getmembers() if '/' in m.name}
assert modes['core'] == 0o644 and modes['report.txt'] == 0o777 and modes['manifest.json'] == 0o644, modes
PY
for uu in 000 022; do
	d=$CP_WORK/open$uu
	(umask "$uu" && exec "$COREUNPACK" -q -C "$d" "$CP_WORK/open.tar.zst") >"$CP_WORK/logs/u.out" 2>"$CP_WORK/logs/u.err" ||
		cp_fail "coreunpack of the crafted bundle failed" "$CP_WORK/logs/u.err"
	check_unpacked "$d" "$((8#$uu))"
done
cp_finish
