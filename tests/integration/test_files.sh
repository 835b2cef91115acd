#!/bin/bash
# What a tree can hold: symlinks (kept as links), hard links (tar hardlinks),
# empty folders, exec bits, special mode bits, long and odd names.  umoci
# (the strictest unpacker) must agree with tar on every entry.
. "$(dirname "$0")/lib.sh"
need jq jq
need tar tar
need python3 python3

src=$T/src
mkdir -p "$src"
cd "$src"
mkdir -p pkg/sub empty/nested/deeper sub
echo 'def f(): pass' >pkg/mod.py
echo inner >pkg/sub/inner.txt
: >zero-bytes
# symlinks, all pointing inside the tree
ln -s pkg/mod.py link.py
ln -s pkg dirlink
ln -s link.py chain.py
ln -s ../pkg/mod.py sub/up.py
ln -s .. sub/root
ln -s sub/inner.txt pkg/dangling-looking-but-fine # resolves inside pkg? no: pkg/sub/inner.txt
rm pkg/dangling-looking-but-fine
ln -s sub/inner.txt pkg/rel.txt
# hard links
echo 'shared content' >hard-a
ln hard-a hard-b
ln hard-a pkg/hard-c
# modes
echo x >m0744 && chmod 0744 m0744
echo x >m0700 && chmod 0700 m0700
echo x >m0500 && chmod 0500 m0500
echo x >m0444 && chmod 0444 m0444
echo x >m0666 && chmod 0666 m0666
echo x >m4755 && chmod 4755 m4755
echo x >m2755 && chmod 2755 m2755
mkdir -p sticky && chmod 1777 sticky
mkdir -p d0700 && chmod 0700 d0700 && echo y >d0700/f
# long names: a 255-byte name, a 150-byte name, a path over 255 (and over 1000) bytes
n255=$(printf 'n%.0s' $(seq 1 251)).txt
n150=$(printf 'L%.0s' $(seq 1 146)).txt
echo 255 >"$n255"
echo 150 >"$n150"
deep=.
for i in $(seq 1 12); do deep=$deep/dir-$i-$(printf 'd%.0s' $(seq 1 80)); done
mkdir -p "$deep"
echo deep >"$deep/$n150"
deep=${deep#./}
# odd names
odd=("with space.txt" "it's.txt" 'dq"uote.txt' 'back\slash.txt' $'tab\there.txt'
	$'new\nline.txt' '-leading-dash.txt' '--help' 'star*.txt' 'q?.txt' '#hash.txt'
	'caf'$'\xc3\xa9''.txt' '日本語.txt' 'emoji-🐍.py' ' leading-space' 'trailing-space ' '[brackets].txt')
for n in "${odd[@]}"; do
	printf '%s\n' "content of $n" >"./$n"
done
cd - >/dev/null

step "build"
build_json "$src" -o "oci:$T/out:latest"
validate_image "$T/out" latest
rootfs=$VALIDATED_BUNDLE/rootfs/workspace
list=$(layer_list "$T/out" latest)

step "contents equal, file by file (umoci rootfs vs the tree)"
sums() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
assert_eq "$(sums "$src")" "$(sums "$rootfs")" "regular files and their contents"
types() { (cd "$1" && find . -mindepth 1 -printf '%y %p\n' | LC_ALL=C sort); }
assert_eq "$(types "$src")" "$(types "$rootfs")" "entry types (d, f, l) by path"

step "symlinks stay links with their targets"
for l in link.py dirlink chain.py sub/up.py sub/root pkg/rel.txt; do
	[ -L "$rootfs/$l" ] || fail "'$l' is not a symlink in the image"
	assert_eq "$(readlink "$src/$l")" "$(readlink "$rootfs/$l")" "target of '$l'"
done
assert_match "$list" '^lrwxrwxrwx 1000/1000 .* workspace/link.py -> pkg/mod.py$' "tar symlink entry"
assert_match "$list" '^lrwxrwxrwx 1000/1000 .* workspace/dirlink -> pkg$' "dir symlink not followed"
assert_not_contains "$list" "workspace/dirlink/" "the walk must not descend into a dir symlink"

step "hard links: the later paths are tar hardlinks to the first"
assert_match "$list" '^hrw-r--r-- 1000/1000 .* workspace/hard-b link to workspace/hard-a$' "hard-b"
assert_match "$list" '^hrw-r--r-- 1000/1000 .* workspace/pkg/hard-c link to workspace/hard-a$' "pkg/hard-c"
assert_match "$list" '^-rw-r--r-- 1000/1000 +15 .* workspace/hard-a$' "hard-a holds the data"
assert_eq "$(stat -c %i "$rootfs/hard-a")" "$(stat -c %i "$rootfs/hard-b")" "hard links share an inode after unpack"

step "empty folders"
assert_dir "$rootfs/empty/nested/deeper"
assert_match "$list" '^drwxr-xr-x 1000/1000 .* workspace/empty/nested/deeper/$' "empty dir entry"
assert_match "$list" '^-rw-r--r-- 1000/1000 +0 .* workspace/zero-bytes$' "zero-byte file"

step "modes: exec bit kept, everything else normalised"
declare -A mode=([m0744]=755 [m0700]=755 [m0500]=755 [m0444]=644 [m0666]=644 [m4755]=755 [m2755]=755
	[sticky]=755 [d0700]=755 [d0700/f]=644)
for f in "${!mode[@]}"; do
	assert_eq "${mode[$f]}" "$(stat -c %a "$rootfs/$f")" "mode of $f"
done
assert_not_contains "$(cut -c1-10 <<<"$list" | sort -u)" "s" "setuid/setgid bits in the layer"
assert_not_contains "$(cut -c1-10 <<<"$list" | sort -u)" "t" "sticky bit in the layer"

step "long names"
assert_file "$rootfs/$n255"
assert_file "$rootfs/$n150"
assert_file "$rootfs/$deep/$n150"
[ ${#deep} -gt 1000 ] || fail "test setup: deep path is only ${#deep} bytes"
assert_eq deep "$(cat "$rootfs/$deep/$n150")" "content at the deep path"
assert_contains "$(layer_names "$T/out" latest)" "workspace/$deep/$n150" "full deep path in tar"

step "odd names"
for n in "${odd[@]}"; do
	[ -f "$rootfs/$n" ] || fail "odd name $(printf '%q' "$n") missing from the image"
	assert_eq "content of $n" "$(cat "$rootfs/$n")" "content of $(printf '%q' "$n")"
done

step "entries sorted bytewise, parents before children, no duplicates"
python3 - "$(layer_blob "$T/out" latest)" <<'EOF' || fail "tar order check failed"
import sys, tarfile
names = [m.name.rstrip("/") for m in tarfile.open(sys.argv[1], "r:gz")]
raw = [n.encode("utf-8", "surrogateescape") for n in names]
assert raw == sorted(raw), "not sorted bytewise"
assert len(set(raw)) == len(raw), "duplicates"
seen = set()
for n in raw:
    parent = n.rsplit(b"/", 1)[0] if b"/" in n else None
    assert parent is None or parent in seen, f"parent of {n!r} not before it"
    seen.add(n)
print(f"{len(raw)} entries in order")
EOF

step "a name that is not UTF-8 (Linux names are bytes) is stored raw"
mkdir -p "$T/nonutf8"
bad=$(printf 'bad\xffname.txt')
echo raw >"$T/nonutf8/$bad"
build_json "$T/nonutf8" -o "oci:$T/nuout:latest"
validate_image "$T/nuout" latest
assert_eq raw "$(cat "$VALIDATED_BUNDLE/rootfs/workspace/$bad")" "content under the raw name"

step "a hard link whose first path is ignored is stored as a file"
mkdir -p "$T/h"
echo 'data' >"$T/h/a-ignored"
ln "$T/h/a-ignored" "$T/h/b-kept"
echo 'a-ignored' >"$T/h/.dsbuildignore"
build_json "$T/h" -o "oci:$T/hout:latest"
validate_image "$T/hout" latest
assert_match "$(layer_list "$T/hout" latest)" '^-rw-r--r-- 1000/1000 +5 .* workspace/b-kept$' \
	"b-kept is a regular file"
assert_eq data "$(cat "$VALIDATED_BUNDLE/rootfs/workspace/b-kept")" "b-kept content"
assert_cache_clean
