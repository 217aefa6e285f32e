#!/bin/bash
# Terminal escapes in the manifest's text (issue 19, kind 6).  `coreunpack
# --list` printed the manifest's "created" as it was, so an escape sequence
# in it reached the user's terminal (retitling the window, clearing the
# screen, rewriting what the listing said).  Every text field a bundle
# carries gets one here (created, host, the command line, warnings, an
# object's detail, report.txt); neither --list nor an unpack may print a
# raw ESC, BEL or other control byte but a line break or tab, and each
# value must still show, escaped (ESC as \x1b).  Both forms of bundle:
# manifest version 1 (last) and 2 (first).
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
for version in 1 2; do
export VERSION=$version
cu_craft "$b/escapes.tar.zst" <<'PY'
E = '\x1b]0;PWNED-title\x07\x1b[2J\x1b[31m'
b = Bundle.synthetic()
b.manifest['manifest_version'] = int(os.environ['VERSION'])
b.manifest['created'] = '2026-11-30T00:00:00Z' + E + 'created'
b.manifest['host']['nodename'] = 'origin' + E + 'nodename'
b.manifest['host']['os_release'] = {'PRETTY_NAME': 'Debian' + E + 'os'}
b.manifest['core']['args'] = '/usr/bin/app' + E + 'args'
b.manifest['warnings'] = ['a warning' + E + 'warning']
b.manifest['objects'].append({'path': '/usr/lib/libgone.so', 'role': 'library',
                              'status': 'missing', 'detail': 'gone' + E + 'detail',
                              'debug': []})
b.file('report.txt', ('report' + E + 'report\n').encode(), mode=0o600)
b.write(out)
PY

# check_clean FILE WHAT: no control byte but \n and \t in FILE.
check_clean() {
	if LC_ALL=C grep -q -P '[\x00-\x08\x0b-\x1f\x7f]' "$1"; then
		LC_ALL=C grep -n -P '[\x00-\x08\x0b-\x1f\x7f]' "$1" | cat -v >"$CP_WORK/logs/raw"
		cp_fail "$2 printed a raw control byte" "$CP_WORK/logs/raw"
	fi
}

cp_check "version $version: coreunpack --list prints no raw escape, and shows every field escaped"
cu_run "$CP_WORK/logs/list" "$CU_BOX" --list "$b/escapes.tar.zst"
[[ $CU_ST == 0 ]] || cp_fail "coreunpack --list exited $CU_ST" "$CP_WORK/logs/list.err"
check_clean "$CP_WORK/logs/list.out" "--list (stdout)"
check_clean "$CP_WORK/logs/list.err" "--list (stderr)"
for field in created nodename os args warning detail report; do
	grep -q -F '\x1b]0;PWNED-title\x07\x1b[2J\x1b[31m'"$field" "$CP_WORK/logs/list.out" ||
		cp_fail "--list does not show '$field' escaped" "$CP_WORK/logs/list.out"
done

cp_check "version $version: an unpack prints no raw escape either"
rm -rf "$CU_BOX/u"
cu_run "$CP_WORK/logs/unpack" "$CU_BOX" -C u "$b/escapes.tar.zst"
[[ $CU_ST == 0 ]] || cp_fail "coreunpack exited $CU_ST" "$CP_WORK/logs/unpack.err"
check_clean "$CP_WORK/logs/unpack.out" "the unpack (stdout)"
check_clean "$CP_WORK/logs/unpack.err" "the unpack (stderr)"
grep -q -F '\x1b]0;PWNED-title' "$CP_WORK/logs/unpack.err" ||
	cp_fail "the unpack's warnings do not show the escaped text" "$CP_WORK/logs/unpack.err"
done
cp_finish
