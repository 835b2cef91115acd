#!/bin/bash
# An index that wants HTTP Basic credentials and speaks PEP 691 JSON:
# credentials from the URL and from .netrc are sent, a wrong password is
# exit 5 with a hint, and the password never shows in the output, the
# image or the layer cache.
. "$(dirname "$0")/lib-python.sh"
unset DSBUILD_BASE
py_cache

w=$T/wheels
mkwheel "$w" alpha 1.0 --dep 'beta>=1'
mkwheel "$w" beta 1.0
mkwheel "$w" beta 2.0
mkindex "$w" "$T/idx" --yank beta-2.0-py3-none-any.whl
port=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
python3 "$PYTESTS/authserver.py" "$T/idx" "$port" alice 'p4ss:w0rd' 2>"$T/auth.log" &
at_exit "kill $!"
for _ in $(seq 50); do
	curl -s -o /dev/null "http://127.0.0.1:$port/" && break
	sleep 0.1
done
src=$T/proj
mkdir -p "$src"
printf 'alpha\n' >"$src/requirements.txt"
pybuild() {
	run "$DSBUILD" build --json "$src" --cache-dir "$PYCACHE" -o "oci:$T/img:latest" "$@"
}

step "no credentials: 401 is an authentication error"
pybuild --index-url "http://127.0.0.1:$port/simple"
[ "$rc" = 5 ] || fail "exit $rc: $err"
assert_error_names "refused the credentials"

step "credentials in the URL (percent-encoded), PEP 691 JSON pages"
pybuild --index-url "http://alice:p4ss%3Aw0rd@127.0.0.1:$port/simple" --no-cache
[ "$rc" = 0 ] || fail "$err"
assert_eq "alpha==1.0 beta==1.0" "$(printf '%s' "$out" | jq -r '[.python.packages[] | "\(.name)==\(.version)"] | join(" ")')" \
	"resolved (yanked beta 2.0 skipped from the JSON page)"
grep -q 'GET /simple/alpha/ auth=yes accept=application/vnd.pypi.simple.v1+json' "$T/auth.log" ||
	fail "no JSON page request with credentials: $(cat "$T/auth.log")"
grep -q 'GET /files/alpha-1.0-py3-none-any.whl.metadata auth=yes' "$T/auth.log" ||
	fail "PEP 658 metadata not fetched with credentials: $(cat "$T/auth.log")"
assert_not_contains "$out$err" "p4ss"
for f in "$T"/img/blobs/sha256/*; do
	if zcat -f "$f" 2>/dev/null | grep -aq 'p4ss'; then fail "a blob holds the password: $f"; fi
done
if grep -rqa 'p4ss' "$PYCACHE/layers"; then fail "the layer cache holds the password"; fi

step "credentials from .netrc"
printf 'machine 127.0.0.1 login alice password p4ss:w0rd\n' >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
pybuild --index-url "http://127.0.0.1:$port/simple" --no-cache
[ "$rc" = 0 ] || fail ".netrc: $err"

step "a wrong password"
rm "$HOME/.netrc"
pybuild --index-url "http://alice:nope@127.0.0.1:$port/simple"
[ "$rc" = 5 ] || fail "exit $rc: $err"
assert_not_contains "$err" "nope"
assert_contains "$err" "hint: "
