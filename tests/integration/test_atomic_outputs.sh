#!/bin/bash
# A build with several outputs writes all of them or none: a failing
# output or push leaves every destination as it was, including an existing
# layout's index.json.  (A wrong diff_id in a base: test_bad_base.sh.)
. "$(dirname "$0")/lib.sh"
need jq jq

src=$T/src
mkdir -p "$src"
echo 'print("hi")' >"$src/main.py"

step "a second output that cannot be written: the first is not left behind"
run "$DSBUILD" build "$src" -o "oci:$T/out1:latest" -o "docker-archive:$T/no/such/dir/x.tar"
assert_ne 0 "$rc" "exit code with an unwritable second output"
assert_contains "$err" "no/such/dir/x.tar"
assert_absent "$T/out1"
assert_no_leftovers "$T"

step "an existing layout keeps its index.json and gains no blobs"
build_json "$src" -o "oci:$T/lay:v1"
before_index=$(cat "$T/lay/index.json")
before_blobs=$(ls "$T/lay/blobs/sha256" | sort)
echo 'print("changed")' >>"$src/main.py"
run "$DSBUILD" build "$src" -o "oci:$T/lay:v2" -o "docker-archive:$T/no/such/dir/x.tar"
assert_ne 0 "$rc" "exit code with an unwritable second output"
assert_eq "$before_index" "$(cat "$T/lay/index.json")" "index.json after a failed build"
assert_eq "$before_blobs" "$(ls "$T/lay/blobs/sha256" | sort)" "blobs after a failed build"
assert_no_leftovers "$T"

step "a push that fails: the local output is not written either"
# nothing listens on port 9 of the loopback: the connection is refused
run "$DSBUILD" build "$src" -o "oci:$T/out3:latest" --push "docker://127.0.0.1:9/team/app:v1" \
	--retry-times 0
assert_eq 6 "$rc" "exit code of a refused push"
assert_contains "$err" "127.0.0.1:9"
assert_absent "$T/out3"
assert_no_leftovers "$T"
