#!/bin/bash
# linux/arm64 from an amd64 host: the image validates and its python3 is
# an aarch64 ELF; the base layer differs from amd64's.
. "$(dirname "$0")/lib-debian.sh"
need file file

debian_build "$T/img" arm64 --platform linux/arm64
j=$T/arm64.json
assert_eq linux/arm64 "$(jq -r .platform "$j")"
assert_eq arm64 "$(jq -r '.debian.arch' "$j")"
[ "$(jq -r '[.debian.packages[] | select(.arch != "arm64" and .arch != "all")] | length' "$j")" = 0 ] ||
	fail "packages of another architecture: $(jq -c '.debian.packages' "$j")"
assert_eq arm64 "$(config_of "$T/img" arm64 | jq -r .architecture)" "config architecture"
validate_image "$T/img" arm64
root=$VALIDATED_BUNDLE/rootfs
assert_match "$(file -L "$root/usr/bin/python3.11")" 'ELF 64-bit LSB (pie )?executable, ARM aarch64'
assert_match "$(file -L "$root/usr/lib/aarch64-linux-gnu/libc.so.6")" 'ARM aarch64'
assert_eq "usr/lib" "$(readlink "$root/lib")"
assert_file "$root/lib/ld-linux-aarch64.so.1" "the aarch64 loader at its ABI path"
