#!/bin/bash
# The same base at two paths gives the same image: a local base's path is
# not recorded (base.digest is), so moving a checkout or a base folder
# does not change digests.
. "$(dirname "$0")/lib.sh"
need jq jq
mkdir -p "$T/src"
echo 'print(1)' >"$T/src/main.py"
make_busybox_base "$T/a/base" latest
mkdir -p "$T/elsewhere"
cp -a "$T/a/base" "$T/elsewhere/base-copy"
d1=$(build_digest "$T/src" --base "oci:$T/a/base:latest" -o "oci:$T/o1:latest")
d2=$(build_digest "$T/src" --base "oci:$T/elsewhere/base-copy:latest" -o "oci:$T/o2:latest")
assert_eq "$d1" "$d2" "digest with the same base at another path"
ann=$(manifest_of "$T/o1" latest | jq -c .annotations)
assert_eq "$(manifest_of "$T/a/base" latest | jq -r '.config.digest' >/dev/null; jq -r '.manifests[0].digest' "$T/a/base/index.json")" \
	"$(printf '%s' "$ann" | jq -r '."org.opencontainers.image.base.digest"')" "base.digest annotation"
assert_eq null "$(printf '%s' "$ann" | jq -r '."org.opencontainers.image.base.name"')" "no base.name for a local path"
