#!/bin/bash
# Entries that replace one another: the same file twice (the second would
# silently win), a file over a directory, a directory over a file.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
cu_craft "$b/twice.tar.zst" <<'PY'
b = Bundle.synthetic()
b.file('sysroot/usr/bin/app', b'the second copy\n', mode=0o755, listed=False)
b.write(out)
PY
cu_expect_refused "$b/twice.tar.zst" \
	"refused entry 'crash/sysroot/usr/bin/app': duplicate: the name is already a file"

cu_craft "$b/file-over-dir.tar.zst" <<'PY'
b = Bundle.synthetic()
b.file('sysroot/usr', b'over a directory\n')
b.write(out)
PY
cu_expect_refused "$b/file-over-dir.tar.zst" "refused entry 'crash/sysroot/usr': duplicate: the name is already a directory"

cu_craft "$b/manifest-twice.tar.zst" <<'PY'
b = Bundle.synthetic()
b.file('manifest.json', b'{"manifest_version": 1}', listed=False)
b.write(out)
PY
cu_expect_refused "$b/manifest-twice.tar.zst" "refused entry 'crash/manifest\.json': duplicate"
cp_finish
