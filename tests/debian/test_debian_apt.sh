#!/bin/bash
# apt.txt packages: their closure minus what the base has, in their own
# layer; the base layer is the same with and without them; the binary runs.
. "$(dirname "$0")/lib-debian.sh"
podman_env

step "the base alone"
debian_build "$T/img" base
step "the base plus an apt.txt"
cat >"$T/apt.txt" <<'X'
# tools the app shells out to
jq
python3      # already in the base: skipped
libc6
X
debian_build "$T/img" apt --apt-file "$T/apt.txt"
b=$T/base.json
a=$T/apt.json
assert_eq 3 "$(jq '.layers | length' "$a")" "system, base and apt layers"
assert_eq "$(jq -r '.layers[0].digest' "$b")" "$(jq -r '.layers[0].digest' "$a")" "system layer unchanged"
assert_eq "$(jq -r '.layers[1].digest' "$b")" "$(jq -r '.layers[1].digest' "$a")" \
	"base layer unchanged by apt.txt"
assert_match "$(jq -r '.layers[2].created_by' "$a")" '^dsbuild debian: apt packages jq, python3, libc6 \(bookworm, [0-9]+ packages\)$'
extra=$(jq -r '.debian.packages[] | select(.layer == 2) | .name' "$a" | sort | tr '\n' ' ')
assert_eq "jq libjq1 libonig5 " "$extra" "only the new packages are in the apt layer"
base_names=$(jq -r '.debian.packages[] | select(.layer == 1) | .name' "$a" | sort)
assert_eq "$(pkg_names "$b" | sort)" "$base_names" "base packages the same"

step "jq from the apt layer runs"
prun "oci:$T/img:apt" jq -n '{"a": (1 + 2)}' -c
[ "$rc" = 0 ] || fail "jq did not run
$(_show_run "podman run jq")"
assert_eq '{"a":3}' "$(printf '%s\n' "$out" | tail -1)"
validate_image "$T/img" apt
assert_file "$VALIDATED_BUNDLE/rootfs/var/lib/dpkg/status.d/jq"

step "--apt with a version"
ver=$(jq -r '.debian.packages[] | select(.name == "jq") | .version' "$a")
debian_build "$T/img" pinned --apt "jq=$ver"
assert_eq "$(jq -r '.layers[2].diff_id' "$a")" "$(jq -r '.layers[2].diff_id' "$T/pinned.json")" \
	"same packages, same layer"
