#!/bin/bash
# A symlink that stays inside the bundle (accepted on its own), then
# entries that would be written through it, or replace it: refused.
# Nothing is ever placed below a symlink, so no later symlink can redirect
# an earlier name.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
cu_craft "$b/through.tar.zst" <<'PY'
b = Bundle.synthetic()
b.symlink('sysroot/lib', 'usr/lib')
b.file('sysroot/lib/libc.so.6', b'through the symlink\n')
b.write(out)
PY
cu_expect_refused "$b/through.tar.zst" \
	"refused entry 'crash/sysroot/lib/libc\.so\.6': written through a symlink 'crash/sysroot/lib'"

cu_craft "$b/relink.tar.zst" <<'PY'
b = Bundle.synthetic()
b.symlink('sysroot/lib', 'usr/lib')
b.symlink('sysroot/lib', 'usr/bin')
b.write(out)
PY
cu_expect_refused "$b/relink.tar.zst" \
	"refused entry 'crash/sysroot/lib': duplicate: the name is already a symlink"

# A symlink over a directory that files were already written into.
cu_craft "$b/over-dir.tar.zst" <<'PY'
b = Bundle.synthetic()
b.file('sysroot/usr/lib/libc.so.6', b'a library\n')
b.symlink('sysroot/usr/lib', '../debug')
b.write(out)
PY
cu_expect_refused "$b/over-dir.tar.zst" \
	"refused entry 'crash/sysroot/usr/lib': duplicate: the name is already a directory"

# The bundle's top-level names are never symlinks.
cu_craft "$b/top-link.tar.zst" <<'PY'
b = Bundle.synthetic()
b.symlink('debug', 'sysroot')
b.write(out)
PY
cu_expect_refused "$b/top-link.tar.zst" "refused entry 'crash/debug': 'debug' must be a directory, not a symlink"
cp_finish
