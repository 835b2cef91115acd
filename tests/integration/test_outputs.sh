#!/bin/bash
# Outputs: oci:, oci-archive: and docker-archive: (Docker >= 25 dual format:
# manifest.json + index.json/oci-layout) from one build; each read back by
# skopeo/umoci/oci-image-tool, the docker-archive loaded and run by podman.
. "$(dirname "$0")/lib.sh"
need jq jq
need skopeo skopeo
need tar tar
podman_env

make_busybox_base "$T/base" latest
src=$T/src
mkdir -p "$src"
echo "payload-$RANDOM" >"$src/payload.txt"
payload=$(cat "$src/payload.txt")
mkdir -p "$T/o"

step "one build, three outputs"
build_json "$src" --base "oci:$T/base:latest" --cmd 'cat /workspace/payload.txt' \
	-o "oci:$T/o/layout:latest" -o "oci-archive:$T/o/img.oci.tar" \
	-o "docker-archive:$T/o/img.docker.tar:my/app:v1"
json=$out
digest=$(jq -r .digest <<<"$json")
assert_eq 3 "$(jq '.outputs | length' <<<"$json")" "--json lists the three outputs"
assert_file "$T/o/img.oci.tar"
assert_file "$T/o/img.docker.tar"
assert_eq "$digest" "$(manifest_digest "$T/o/layout" latest)" "oci: layout digest"
assert_no_leftovers "$T/o"
assert_eq "img.docker.tar img.oci.tar layout" "$(ls "$T/o" | tr '\n' ' ' | sed 's/ $//')" \
	"nothing else next to the outputs"

step "oci-archive: skopeo inspect, then validate the extracted layout"
ok skopeo inspect "oci-archive:$T/o/img.oci.tar"
assert_eq "$digest" "$(jq -r .Digest <<<"$out")" "skopeo digest of the oci-archive"
ok tar tf "$T/o/img.oci.tar"
assert_contains "$out" "oci-layout"
assert_contains "$out" "index.json"
mkdir "$T/ociarch"
tar -xf "$T/o/img.oci.tar" -C "$T/ociarch"
validate_image "$T/ociarch" latest
assert_eq "$payload" "$(cat "$VALIDATED_BUNDLE/rootfs/workspace/payload.txt")" "payload in the oci-archive"
assert_eq "$digest" "$(manifest_digest "$T/ociarch" latest)" "digest in the oci-archive"
ok "$DSBUILD" inspect --json "oci-archive:$T/o/img.oci.tar"
assert_eq "$digest" "$(jq -r .digest <<<"$out")" "dsbuild inspect oci-archive digest"

step "docker-archive: dual format"
ok tar tf "$T/o/img.docker.tar"
listing=$out
for f in manifest.json index.json oci-layout; do
	assert_match "$listing" "^(\\./)?$f\$" "docker-archive holds $f"
done
mkdir "$T/dockarch"
tar -xf "$T/o/img.docker.tar" -C "$T/dockarch"
dm=$(cat "$T/dockarch/manifest.json")
assert_eq '["my/app:v1"]' "$(jq -c '.[0].RepoTags' <<<"$dm")" "RepoTags"
assert_eq 1 "$(jq length <<<"$dm")" "one image in manifest.json"
for p in $(jq -r '.[0].Config, .[0].Layers[]' <<<"$dm"); do
	assert_file "$T/dockarch/$p" "manifest.json names a missing file"
done
# manifest.json and index.json describe the same image
cfg_from_index=$(jq -r .config.digest "$(blob_path "$T/dockarch" "$(jq -r '.manifests[0].digest' "$T/dockarch/index.json")")")
assert_eq "blobs/sha256/${cfg_from_index#sha256:}" "$(jq -r '.[0].Config' <<<"$dm")" \
	"manifest.json and index.json share the config"
tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$T/dockarch/index.json")
validate_image "$T/dockarch" "$tag"
assert_eq "$payload" "$(cat "$VALIDATED_BUNDLE/rootfs/workspace/payload.txt")" "payload in the docker-archive"

step "docker-archive: skopeo reads it"
ok skopeo inspect "docker-archive:$T/o/img.docker.tar"
# (skopeo synthesises its own manifest from manifest.json: another digest)
assert_eq 2 "$(jq '.Layers | length' <<<"$out")" "skopeo sees base + app layer"
ok skopeo inspect --config "docker-archive:$T/o/img.docker.tar"
assert_eq '["cat","/workspace/payload.txt"]' "$(jq -c .config.Cmd <<<"$out")" "Cmd via skopeo"
ok skopeo copy -q "docker-archive:$T/o/img.docker.tar" "oci:$T/fromdocker:x"
validate_image "$T/fromdocker" x
assert_eq "$payload" "$(cat "$VALIDATED_BUNDLE/rootfs/workspace/payload.txt")" "payload via skopeo copy"
ok "$DSBUILD" inspect --json "docker-archive:$T/o/img.docker.tar"
assert_eq '["cat","/workspace/payload.txt"]' "$(jq -c .config.config.Cmd <<<"$out")" \
	"dsbuild inspect of its docker-archive"

step "podman load + run"
ok podman load -q -i "$T/o/img.docker.tar"
assert_contains "$out" "my/app:v1" "podman load names the image"
prun my/app:v1
assert_eq 0 "$rc" "podman run of the loaded image: $err"
assert_eq "$payload" "$out" "loaded image runs its Cmd"
prun "oci-archive:$T/o/img.oci.tar"
assert_eq 0 "$rc" "podman run oci-archive: $err"
assert_eq "$payload" "$out" "oci-archive runs its Cmd"

step "-t NAME:TAG names the docker-archive's RepoTags and the layout's tag"
build_json "$src" --base "oci:$T/base:latest" -t other/name:v7 -o "docker-archive:$T/o2.tar" \
	-o "oci-archive:$T/o2.oci.tar"
ok tar -xOf "$T/o2.tar" manifest.json
assert_eq '["other/name:v7"]' "$(jq -c '.[0].RepoTags' <<<"$out")" "RepoTags from -t"
ok skopeo inspect "oci-archive:$T/o2.oci.tar:v7"
ok podman load -q -i "$T/o2.tar"
prun other/name:v7 cat /workspace/payload.txt
assert_eq "$payload" "$out" "image loaded under the -t name runs"

step "writing over an existing archive replaces it"
echo garbage >"$T/o3.tar"
build_json "$src" --base "oci:$T/base:latest" -o "docker-archive:$T/o3.tar:my/app:v3"
ok skopeo inspect "docker-archive:$T/o3.tar"
assert_no_leftovers "$T"
assert_cache_clean
