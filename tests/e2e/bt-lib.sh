# Helpers for the backtrace tests (tests/e2e/run-backtrace-*.sh), sourced
# after lib.sh and cp_init.
#
# The report comes from bt_report: from the report.txt of a bundle corepack
# wrote when corepack writes one, otherwise from tests/tools/bt-driver.c (the
# same library calls: cp_scan_core, cp_backtrace_core, cp_report_render).
# BT_SOURCE=driver or BT_SOURCE=corepack forces one.  The driver is the one
# CMake built (BUILD/tests/tools/bt-driver).

# bt_driver_init: set BT_DRIVER (built by CMake with the tests).
bt_driver_init() {
	local build
	[[ -n ${BT_DRIVER:-} ]] && return 0
	build=$(dirname "$COREPACK")
	[[ -x $build/tests/tools/bt-driver ]] ||
		cp_fail "no $build/tests/tools/bt-driver (it is built with the tests: cmake --build $build)"
	BT_DRIVER=$build/tests/tools/bt-driver
}

# bt_report OUT CORE [OPTION...]: the crash report with every thread's
# backtrace in OUT.  OPTIONs are corepack's (--sysroot, --debug-dir, -e).
bt_report() {
	local out=$1 core=$2 st=0 bundle top
	shift 2
	if [[ ${BT_SOURCE:-auto} != driver ]]; then
		bundle=$CP_WORK/bt-$RANDOM.tar
		"$COREPACK" -q "$@" -o "$bundle" "$core" >"$CP_WORK/logs/bt-pack.out" \
			2>"$CP_WORK/logs/bt-pack.err" || st=$?
		((st == 0)) || cp_fail "corepack exited $st" "$CP_WORK/logs/bt-pack.err"
		top=$(cp_bundle_top "$bundle")
		if tar -xOf "$bundle" "$top/report.txt" >"$out" 2>/dev/null; then
			BT_FROM=corepack
			rm -f -- "$bundle"
			return 0
		fi
		rm -f -- "$bundle"
		[[ ${BT_SOURCE:-auto} == corepack ]] &&
			cp_fail "BT_SOURCE=corepack but the bundle has no report.txt"
	fi
	bt_driver_init
	BT_FROM=bt-driver
	st=0
	timeout 120 "$BT_DRIVER" --all "$@" "$core" >"$out" 2>"$out.err" || st=$?
	((st == 0)) || cp_fail "bt-driver exited $st on $core" "$out" "$out.err"
}

# bt_driver OUT CORE [OPTION...]: the report from bt-driver itself, for the
# options only the library has (--max-frames, --max-threads, --timeout-ms,
# --crashing-only); the exit status in BT_STATUS, not checked.
bt_driver() {
	local out=$1 core=$2
	shift 2
	bt_driver_init
	BT_STATUS=0
	timeout 120 "$BT_DRIVER" "$@" "$core" >"$out" 2>"$out.err" || BT_STATUS=$?
}

# bt_frames REPORT [TID]: the frames of thread TID (default: the crashing
# thread) of a report, one "function<TAB>file:line" per line as cp_frames
# prints gdb's: "??" for an unknown function, file reduced to its base name,
# nothing after the tab without a line.  A report's frame is
# "#N  PC FUNCTION[+0xOFF] (MODULE) FILE:LINE [inlined]", where FUNCTION may
# hold spaces and parentheses (C++: "acme::(anonymous namespace)::f",
# "take(std::string const&)"): it is read from the right.
bt_frames() {
	awk -v tid="${2:-}" '
		/^thread [0-9-]+( \(crashing\))?:$/ {
			id = $2; sub(":", "", id)
			on = (tid == "" ? ($3 == "(crashing):") : (id == tid))
			next
		}
		/^$/ { on = 0 }
		on && /^#[0-9]+ / {
			line = $0
			sub(/^#[0-9]+ +0x[0-9a-f]+ /, "", line)
			sub(/ \[tail call\]$/, "", line)
			sub(/ \[inlined\]$/, "", line)
			at = ""
			if (match(line, / [^ ]+:[0-9]+$/)) {
				at = substr(line, RSTART + 1)
				line = substr(line, 1, RSTART - 1)
				n = split(at, p, "/"); at = p[n]
			}
			# the module: the last parenthesized group, after a space
			if (line ~ /\)$/) {
				depth = 0
				for (i = length(line); i > 0; i--) {
					c = substr(line, i, 1)
					if (c == ")") depth++
					else if (c == "(" && --depth == 0) break
				}
				if (i > 1 && substr(line, i - 1, 1) == " ") line = substr(line, 1, i - 2)
			}
			fn = line; sub(/\+0x[0-9a-f]+$/, "", fn)
			if (fn == "<signal handler called>") fn = "<signal-handler-called>"
			printf "%s\t%s\n", fn, at
		}' "$1"
}

