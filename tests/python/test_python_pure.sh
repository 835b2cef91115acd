#!/bin/bash
# requirements.txt with pinned and unpinned pure-Python wheels from a local
# PEP 503 index -> a venv layer on the default Debian base; runs under podman
# (console script, import, sys.prefix); a rebuild with the same requirements
# reuses the dependency layer; a code edit changes only the app layer.
. "$(dirname "$0")/lib-python.sh"
podman_env
unset DSBUILD_BASE
py_cache

w=$T/wheels
mkwheel "$w" alpha 1.0 --dep 'beta>=1.0' --script alpha=alpha:main
mkwheel "$w" alpha 2.0 --dep 'beta>=2.0' --dep 'gamma ; python_version < "3.0"' \
	--script alpha-cli=alpha:main --data-script alpha-data
mkwheel "$w" beta 1.0
mkwheel "$w" beta 2.0
mkwheel "$w" beta 3.0
mkwheel "$w" Delta_Pkg 0.5
mkwheel "$w" delta-pkg 0.6 --tag cp27-cp27mu-manylinux1_x86_64
mkindex "$w" "$T/idx" --yank beta-3.0-py3-none-any.whl
serve "$T/idx"

src=$T/proj
mkdir -p "$src"
printf '# pure python\nalpha\nDelta.Pkg == 0.5\n' >"$src/requirements.txt"
cat >"$src/main.py" <<'PY'
import sys, alpha, beta, delta_pkg
print("prefix", sys.prefix, "alpha", alpha.__version__, "beta", beta.__version__,
      "delta", delta_pkg.__version__)
PY

step "build with a local index"
build_json "$src" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" -o "oci:$T/img:latest" \
	--cmd 'python main.py'
first=$(last_json)
validate_image "$T/img" latest
printf '%s' "$first" | jq -e '.python.packages | map("\(.name)==\(.version)") == ["alpha==2.0","beta==2.0","delta-pkg==0.5"]' >/dev/null ||
	fail "resolved set: $(printf '%s' "$first" | jq -c .python)"
# layers: base..., python, the buildpacks' runtime files (launcher), app
printf '%s' "$first" | jq -e '[.layers[].created_by] | .[-3] | startswith("dsbuild: python packages in /opt/venv")' >/dev/null ||
	fail "the dependency layer is not just before the buildpack and app layers: $(printf '%s' "$first" | jq -c '[.layers[].created_by]')"
printf '%s' "$first" | jq -e '[.layers[].created_by] | .[-2] | startswith("dsbuild: buildpack runtime files")' >/dev/null ||
	fail "no buildpack runtime layer before the app layer: $(printf '%s' "$first" | jq -c '[.layers[].created_by]')"

step "the config: PATH, VIRTUAL_ENV, metadata label"
cfg=$(config_of "$T/img" latest)
printf '%s' "$cfg" | jq -e '.config.Env | index("VIRTUAL_ENV=/opt/venv") != null' >/dev/null ||
	fail "no VIRTUAL_ENV: $(printf '%s' "$cfg" | jq -c .config.Env)"
printf '%s' "$cfg" | jq -e '.config.Env[] | select(startswith("PATH=")) | startswith("PATH=/opt/venv/bin:")' >/dev/null ||
	fail "PATH does not start with /opt/venv/bin: $(printf '%s' "$cfg" | jq -c .config.Env)"
printf '%s' "$cfg" | jq -e '.config.Labels["io.dsbuild.metadata"] | fromjson | .python.packages | length == 3' >/dev/null ||
	fail "no python packages in the metadata label"

step "run it with podman"
prun "oci:$T/img:latest"
[ "$rc" = 0 ] || fail "the image does not run: $err"
assert_eq "prefix /opt/venv alpha 2.0 beta 2.0 delta 0.5" "$out" "main.py output"
prun "oci:$T/img:latest" alpha-cli
[ "$rc" = 0 ] || fail "console script: $err"
assert_eq "alpha 2.0 main" "$out" "console script output"
prun "oci:$T/img:latest" alpha-data
[ "$rc" = 0 ] || fail ".data/scripts script: $err"
assert_eq "data script /opt/venv" "$out" ".data script output"
prun "oci:$T/img:latest" python -c 'import importlib.metadata as m; d = m.distribution("alpha"); print(d.read_text("INSTALLER").strip(), d.read_text("REQUESTED") is not None, m.distribution("beta").read_text("REQUESTED"))'
[ "$rc" = 0 ] || fail "importlib.metadata: $err"
assert_eq "dsbuild True None" "$out" "INSTALLER / REQUESTED"
prun "oci:$T/img:latest" python -m pip --version
[ "$rc" != 0 ] || fail "pip should not be in the venv (nothing installed it): $out"

step "a rebuild with unchanged requirements reuses the dependency layer"
echo 'print("edited")' >>"$src/main.py"
build_json "$src" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" -o "oci:$T/img2:latest" \
	--cmd 'python main.py'
second=$(last_json)
printf '%s' "$second" | jq -e '.python.cached == true and (.layers[-2].cached == true)' >/dev/null ||
	fail "the dependency layer was rebuilt: $(printf '%s' "$second" | jq -c '{python: .python.cached, layers: [.layers[] | {created_by, cached}]}')"
assert_eq "$(printf '%s' "$first" | jq -r '.layers[-2].digest')" \
	"$(printf '%s' "$second" | jq -r '.layers[-2].digest')" "dependency layer after a code edit"
assert_ne "$(printf '%s' "$first" | jq -r '.layers[-1].digest')" \
	"$(printf '%s' "$second" | jq -r '.layers[-1].digest')" "app layer after a code edit"

step "a new source epoch (a commit) does not rebuild the dependency layer"
SOURCE_DATE_EPOCH=1700000000 build_json "$src" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" \
	-o "oci:$T/img5:latest"
last_json | jq -e '.python.cached == true' >/dev/null || fail "rebuilt for a new epoch"
assert_eq "$(printf '%s' "$first" | jq -r '.layers[-2].digest')" \
	"$(last_json | jq -r '.layers[-2].digest')" "dependency layer with another epoch"

step "the human output names each package"
ok "$DSBUILD" build "$src" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" -o "oci:$T/img4:latest"
assert_contains "$err" "python: alpha==2.0 (alpha-2.0-py3-none-any.whl)"
assert_contains "$err" "python: beta==2.0 (beta-2.0-py3-none-any.whl)"
assert_match "$err" 'layer python: sha256:[0-9a-f]+ .* \(cached\)'

step "--no-cache rebuilds the same layer bit for bit"
build_json "$src" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" -o "oci:$T/img3:latest" \
	--cmd 'python main.py' --no-cache
assert_eq "$(printf '%s' "$first" | jq -r '.layers[-2].digest')" \
	"$(last_json | jq -r '.layers[-2].digest')" "dependency layer rebuilt with --no-cache"
