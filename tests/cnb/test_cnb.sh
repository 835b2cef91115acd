#!/bin/bash
# Cloud Native Buildpacks run unmodified (lib/buildpack/cnb.c): the sample
# buildpacks in tests/cnb/buildpacks, written to the Buildpack API 0.10 in
# POSIX sh, through `dsbuild detect` and `dsbuild build`:
#   hello       a launch layer, env.launch, links, the default process, run
#               by podman on the default Debian base through the launcher
#   plan-provider + plan-consumer   provides/requires with metadata, [[or]],
#               a build layer on the next buildpack's PATH and env
#   cached      a cache layer whose counter the next build sees
# and what must fail: bin/detect or bin/build exiting 1 or 3 (the error shows
# the stderr tail, no output is left), a bad buildpack.toml, unmatched
# requires/provides, an unsupported API, a FIFO in a layer, and
# --no-exec-buildpacks.  Needs Debian's archive once (the base is cached in
# $DSBUILD_TEST_CACHE, default /var/tmp/dsbuild-test-cache).
. "$(dirname "$0")/../integration/lib.sh"
need jq jq
need tar tar
need pgrep procps
podman_env
unset DSBUILD_BASE
BPCACHE=${DSBUILD_TEST_CACHE:-/var/tmp/dsbuild-test-cache}
mkdir -p "$BPCACHE"
BP=$SRC_ROOT/tests/cnb/buildpacks
# dsbuild's temporary folders (bin/detect's platform folder) land here, so
# the test can tell that none is left.
export TMPDIR=$T/tmp
mkdir -p "$TMPDIR"

# layer_file DIR FILE: the contents of FILE (a path in the image, without
# the leading /) from whichever layer of DIR:latest holds it.
layer_file() {
	local dir=$1 file=$2 d
	for d in $(manifest_of "$dir" latest | jq -r '.layers[].digest'); do
		if tar --warning=no-unknown-keyword -tzf "$(blob_path "$dir" "$d")" | grep -Fx "$file" >/dev/null; then
			tar --warning=no-unknown-keyword -xzOf "$(blob_path "$dir" "$d")" "$file"
			return 0
		fi
	done
	fail "no layer of $dir holds $file"
}

# no_leftovers: neither bin/detect's nor bin/build's temporary folders remain.
no_leftovers() {
	local left
	left=$(find "$TMPDIR" -mindepth 1 -maxdepth 1 -name 'dsbuild-cnb-*' | head -5)
	[ -z "$left" ] || fail "temporary folders left: $left"
	for c in "$@"; do
		[ -d "$c/cnb" ] || continue
		left=$(find "$c/cnb" -mindepth 1 -maxdepth 1 -name '.*' | head -5)
		[ -z "$left" ] || fail "temporary folders left in $c/cnb: $left"
	done
}

# A buildpack folder made here: mkbp DIR ID DETECT-BODY BUILD-BODY [API]
mkbp() {
	mkdir -p "$1/bin"
	printf 'api = "%s"\n\n[buildpack]\nid = "%s"\nversion = "0.0.1"\n' "${5:-0.10}" "$2" \
		>"$1/buildpack.toml"
	printf '#!/bin/sh\n%s\n' "$3" >"$1/bin/detect"
	printf '#!/bin/sh\n%s\n' "$4" >"$1/bin/build"
	chmod 755 "$1/bin/detect" "$1/bin/build"
}

tiny=$T/tiny
mkdir -p "$tiny"
echo "tiny tree" >"$tiny/hello.txt"

step "dsbuild detect shows a CNB buildpack and why it applies"
ok "$DSBUILD" detect --buildpack "$BP/hello" "$tiny"
assert_match "$out" '^  \+ acme/hello +0\.1\.0 +bin/detect passed; provides hello; requires hello$'
ok "$DSBUILD" detect --json --buildpack "$BP/hello" "$tiny"
assert_eq '[{"name":"hello","metadata":{"from":"detect"}}]' \
	"$(jq -c '[.cnb[0].entries[] | {name, metadata}]' <<<"$out")" "hello's Buildpack Plan"
assert_eq acme/hello "$(jq -r '.group[-1].id' <<<"$out")" "hello in the group"
no_leftovers
step "a project without hello.txt: bin/detect exits 100, and a required buildpack fails the group"
mkdir -p "$T/other"
echo "print(1)" >"$T/other/x.py"
expect_exit 3 "$DSBUILD" detect --buildpack "$BP/hello" "$T/other"
assert_error_names "no buildpack group applies" "acme/hello" "bin/detect did not pass (exit status 100)"

