#!/bin/bash
# Benchmark: pushing a ~500 MB image to a loopback registry, dsbuild against
# `skopeo copy` of the same OCI layout, side by side (each to a fresh
# registry, alternating, median of RUNS), printed as a ratio; then the bytes
# each sends to re-push the image after a one-file change (counted by the
# test fault proxy, with no faults, in front of the registry).
#
# usage: bench/push.sh [DSBUILD]   (default: build/cmd/dsbuild)
#   SIZE_MB=500 LAYERS=4 RUNS=3 PARALLEL=3 bench/push.sh build/cmd/dsbuild
# Needs docker-registry, skopeo, jq, python3 (tests/install-deps.sh test).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DSBUILD=$(readlink -f "${1:-$ROOT/build/cmd/dsbuild}")
SIZE_MB=${SIZE_MB:-500}
LAYERS=${LAYERS:-4}
RUNS=${RUNS:-3}
PARALLEL=${PARALLEL:-3}
[ -x "$DSBUILD" ] || { echo "bench: no dsbuild at '$DSBUILD'" >&2; exit 2; }
for t in docker-registry skopeo jq /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "bench: missing $t (tests/install-deps.sh test)" >&2; exit 2; }
done

W=$(mktemp -d "${TMPDIR:-/tmp}/dsbuild-bench-push.XXXXXX")
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.2
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$W"
}
trap cleanup EXIT
export HOME=$W/home DSBUILD_CACHE=$W/cache
mkdir -p "$HOME"

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_port() {
	for _ in $(seq 1 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "bench: nothing listens on port $1" >&2
	exit 1
}

# start_registry NAME: a fresh registry; sets REG to its host:port (no
# subshell, so its PID is remembered and killed at the end).
start_registry() {
	local d=$W/$1 port
	port=$(free_port)
	mkdir -p "$d/data"
	cat >"$d/config.yml" <<-EOF
	version: 0.1
	log:
	  level: error
	storage:
	  filesystem:
	    rootdirectory: $d/data
	http:
	  addr: 127.0.0.1:$port
	  secret: bench
	EOF
	docker-registry serve "$d/config.yml" >"$d/log" 2>&1 &
	PIDS+=($!)
	wait_port "$port"
	REG=127.0.0.1:$port
}

now() { date +%s.%N; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "bench: making a ${SIZE_MB} MB image: $LAYERS data layers (random, so gzip keeps the size) + a small app layer"
per=$((SIZE_MB / LAYERS))
base=scratch
for i in $(seq 1 "$LAYERS"); do
	mkdir -p "$W/data$i"
	head -c $((per * 1024 * 1024)) /dev/urandom >"$W/data$i/data$i.bin"
	"$DSBUILD" build -q "$W/data$i" --base "$base" -o "oci:$W/img:d$i"
	base="oci:$W/img:d$i"
done
mkdir -p "$W/app"
for f in main.py model.py util.py; do
	head -c 20000 /dev/urandom | base64 >"$W/app/$f"
done
"$DSBUILD" build -q "$W/app" --base "$base" -o "oci:$W/img:v1"
img="oci:$W/img:v1"
total=$(jq '([.layers[].size] | add) + .config.size' "$W/img/blobs/sha256/$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .digest' "$W/img/index.json" | cut -d: -f2)")
echo "bench: image of $((total / 1000000)) MB of blobs"

ds_times=()
sk_times=()
for r in $(seq 1 "$RUNS"); do
	start_registry "ds$r"
	reg=$REG
	rm -rf "$DSBUILD_CACHE"
	t0=$(now)
	"$DSBUILD" push -q --parallel "$PARALLEL" "$img" "docker://$reg/bench/app:v1"
	t1=$(now)
	ds_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")

	start_registry "sk$r"
	reg=$REG
	rm -rf "$HOME/.local/share/containers"
	t0=$(now)
	skopeo copy -q --dest-tls-verify=false "$img" "docker://$reg/bench/app:v1"
	t1=$(now)
	sk_times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}')")
	printf 'bench: run %d: dsbuild %.2f s, skopeo %.2f s\n' "$r" "${ds_times[-1]}" "${sk_times[-1]}"
done
ds=$(printf '%s\n' "${ds_times[@]}" | median)
sk=$(printf '%s\n' "${sk_times[@]}" | median)

echo "bench: re-push after a one-file change (bytes counted by a proxy in front of the registry)"
start_registry repush
reg=$REG
pport=$(free_port)
/usr/bin/python3 "$ROOT/tests/registry/faultproxy.py" --listen "$pport" --target "$reg" \
	--log "$W/proxy.log" --lifetime 3600 >"$W/proxy.out" 2>&1 &
PIDS+=($!)
wait_port "$pport"
proxy=127.0.0.1:$pport
# both clients push v1 first (to their own repositories), then v2
"$DSBUILD" push -q "$img" "docker://$proxy/ds/app:v1"
skopeo copy -q --dest-tls-verify=false "$img" "docker://$proxy/sk/app:v1"
echo "# changed" >>"$W/app/util.py"
"$DSBUILD" build -q "$W/app" --base "oci:$W/img:d$LAYERS" -o "oci:$W/img:v2"
changed=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v2") | .digest' "$W/img/index.json")
mark=$(wc -l <"$W/proxy.log")
json=$("$DSBUILD" push --json "oci:$W/img:v2" "docker://$proxy/ds/app:v2")
ds_bytes=$(tail -n +$((mark + 1)) "$W/proxy.log" | jq -s '[.[] | .req_bytes // 0] | add')
mark=$(wc -l <"$W/proxy.log")
skopeo copy -q --dest-tls-verify=false "oci:$W/img:v2" "docker://$proxy/sk/app:v2"
sk_bytes=$(tail -n +$((mark + 1)) "$W/proxy.log" | jq -s '[.[] | .req_bytes // 0] | add')
last_layer=$(jq -r '.layers[-1].size' "$W/img/blobs/sha256/${changed#sha256:}")

echo
echo "== push of a $((total / 1000000)) MB image ($((LAYERS + 1)) layers) to a loopback registry, median of $RUNS"
printf '   dsbuild push (--parallel %s)  %6.2f s\n' "$PARALLEL" "$ds"
printf '   skopeo copy                   %6.2f s\n' "$sk"
printf '   ratio dsbuild/skopeo          %6.2f\n' "$(awk -v a="$ds" -v b="$sk" 'BEGIN {print a / b}')"
echo "== re-push after a one-file change (the app layer, now $last_layer bytes)"
printf '   dsbuild sent %s bytes (%s blob bytes uploaded; %s of %s blobs already there)\n' \
	"$ds_bytes" "$(jq .bytes_uploaded <<<"$json")" "$(jq .blobs.existed <<<"$json")" "$(jq .blobs.total <<<"$json")"
printf '   skopeo  sent %s bytes\n' "$sk_bytes"
