#!/bin/bash
# The command line: help, version, and usage errors (exit 2, git-style).
. "$(dirname "$0")/lib.sh"
need jq jq

step "dsbuild --help"
ok "$DSBUILD" --help
top_help=$out
assert_match "$out" '^usage: dsbuild' "--help starts with usage"
for c in build inspect version help; do
	assert_match "$out" "^  $c " "--help lists command '$c'"
done
assert_eq "" "$err" "--help writes nothing on stderr"
ok "$DSBUILD" help
assert_eq "$top_help" "$out" "'dsbuild help' is 'dsbuild --help'"
ok "$DSBUILD" -h
assert_eq "$top_help" "$out" "'dsbuild -h' is 'dsbuild --help'"

step "dsbuild help build / dsbuild build --help"
ok "$DSBUILD" help build
build_help=$out
assert_match "$out" '^usage: dsbuild \[build\]' "build help usage line"
for f in --base --output -o --tag -t --env --entrypoint --cmd --workdir --user --port --label \
	--annotation --platform --cache-dir --json --quiet -q; do
	assert_match "$build_help" "(^|[ ,])$f([ ,=]|$)" "build help documents $f"
done
for t in oci: oci-archive: docker-archive: scratch; do
	assert_contains "$build_help" "$t" "build help names $t"
done
ok "$DSBUILD" build --help
assert_eq "$build_help" "$out" "'build --help' is 'help build'"
ok "$DSBUILD" build -h
assert_eq "$build_help" "$out" "'build -h' is 'help build'"
# --help wins over everything else on the line and builds nothing
mkdir -p "$T/tree"
echo x >"$T/tree/a"
ok "$DSBUILD" build --help "$T/tree"
assert_eq "$build_help" "$out" "'build --help DIR' shows help"
assert_absent "$T/tree/.dsbuild" "'build --help DIR' must not build"

step "dsbuild help inspect / inspect --help"
ok "$DSBUILD" help inspect
assert_match "$out" '^usage: dsbuild inspect' "inspect help usage line"
assert_contains "$out" "--json"
assert_contains "$out" "--platform"
insp_help=$out
ok "$DSBUILD" inspect --help
assert_eq "$insp_help" "$out" "'inspect --help' is 'help inspect'"

step "dsbuild help version / version --help"
ok "$DSBUILD" help version
assert_match "$out" '^usage: dsbuild version' "version help usage line"
v_help=$out
ok "$DSBUILD" version --help
assert_eq "$v_help" "$out" "'version --help' is 'help version'"

step "dsbuild version"
project_version=$(sed -n "s/^  version : '\\([^']*\\)'.*/\\1/p" "$SRC_ROOT/meson.build" | head -n1)
[ -n "$project_version" ] || fail "cannot read the version from $SRC_ROOT/meson.build"
ok "$DSBUILD" version
assert_match "$out" "^dsbuild $project_version\$" "first line of 'dsbuild version'"
for lib in libarchive zlib jansson OpenSSL libcurl; do
	assert_contains "$out" "$lib" "'dsbuild version' names $lib"
done
ok "$DSBUILD" version --json
jq -e . <<<"$out" >/dev/null || fail "version --json is not JSON: $out"
assert_eq "$project_version" "$(jq -r .version <<<"$out")" "version --json .version"
assert_eq 1 "$(printf '%s\n' "$out" | jq -s length)" "version --json prints one object"
for k in libarchive zlib jansson openssl libcurl; do
	jq -e --arg k "$k" 'has($k) and (.[$k] | type == "string" and length > 0)' <<<"$out" >/dev/null ||
		fail "version --json has no '$k': $out"
done

# usage_error CMD...: exit 2, nothing on stdout, "error: " first then a "hint: "
usage_error() {
	expect_exit 2 "$@"
	assert_eq "" "$out" "stdout of a usage error ($*)"
	assert_match "$err" '^error: ' "usage error starts with 'error: ' ($*)"
	assert_match "$err" '^hint: ' "usage error has a hint ($*)"
	assert_not_contains "$err" "Segmentation" "crash"
}

step "unknown command"
usage_error "$DSBUILD" frobnicate
assert_contains "$err" "frobnicate" "error names the unknown command"
usage_error "$DSBUILD" help frobnicate
assert_contains "$err" "frobnicate" "help of an unknown command names it"

step "unknown flags"
usage_error "$DSBUILD" --frob
assert_contains "$err" "--frob"
usage_error "$DSBUILD" build --frob "$T/tree"
assert_contains "$err" "--frob"
usage_error "$DSBUILD" inspect --frob "oci:$T/x"
assert_contains "$err" "--frob"
usage_error "$DSBUILD" version --frob
assert_contains "$err" "--frob"
usage_error "$DSBUILD" build -Z "$T/tree"
assert_contains "$err" "-Z"
assert_absent "$T/tree/.dsbuild" "a usage error must not build"

step "a flag without its value"
usage_error "$DSBUILD" build "$T/tree" --port
assert_contains "$err" "--port"
usage_error "$DSBUILD" build "$T/tree" -o
usage_error "$DSBUILD" inspect
step "two source folders"
mkdir -p "$T/tree2"
usage_error "$DSBUILD" build "$T/tree" "$T/tree2"

step "bad flag values are bad input (exit 3), naming the value"
bad_value() {
	local v=$1
	shift
	expect_exit 3 "$DSBUILD" build -q "$T/tree" -o "oci:$T/never:latest" "$@"
	assert_error_names "$v"
	assert_absent "$T/never"
	assert_absent "$T/tree/.dsbuild"
}
soft bad_value abc --port abc
soft bad_value 70000 --port 70000
soft bad_value 80/xyz --port 80/xyz
soft bad_value 0 --port 0
soft bad_value NOEQUALS --env NOEQUALS
soft bad_value NOEQUALS --label NOEQUALS
soft bad_value NOEQUALS --annotation NOEQUALS
soft bad_value '["a",' --entrypoint '["a",'
soft bad_value "it's" --cmd "it's"
soft bad_value relative/dir --workdir relative/dir
soft bad_value bogus --platform bogus
soft bad_value 'nosuch-transport:x' -o 'nosuch-transport:x'
soft bad_value 'nosuch-transport:x' --base 'nosuch-transport:x'
soft_done

step "-q still reports errors"
expect_exit 3 "$DSBUILD" build -q "$T/nonexistent"
assert_match "$err" '^error: ' "-q error"
