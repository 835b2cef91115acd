#!/bin/bash
# Faults between dsbuild and a real registry, injected by tests/registry/
# faultproxy.py: connections cut at byte offsets (uploads and downloads),
# 500s, 429 with Retry-After, 503 on the first contact, stalls.  Each push
# either completes with the right image (checked with skopeo) or fails with a
# clear error after its retries, and the registry never holds a manifest
# naming a missing or wrong blob.
. "$(dirname "$0")/lib.sh"
require_push_command

start_registry noauth
# 6 MiB of random data: the app layer is uploaded with PATCH (streamed).
make_test_image "$T/img" v1 6144
digest=$(manifest_digest "$T/img" v1)
big=$(manifest_of "$T/img" v1 | jq -r '.layers[-1].digest')
big_size=$(manifest_of "$T/img" v1 | jq -r '.layers[-1].size')
[ "$big_size" -gt 6000000 ] || fail "test image's app layer is too small: $big_size"

# pushed_ok REPO: the registry serves the image with the right digest, and
# every blob it names.
pushed_ok() {
	assert_eq "$digest" "$(skopeo_digest "docker://$REG/$1:v1" --tls-verify=false)" "digest of $1"
	rm -rf "$T/check"
	ok skopeo copy -q --src-tls-verify=false "docker://$REG/$1:v1" "oci:$T/check:v1"
	validate_image "$T/check" v1
}

no_manifest() {
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/$1/manifests/v1")
	assert_eq 404 "$code" "the registry must not have a manifest for $1"
}

step "an upload cut after 1 MiB resumes and completes"
start_proxy '[{"match": "^PATCH /v2/cut/app/blobs/uploads/", "action": "cut_request", "after": 1048576}]'
ok "$DSBUILD" push --parallel 1 --json "oci:$T/img:v1" "docker://$PROXY/cut/app:v1"
pj=$out
assert_contains "$err" "retrying" "the cut was reported as a retry"
pushed_ok cut/app
assert_eq 1 "$(proxy_count '.action == "cut_request"')" "one cut happened"
# After the cut the session is asked for its offset, or (distribution 2.8
# refuses a session whose file grew past its Location's offset) restarted.
nblobs=$(manifest_of "$T/img" v1 | jq '.layers | length + 1')
status_gets=$(proxy_count '.method == "GET" and (.path | test("/blobs/uploads/"))')
posts=$(proxy_count '.method == "POST"')
[ "$status_gets" -ge 1 ] || [ "$posts" -gt "$nblobs" ] ||
	fail "neither resumed nor restarted after the cut: $(cat "$PROXY_LOG")"
[ "$(jq .bytes_uploaded <<<"$pj")" -ge "$big_size" ] || fail "bytes_uploaded too small: $pj"

step "a chunked upload (--chunk-size 1M) cut before its third chunk resumes there"
start_proxy '[{"match": "^PATCH /v2/chunk/app/blobs/uploads/.* Content-Range: 2097152-", "action": "cut_request", "after": 0}]'
ok "$DSBUILD" push --parallel 1 --chunk-size 1M "oci:$T/img:v1" "docker://$PROXY/chunk/app:v1"
pushed_ok chunk/app
cut_range=$(jq -r 'select(.action == "cut_request") | .content_range' "$PROXY_LOG")
assert_eq "2097152-3145727" "$cut_range" "the third chunk was cut"
# resumed: the same range accepted later in the same session, no new session
assert_eq 1 "$(proxy_count ".content_range == \"$cut_range\" and .status == 202")" "the cut chunk was sent again"
sessions=$(proxy_count '.method == "POST"')
assert_eq "$(manifest_of "$T/img" v1 | jq '.layers | length + 1')" "$sessions" "one upload session per blob"
ranges=$(jq -r 'select(.method == "PATCH" and .content_range != null) | .content_range' "$PROXY_LOG" | sort -u | wc -l)
[ "$ranges" -ge 6 ] || fail "expected >= 6 distinct chunk ranges, got $ranges: $(cat "$PROXY_LOG")"

step "the closing PUT of an upload is cut: the blob is checked, the upload finished"
start_proxy '[{"match": "^PUT /v2/close/app/blobs/uploads/.*digest=sha256", "action": "cut_request", "after": 0}]'
ok "$DSBUILD" push --parallel 1 "oci:$T/img:v1" "docker://$PROXY/close/app:v1"
assert_eq 1 "$(proxy_count '.action == "cut_request"')" "a closing PUT was cut"
pushed_ok close/app

step "500 on the first two upload sessions: retried"
start_proxy '[{"match": "^POST /v2/five/app/blobs/uploads/", "action": "status", "code": 500, "times": 2, "body": "{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"injected\"}]}"}]'
ok "$DSBUILD" push --parallel 1 "oci:$T/img:v1" "docker://$PROXY/five/app:v1"
assert_contains "$err" "HTTP 500"
pushed_ok five/app

