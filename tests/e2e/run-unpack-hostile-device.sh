#!/bin/bash
# Device nodes (character, block), a FIFO: refused, none created.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
cu_craft "$b/chardev.tar.zst" <<'PY'
b = Bundle.synthetic()
b.device('sysroot/dev/mem', tarfile.CHRTYPE, 1, 1)
b.write(out)
PY
cu_expect_refused "$b/chardev.tar.zst" "refused entry 'crash/sysroot/dev/mem': character device"

cu_craft "$b/blockdev.tar.zst" <<'PY'
b = Bundle.synthetic()
b.device('sysroot/dev/sda', tarfile.BLKTYPE, 8, 0)
b.write(out)
PY
cu_expect_refused "$b/blockdev.tar.zst" "refused entry 'crash/sysroot/dev/sda': block device"

cu_craft "$b/fifo.tar.zst" <<'PY'
b = Bundle.synthetic()
b.device('core.fifo', tarfile.FIFOTYPE, 0, 0)
b.members[-1][0].name = 'crash/sysroot/run/fifo'
b.write(out)
PY
cu_expect_refused "$b/fifo.tar.zst" "refused entry 'crash/sysroot/run/fifo': FIFO"
cp_finish
