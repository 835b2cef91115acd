#!/bin/bash
# A 9 GiB (sparse) file: the build streams it in bounded memory (peak RSS
# measured by GNU time) and the layer holds all 9 GiB, with a correct
# diff_id and size.  Slow by nature: kept apart from the other tests (suite
# "slow", which .ci/run runs in the plain build only).  Level 1: the point is
# streaming in bounded memory, not compression.
. "$(dirname "$0")/lib.sh"
need jq jq
need tar tar
need gzip gzip
need python3 python3
[ -x /usr/bin/time ] || fail "missing /usr/bin/time: apt-get install time (or run tests/install-deps.sh test)"

size=$((9 * 1024 * 1024 * 1024))
max_rss_kb=$((200 * 1024))
src=$T/src
mkdir -p "$src"
echo 'print("model")' >"$src/serve.py"
truncate -s "$size" "$src/model.bin" || fail "truncate -s 9G failed on $(df -h "$T" | tail -1)"
printf 'tail-marker' | dd of="$src/model.bin" bs=1 seek=$((size - 11)) conv=notrunc status=none
[ "$(stat -c %s "$src/model.bin")" = "$size" ] || fail "test setup: model.bin is $(stat -c %s "$src/model.bin") bytes"
alloc=$(du -k "$src/model.bin" | cut -f1)
[ "$alloc" -lt 1024 ] || echo "note: the filesystem did not keep model.bin sparse (${alloc} KiB on disk)"

step "build with peak RSS measured"
start=$(date +%s)
/usr/bin/time -v -o "$T/time.txt" "$DSBUILD" build --json -q --gzip-level 1 "$src" -o "oci:$T/out:latest" >"$T/out.json" 2>"$T/err.txt" ||
	fail "build of a 9 GiB tree failed: $(cat "$T/err.txt")"
echo "build took $(($(date +%s) - start)) s"
rss=$(sed -n 's/^[[:space:]]*Maximum resident set size (kbytes): //p' "$T/time.txt")
[ -n "$rss" ] || fail "no 'Maximum resident set size' in GNU time's output: $(cat "$T/time.txt")"
echo "peak RSS: $rss KiB"
[ "$rss" -lt "$max_rss_kb" ] || fail "peak RSS $rss KiB >= $max_rss_kb KiB while building a 9 GiB file"

step "the models layer (a file over the model threshold) holds the whole file"
# layers: models (model.bin), app (serve.py)
blob=$(layer_blob "$T/out" latest -2)
assert_eq "$(jq -r '.layers[-2].digest' "$T/out.json")" "sha256:$(sha256sum <"$blob" | cut -d' ' -f1)" \
	"layer digest"
compressed=$(stat -c %s "$blob")
[ "$compressed" -lt $((100 * 1024 * 1024)) ] || fail "9 GiB of zeros compressed to $compressed bytes"
assert_eq "$compressed" "$(manifest_of "$T/out" latest | jq -r '.layers[-2].size')" "layer size in the manifest"
assert_contains "$(layer_list "$T/out" latest)" "workspace/serve.py" "the app layer"
assert_not_contains "$(layer_list "$T/out" latest)" "model.bin" "the app layer"
step "one pass over the uncompressed stream: entries, diff_id, the file's last bytes"
# (9 GiB: decompressing once, not once per check, keeps this test to minutes)
gzip -dc "$blob" | tee >(sha256sum | cut -d' ' -f1 >"$T/diff_id") |
	python3 -c '
import sys, tarfile
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as tf:
    for m in tf:
        print(f"{m.type.decode()} {m.mode:o} {m.uid}/{m.gid} {m.size} {m.mtime} {m.name}")
        if m.name == "workspace/model.bin":
            f = tf.extractfile(m); tail = b""
            while True:
                b = f.read(1 << 20)
                if not b: break
                tail = (tail + b)[-11:]
            print("tail:" + tail.decode("ascii", "replace"))
' >"$T/entries" || fail "reading the layer stream failed"
# the tee'd sha256sum may still be finishing
for _ in $(seq 1 100); do [ -s "$T/diff_id" ] && break; sleep 0.2; done
cat "$T/entries"
assert_eq "5 755 1000/1000 0 0 workspace
0 644 1000/1000 $size 0 workspace/model.bin
tail:tail-marker" "$(cat "$T/entries")" "layer entries"
assert_eq "$(config_of "$T/out" latest | jq -r '.rootfs.diff_ids[-2]')" "sha256:$(cat "$T/diff_id")" "diff_id"
assert_cache_clean
