#!/bin/bash
# A bundle whose entries climb out with '..': below the top directory, past
# it, and in the top directory's own name.  coreunpack refuses each before
# writing anything, naming the entry.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
cu_craft "$b/dotdot.tar.zst" <<'PY'
b = Bundle.synthetic()
b.file('sysroot/../../../PWNED', b'escaped\n')
b.write(out)
PY
cu_expect_refused "$b/dotdot.tar.zst" "refused entry 'crash/sysroot/\.\./\.\./\.\./PWNED': has a '\.\.' component"

cu_craft "$b/dotdot-first.tar" <<'PY'
b = Bundle.synthetic()
b.members.insert(0, [b.info('../PWNED', tarfile.REGTYPE, 0o644, raw=True), b'x', True])
b.members[0][0].size = 1
b.write(out)
PY
cu_expect_refused "$b/dotdot-first.tar" "refused entry '\.\./PWNED': has a '\.\.' component"

cu_craft "$b/dotdot-late.tar.gz" <<'PY'
b = Bundle.synthetic()
b.file('debug/.build-id/..', b'x', raw=False)
b.write(out)
PY
cu_expect_refused "$b/dotdot-late.tar.gz" "refused entry 'crash/debug/\.build-id/\.\.': has a '\.\.' component"
cp_finish
