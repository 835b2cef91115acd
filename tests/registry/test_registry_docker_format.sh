#!/bin/bash
# An image pushed in Docker's v2 format (skopeo --format v2s2) and copied by
# dsbuild into an OCI layout gets OCI media types there (umoci and skopeo
# refuse Docker's in a layout); pulled as a base, it builds a valid image.
. "$(dirname "$0")/lib.sh"
need umoci umoci
require_push_command

start_registry noauth
make_test_image "$T/img" v1 1024
ok skopeo copy -q --format v2s2 --dest-tls-verify=false "oci:$T/img:v1" "docker://$REG/team/docker:v1"
mt=$(skopeo inspect --raw --tls-verify=false "docker://$REG/team/docker:v1" | jq -r .mediaType)
assert_eq "application/vnd.docker.distribution.manifest.v2+json" "$mt" "the registry holds a Docker manifest"

step "copy docker:// (Docker format) to oci:"
ok "$DSBUILD" copy "docker://$REG/team/docker:v1" "oci:$T/out:v1"
validate_image "$T/out" v1
m=$(jq -r '.manifests[0].digest' "$T/out/index.json")
man=$T/out/blobs/sha256/${m#sha256:}
assert_eq "application/vnd.oci.image.manifest.v1+json" "$(jq -r .mediaType "$man")" "manifest media type in the layout"
assert_eq "application/vnd.oci.image.manifest.v1+json" "$(jq -r '.manifests[0].mediaType' "$T/out/index.json")" "index entry media type"
jq -e '[.layers[].mediaType] | all(. == "application/vnd.oci.image.layer.v1.tar+gzip")' "$man" >/dev/null ||
	fail "layers keep Docker media types: $(jq -c '[.layers[].mediaType]' "$man")"
assert_eq "$(skopeo inspect --tls-verify=false "docker://$REG/team/docker:v1" | jq -c .Layers)" \
	"$(jq -c '[.layers[].digest]' "$man")" "the layer blobs are the same"

step "the Docker-format image as a base"
mkdir -p "$T/src" && echo hi >"$T/src/a.txt"
ok "$DSBUILD" build "$T/src" --base "docker://$REG/team/docker:v1" -o "oci:$T/built:v1" -q
validate_image "$T/built" v1
