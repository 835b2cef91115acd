#!/bin/bash
# A registry with htpasswd (Basic) auth: credentials from --creds, from
# `dsbuild login` (Docker's config.json), from skopeo's auth.json, from a
# credential helper; wrong or missing credentials and a missing helper are
# auth errors (exit 5) that name the registry's answer and where dsbuild
# looked.
. "$(dirname "$0")/lib.sh"
require_push_command

start_registry htpasswd
make_test_image "$T/img" v1 256
digest=$(manifest_digest "$T/img" v1)
cfg=$HOME/.docker/config.json

step "no credentials: exit 5, naming the answer and the files looked in"
expect_exit 5 "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/a/app:v1"
assert_error_names "$REG" "401" "authentication required"
assert_contains "$err" "hint: " "a hint"
assert_contains "$err" "dsbuild login $REG"
assert_contains "$err" ".docker/config.json" "the hint names the files looked in"

step "wrong --creds: exit 5, naming where they came from"
expect_exit 5 "$DSBUILD" push --creds "$REG_USER:wrong" "oci:$T/img:v1" "docker://$REG/a/app:v1"
assert_error_names "401"
assert_contains "$err" "--creds"

step "--creds: push, and skopeo reads it back"
ok "$DSBUILD" push --creds "$REG_USER:$REG_PASS" "oci:$T/img:v1" "docker://$REG/a/app:v1"
assert_eq "$digest" "$(skopeo_digest "docker://$REG/a/app:v1" --tls-verify=false --creds "$REG_USER:$REG_PASS")" "skopeo digest"

step "login with a wrong password: exit 5, nothing saved"
expect_exit 5 sh -c "echo wrong | '$DSBUILD' login -u '$REG_USER' --password-stdin '$REG'"
assert_error_names "$REG" "401"
assert_absent "$cfg"

step "login: config.json (0600), then push and pull without --creds"
ok sh -c "echo '$REG_PASS' | '$DSBUILD' login -u '$REG_USER' --password-stdin '$REG'"
assert_contains "$err" "$cfg"
assert_file "$cfg"
assert_eq 600 "$(stat -c %a "$cfg")" "config.json mode"
assert_eq "$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64)" "$(jq -r --arg r "$REG" '.auths[$r].auth' "$cfg")" "auths entry"
ok "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/b/app:v1"
ok "$DSBUILD" copy "docker://$REG/b/app:v1" "oci:$T/pulled:v1"
assert_eq "$digest" "$(manifest_digest "$T/pulled" v1)" "pulled with saved credentials"
# skopeo (containers/image) reads Docker's config.json too
assert_eq "$digest" "$(skopeo_digest "docker://$REG/b/app:v1" --tls-verify=false --authfile "$cfg")" "skopeo with dsbuild's config.json"

step "logout: gone, and pushing is refused again"
ok "$DSBUILD" logout "$REG"
assert_eq null "$(jq -c --arg r "$REG" '.auths[$r]' "$cfg")" "entry removed"
expect_exit 5 "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/b/app:v1"
expect_exit 3 "$DSBUILD" logout "$REG"
assert_error_names "not logged in"

step "skopeo login writes auth.json; dsbuild reads it (\$REGISTRY_AUTH_FILE and --authfile)"
ok skopeo login --tls-verify=false --authfile "$T/auth.json" -u "$REG_USER" -p "$REG_PASS" "$REG"
REGISTRY_AUTH_FILE=$T/auth.json ok "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/c/app:v1"
ok "$DSBUILD" push --authfile "$T/auth.json" "oci:$T/img:v1" "docker://$REG/c/app:v2"
mkdir -p "$HOME/.config/containers"
cp "$T/auth.json" "$HOME/.config/containers/auth.json"
ok "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/c/app:v3"
rm "$HOME/.config/containers/auth.json"

