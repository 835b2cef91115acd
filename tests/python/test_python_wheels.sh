#!/bin/bash
# Wheels that must not be installed, through `dsbuild build`: a '../' path,
# an absolute path, a RECORD that does not match, a file RECORD does not
# list; and wheels named directly in requirements.txt: a local path and an
# http URL with its #sha256.
. "$(dirname "$0")/lib-python.sh"
unset DSBUILD_BASE
py_cache

w=$T/wheels
mkwheel "$w" dotdot 1.0 --evil '../../../../tmp/dsbuild-evil.txt'
mkwheel "$w" absolute 1.0 --evil '/tmp/dsbuild-evil-abs.txt'
mkwheel "$w" badrecord 1.0 --bad-record
mkwheel "$w" fine 1.0 --script fine=fine:main
mkwheel "$w" fine 2.0
mkindex "$w" "$T/idx"
serve "$T/idx"
src=$T/proj
mkdir -p "$src"
echo 'print("app")' >"$src/main.py"
pybuild() {
	run "$DSBUILD" build --json "$src" --cache-dir "$PYCACHE" -o "oci:$T/img:latest" "$@"
}

for p in dotdot absolute; do
	step "$p: refused"
	printf '%s\n' "$p" >"$src/requirements.txt"
	pybuild --index-url "$INDEX/simple"
	[ "$rc" = 4 ] || fail "$p: exit $rc: $err"
	assert_error_names "unsafe path" "$p-1.0-py3-none-any.whl"
	assert_absent /tmp/dsbuild-evil.txt
	assert_absent /tmp/dsbuild-evil-abs.txt
done

step "RECORD mismatch: refused"
printf 'badrecord\n' >"$src/requirements.txt"
pybuild --index-url "$INDEX/simple"
[ "$rc" = 4 ] || fail "bad RECORD: exit $rc: $err"
assert_error_names "badrecord/__init__.py" "does not match its hash in RECORD"

step "nothing half-made is left in the cache"
[ -z "$(find "$PYCACHE" -maxdepth 1 -name '.pydeps.tmp-*' -print -quit)" ] ||
	fail "staging folders left in the cache: $(find "$PYCACHE" -maxdepth 1 -name '.pydeps.tmp-*')"

step "a local wheel path in requirements.txt"
mkdir -p "$src/wheels"
cp "$w/fine-1.0-py3-none-any.whl" "$src/wheels/"
printf './wheels/fine-1.0-py3-none-any.whl\n' >"$src/requirements.txt"
pybuild --no-index
[ "$rc" = 0 ] || fail "local wheel: $err"
printf '%s' "$out" | jq -e '.python.packages == [{"name":"fine","version":"1.0","filename":"fine-1.0-py3-none-any.whl","sha256":.python.packages[0].sha256,"requested":true}]' >/dev/null ||
	fail "local wheel: $(printf '%s' "$out" | jq -c .python)"

step "a wheel URL with its sha256"
rm -rf "$src/wheels"
h=$(sha256sum "$T/idx/files/fine-1.0-py3-none-any.whl" | cut -d' ' -f1)
printf 'fine @ %s/files/fine-1.0-py3-none-any.whl#sha256=%s\n' "$INDEX" "$h" >"$src/requirements.txt"
pybuild --no-index
[ "$rc" = 0 ] || fail "wheel URL: $err"
assert_eq "fine==1.0" "$(printf '%s' "$out" | jq -r '.python.packages[] | "\(.name)==\(.version)"')" "from the URL"
printf 'fine @ %s/files/fine-1.0-py3-none-any.whl#sha256=%s\n' "$INDEX" "$(printf 'e%.0s' $(seq 64))" >"$src/requirements.txt"
pybuild --no-index --no-cache
[ "$rc" = 4 ] || fail "wheel URL with a wrong sha256: exit $rc: $err"
assert_error_names "fine-1.0-py3-none-any.whl" "sha256"
