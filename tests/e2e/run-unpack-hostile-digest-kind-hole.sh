#!/bin/bash
# A 1 TiB hole digested the wrong way (issue 19, kind 4).  A 680-byte
# bundle stored a core of 1 TiB, all hole but its last byte, as a sparse
# entry, and listed it with a plain sha256: the unpacker, to compare,
# hashed the whole hole as zeros (about 28 minutes) before refusing.  A
# file stored with holes is digested only with the sparse digest, and one
# stored without only with sha256: any disagreement between the entry and
# the manifest is refused, at the entry's header when the manifest came
# first (version 2), after the last entry when it came last (version 1),
# never by hashing again.  And the reverse (a plain entry listed with
# sparse_sha256).  coreunpack runs under a 30 s timeout.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
# hole_bundle OUT VERSION KIND: a core of 1 TiB (1 GiB in version 2)
# stored sparse (its last byte data), listed in the manifest with digest
# KIND.
hole_bundle() {
	python3 - "$@" <<'PY'
import hashlib, io, json, subprocess, sys, tarfile
out, version, kind = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# Within the 1 TiB the validator allows in all; in version 2, within the
# disk too (a plain sha256 file of 1 TiB is refused for its size first).
size = (1 << 40) - (1 << 20) if version == 1 else 1 << 30
mp = b'1\n%d\n1\n' % (size - 1)
mp += bytes(-len(mp) % 512)
data = mp + b'x'
f = {'path': 'core', 'size': size}
digest = hashlib.sha256(b'not computed').hexdigest()
if version == 1:
    f[kind] = digest
else:
    f['digest'] = kind
manifest = json.dumps({'manifest_version': version, 'core': {'path': 'core'}, 'gdb': {},
                       'objects': [], 'files': [f]}).encode()
def info(name, n):
    ti = tarfile.TarInfo('crash/' + name)
    ti.size, ti.mode, ti.mtime = n, 0o600, 1700000000
    return ti
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as tar:
    if version >= 2:
        tar.addfile(info('manifest.json', len(manifest)), io.BytesIO(manifest))
    ti = info('GNUSparseFile.0/core', len(data))
    ti.pax_headers = {'GNU.sparse.major': '1', 'GNU.sparse.minor': '0',
                      'GNU.sparse.name': 'crash/core', 'GNU.sparse.realsize': str(size)}
    tar.addfile(ti, io.BytesIO(data))
    if version == 1:
        tar.addfile(info('manifest.json', len(manifest)), io.BytesIO(manifest))
    else:
        d = json.dumps({'files': [{'path': 'core', kind: digest}]}).encode()
        tar.addfile(info('digests.json', len(d)), io.BytesIO(d))
open(out, 'wb').write(subprocess.run(['zstd', '-q', '-19', '-c'], input=buf.getvalue(),
                                     stdout=subprocess.PIPE, check=True).stdout)
PY
	cp_log "$(basename "$1"): $(stat -c %s "$1") bytes"
}

# Every coreunpack below runs under a 30 s timeout.
real=$COREUNPACK
COREUNPACK=$CP_WORK/coreunpack-30s
printf '#!/bin/sh\nexec timeout -s KILL 30 %q "$@"\n' "$real" >"$COREUNPACK"
chmod +x "$COREUNPACK"

for version in 1 2; do
	hole_bundle "$b/hole-v$version.tar.zst" "$version" sha256
	cp_check "version $version: a hole of $((version == 1 ? 1024 : 1)) GiB listed with sha256 is refused at once"
	start=$(date +%s)
	cu_expect_refused "$b/hole-v$version.tar.zst" \
		"'core' is stored with holes, but the manifest digests it as sha256"
	cp_log "three refusals in $(($(date +%s) - start)) s"
done

cp_check "a file stored without holes but listed with sparse_sha256 is refused"
for version in 1 2; do
	export VERSION=$version
	cu_craft "$b/dense-v$version.tar.zst" <<'PY'
b = Bundle.synthetic()
b.manifest['manifest_version'] = int(os.environ['VERSION'])
b.write(out)
f = b.manifest['files'][0]
assert f['path'] == 'core'
if b.manifest['manifest_version'] == 1:
    f['sparse_sha256'] = f.pop('sha256')
else:
    f['digest'] = 'sparse_sha256'
for m in b.members:
    m[2] = False
b.extra_files = b.manifest['files']
b.write(out)
PY
	cu_expect_refused "$b/dense-v$version.tar.zst" \
		"'core' is stored without holes, but the manifest digests it as sparse_sha256"
done
cp_finish
