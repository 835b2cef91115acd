#!/bin/bash
# A small tree built on `--base scratch`: every validator accepts it; one
# layer; WorkingDir /workspace; files at /workspace owned 1000:1000 with
# normalised modes and mtime = epoch; default output and -t tags.
. "$(dirname "$0")/lib.sh"
need jq jq
need tar tar

src=$T/src
mkdir -p "$src/pkg/sub" "$src/data"
printf 'print("hello")\n' >"$src/main.py"
printf 'X = 1\n' >"$src/pkg/__init__.py"
printf 'a,b\n1,2\n' >"$src/data/x.csv"
printf '#!/bin/sh\necho run\n' >"$src/run.sh"
printf 'deep\n' >"$src/pkg/sub/deep.txt"
# modes that must be normalised: 0600 -> 0644, 0700 -> 0755, 0664 -> 0644,
# 0750 dir -> 0755, 0777 file without... (exec) -> 0755
chmod 0600 "$src/main.py"
chmod 0700 "$src/run.sh"
chmod 0664 "$src/data/x.csv"
chmod 0750 "$src/pkg"
chmod 0777 "$src/pkg/sub/deep.txt"
chown -R 4321:5678 "$src"

step "build on scratch"
build_json "$src" --base scratch -o "oci:$T/out:latest"
json=$out
validate_image "$T/out" latest
rootfs=$VALIDATED_BUNDLE/rootfs

step "build --json output"
assert_eq "$(manifest_digest "$T/out" latest)" "$(jq -r .digest <<<"$json")" "--json digest vs index.json"
assert_eq "$(manifest_of "$T/out" latest | jq -r .config.digest)" "$(jq -r .config_digest <<<"$json")" \
	"--json config_digest"
assert_eq 1 "$(jq '.layers | length' <<<"$json")" "--json layers"
assert_eq "$(manifest_of "$T/out" latest | jq -r '.layers[0].digest')" \
	"$(jq -r '.layers[0].digest' <<<"$json")" "--json layer digest"
assert_eq "$(config_of "$T/out" latest | jq -r '.rootfs.diff_ids[0]')" \
	"$(jq -r '.layers[0].diff_id' <<<"$json")" "--json layer diff_id"
assert_eq "$(manifest_of "$T/out" latest | jq -r '.layers[0].size')" \
	"$(jq -r '.layers[0].size' <<<"$json")" "--json layer size"
assert_eq 0 "$(jq -r .epoch <<<"$json")" "--json epoch with no git and no SOURCE_DATE_EPOCH"
assert_eq "oci:$T/out:latest" "$(jq -r '.outputs[0]' <<<"$json")" "--json outputs"
jq -e '.skipped | type == "array"' <<<"$json" >/dev/null || fail "--json has no skipped array: $json"
jq -e '.layers[0].created_by | type == "string" and length > 0' <<<"$json" >/dev/null ||
	fail "--json layer without created_by: $json"

step "inspect --json"
ok "$DSBUILD" inspect --json "oci:$T/out:latest"
ins=$out
assert_eq 1 "$(jq '.layers | length' <<<"$ins")" "inspect: layer count"
assert_eq /workspace "$(jq -r '.config.config.WorkingDir' <<<"$ins")" "inspect: WorkingDir"
assert_eq "$(jq -r .digest <<<"$json")" "$(jq -r .digest <<<"$ins")" "inspect digest vs build digest"
assert_eq application/vnd.oci.image.manifest.v1+json "$(jq -r .mediaType <<<"$ins")" "inspect mediaType"
assert_eq application/vnd.oci.image.layer.v1.tar+gzip "$(jq -r '.layers[0].mediaType' <<<"$ins")" \
	"layer media type"
host_arch=$(uname -m)
case "$host_arch" in x86_64) host_arch=amd64 ;; aarch64) host_arch=arm64 ;; esac
assert_eq "linux/$host_arch" "$(jq -r '.config.os + "/" + .config.architecture' <<<"$ins")" "platform"
assert_eq 1970-01-01T00:00:00Z "$(jq -r .config.created <<<"$ins")" "config.created at epoch 0"
assert_eq 1970-01-01T00:00:00Z "$(jq -r '.annotations["org.opencontainers.image.created"]' <<<"$ins")" \
	"created annotation"
assert_eq 1 "$(jq '.config.history | length' <<<"$ins")" "one history entry per layer"
assert_eq "$(jq -r '.config.rootfs.diff_ids[0]' <<<"$ins")" "$(jq -r '.layers[0].diff_id' <<<"$ins")" \
	"inspect layer diff_id"

step "diff_id is the sha256 of the uncompressed layer"
blob=$(layer_blob "$T/out" latest)
assert_eq "$(jq -r '.layers[0].diff_id' <<<"$ins")" "sha256:$(gzip -dc "$blob" | sha256sum | cut -d' ' -f1)" \
	"diff_id"
assert_eq "$(jq -r '.layers[0].digest' <<<"$ins")" "sha256:$(sha256sum <"$blob" | cut -d' ' -f1)" \
	"layer digest"

step "files in the unpacked rootfs (umoci)"
assert_eq "1000:1000 755 directory" "$(stat -c '%u:%g %a %F' "$rootfs/workspace")" "/workspace"
declare -A want=(
	[main.py]="1000:1000 644 regular file"
	[run.sh]="1000:1000 755 regular file"
	[data/x.csv]="1000:1000 644 regular file"
	[pkg]="1000:1000 755 directory"
	[pkg/__init__.py]="1000:1000 644 regular file"
	[pkg/sub]="1000:1000 755 directory"
	[pkg/sub/deep.txt]="1000:1000 755 regular file"
	[data]="1000:1000 755 directory"
)
for f in "${!want[@]}"; do
	[ -e "$rootfs/workspace/$f" ] || fail "/workspace/$f missing from the image"
	assert_eq "${want[$f]}" "$(stat -c '%u:%g %a %F' "$rootfs/workspace/$f")" "/workspace/$f owner/mode"
