#!/bin/bash
# A registry with token auth (the Docker Hub / GHCR / Harbor flow) and a
# small token server (tests/registry/token_server.py, RS256 JWTs): push and
# pull with credentials, anonymous and wrong credentials refused (exit 5),
# tokens the registry no longer accepts (expired: refused after one re-auth;
# expiring in the middle of a push: re-authenticated and finished), OAuth2
# refresh tokens from config.json, cross-repository mounts with token scopes.
. "$(dirname "$0")/lib.sh"
require_push_command

start_registry token
make_test_image "$T/img" v1 512
digest=$(manifest_digest "$T/img" v1)
creds="$REG_USER:$REG_PASS"

step "anonymous: the token server gives no push access, exit 5"
expect_exit 5 "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/tk/app:v1"
assert_error_names "$REG" "401"
assert_contains "$err" "dsbuild login $REG"

step "wrong password: the token server's answer, exit 5"
expect_exit 5 "$DSBUILD" push --creds "$REG_USER:nope" "oci:$T/img:v1" "docker://$REG/tk/app:v1"
assert_error_names "token server refused the credentials" "$REG_USER" "401" "bad credentials"

step "--creds: push, skopeo reads it back"
ok "$DSBUILD" push --json --creds "$creds" "oci:$T/img:v1" "docker://$REG/tk/app:v1"
assert_eq "$digest" "$(jq -r .digest <<<"$out")"
assert_eq "$digest" "$(skopeo_digest "docker://$REG/tk/app:v1" --tls-verify=false --creds "$creds")" "skopeo digest"
tokens=$(grep -c 'GET /token' "$TOKEN_LOG" || true)
[ "$tokens" -ge 1 ] || fail "no token requested: $(cat "$TOKEN_LOG")"

step "a push to another repository mounts (token scope covers the source)"
ok "$DSBUILD" push --json --creds "$creds" "oci:$T/img:v1" "docker://$REG/tk/other:v1"
assert_eq "$(jq .blobs.total <<<"$out")" "$(jq .blobs.mounted <<<"$out")" "every blob mounted"
assert_contains "$(cat "$TOKEN_LOG")" "repository%3Atk%2Fapp%3Apull" "the token asked for pull on the source repo"

step "login checks the password against the token server, then push without --creds"
expect_exit 5 sh -c "echo nope | '$DSBUILD' login -u '$REG_USER' --password-stdin '$REG'"
ok sh -c "echo '$REG_PASS' | '$DSBUILD' login -u '$REG_USER' --password-stdin '$REG'"
ok "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/tk/app:v2"
ok "$DSBUILD" copy "docker://$REG/tk/app:v2" "oci:$T/pulled:v2"
validate_image "$T/pulled" v2
assert_eq "$digest" "$(manifest_digest "$T/pulled" v2)"
ok "$DSBUILD" logout "$REG"

step "an identity (refresh) token in config.json: the OAuth2 refresh flow"
rt=$(curl -s -X POST -d "grant_type=password&username=$REG_USER&password=$REG_PASS&service=dsbuild-test-registry&client_id=t" \
	"http://127.0.0.1:$TOKEN_PORT/token" | jq -r .refresh_token)
[ -n "$rt" ] && [ "$rt" != null ] || fail "token server gave no refresh token"
mkdir -p "$HOME/.docker"
printf '{"auths":{"%s":{"identitytoken":"%s"}}}\n' "$REG" "$rt" >"$HOME/.docker/config.json"
ok "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/tk/app:v3"
assert_contains "$(cat "$TOKEN_LOG")" '"POST /token' "the refresh grant was used"
rm "$HOME/.docker/config.json"

step "expired tokens: one re-authentication, then exit 5 with the registry's answer"
main_reg=$REG
TOKEN_TTL=-120 EXPIRES_IN=300 start_registry token expired
make_test_image "$T/img3" v1 64
expect_exit 5 "$DSBUILD" push --creds "$creds" "oci:$T/img3:v1" "docker://$REG/tk/app:v1"
assert_error_names "$REG" "401"
tokens=$(grep -c 'GET /token' "$TOKEN_LOG" || true)
[ "$tokens" -ge 2 ] || fail "expected a fresh token after the 401, token log: $(cat "$TOKEN_LOG")"
[ "$tokens" -le 4 ] || fail "re-authenticated in a loop ($tokens tokens)"

step "a token that expires in the middle of a push: re-authenticated, push completes"
# Tokens live 2 s (exp 58 s ago, within the registry's 60 s leeway) but claim
# 300 s; the manifest PUT is held 3 s by the proxy,
# so it reaches the registry with an expired token.
TOKEN_TTL=-58 EXPIRES_IN=300 start_registry token midway
start_proxy '[{"match": "^PUT /v2/tk/mid/manifests/", "action": "stall", "seconds": 3}]'
ok "$DSBUILD" push --creds "$creds" "oci:$T/img:v1" "docker://$PROXY/tk/mid:v1"
assert_eq "$digest" "$(skopeo_digest "docker://$REG/tk/mid:v1" --tls-verify=false --creds "$creds")" "pushed despite the expiry"
assert_eq 1 "$(proxy_count '(.path | test("/manifests/")) and .status == 401')" "the registry refused the stale token once"
assert_eq 1 "$(proxy_count '(.path | test("/manifests/")) and .status == 201')" "then accepted the manifest"