step "429 with Retry-After: 1 on the manifest: waited for, then pushed"
start_proxy '[{"match": "^PUT /v2/slow/app/manifests/", "action": "status", "code": 429, "headers": {"Retry-After": "1"}}]'
ok "$DSBUILD" push "oci:$T/img:v1" "docker://$PROXY/slow/app:v1"
pushed_ok slow/app
gap=$(jq -s '[.[] | select(.method == "PUT" and (.path | test("/manifests/")))] | (.[1].time - .[0].time)' "$PROXY_LOG")
jq -e -n "$gap >= 0.95" >/dev/null || fail "Retry-After not honoured: the retry came after $gap s"

step "503 on the first contact: retried"
start_proxy '[{"match": "^GET /v2/$", "action": "status", "code": 503, "times": 2}]'
ok "$DSBUILD" push "oci:$T/img:v1" "docker://$PROXY/ping/app:v1"
pushed_ok ping/app

step "a stalled answer is abandoned after DSBUILD_STALL_TIMEOUT and retried"
start_proxy '[{"match": "^HEAD /v2/stall/app/blobs/", "action": "stall", "seconds": 8}]'
SECONDS=0
DSBUILD_STALL_TIMEOUT=2 ok "$DSBUILD" push --parallel 1 "oci:$T/img:v1" "docker://$PROXY/stall/app:v1"
[ "$SECONDS" -lt 8 ] || fail "the stall was waited out ($SECONDS s) instead of abandoned"
assert_contains "$err" "retrying"
pushed_ok stall/app

step "a download cut after 1 MiB resumes with a Range request"
start_proxy "[{\"match\": \"^GET /v2/cut/app/blobs/$big\", \"action\": \"cut_response\", \"after\": 1048576}]"
DSBUILD_CACHE=$T/cache-pull ok "$DSBUILD" copy "docker://$PROXY/cut/app:v1" "oci:$T/pulled:v1"
validate_image "$T/pulled" v1
assert_eq "$digest" "$(manifest_digest "$T/pulled" v1)" "pulled digest"
assert_eq 1 "$(proxy_count '.range == "bytes=1048576-"')" "resumed at the cut"

step "a download with the wrong bytes is refused, nothing cached"
cfg=$(manifest_of "$T/img" v1 | jq -r .config.digest)
cfg_size=$(manifest_of "$T/img" v1 | jq -r .config.size)
fake=$(head -c "$cfg_size" /dev/zero | tr '\0' x)
start_proxy "[{\"match\": \"^GET /v2/cut/app/blobs/$cfg\", \"action\": \"status\", \"code\": 200, \"times\": 10, \"body\": \"$fake\"},
{\"match\": \"^GET /v2/cut/app/blobs/$big\", \"action\": \"status\", \"code\": 200, \"times\": 10, \"body\": \"short\"}]"
expect_exit 4 env DSBUILD_CACHE="$T/cache-bad" "$DSBUILD" copy "docker://$PROXY/cut/app:v1" "oci:$T/bad:v1"
assert_error_names "$cfg" "digest"
[ ! -e "$T/cache-bad/blobs/sha256/${cfg#sha256:}" ] || fail "a corrupt config reached the cache"
assert_absent "$T/bad"
# with the right config cached, the short layer is refused for its size
DSBUILD_CACHE=$T/cache-bad ok "$DSBUILD" copy "docker://$REG/cut/app:v1" "oci:$T/cfg-only:v1"
rm -rf "$T/cache-bad/blobs/sha256/${big#sha256:}" "$T/cfg-only"
expect_exit 4 env DSBUILD_CACHE="$T/cache-bad" "$DSBUILD" copy "docker://$PROXY/cut/app:v1" "oci:$T/bad:v1"
assert_error_names "$big" "5 bytes"
[ ! -e "$T/cache-bad/blobs/sha256/${big#sha256:}" ] || fail "a short layer reached the cache"

step "persistent 500 on uploads: a clear error after the retries, no manifest"
start_proxy '[{"match": "^PATCH /v2/dead/app/blobs/uploads/", "action": "status", "code": 500, "times": 1000}]'
expect_exit 6 "$DSBUILD" push --parallel 1 --retry-times 3 "oci:$T/img:v1" "docker://$PROXY/dead/app:v1"
assert_error_names "500" "gave up after" "dead/app"
no_manifest dead/app

step "every upload cut: fails after its retries, no manifest"
start_proxy '[{"match": "^PATCH /v2/cuts/app/blobs/uploads/", "action": "cut_request", "after": 100000, "times": 1000}]'
expect_exit 6 "$DSBUILD" push --parallel 1 --retry-times 2 "oci:$T/img:v1" "docker://$PROXY/cuts/app:v1"
assert_error_names "cuts/app"
no_manifest cuts/app
