#!/bin/bash
# The same snapshot and request give the same layers: built twice from
# scratch (fresh blob store, no layer cache; downloads reused), with
# different download parallelism, the digests are identical.  --mtime
# changes them; the resolved set is recorded with versions and sha256.
. "$(dirname "$0")/lib-debian.sh"

debian_build "$T/img" shared --apt jq
fresh() {
	local c=$1
	mkdir -p "$c/debian"
	# verified downloads only (hardlinked): no store, no layer cache
	cp -al "$DEBIAN_CACHE/debian/blobs" "$c/debian/blobs"
	run "$DEBIAN_TOOL" --cache "$c" --out "oci:$T/$2:latest" "${@:3}"
	[ "$rc" = 0 ] || fail "build in '$c' failed
$(_show_run "debian_tool --cache $c ${*:3}")"
	printf '%s\n' "$out" >"$T/$2.json"
	assert_absent "$c/debian/layers/$(ls "$c/debian/layers" 2>/dev/null | head -1)x"
}
mkdir -p "$T/one" "$T/two"
fresh "$T/c1" one --apt jq --parallel 1
fresh "$T/c2" two --apt jq --parallel 16
for k in digest diff_id; do
	assert_eq "$(jq -c "[.layers[].$k]" "$T/one.json")" "$(jq -c "[.layers[].$k]" "$T/two.json")" \
		"layer ${k}s of two fresh builds"
done
assert_eq "$(jq -r .digest "$T/one.json")" "$(jq -r .digest "$T/two.json")" "manifest digest"
assert_eq "$(jq -c .debian.packages "$T/shared.json")" "$(jq -c .debian.packages "$T/one.json")" \
	"the same package set"
jq -e '.debian.packages | length > 20 and all(.[]; (.version | length > 0) and
	(.sha256 | test("^sha256:[0-9a-f]{64}$")))' "$T/one.json" >/dev/null ||
	fail "package set not recorded with versions and sha256"
jq -e '.debian.sources | length >= 1 and all(.[]; .date | length > 0)' "$T/one.json" >/dev/null ||
	fail "the indexes used (and their dates) are not recorded: $(jq -c .debian.sources "$T/one.json")"

step "entries: sorted, unique, owned by root (app's home excepted)"
blob=$(blob_path "$T/one" "$(jq -r '.layers[1].digest' "$T/one.json")")
names=$(tar -tzf "$blob" 2>/dev/null | sed 's:/$::')
assert_eq "$(printf '%s\n' "$names" | LC_ALL=C sort -u)" "$names" "base layer sorted bytewise, no duplicates"
owners=$(tar --numeric-owner -tvzf "$blob" 2>/dev/null | awk '{print $2}' | sort -u | tr '\n' ' ')
assert_eq "0/0 " "$owners" "every base entry owned by 0:0"

step "--mtime pins every entry's mtime"
fresh "$T/c3" three --mtime 1700000000
blob=$(blob_path "$T/three" "$(jq -r '.layers[1].digest' "$T/three.json")")
mt=$(tar --full-time -tvzf "$blob" 2>/dev/null | awk '{print $4" "$5}' | sort -u | tr '\n' ';')
assert_eq "2023-11-14 22:13:20;" "$mt" "all entries at the given mtime"
assert_ne "$(jq -r '.layers[1].diff_id' "$T/one.json")" "$(jq -r '.layers[1].diff_id' "$T/three.json")"
