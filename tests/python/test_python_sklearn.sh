#!/bin/bash
# Real compiled wheels (numpy, scipy, scikit-learn repackaged from Debian by
# mkrealwheels.sh, plus pip/setuptools from /usr/share/python-wheels) from a
# local index: `dsbuild build` of a tree whose requirements.txt names numpy
# and scikit-learn on the default Debian base; a fit/predict under podman;
# a rebuild with unchanged requirements reuses the dependency layer.
. "$(dirname "$0")/lib-python.sh"
need patchelf patchelf
need dpkg-deb dpkg
podman_env
unset DSBUILD_BASE
py_cache

step "real wheels"
bash "$PYTESTS/mkrealwheels.sh" "$PYCACHE/pyreal" || fail "cannot make the real wheels"
mkindex "$PYCACHE/pyreal/wheels" "$T/idx"
serve "$T/idx"

src=$T/proj
mkdir -p "$src"
printf 'numpy>=1.20\nscikit-learn\n' >"$src/requirements.txt"
cat >"$src/train.py" <<'PY'
import pickle, sys
import numpy as np, scipy, sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.datasets import make_classification
X, y = make_classification(n_samples=200, n_features=5, random_state=0)
m = LogisticRegression().fit(X, y)
m2 = pickle.loads(pickle.dumps(m))
print("prefix", sys.prefix, "sklearn", sklearn.__version__, "scipy", scipy.__version__,
      "numpy", np.__version__, "score>0.8", m2.score(X, y) > 0.8)
PY

step "build"
build_json "$src" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" -o "oci:$T/img:latest" \
	--cmd 'python train.py'
first=$(last_json)
printf '%s' "$first" | jq -e '[.python.packages[] | "\(.name)==\(.version)"] == ["joblib==1.2.0","numpy==1.24.2","scikit-learn==1.2.1","scipy==1.10.1","threadpoolctl==3.1.0"]' >/dev/null ||
	fail "resolved set: $(printf '%s' "$first" | jq -c '.python')"
validate_image "$T/img" latest

step "fit and predict under podman"
prun "oci:$T/img:latest"
[ "$rc" = 0 ] || fail "the image does not run: $err"
assert_eq "prefix /opt/venv sklearn 1.2.1 scipy 1.10.1 numpy 1.24.2 score>0.8 True" "$out" "train.py"

step "a rebuild with unchanged requirements reuses the dependency layer"
echo '# edit' >>"$src/train.py"
start=$(date +%s%N)
build_json "$src" --cache-dir "$PYCACHE" --index-url "$INDEX/simple" -o "oci:$T/img2:latest" \
	--cmd 'python train.py'
ms=$((($(date +%s%N) - start) / 1000000))
second=$(last_json)
printf '%s' "$second" | jq -e '.python.cached == true' >/dev/null || fail "not cached"
assert_eq "$(printf '%s' "$first" | jq -r '.layers[-2].digest')" \
	"$(printf '%s' "$second" | jq -r '.layers[-2].digest')" "dependency layer"
echo "warm rebuild: ${ms} ms"
