#!/bin/bash
# Bad input gives a clear error and caches nothing unverified: unknown
# package, unsatisfiable dependency, unknown suite, corrupt .deb (hash
# mismatch; valid hash but broken archive; not a .deb), unsigned and
# tampered InRelease, missing keyring, unreachable mirror.
. "$(dirname "$0")/lib-debian.sh"
need xz xz-utils
need dpkg-deb dpkg
need curl curl

step "against the real archive"
debian_build "$T/img" base
expect_exit 1 "$DEBIAN_TOOL" --cache "$DEBIAN_CACHE" --out "oci:$T/img:x" --apt no-such-package-xyz
assert_error_names "unknown package 'no-such-package-xyz'" "bookworm"
assert_contains "$err" "hint: "
expect_exit 1 "$DEBIAN_TOOL" --cache "$DEBIAN_CACHE" --out "oci:$T/img:x" --apt 'libc6 (<< 2.0)'
assert_error_names "cannot install 'libc6 (<< 2.0)'" "'libc6'" "already chosen"
expect_exit 1 "$DEBIAN_TOOL" --cache "$DEBIAN_CACHE" --out "oci:$T/img:x" --suite nosuchsuite
assert_error_names "suite 'nosuchsuite' not found on 'http://deb.debian.org/debian'"
expect_exit 1 "$DEBIAN_TOOL" --cache "$DEBIAN_CACHE" --out "oci:$T/img:x" --keyring "$T/missing.gpg"
assert_error_names "keyring '$T/missing.gpg' is missing"
assert_contains "$err" "hint: install Debian's archive keyring (apt-get install debian-archive-keyring)"
expect_exit 1 "$DEBIAN_TOOL" --cache "$T/unreach" --out "oci:$T/img:x" \
	--mirror http://127.0.0.1:9/debian --security-mirror none
assert_error_names "cannot fetch 'http://127.0.0.1:9/debian/dists/bookworm/InRelease'"
assert_contains "$err" "hint: check the network and the mirror URL"
expect_exit 1 "$DEBIAN_TOOL" --cache "$T/unreach" --out "oci:$T/img:x" --mirror ftp://x/debian
assert_error_names "invalid Debian mirror URL 'ftp://x/debian'"
expect_exit 1 "$DEBIAN_TOOL" --cache "$T/unreach" --out "oci:$T/img:x" --platform linux/sparc
assert_error_names "platform 'linux/sparc' has no Debian architecture"

step "a local mirror made of real .debs"
m=$T/mirror
mkdir -p "$m/pool" "$m/dists/bookworm/main/binary-amd64"
for p in base-files netbase tzdata; do
	sha=$(jq -r --arg p "$p" '.debian.packages[] | select(.name == $p) | .sha256' "$T/base.json")
	cp "$DEBIAN_CACHE/debian/blobs/sha256/${sha#sha256:}" "$m/pool/$p.deb"
