#!/bin/bash
# Layer boundaries of the buildpack pipeline (base... → runtime → models → app):
#  - a code edit in a copy of examples/model-api changes the app layer only (the
#    models layer is the same, reused from the cache);
#  - a model file edit changes the models layer only (the app layer, which does
#    not hold model.pkl, is the same);
#  - a notebook edit in a copy of examples/training-job changes the app layer
#    only (the converted job script is in it).
# Rebuilding an unchanged tree gives the same manifest digest.  (The cache is
# shared between runs, so a changed layer may well be "cached" from an earlier
# run: the digests are what is compared.)
. "$(dirname "$0")/lib-buildpacks.sh"
# The copies are not in git: pin the epoch so that only the edits differ.
export SOURCE_DATE_EPOCH=1700000000

# same_except JSON1 JSON2 INDEX...: the layer lists have the same length and
# the same digests except at the (negative) indexes given, which differ.
same_except() {
	local a=$1 b=$2
	shift 2
	local n1 n2 i d1 d2 differ
	n1=$(printf '%s' "$a" | jq '.layers | length')
	n2=$(printf '%s' "$b" | jq '.layers | length')
	assert_eq "$n1" "$n2" "number of layers"
	for ((i = -n1; i < 0; i++)); do
		d1=$(printf '%s' "$a" | jq -r ".layers[$i].digest")
		d2=$(printf '%s' "$b" | jq -r ".layers[$i].digest")
		differ=0
		for x in "$@"; do
			[ "$x" = "$i" ] && differ=1
		done
		if [ $differ = 1 ]; then
			assert_ne "$d1" "$d2" "layer $i ($(printf '%s' "$a" | jq -r ".layers[$i].created_by")) should change"
		else
			assert_eq "$d1" "$d2" "layer $i ($(printf '%s' "$a" | jq -r ".layers[$i].created_by")) should not change"
		fi
	done
}

step "model-api copy: first build"
src=$T/model-api
cp -r "$EXAMPLES/model-api" "$src"
rm -rf "$src/__pycache__"
bp_build "$src" "$T/img1"
j1=$(last_json)
json_is "$j1" '.layers[-3].created_by | test("buildpack runtime")' "runtime layer"
json_is "$j1" '.layers[-2].created_by | test("model files")' "models layer"
json_is "$j1" '.layers[-1].created_by | test("app source")' "app layer"

step "an unchanged tree: the same image"
bp_build "$src" "$T/img1b"
j1b=$(last_json)
assert_eq "$(printf '%s' "$j1" | jq -r .digest)" "$(printf '%s' "$j1b" | jq -r .digest)" \
	"manifest digest of a rebuild"

step "edit model.py: only the app layer changes"
printf '\n# an edit\n' >>"$src/model.py"
bp_build "$src" "$T/img2"
j2=$(last_json)
same_except "$j1" "$j2" -1
json_is "$j2" '.layers[-2].cached == true' "the models layer comes from the cache"

step "edit model.pkl: only the models layer changes"
# bytes after a pickle's STOP opcode are never read: still the same model
printf '\n' >>"$src/model.pkl"
bp_build "$src" "$T/img3"
j3=$(last_json)
same_except "$j2" "$j3" -2
json_is "$j3" '.layers[-1].cached == true' "the app layer comes from the cache"
models=$(layer_list "$T/img3" latest -2)
assert_match "$models" ' 507 .* workspace/model\.pkl$' "the new model.pkl (507 bytes) in the models layer"
validate_image "$T/img3" latest
prun "oci:$T/img3:latest" python3 -c '
import pickle, sys
sys.path.insert(0, "/workspace")
print(pickle.load(open("/workspace/model.pkl", "rb")).predict([[5.1, 3.5, 1.4, 0.2]]))'
[ "$rc" = 0 ] || fail "the edited model does not load in the image: $err"
assert_eq "['setosa']" "$out" "the edited model predicts"

step "edit a data file: only the app layer changes"
printf '5.0,3.4,1.5,0.2,setosa\n' >>"$src/data/iris.csv"
bp_build "$src" "$T/img4"
j4=$(last_json)
same_except "$j3" "$j4" -1

step "training-job copy: edit the notebook, only the app layer changes"
src=$T/training-job
cp -r "$EXAMPLES/training-job" "$src"
bp_build "$src" "$T/tj1"
t1=$(last_json)
json_is "$t1" '.layers[-1].created_by | test("app source")' "app layer"
json_is "$t1" '[.layers[].created_by | select(test("model files"))] == []' "no models layer"
# the default of `epochs` in the parameters cell: 20 -> 30
python3 - "$src/train.ipynb" <<'PY' || fail "cannot edit the notebook"
import json, sys
p = sys.argv[1]
nb = json.load(open(p))
n = 0
for c in nb["cells"]:
    if "parameters" in c.get("metadata", {}).get("tags", []):
        src = "".join(c["source"])
        assert "epochs = 20" in src, src
        c["source"] = src.replace("epochs = 20", "epochs = 30").splitlines(True)
        n += 1
assert n == 1, n
json.dump(nb, open(p, "w"), indent=1)
PY
bp_build "$src" "$T/tj2"
t2=$(last_json)
same_except "$t1" "$t2" -1
validate_image "$T/tj2" latest
assert_contains "$(cat "$VALIDATED_BUNDLE/rootfs/workspace/.dsbuild/jobs/train.py")" "epochs = 30" \
	"the converted job script has the new default"