step "build on the default Debian base"
DSBUILD_TEST_SECRET=leaked build_json "$tiny" --cache-dir "$BPCACHE" -o "oci:$T/img:latest" \
	--buildpack "$BP/hello"
validate_image "$T/img" latest
# (the shared cache may hold other builds' work folders: only ours must be gone)
no_leftovers
json=$(last_json)
jq -e '[.layers[].created_by] | index("cnb acme/hello: layer greeting")' <<<"$json" >/dev/null ||
	fail "no layer made by acme/hello: $(jq -c '[.layers[].created_by]' <<<"$json")"
cfg=$(config_of "$T/img" latest)
assert_eq '["hello"]' "$(jq -c .config.Cmd <<<"$cfg")" "the default process is launch.toml's"
assert_match "$(jq -r '.config.Env[]' <<<"$cfg")" '^PATH=/layers/acme_hello/greeting/bin:/usr/local/sbin:'
assert_contains "$(jq -r '.config.Env[]' <<<"$cfg")" \
	"HELLO_MESSAGE_FILE=/layers/acme_hello/greeting/share/message.txt"
assert_contains "$(jq -r '.config.Env[]' <<<"$cfg")" "HELLO_GREETER=acme/hello"
assert_eq greeted "$(jq -r '.config.Labels["org.example.hello"]' <<<"$cfg")" "launch.toml label"
meta=$(jq -r '.config.Labels["io.dsbuild.metadata"]' <<<"$cfg")
assert_eq '{"buildpack":"acme/hello","command":["hello","world"],"default":true,"type":"hello"}' \
	"$(jq -c '.processes[] | select(.type == "hello")' <<<"$meta")" "the process in the metadata label"

step "the launch layer: root-owned, mtime 0, links kept (absolute ones as in the image)"
blob=$(blob_path "$T/img" "$(manifest_of "$T/img" latest | jq -r \
	--argjson i "$(jq '[.layers[].created_by] | index("cnb acme/hello: layer greeting")' <<<"$json")" \
	'.layers[$i].digest')")
listing=$(tar --warning=no-unknown-keyword --numeric-owner --full-time -tvzf "$blob")
printf '%s\n' "$listing"
assert_match "$listing" '^drwxr-xr-x 0/0 +0 1970-01-01 00:00:00 layers/$'
assert_match "$listing" '^drwxr-xr-x 0/0 +0 1970-01-01 00:00:00 layers/acme_hello/greeting/$'
assert_match "$listing" '^-rwxr-xr-x 0/0 .* layers/acme_hello/greeting/bin/hello$'
assert_match "$listing" ' layers/acme_hello/greeting/bin/hi -> hello$'
assert_match "$listing" ' layers/acme_hello/greeting/share/message-link -> /layers/acme_hello/greeting/share/message.txt$'
assert_not_contains "$listing" " 1000/" "nothing owned by the app user"
benv=$(layer_file "$T/img" layers/acme_hello/greeting/share/build-env.txt)
assert_contains "$benv" "os=linux"
assert_contains "$benv" "arch=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')"
assert_contains "$benv" "distro=debian 12"
assert_contains "$benv" "pwd=$tiny" "bin/build runs in the app folder"
assert_contains "$benv" "buildpack=$BP/hello"
assert_contains "$benv" "layers=$BPCACHE/cnb/.tmp-build-" "CNB_LAYERS_DIR beside the cache"
work=$(sed -n 's|^layers=\(.*\)/layers/acme_hello$|\1|p' <<<"$benv")
[ -n "$work" ] || fail "no work folder in build-env.txt: $benv"
assert_absent "$work" "the build's work folder"
assert_contains "$benv" "secret=unset" "dsbuild's own environment does not reach bin/build"

step "podman runs the default process through the launcher"
prun "oci:$T/img:latest"
[ "$rc" = 0 ] || fail "podman run failed: $(_show_run "podman run oci:$T/img:latest")"
assert_eq "Hello from acme/hello: tiny tree (plan metadata from=detect)
greeter: acme/hello
args: world
cwd: /workspace" "$out" "the hello process"
prun "oci:$T/img:latest" hello again
assert_eq 0 "$rc" "podman run IMAGE hello again: $err"
assert_contains "$out" "args: world again" "arguments after the process name are appended"
prun "oci:$T/img:latest" hi direct
assert_eq 0 "$rc" "podman run IMAGE hi: $err"
assert_contains "$out" "args: direct" "a program of the layer's bin/ is on PATH"

step "provides/requires with metadata and [[or]]; a build layer feeds the next buildpack"
ok "$DSBUILD" detect --json --base scratch --buildpack "$BP/plan-provider" \
	--buildpack "$BP/plan-consumer" "$tiny"
