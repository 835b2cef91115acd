#!/bin/bash
# Bad source trees: each fails with the documented exit code and an error
# naming the culprit, and leaves nothing half-written: no output, no temp
# file beside it, nothing in the cache's tmp/.  An output inside the tree is
# not an error: it is left out of the layer.
. "$(dirname "$0")/lib.sh"
need jq jq
need tar tar
need python3 python3
need setpriv util-linux

# refused CODE NAME... -- BUILD-ARGS...: builds into $T/outs/o (fresh),
# expects CODE, an error naming each NAME, and no trace of the output.
refused() {
	local code=$1 names=()
	shift
	while [ "$1" != -- ]; do names+=("$1"); shift; done
	shift
	rm -rf "$T/outs" && mkdir -p "$T/outs"
	expect_exit "$code" "$DSBUILD" build "$@" -o "oci:$T/outs/o:latest" -o "oci-archive:$T/outs/o.tar"
	assert_error_names "${names[@]}"
	assert_not_contains "$err" "Segmentation" "crash"
	assert_eq "" "$(ls -A "$T/outs")" "the output folder's parent must stay empty"
	assert_cache_clean
}

good() { # DIR: a small valid tree
	mkdir -p "$1/pkg"
	echo 'print(1)' >"$1/main.py"
	echo 'x = 1' >"$1/pkg/mod.py"
}

step "DIR missing"
soft refused 3 "$T/nonexistent" -- "$T/nonexistent"

step "DIR is a file"
echo x >"$T/afile"
soft refused 3 "$T/afile" -- "$T/afile"

step "dangling symlink"
good "$T/dangling"
ln -s does-not-exist "$T/dangling/pkg/broken"
soft refused 3 "pkg/broken" -- "$T/dangling"

step "symlink escaping the tree (relative)"
good "$T/esc1"
ln -s ../../etc/passwd "$T/esc1/pkg/passwd"
soft refused 3 "pkg/passwd" -- "$T/esc1"

step "symlink escaping the tree (absolute)"
good "$T/esc2"
ln -s /etc/passwd "$T/esc2/passwd"
soft refused 3 "passwd" -- "$T/esc2"

step "symlink to a folder outside the tree"
good "$T/esc3"
mkdir -p "$T/outside"
ln -s ../outside "$T/esc3/data"
soft refused 3 "data" -- "$T/esc3"

step "a socket"
good "$T/sock"
python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$T/sock/pkg/app.sock"
[ -S "$T/sock/pkg/app.sock" ] || fail "test setup: no socket"
soft refused 3 "pkg/app.sock" -- "$T/sock"

step "a fifo"
good "$T/fifo"
mkfifo "$T/fifo/pipe"
soft refused 3 "pipe" -- "$T/fifo"

step "a device node"
good "$T/dev"
if mknod "$T/dev/null-dev" c 1 3 2>/dev/null; then
	soft refused 3 "null-dev" -- "$T/dev"
else
	echo "note: mknod not permitted here; device case not run"
fi

# Unreadable files: root reads anything, so run dsbuild as nobody, on a tree
# nobody can read except for the one file.
step "an unreadable file (dsbuild run as nobody)"
chmod 0755 "$T"
nob=$T/nobody
mkdir -p "$nob/cache" "$nob/outs" "$nob/home"
chown 65534:65534 "$nob/cache" "$nob/outs" "$nob/home"
as_nobody() {
	setpriv --reuid 65534 --regid 65534 --clear-groups -- \
		env HOME="$nob/home" DSBUILD_CACHE="$nob/cache" "$@"
}
good "$nob/tree"
echo secret >"$nob/tree/pkg/locked.bin"
chmod 0000 "$nob/tree/pkg/locked.bin"
chmod -R a+rX "$nob/tree"
chmod 0000 "$nob/tree/pkg/locked.bin"
as_nobody cat "$nob/tree/main.py" >/dev/null || fail "test setup: nobody cannot read the tree"
! as_nobody cat "$nob/tree/pkg/locked.bin" 2>/dev/null || fail "test setup: nobody can read locked.bin"
as_nobody "$DSBUILD" build -q "$nob/tree/pkg/.." -o "oci:$nob/outs/warmup:latest" --base scratch \
	>/dev/null 2>&1 && fail "test setup: build as nobody did not see locked.bin"
unreadable() { # CULPRIT TREE
	rm -rf "${nob:?}/outs/"*
	run as_nobody "$DSBUILD" build "$2" -o "oci:$nob/outs/o:latest" -o "oci-archive:$nob/outs/o.tar"
	# an unreadable file is a fault of the tree (3); the system's refusal
	# to read is also defensible as an I/O error (7): either, never 1 or 0
	case "$rc" in 3 | 7) ;; *) fail "unreadable '$1': expected exit 3 or 7, got $rc
$(_show_run "dsbuild build $2")" ;; esac
	assert_error_names "$1"
	assert_contains "$err" "Permission denied" "the error says why"
	assert_eq "" "$(ls -A "$nob/outs")" "no output after an unreadable file"
	assert_cache_clean "$nob/cache"
}
soft unreadable pkg/locked.bin "$nob/tree"
step "an unreadable folder (dsbuild run as nobody)"
good "$nob/tree2"
mkdir -p "$nob/tree2/private"
echo x >"$nob/tree2/private/f"
chmod -R a+rX "$nob/tree2"
chmod 0000 "$nob/tree2/private"
soft unreadable private "$nob/tree2"
chmod 0755 "$nob/tree2/private"
step "the same trees build once the file is ignored"
echo 'pkg/locked.bin' >"$nob/tree/.dsbuildignore"
chmod a+r "$nob/tree/.dsbuildignore"
run as_nobody "$DSBUILD" build -q "$nob/tree" -o "oci:$nob/outs/ok:latest"
soft assert_eq 0 "$rc" "build as nobody with locked.bin ignored: $err"

step "an ignored bad entry is no error"
good "$T/ignored"
ln -s /etc/passwd "$T/ignored/passwd"
mkfifo "$T/ignored/pipe"
ln -s nowhere "$T/ignored/dangling"
printf 'passwd\npipe\ndangling\n' >"$T/ignored/.dsbuildignore"
run "$DSBUILD" build -q "$T/ignored" -o "oci:$T/ignored-out:latest"
soft assert_eq 0 "$rc" "bad entries that are ignored: $err"

step "an output folder inside the tree is left out, not an error"
good "$T/inside"
build_json "$T/inside" -o "oci:$T/inside/out:latest" -o "oci-archive:$T/inside/img.tar"
d1=$(jq -r .digest <<<"$out")
soft assert_not_contains "$(layer_names "$T/inside/out" latest)" "workspace/out" "output dir in the layer"
build_json "$T/inside" -o "oci:$T/inside/out:latest" -o "oci-archive:$T/inside/img.tar"
names=$(layer_names "$T/inside/out" latest)
soft assert_not_contains "$names" "workspace/out" "output dir in the layer (second build)"
soft assert_not_contains "$names" "workspace/img.tar" "output archive in the layer (second build)"
soft assert_eq "$d1" "$(jq -r .digest <<<"$out")" "rebuild with the outputs inside the tree"
step "the same with a relative DIR and relative -o"
mkdir -p "$T/inside/sub"
(cd "$T/inside" && "$DSBUILD" build --json -q . -o oci:sub/out2:latest >"$T/rel.json") ||
	fail "relative build failed"
soft assert_not_contains "$(layer_names "$T/inside/sub/out2" latest)" "workspace/sub/out2" \
	"relative output dir in the layer"

soft_done
