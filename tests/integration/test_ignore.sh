#!/bin/bash
# Ignore rules and secrets: .dsbuildignore (gitignore syntax, ! re-includes),
# .dockerignore (Docker syntax) only without a .dsbuildignore; .git,
# __pycache__, .ipynb_checkpoints and virtualenvs always left out; likely
# secrets left out with a warning naming each, unless re-included.
. "$(dirname "$0")/lib.sh"
need jq jq
need git git
need tar tar

# in_layer DIR PATH / not_in_layer DIR PATH (PATH relative to /workspace)
# (names listed once per layout)
names_of() {
	local f=$1/.names
	[ -f "$f" ] || layer_names "$1" latest >"$f"
	cat "$f"
}
layer_has() {
	grep -qxF -e "workspace/$2" -e "workspace/$2/" "$1/.names"
}
in_layer() {
	names_of "$1" >/dev/null
	layer_has "$@" || fail "'$2' should be in the layer; it has:
$(sed 's/^/    /' "$1/.names")"
}
not_in_layer() {
	names_of "$1" >/dev/null
	! layer_has "$@" || fail "'$2' should not be in the layer"
	! grep -qF "workspace/$2/" "$1/.names" || fail "'$2' (a folder) should not be in the layer"
}

src=$T/src
mkdir -p "$src"
cd "$src"
mkdir -p pkg/__pycache__ __pycache__ .ipynb_checkpoints nb/.ipynb_checkpoints venv/bin \
	tools/myenv/lib data logs build sub config certs keys .aws .ssh .docker .kube venvlike
echo 'print(1)' >main.py
echo x >pkg/mod.py
echo pyc >pkg/__pycache__/mod.cpython-311.pyc
echo pyc >__pycache__/main.cpython-311.pyc
echo '{}' >.ipynb_checkpoints/a-checkpoint.ipynb
echo '{}' >nb/.ipynb_checkpoints/b-checkpoint.ipynb
echo '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}' >nb/b.ipynb
echo 'home = /usr/bin' >venv/pyvenv.cfg
echo x >venv/bin/python
echo 'home = /usr/bin' >tools/myenv/pyvenv.cfg
echo x >tools/myenv/lib/x.py
echo 'not a venv' >venvlike/README # a folder named like one but without pyvenv.cfg
echo a >data/big.csv
echo b >data/keep.csv
echo c >data/readme.txt
echo log >logs/a.log
echo log >top.log
echo log >sub/deep.log
echo o >build/out.o
echo n >notes.md
echo n >sub/notes.md
git init -q .
# secrets
echo 'TOKEN=1' >.env
echo 'TOKEN=2' >.env.production
echo k >config/id_rsa
echo k >config/id_rsa.pub
echo k >id_ed25519
echo k >certs/x.pem
echo k >keys/server.key
echo k >.aws/credentials
echo k >.ssh/config
echo k >.netrc
echo k >.pypirc
echo k >.git-credentials
echo '{"auths":{}}' >.docker/config.json
echo k >cert.p12
echo k >cert.pfx
echo k >.kube/config
cd - >/dev/null

secrets=(.env.production config/id_rsa config/id_rsa.pub id_ed25519 certs/x.pem keys/server.key
	.aws .ssh .netrc .pypirc .git-credentials .docker/config.json cert.p12 cert.pfx .kube)
always=(.git __pycache__ pkg/__pycache__ .ipynb_checkpoints nb/.ipynb_checkpoints venv tools/myenv)

step "no ignore file: always-out paths and secrets left out"
build_json "$src" -o "oci:$T/o1:latest"
json=$out
stderr=$err
for p in main.py pkg/mod.py nb/b.ipynb data/big.csv top.log sub/deep.log build/out.o notes.md \
	venvlike/README; do
	in_layer "$T/o1" "$p"
done
for p in "${always[@]}" "${secrets[@]}" .env; do
	not_in_layer "$T/o1" "$p"
done
for p in "${secrets[@]}" .env; do
	assert_contains "$stderr" "warning: leaving out '$p'" "a warning names the secret '$p'"
done
assert_contains "$stderr" "add '!.env' to .dsbuildignore" "the warning says how to include it"
for p in "${always[@]}"; do
	assert_not_contains "$stderr" "'$p'" "no warning for '$p' (always left out, not a secret)"
