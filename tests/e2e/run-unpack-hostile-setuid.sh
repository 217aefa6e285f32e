#!/bin/bash
# setuid and setgid files, a sticky directory: refused.  (Accepted files
# get 0644 or 0755 whatever the bundle says: checked in run-unpack-options.)
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
cu_craft "$b/setuid.tar.zst" <<'PY'
b = Bundle.synthetic()
b.file('sysroot/usr/bin/su', b'#!/bin/sh\n', mode=0o4755)
b.write(out)
PY
cu_expect_refused "$b/setuid.tar.zst" \
	"refused entry 'crash/sysroot/usr/bin/su': setuid, setgid or sticky bit \(mode 4755\)"

cu_craft "$b/setgid.tar.zst" <<'PY'
b = Bundle.synthetic()
b.replace('core', b'core')
b.find('core')[0].mode = 0o2644
b.write(out)
PY
cu_expect_refused "$b/setgid.tar.zst" "refused entry 'crash/core': setuid, setgid or sticky bit \(mode 2644\)"

cu_craft "$b/sticky.tar.zst" <<'PY'
b = Bundle.synthetic()
b.dir('sysroot/tmp', mode=0o1777)
b.write(out)
PY
cu_expect_refused "$b/sticky.tar.zst" "refused entry 'crash/sysroot/tmp/?': setuid, setgid or sticky bit \(mode 1777\)"
cp_finish