assert_eq '[{"name":"greeting-tool","metadata":{"message":"metadata from plan-consumer"}}]' \
	"$(jq -c '[.cnb[] | select(.id == "acme/plan-provider") | .entries[] | {name, metadata}]' <<<"$out")" \
	"the provider's Buildpack Plan holds the consumer's require"
assert_eq '[]' "$(jq -c '.cnb[] | select(.id == "acme/plan-consumer") | .entries' <<<"$out")" \
	"the consumer provides nothing"
assert_contains "$(jq -r '.buildpacks[] | select(.id == "acme/plan-consumer") | .why[]' <<<"$out")" \
	"alternative 1" "the consumer's [[or]] alternative is used"
build_json "$tiny" --base scratch --cache-dir "$T/cache" -o "oci:$T/plan:latest" \
	--buildpack "$BP/plan-provider" --buildpack "$BP/plan-consumer"
assert_eq "greeting-tool says: metadata from plan-consumer
GREETING_MESSAGE=metadata from plan-consumer
GREETING_CHAIN=from-provider
plan-entries=0" "$(layer_file "$T/plan" layers/acme_plan-consumer/result/result.txt)" "what the consumer saw"
for d in $(manifest_of "$T/plan" latest | jq -r '.layers[].digest'); do
	assert_not_contains "$(tar -tzf "$(blob_path "$T/plan" "$d")")" "acme_plan-provider" \
		"a build-only layer stays out of the image"
done
no_leftovers "$T/cache"

step "a require nobody before provides: the required consumer fails the group"
expect_exit 3 "$DSBUILD" detect --base scratch --buildpack "$BP/plan-consumer" "$tiny"
assert_error_names "no buildpack group applies" "acme/plan-consumer" "which no buildpack before it provides"
expect_exit 3 "$DSBUILD" detect --base scratch --buildpack "$BP/plan-consumer" \
	--buildpack "$BP/plan-provider" "$tiny"
assert_error_names "acme/plan-consumer" "which no buildpack before it provides"

step "a provide nobody after requires: shown by detect, refused by build"
ok "$DSBUILD" detect --base scratch --buildpack "$BP/plan-provider" "$tiny"
assert_contains "$out" "provides 'greeting-tool', which no buildpack after it requires"
expect_exit 3 "$DSBUILD" build --base scratch --cache-dir "$T/cache" -o "oci:$T/noreq:latest" \
	--buildpack "$BP/plan-provider" "$tiny"
assert_error_names "buildpack 'acme/plan-provider'" "provides 'greeting-tool', which no buildpack after it requires"
assert_absent "$T/noreq"

step "a cache layer's counter survives to the next build; build-only layers do not"
build_json "$tiny" --base scratch --cache-dir "$T/cache" -o "oci:$T/c1:latest" --buildpack "$BP/cached"
assert_eq "count=1 restored-metadata=none restored-types=no scratch-restored=no store=none" \
	"$(layer_file "$T/c1" layers/acme_cached/report/report.txt)" "first build"
assert_eq 1 "$(cat "$T/cache/cnb/acme_cached/counter/count")" "the counter in the cache"
assert_absent "$T/cache/cnb/acme_cached/scratch" "the uncached layer in the cache"
build_json "$tiny" --base scratch --cache-dir "$T/cache" -o "oci:$T/c2:latest" --buildpack "$BP/cached"
assert_eq "count=2 restored-metadata=1 restored-types=no scratch-restored=no store=1" \
	"$(layer_file "$T/c2" layers/acme_cached/report/report.txt)" "second build reuses the cache"
assert_eq 2 "$(cat "$T/cache/cnb/acme_cached/counter/count")" "the counter in the cache"
no_leftovers "$T/cache"

step "bin/detect exiting 1 is an error with the end of its stderr"
mkbp "$T/bp-faildetect" acme/faildetect \
	'i=1; while [ $i -le 100 ]; do echo "detect line $i" >&2; i=$((i + 1)); done; exit 1' 'exit 0'
expect_exit 3 "$DSBUILD" detect --buildpack "$T/bp-faildetect" "$tiny"
assert_error_names "buildpack 'acme/faildetect'" "bin/detect failed with exit status 1" "detect line 100"
assert_not_contains "$err" "detect line 50" "only the tail of stderr"
[ "$(printf '%s' "$err" | wc -c)" -lt 3000 ] || fail "the error is not bounded: $(printf '%s' "$err" | wc -c) bytes"
no_leftovers

step "bin/build exiting 3: the error shows its stderr, no output is left"
mkbp "$T/bp-failbuild" acme/failbuild 'exit 0' \
	'echo "compiling the thing" >&2; printf "\033[31mcolour\033[0m\n" >&2; echo "the compiler broke" >&2; exit 3'
