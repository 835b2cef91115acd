#!/usr/bin/env bash
# The Python dependency layer: numpy + scipy + scikit-learn + joblib from a
# local folder of real wheels into a finished layer, against
#   pip install --no-index --find-links DIR --target T  then  tar | pigz | sha256sum
# side by side in the same run, printed as ratios; then a warm rebuild with
# unchanged requirements (the layer cache).
#
# usage: bench/python-deps.sh [DSBUILD] [RUNS]
# Needs: Debian's python3-pip (/usr/bin/python3 -m pip), pigz, tar, the
# packages tests/python/mkrealwheels.sh needs (patchelf, dpkg, apt-get).
set -euo pipefail
DSBUILD=$(realpath "${1:-build/cmd/dsbuild}")
RUNS=${2:-3}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dsbuild-bench-py.XXXXXX")
trap 'rm -rf "$work"' EXIT
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CERT PIP_CONFIG_FILE

wheels=${DSBUILD_BENCH_WHEELS:-/var/tmp/dsbuild-bench-wheels}
"$here/tests/python/mkrealwheels.sh" "$wheels" >/dev/null
src=$work/src
mkdir -p "$src"
printf 'numpy\nscipy\nscikit-learn\njoblib\n' >"$src/requirements.txt"
echo 'import sklearn' >"$src/main.py"
cache=$work/cache
# The Debian base is not what is measured: a cache holding only it is made
# once, untimed, and each run starts from a copy of it.
mkdir -p "$work/nodeps"
echo 'print("hi")' >"$work/nodeps/main.py"
"$DSBUILD" build "$work/nodeps" -q --cache-dir "$work/base-cache" -o "oci:$work/warmup:x" >/dev/null
rm -rf "$work/warmup"

secs() { /usr/bin/time -f %e -o "$work/t" bash -c "$1" >/dev/null 2>"$work/err" ||
	{ cat "$work/err" >&2; exit 1; }; cat "$work/t"; }

printf '%-4s %12s %14s %8s\n' run "dsbuild s" "pip+tar+pigz s" ratio
ds_all=() pip_all=()
for i in $(seq "$RUNS"); do
	# cold for the dependency layer: the base-only cache, nothing else
	rm -rf "$cache" "$work/out"
	cp -a "$work/base-cache" "$cache"
	ds=$(secs "'$DSBUILD' build '$src' -q --find-links '$wheels/wheels' --no-index --cache-dir '$cache' -o 'oci:$work/out:x'")
	rm -rf "$work/target"
	pip=$(secs "/usr/bin/python3 -m pip install -q --no-index --find-links '$wheels/wheels' --target '$work/target' --no-compile --break-system-packages numpy scipy scikit-learn joblib && tar --sort=name --mtime=@0 --owner=0 --group=0 -cf - -C '$work/target' . | pigz -p2 -6 | sha256sum")
	printf '%-4s %12s %14s %8.2f\n' "$i" "$ds" "$pip" "$(echo "$ds / $pip" | bc -l)"
	ds_all+=("$ds") pip_all+=("$pip")
done
med() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
printf 'median: dsbuild %s s, pip+tar+pigz %s s, ratio %.2f (below 1 = dsbuild faster)\n' \
	"$(med "${ds_all[@]}")" "$(med "${pip_all[@]}")" "$(echo "$(med "${ds_all[@]}") / $(med "${pip_all[@]}")" | bc -l)"
warm=$(secs "'$DSBUILD' build '$src' -q --find-links '$wheels/wheels' --no-index --cache-dir '$cache' -o 'oci:$work/out2:x'")
echo "warm rebuild, unchanged requirements: $warm s"
