#!/bin/bash
# Resolution through `dsbuild build` on the default Debian base with a local
# index of generated wheels: conflicts reported with both sides, backtracking,
# yanked files, markers and extras, source-only projects, bad hashes and
# hash-checking mode, pyproject.toml (+ optional groups), pylock.toml written
# and read back, --no-index --find-links, PIP_INDEX_URL and pip.conf, and
# credentials kept out of the image, the cache key and the output.
. "$(dirname "$0")/lib-python.sh"
unset DSBUILD_BASE
py_cache

w=$T/wheels
mkwheel "$w" scikit_learn 1.5 --dep 'numpy>=1.22'
mkwheel "$w" scikit_learn 1.4 --dep 'numpy>=1.22'
mkwheel "$w" numpy 1.21
mkwheel "$w" numpy 1.26
mkwheel "$w" beta 1.0
mkwheel "$w" beta 3.0
mkwheel "$w" left 1.0
mkwheel "$w" left 2.0 --dep 'pin==1'
mkwheel "$w" right 1.0 --dep 'pin==2'
mkwheel "$w" pin 1
mkwheel "$w" pin 2
mkwheel "$w" fancy 1.0 --dep 'winonly ; sys_platform == "win32"' --dep 'oldpy ; python_version < "3.8"' \
	--extra 'plot:beta'
mkwheel "$w" tampered 1.0
mkwheel "$w" newpy 1.0 --requires-python '>=3.12'
mkwheel "$w" newpy 0.9 --requires-python '>=3.8'
python3 "$PYTESTS/pyindex.py" sdist "$w" srconly 1.0 >/dev/null
# 100 dependencies: the resolver's list of needs grows past its first capacity
deps=()
for i in $(seq 0 99); do
	mkwheel "$w" "leaf$i" 1.0
	deps+=(--dep "leaf$i")
done
mkwheel "$w" top 1.0 "${deps[@]}"
mkindex "$w" "$T/idx" --yank beta-3.0-py3-none-any.whl
# the file changes after the index page recorded its hash
mkwheel "$T/other" tampered 1.0 --file 'x.txt=changed'
cp "$T/other/tampered-1.0-py3-none-any.whl" "$T/idx/files/"
serve "$T/idx"
src=$T/proj
mkdir -p "$src"
echo 'print("app")' >"$src/main.py"

# pybuild [dsbuild args]: build $src; JSON in $out on success
pybuild() {
	run "$DSBUILD" build --json "$src" --cache-dir "$PYCACHE" -o "oci:$T/img:latest" "$@"
}
resolved() {
	printf '%s' "$out" | jq -r '[.python.packages[] | "\(.name)==\(.version)"] | join(" ")'
}

step "a conflict names both sides and the line"
printf 'scikit-learn\nnumpy==1.21\n' >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
assert_eq 3 "$rc" "exit code of a conflict"
assert_error_names "scikit-learn 1.5 requires numpy>=1.22, but requirements.txt line 2 asks for numpy==1.21"
assert_contains "$err" "hint: "

step "backtracking"
printf 'left\nright\n' >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
[ "$rc" = 0 ] || fail "backtracking: $err"
assert_eq "left==1.0 pin==2 right==1.0" "$(resolved)" "resolved set"

step "yanked files only when pinned; markers; extras; requires-python"
printf 'beta\nfancy\nnewpy\n' >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
[ "$rc" = 0 ] || fail "$err"
assert_eq "beta==1.0 fancy==1.0 newpy==0.9" "$(resolved)" "yanked 3.0 skipped, markers false, newpy 1.0 needs 3.12"
printf 'beta==3.0\nfancy[plot]\n' >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
[ "$rc" = 0 ] || fail "$err"
assert_eq "beta==3.0 fancy==1.0" "$(resolved)" "a pinned yanked file; the extra pulls beta"

step "a source-only project: an error that says what to do"
printf 'srconly\n' >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
[ "$rc" != 0 ] || fail "a source-only project was accepted"
assert_error_names "'srconly'" "requirements.txt line 1" "source archive"
assert_contains "$err" "--find-links"
printf -- '-e ./mypkg\n' >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
[ "$rc" != 0 ] || fail "an editable was accepted"
assert_error_names "requirements.txt line 1" "editable"

step "a file that does not match the index's sha256 is refused"
printf 'tampered\n' >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple" --no-cache
[ "$rc" = 4 ] || fail "tampered wheel: exit $rc: $err"
assert_error_names "tampered-1.0-py3-none-any.whl" "sha256"

step "hash-checking mode"
good=$(sha256sum "$T/idx/files/numpy-1.26-py3-none-any.whl" | cut -d' ' -f1)
printf 'numpy==1.26 --hash=sha256:%s\n' "$(printf '0%.0s' $(seq 64))" >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
[ "$rc" = 4 ] || fail "a wrong --hash: exit $rc: $err"
assert_error_names "numpy-1.26-py3-none-any.whl" "matches none of the --hash values" "requirements.txt line 1"
printf 'numpy==1.26 --hash=sha256:%s\n' "$good" >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
[ "$rc" = 0 ] || fail "the right --hash was refused: $err"
sk=$(sha256sum "$T/idx/files/scikit_learn-1.5-py3-none-any.whl" | cut -d' ' -f1)
printf 'scikit-learn==1.5 --hash=sha256:%s\n' "$sk" >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
[ "$rc" != 0 ] || fail "hash-checking mode accepted an unpinned dependency"
assert_error_names "'numpy' 1.26 is needed" "not pinned with a hash"

