#!/bin/bash
# A registry without auth (plain HTTP on 127.0.0.1): push with dsbuild and
# read back with skopeo; push with skopeo and pull with dsbuild; a re-push
# sends no layer bytes; a push to a new repository mounts; multi-platform
# indexes, pulls by digest, unknown repositories, a rejected manifest.
. "$(dirname "$0")/lib.sh"
need umoci umoci
require_push_command

start_registry noauth
make_test_image "$T/img" v1 3072
digest=$(manifest_digest "$T/img" v1)

step "push with dsbuild, read back with skopeo"
ok "$DSBUILD" push --json --digest-file "$T/digest" "oci:$T/img:v1" "docker://$REG/team/app:v1" -t extra
j=$out
assert_eq "$digest" "$(jq -r .digest <<<"$j")" "--json digest is the image's"
assert_eq "$digest" "$(cat "$T/digest")" "--digest-file"
assert_eq "$(jq '.blobs.total' <<<"$j")" "$(jq '.blobs.uploaded' <<<"$j")" "first push uploads every blob"
[ "$(jq .bytes_uploaded <<<"$j")" -gt 3000000 ] || fail "first push reported too few bytes: $j"
assert_eq "$digest" "$(skopeo_digest "docker://$REG/team/app:v1" --tls-verify=false)" "skopeo sees the pushed digest"
assert_eq "$digest" "$(skopeo_digest "docker://$REG/team/app:extra" --tls-verify=false)" "--tag pushed too"
ok skopeo copy -q --src-tls-verify=false "docker://$REG/team/app:v1" "oci:$T/back:v1"
validate_image "$T/back" v1
assert_eq "$digest" "$(manifest_digest "$T/back" v1)" "skopeo's copy has the same digest"

step "a second push uploads no layer bytes (dsbuild's report and the registry's log)"
patches_before=$(reg_requests PATCH /blobs/uploads/)
puts_before=$(reg_requests PUT /blobs/uploads/)
ok "$DSBUILD" push --json "oci:$T/img:v1" "docker://$REG/team/app:v1"
assert_eq 0 "$(jq .bytes_uploaded <<<"$out")" "re-push bytes"
assert_eq 0 "$(jq .blobs.uploaded <<<"$out")" "re-push uploads"
assert_eq "$(jq .blobs.total <<<"$out")" "$(jq .blobs.existed <<<"$out")" "every blob already there"
assert_eq "$patches_before" "$(reg_requests PATCH /blobs/uploads/)" "registry saw no PATCH on re-push"
assert_eq "$puts_before" "$(reg_requests PUT /blobs/uploads/)" "registry saw no blob PUT on re-push"

step "a push to a new repository mounts instead of uploading"
ok "$DSBUILD" push --json "oci:$T/img:v1" "docker://$REG/other/app:v1"
assert_eq 0 "$(jq .bytes_uploaded <<<"$out")" "mount push bytes"
assert_eq "$(jq .blobs.total <<<"$out")" "$(jq .blobs.mounted <<<"$out")" "every blob mounted"
assert_eq "team/app" "$(jq -r '[.transfers[] | select(.outcome == "mounted")][0].from' <<<"$out")" "mounted from the first repo"
mounts=$(grep -cE '"POST /v2/other/app/blobs/uploads/\?[^"]*mount=sha256' "$REG_LOG" || true)
[ "$mounts" -ge 1 ] || fail "registry log shows no mount request"
assert_eq "$puts_before" "$(reg_requests PUT /blobs/uploads/)" "registry saw no blob upload for the mount"
assert_eq "$digest" "$(skopeo_digest "docker://$REG/other/app:v1" --tls-verify=false)" "mounted image readable"

