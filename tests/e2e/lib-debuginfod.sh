# Helpers for the debuginfod tests (run-debuginfod-*.sh), on top of
# lib-unpack.sh: a real debuginfod (elfutils) started on 127.0.0.1 over a
# directory of the test, and a lying server (python3's http.server)
# answering every build-id with the same wrong file.
#
# FIELD-NOTES: the debuginfod client caches misses (600 s) in
# DEBUGINFOD_CACHE_PATH, so the scan is waited for with plain HTTP probes
# (python3's urllib: no client cache at all), and every client the test
# runs gets a fresh cache (dl_fresh_cache).

# shellcheck source=tests/e2e/lib-unpack.sh
. "${CP_E2E_DIR:-$(dirname "${BASH_SOURCE[0]}")}/lib-unpack.sh"

DL_PIDS=()

# A port nobody listens on now (the kernel's pick); the caller retries if
# someone took it meanwhile.
dl_free_port() {
	python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# dl_probe URL: 0 when URL answers 200.
dl_probe() {
	python3 - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        r.read()
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

# dl_stop_servers: stop every server the test started.
dl_stop_servers() {
	local pid
	for pid in ${DL_PIDS[@]+"${DL_PIDS[@]}"}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	DL_PIDS=()
}

dl_stop() {
	local pid
	for pid in ${DL_PIDS[@]+"${DL_PIDS[@]}"}; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	DL_PIDS=()
	cp_cleanup
}

# dl_start_server DIR PROBE-PATH...: debuginfod -F DIR on a free port,
# database in the work directory; waits until every PROBE-PATH
# (/buildid/ID/debuginfo ...) answers.  Sets DL_URL.
dl_start_server() {
	local dir=$1 port tries=0 i ok log
	shift
	cp_need debuginfod:debuginfod python3:python3
	trap dl_stop EXIT
	while :; do
		tries=$((tries + 1))
		((tries <= 5)) || cp_fail "debuginfod did not start on any of 5 free ports" "$log"
		port=$(dl_free_port)
		log=$CP_WORK/logs/debuginfod.$port.log
		debuginfod -F -p "$port" -d "$CP_WORK/debuginfod.$port.sqlite" -t 0 -g 0 -c 1 \
			"$dir" >"$log" 2>&1 &
		DL_PIDS+=($!)
		DL_URL=http://127.0.0.1:$port
		for ((i = 0; i < 300; i++)); do
			kill -0 "${DL_PIDS[-1]}" 2>/dev/null || break
			dl_probe "$DL_URL/metrics" && break
			sleep 0.1
		done
		kill -0 "${DL_PIDS[-1]}" 2>/dev/null && dl_probe "$DL_URL/metrics" && break
		kill "${DL_PIDS[-1]}" 2>/dev/null || true
	done
	cp_log "debuginfod on $DL_URL over $dir"
	for p in "$@"; do
		ok=0
		for ((i = 0; i < 600; i++)); do
			if dl_probe "$DL_URL$p"; then
				ok=1
				break
			fi
			sleep 0.1
		done
		((ok)) || cp_fail "debuginfod never served $p (scan not finished after 60 s)" "$log"
	done
}

# dl_start_liar FILE|DIR: a server answering every /buildid/ID/KIND with
# FILE, or with DIR/ID.KIND (404 when there is none).  Sets DL_LIAR_URL.
dl_start_liar() {
	local file=$1 port i log=$CP_WORK/logs/liar.log
	port=$(dl_free_port)
	python3 - "$port" "$file" >"$log" 2>&1 <<'PY' &
import http.server, sys
import os
port, path = int(sys.argv[1]), sys.argv[2]
def answer(req):
    parts = req.split('/')
    if len(parts) != 4 or parts[1] != 'buildid':
        return None
    f = path if os.path.isfile(path) else os.path.join(path, parts[2] + '.' + parts[3])
    return open(f, 'rb').read() if os.path.isfile(f) else None
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        sys.stderr.write('liar: ' + (fmt % args) + '\n')
    def do_GET(self):
        data = answer(self.path)
        if data is not None:
            self.send_response(200)
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_response(200 if self.path == '/ok' else 404)
            self.send_header('Content-Length', '0')
            self.end_headers()
http.server.HTTPServer(('127.0.0.1', port), H).serve_forever()
PY
	DL_PIDS+=($!)
	trap dl_stop EXIT
	DL_LIAR_URL=http://127.0.0.1:$port
	for ((i = 0; i < 100; i++)); do
		dl_probe "$DL_LIAR_URL/ok" && return 0
		sleep 0.1
	done
	cp_fail "the lying server did not start" "$log"
}

# dl_fresh_cache NAME: DEBUGINFOD_CACHE_PATH set to a new empty directory.
dl_fresh_cache() {
	export DEBUGINFOD_CACHE_PATH=$CP_WORK/cache-$1
	rm -rf "$DEBUGINFOD_CACHE_PATH"
	mkdir -p "$DEBUGINFOD_CACHE_PATH"
}
