#!/bin/bash
# `dsbuild DIR` with no --base: the Debian Python runtime (debian:bookworm)
# plus apt.txt, validated by umoci/oci-image-tool/skopeo and run by podman.
# A code edit changes only the app layer; a rebuild with --no-cache gives
# the same digest. Needs Debian's archive (deb.debian.org, or
# $DSBUILD_DEBIAN_MIRROR).
. "$(dirname "$0")/lib.sh"
need jq jq
podman_env
unset DSBUILD_BASE
# .debs and Debian layers survive between runs: the archive is slow to fetch.
cache=${DSBUILD_TEST_CACHE:-/var/tmp/dsbuild-test-cache}
mkdir -p "$cache"

src=$T/proj
mkdir -p "$src"
cat >"$src/main.py" <<'PY'
import json, os, sqlite3, ssl, sys, zlib
print("python", "%d.%d" % sys.version_info[:2], "ssl", ssl.OPENSSL_VERSION.split()[0],
      "uid", os.getuid(), "home", os.environ.get("HOME"))
PY
printf '# tools for the job\njq\n' >"$src/apt.txt"

step "default base + apt.txt"
build_json "$src" --cache-dir "$cache" -o "oci:$T/img:latest" --cmd 'python3 main.py'
first=$(last_json)
validate_image "$T/img" latest
n=$(printf '%s' "$first" | jq '.layers | length')
[ "$n" -ge 3 ] || fail "expected base, apt and app layers, got $n layers"
printf '%s' "$first" | jq -e '.layers[-1].created_by | startswith("dsbuild: app source")' >/dev/null ||
	fail "the last layer is not the app layer: $(printf '%s' "$first" | jq -c '[.layers[].created_by]')"
printf '%s' "$first" | jq -e '[.layers[].created_by] | map(select(test("jq"))) | length == 1' >/dev/null ||
	fail "no layer names the apt.txt package: $(printf '%s' "$first" | jq -c '[.layers[].created_by]')"

step "inspect lists the Debian packages"
run "$DSBUILD" inspect "oci:$T/img:latest"
[ "$rc" = 0 ] || fail "inspect failed: $err"
assert_contains "$out" "from Debian bookworm"
assert_match "$out" '(^|\n) *python3 +3\.11'
assert_match "$out" '(^|\n) *jq +1\.'
assert_contains "$(cat "$VALIDATED_BUNDLE/rootfs/var/lib/dpkg/status.d/jq" 2>/dev/null || true)" "Package: jq"

step "run it with podman"
prun "oci:$T/img:latest"
[ "$rc" = 0 ] || fail "the image does not run: $err"
assert_match "$out" '^python 3\.11 ssl OpenSSL uid 1000 home /home/app'
prun "oci:$T/img:latest" jq -n '{"a": 1} | .a'
[ "$rc" = 0 ] || fail "jq from apt.txt does not run: $err"
assert_eq 1 "$out" "jq output"

step "a code edit changes only the app layer"
echo 'print("edited")' >>"$src/main.py"
build_json "$src" --cache-dir "$cache" -o "oci:$T/img2:latest" --cmd 'python3 main.py'
second=$(last_json)
assert_eq "$(printf '%s' "$first" | jq -c '[.layers[:-1][].digest]')" \
	"$(printf '%s' "$second" | jq -c '[.layers[:-1][].digest]')" "base and apt layers after a code edit"
assert_ne "$(printf '%s' "$first" | jq -r '.layers[-1].digest')" \
	"$(printf '%s' "$second" | jq -r '.layers[-1].digest')" "app layer after a code edit"
printf '%s' "$second" | jq -e '[.layers[] | select(.created_by | test("python3 runtime|jq"))] | map(.cached) | all and length == 2' >/dev/null ||
	fail "the runtime and apt layers were rebuilt instead of reused: $(printf '%s' "$second" | jq -c '[.layers[] | {created_by, cached}]')"

step "apt.txt change keeps the base layer"
printf 'jq\ntree\n' >"$src/apt.txt"
build_json "$src" --cache-dir "$cache" -o "oci:$T/img3:latest" --cmd 'python3 main.py'
third=$(last_json)
assert_eq "$(printf '%s' "$first" | jq -r '[.layers[] | select(.created_by | test("python3 runtime"))][0].digest')" \
	"$(printf '%s' "$third" | jq -r '[.layers[] | select(.created_by | test("python3 runtime"))][0].digest')" \
	"the python3 runtime layer after an apt.txt change"

step "a rebuild from nothing gives the same digest"
d1=$(printf '%s' "$third" | jq -r .digest)
build_json "$src" --cache-dir "$cache" -o "oci:$T/img4:latest" --cmd 'python3 main.py' --no-cache
if [ "$d1" != "$(last_json | jq -r .digest)" ]; then
	# say which part differs: layers, or config (labels: the package set)
	echo "layers before: $(printf '%s' "$third" | jq -c '[.layers[].digest[7:19]]')"
	echo "layers after:  $(last_json | jq -c '[.layers[].digest[7:19]]')"
	diff <("$DSBUILD" inspect --json "oci:$T/img3:latest" | jq -S .config) \
		<("$DSBUILD" inspect --json "oci:$T/img4:latest" | jq -S .config) | head -20
fi
assert_eq "$d1" "$(last_json | jq -r .digest)" "digest of a --no-cache rebuild"
