#!/bin/bash
# Names near the 4096-byte limit (issue 19, kind 5).  Below the staging
# directory such a name makes a path longer than PATH_MAX: the cleanup
# (nftw on paths) failed there, and a refused bundle left its data in the
# hidden staging directory.  Now every tree is removed through directory
# descriptors, one level at a time.
#  1. A bundle with a 4090-byte name (with ".coreunpack-XXXXXX/" before
#     it, past PATH_MAX), refused at its end (a digest that does not
#     match): nothing is left anywhere, in both bundle forms.
#  2. The same bundle, whole: unpacked, then unpacked again with -f (the
#     old tree is moved aside and removed): the deep file is there, no
#     staging directory is left.
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
for version in 1 2; do
	export VERSION=$version
	cu_craft "$b/deep-v$version.tar.zst" <<'PY'
base = 'sysroot/' + '/'.join(['d%02d' % i + 'x' * 196 for i in range(20)]) + '/'
deep = base + 'libdeep' + 'y' * (4090 - len(base) - 10) + '.so'
assert len(deep) == 4090, len(deep)
b = Bundle.synthetic()
b.manifest['manifest_version'] = int(os.environ['VERSION'])
b.file(deep, b'deep\n' * 1000, listed=False)
# Listed with the digest of other bytes: refused after everything was
# written.
b.extra_files = [{'path': deep, 'size': 5000, 'sha256': sha(b'other')}]
b.write(out)
PY
	cu_expect_refused "$b/deep-v$version.tar.zst" "'sysroot/d00x+/.*' does not match the manifest: sha256 "
done

cu_craft "$b/deep-good.tar.zst" <<'PY'
base = 'sysroot/' + '/'.join(['d%02d' % i + 'x' * 196 for i in range(20)]) + '/'
deep = base + 'libdeep' + 'y' * (4090 - len(base) - 10) + '.so'
b = Bundle.synthetic()
b.file(deep, b'deep\n' * 1000)
b.write(out)
PY
cp_check "a bundle with a 4000-byte name unpacks, and unpacks again with -f, leaving nothing behind"
for force in "" -f; do
	cu_run "$CP_WORK/logs/good" "$CU_BOX" $force -C deep "$b/deep-good.tar.zst"
	[[ $CU_ST == 0 ]] || cp_fail "coreunpack $force exited $CU_ST" "$CP_WORK/logs/good.err"
	n=$(find "$CU_BOX/deep/sysroot" -name 'libdeep*.so' -type f | wc -l)
	[[ $n == 1 ]] || cp_fail "libdeep.so is not in the unpacked tree ($n found)"
	left=$(find "$CU_BOX" -name '.coreunpack-*' | head -n 3)
	[[ -z $left ]] || cp_fail "left behind: $left"
done
cp_finish
