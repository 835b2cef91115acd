#!/bin/bash
# A build with several outputs writes all of them or none: a failing
# output, a corrupt base (wrong diff_id) or a refused push leaves every
# destination as it was, including an existing layout's index.json.
. "$(dirname "$0")/lib.sh"
need jq jq
need umoci umoci

src=$T/src
mkdir -p "$src"
echo 'print("hi")' >"$src/main.py"

step "a second output that cannot be written: the first is not left behind"
run "$DSBUILD" build "$src" -o "oci:$T/out1:latest" -o "docker-archive:$T/no/such/dir/x.tar"
assert_ne 0 "$rc" "exit code with an unwritable second output"
assert_contains "$err" "no/such/dir/x.tar"
assert_absent "$T/out1"
assert_no_leftovers "$T"

step "an existing layout keeps its index.json and gains no blobs"
build_json "$src" -o "oci:$T/lay:v1"
before_index=$(cat "$T/lay/index.json")
before_blobs=$(ls "$T/lay/blobs/sha256" | sort)
echo 'print("changed")' >>"$src/main.py"
run "$DSBUILD" build "$src" -o "oci:$T/lay:v2" -o "docker-archive:$T/no/such/dir/x.tar"
assert_ne 0 "$rc" "exit code with an unwritable second output"
assert_eq "$before_index" "$(cat "$T/lay/index.json")" "index.json after a failed build"
assert_eq "$before_blobs" "$(ls "$T/lay/blobs/sha256" | sort)" "blobs after a failed build"
assert_no_leftovers "$T"

step "a base whose config names a wrong diff_id is refused, whatever the outputs"
make_busybox_base "$T/base" latest
python3 - "$T/base" latest <<'PY'
import hashlib, json, os, sys
d, tag = sys.argv[1], sys.argv[2]
b = lambda dg: os.path.join(d, "blobs/sha256", dg.split(":")[1])
def put(obj):
    data = json.dumps(obj, separators=(",", ":")).encode(); h = hashlib.sha256(data).hexdigest()
    open(os.path.join(d, "blobs/sha256", h), "wb").write(data); return "sha256:" + h, len(data)
idx = json.load(open(os.path.join(d, "index.json")))
m = [x for x in idx["manifests"] if x["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
man = json.load(open(b(m["digest"]))); cfg = json.load(open(b(man["config"]["digest"])))
cfg["rootfs"]["diff_ids"][0] = "sha256:" + "0" * 64
man["config"]["digest"], man["config"]["size"] = put(cfg)
m["digest"], m["size"] = put(man)
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
PY
run "$DSBUILD" build "$src" --base "oci:$T/base:latest" -o "oci:$T/out2:latest" --cache-dir "$T/cache2"
assert_eq 4 "$rc" "exit code for a base with a wrong diff_id"
assert_contains "$err" "unpacks to"
assert_contains "$err" "sha256:0000000000000000000000000000000000000000000000000000000000000000"
assert_absent "$T/out2"
