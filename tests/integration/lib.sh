# Sourced by every tests/integration/test_*.sh.
#
# Gives: strict mode; $T, a per-test temp dir removed on exit (with any podman
# state, containers and mounts the test made); $DSBUILD; an isolated cache
# ($DSBUILD_CACHE); `need`; assertions; `run`/`expect_exit`; OCI helpers
# (validate_image, make_busybox_base, manifest_of, config_of, layer_list,
# build_digest) and podman_env.
#
# Tests never skip: a missing tool is a failure naming the package to install.

set -euo pipefail
shopt -s nullglob

TEST_NAME=$(basename "$0" .sh)
TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC_ROOT=$(cd "$TESTS_DIR/../.." && pwd)

if [ -z "${DSBUILD:-}" ]; then
	echo "FAIL: $TEST_NAME: DSBUILD is not set (run through 'meson test', or DSBUILD=build/cmd/dsbuild bash $0)" >&2
	exit 1
fi
DSBUILD=$(readlink -f "$DSBUILD")
if [ ! -x "$DSBUILD" ]; then
	echo "FAIL: $TEST_NAME: DSBUILD=$DSBUILD is not an executable" >&2
	exit 1
fi
export DSBUILD
# The default base (debian:bookworm) needs the network; tests that want it say so.
export DSBUILD_BASE=${DSBUILD_BASE:-scratch}

# Lowercase only: podman derives an image name from an oci: path.
T=${TMPDIR:-/tmp}/dsbuild-it-$(printf '%s' "$TEST_NAME" | tr 'A-Z_' 'a-z-').$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
mkdir -m 0700 "$T"
export DSBUILD_CACHE=$T/cache
export XDG_CACHE_HOME=$T/xdg-cache
export HOME=$T/home
mkdir -p "$HOME"
# A predictable environment; tests that care about these change them on purpose.
export LC_ALL=C.UTF-8 TZ=UTC
unset SOURCE_DATE_EPOCH DOCKER_CONFIG REGISTRY_AUTH_FILE || true
umask 022

_podman_used=0
_podman_runroot=
_cleanup_cmds=()

# Runs CMD... when the test ends (before the temp dir is removed).
at_exit() {
	_cleanup_cmds+=("$*")
}

_lib_cleanup() {
	local rc=$? c m
	set +e
	for c in "${_cleanup_cmds[@]}"; do
		eval "$c" >/dev/null 2>&1
	done
	if [ "$_podman_used" = 1 ]; then
		podman rm -a -f -t 0 >/dev/null 2>&1
		podman system reset -f >/dev/null 2>&1
	fi
	if [ -n "$_podman_runroot" ]; then
		for m in $(findmnt -rn -o TARGET 2>/dev/null | grep -F "$_podman_runroot" | sort -r); do
			umount -l "$m" 2>/dev/null
		done
		rm -rf "$_podman_runroot"
	fi
	# Anything still mounted below $T (a tmpfs a test made, podman's storage).
	for m in $(findmnt -rn -o TARGET 2>/dev/null | grep -F "$T" | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	chattr -R -i "$T" >/dev/null 2>&1
	chmod -R u+rwX "$T" 2>/dev/null
	rm -rf "$T"
	if [ $rc -eq 0 ]; then
		echo "ok: $TEST_NAME"
	else
		echo "FAILED: $TEST_NAME (exit $rc)" >&2
	fi
	exit $rc
}
trap _lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- basics

# need TOOL PKG: fails (never skips) when TOOL is not installed.
need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "FAIL: $TEST_NAME: missing $1: apt-get install $2 (or run tests/install-deps.sh test)" >&2
		exit 1
	fi
}

_where() {
	# caller of the assertion: file:line
	local i=1
	while [ "${FUNCNAME[$i]:-}" != "" ] && [ "${BASH_SOURCE[$i]:-}" = "${BASH_SOURCE[0]}" ]; do
		i=$((i + 1))
	done
	echo "$(basename "${BASH_SOURCE[$i]:-?}"):${BASH_LINENO[$((i - 1))]:-?}"
}

fail() {
	echo "FAIL: $TEST_NAME ($(_where)): $*" >&2
	exit 1
}

