#!/usr/bin/env bash
# The default base: dsbuild's Debian Python runtime (cold: empty cache,
# everything downloaded and verified; warm: cached) against
#   mmdebstrap --variant=essential --include=python3 SUITE
# side by side in the same run, with the sizes of both.
#
# usage: bench/debian-base.sh [DSBUILD] [SUITE]
# Needs: mmdebstrap, network access to the Debian mirror.
set -euo pipefail
DSBUILD=$(realpath "${1:-build/cmd/dsbuild}")
SUITE=${2:-bookworm}
command -v mmdebstrap >/dev/null || { echo "missing mmdebstrap: apt-get install mmdebstrap" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/dsbuild-bench-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src"
echo 'print("hi")' >"$work/src/main.py"

secs() { /usr/bin/time -f %e -o "$work/t" bash -c "$1" >/dev/null 2>"$work/err" ||
	{ cat "$work/err" >&2; exit 1; }; cat "$work/t"; }

cold=$(secs "'$DSBUILD' build '$work/src' -q --base debian:$SUITE --cache-dir '$work/cache' -o 'oci:$work/img:x'")
size=$(du -sb "$work/img/blobs" | cut -f1)
warm=$(secs "'$DSBUILD' build '$work/src' -q --base debian:$SUITE --cache-dir '$work/cache' -o 'oci:$work/img2:x'")
mm=$(secs "SOURCE_DATE_EPOCH=0 mmdebstrap --quiet --variant=essential --include=python3 \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' '$SUITE' '$work/mm.tar'")
mmgz=$(pigz -6 -c "$work/mm.tar" | wc -c)
printf '%-34s %8s s  %6.1f MB (gzip)\n' "dsbuild cold (download, verify, layers)" "$cold" "$(echo "$size / 1000000" | bc -l)"
printf '%-34s %8s s\n' "dsbuild warm (cached)" "$warm"
printf '%-34s %8s s  %6.1f MB (tar | gzip -6)\n' "mmdebstrap essential + python3" "$mm" "$(echo "$mmgz / 1000000" | bc -l)"
printf 'cold ratio dsbuild/mmdebstrap: %.2f; size ratio: %.2f\n' "$(echo "$cold / $mm" | bc -l)" "$(echo "$size / $mmgz" | bc -l)"