expect_exit 3 "$DSBUILD" build --base scratch --cache-dir "$T/cache" -o "oci:$T/failout:latest" \
	--buildpack "$T/bp-failbuild" "$tiny"
assert_error_names "buildpack 'acme/failbuild'" "bin/build failed with exit status 3" "the compiler broke" \
	"compiling the thing"
assert_not_contains "$err" $'\033' "control characters from the buildpack are not printed"
assert_absent "$T/failout"
no_leftovers "$T/cache"

step "a bad buildpack.toml names the file and the line"
mkbp "$T/bp-bad" acme/bad 'exit 0' 'exit 0'
printf 'api = "0.10"\n\n[buildpack]\nid = "acme/bad"\nversion = 0.0.1\n' >"$T/bp-bad/buildpack.toml"
expect_exit 3 "$DSBUILD" build --base scratch --cache-dir "$T/cache" -o "oci:$T/badout:latest" \
	--buildpack "$T/bp-bad" "$tiny"
assert_error_names "$T/bp-bad/buildpack.toml" "line 5"
assert_absent "$T/badout"

step "broken TOML from bin/detect or bin/build names the file and the line"
mkbp "$T/bp-badplan" acme/badplan 'printf "[[provides]]\nname = \"x\"\n[[requires]\n" >"$CNB_BUILD_PLAN_PATH"' 'exit 0'
expect_exit 3 "$DSBUILD" detect --buildpack "$T/bp-badplan" "$tiny"
assert_error_names "buildpack 'acme/badplan'" "build plan of acme/badplan (CNB_BUILD_PLAN_PATH)' line 3"
mkbp "$T/bp-badlayer" acme/badlayer 'exit 0' \
	'mkdir "$CNB_LAYERS_DIR/l"; printf "[types]\nlaunch = yes\n" >"$CNB_LAYERS_DIR/l.toml"'
expect_exit 3 "$DSBUILD" build --base scratch --cache-dir "$T/cache" -o "oci:$T/badlayer:latest" \
	--buildpack "$T/bp-badlayer" "$tiny"
assert_error_names "buildpack 'acme/badlayer'" "'l.toml' line 2"
assert_absent "$T/badlayer"
no_leftovers "$T/cache"

step "an unsupported Buildpack API is refused"
mkbp "$T/bp-old" acme/old 'exit 0' 'exit 0' 0.5
expect_exit 3 "$DSBUILD" detect --buildpack "$T/bp-old" "$tiny"
assert_error_names "$T/bp-old/buildpack.toml" "Buildpack API '0.5' is not supported"

step "a named pipe in a launch layer is refused"
mkbp "$T/bp-fifo" acme/fifo 'exit 0' \
	'mkdir -p "$CNB_LAYERS_DIR/l"; mkfifo "$CNB_LAYERS_DIR/l/pipe"; printf "[types]\nlaunch = true\n" >"$CNB_LAYERS_DIR/l.toml"'
expect_exit 3 "$DSBUILD" build --base scratch --cache-dir "$T/cache" -o "oci:$T/fifo:latest" \
	--buildpack "$T/bp-fifo" "$tiny"
assert_error_names "acme/fifo" "'pipe' is a named pipe"
assert_absent "$T/fifo"

step "what bin/build leaves running is stopped, and does not hold the build"
marker=cnb-straggler-$$
mkbp "$T/bp-bg" acme/bg 'exit 0' "sh -c 'sleep 300; echo $marker' >&2 &
exit 0"
start=$(date +%s)
build_json "$tiny" --base scratch --cache-dir "$T/cache" -o "oci:$T/bg:latest" --buildpack "$T/bp-bg"
[ $(($(date +%s) - start)) -lt 60 ] || fail "the build waited for the background process"
sleep 0.5
left=$(pgrep -f "$marker" || true)
if [ -n "$left" ]; then
	kill $left 2>/dev/null || true
	fail "the process bin/build left behind is still running (pid $left)"
fi

step "--no-exec-buildpacks refuses them"
expect_exit 3 "$DSBUILD" detect --no-exec-buildpacks --buildpack "$BP/hello" "$tiny"
assert_error_names "acme/hello" "executable buildpacks are not allowed here" "--no-exec-buildpacks"
expect_exit 3 "$DSBUILD" build --no-exec-buildpacks --base scratch --cache-dir "$T/cache" \
	-o "oci:$T/noexec:latest" --buildpack "$BP/hello" "$tiny"
assert_error_names "acme/hello" "executable buildpacks are not allowed here"
assert_absent "$T/noexec"
no_leftovers "$T/cache"