done
# mkindex [EXTRA_STANZA]: Packages.xz and an unsigned InRelease for pool/*.deb
mkindex() {
	local f idx=$m/dists/bookworm/main/binary-amd64/Packages
	: >"$idx"
	for f in "$m"/pool/*.deb; do
		{
			dpkg-deb -f "$f" 2>/dev/null ||
				printf 'Package: %s\nVersion: 1\nArchitecture: all\n' "$(basename "$f" .deb)"
			echo "Filename: pool/$(basename "$f")"
			echo "Size: $(stat -c %s "$f")"
			echo "SHA256: $(sha256sum "$f" | cut -d' ' -f1)"
			echo
		} >>"$idx"
	done
	[ -z "${1:-}" ] || printf '%s\n\n' "$1" >>"$idx"
	xz -9 -c "$idx" >"$idx.xz"
	{
		echo "Codename: bookworm"
		echo "Date: Sat, 10 Feb 2024 09:51:59 UTC"
		echo "SHA256:"
		echo " $(sha256sum "$idx.xz" | cut -d' ' -f1) $(stat -c %s "$idx.xz") main/binary-amd64/Packages.xz"
	} >"$m/dists/bookworm/InRelease"
}
local_build() {
	_local_build "$@"
	# the messages a user would see, in the test log
	[ "$rc" = 0 ] || printf '%s\n' "$err" | sed 's/^/    /'
}
_local_build() {
	run "$DEBIAN_TOOL" --cache "$T/c.$1" --out "oci:$T/img:$1" --mirror "file://$m" \
		--security-mirror none --arch amd64 --no-ca --package netbase "${@:2}"
}
mkindex
local_build good --allow-unverified
[ "$rc" = 0 ] || fail "the local mirror does not work
$(_show_run local_build)"

step "unsigned InRelease without --allow-unverified"
local_build unsigned
[ "$rc" = 1 ] || fail "an unsigned InRelease was accepted $(_show_run local_build)"
assert_error_names "'file://$m/dists/bookworm/InRelease' is not signed"
assert_contains "$err" "--debian-allow-unverified"

step "tampered InRelease (real signature, one byte changed)"
ok curl -fsS -o "$T/InRelease" http://deb.debian.org/debian/dists/bookworm/InRelease
cp "$m/dists/bookworm/InRelease" "$T/InRelease.unsigned"
sed '0,/^Label: Debian$/s//Label: Debiam/' "$T/InRelease" >"$m/dists/bookworm/InRelease"
assert_ne "$(sha256sum <"$T/InRelease")" "$(sha256sum <"$m/dists/bookworm/InRelease")" "tampered"
local_build tampered
[ "$rc" = 1 ] || fail "a tampered InRelease was accepted $(_show_run local_build)"
assert_error_names "bad or unknown signature: gpgv: BAD signature from \"Debian Archive"
assert_contains "$err" "hint: "
cp "$T/InRelease" "$m/dists/bookworm/InRelease"
local_build realsig
assert_error_names "index 'main/binary-amd64/Packages.xz'" "the index lists"
cp "$T/InRelease.unsigned" "$m/dists/bookworm/InRelease"

step "a .deb that does not match the index"
good_sha=$(sha256sum "$m/pool/netbase.deb" | cut -d' ' -f1)
cp "$m/pool/netbase.deb" "$T/netbase.good"
printf 'X' | dd of="$m/pool/netbase.deb" bs=1 seek=2000 conv=notrunc status=none
bad_sha=$(sha256sum "$m/pool/netbase.deb" | cut -d' ' -f1)
cp "$m/pool/netbase.deb" "$T/netbase.bad"
cp "$T/netbase.good" "$m/pool/netbase.deb"
mkindex
cp "$T/netbase.bad" "$m/pool/netbase.deb"
local_build mismatch --allow-unverified
[ "$rc" = 1 ] || fail "a corrupt .deb was accepted $(_show_run local_build)"
assert_error_names "'netbase'" "does not match the sha256 the index lists (sha256:$good_sha)"
assert_absent "$T/c.mismatch/debian/blobs/sha256/$bad_sha" "the corrupt download is not cached"
assert_absent "$T/c.mismatch/debian/blobs/sha256/$good_sha"
left=$(find "$T/c.mismatch/debian/tmp" "$T/c.mismatch/debian/blobs" -type f -newer "$T/netbase.bad" \
	-size +0 ! -name '*.json' | while read -r f; do
		if [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$bad_sha" ]; then echo "$f"; fi
	done)
assert_eq "" "$left" "no copy of the corrupt .deb left anywhere in the cache"

step "a .deb the index vouches for, but broken inside"
mkindex   # now the index lists the corrupt file's hash
local_build corrupt --allow-unverified
[ "$rc" = 1 ] || fail "a corrupt .deb was unpacked $(_show_run local_build)"
assert_error_names "'netbase': "
assert_match "$err" "error: 'netbase': (corrupt|cannot read|not a Debian package)"

step "not a .deb at all"
echo "this is not a debian package" >"$m/pool/netbase.deb"
mkindex
local_build notdeb --allow-unverified
[ "$rc" = 1 ] || fail "a text file was unpacked as a .deb $(_show_run local_build)"
assert_error_names "'netbase': not a Debian package"
cp "$T/netbase.good" "$m/pool/netbase.deb"

step "an unsatisfiable dependency"
mkindex "Package: broken-app
Version: 1.0
Architecture: amd64
Depends: netbase (>= 99), libc6
Filename: pool/broken-app.deb
Size: 10
SHA256: 0000000000000000000000000000000000000000000000000000000000000000"
local_build unsat --allow-unverified --apt broken-app
[ "$rc" = 1 ] || fail "an unsatisfiable dependency was accepted $(_show_run local_build)"
nb=$(dpkg-deb -f "$m/pool/netbase.deb" Version)
assert_error_names "cannot install 'broken-app': it depends on 'netbase (>= 99)', but 'netbase' $nb is already chosen"
mkindex "Package: broken-app
Version: 1.0
Architecture: amd64
Depends: libfoo-missing (>= 2) | libbar-missing
Filename: pool/broken-app.deb
Size: 10
SHA256: 0000000000000000000000000000000000000000000000000000000000000000"
local_build unsat2 --allow-unverified --apt broken-app
assert_error_names "cannot install 'broken-app': it depends on 'libfoo-missing (>= 2) | libbar-missing', but 'libfoo-missing' is not in bookworm (amd64); 'libbar-missing' is not in bookworm (amd64)"