done
step "--json lists what was skipped and why"
for p in "${always[@]}" "${secrets[@]}" .env; do
	jq -e --arg p "$p" '.skipped | map(.path) | index($p)' <<<"$json" >/dev/null ||
		fail "--json skipped has no '$p': $(jq -c .skipped <<<"$json")"
done
sr=$(jq -r '.skipped[] | select(.path == ".env") | .reason' <<<"$json")
gr=$(jq -r '.skipped[] | select(.path == ".git") | .reason' <<<"$json")
assert_ne "$sr" "$gr" "a secret and .git are skipped for different reasons"
assert_eq "$sr" "$(jq -r '.skipped[] | select(.path == "certs/x.pem") | .reason' <<<"$json")" \
	"every secret has the same reason"

step ".dsbuildignore: gitignore syntax with ! re-includes"
cat >"$src/.dsbuildignore" <<'EOF'
# a comment, then a blank line

*.log
data/*.csv
!data/keep.csv
build/
/notes.md
!.env
EOF
build_json "$src" -o "oci:$T/o2:latest"
stderr=$err
for p in top.log logs/a.log sub/deep.log data/big.csv build notes.md; do
	not_in_layer "$T/o2" "$p"
done
for p in main.py data/keep.csv data/readme.txt sub/notes.md .env logs; do
	in_layer "$T/o2" "$p"
done
[ "$(tar -xOzf "$(layer_blob "$T/o2" latest)" workspace/.env)" = "TOKEN=1" ] || fail ".env content"
assert_not_contains "$stderr" "'.env'" "no warning for the re-included .env"
assert_contains "$stderr" "'.env.production'" "other secrets still warned"
not_in_layer "$T/o2" .env.production
for p in "${always[@]}"; do
	not_in_layer "$T/o2" "$p"
done

step "a negation that re-includes a secret folder's file"
printf '!.aws/\n!.aws/credentials\n' >>"$src/.dsbuildignore"
build_json "$src" -o "oci:$T/o2b:latest"
in_layer "$T/o2b" .aws/credentials
assert_not_contains "$err" "'.aws" "no warning once .aws is re-included"

step ".dockerignore (Docker syntax) when there is no .dsbuildignore"
rm "$src/.dsbuildignore"
cat >"$src/.dockerignore" <<'EOF'
*.log
data/big.csv
**/notes.md
!.env
EOF
build_json "$src" -o "oci:$T/o3:latest"
not_in_layer "$T/o3" top.log
in_layer "$T/o3" sub/deep.log     # Docker: *.log matches at the top only
in_layer "$T/o3" logs/a.log
not_in_layer "$T/o3" data/big.csv
not_in_layer "$T/o3" notes.md
not_in_layer "$T/o3" sub/notes.md
in_layer "$T/o3" .env
in_layer "$T/o3" build/out.o
not_in_layer "$T/o3" .git
not_in_layer "$T/o3" venv

step ".dsbuildignore wins over .dockerignore"
printf 'build/\n' >"$src/.dsbuildignore"
build_json "$src" -o "oci:$T/o4:latest"
in_layer "$T/o4" top.log            # .dockerignore not read
in_layer "$T/o4" data/big.csv
not_in_layer "$T/o4" build
not_in_layer "$T/o4" .env           # no !.env any more: left out again
assert_contains "$err" "warning: leaving out '.env'"

step "the skipped list changes nothing else: same digest from a tree without them"
clean=$T/clean
mkdir -p "$clean"
(cd "$src" && tar -cf - --exclude=.git --exclude=__pycache__ --exclude=.ipynb_checkpoints \
	--exclude=./venv --exclude=./tools/myenv .) | tar -xf - -C "$clean"
for p in "${secrets[@]}" .env; do rm -rf "${clean:?}/$p"; done
assert_eq "$(layer_names "$T/o4" latest)" "$(build_json "$clean" -o "oci:$T/o5:latest" >/dev/null;
	layer_names "$T/o5" latest)" "layer of the tree without the skipped files"

step "-q silences warnings"
run "$DSBUILD" build -q "$src" -o "oci:$T/o6:latest"
assert_eq 0 "$rc" "exit of -q build"
assert_eq "" "$err" "-q prints nothing, not even warnings"
