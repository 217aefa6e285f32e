#!/bin/bash
# corepack --list on a real program with many libraries: a Python
# interpreter that imported every extension module it has, then aborted.
# Every object eu-unstrip -n --core lists must be listed, with the same
# build-id; --json must agree with the text form; nothing may be written.
source "${CP_E2E_DIR:-$(dirname "$0")}/lib.sh"
cp_init
cp_need eu-unstrip:elfutils
py=/usr/bin/python3
[[ -x $py ]] || cp_skip "no /usr/bin/python3 (apt-get install python3)"

cat >"$CP_WORK/imp.py" <<'PY'
import glob, importlib, os, sys
n = 0
for d in sys.path:
    if d.endswith("lib-dynload"):
        for so in sorted(glob.glob(d + "/*.so")):
            name = os.path.basename(so).split(".")[0]
            try:
                importlib.import_module(name)
                n += 1
            except Exception:
                pass
print(n, flush=True)
os.abort()
PY
cp_crash "$CP_WORK/py" "$py" "$CP_WORK/imp.py"
core=$CP_CORE
imported=$(cat "$CP_WORK/py/.out")
cp_log "python imported $imported extension modules"
((imported >= 20)) || cp_fail "python imported only $imported extension modules"

cd "$CP_WORK/py"
before=$(ls -A | sort)
"$COREPACK" --list "$core" >list.txt 2>list.err || cp_fail "corepack --list failed" list.err
"$COREPACK" --list --json "$core" >list.json 2>/dev/null || cp_fail "corepack --list --json failed"
after=$(ls -A | grep -v -e '^list\.' | sort)
[[ $before == "$after" ]] || cp_fail "--list wrote files: $(comm -13 <(echo "$before") <(echo "$after"))"
eu-unstrip -n --core="$core" >unstrip.txt 2>/dev/null || cp_fail "eu-unstrip -n failed"

# eu-unstrip: START+SIZE BUILDID@ADDR FILE DEBUGFILE NAME
cp_check "every module eu-unstrip lists is in --list with the same build-id"
n=0
while read -r range idaddr _ _ name; do
	id=${idaddr%%@*}
	start=${range%%+*}
	[[ $id == - || -z $id ]] && continue
	n=$((n + 1))
	if [[ $name == linux-vdso.so.1 || $name == "[vdso]" ]]; then
		grep -q " $id - in-core - \[vdso\]\$" list.txt || cp_fail_later "vdso $id missing from --list"
		continue
	fi
	line=$(awk -v s="$start" -v id="$id" 'index($1, s "-") == 1 && $2 == id' list.txt)
	[[ -n $line ]] || cp_fail_later "module at $start ($name, $id) not listed by corepack --list"
done <unstrip.txt
cp_log "eu-unstrip listed $n modules with build-ids; --list: $(grep -c '^0x' list.txt) mapped objects"
((n >= imported)) || cp_fail "eu-unstrip listed only $n modules"

cp_check "--json lists the same objects and build-ids as the text form"
jq -r '.objects[] | select(.start != null) | "\(.start) \(.build_id_core // .build_id_file)"' list.json | sort >json-ids
awk '$1 ~ /^0x/ && $NF != "[vdso]" { split($1, r, "-"); print r[1], $2 }' list.txt | sort >text-ids
diff -u text-ids json-ids >/dev/null || cp_fail "--json and the text form disagree" text-ids json-ids
[[ $(jq -r '.totals.objects' list.json) -ge $n ]] || cp_fail "--json totals too small"
grep -q 'a bundle would hold' list.txt || cp_fail "no closing line with the bundle's weight" list.txt
cp_log "RESULT objects listed: $(grep -c "^0x" list.txt), eu-unstrip modules: $n"
cp_finish
