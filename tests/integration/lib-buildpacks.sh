# Sourced by tests/integration/test_buildpacks_*.sh: lib.sh plus the default
# Debian base (from a cache that survives between runs: the archive is slow),
# podman, and helpers to run a process of an image with a published port.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need jq jq
need curl curl
podman_env
# the buildpack pipeline picks the base itself: the default Debian stack
unset DSBUILD_BASE
BPCACHE=${DSBUILD_TEST_CACHE:-/var/tmp/dsbuild-test-cache}
mkdir -p "$BPCACHE"
EXAMPLES=$SRC_ROOT/examples
# The examples must be built as they are committed: nothing a run on the host
# left (byte code) may end up in the images.
export PYTHONDONTWRITEBYTECODE=1

# bp_build SRC IMG [ARGS...]: dsbuild build SRC into oci:IMG:latest on the
# default base; the --json output in $out (and last_json).
bp_build() {
	local src=$1 img=$2
	shift 2
	build_json "$src" --cache-dir "$BPCACHE" -o "oci:$img:latest" "$@"
}

# cfg IMG: the image config (the whole config blob).
cfg() {
	config_of "$1" latest
}

# start NAME IMAGE [podman run options and arguments...]: `podman run -d`,
# the container removed when the test ends.
start() {
	local name=$1 img=$2
	shift 2
	at_exit "podman rm -f -t 0 $name"
	run podman run -d --name "$name" "$img" "$@"
	[ "$rc" = 0 ] || fail "podman run $name: $err"
}

# start_published NAME IMAGE PORT CTRPORT [options] -- [arguments]
start_published() {
	local name=$1 img=$2 port=$3 cport=$4
	shift 4
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	[ "${1:-}" = -- ] && shift
	at_exit "podman rm -f -t 0 $name"
	run podman run -d --name "$name" -p "127.0.0.1:$port:$cport" "${opts[@]}" "$img" "$@"
	[ "$rc" = 0 ] || fail "podman run -p 127.0.0.1:$port:$cport $name: $err"
}

# wait_http NAME URL [SECONDS]: polls URL until it answers any HTTP status;
# fails with the container's log on timeout or when the container exits.
wait_http() {
	local name=$1 url=$2 secs=${3:-60} code
	for _ in $(seq $((secs * 4))); do
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url" || true)
		[ "$code" != 000 ] && return 0
		if [ "$(podman inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
			fail "$name exited before answering $url:
$(podman logs "$name" 2>&1 | tail -n 40)"
		fi
		sleep 0.25
	done
	fail "$name does not answer $url after ${secs}s:
$(podman logs "$name" 2>&1 | tail -n 40)"
}

# http URL [curl options]: sets $code and $body.
http() {
	local url=$1
	shift
	code=$(curl -s -o "$T/.body" -w '%{http_code}' --max-time 20 "$@" "$url" || true)
	body=$(cat "$T/.body" 2>/dev/null || true)
	rm -f "$T/.body"
}

# post_json URL JSON: POST JSON; sets $code and $body.
post_json() {
	http "$1" -X POST -H 'Content-Type: application/json' --data-binary "$2"
}

# json_is TEXT JQ-FILTER [WHAT]: TEXT is JSON and the filter is true on it.
json_is() {
	printf '%s' "$1" | jq -e "$2" >/dev/null 2>&1 ||
		fail "${3:-JSON check} failed: $2
  on: $(printf '%s' "$1" | head -c 3000)"
}

# layer_digests JSON: the layer digests of a `build --json`, one a line.
layer_digests() {
	printf '%s' "$1" | jq -r '.layers[].digest'
}
