# Sourced by tests/python/test_*.sh: tests/integration/lib.sh plus a local
# PEP 503 index served by `python3 -m http.server` on 127.0.0.1.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
PYTESTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
need python3 python3
need jq jq
# pip's configuration of this machine is not the test's
unset PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_NO_INDEX PIP_PRE PIP_CONFIG_FILE || true

# mkwheel DIR NAME VERSION [pyindex.py wheel options]
mkwheel() {
	python3 "$PYTESTS/pyindex.py" wheel "$@" >/dev/null || fail "cannot make wheel $2 $3"
}

# mkindex WHEELDIR INDEXDIR [--no-metadata] [--yank FILE] [--no-hash]
mkindex() {
	python3 "$PYTESTS/pyindex.py" index "$@" || fail "cannot make the index"
}

# serve DIR: serves DIR on a free port; sets $INDEX (http://127.0.0.1:PORT).
serve() {
	local dir=$1 port i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
		(cd "$dir" && exec python3 -m http.server --bind 127.0.0.1 "$port") \
			>"$T/http.$port.log" 2>&1 &
		local pid=$!
		at_exit "kill $pid"
		for _ in $(seq 50); do
			if curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1; then
				INDEX=http://127.0.0.1:$port
				return 0
			fi
			kill -0 $pid 2>/dev/null || break
			sleep 0.1
		done
		kill $pid 2>/dev/null || true
	done
	fail "cannot start python3 -m http.server"
}

# The Debian base and downloads survive between runs (the archive is slow).
py_cache() {
	PYCACHE=${DSBUILD_TEST_CACHE:-/var/tmp/dsbuild-test-cache}
	mkdir -p "$PYCACHE"
}
