#!/bin/bash
# A platform team's buildpacks and builder (docs/buildpacks.md): a builder
# with two order groups (group 1 for projects with requirements.txt, group
# 2 otherwise); precedence flags > project > builder for the base, env and
# labels (checked in the built image's config); the example team buildpack
# acme/company-ca built into an image on the default Debian base and run
# with podman (the CA file, its mode, the label, and TLS to a server whose
# certificate a CA installed this way signed); bad buildpack.toml and
# builder files; `dsbuild buildpack new` and `dsbuild buildpacks`.
# Needs Debian's archive the first time (the base is cached in
# $DSBUILD_TEST_CACHE, default /var/tmp/dsbuild-test-cache).
. "$(dirname "$0")/lib.sh"
need jq jq
need openssl openssl
podman_env
unset DSBUILD_BASE DSBUILD_BUILDER
cache=${DSBUILD_TEST_CACHE:-/var/tmp/dsbuild-test-cache}
mkdir -p "$cache"
EX=$SRC_ROOT/examples

# detect_json ARGS...: `dsbuild detect --json ARGS`; the plan in $out.
detect_json() {
	run "$DSBUILD" detect --json "$@"
	[ "$rc" = 0 ] || fail "dsbuild detect failed
$(_show_run "dsbuild detect --json $*")"
}

# ---------------------------------------------------------------- fixtures

mkdir -p "$T/team/ca" "$T/team/pydeps" "$T/withreq" "$T/noreq"
cat >"$T/team/ca/buildpack.toml" <<'EOF'
[buildpack]
id = "test/ca"
version = "2.3.4"
name = "Test CA"

[contributes]
env = { FROM_BP = "ca", OVERRIDE_ME = "buildpack" }
labels = { "org.test.bp" = "ca", "org.test.override" = "buildpack" }

[[files]]
source = "ca.txt"
target = "/usr/local/share/test/ca.txt"
mode = "0640"
EOF
echo "test CA" >"$T/team/ca/ca.txt"
cat >"$T/team/pydeps/buildpack.toml" <<'EOF'
[buildpack]
id = "test/pydeps"
version = "0.9.0"

[detect]
files = ["requirements.txt"]
EOF
cat >"$T/team/builder.toml" <<'EOF'
base = "debian:trixie"

[builder]
name = "test-builder"

[env]
A = "builder"
B = "builder"
C = "builder"

[labels]
"org.test.builder" = "yes"
"org.test.override" = "builder"

[[buildpacks]]
id = "test/ca"
path = "ca"

[[order]]
group = [
  { id = "test/ca" },
  { id = "test/pydeps" , path = "pydeps" },
  { id = "dsbuild/python", optional = true },
  { id = "dsbuild/job", optional = true },
]

[[order]]
group = [
  { id = "test/ca" },
  { id = "dsbuild/python", optional = true },
  { id = "dsbuild/job", optional = true },
]
EOF
printf '# no packages yet\n' >"$T/withreq/requirements.txt"
printf 'print("train with requirements")\n' >"$T/withreq/train.py"
printf 'print("train without requirements")\n' >"$T/noreq/train.py"

# ------------------------------------------------------------ order groups

step "a builder's first group applies to a project with requirements.txt"
detect_json --builder "$T/team/builder.toml" "$T/withreq"
assert_eq "test-builder" "$(jq -r .builder.name <<<"$out")" ".builder.name"
assert_eq "$T/team/builder.toml" "$(jq -r .builder.file <<<"$out")" ".builder.file"
assert_eq 0 "$(jq -r .group_index <<<"$out")" ".group_index with requirements.txt"
assert_eq '["test/ca","test/pydeps","dsbuild/python","dsbuild/job","dsbuild/launcher"]' \
	"$(jq -c '[.group[].id]' <<<"$out")" ".group with requirements.txt"
assert_eq '[]' "$(jq -c '.groups_tried' <<<"$out")" "no group tried before the first"

