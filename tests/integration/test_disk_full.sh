#!/bin/bash
# A full disk: the output on a small tmpfs, the cache on a small tmpfs, and
# a file-size limit (EFBIG).  Each: exit 7, an error saying so, and nothing
# half-written (no output, no temp file, nothing in the cache's tmp/).
. "$(dirname "$0")/lib.sh"
need jq jq

src=$T/src
mkdir -p "$src"
echo 'print(1)' >"$src/main.py"
# 6 MiB that gzip cannot shrink
head -c $((6 * 1024 * 1024)) /dev/urandom >"$src/weights.bin"

mounted=0
mkdir -p "$T/small"
if mount -t tmpfs -o size=2m,mode=0755 dsbuild-test "$T/small" 2>"$T/mount.err"; then
	mounted=1
	at_exit umount -l "$T/small"
else
	echo "note: cannot mount a tmpfs here ($(cat "$T/mount.err")); only the file-size-limit cases run"
fi

if [ $mounted = 1 ]; then
	step "output on a full filesystem: oci:"
	expect_exit 7 "$DSBUILD" build "$src" -o "oci:$T/small/out:latest"
	assert_error_names "$T/small/out"
	assert_contains "$err" "No space left on device" "the error says the disk is full"
	assert_eq "" "$(ls -A "$T/small")" "nothing left on the full filesystem"
	assert_cache_clean

	step "output on a full filesystem: oci-archive: and docker-archive:"
	for t in oci-archive docker-archive; do
		expect_exit 7 "$DSBUILD" build "$src" -o "$t:$T/small/img.tar"
		assert_error_names "$T/small/img.tar"
		assert_eq "" "$(ls -A "$T/small")" "nothing left after $t on a full filesystem"
		assert_cache_clean
	done

	step "a second output fails, the first is not left behind"
	expect_exit 7 "$DSBUILD" build "$src" -o "oci:$T/first:latest" -o "oci:$T/small/second:latest"
	soft assert_absent "$T/first" "the first output of a failed build"
	rm -rf "$T/first"
	assert_eq "" "$(ls -A "$T/small")" "nothing left on the full filesystem"

	step "the cache on a full filesystem"
	expect_exit 7 env DSBUILD_CACHE="$T/small/cache" "$DSBUILD" build "$src" -o "oci:$T/out-c:latest"
	assert_contains "$err" "No space left on device" "the error says the disk is full"
	assert_absent "$T/out-c" "output after the cache filled up"
	assert_cache_clean "$T/small/cache"
	left=$(find "$T/small" -type f -size +0 | grep -v '/blobs/' || true)
	[ -z "$left" ] || fail "partial files on the full cache filesystem: $left"
	umount "$T/small"
fi

step "a file-size limit (ulimit -f, SIGXFSZ ignored so writes fail with EFBIG)"
# 1 MiB: smaller than the layer, larger than the tiny files
limited() {
	(
		trap '' XFSZ
		ulimit -f 1024
		exec "$@"
	)
}
run limited "$DSBUILD" build "$src" -o "oci:$T/out-f:latest"
[ "$rc" = 7 ] || fail "expected exit 7 under a file-size limit, got $rc
$(_show_run "dsbuild build (ulimit -f 1024)")"
assert_match "$err" '^error: ' "git-style error"
assert_contains "$err" "File too large" "the error says why"
assert_absent "$T/out-f" "output after EFBIG"
assert_cache_clean
assert_no_leftovers "$T"

step "after all that, the same build works and the cache is sound"
build_json "$src" -o "oci:$T/ok:latest"
validate_image "$T/ok" latest
soft_done
