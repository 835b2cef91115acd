#!/bin/bash
# dsbuild inspect of oci:, oci-archive: and docker-archive: images, made by
# dsbuild and by independent tools (umoci, skopeo), human and --json,
# checked against what skopeo reports.
. "$(dirname "$0")/lib.sh"
need jq jq
need skopeo skopeo

make_busybox_base "$T/base" latest
src=$T/src
mkdir -p "$src"
echo 'print(1)' >"$src/main.py"
build_json "$src" --base "oci:$T/base:latest" --cmd 'python3 main.py' --port 8888 \
	--label org.example.k=v --annotation org.example.a=b --env A=1 --user 1000:1000 \
	-o "oci:$T/img:latest" -o "oci-archive:$T/img.oci.tar" -o "docker-archive:$T/img.docker.tar:ds/img:v1"
digest=$(jq -r .digest <<<"$out")
ok skopeo copy -q "oci:$T/base:latest" "docker-archive:$T/base.docker.tar:base/busybox:latest"
ok skopeo copy -q "oci:$T/base:latest" "oci-archive:$T/base.oci.tar:latest"

# check_json REF: dsbuild inspect --json REF against skopeo
check_json() {
	local ref=$1 ins sk skc
	ok "$DSBUILD" inspect --json "$ref"
	ins=$out
	assert_eq 1 "$(printf '%s\n' "$ins" | jq -s length)" "inspect --json prints one object ($ref)"
	for k in digest mediaType config layers annotations; do
		jq -e --arg k "$k" 'has($k)' <<<"$ins" >/dev/null || fail "inspect --json $ref has no '$k': $ins"
	done
	jq -e '.layers | all(has("digest") and has("size") and has("diff_id") and has("mediaType"))' \
		<<<"$ins" >/dev/null || fail "a layer lacks a field ($ref): $(jq -c .layers <<<"$ins")"
	ok skopeo inspect --config "$ref"
	skc=$out
	assert_eq "$(jq -cS . <<<"$skc")" "$(jq -cS .config <<<"$ins")" "config of $ref (dsbuild vs skopeo)"
	assert_eq "$(jq -c .rootfs.diff_ids <<<"$skc")" "$(jq -c '[.layers[].diff_id]' <<<"$ins")" \
		"layer diff_ids of $ref"
	ok skopeo inspect "$ref"
	sk=$out
	assert_eq "$(jq '.Layers | length' <<<"$sk")" "$(jq '.layers | length' <<<"$ins")" "layer count of $ref"
	INSPECT_JSON=$ins
	SKOPEO_JSON=$sk
}

# check_human REF: the human form names what --json holds
check_human() {
	local ref=$1 j=$2 d
	ok "$DSBUILD" inspect "$ref"
	assert_eq "" "$err" "inspect (human) writes nothing on stderr ($ref)"
	assert_contains "$out" "$(jq -r .digest <<<"$j")" "human inspect shows the digest ($ref)"
	assert_contains "$out" "$(jq -r '.config.os + "/" + .config.architecture' <<<"$j")" "platform ($ref)"
	for d in $(jq -r '.layers[].digest' <<<"$j"); do
		assert_contains "$out" "$d" "human inspect lists layer $d ($ref)"
	done
	HUMAN=$out
}

step "oci: made by dsbuild"
check_json "oci:$T/img:latest"
j=$INSPECT_JSON
assert_eq "$digest" "$(jq -r .digest <<<"$j")" "digest"
assert_eq "$digest" "$(jq -r .Digest <<<"$SKOPEO_JSON")" "skopeo digest"
assert_eq "$(jq -c '[.layers[].digest]' <<<"$j")" "$(jq -c .Layers <<<"$SKOPEO_JSON")" "layer digests vs skopeo"
assert_eq b "$(jq -r '.annotations["org.example.a"]' <<<"$j")" "annotation"
assert_eq '["python3","main.py"]' "$(jq -c .config.config.Cmd <<<"$j")" "Cmd"
jq -e '.layers[-1].created_by | length > 0' <<<"$j" >/dev/null || fail "app layer has no created_by"
assert_eq "$(manifest_of "$T/img" latest | jq -c '[.layers[].size]')" "$(jq -c '[.layers[].size]' <<<"$j")" \
	"layer sizes"
check_human "oci:$T/img:latest" "$j"
for s in 8888/tcp org.example.k org.example.a 1000:1000 main.py A=1 /workspace; do
	assert_contains "$HUMAN" "$s" "human inspect shows $s"
done

step "oci: without a tag (one image in the layout)"
ok "$DSBUILD" inspect --json "oci:$T/img"
assert_eq "$digest" "$(jq -r .digest <<<"$out")" "oci:DIR digest"

step "oci-archive: made by dsbuild"
check_json "oci-archive:$T/img.oci.tar"
assert_eq "$digest" "$(jq -r .digest <<<"$INSPECT_JSON")" "oci-archive digest"
check_human "oci-archive:$T/img.oci.tar" "$INSPECT_JSON"

step "docker-archive: made by dsbuild"
check_json "docker-archive:$T/img.docker.tar"
assert_eq '["python3","main.py"]' "$(jq -c .config.config.Cmd <<<"$INSPECT_JSON")" "docker-archive Cmd"
check_human "docker-archive:$T/img.docker.tar" "$INSPECT_JSON"

step "oci: made by umoci"
check_json "oci:$T/base:latest"
assert_eq "$(manifest_digest "$T/base" latest)" "$(jq -r .digest <<<"$INSPECT_JSON")" "umoci image digest"
check_human "oci:$T/base:latest" "$INSPECT_JSON"

step "oci-archive: made by skopeo"
check_json "oci-archive:$T/base.oci.tar"
check_human "oci-archive:$T/base.oci.tar" "$INSPECT_JSON"

step "docker-archive: made by skopeo (Docker's classic format, no index.json)"
ok tar -tf "$T/base.docker.tar"
assert_contains "$out" "manifest.json"
check_json "docker-archive:$T/base.docker.tar"
assert_eq '["sh"]' "$(jq -c .config.config.Cmd <<<"$INSPECT_JSON")" "Cmd of the skopeo docker-archive"
check_human "docker-archive:$T/base.docker.tar" "$INSPECT_JSON"

step "errors"
expect_exit 4 "$DSBUILD" inspect "oci:$T/img:nosuchtag"
assert_error_names nosuchtag
expect_exit 4 "$DSBUILD" inspect "oci:$T/nonexistent"
assert_error_names "$T/nonexistent"
expect_exit 4 "$DSBUILD" inspect "docker-archive:$T/nonexistent.tar"
assert_error_names "$T/nonexistent.tar"
cp -a "$T/img" "$T/broken"
C=$(manifest_of "$T/img" latest | jq -r .config.digest)
echo '{}' >"$(blob_path "$T/broken" "$C")"
expect_exit 4 "$DSBUILD" inspect --json "oci:$T/broken:latest"
assert_error_names "${C#sha256:}"
assert_eq "" "$out" "no JSON on stdout for a broken image"
expect_exit 2 "$DSBUILD" inspect "oci:$T/img:latest" "oci:$T/img:latest"