step "the second group applies otherwise"
detect_json --builder "$T/team/builder.toml" "$T/noreq"
assert_eq 1 "$(jq -r .group_index <<<"$out")" ".group_index without requirements.txt"
assert_eq '["test/ca","dsbuild/python","dsbuild/job","dsbuild/launcher"]' \
	"$(jq -c '[.group[].id]' <<<"$out")" ".group without requirements.txt"
assert_eq '[["test/ca",true],["test/pydeps",false]]' \
	"$(jq -c '[.groups_tried[0][] | [.id, .detected]]' <<<"$out")" "group 1 as tried"

step "\$DSBUILD_BUILDER names the builder as --builder does"
run env DSBUILD_BUILDER="$T/team/builder.toml" "$DSBUILD" detect --json "$T/noreq"
[ "$rc" = 0 ] || fail "detect with \$DSBUILD_BUILDER: $err"
assert_eq "test-builder" "$(jq -r .builder.name <<<"$out")" "builder from \$DSBUILD_BUILDER"

step "the example builder: group 1 for flask-sklearn, group 2 for model-api"
detect_json --builder "$EX/builder/builder.toml" "$EX/flask-sklearn"
assert_eq "acme-ds" "$(jq -r .builder.name <<<"$out")" "example builder name"
assert_eq 0 "$(jq -r .group_index <<<"$out")" "flask-sklearn's group"
assert_eq '["acme/company-ca","acme/internal-index"]' "$(jq -c '[.group[].id][:2]' <<<"$out")" \
	"flask-sklearn's team buildpacks"
assert_eq "company-ca" "$(jq -r '.labels["org.acme.team-buildpack"]' <<<"$out")" "CA label"
assert_eq "https://pypi.internal.acme.example/simple" "$(jq -r '.env.PIP_INDEX_URL' <<<"$out")" \
	"internal-index env"
assert_eq "false" "$(jq -r '[.group[].id] | index("acme/gpu-notice") != null' <<<"$out")" \
	"gpu-notice without torch"
detect_json --builder "$EX/builder/builder.toml" "$EX/model-api"
assert_eq 1 "$(jq -r .group_index <<<"$out")" "model-api's group (no requirements.txt)"
assert_eq "acme/company-ca" "$(jq -r '.group[0].id' <<<"$out")" "model-api still gets the CA"

step "acme/gpu-notice passes for a project that imports torch"
mkdir -p "$T/torchy"
printf 'torch\n' >"$T/torchy/requirements.txt"
printf 'import os\nfrom torch import nn\n' >"$T/torchy/train.py"
detect_json --builder "$EX/builder/builder.toml" "$T/torchy"
assert_eq "true" "$(jq -r '[.group[].id] | index("acme/gpu-notice") != null' <<<"$out")" \
	"gpu-notice with 'from torch import'"
assert_eq "all" "$(jq -r '.env.NVIDIA_VISIBLE_DEVICES' <<<"$out")" "gpu-notice env"

# ------------------------------------------------------------- precedence

step "base: --base > [tool.dsbuild] base > builder base > default"
detect_json --builder "$T/team/builder.toml" "$T/noreq"
assert_eq "debian:trixie $T/team/builder.toml" "$(jq -r '"\(.base.ref) \(.base.from)"' <<<"$out")" \
	"the builder's base"
cp -r "$T/noreq" "$T/pyproj"
printf '[tool.dsbuild]\nbase = "debian:bookworm"\n' >"$T/pyproj/pyproject.toml"
detect_json --builder "$T/team/builder.toml" "$T/pyproj"
assert_eq "debian:bookworm pyproject.toml" "$(jq -r '"\(.base.ref) \(.base.from)"' <<<"$out")" \
	"the project's base over the builder's"
detect_json --builder "$T/team/builder.toml" --base scratch "$T/pyproj"
assert_eq "scratch --base" "$(jq -r '"\(.base.ref) \(.base.from)"' <<<"$out")" \
	"--base over the project's"
