#!/usr/bin/env bash
# The buildpack pipeline, side by side with baselines in the same run:
#  1. detection: `dsbuild detect` of a tree with N notebooks (every notebook
#     parsed and converted to a script, every file looked at) against
#     `python3` doing only the conversion part (json.load + joining the
#     code cells) over the same notebooks;
#  2. a code edit: rebuilding a project with a large model file after
#     editing one .py file (the model layer comes from the layer cache)
#     against the cold build of the same tree (--no-cache) and against
#     `tar | pigz | sha256sum` of the tree, the least any builder must do
#     without a cache.
#
# usage: bench/pipeline.sh [DSBUILD] [RUNS] [NOTEBOOKS] [MODEL_MB]
# Needs: python3, pigz, tar, GNU time.  The Debian base is built once,
# untimed, into the bench's cache.
set -euo pipefail
DSBUILD=$(realpath "${1:-build/cmd/dsbuild}")
RUNS=${2:-3}
NB=${3:-300}
MB=${4:-512}
work=$(mktemp -d "${TMPDIR:-/tmp}/dsbuild-bench-pipeline.XXXXXX")
trap 'rm -rf "$work"' EXIT
cache=$work/cache

secs() { /usr/bin/time -f %e -o "$work/t" bash -c "$1" >/dev/null 2>"$work/err" ||
	{ cat "$work/err" >&2; exit 1; }; cat "$work/t"; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

# ---- 1. detection ------------------------------------------------------------
nbs=$work/nbs
mkdir -p "$nbs"
python3 - "$nbs" "$NB" <<'PY'
import json, sys, os
out, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    cells = []
    for c in range(120):
        if c % 3 == 0:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": [f"## step {c}\n", "text " * 40]})
        else:
            src = [f"x_{c} = [j * {c} for j in range(100)]\n", "%%time y = sum(x_%d)\n" % c,
                   "print(len(x_%d))\n" % c] * 4
            cells.append({"cell_type": "code", "metadata": {}, "execution_count": c,
                          "outputs": [{"output_type": "stream", "name": "stdout", "text": ["100\n"] * 20}],
                          "source": src})
    nb = {"nbformat": 4, "nbformat_minor": 5, "cells": cells,
          "metadata": {"kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"}}}
    os.makedirs(os.path.join(out, f"d{i % 10}"), exist_ok=True)
    with open(os.path.join(out, f"d{i % 10}", f"nb{i}.ipynb"), "w") as f:
        json.dump(nb, f, indent=1)
PY
cat >"$work/convert.py" <<'PY'
import json, sys, pathlib
total = 0
for p in sorted(pathlib.Path(sys.argv[1]).rglob("*.ipynb")):
    nb = json.load(open(p))
    script = []
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] == "code":
            src = c["source"] if isinstance(c["source"], str) else "".join(c["source"])
            script.append(f"# cell {i + 1}\n" + src)
    total += len("\n".join(script))
print(total)
PY
size=$(du -sh "$nbs" | cut -f1)
echo "1. detection: $NB notebooks ($size), dsbuild detect vs python3 json.load + join"
printf '%-4s %12s %12s %8s\n' run "dsbuild s" "python3 s" ratio
for i in $(seq "$RUNS"); do
	d=$(secs "'$DSBUILD' detect --json '$nbs' --base scratch")
	p=$(secs "python3 '$work/convert.py' '$nbs'")
	printf '%-4s %12s %12s %8s\n' "$i" "$d" "$p" "$(ratio "$d" "$p")"
done

# ---- 2. a code edit ------------------------------------------------------------
src=$work/proj
mkdir -p "$src"
python3 -c "
import pickle, os
with open('$src/model.pkl', 'wb') as f:
    pickle.dump({'weights': os.urandom($MB * 1024 * 1024 // 2) + bytes($MB * 1024 * 1024 // 2)}, f, protocol=4)
"
printf 'def predict(x):\n    return x\n' >"$src/serve.py"
printf 'print("train")\n' >"$src/train.py"
# the Debian base, untimed
"$DSBUILD" build "$src" -q --cache-dir "$cache" -o "oci:$work/warm:x" >/dev/null
rm -rf "$work/warm"
echo
echo "2. a code edit in a tree with a ${MB} MiB model: rebuild vs cold build vs tar|pigz|sha256sum"
printf '%-4s %12s %12s %12s %10s %10s\n' run "rebuild s" "cold s" "tar+pigz s" "rb/cold" "rb/tar"
for i in $(seq "$RUNS"); do
	echo "# edit $i" >>"$src/serve.py"
	rb=$(secs "'$DSBUILD' build -q --cache-dir '$cache' '$src' -o 'oci:$work/o$i:x'")
	rm -rf "$work/o$i"
	cold=$(secs "'$DSBUILD' build -q --no-cache --cache-dir '$cache' '$src' -o 'oci:$work/c$i:x'")
	rm -rf "$work/c$i"
	tp=$(secs "tar -C '$src' --sort=name -cf - . | pigz -p2 -6 | sha256sum")
	printf '%-4s %12s %12s %12s %10s %10s\n' "$i" "$rb" "$cold" "$tp" "$(ratio "$rb" "$cold")" \
		"$(ratio "$rb" "$tp")"
done
