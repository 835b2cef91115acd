#!/bin/bash
# Compares lib/oci/gzip.c (through bench/gzip_bench) with pigz -p2 and gzip on
# the same ~300 MB mixed input (100 MB each of /usr/bin, /usr/share and
# /usr/lib as sorted tar streams: ELF files, text, already-compressed data).
#   bench/gzip.sh [GZIP_BENCH]
# GZIP_BENCH is a built bench/gzip_bench; without it the driver is compiled
# by hand from this tree.  Env: BENCH_MB (per part, default 100), LEVELS
# (default "1 6 9").  Prints throughput and size ratios; times are wall clock,
# so run it on a quiet machine and read the ratios, not the MB/s.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
mb=${BENCH_MB:-100}
levels=${LEVELS:-1 6 9}

for tool in pigz gzip tar cc /usr/bin/time python3; do
	if ! command -v "$tool" >/dev/null; then
		pkg=${tool##*/}
		[ "$tool" = cc ] && pkg=gcc
		[ "$tool" = python3 ] && pkg=python3
		echo "bench/gzip.sh: '$tool' is missing: apt-get install $pkg" >&2
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/dsbuild-gzip-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

bench=${1:-}
if [ -z "$bench" ]; then
	bench=$tmp/gzip_bench
	cc -std=gnu11 -O2 -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I"$here/include" -I"$here/lib" \
		"$here/bench/gzip_bench.c" "$here/lib/oci/gzip.c" "$here"/lib/util/*.c \
		-lz -lcrypto -ljansson -lpthread -o "$bench"
fi

input=$tmp/input
for d in /usr/bin /usr/share /usr/lib; do
	tar --sort=name -cf - "$d" 2>/dev/null | head -c $((mb * 1024 * 1024)) || true
done >"$input"
insize=$(stat -c %s "$input")
cat "$input" >/dev/null # warm the page cache
echo "input: $((insize / 1048576)) MiB, $(nproc) cores, $(gzip --version | head -1), pigz $(pigz --version 2>&1 | awk '{print $2}')"

# run NAME CMD...: compresses $input to $tmp/NAME.gz; sets secs (wall), cpu
# (user + system seconds: less sensitive to other load than wall time) and size
run() {
	local name=$1
	shift
	/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$@" <"$input" >"$tmp/$name.gz"
	read -r secs cpu <<<"$(awk '{ printf "%.2f %.2f", $1, $2 + $3 }' "$tmp/time")"
	size=$(stat -c %s "$tmp/$name.gz")
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ratio4() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
mbs() { awk -v s="$1" -v n="$insize" 'BEGIN { printf "%.1f", n / 1048576 / s }'; }

# One zlib stream, no blocks: the size the block scheme is measured against.
cat >"$tmp/zlib1.py" <<'PY'
import sys, zlib
c = zlib.compressobj(int(sys.argv[1]), zlib.DEFLATED, 31)
while True:
    b = sys.stdin.buffer.read(1 << 20)
    if not b:
        break
    sys.stdout.buffer.write(c.compress(b))
sys.stdout.buffer.write(c.flush())
PY

fmt='%-5s %-12s %7s %7s %7s %10s %8s %8s %8s %8s %8s\n'
printf "\n$fmt" level tool wall-s cpu-s MB/s size xgzip-T xpigz2-T xgzip-sz xpigz2-sz xzlib-sz
for l in $levels; do
	run zlib python3 "$tmp/zlib1.py" "$l"
	zl_z=$size
	printf "$fmt" "$l" "zlib-1stream" "$secs" "$cpu" "$(mbs "$secs")" "$size"
	run gzip gzip -"$l" -n -c
	gz_s=$secs gz_z=$size
	printf "$fmt" "$l" gzip "$secs" "$cpu" "$(mbs "$secs")" "$size"
	run pigz pigz -p2 -"$l" -n -c
	pz_s=$secs pz_z=$size
	printf "$fmt" "$l" pigz-p2 "$secs" "$cpu" "$(mbs "$secs")" "$size"
	for t in 1 2; do
		run "ds$t" "$bench" -l "$l" -t "$t"
		# Throughput ratios: >1 means faster than the baseline.
		printf "$fmt" "$l" "dsbuild-t$t" "$secs" "$cpu" "$(mbs "$secs")" "$size" \
			"$(ratio "$gz_s" "$secs")" "$(ratio "$pz_s" "$secs")" \
			"$(ratio "$size" "$gz_z")" "$(ratio "$size" "$pz_z")" "$(ratio4 "$size" "$zl_z")"
	done
	cmp -s "$tmp/ds1.gz" "$tmp/ds2.gz" || { echo "level $l: threads 1 and 2 differ" >&2; exit 1; }
	gzip -t "$tmp/ds2.gz" || { echo "level $l: gzip -t rejects the output" >&2; exit 1; }
done
echo
echo "xgzip-T / xpigz2-T: throughput relative to gzip / pigz -p2 (>1 is faster)"
echo "xgzip-sz / xpigz2-sz / xzlib-sz: compressed size relative to gzip / pigz -p2 / one zlib"
echo "  stream of the same level (<1 is smaller); xzlib-sz is the cost of the block scheme"
echo "threads 1 and 2 gave identical bytes at every level; gzip -t accepted them"
