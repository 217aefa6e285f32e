#!/bin/bash
# A bundle cut short (a download that stopped, a full disk): in the middle
# of the core, at every compression, and just before the manifest.
# Refused as truncated, and whatever was extracted before the cut is gone.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
for suffix in tar.zst tar.xz tar.gz tar; do
	cu_craft "$b/whole.$suffix" <<'PY'
import random
random.seed(3)
core = bytes(random.getrandbits(8) for _ in range(1 << 20))
b = Bundle.synthetic(core=core)
b.file('sysroot/usr/lib/libbig.so', core[::-1], mode=0o755)
b.write(out)
PY
	size=$(stat -c %s "$b/whole.$suffix")
	head -c $((size / 2)) "$b/whole.$suffix" >"$b/half.$suffix"
	cu_expect_refused "$b/half.$suffix" "truncated or corrupt \((in|after) entry 'crash/[^']*'\): "
	rm -f "$b/whole.$suffix" "$b/half.$suffix"
done

# Cut after the last file, before the manifest (version 1, whose manifest
# came last): every file checks out but nothing says what they should be.
cu_craft "$b/whole.tar" <<'PY'
b = Bundle.synthetic()
b.manifest['manifest_version'] = 1
b.write(out)
PY
offset=$(python3 - "$b/whole.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        if m.name.endswith('/manifest.json'):
            print(m.offset)
PY
)
head -c "$offset" "$b/whole.tar" >"$b/no-manifest.tar"
cu_expect_refused "$b/no-manifest.tar" "not a corepack bundle: no manifest\.json"

# Cut inside the manifest's own header.
head -c $((offset + 300)) "$b/whole.tar" >"$b/cut-header.tar"
cu_expect_refused "$b/cut-header.tar" "truncated or corrupt"

# Version 2: cut before digests.json, the last entry: nothing vouches for
# the files' contents.
cu_craft "$b/whole2.tar" <<'PY'
b = Bundle.synthetic()
b.write(out)
PY
offset=$(python3 - "$b/whole2.tar" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        if m.name.endswith('/digests.json'):
            print(m.offset)
PY
)
head -c "$offset" "$b/whole2.tar" >"$b/no-digests.tar"
cu_expect_refused "$b/no-digests.tar" "not a corepack bundle: no digests\.json"
cp_finish