step "pyproject.toml dependencies and an optional group"
rm "$src/requirements.txt"
cat >"$src/pyproject.toml" <<'TOML'
[project]
name = "app"
version = "0.1"
dependencies = ["scikit-learn>=1.4", "fancy"]
[project.optional-dependencies]
Plot = ["beta<2"]
TOML
pybuild --index-url "$INDEX/simple"
[ "$rc" = 0 ] || fail "pyproject: $err"
assert_eq "fancy==1.0 numpy==1.26 scikit-learn==1.5" "$(resolved)" "pyproject dependencies"
pybuild --index-url "$INDEX/simple" --group plot --lock "$T/pylock.toml"
[ "$rc" = 0 ] || fail "pyproject with a group: $err"
assert_eq "beta==1.0 fancy==1.0 numpy==1.26 scikit-learn==1.5" "$(resolved)" "with [plot]"
pybuild --index-url "$INDEX/simple" --group nope
[ "$rc" = 3 ] || fail "an unknown group: exit $rc"
assert_error_names "nope"

step "pylock.toml written, then used"
assert_file "$T/pylock.toml"
python3 -c 'import sys, tomllib; d = tomllib.load(open(sys.argv[1], "rb")); assert d["lock-version"] == "1.0"; print(" ".join(p["name"] + "==" + p["version"] for p in d["packages"])); assert all(p["wheels"][0]["hashes"]["sha256"] for p in d["packages"])' "$T/pylock.toml" >"$T/lock.txt" ||
	fail "pylock.toml is not valid TOML / PEP 751: $(cat "$T/pylock.toml")"
assert_eq "beta==1.0 fancy==1.0 numpy==1.26 scikit-learn==1.5" "$(cat "$T/lock.txt")" "lock contents"
cp "$T/pylock.toml" "$src/pylock.toml"
pybuild --index-url "$INDEX/simple"
[ "$rc" = 0 ] || fail "pylock.toml: $err"
assert_eq "beta==1.0 fancy==1.0 numpy==1.26 scikit-learn==1.5" "$(resolved)" "from the lock file"
sed -i "s/$(sha256sum "$T/idx/files/numpy-1.26-py3-none-any.whl" | cut -d' ' -f1)/$(printf 'f%.0s' $(seq 64))/" "$src/pylock.toml"
pybuild --index-url "$INDEX/simple"
[ "$rc" = 4 ] || fail "a lock file hash that matches no file: exit $rc: $err"
assert_error_names "numpy-1.26-py3-none-any.whl" "matches none of" "pylock.toml"
rm "$src/pylock.toml" "$src/pyproject.toml"

step "--no-index --find-links, PIP_INDEX_URL, pip.conf"
printf 'numpy<1.26\n' >"$src/requirements.txt"
pybuild --no-index --find-links "$T/nowhere"
[ "$rc" = 3 ] || fail "a missing --find-links folder: exit $rc: $err"
assert_error_names "$T/nowhere"
pybuild --no-index --find-links "$w"
[ "$rc" = 0 ] || fail "find-links: $err"
assert_eq "numpy==1.21" "$(resolved)" "from a folder"
cd "$T"
pybuild --no-index --find-links wheels
cd - >/dev/null
[ "$rc" = 0 ] || fail "a relative --find-links is relative to the working directory: $err"
assert_eq "numpy==1.21" "$(resolved)" "from ./wheels"
PIP_INDEX_URL=$INDEX/simple pybuild
[ "$rc" = 0 ] || fail "PIP_INDEX_URL: $err"
assert_eq "numpy==1.21" "$(resolved)" "from PIP_INDEX_URL"
mkdir -p "$HOME/.config/pip"
printf '[global]\nindex-url = %s/simple\n' "$INDEX" >"$HOME/.config/pip/pip.conf"
pybuild
[ "$rc" = 0 ] || fail "pip.conf: $err"
assert_eq "numpy==1.21" "$(resolved)" "from pip.conf"
rm "$HOME/.config/pip/pip.conf"

step "credentials never reach the image, the cache key or the output"
cred_url=http://alice:s3cr3tpw@127.0.0.1:${INDEX##*:}/simple
pybuild --index-url "$cred_url" --no-cache
[ "$rc" = 0 ] || fail "index with credentials: $err"
assert_not_contains "$out$err" "s3cr3tpw"
for f in "$T"/img/blobs/sha256/* ; do
	if zcat -f "$f" 2>/dev/null | grep -a s3cr3tpw >/dev/null; then fail "a blob holds the password: $f"; fi
done
if grep -rq s3cr3tpw "$PYCACHE/layers" 2>/dev/null; then fail "the layer cache holds the password"; fi
pybuild --index-url "http://alice:s3cr3tpw@127.0.0.1:1/simple"
[ "$rc" = 6 ] || fail "unreachable index: exit $rc: $err"
assert_not_contains "$err" "s3cr3tpw"
assert_contains "$err" "http://127.0.0.1:1/simple/numpy/"

step "a project with 100 dependencies (the list of needs grows while a pin is tried)"
printf 'top\n' >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
assert_eq 0 "$rc" "exit code with 100 dependencies (a use-after-free crashed here): $err"
assert_eq 101 "$(printf '%s' "$out" | jq '.python.packages | length')" "packages resolved"
