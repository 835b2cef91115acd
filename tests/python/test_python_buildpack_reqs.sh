#!/bin/bash
# Python requirements a declarative buildpack contributes ([contributes]
# python = [...]): resolved with the project's, installed into /opt/venv, named
# with the buildpack as their origin; alone when the project has no
# requirements file; a bad requirement names the buildpack.
. "$(dirname "$0")/lib-python.sh"
podman_env
unset DSBUILD_BASE
py_cache

w=$T/wheels
mkwheel "$w" alpha 1.0
mkwheel "$w" alpha 2.0
mkwheel "$w" beta 1.0
mkindex "$w" "$T/idx"
serve "$T/idx"

bp=$T/bp
mkdir -p "$bp"
cat >"$bp/buildpack.toml" <<'TOML'
[buildpack]
id = "test/telemetry"
version = "1.0.0"
[contributes]
python = ["alpha<2"]
TOML

src=$T/proj
mkdir -p "$src"
printf 'beta\n' >"$src/requirements.txt"
printf 'import alpha, beta\nprint("alpha", alpha.__version__, "beta", beta.__version__)\n' >"$src/main.py"

step "the buildpack's requirement joins the project's"
build_json "$src" --buildpack "$bp" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" \
	-o "oci:$T/img:latest" --cmd 'python main.py'
assert_eq "alpha==1.0 beta==1.0" \
	"$(last_json | jq -r '[.python.packages[] | "\(.name)==\(.version)"] | join(" ")')" "resolved"
prun "oci:$T/img:latest"
[ "$rc" = 0 ] || fail "the image does not run: $err"
assert_eq "alpha 1.0 beta 1.0" "$out" "imports"

step "a project without a requirements file gets the buildpack's alone"
rm "$src/requirements.txt"
build_json "$src" --buildpack "$bp" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" \
	-o "oci:$T/img2:latest"
assert_eq "alpha==1.0" \
	"$(last_json | jq -r '[.python.packages[] | "\(.name)==\(.version)"] | join(" ")')" "resolved"

step "a bad requirement names the buildpack; no output is left"
sed -i 's/"alpha<2"/"alpha<<2"/' "$bp/buildpack.toml"
run "$DSBUILD" build "$src" --buildpack "$bp" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" \
	-o "oci:$T/never:latest"
assert_eq 3 "$rc" "exit code: $err"
assert_error_names "test/telemetry" "alpha<<2"
[ ! -e "$T/never" ] || fail "a failed build left its output"