done
assert_eq 'print("hello")' "$(cat "$rootfs/workspace/main.py")" "content of main.py"
assert_eq "$(sha256sum <"$src/data/x.csv")" "$(sha256sum <"$rootfs/workspace/data/x.csv")" "content of x.csv"
assert_eq 9 "$(find "$rootfs" -mindepth 1 | wc -l | tr -d " ")" \
	"entries in the rootfs (workspace + 8): $(find "$rootfs" -mindepth 1)"

step "the layer's tar entries"
list=$(layer_list "$T/out" latest)
printf '%s\n' "$list"
# every entry: owned 1000/1000 numerically, mtime = epoch 0
bad=$(awk '$2 != "1000/1000" || $4 != "1970-01-01" || $5 != "00:00:00"' <<<"$list")
[ -z "$bad" ] || fail "entries not 1000/1000 at the epoch:
$bad"
names=$(layer_names "$T/out" latest)
assert_eq "$(LC_ALL=C sort <<<"$names")" "$names" "entries sorted bytewise"
assert_eq "workspace/" "$(head -n1 <<<"$names")" "first entry is workspace/ (parents first)"
assert_match "$list" '^drwxr-xr-x 1000/1000 .* workspace/pkg/sub/$' "dir entry for pkg/sub"
assert_match "$list" '^-rwxr-xr-x 1000/1000 .* workspace/run.sh$' "exec file entry"
assert_match "$list" '^-rw-r--r-- 1000/1000 .* workspace/main.py$' "plain file entry"
# user/group names are empty (no "root"/"nobody" in the headers)
unames=$(tar --full-time -tvzf "$blob" | awk '{print $2}' | sort -u)
assert_eq "1000/1000" "$unames" "tar stores no user/group names"

step "plain ustar headers: no pax record for short ASCII names (docs/image.md: only where needed)"
need python3 python3
pax=$(python3 -c '
import sys, tarfile
for m in tarfile.open(sys.argv[1], "r:gz"):
    if m.pax_headers:
        print(m.name, dict(m.pax_headers))
' "$blob")
soft assert_eq "" "$pax" "pax records in a layer of short ASCII names"

step "the default output is oci:DIR/.dsbuild/image:latest and is not walked"
build_json "$src"
assert_file "$src/.dsbuild/image/index.json"
assert_file "$src/.dsbuild/image/oci-layout"
assert_eq "$(jq -r .digest <<<"$json")" "$(manifest_digest "$src/.dsbuild/image" latest)" \
	"default output has the same image"
build_json "$src"
assert_eq "$(jq -r .digest <<<"$json")" "$(jq -r .digest <<<"$out")" \
	"rebuilding with .dsbuild/ present gives the same digest"
assert_not_contains "$(layer_names "$src/.dsbuild/image" latest)" ".dsbuild" ".dsbuild/ in the layer"

step "dsbuild DIR == dsbuild build DIR"
run "$DSBUILD" --json "$src" -o "oci:$T/out2:latest"
[ "$rc" = 0 ] || fail "dsbuild DIR failed: $err"
assert_eq "$(jq -r .digest <<<"$json")" "$(jq -r .digest <<<"$out")" "dsbuild DIR digest"

step "DIR defaults to ."
(cd "$src" && "$DSBUILD" build --json -q -o "oci:$T/out3:latest" >"$T/dot.json") ||
	fail "dsbuild build in the tree failed"
assert_eq "$(jq -r .digest <<<"$json")" "$(jq -r .digest "$T/dot.json")" "dsbuild build (DIR=.) digest"

step "-t NAME:TAG names the tag in an oci layout given without one"
build_json "$src" -t myapp:v1 -o "oci:$T/tagged"
manifest_digest "$T/tagged" v1 >/dev/null
validate_image "$T/tagged" v1
step "a second build adds a tag to an existing layout, keeping the first"
build_json "$src" -o "oci:$T/tagged:v2"
manifest_digest "$T/tagged" v1 >/dev/null
manifest_digest "$T/tagged" v2 >/dev/null
validate_image "$T/tagged" v2

step "--cmd/--entrypoint words are split as a shell would (quotes, backslashes, no expansion)"
words() { # CMD-STRING EXPECTED-JSON
	build_json "$src" -o "oci:$T/words:latest" --cmd "$1"
	assert_eq "$2" "$(config_of "$T/words" latest | jq -c .config.Cmd)" "--cmd $(printf '%q' "$1")"
}
soft words 'python3 -m http.server 8000' '["python3","-m","http.server","8000"]'
soft words "sh -c 'echo \$HOME; ls'" '["sh","-c","echo $HOME; ls"]'
soft words 'echo "two words" a\ b' '["echo","two words","a b"]'
soft words 'echo "a\$b" "q\"q" "x\y"' '["echo","a$b","q\"q","x\\y"]'
soft words '["python3", "app.py", "--flag=$X"]' '["python3","app.py","--flag=$X"]'
soft words '' 'null'


step "-q prints nothing on success"
run "$DSBUILD" build -q "$src" -o "oci:$T/quiet:latest"
assert_eq 0 "$rc" "exit of -q build"
assert_eq "" "$out$err" "output of a -q build"

step "the cache holds no temp files"
assert_cache_clean
soft_done