# bt_tids REPORT: the thread ids of a report, in its order.
bt_tids() {
	sed -n 's/^thread \([0-9-]*\)\( (crashing)\)\{0,1\}:$/\1/p' "$1"
}

# bt_gdb_frames GDB-OUT: cp_frames of gdb's output, with its signal
# trampoline frame named "<signal-handler-called>" as bt_frames names ours,
# and function names that hold spaces kept whole ("acme::(anonymous
# namespace)::Poker::poke (this=...) at f.cc:7", "acme::outer(int
# volatile*) () from libx.so"): the name is what precedes the last
# parenthesized group (the arguments) before " at FILE:LINE" or " from LIB".
bt_gdb_frames() {
	sed 's/^\(#[0-9]*  *\)<signal handler called>$/\1<signal-handler-called> ()/' "$1" |
		awk '
		/^#[0-9]+ / {
			line = $0; tail = ""
			if (match(line, / at [^ ]+:[0-9]+$/) || match(line, / from [^ ]+$/)) {
				tail = substr(line, RSTART); line = substr(line, 1, RSTART - 1)
			}
			head = ""
			if (match(line, /^#[0-9]+ +(0x[0-9a-f]+ in )?/)) {
				head = substr(line, 1, RLENGTH); line = substr(line, RLENGTH + 1)
			}
			if (line ~ /\)$/) {
				depth = 0
				for (i = length(line); i > 0; i--) {
					c = substr(line, i, 1)
					if (c == ")") depth++
					else if (c == "(" && --depth == 0) break
				}
				if (i > 1 && substr(line, i - 1, 1) == " ") {
					name = substr(line, 1, i - 2)
					gsub(/ /, "\037", name)
					line = name substr(line, i - 1)
				}
			}
			print head line tail
			next
		}
		{ print }' >"$1.sig"
	cp_frames "$1.sig" | tr '\037' ' '
}

# bt_gdb OUT EXE CORE [GDB-ARGS...]: gdb on the original files (before
# anything is hidden), with CP_DEBUGROOT and /usr/lib/debug for debug files;
# each -ex in GDB-ARGS is marked (cp_gdb_mark).
bt_gdb() {
	local out=$1 exe=$2 core=$3 st=0
	shift 3
	cp_gdb_mark "$@"
	gdb -nx -batch -iex 'set debuginfod enabled off' -iex 'set auto-load off' \
		-iex "set debug-file-directory ${CP_DEBUGROOT:+$CP_DEBUGROOT:}/usr/lib/debug" \
		-ex "file $exe" -ex "core-file $core" "${CP_GDB_ARGS[@]}" </dev/null >"$out" 2>&1 || st=$?
	((st == 0)) || cp_fail "gdb exited $st" "$out"
}

