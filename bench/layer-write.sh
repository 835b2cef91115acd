#!/usr/bin/env bash
# Layer-write throughput and peak memory of `dsbuild build` against
#   tar --sort=name ... | pigz -p2 -LEVEL | sha256sum
# on the same tree (many small .py files + a few large binaries, ~1 GiB),
# run side by side in the same run, printed as ratios.
#
# usage: bench/layer-write.sh [DSBUILD] [SIZE_MB] [LEVELS]
#   DSBUILD  the binary (default: build/cmd/dsbuild)
#   SIZE_MB  approximate tree size (default 1024)
#   LEVELS   gzip levels to compare (default "1 6")
# Needs: pigz, GNU tar, /usr/bin/time (package 'time').
set -euo pipefail

DSBUILD=$(realpath "${1:-build/cmd/dsbuild}")
SIZE_MB=${2:-1024}
LEVELS=${3:-"1 6"}
for t in pigz tar /usr/bin/time python3; do
	command -v "$t" >/dev/null || { echo "missing $t: apt-get install pigz tar time python3" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/dsbuild-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/tree"

# The tree: 15% small source files, 85% large files (half random, as
# trained weights are; half compressible, as CSV data is).
python3 - "$tree" "$SIZE_MB" <<'PY'
import os, random, sys
root, size_mb = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
small_budget = size_mb * 1024 * 1024 * 15 // 100
words = ["import", "numpy", "def", "return", "self", "model", "train", "data", "for", "in",
         "range", "if", "else", "print", "class", "value", "loss", "x", "y", "=", "+", "(", ")"]
n, total = 0, 0
while total < small_budget:
    d = os.path.join(root, "src", "pkg%03d" % (n // 200))
    os.makedirs(d, exist_ok=True)
    body = "\n".join(" ".join(rnd.choice(words) for _ in range(rnd.randint(3, 12)))
                     for _ in range(rnd.randint(20, 200))) + "\n"
    with open(os.path.join(d, "mod%05d.py" % n), "w") as f:
        f.write(body)
    n += 1
    total += len(body)
big = size_mb * 1024 * 1024 - total
os.makedirs(os.path.join(root, "models"), exist_ok=True)
os.makedirs(os.path.join(root, "data"), exist_ok=True)
with open(os.path.join(root, "models", "weights.bin"), "wb") as f:
    left = big // 2
    while left > 0:
        chunk = min(left, 1 << 20)
        f.write(os.urandom(chunk))
        left -= chunk
with open(os.path.join(root, "data", "table.csv"), "w") as f:
    left = big // 2
    i = 0
    while left > 0:
        line = "%d,%0.6f,%0.6f,%s\n" % (i, rnd.random(), rnd.gauss(0, 1), rnd.choice(words))
        f.write(line)
        left -= len(line)
        i += 1
print("tree: %d small files, %d MB total" % (n, size_mb))
PY

# Warm the page cache so both sides read from memory.
tar -cf - -C "$tree" . >/dev/null

measure() { # label cmd... -> prints "seconds maxrss_kb"
	local out="$work/time.$1"
	shift
	/usr/bin/time -f "%e %M" -o "$out" bash -c "$*" >/dev/null 2>"$work/err" || {
		cat "$work/err" >&2
		exit 1
	}
	cat "$out"
}

printf '%-6s %-10s %10s %10s %12s %10s\n' level tool seconds "MB/s" "peak RSS MB" "out MB"
for level in $LEVELS; do
	rm -rf "$work/cache" "$work/out"
	read -r ds_s ds_kb < <(measure ds "SOURCE_DATE_EPOCH=0 '$DSBUILD' build '$tree' -q --base scratch --gzip-level $level --cache-dir '$work/cache' -o oci:'$work/out':b")
	ds_out=$(du -sm "$work/out/blobs" | cut -f1)
	read -r bl_s bl_kb < <(measure base "tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 --format=pax -cf - -C '$tree' . | pigz -p2 -$level | tee '$work/base.tgz' | sha256sum")
	bl_out=$(du -m "$work/base.tgz" | cut -f1)
	rm -f "$work/base.tgz"
	printf '%-6s %-10s %10s %10.0f %12.1f %10s\n' "$level" dsbuild "$ds_s" "$(echo "$SIZE_MB / $ds_s" | bc -l)" "$(echo "$ds_kb / 1024" | bc -l)" "$ds_out"
	printf '%-6s %-10s %10s %10.0f %12.1f %10s\n' "$level" "tar|pigz" "$bl_s" "$(echo "$SIZE_MB / $bl_s" | bc -l)" "$(echo "$bl_kb / 1024" | bc -l)" "$bl_out"
	printf 'level %s: dsbuild time / baseline time = %.2f (below 1 = dsbuild faster)\n' "$level" "$(echo "$ds_s / $bl_s" | bc -l)"
done
