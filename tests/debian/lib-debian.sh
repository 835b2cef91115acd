# Sourced by tests/debian/test_*.sh: the integration helpers
# (tests/integration/lib.sh: $T, run/ok/expect_exit, assertions,
# validate_image, podman_env ...) plus:
#   $DEBIAN_TOOL   the driver (tests/debian/debian_tool.c)
#   $DEBIAN_CACHE  a persistent cache of verified downloads and layers
#   debian_build OUT_DIR TAG ARGS...  builds, JSON summary in $out and
#                                     $T/<TAG>.json; fails with the output
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

if [ -z "${DEBIAN_TOOL:-}" ] || [ ! -x "$DEBIAN_TOOL" ]; then
	fail "DEBIAN_TOOL is not set to the debian_tool binary (run through 'meson test --suite debian')"
fi
DEBIAN_CACHE=${DSBUILD_DEBIAN_TEST_CACHE:-${DEBIAN_TEST_CACHE_DEFAULT:-$T/debian-cache}}
mkdir -p "$DEBIAN_CACHE"
need jq jq
need gpgv gpgv
[ -r /usr/share/keyrings/debian-archive-keyring.gpg ] ||
	fail "missing Debian's archive keyring: apt-get install debian-archive-keyring"

debian_build() {
	local dir=$1 tag=$2
	shift 2
	mkdir -p "$dir"
	run "$DEBIAN_TOOL" --cache "$DEBIAN_CACHE" --out "oci:$dir:$tag" "$@"
	[ "$rc" = 0 ] || fail "debian_tool failed
$(_show_run "debian_tool --out oci:$dir:$tag $*")"
	printf '%s\n' "$out" >"$T/$tag.json"
}

# pkg_names JSON_FILE: the resolved package names, one per line.
pkg_names() {
	jq -r '.debian.packages[].name' "$1"
}
