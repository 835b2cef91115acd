#!/bin/bash
# A registry on HTTPS with a test CA (made here with openssl) and htpasswd:
# the CA from --cert-dir or certs.d, --tls-verify=false, and a clear error
# (exit 6, hint naming --cert-dir) when the certificate cannot be verified.
. "$(dirname "$0")/lib.sh"
require_push_command

start_registry tls
make_test_image "$T/img" v1 256
digest=$(manifest_digest "$T/img" v1)
creds="$REG_USER:$REG_PASS"
mkdir -p "$T/certs"
cp "$T/tls/ca.crt" "$T/certs/ca.crt"

step "an unknown CA: exit 6, the hint names --cert-dir and certs.d"
expect_exit 6 "$DSBUILD" push --creds "$creds" "oci:$T/img:v1" "docker://$REG/t/app:v1"
assert_error_names "$REG" "https://$REG/v2/" "certificate"
assert_contains "$err" "--cert-dir"
assert_contains "$err" "certs.d/$REG/ca.crt"
assert_not_contains "$err" "answered 400" "the plain-HTTP probe must not hide the certificate error"

step "--cert-dir: push, and skopeo reads it back over TLS"
ok "$DSBUILD" push --cert-dir "$T/certs" --creds "$creds" "oci:$T/img:v1" "docker://$REG/t/app:v1"
assert_eq "$digest" "$(skopeo_digest "docker://$REG/t/app:v1" --cert-dir "$T/certs" --creds "$creds")" "skopeo over TLS"

step "certs.d/HOST:PORT/ca.crt is found by itself"
mkdir -p "$HOME/.config/containers/certs.d/$REG"
cp "$T/tls/ca.crt" "$HOME/.config/containers/certs.d/$REG/ca.crt"
ok "$DSBUILD" push --creds "$creds" "oci:$T/img:v1" "docker://$REG/t/app:v2"
ok "$DSBUILD" copy --creds "$creds" "docker://$REG/t/app:v2" "oci:$T/pulled:v2"
validate_image "$T/pulled" v2
assert_eq "$digest" "$(manifest_digest "$T/pulled" v2)" "pulled over TLS"
rm -rf "$HOME/.config/containers/certs.d"

step "--tls-verify=false"
ok "$DSBUILD" push --tls-verify=false --creds "$creds" "oci:$T/img:v1" "docker://$REG/t/app:v3"

step "skopeo pushes over TLS, dsbuild pulls"
make_test_image "$T/img2" v2 128
ok skopeo copy -q --dest-cert-dir "$T/certs" --dest-creds "$creds" "oci:$T/img2:v2" "docker://$REG/sk/app:v2"
ok "$DSBUILD" copy --cert-dir "$T/certs" --creds "$creds" "docker://$REG/sk/app:v2" "oci:$T/p2:v2"
assert_eq "$(manifest_digest "$T/img2" v2)" "$(manifest_digest "$T/p2" v2)" "digest of skopeo's push"

step "--plain-http against an HTTPS registry fails clearly"
expect_exit 6 "$DSBUILD" push --plain-http --creds "$creds" "oci:$T/img:v1" "docker://$REG/t/app:v4"
assert_error_names "$REG" "400"