# soft CMD...: runs a self-contained check (assertions included) in a
# subshell; a failure is reported and remembered but the test goes on, so
# one run shows every broken case of a list.  soft_done fails if any did.
_soft_failed=()
soft() {
	if ! ("$@"); then
		_soft_failed+=("$*")
	fi
}
soft_done() {
	if [ ${#_soft_failed[@]} -gt 0 ]; then
		fail "${#_soft_failed[@]} check(s) failed:
$(printf '  %s\n' "${_soft_failed[@]}")"
	fi
}

# Prints a section title so a failure's log says where it was.
step() {
	echo "--- $*"
}

# assert_eq EXPECTED ACTUAL [WHAT]
assert_eq() {
	if [ "$1" != "$2" ]; then
		fail "${3:-values differ}:
  expected: $(printf '%q' "$1")
  actual:   $(printf '%q' "$2")"
	fi
}

assert_ne() {
	if [ "$1" = "$2" ]; then
		fail "${3:-values should differ}: both are $(printf '%q' "$1")"
	fi
}

# assert_contains HAYSTACK NEEDLE [WHAT]
assert_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "${3:-text does not contain $(printf '%q' "$2")}:
  looked for: $(printf '%q' "$2")
  in:
$(printf '%s\n' "$1" | head -n 60 | sed 's/^/    | /')" ;;
	esac
}

assert_not_contains() {
	case "$1" in
	*"$2"*) fail "${3:-text should not contain $(printf '%q' "$2")}:
  found: $(printf '%q' "$2")
  in:
$(printf '%s\n' "$1" | head -n 60 | sed 's/^/    | /')" ;;
	*) ;;
	esac
}

# assert_match TEXT EXTENDED-REGEX [WHAT]
assert_match() {
	# grep reads all its input (no -q): with pipefail, an early exit would
	# make printf die of SIGPIPE and a match look like a failure
	if ! printf '%s\n' "$1" | grep -E -- "$2" >/dev/null; then
		fail "${3:-no line matches /$2/}:
$(printf '%s\n' "$1" | head -n 60 | sed 's/^/    | /')"
	fi
}

assert_file() {
	[ -f "$1" ] || fail "${2:-expected a file} '$1' (ls: $(ls -la "$(dirname "$1")" 2>&1 | head -20))"
}

assert_dir() {
	[ -d "$1" ] || fail "${2:-expected a directory} '$1'"
}

# assert_absent PATH: nothing at PATH, not even a dangling link.
assert_absent() {
	if [ -e "$1" ] || [ -L "$1" ]; then
		fail "${2:-expected nothing at} '$1', found: $(ls -lad "$1" 2>&1)"
	fi
}

# assert_no_leftovers DIR: DIR holds nothing that looks like a temp file
# (*.tmp*, .tmp*, *~, .dsbuild-*), recursively.
assert_no_leftovers() {
	local d=$1 found
	[ -d "$d" ] || return 0
	found=$(find "$d" \( -name '*.tmp*' -o -name '.tmp*' -o -name '*~' -o -name '.dsbuild-*' \
		-o -name 'tmp.*' \) -print 2>/dev/null | head -20)
	[ -z "$found" ] || fail "temp files left behind in '$d':
$found"
}

# assert_cache_clean: the blob store's tmp/ holds nothing after a build ended.
assert_cache_clean() {
	local c=${1:-$DSBUILD_CACHE} left
	if [ -d "$c/tmp" ]; then
		left=$(find "$c/tmp" -mindepth 1 -print | head -20)
		[ -z "$left" ] || fail "cache '$c/tmp' not empty after the build:
$left"
	fi
	assert_no_leftovers "$c/blobs"
}

# run CMD...: runs CMD with errexit off; sets $rc, $out (stdout) and $err
# (stderr); never fails by itself.
run() {
	set +e
	"$@" >"$T/.run.out" 2>"$T/.run.err"
	rc=$?
	set -e
	out=$(cat "$T/.run.out")
	err=$(cat "$T/.run.err")
}

_show_run() {
	printf '  command: %s\n  exit: %s\n  stdout:\n%s\n  stderr:\n%s\n' "$1" "$rc" \
		"$(printf '%s\n' "$out" | head -n 40 | sed 's/^/    | /')" \
		"$(printf '%s\n' "$err" | head -n 40 | sed 's/^/    | /')"
}

# expect_exit CODE CMD...: runs CMD, fails unless it exits with CODE.
expect_exit() {
	local want=$1
	shift
	run "$@"
	if [ "$rc" != "$want" ]; then
		fail "expected exit $want, got $rc
$(_show_run "$*")"
	fi
}