step "push with skopeo, pull with dsbuild (copy to oci:, docker-archive:, by digest)"
make_test_image "$T/img2" v2 1024
d2=$(manifest_digest "$T/img2" v2)
ok skopeo copy -q --dest-tls-verify=false "oci:$T/img2:v2" "docker://$REG/sk/app:v2"
ok "$DSBUILD" copy "docker://$REG/sk/app:v2" "oci:$T/pulled:v2"
validate_image "$T/pulled" v2
assert_eq "$d2" "$(manifest_digest "$T/pulled" v2)" "dsbuild pulled the digest skopeo pushed"
ok "$DSBUILD" copy "docker://$REG/sk/app@$d2" "docker-archive:$T/p.tar:sk/app:v2"
ok skopeo inspect "docker-archive:$T/p.tar"
ok "$DSBUILD" copy --json "docker://$REG/sk/app:v2" "oci:$T/pulled2:v2"
assert_eq '["cached"]' "$(jq -c '[.transfers[].outcome] | unique' <<<"$out")" "second pull fetches nothing"
ok "$DSBUILD" inspect "oci:$T/pulled2:v2"

step "a Docker v2 schema 2 manifest (skopeo converts) pulls too"
ok skopeo copy -q --dest-tls-verify=false --format v2s2 "oci:$T/img2:v2" "docker://$REG/sk/docker:v2"
ddig=$(skopeo_digest "docker://$REG/sk/docker:v2" --tls-verify=false)
ok "$DSBUILD" copy --json "docker://$REG/sk/docker:v2" "docker-archive:$T/fromdocker.tar:x/y:v2"
assert_eq "$ddig" "$(jq -r .digest <<<"$out")" "Docker manifest kept byte for byte"
ok skopeo inspect "docker-archive:$T/fromdocker.tar"
ok "$DSBUILD" inspect --json "docker-archive:$T/fromdocker.tar"

step "an OCI index: the platform is chosen"
# Two single-platform images under one index, pushed with curl.
ok skopeo copy -q --dest-tls-verify=false "oci:$T/img:v1" "docker://$REG/multi/app:amd64"
ok skopeo copy -q --dest-tls-verify=false "oci:$T/img2:v2" "docker://$REG/multi/app:arm64"
m1=$(manifest_digest "$T/img" v1)
m2=$(manifest_digest "$T/img2" v2)
s1=$(stat -c %s "$(blob_path "$T/img" "$m1")")
s2=$(stat -c %s "$(blob_path "$T/img2" "$m2")")
cat >"$T/index.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$m1","size":$s1,"platform":{"os":"linux","architecture":"amd64"}},
{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"$m2","size":$s2,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}
EOF
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
	--data-binary @"$T/index.json" "http://$REG/v2/multi/app/manifests/both")
assert_eq 201 "$code" "index pushed with curl"
ok "$DSBUILD" copy --platform linux/arm64 "docker://$REG/multi/app:both" "oci:$T/arm:x"
assert_eq "$m2" "$(manifest_digest "$T/arm" x)" "linux/arm64 picked from the index"
ok "$DSBUILD" copy --platform linux/amd64 "docker://$REG/multi/app:both" "oci:$T/amd:x"
assert_eq "$m1" "$(manifest_digest "$T/amd" x)" "linux/amd64 picked from the index"
expect_exit 3 "$DSBUILD" copy --platform linux/s390x "docker://$REG/multi/app:both" "oci:$T/none:x"
assert_error_names "linux/s390x" "linux/amd64" "linux/arm64/v8"

step "unknown repository or tag: exit 3 naming the registry's answer"
expect_exit 3 "$DSBUILD" copy "docker://$REG/no/such:tag" "oci:$T/nope:x"
assert_error_names "$REG" "no/such" "404" "MANIFEST_UNKNOWN"

step "a wrong digest in the reference is refused"
bad=sha256:$(printf '%064d' 0)
expect_exit 3 "$DSBUILD" copy "docker://$REG/sk/app@$bad" "oci:$T/nope2:x"
assert_error_names "404"

step "a manifest the registry rejects: exit 6 with its answer, nothing tagged"
# The proxy claims every blob exists, so dsbuild skips the uploads and the
# registry itself refuses the manifest (MANIFEST_BLOB_UNKNOWN).
start_proxy '[{"match": "^HEAD /v2/lie/app/blobs/", "action": "status", "code": 200, "times": 100}]'
make_test_image "$T/img3" v3 64
expect_exit 6 "$DSBUILD" push "oci:$T/img3:v3" "docker://$PROXY/lie/app:v3"
assert_error_names "400" "MANIFEST_BLOB_UNKNOWN" "lie/app"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/lie/app/manifests/v3")
assert_eq 404 "$code" "the registry has no manifest for the rejected push"
