#!/bin/bash
# Hard links: to a file outside (absolute, and relative), and to a file of
# the bundle itself.  All refused: a bundle has no use for them.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
secret=$CU_BOX/secret
echo "not yours" >"$secret"
export secret
cu_craft "$b/hardlink-outside.tar.zst" <<'PY'
b = Bundle.synthetic()
b.hardlink('sysroot/etc/shadow', os.environ['secret'])
b.write(out)
PY
cu_expect_refused "$b/hardlink-outside.tar.zst" \
	"refused entry 'crash/sysroot/etc/shadow': hard link \(to '$secret'\)"

cu_craft "$b/hardlink-relative.tar.zst" <<'PY'
b = Bundle.synthetic()
b.hardlink('sysroot/etc/shadow', '../secret')
b.write(out)
PY
cu_expect_refused "$b/hardlink-relative.tar.zst" "refused entry 'crash/sysroot/etc/shadow': hard link \(to '\.\./secret'\)"

cu_craft "$b/hardlink-inside.tar.zst" <<'PY'
b = Bundle.synthetic()
b.hardlink('sysroot/usr/bin/app2', 'crash/sysroot/usr/bin/app')
b.write(out)
PY
cu_expect_refused "$b/hardlink-inside.tar.zst" "refused entry 'crash/sysroot/usr/bin/app2': hard link"
[[ $(cat "$secret") == "not yours" ]] || cp_fail "$secret was changed"
cp_finish