# ok CMD...: runs CMD, fails (showing its output) unless it exits 0.
ok() {
	expect_exit 0 "$@"
}

# assert_error_names TEXT...: $err holds "error: " and each TEXT.
assert_error_names() {
	assert_contains "$err" "error: " "stderr has no git-style 'error: ' line"
	local s
	for s in "$@"; do
		assert_contains "$err" "$s" "error message does not name '$s'"
	done
}

# --------------------------------------------------------------- OCI helpers

# blob_path DIR DIGEST
blob_path() {
	echo "$1/blobs/${2%%:*}/${2#*:}"
}

# manifest_digest DIR TAG: the manifest digest that index.json gives TAG.
manifest_digest() {
	local d
	d=$(jq -r --arg t "$2" '[.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $t)][0].digest // empty' "$1/index.json") ||
		fail "cannot read '$1/index.json'"
	[ -n "$d" ] || fail "tag '$2' not in '$1/index.json': $(cat "$1/index.json")"
	echo "$d"
}

# manifest_of DIR TAG: the manifest JSON.
manifest_of() {
	cat "$(blob_path "$1" "$(manifest_digest "$1" "$2")")"
}

# config_of DIR TAG: the config JSON.
config_of() {
	local c
	c=$(manifest_of "$1" "$2" | jq -r .config.digest)
	cat "$(blob_path "$1" "$c")"
}

# layer_blob DIR TAG [N]: path of layer N (default: the last one).
layer_blob() {
	local n=${3:--1} d
	d=$(manifest_of "$1" "$2" | jq -r ".layers[$n].digest")
	echo "$(blob_path "$1" "$d")"
}

# layer_list DIR TAG [N]: `tar --numeric-owner -tvzf` of layer N (default last).
layer_list() {
	tar --warning=no-unknown-keyword --numeric-owner --full-time -tvzf "$(layer_blob "$@")"
}

# layer_names DIR TAG [N]: entry names only, as stored.
layer_names() {
	tar --warning=no-unknown-keyword -tzf "$(layer_blob "$@")"
}

_vn=0
# validate_image DIR TAG: every independent validator must accept the image.
# Leaves the umoci bundle at $VALIDATED_BUNDLE (rootfs in $VALIDATED_BUNDLE/rootfs).
validate_image() {
	local dir=$1 tag=$2
	need umoci umoci
	need oci-image-tool oci-image-tool
	need skopeo skopeo
	_vn=$((_vn + 1))
	VALIDATED_BUNDLE=$T/validate.$_vn
	run umoci unpack --image "$dir:$tag" "$VALIDATED_BUNDLE"
	[ "$rc" = 0 ] || fail "umoci unpack rejects $dir:$tag
$(_show_run "umoci unpack --image $dir:$tag")"
	run oci-image-tool validate --type image --ref "name=$tag" "$dir"
	[ "$rc" = 0 ] || fail "oci-image-tool rejects $dir:$tag
$(_show_run "oci-image-tool validate --type image --ref name=$tag $dir")"
	run skopeo inspect "oci:$dir:$tag"
	[ "$rc" = 0 ] || fail "skopeo inspect rejects $dir:$tag
$(_show_run "skopeo inspect oci:$dir:$tag")"
	rm -f "$T/validate.$_vn.tar"
	run skopeo copy -q "oci:$dir:$tag" "docker-archive:$T/validate.$_vn.tar:validate/image:$tag"
	[ "$rc" = 0 ] || fail "skopeo copy to docker-archive fails for $dir:$tag
$(_show_run "skopeo copy oci:$dir:$tag docker-archive:...")"
	rm -f "$T/validate.$_vn.tar"
}

# build_json ARGS...: `dsbuild build --json ARGS`; the JSON in $out; fails
# (with the output) unless it exits 0 and prints valid JSON with a digest.
build_json() {
	run "$DSBUILD" build --json "$@"
	[ "$rc" = 0 ] || fail "dsbuild build failed
$(_show_run "dsbuild build --json $*")"
	printf '%s' "$out" | jq -e '.digest | test("^sha256:[0-9a-f]{64}$")' >/dev/null ||
		fail "dsbuild build --json printed no manifest digest
$(_show_run "dsbuild build --json $*")"
	printf '%s\n' "$out" >"$T/.build.json"
}

# last_json: the --json output of the last build_json/build_digest (which
# also works after `d=$(build_digest ...)`, a subshell).
last_json() {
	cat "$T/.build.json"
}