run env DSBUILD_BASE=scratch "$DSBUILD" detect --json --builder "$T/team/builder.toml" "$T/pyproj"
assert_eq "scratch \$DSBUILD_BASE" "$(jq -r '"\(.base.ref) \(.base.from)"' <<<"$out")" \
	"\$DSBUILD_BASE counts as --base"
detect_json "$T/noreq"
assert_eq "debian:bookworm default" "$(jq -r '"\(.base.ref) \(.base.from)"' <<<"$out")" \
	"no builder, no setting"

step "env and labels: --env/--label > project > buildpacks > builder (in the image)"
mkdir -p "$T/envproj"
printf 'print("env")\n' >"$T/envproj/train.py"
cat >"$T/envproj/pyproject.toml" <<'EOF'
[tool.dsbuild]
base = "debian:bookworm"
env = { B = "project", C = "project", OVERRIDE_ME = "project" }
EOF
build_json "$T/envproj" --builder "$T/team/builder.toml" --cache-dir "$cache" \
	-o "oci:$T/envimg:latest" --env C=flag --label org.test.override=flag
cfg=$(config_of "$T/envimg" latest)
envs=$'\n'$(jq -r '.config.Env[]' <<<"$cfg")$'\n'
assert_contains "$envs" $'\nA=builder\n' "builder env A"
assert_contains "$envs" $'\nB=project\n' "project env B over the builder's"
assert_contains "$envs" $'\nC=flag\n' "--env C over the project's"
assert_contains "$envs" $'\nFROM_BP=ca\n' "buildpack env"
assert_contains "$envs" $'\nOVERRIDE_ME=project\n' "project env over the buildpack's"
assert_eq "yes" "$(jq -r '.config.Labels["org.test.builder"]' <<<"$cfg")" "builder label"
assert_eq "ca" "$(jq -r '.config.Labels["org.test.bp"]' <<<"$cfg")" "buildpack label"
assert_eq "flag" "$(jq -r '.config.Labels["org.test.override"]' <<<"$cfg")" "--label over all"
meta=$(jq -r '.config.Labels["io.dsbuild.metadata"]' <<<"$cfg")
assert_eq '["test/ca@2.3.4","dsbuild/python@0.1.0","dsbuild/job@0.1.0","dsbuild/launcher@0.1.0"]' \
	"$(jq -c '[.buildpacks[] | "\(.id)@\(.version)"]' <<<"$meta")" "metadata label buildpacks"
assert_eq "job" "$(jq -r .default_process <<<"$meta")" "metadata label default_process"
prun "oci:$T/envimg:latest" python3 -c 'import os; print(os.environ["A"], os.environ["B"], os.environ["C"])'
[ "$rc" = 0 ] || fail "the env image does not run: $err"
assert_eq "builder project flag" "$out" "env at run time"
# 0640 root: the app user (1000) sees it and cannot read it
prun "oci:$T/envimg:latest" python3 -c 'import os; s = os.stat("/usr/local/share/test/ca.txt"); print(oct(s.st_mode & 0o7777), s.st_uid, s.st_size, os.access("/usr/local/share/test/ca.txt", os.R_OK))'
assert_eq "0o640 0 8 False" "$out" "the test buildpack's file, its mode and owner"

# -------------------------------------------------- the example team buildpack

step "build examples/team-buildpack/company-ca into an image"
mkdir -p "$T/caproj"
cat >"$T/caproj/tlscheck.py" <<'PY'
# Serves HTTPS on 127.0.0.1 with /tls/server.pem and fetches it with
# Python's default context: the system CA bundle plus OpenSSL's folder.
import os, ssl, sys, threading, urllib.request
from http.server import HTTPServer, BaseHTTPRequestHandler

class H(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"trusted")
    def log_message(self, *a):
        pass

srv = HTTPServer(("127.0.0.1", 0), H)
sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
sctx.load_cert_chain("/tls/server.pem", "/tls/server.key")
srv.socket = sctx.wrap_socket(srv.socket, server_side=True)
threading.Thread(target=srv.serve_forever, daemon=True).start()
ctx = ssl.create_default_context()
public = ctx.cert_store_stats()["x509_ca"]
try:
    body = urllib.request.urlopen("https://localhost:%d/" % srv.server_port, context=ctx,
                                  timeout=10).read().decode()
