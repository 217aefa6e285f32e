#!/bin/bash
# The classic: a symlink that points out of the tree (relatively, and
# absolutely), then a file written through it.  The symlink itself is
# refused, before the file; nothing lands where it points.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
# From box/a/b/out/sysroot/lib, six levels up is CP_WORK/box.
cu_craft "$b/escape-relative.tar.zst" <<'PY'
b = Bundle.synthetic()
b.symlink('sysroot/lib', '../../../../..')
b.file('sysroot/lib/PWNED', b'written through the symlink\n')
b.write(out)
PY
cu_expect_refused "$b/escape-relative.tar.zst" \
	"refused entry 'crash/sysroot/lib': symlink target '(\.\./)+\.\.' (leaves the bundle|is the directory)"

export CU_BOX
cu_craft "$b/escape-absolute.tar.zst" <<'PY'
b = Bundle.synthetic()
b.symlink('sysroot/lib', os.environ['CU_BOX'])
b.file('sysroot/lib/PWNED', b'written through the symlink\n')
b.write(out)
PY
cu_expect_refused "$b/escape-absolute.tar.zst" \
	"refused entry 'crash/sysroot/lib': symlink to the absolute path '$CU_BOX'"

# Up to the directory the bundle is unpacked into, then to a name that is
# the user's, not the bundle's (./.bashrc beside the unpacked tree).
cu_craft "$b/escape-sibling.tar.zst" <<'PY'
b = Bundle.synthetic()
b.symlink('sysroot/usr/lib/libc.so.6', '../../../.bashrc')
b.write(out)
PY
cu_expect_refused "$b/escape-sibling.tar.zst" \
	"refused entry 'crash/sysroot/usr/lib/libc.so.6': symlink target '\.\./\.\./\.\./\.bashrc' leaves the bundle"

# '..' after a name: lexically inside, really outside when 'a' is itself
# a symlink to '..'.
cu_craft "$b/escape-chain.tar.zst" <<'PY'
b = Bundle.synthetic()
b.symlink('sysroot/x/a', '..')
b.symlink('sysroot/x/b', 'a/../../..')
b.write(out)
PY
cu_expect_refused "$b/escape-chain.tar.zst" \
	"refused entry 'crash/sysroot/x/b': symlink target 'a/\.\./\.\./\.\.' has '\.\.' after a name"
cp_finish