# build_digest ARGS...: (re)builds and prints the manifest digest.
build_digest() {
	build_json "$@"
	printf '%s' "$out" | jq -r .digest
}

# ------------------------------------------------------------ busybox base

# make_busybox_base DIR TAG: an OCI layout holding busybox-static, made with
# umoci only (not with dsbuild): /bin/busybox + applet symlinks, /etc/passwd
# with root and app (1000), /tmp, Cmd ["sh"].
make_busybox_base() {
	local dir=$1 tag=$2 bundle=$T/busybox-bundle.$RANDOM a bb
	need umoci umoci
	bb=$(command -v busybox || true)
	[ -n "$bb" ] || fail "missing busybox: apt-get install busybox-static (or run tests/install-deps.sh test)"
	file -L "$bb" 2>/dev/null | grep 'statically linked' >/dev/null ||
		ldd "$bb" 2>&1 | grep 'not a dynamic' >/dev/null ||
		fail "'$bb' is not statically linked: apt-get install busybox-static"
	[ -d "$dir" ] || ok umoci init --layout "$dir"
	ok umoci new --image "$dir:$tag"
	ok umoci unpack --image "$dir:$tag" "$bundle"
	mkdir -p "$bundle/rootfs/bin" "$bundle/rootfs/etc" "$bundle/rootfs/tmp" \
		"$bundle/rootfs/home/app" "$bundle/rootfs/root"
	chmod 1777 "$bundle/rootfs/tmp"
	cp "$bb" "$bundle/rootfs/bin/busybox"
	for a in sh ash ls cat id env pwd echo wget printf test stat head tail wc sleep true false \
		grep sed find readlink mkdir touch rm sort tr cut md5sum sha256sum uname whoami; do
		ln -sf busybox "$bundle/rootfs/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' \
		>"$bundle/rootfs/etc/passwd"
	printf 'root:x:0:\napp:x:1000:\n' >"$bundle/rootfs/etc/group"
	chown 1000:1000 "$bundle/rootfs/home/app"
	ok umoci repack --image "$dir:$tag" "$bundle"
	ok umoci config --image "$dir:$tag" --config.cmd sh \
		--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
	rm -rf "$bundle"
}

# ------------------------------------------------------------------ podman

# podman_env: podman with all its state in $T/podman (runc, vfs storage,
# ulimits this sandbox allows, no registries), torn down when the test ends.
podman_env() {
	need podman podman
	need runc runc
	local p=$T/podman rr
	# podman refuses a runroot longer than 50 characters (in the exit command
	# conmon runs, so a long one makes every `podman run` wait 20 s for nothing)
	rr=${TMPDIR:-/tmp}/dsp.$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	[ ${#rr} -le 50 ] || rr=/tmp/dsp.$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	mkdir -m 0700 "$rr"
	_podman_runroot=$rr
	mkdir -p "$p/tmp" "$p/volumes" "$p/networks" "$p/root"
	cat >"$p/containers.conf" <<-EOF
	[containers]
	# podman's default RLIMIT_NOFILE/NPROC cannot be set in this sandbox (EPERM)
	default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
	[network]
	network_config_dir = "$p/networks"
	[engine]
	# crun refuses hybrid cgroups here; runc works
	runtime = "runc"
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	events_logfile_path = "$p/events.log"
	tmp_dir = "$p/tmp"
	image_copy_tmp_dir = "$p/tmp"
	volume_path = "$p/volumes"
	EOF
	cat >"$p/storage.conf" <<-EOF
	[storage]
	driver = "vfs"
	runroot = "$rr"
	graphroot = "$p/root"
	EOF
	cat >"$p/registries.conf" <<-EOF
	unqualified-search-registries = []
	EOF
	export CONTAINERS_CONF=$p/containers.conf
	export CONTAINERS_STORAGE_CONF=$p/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$p/registries.conf
	_podman_used=1
}

# free_port: a TCP port on 127.0.0.1 nothing answers on, below the kernel's
# range for outgoing connections (32768-60999), so a listener can bind it
free_port() {
	local p
	for _ in $(seq 20); do
		p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
		if ! curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/"; then
			echo "$p"
			return 0
		fi
	done
	fail "no free port"
}

# prun IMAGE CMD...: podman run --rm with no network; output in $out/$err.
prun() {
	local img=$1
	shift
	run podman run --rm --network none "$img" "$@"
}
