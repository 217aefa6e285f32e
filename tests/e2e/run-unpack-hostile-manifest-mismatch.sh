#!/bin/bash
# The manifest is the only record of what corepack packed: a file whose
# sha256 or size differs, a file the manifest does not list, a file it
# lists that is absent.  Each is an error naming the file.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
cu_craft "$b/sha256.tar.zst" <<'PY'
b = Bundle.synthetic()
b.write(out)
# Same size, other bytes: written after the manifest was made.
m = b.find('sysroot/usr/bin/app')
m[1] = m[1].replace(b'not', b'NOT')
files = b.manifest['files']
b.manifest['files'] = []
b.extra_files = files
b.members = [x for x in b.members]
for x in b.members:
    x[2] = False
b.write(out)
PY
cu_expect_refused "$b/sha256.tar.zst" \
	"'sysroot/usr/bin/app' does not match the manifest: sha256 [0-9a-f]{64}, expected [0-9a-f]{64}"

cu_craft "$b/size.tar.zst" <<'PY'
b = Bundle.synthetic()
b.write(out)
files = b.manifest['files']
b.replace('core', b'a longer core than the manifest says\n')
for x in b.members:
    x[2] = False
b.extra_files = files
b.write(out)
PY
cu_expect_refused "$b/size.tar.zst" "'core' is 37 bytes, the manifest says 18"

cu_craft "$b/unlisted.tar.zst" <<'PY'
b = Bundle.synthetic()
b.file('sysroot/usr/lib/libextra.so', b'not in the manifest\n', listed=False)
b.write(out)
PY
cu_expect_refused "$b/unlisted.tar.zst" "'sysroot/usr/lib/libextra\.so' is in the bundle but not listed in the manifest"

cu_craft "$b/absent.tar.zst" <<'PY'
b = Bundle.synthetic()
b.extra_files = [{'path': 'debug/.build-id/ab/cd.debug', 'size': 3, 'sha256': sha(b'abc')}]
b.write(out)
PY
cu_expect_refused "$b/absent.tar.zst" "'debug/\.build-id/ab/cd\.debug' is listed in the manifest but not in the bundle"

cu_craft "$b/no-manifest.tar.zst" <<'PY'
b = Bundle.synthetic()
b.with_manifest = False
b.write(out)
PY
cu_expect_refused "$b/no-manifest.tar.zst" "not a corepack bundle: no manifest\.json"

cu_craft "$b/bad-manifest.tar.zst" <<'PY'
b = Bundle.synthetic()
b.manifest['objects'][0]['real_path'] = '/usr/bin/../../etc/passwd'
b.write(out)
PY
cu_expect_refused "$b/bad-manifest.tar.zst" "manifest\.json: objects\[0\]\.real_path: '/usr/bin/\.\./\.\./etc/passwd' has a '\.\.' component"
cp_finish