except Exception as e:
    body = "refused: %s" % e
print("public CAs>100:", public > 100, "|", body)
PY
build_json "$T/caproj" --buildpack "$EX/team-buildpack/company-ca" --cache-dir "$cache" \
	-o "oci:$T/caimg:latest"
cfg=$(config_of "$T/caimg" latest)
assert_eq "company-ca" "$(jq -r '.config.Labels["org.acme.team-buildpack"]' <<<"$cfg")" \
	"the team buildpack's label"
assert_eq '"acme/company-ca@1.0.0"' \
	"$(jq -r '.config.Labels["io.dsbuild.metadata"]' <<<"$cfg" | jq -c '[.buildpacks[] | "\(.id)@\(.version)"] | map(select(startswith("acme/")))[0]')" \
	"metadata label names the team buildpack"
rt=$(last_json | jq -r '[.layers[].created_by] | index("dsbuild: buildpack runtime files in /opt/dsbuild and /data")')
[ "$rt" != null ] || fail "no runtime layer: $(last_json | jq -c '[.layers[].created_by]')"
listing=$(layer_list "$T/caimg" latest "$rt")
assert_match "$listing" '^-rw-r--r-- 0/0 .* usr/local/share/ca-certificates/acme-ca\.crt$'
assert_match "$listing" '^-rw-r--r-- 0/0 .* etc/ssl/certs/9ba7ef28\.0$'
assert_match "$listing" '^drwxr-xr-x 1000/1000 .* data/$'
validate_image "$T/caimg" latest

step "run it: the CA file is there, root-owned, mode 0644, the same bytes"
want=$(sha256sum <"$EX/team-buildpack/company-ca/acme-ca.crt" | cut -d' ' -f1)
prun "oci:$T/caimg:latest" python3 -c '
import hashlib, os
for p in ("/usr/local/share/ca-certificates/acme-ca.crt", "/etc/ssl/certs/9ba7ef28.0"):
    s = os.stat(p)
    print(p, oct(s.st_mode & 0o7777), s.st_uid, hashlib.sha256(open(p, "rb").read()).hexdigest())
print(os.environ["SSL_CERT_DIR"], os.environ["SSL_CERT_FILE"])'
[ "$rc" = 0 ] || fail "the CA image does not run: $err"
assert_eq "/usr/local/share/ca-certificates/acme-ca.crt 0o644 0 $want
/etc/ssl/certs/9ba7ef28.0 0o644 0 $want
/etc/ssl/certs /etc/ssl/certs/ca-certificates.crt" "$out" "the CA files in the image"
hash=$(openssl x509 -hash -noout -in "$EX/team-buildpack/company-ca/acme-ca.crt")
assert_eq 9ba7ef28 "$hash" "the hashed name in buildpack.toml is the certificate's"

step "a CA installed the same way is trusted for TLS, next to the public CAs"
# The example's key is not committed: make a CA of our own, install it with a
# copy of the example buildpack, and serve with a certificate it signed.
tls=$T/tls
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$tls/ca.key" -out "$tls/ca.crt" -subj "/CN=dsbuild test CA" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
	2>"$T/openssl.log" || fail "openssl: $(cat "$T/openssl.log")"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tls/server.key" \
	-out "$tls/server.csr" -subj "/CN=localhost" 2>"$T/openssl.log" ||
	fail "openssl: $(cat "$T/openssl.log")"
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$tls/ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
	-CAcreateserial -days 2 -extfile "$tls/ext" -out "$tls/server.pem" 2>"$T/openssl.log" ||
	fail "openssl: $(cat "$T/openssl.log")"
