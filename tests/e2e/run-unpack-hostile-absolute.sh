#!/bin/bash
# A bundle with an absolute entry name (pointing into this test's own
# directory, so a failure is seen and harms nothing): refused, nothing
# written there or anywhere.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
CU_ABS=$CU_BOX/PWNED-absolute
export CU_ABS
cu_craft "$b/absolute.tar" <<'PY'
b = Bundle.synthetic()
b.file(os.environ['CU_ABS'], b'written by an absolute name\n', raw=True)
b.write(out)
PY
cu_expect_refused "$b/absolute.tar" "refused entry '$CU_ABS': absolute name"
[[ ! -e $CU_ABS ]] || cp_fail "$CU_ABS was written"

# Also as the very first entry, before any top directory is known.
cu_craft "$b/absolute-first.tar.xz" <<'PY'
b = Bundle.synthetic()
b.members.insert(0, [b.info(os.environ['CU_ABS'], tarfile.REGTYPE, 0o644, raw=True), b'x', True])
b.members[0][0].size = 1
b.write(out)
PY
cu_expect_refused "$b/absolute-first.tar.xz" "refused entry '$CU_ABS': absolute name"
cp_finish