step "a credential helper (credHelpers): login stores through it, push reads it"
mkdir -p "$T/bin"
cat >"$T/bin/docker-credential-dstest" <<EOF
#!/bin/sh
# a file-backed helper speaking the docker-credential protocol
store=$T/helper-store
case "\$1" in
get) read -r host; f="\$store/\$(echo "\$host" | tr -c 'a-zA-Z0-9.\n' _)"
     if [ -f "\$f" ]; then cat "\$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store) mkdir -p "\$store"; in=\$(cat); host=\$(printf '%s' "\$in" | jq -r .ServerURL)
     printf '%s' "\$in" >"\$store/\$(echo "\$host" | tr -c 'a-zA-Z0-9.\n' _)" ;;
erase) read -r host; rm -f "\$store/\$(echo "\$host" | tr -c 'a-zA-Z0-9.\n' _)" ;;
esac
EOF
chmod +x "$T/bin/docker-credential-dstest"
export PATH=$T/bin:$PATH
printf '{"credHelpers":{"%s":"dstest"}}\n' "$REG" >"$cfg"
ok sh -c "echo '$REG_PASS' | '$DSBUILD' login -u '$REG_USER' --password-stdin '$REG'"
assert_contains "$err" "docker-credential-dstest"
assert_eq null "$(jq -c '.auths' "$cfg")" "no password in config.json with a helper"
ok "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/d/app:v1"
ok "$DSBUILD" logout "$REG"
expect_exit 5 "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/d/app:v1"

step "a helper that is not installed: exit 5 naming it and the file"
printf '{"credHelpers":{"%s":"nosuchhelper"}}\n' "$REG" >"$cfg"
expect_exit 5 "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/d/app:v1"
assert_error_names "docker-credential-nosuchhelper" "$cfg"
assert_contains "$err" "hint: install docker-credential-nosuchhelper"

step "credsStore for every registry"
printf '{"credsStore":"dstest"}\n' >"$cfg"
ok sh -c "echo '$REG_PASS' | '$DSBUILD' login -u '$REG_USER' --password-stdin '$REG'"
ok "$DSBUILD" push "oci:$T/img:v1" "docker://$REG/e/app:v1"
assert_eq "$digest" "$(skopeo_digest "docker://$REG/e/app:v1" --tls-verify=false --creds "$REG_USER:$REG_PASS")" "pushed with credsStore"

step "a blob redirected to another host gets no Authorization"
# The proxy answers the layer's GET with a 307 to a file server on another
# host name (localhost vs 127.0.0.1), which records the headers it sees.
cat >"$T/blobsrv.py" <<'PY'
import http.server, sys, threading
root, log, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def do_GET(self):
        with open(log, "a") as f:
            f.write("GET %s auth=%s\n" % (self.path, self.headers.get("Authorization", "-")))
        super().do_GET()
s = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
t = threading.Timer(300, s.shutdown); t.daemon = True; t.start()
s.serve_forever()
PY
printf '{}\n' >"$cfg"
ok "$DSBUILD" push --creds "$REG_USER:$REG_PASS" "oci:$T/img:v1" "docker://$REG/r/app:v1"
layer=$(manifest_of "$T/img" v1 | jq -r '.layers[-1].digest')
mkdir -p "$T/blobsrv"
cp "$(blob_path "$T/img" "$layer")" "$T/blobsrv/${layer#sha256:}"
bport=$(free_port)
bg_start blobsrv "$T/blobsrv.out" /usr/bin/python3 "$T/blobsrv.py" "$T/blobsrv" "$T/blobsrv.log" "$bport"
wait_port "$bport" "$BG_PID" || fail "blob server did not start: $(cat "$T/blobsrv.out")"
start_proxy "[{\"match\": \"^GET /v2/r/app/blobs/$layer\", \"action\": \"status\", \"code\": 307, \"headers\": {\"Location\": \"http://localhost:$bport/${layer#sha256:}\"}}]"
DSBUILD_CACHE=$T/cache-redirect ok "$DSBUILD" copy --creds "$REG_USER:$REG_PASS" "docker://$PROXY/r/app:v1" "oci:$T/redirected:v1"
assert_eq "$digest" "$(manifest_digest "$T/redirected" v1)" "pulled through the redirect"
assert_eq "GET /${layer#sha256:} auth=-" "$(cat "$T/blobsrv.log")" "no Authorization sent to the other host"
[ "$(proxy_count '.status == 307')" = 1 ] || fail "the redirect was not used: $(cat "$PROXY_LOG")"
