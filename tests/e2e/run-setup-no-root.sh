#!/bin/bash
# scripts/setup.sh run by a user who is not root and has no sudo, with
# packages missing: it stops before doing anything, with one line on stderr
# that names every missing package and how to install them, and exits 1.
# (dpkg-query is replaced by one that reports two packages missing, id by
# one that says uid 1000; the PATH has no sudo.)
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
CP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/cp-e2e-$CP_TEST-work.XXXXXX")
trap 'rm -rf -- "$CP_WORK"' EXIT
chmod 755 "$CP_WORK"

mkdir -p "$CP_WORK/src/scripts" "$CP_WORK/bin"
cp "$CP_SRC_DIR/scripts/setup.sh" "$CP_WORK/src/scripts/"
cat >"$CP_WORK/bin/dpkg-query" <<'FAKE'
#!/bin/sh
# dpkg-query -W -f='${Status}' PKG: installed, but for jq and libcmocka-dev
for a; do pkg=$a; done
case $pkg in jq | libcmocka-dev) exit 1 ;; esac
printf 'install ok installed'
FAKE
printf '#!/bin/sh\necho amd64\n' >"$CP_WORK/bin/dpkg"
printf '#!/bin/sh\necho "cmake must not run" >&2; exit 3\n' >"$CP_WORK/bin/cmake"
printf '#!/bin/sh\necho 1000\n' >"$CP_WORK/bin/id"
for t in sh dirname grep; do
	ln -s "$(command -v "$t")" "$CP_WORK/bin/$t"
done
chmod 755 "$CP_WORK"/bin/dpkg-query "$CP_WORK"/bin/dpkg "$CP_WORK"/bin/cmake "$CP_WORK"/bin/id
chmod -R a+rX "$CP_WORK"

cp_check "setup.sh without root and without sudo stops, naming the packages"
st=0
env -i PATH="$CP_WORK/bin" sh "$CP_WORK/src/scripts/setup.sh" \
	>"$CP_WORK/out" 2>"$CP_WORK/err" || st=$?
((st == 1)) || cp_fail "exit status $st, expected 1" "$CP_WORK/out" "$CP_WORK/err"
[[ ! -s $CP_WORK/out ]] || cp_fail "setup.sh printed on stdout" "$CP_WORK/out"
[[ $(grep -c '' "$CP_WORK/err") == 1 ]] || cp_fail "stderr is not one line" "$CP_WORK/err"
grep -q -E '^setup: .*apt-get install +libcmocka-dev +jq *$' "$CP_WORK/err" ||
	cp_fail "the line does not name the two missing packages" "$CP_WORK/err"
sed 's/^/  stderr: /' "$CP_WORK/err"
cp_finish