rm -f "$tls/ca.key"
chmod 0755 "$tls"
chmod 0644 "$tls"/*
cp -r "$EX/team-buildpack/company-ca" "$T/testca"
cp "$tls/ca.crt" "$T/testca/acme-ca.crt"
sed -i "s|/etc/ssl/certs/9ba7ef28.0|/etc/ssl/certs/$(openssl x509 -hash -noout -in "$tls/ca.crt").0|" \
	"$T/testca/buildpack.toml"
build_json "$T/caproj" --buildpack "$T/testca" --cache-dir "$cache" -o "oci:$T/tlsimg:latest"
run podman run --rm --network none -v "$tls:/tls:ro" "oci:$T/tlsimg:latest" python3 tlscheck.py
[ "$rc" = 0 ] || fail "tlscheck.py does not run: $err"
assert_eq "public CAs>100: True | trusted" "$out" "TLS with the team CA installed"
run podman run --rm --network none -v "$tls:/tls:ro" "oci:$T/caimg:latest" python3 tlscheck.py
[ "$rc" = 0 ] || fail "tlscheck.py does not run: $err"
assert_contains "$out" "public CAs>100: True | refused:" "TLS without that CA"
assert_contains "$out" "CERTIFICATE_VERIFY_FAILED" "TLS without that CA"

# ------------------------------------------------------------ bad inputs

step "bad buildpack.toml: invalid TOML names the file and line; a missing id is an error"
mkdir -p "$T/bad/toml" "$T/bad/noid"
printf '[buildpack]\nid = "test/bad"\nversion = 1.0.0"\n' >"$T/bad/toml/buildpack.toml"
printf '[buildpack]\nversion = "1.0.0"\n' >"$T/bad/noid/buildpack.toml"
run "$DSBUILD" detect --buildpack "$T/bad/toml" "$T/noreq"
[ "$rc" != 0 ] || fail "invalid TOML in a buildpack.toml is accepted"
assert_error_names "$T/bad/toml/buildpack.toml" "line 3"
# Fixed bug (lib/util/toml.c fails with DS_EFORMAT, which cmd/report.c maps
# to exit 4, "bad image"): a broken buildpack.toml is bad input, exit 3, as a
# missing id or a bad builder setting is.
bug_toml_syntax_exit_4() {
	expect_exit 3 "$DSBUILD" detect --buildpack "$T/bad/toml" "$T/noreq"
}
soft bug_toml_syntax_exit_4
# a typo in a table name is an error, not a buildpack that silently does nothing
mkdir -p "$T/bad/typo"
printf '[buildpack]\nid = "test/typo"\nversion = "1.0.0"\n[contribute]\nenv = { A = "1" }\n' \
	>"$T/bad/typo/buildpack.toml"
expect_exit 3 "$DSBUILD" detect --buildpack "$T/bad/typo" "$T/noreq"
assert_error_names "$T/bad/typo/buildpack.toml" "unknown table or key 'contribute'"
expect_exit 3 "$DSBUILD" build --buildpack "$T/bad/noid" "$T/noreq" -o "oci:$T/never:latest"
assert_error_names "$T/bad/noid/buildpack.toml" "[buildpack] id"
assert_absent "$T/never"

step "unknown builder setting"
printf 'bases = "debian:bookworm"\n' >"$T/bad/builder.toml"
expect_exit 3 "$DSBUILD" detect --builder "$T/bad/builder.toml" "$T/noreq"
assert_error_names "$T/bad/builder.toml" "unknown builder setting 'bases'"
expect_exit 3 "$DSBUILD" detect --builder "$T/bad/missing.toml" "$T/noreq"
assert_error_names "missing.toml" "does not exist"

step "a group entry whose buildpack has another id"
printf '[[order]]\ngroup = [{ id = "test/other", path = "../team/ca" }]\n' >"$T/bad/mismatch.toml"
expect_exit 3 "$DSBUILD" detect --builder "$T/bad/mismatch.toml" "$T/noreq"
assert_error_names "is 'test/ca', not 'test/other'"

step "no group applies: the error names each group's failing buildpack"
printf '[[buildpacks]]\nid = "test/pydeps"\npath = "../team/pydeps"\n[[order]]\ngroup = [{ id = "test/pydeps" }]\n' \
	>"$T/bad/strict.toml"
expect_exit 3 "$DSBUILD" detect --builder "$T/bad/strict.toml" "$T/noreq"
assert_error_names "no buildpack group applies" "group 1: test/pydeps: no file matches detect.files"

# ----------------------------------------------------- dsbuild buildpack new

step "dsbuild buildpack new: a declarative scaffold that builds"
ok "$DSBUILD" buildpack new acme/scaffold --dir "$T/scaffold"
assert_file "$T/scaffold/buildpack.toml"
assert_file "$T/scaffold/README.md"
assert_contains "$(cat "$T/scaffold/buildpack.toml")" 'id = "acme/scaffold"'
before=$(cat "$T/scaffold/buildpack.toml")
expect_exit 3 "$DSBUILD" buildpack new acme/scaffold --dir "$T/scaffold"
assert_error_names "already exists"
assert_eq "$before" "$(cat "$T/scaffold/buildpack.toml")" "an existing folder is left as it was"
expect_exit 3 "$DSBUILD" buildpack new 'acme/no spaces' --dir "$T/nospace"
assert_absent "$T/nospace"
build_json "$T/noreq" --buildpack "$T/scaffold" --cache-dir "$cache" -o "oci:$T/scafimg:latest"
assert_contains "$(last_json | jq -c '.buildpacks')" '{"id":"acme/scaffold","version":"0.1.0"}' \
	"the scaffold in the build's buildpacks"
prun "oci:$T/scafimg:latest"
[ "$rc" = 0 ] || fail "the scaffold's image does not run: $err"
assert_eq "train without requirements" "$out" "the default process (job)"
(cd "$T" && "$DSBUILD" buildpack new acme/in-cwd >/dev/null 2>&1) || fail "buildpack new without --dir"
assert_file "$T/in-cwd/buildpack.toml" "the default folder is the id's last part"

step "dsbuild buildpack new --cnb: buildpack.toml (api 0.10), bin/detect, bin/build"
ok "$DSBUILD" buildpack new acme/cnb-scaffold --cnb --dir "$T/cnb"
assert_contains "$(cat "$T/cnb/buildpack.toml")" 'api = "0.10"'
for f in detect build; do
	[ -x "$T/cnb/bin/$f" ] || fail "bin/$f is not executable: $(ls -l "$T/cnb/bin")"
	head -n1 "$T/cnb/bin/$f" | grep -qx '#!/bin/sh' || fail "bin/$f is not a sh script"
	sh -n "$T/cnb/bin/$f" || fail "bin/$f is not valid sh"
done
(cd "$T/noreq" && sh "$T/cnb/bin/detect") || fail "the scaffold's bin/detect does not pass"
mkdir -p "$T/cnblayers"
(cd "$T/noreq" && CNB_LAYERS_DIR=$T/cnblayers sh "$T/cnb/bin/build") ||
	fail "the scaffold's bin/build fails"
assert_eq "hello from acme/cnb-scaffold" "$(cat "$T/cnblayers/greeting/env.launch/GREETING.default")"
assert_contains "$(cat "$T/cnblayers/launch.toml")" 'type = "greet"'
# Built by dsbuild's CNB runner (lib/buildpack/cnb.c): the launch layer's env
# and the launch.toml process reach the image.
build_json "$T/noreq" --buildpack "$T/cnb" --cache-dir "$cache" -o "oci:$T/cnbimg:latest"
assert_contains "$(last_json | jq -c '.buildpacks')" '{"id":"acme/cnb-scaffold","version":"0.1.0"}' \
	"the CNB scaffold in the build's buildpacks"
prun "oci:$T/cnbimg:latest" greet
[ "$rc" = 0 ] || fail "the CNB scaffold's greet process does not run: $err"
assert_eq "hello from acme/cnb-scaffold" "$out" "the greet process"
prun "oci:$T/cnbimg:latest"
assert_eq "train without requirements" "$out" "the default process stays job"
printf '[policy]\nexecutable-buildpacks = false\n' >"$T/noexec.toml"
expect_exit 3 "$DSBUILD" detect --builder "$T/noexec.toml" --buildpack "$T/cnb" "$T/noreq"
assert_error_names "acme/cnb-scaffold" "executable buildpacks are not allowed" "$T/noexec.toml"
expect_exit 3 "$DSBUILD" buildpacks --no-exec-buildpacks --buildpack "$T/cnb" "$T/noreq"
assert_error_names "executable buildpacks are not allowed" "--no-exec-buildpacks"

# ------------------------------------------------------- dsbuild buildpacks

step "dsbuild buildpacks lists the groups, versions, origins and results"
ok "$DSBUILD" buildpacks --builder "$T/team/builder.toml" "$T/noreq"
assert_contains "$out" "order:   builder test-builder ($T/team/builder.toml)"
assert_contains "$out" "group 1: does not apply"
assert_contains "$out" "group 2: applies"
assert_match "$out" "^  \+ test/ca +2\.3\.4 +required $T/team/ca\$"
assert_match "$out" "^  - test/pydeps +0\.9\.0 +required $T/team/pydeps\$"
assert_contains "$out" "      no file matches detect.files"
assert_match "$out" '^  \+ dsbuild/python +0\.1\.0 +optional built-in$'
ok "$DSBUILD" buildpacks --json --builder "$T/team/builder.toml" "$T/noreq"
assert_eq 1 "$(jq -r .group_index <<<"$out")" "buildpacks --json group_index"
assert_eq '[[0,false],[1,true]]' "$(jq -c '[.groups[] | [.index, .applied]]' <<<"$out")" \
	"buildpacks --json groups"
assert_eq '["test/ca","2.3.4",false,true]' \
	"$(jq -c '.groups[1].buildpacks[0] | [.id, .version, .builtin, .detected]' <<<"$out")" \
	"buildpacks --json entry"
ok "$DSBUILD" buildpacks "$T/noreq"
assert_contains "$out" "order:   built-in (no builder file)"
assert_match "$out" '^  \+ dsbuild/job +0\.1\.0 +optional built-in$'
ok "$DSBUILD" buildpacks --builder "$EX/builder/builder.toml" "$EX/flask-sklearn"
assert_match "$out" "^  \+ acme/company-ca +1\.0\.0 +required $EX/team-buildpack/company-ca\$"
assert_match "$out" "^  - acme/gpu-notice +1\.0\.0 +optional $EX/team-buildpack/gpu-notice\$"

# ------------------------------------------- regressions: bugs found by this test, fixed

step "fixed bugs stay fixed (each names the file that had it)"
# lib/buildpack/plan.c load_groups: the project's `buildpacks` folders are
# taken from the working directory, not from the project's folder (as its
# `builder` is), so the same project detects from one folder and not another.
bug_project_buildpacks_from_cwd() {
	mkdir -p "$T/projbp"
	cp -r "$T/team/ca" "$T/projbp/teambp"
	printf 'print(1)\n' >"$T/projbp/train.py"
	printf 'buildpacks = ["teambp"]\n' >"$T/projbp/dsbuild.toml"
	cd /
	expect_exit 0 "$DSBUILD" detect --json "$T/projbp"
	assert_eq "test/ca" "$(jq -r '.group[] | select(.id == "test/ca") | .id' <<<"$out")"
}
soft bug_project_buildpacks_from_cwd

# lib/buildpack/plan.c load_builder: `base` inside [builder] is ignored
# without a word (only a top-level `base` works); it should apply, or
# unknown keys of [builder] should be an error.
bug_builder_table_base_ignored() {
	printf '[builder]\nname = "x"\nbase = "debian:trixie"\n' >"$T/bad/inner-base.toml"
	run "$DSBUILD" detect --json --builder "$T/bad/inner-base.toml" "$T/noreq"
	[ "$rc" != 0 ] || assert_eq debian:trixie "$(jq -r .base.ref <<<"$out")" "[builder] base"
}
soft bug_builder_table_base_ignored

# lib/build.c ds_build: the builder's [python] index-url is used as if it
# were --index-url, so it overrides the project's own requirements.txt
# --index-url (precedence is flags > project > builder).
bug_builder_index_over_project() {
	mkdir -p "$T/idxproj"
	printf -- '--index-url http://127.0.0.1:9/from-project/simple\nsomepkg\n' \
		>"$T/idxproj/requirements.txt"
	printf 'base = "debian:bookworm"\n[python]\nindex-url = "http://127.0.0.1:9/from-builder/simple"\n' \
		>"$T/idxbuilder.toml"
	run "$DSBUILD" build "$T/idxproj" --builder "$T/idxbuilder.toml" --cache-dir "$cache" \
		-o "oci:$T/idximg:latest"
	[ "$rc" != 0 ] || fail "a build from an unreachable index succeeded"
	assert_contains "$err" "127.0.0.1:9/from-project/simple/somepkg" \
		"the project's index is the one tried"
}
soft bug_builder_index_over_project

# lib/build.c ds_build: on a base without a known Python, when there are
# processes, every runtime file is dropped with them, a team buildpack's
# [[files]] (the CA certificate) included; only the launcher's and the
# predict server's need Python.
bug_files_dropped_without_python() {
	build_json "$T/noreq" --base scratch --buildpack "$EX/team-buildpack/company-ca" \
		-o "oci:$T/scratchca:latest"
	local all="" i n
	n=$(last_json | jq '.layers | length')
	for ((i = 0; i < n; i++)); do
		all+=$(layer_names "$T/scratchca" latest "$i")$'\n'
	done
	assert_contains "$all" "etc/ssl/certs/9ba7ef28.0" "the team CA on a scratch base"
}
soft bug_files_dropped_without_python

# lib/detect/facts.c accepts the project setting `exclude`, and nothing
# applies it: the files it names still go into the image.
bug_project_exclude_ignored() {
	mkdir -p "$T/exproj"
	echo keep >"$T/exproj/keep.txt"
	echo drop >"$T/exproj/drop.txt"
	printf 'exclude = ["drop.txt"]\n' >"$T/exproj/dsbuild.toml"
	build_json "$T/exproj" --base scratch -o "oci:$T/eximg:latest"
	assert_not_contains "$(layer_names "$T/eximg" latest)" "workspace/drop.txt" \
		"a file the project's exclude names"
}
soft bug_project_exclude_ignored
step "a template file gets the env's values; an unknown name is an error"
mkdir -p "$T/tmpl/bp/files"
cat >"$T/tmpl/bp/buildpack.toml" <<'EOF'
[buildpack]
id = "test/template"
version = "1.0.0"
[contributes]
env = { ACME_INDEX = "https://pypi.acme.example/simple" }
[[files]]
source = "files/pip.conf"
target = "/etc/pip.conf"
mode = "0644"
template = true
EOF
printf '[global]\nindex-url = ${ACME_INDEX}\n' >"$T/tmpl/bp/files/pip.conf"
mkdir -p "$T/tmpl/proj"
echo 'print(1)' >"$T/tmpl/proj/main.py"
build_json "$T/tmpl/proj" --base scratch --buildpack "$T/tmpl/bp" -o "oci:$T/tmpl/img:latest"
assert_eq $'[global]\nindex-url = https://pypi.acme.example/simple' \
	"$(tar -xzOf "$(layer_blob "$T/tmpl/img" latest -2)" etc/pip.conf)" "the template, filled"
printf '[global]\nindex-url = ${NOT_SET_ANYWHERE}\n' >"$T/tmpl/bp/files/pip.conf"
expect_exit 3 "$DSBUILD" build "$T/tmpl/proj" --base scratch --buildpack "$T/tmpl/bp" \
	-o "oci:$T/tmpl/never:latest"
assert_error_names "test/template" "NOT_SET_ANYWHERE"
[ ! -e "$T/tmpl/never" ] || fail "a failed template left an output"
soft_done
