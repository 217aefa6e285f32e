# Helpers for the tests of live processes (corepack --pid, --handler),
# sourced after lib.sh.

# cp_build_live: liveapp (three threads, tests/e2e/progs/liveapp.c) linked
# with libcrash, both stripped, as cp_build_trio builds them.  Sets:
#   CP_LIVE_APP    $CP_WORK/b/bin/liveapp (debug: build-id tree in CP_DEBUGROOT)
#   CP_DEBUGROOT   $CP_WORK/dbg, to pass with --debug-dir
#   CP_LIB         $CP_WORK/b/lib/libcrash.so.1.0.0 (debug: lib/.debug/)
#   CP_LIB_SONAME  $CP_WORK/b/lib/libcrash.so.1 -> libcrash.so.1.0.0
cp_build_live() {
	local b=${1:-$CP_WORK/b} id
	mkdir -p "$b/bin" "$b/lib" "$CP_WORK/dbg"
	CP_DEBUGROOT=$CP_WORK/dbg
	CP_LIB=$b/lib/libcrash.so.1.0.0
	CP_LIB_SONAME=$b/lib/libcrash.so.1
	CP_LIVE_APP=$b/bin/liveapp
	cp_build_lib "$CP_LIB"
	ln -s libcrash.so.1.0.0 "$CP_LIB_SONAME"
	ln -s libcrash.so.1 "$b/lib/libcrash.so"
	gcc "${CP_CFLAGS[@]}" -pthread -I"$CP_PROGS" -o "$CP_LIVE_APP" "$CP_PROGS/liveapp.c" \
		-L"$b/lib" -lcrash -Wl,-rpath,"$b/lib"
	cp_split_debug "$CP_LIVE_APP" "$b/bin/liveapp.debug"
	id=$(cp_build_id "$CP_LIVE_APP")
	[[ -n $id ]] || cp_fail "$CP_LIVE_APP has no build-id"
	mkdir -p "$CP_DEBUGROOT/.build-id/${id:0:2}"
	mv "$b/bin/liveapp.debug" "$CP_DEBUGROOT/.build-id/${id:0:2}/${id:2}.debug"
}

# cp_replace_lib: rebuild libcrash with different code and rename it over
# the loaded one, as a package upgrade does (the old file is then deleted
# while mapped).  The old debug file stays where its .gnu_debuglink finds
# it.  Sets CP_OLD_ID and CP_NEW_ID.
cp_replace_lib() {
	CP_OLD_ID=$(cp_build_id "$CP_LIB")
	mkdir -p "$CP_WORK/rebuild"
	cp_build_lib "$CP_WORK/rebuild/libcrash.so.1.0.0" -DLIBCRASH_VARIANT=2
	mv -f "$CP_WORK/rebuild/libcrash.so.1.0.0" "$CP_LIB"
	CP_NEW_ID=$(cp_build_id "$CP_LIB")
	[[ $CP_OLD_ID != "$CP_NEW_ID" ]] || cp_fail "the rebuilt libcrash has the same build-id $CP_OLD_ID"
	cp_log "replaced $CP_LIB: build-id $CP_OLD_ID -> $CP_NEW_ID"
}

# cp_bundle_object_id NAME-SUFFIX: the build-id of the file the extracted
# bundle holds for the manifest object named *NAME-SUFFIX.
cp_bundle_object_id() {
	local bp
	cp_manifest_object "$1"
	bp=$(cp_manifest ".objects[$CP_OBJ].bundle_path // empty")
	[[ -n $bp ]] || cp_fail "manifest object '$1' has no bundle_path: not packed" "$CP_BUNDLE_DIR/manifest.json"
	f=$CP_BUNDLE_DIR/${bp#/}
	[[ -e $f ]] || f=$(dirname "$CP_BUNDLE_DIR")/${bp#/}
	cp_build_id "$f"
}

# cp_assert_live_threads: gdb on the extracted bundle (originals hidden)
# shows liveapp's three threads, each with its own frames and file:line.
cp_assert_live_threads() {
	local out=$CP_WORK/logs/gdb-threads.out f n lib=$CP_PROGS/libcrash.c app=$CP_PROGS/liveapp.c
	cp_gdb "$out" -batch -ex 'info threads' -ex 'thread apply all bt'
	n=$(cp_gdb_section "$out" 1 | grep -c -E '^[* ] +[0-9]+ +(Thread|LWP) ' || true)
	cp_check "info threads lists 3 threads"
	[[ $n == 3 ]] || cp_fail "info threads lists $n threads, expected 3" "$out"
	rm -f "$CP_WORK"/logs/thread-[0-9]*
	cp_gdb_section "$out" 2 | awk -v dir="$CP_WORK/logs" '
		/^Thread [0-9]+ \(/ { f = dir "/thread-" $2; printf "" > f }
		f { print > f }'
	live_thread "crash_wait libcrash.c:$(cp_line "$lib" crash_wait)" \
		"crash_deep libcrash.c:$(cp_line "$lib" crash_deep_wait)" \
		"main liveapp.c:$(cp_line "$app" main)"
	live_thread "park_alpha liveapp.c:*" "thread_alpha liveapp.c:$(cp_line "$app" thread_alpha)"
	live_thread "park_beta liveapp.c:*" "thread_beta liveapp.c:$(cp_line "$app" thread_beta)"
}

live_thread() {
	local f
	cp_check "a thread shows $*"
	for f in "$CP_WORK"/logs/thread-[0-9]*; do
		if (cp_assert_frames "$f" "$@") >/dev/null 2>&1; then
			return 0
		fi
	done
	cp_fail "no thread's backtrace has the frames $*" "$CP_WORK/logs/gdb-threads.out"
}

# cp_proc_state PID: the process's state letter (R, S, T, Z...), or "gone".
cp_proc_state() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo gone; return 0; }
	s=${s##*) }
	echo "${s%% *}"
}
