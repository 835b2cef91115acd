#!/bin/bash
# SIGINT during a large build: exit 130, no output, no temp files, nothing
# in the cache's tmp/; the next build works.
. "$(dirname "$0")/lib.sh"
need jq jq

src=$T/src
mkdir -p "$src"
echo 'print(1)' >"$src/main.py"
# large enough to take seconds: 4 GiB sparse (zeros) + some random data
truncate -s 4G "$src/big.bin"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$src/random.bin"

# interrupt_after SECONDS OUTPUT...: starts a build, sends SIGINT when the
# layer is being written (a temp blob exists in the cache) or after SECONDS,
# and waits for it.  Sets $rc, $err.
interrupt_build() {
	local secs=$1 pid i
	shift
	# job control on: the background build gets SIGINT's default
	# disposition (a non-interactive shell would start it ignoring SIGINT)
	set -m
	"$DSBUILD" build "$src" "$@" >"$T/int.out" 2>"$T/int.err" &
	pid=$!
	set +m
	for i in $(seq 1 $((secs * 10))); do
		if [ -n "$(find "$DSBUILD_CACHE/tmp" -mindepth 1 -type f -size +0 2>/dev/null | head -1)" ]; then
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	sleep 0.5
	kill -0 "$pid" 2>/dev/null || fail "the build ended before it could be interrupted: $(cat "$T/int.err")"
	kill -INT "$pid"
	set +e
	wait "$pid"
	rc=$?
	set -e
	err=$(cat "$T/int.err")
	out=$(cat "$T/int.out")
}

check_interrupted() {
	[ "$rc" = 130 ] || fail "expected exit 130 after SIGINT, got $rc
$(_show_run "dsbuild build (SIGINT)")"
	assert_match "$err" '^error: ' "git-style error after SIGINT"
	assert_contains "${err,,}" "interrupt" "the error says the build was interrupted"
	assert_cache_clean
}

step "SIGINT while writing the layer (oci: and oci-archive: outputs)"
mkdir -p "$T/outs"
interrupt_build 60 -o "oci:$T/outs/o:latest" -o "oci-archive:$T/outs/o.tar"
check_interrupted
assert_eq "" "$(ls -A "$T/outs")" "no output after SIGINT"
assert_absent "$src/.dsbuild" "no default output after SIGINT"

step "SIGINT with the default output (inside the tree)"
interrupt_build 60
check_interrupted
assert_absent "$src/.dsbuild/image" "no default output after SIGINT"
assert_no_leftovers "$src"

step "a build after the interruptions works and the cache is sound"
rm "$src/big.bin"
build_json "$src" -o "oci:$T/ok:latest"
[ "$(jq '.layers | length' <<<"$out")" = 1 ] || fail "unexpected layers: $out"
assert_cache_clean
