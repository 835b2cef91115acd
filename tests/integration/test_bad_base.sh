#!/bin/bash
# Base images: good ones in every transport work; missing or corrupt ones
# fail with exit 4 naming the ref/file, and nothing is left behind.  Each
# corrupt case uses a fresh cache: a good blob already cached under the same
# digest would hide a corrupt copy.
. "$(dirname "$0")/lib.sh"
need jq jq
need skopeo skopeo
need python3 python3

make_busybox_base "$T/base" latest
src=$T/src
mkdir -p "$src"
echo 'print(1)' >"$src/main.py"

nb=$(manifest_of "$T/base" latest | jq '.layers | length')
M=$(manifest_digest "$T/base" latest)
C=$(manifest_of "$T/base" latest | jq -r .config.digest)
L=$(manifest_of "$T/base" latest | jq -r '.layers[0].digest')

step "good bases: oci:, oci: without tag, oci-archive:, docker-archive: (made by skopeo)"
build_json "$src" --base "oci:$T/base:latest" -o "oci:$T/g1:latest"
d_oci=$(jq -r .digest <<<"$out")
validate_image "$T/g1" latest
assert_eq $((nb + 1)) "$(manifest_of "$T/g1" latest | jq '.layers | length')" "base layers + app layer"
build_json "$src" --base "oci:$T/base" -o "oci:$T/g2:latest"
assert_eq "$(manifest_of "$T/g1" latest | jq -c .layers)" "$(manifest_of "$T/g2" latest | jq -c .layers)" \
	"oci:DIR with one image = oci:DIR:latest (layers)"
assert_eq "$(config_of "$T/g1" latest)" "$(config_of "$T/g2" latest)" "oci:DIR with one image (config)"
ok skopeo copy -q "oci:$T/base:latest" "oci-archive:$T/base.oci.tar:latest"
build_json "$src" --base "oci-archive:$T/base.oci.tar" -o "oci:$T/g3:latest"
assert_eq "$(manifest_of "$T/g1" latest | jq -c .layers)" "$(manifest_of "$T/g3" latest | jq -c .layers)" \
	"oci-archive base gives the same layers"
assert_eq "$(config_of "$T/g1" latest)" "$(config_of "$T/g3" latest)" "oci-archive base gives the same config"
ok skopeo copy -q "oci:$T/base:latest" "docker-archive:$T/base.docker.tar:base/busybox:latest"
build_json "$src" --base "docker-archive:$T/base.docker.tar" -o "oci:$T/g4:latest"
validate_image "$T/g4" latest
assert_eq $((nb + 1)) "$(manifest_of "$T/g4" latest | jq '.layers | length')" \
	"docker-archive base layers + app layer"
assert_eq "$(config_of "$T/base" latest | jq -c .rootfs.diff_ids)" \
	"$(config_of "$T/g4" latest | jq -c ".rootfs.diff_ids[:$nb]")" "diff_ids of the docker-archive base kept"
assert_eq "$(config_of "$T/base" latest | jq -c .config.Cmd)" "$(config_of "$T/g4" latest | jq -c .config.Cmd)" \
	"Cmd inherited from the docker-archive base"
step "a base made by dsbuild (docker-archive output) as a base"
build_json "$src" --base "oci:$T/base:latest" -o "docker-archive:$T/ds.docker.tar:ds/img:v1"
build_json "$src" --base "docker-archive:$T/ds.docker.tar" -o "oci:$T/g5:latest"
validate_image "$T/g5" latest
assert_eq $((nb + 2)) "$(manifest_of "$T/g5" latest | jq '.layers | length')" "layers of base-of-base"

# corrupt NAME: a copy of the base to break
corrupt() {
	rm -rf "${T:?}/bad/$1"
	mkdir -p "$T/bad"
	cp -a "$T/base" "$T/bad/$1"
	echo "$T/bad/$1"
}
# rewrite_json DIR PYTHON: edit index/manifest/config with python, keeping the
# layout consistent apart from what PYTHON breaks.
# bad_base CODE "NAME..." REF: build on REF with a fresh cache; expect CODE,
# an error naming each NAME and no output.
n=0
# OUTPUTS (default: an oci: layout and a docker-archive) may be set to
# choose the outputs.
bad_base() {
	local code=$1 names=$2 ref=$3 outs
	n=$((n + 1))
	rm -rf "$T/outs" && mkdir -p "$T/outs"
	read -r -a outs <<<"${OUTPUTS:--o oci:$T/outs/o:latest -o docker-archive:$T/outs/o.tar}"
	DSBUILD_CACHE=$T/cache.$n expect_exit "$code" "$DSBUILD" build --base "$ref" "$src" "${outs[@]}"
	local w
	for w in $names; do
		assert_contains "$err" "$w" "error names '$w'"
	done
	assert_match "$err" '^error: ' "git-style error"
	assert_not_contains "$err" "Segmentation" "crash"
	assert_eq "" "$(ls -A "$T/outs")" "no output after a bad base"
	assert_cache_clean "$T/cache.$n"
}

