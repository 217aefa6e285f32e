#!/bin/bash
# A manifest that costs json-c gigabytes (issue 19, kind 3).  json-c
# builds a tree of about 784 bytes for each "{}" of the text: a manifest
# within the old 64 MiB cap needed 17 GB.  Now the cap is what real
# bundles need (16 MiB: about 2 KiB per object for 8192 objects), and the
# tree is estimated before it is built and refused past 128 MiB.
# A 16 MiB manifest of "{}", first (version 2) and last (version 1): both
# refused, naming the estimate, with coreunpack's peak RSS under 256 MiB
# (and, but in a sanitizer build, its address space capped at 1 GiB: an
# older coreunpack ran out of memory there instead).
set -euo pipefail
. "${CP_E2E_DIR:-$(dirname "$0")}/lib-unpack.sh"
cu_init

b=$CP_WORK/bundles
for version in 1 2; do
	export VERSION=$version
	cu_craft "$b/json-bomb-v$version.tar.zst" <<'PY'
b = Bundle.synthetic()
b.manifest['manifest_version'] = int(os.environ['VERSION'])
b.json_indent = None
b.manifest['padding'] = [{}] * ((16 << 20) // 3 - 2000)
b.write(out)
PY
done

# run_measured LOG ARGS...: coreunpack ARGS with its address space capped
# (but under ASan, whose shadow memory needs more); CU_ST its status,
# CU_RSS its peak RSS in KiB.
asan=0
grep -q -a __asan_init "$COREUNPACK" && asan=1
run_measured() {
	local log=$1 r
	shift
	r=$(python3 - "$asan" "$log" "$COREUNPACK" "$@" <<'PY'
import resource, subprocess, sys
asan, log, args = sys.argv[1] == '1', sys.argv[2], sys.argv[3:]
def limit():
    if not asan:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
with open(log + '.out', 'w') as o, open(log + '.err', 'w') as e:
    p = subprocess.run(args, preexec_fn=limit, stdout=o, stderr=e, stdin=subprocess.DEVNULL)
print(p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
)
	CU_ST=${r% *}
	CU_RSS=${r#* }
}

for version in 1 2; do
	f=$b/json-bomb-v$version.tar.zst
	cp_check "version $version: a manifest of $(($(zstd -dc "$f" | tar -xOf - crash/manifest.json | wc -c) >> 20)) MiB of {} is refused within 256 MiB"
	for mode in --list -C; do
		args=("$mode")
		[[ $mode == -C ]] && args+=("$CU_BOX/out")
		run_measured "$CP_WORK/logs/bomb" "${args[@]}" "$f"
		sed 's/^/  stderr: /' "$CP_WORK/logs/bomb.err"
		cp_log "coreunpack $mode: exit $CU_ST, peak RSS $((CU_RSS >> 10)) MiB"
		[[ $CU_ST == 1 ]] || cp_fail "coreunpack $mode exited $CU_ST, expected 1" "$CP_WORK/logs/bomb.err"
		grep -q -E "manifest\.json: [0-9]+ bytes of JSON that would take about [0-9]+ MiB to hold, more than the limit of 128 MiB" \
			"$CP_WORK/logs/bomb.err" || cp_fail "wrong message" "$CP_WORK/logs/bomb.err"
		((CU_RSS < 256 << 10)) || cp_fail "coreunpack $mode peaked at $((CU_RSS >> 10)) MiB"
		[[ ! -e $CU_BOX/out ]] || cp_fail "out/ was left behind"
	done
done
cp_finish