# bt_gdb_split GDB-OUT DIR: one file DIR/lwp-TID per thread of gdb's
# "thread apply all bt".
bt_gdb_split() {
	mkdir -p "$2"
	awk -v dir="$2" -v marked="$(grep -c -E '^@@cp-ex [0-9]+@@$' "$1" || true)" '
		marked && /^@@cp-ex [0-9]+@@$/ { on = 1; next }
		marked && /^@@cp-end@@$/ { on = 0; f = ""; next }
		marked && !on { next }
		/^warning: / { next }
		/^Thread [0-9]+ \(/ {
			lwp = ""
			if (match($0, /LWP [0-9]+/)) lwp = substr($0, RSTART + 4, RLENGTH - 4)
			f = lwp == "" ? "" : dir "/lwp-" lwp
			if (f != "") printf "" > f
			next
		}
		f { print > f }' "$1"
}

# bt_compare MINE GDB LABEL: the frame lists ("function<TAB>file:line")
# agree: same functions in the same order, and the same file:line wherever
# both have one.  Fails the test (later) with both lists shown.
bt_compare() {
	local mine=$1 theirs=$2 label=$3 a=() b=() i bad=
	mapfile -t a <"$mine"
	mapfile -t b <"$theirs"
	((${#b[@]} > 0)) || { cp_fail_later "$label: gdb shows no frames"; return; }
	if ((${#a[@]} != ${#b[@]})); then
		bad="${#a[@]} frames, gdb has ${#b[@]}"
	fi
	for ((i = 0; i < ${#a[@]} && i < ${#b[@]}; i++)); do
		local fa=${a[i]%%$'\t'*} fb=${b[i]%%$'\t'*} la=${a[i]#*$'\t'} lb=${b[i]#*$'\t'}
		if [[ $(cp_fn_family "$fa") != "$(cp_fn_family "$fb")" ]]; then
			bad+="${bad:+; }frame #$i is '$fa', gdb has '$fb'"
		elif [[ -n $la && -n $lb && $la != "$lb" ]]; then
			bad+="${bad:+; }frame #$i ($fa) is at $la, gdb has $lb"
		fi
	done
	if [[ -n $bad ]]; then
		cp_fail_later "$label: $bad"
		printf '  ours:\n'
		sed 's/^/    /' "$mine"
		printf '  gdb:\n'
		sed 's/^/    /' "$theirs"
	else
		cp_log "$label: ${#a[@]} frames, same as gdb"
	fi
}

# bt_expect_line REPORT REGEX: a line of the report matches.
bt_expect_line() {
	grep -E -- "$2" "$1" >/dev/null || cp_fail_later "report has no line matching /$2/"
}

# bt_make_sysroot ROOT: after cp_build_trio and cp_crash, a sysroot in ROOT
# with every file of the core's NT_FILE paths and the trio's build tree
# (symlinks and debug files beside the objects, for the debuglink lookups);
# the original build tree is moved away to $CP_WORK/b.away.
bt_make_sysroot() {
	local root=$1 f
	mkdir -p "$root"
	cp_check "building a sysroot from the core's NT_FILE paths"
	# (eu-readelf: Debian's readelf cannot decode 64-bit NT_FILE notes)
	cp_need eu-readelf:elfutils
	eu-readelf -n "$CP_CORE" | sed -n 's/^ *[0-9a-f]*-[0-9a-f]* [0-9a-f]* [0-9]* *\(\/.*\)$/\1/p' |
		sort -u >"$CP_WORK/logs/nt-files"
	[[ -s $CP_WORK/logs/nt-files ]] || cp_fail "no NT_FILE paths in the core"
	while IFS= read -r f; do
		[[ -f $f ]] && cp --parents -L -- "$f" "$root/"
	done <"$CP_WORK/logs/nt-files"
	mkdir -p "$root$CP_WORK"
	cp -a "$CP_WORK/b" "$root$CP_WORK/"
	mv "$CP_WORK/b" "$CP_WORK/b.away"
}

# bt_bundle DIR CORE [OPTION...]: pack CORE with corepack as a user would
# (not quiet) into DIR/bundle.tar; its stdout (the summary) in
# DIR/summary.txt, the bundle's report.txt and manifest.json in DIR.
bt_bundle() {
	local dir=$1 core=$2 st=0 top
	shift 2
	mkdir -p "$dir"
	"$COREPACK" "$@" -o "$dir/bundle.tar" "$core" >"$dir/summary.txt" 2>"$dir/pack.err" || st=$?
	((st == 0)) || cp_fail "corepack exited $st on $core" "$dir/summary.txt" "$dir/pack.err"
	top=$(cp_bundle_top "$dir/bundle.tar")
	tar -xOf "$dir/bundle.tar" "$top/report.txt" >"$dir/report.txt" ||
		cp_fail "no report.txt in $dir/bundle.tar"
	tar -xOf "$dir/bundle.tar" "$top/manifest.json" >"$dir/manifest.json" ||
		cp_fail "no manifest.json in $dir/bundle.tar"
}

# bt_manifest_frames MANIFEST: the crash's frames in a manifest.json, as
# bt_frames prints a report's.
bt_manifest_frames() {
	jq -r '.crash.frames[] | (.function // "??") + "\t" +
		(if .line then (.file | split("/") | last) + ":" + (.line | tostring) else "" end)' "$1"
}

# bt_same_as_gdb DIR GDB-OUT LABEL: the crashing thread's frames of the
# bundle made by bt_bundle in DIR, in report.txt, in the summary corepack
# printed and in manifest.json, are gdb's: the same functions (inlined ones
# included) in the same order, with the same file:line, or none where gdb
# has none.  Fails the test (later) with both lists shown.
bt_same_as_gdb() {
	local dir=$1 label=$3 f
	bt_frames "$dir/report.txt" >"$dir/ours"
	bt_gdb_frames "$2" >"$dir/gdb-frames"
	if ! cmp -s "$dir/ours" "$dir/gdb-frames"; then
		cp_fail_later "$label: report.txt's frames are not gdb's"
		{ diff "$dir/gdb-frames" "$dir/ours" || true; } | sed 's/^/  (< gdb, > ours) /'
	else
		cp_log "$label: $(wc -l <"$dir/ours") frames, the same as gdb's"
	fi
	[[ -s $dir/ours ]] || cp_fail_later "$label: no frames"
	bt_frames "$dir/summary.txt" >"$dir/summary-frames"
	cmp -s "$dir/ours" "$dir/summary-frames" ||
		cp_fail_later "$label: the summary on stdout does not show report.txt's frames"
	bt_manifest_frames "$dir/manifest.json" >"$dir/manifest-frames"
	cmp -s "$dir/ours" "$dir/manifest-frames" ||
		cp_fail_later "$label: manifest.json's frames are not report.txt's"
	for f in summary.txt report.txt; do
		if grep -q 'no line information' "$dir/$f" && ! [[ ${BT_NOTES_OK:-} ]]; then
			cp_fail_later "$label: $f says a module has no line information"
			grep 'no line information' "$dir/$f" | sed 's/^/  /'
		fi
	done
}
