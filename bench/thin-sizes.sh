#!/bin/bash
# Full against thin bundle sizes for a program with many libraries: a
# python3 that imported every extension module it has, then aborted (as
# tests/e2e/run-list-python.sh crashes it).  A debuginfod started here
# serves copies of every object and debug file the full bundle holds; the
# thin bundle leaves out what it serves.  Prints both sizes.
#   Usage: COREPACK=build/corepack COREUNPACK=build/coreunpack bench/thin-sizes.sh
set -euo pipefail
CP_E2E_DIR=$(cd "$(dirname "$0")/../tests/e2e" && pwd)
. "$CP_E2E_DIR/lib-debuginfod.sh"
cp_init
cat >"$CP_WORK/imp.py" <<'PY'
import glob, importlib, os, sys
for d in sys.path:
    if d.endswith("lib-dynload"):
        for so in sorted(glob.glob(d + "/*.so")):
            try:
                importlib.import_module(os.path.basename(so).split(".")[0])
            except Exception:
                pass
os.abort()
PY
cp_crash "$CP_WORK/py" /usr/bin/python3 "$CP_WORK/imp.py"
dl_fresh_cache full
cp_pack "$CP_CORE" "$CP_WORK/full.tar.zst" >/dev/null
full=$CP_BUNDLE_SIZE
cp_extract "$CP_BUNDLE_FILE" >/dev/null
srv=$CP_WORK/srv
mkdir -p "$srv"
probes=()
while IFS=$'\t' read -r file id dbg; do
	cp "$file" "$srv/$(basename "$file").$id"
	probes+=("/buildid/$id/executable")
	[[ -n $dbg ]] && cp "$dbg" "$srv/$(basename "$file").$id.debug"
done < <(jq -r '.objects[] | select(.bundle_path != null and .build_id_file != null)
	| [.file, .build_id_file, (.debug[0].origin // "")] | @tsv' "$CP_BUNDLE_DIR/manifest.json")
dl_start_server "$srv" "${probes[@]}"
export DEBUGINFOD_URLS=$DL_URL
dl_fresh_cache thin
cp_pack "$CP_CORE" "$CP_WORK/thin.tar.zst" --thin >/dev/null
objects=$(jq '[.objects[] | select(.bundle_path != null)] | length' "$CP_BUNDLE_DIR/manifest.json")
printf 'python3, %s objects: full %s bytes, thin %s bytes (%s)\n' "$objects" "$full" \
	"$CP_BUNDLE_SIZE" "$(grep '^thin:' "$CP_PACK_OUT")"