step "missing things"
soft bad_base 4 "$T/nonexistent" "oci:$T/nonexistent:latest"
soft bad_base 4 "nosuchtag" "oci:$T/base:nosuchtag"
soft bad_base 4 "$T/nonexistent.tar" "oci-archive:$T/nonexistent.tar"
soft bad_base 4 "$T/nonexistent.tar" "docker-archive:$T/nonexistent.tar"

step "layout missing oci-layout"
d=$(corrupt no-oci-layout)
rm "$d/oci-layout"
soft bad_base 4 "oci-layout" "oci:$d:latest"

step "broken index.json"
d=$(corrupt broken-index)
echo '{"schemaVersion":2,"manifests":[' >"$d/index.json"
soft bad_base 4 "index.json" "oci:$d:latest"

step "missing layer blob"
d=$(corrupt missing-layer)
rm "$(blob_path "$d" "$L")"
soft bad_base 4 "${L#sha256:}" "oci:$d:latest"

step "missing config blob"
d=$(corrupt missing-config)
rm "$(blob_path "$d" "$C")"
soft bad_base 4 "${C#sha256:}" "oci:$d:latest"

step "missing manifest blob"
d=$(corrupt missing-manifest)
rm "$(blob_path "$d" "$M")"
soft bad_base 4 "${M#sha256:}" "oci:$d:latest"

step "layer blob whose content does not match its digest"
d=$(corrupt layer-digest)
printf 'X' | dd of="$(blob_path "$d" "$L")" bs=1 seek=100 conv=notrunc status=none
soft bad_base 4 "${L#sha256:}" "oci:$d:latest"

step "truncated layer blob"
d=$(corrupt layer-truncated)
truncate -s -10 "$(blob_path "$d" "$L")"
soft bad_base 4 "${L#sha256:}" "oci:$d:latest"

step "manifest blob whose content does not match its digest"
d=$(corrupt manifest-digest)
mp=$(blob_path "$d" "$M")
jq -c '.annotations = {"x":"y"}' "$mp" >"$mp.new" && mv "$mp.new" "$mp"
soft bad_base 4 "${M#sha256:}" "oci:$d:latest"

step "config blob whose content does not match its digest"
d=$(corrupt config-digest)
cp=$(blob_path "$d" "$C")
jq -c '.config.Cmd = ["evil"]' "$cp" >"$cp.new" && mv "$cp.new" "$cp"
soft bad_base 4 "${C#sha256:}" "oci:$d:latest"

step "wrong diff_id (umoci's favourite catch), consistent digests otherwise"
d=$(corrupt bad-diffid)
python3 - "$d" latest <<'EOF'
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
EOF
soft bad_base 4 "${L#sha256:} 0000000000000000" "oci:$d:latest"
# an oci: output alone needs no decompression: the base must be checked anyway
# (else the image is one umoci refuses: "diffid mismatch")
OUTPUTS="-o oci:$T/outs/o:latest" soft bad_base 4 "${L#sha256:} 0000000000000000" "oci:$d:latest"

step "wrong layer size in the manifest"
d=$(corrupt bad-size)
python3 - "$d" latest <<'EOF'
import hashlib, json, os, sys
d, tag = sys.argv[1], sys.argv[2]
b = lambda dg: os.path.join(d, "blobs/sha256", dg.split(":")[1])
idx = json.load(open(os.path.join(d, "index.json")))
m = [x for x in idx["manifests"] if x["annotations"]["org.opencontainers.image.ref.name"] == tag][0]
man = json.load(open(b(m["digest"]))); man["layers"][0]["size"] += 1
data = json.dumps(man, separators=(",", ":")).encode(); h = hashlib.sha256(data).hexdigest()
open(os.path.join(d, "blobs/sha256", h), "wb").write(data); m["digest"], m["size"] = "sha256:" + h, len(data)
json.dump(idx, open(os.path.join(d, "index.json"), "w"))
EOF
soft bad_base 4 "size" "oci:$d:latest"

step "a blob path that escapes the layout"
d=$(corrupt escaping-digest)
jq -c '.manifests[0].digest = "sha256:../../../../etc/passwd"' "$d/index.json" >"$d/i" && mv "$d/i" "$d/index.json"
soft bad_base 4 "digest" "oci:$d:latest"

step "an archive that is not an archive"
head -c 4096 /dev/urandom >"$T/garbage.tar"
soft bad_base 4 "$T/garbage.tar" "oci-archive:$T/garbage.tar"
soft bad_base 4 "$T/garbage.tar" "docker-archive:$T/garbage.tar"

step "the good base still works after all that"
build_json "$src" --base "oci:$T/base:latest" -o "oci:$T/g6:latest"
assert_eq "$d_oci" "$(jq -r .digest <<<"$out")" "good base digest"

soft_done
