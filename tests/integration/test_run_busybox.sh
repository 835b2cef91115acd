#!/bin/bash
# A busybox base made by umoci + dsbuild's app layer and config flags, run
# by podman: Entrypoint/Cmd run, Env set, WorkingDir, User, files arrive.
# Ports, labels and annotations read back with dsbuild inspect and skopeo.
. "$(dirname "$0")/lib.sh"
need jq jq
need skopeo skopeo
podman_env

make_busybox_base "$T/base" latest
base_manifest=$(manifest_of "$T/base" latest)
base_config=$(config_of "$T/base" latest)

src=$T/src
mkdir -p "$src/data"
cat >"$src/start.sh" <<'EOF'
#!/bin/sh
echo "args:$#"
for a in "$@"; do echo "arg:[$a]"; done
echo "pwd:$(pwd)"
echo "uid:$(id -u) gid:$(id -g)"
echo "greeting:[$GREETING]"
echo "empty:[${EMPTY-unset}]"
echo "path:$PATH"
cat /workspace/data/hello.txt
touch /workspace/written-by-app && echo "workspace writable"
EOF
echo "hello from the tree" >"$src/data/hello.txt"
printf 'import sys\n' >"$src/app.py"

step "build on the busybox base with every config flag"
build_json "$src" --base "oci:$T/base:latest" -o "oci:$T/img:latest" \
	--entrypoint '["/bin/sh", "/workspace/start.sh"]' \
	--cmd 'first "second word"' \
	--env 'GREETING=hello world' --env EMPTY= \
	--workdir /workspace/data \
	--user 1000:1000 \
	--port 8080 --port 53/udp --port 9000/tcp \
	--label org.example.team=ds --label 'com.example.note=a b' \
	--annotation org.example.ticket=DS-1 --annotation 'org.example.empty='
validate_image "$T/img" latest

step "base layers kept, app layer on top"
man=$(manifest_of "$T/img" latest)
cfg=$(config_of "$T/img" latest)
nb=$(jq '.layers | length' <<<"$base_manifest")
assert_eq $((nb + 1)) "$(jq '.layers | length' <<<"$man")" "layer count = base + 1"
assert_eq "$(jq -c '[.layers[].digest]' <<<"$base_manifest")" "$(jq -c "[.layers[:$nb][].digest]" <<<"$man")" \
	"base layer digests unchanged"
assert_eq "$(jq -c '.rootfs.diff_ids' <<<"$base_config")" "$(jq -c ".rootfs.diff_ids[:$nb]" <<<"$cfg")" \
	"base diff_ids unchanged"
assert_eq "$(jq '.history | length' <<<"$base_config")" "$(jq '[.history[:-1][]] | length' <<<"$cfg")" \
	"base history kept"
assert_eq "$(jq -c '.history' <<<"$base_config")" "$(jq -c '.history[:-1]' <<<"$cfg")" "base history entries"

step "config as written"
assert_eq '["/bin/sh","/workspace/start.sh"]' "$(jq -c .config.Entrypoint <<<"$cfg")" "Entrypoint"
assert_eq '["first","second word"]' "$(jq -c .config.Cmd <<<"$cfg")" "Cmd (quotes honoured)"
assert_eq /workspace/data "$(jq -r .config.WorkingDir <<<"$cfg")" "WorkingDir"
assert_eq 1000:1000 "$(jq -r .config.User <<<"$cfg")" "User"
assert_eq '["53/udp","8080/tcp","9000/tcp"]' "$(jq -c '.config.ExposedPorts | keys' <<<"$cfg")" "ExposedPorts"
assert_eq '{"com.example.note":"a b","org.example.team":"ds"}' "$(jq -c -S '.config.Labels | del(."io.dsbuild.metadata")' <<<"$cfg")" "Labels"
jq -e '.config.Env | index("GREETING=hello world")' <<<"$cfg" >/dev/null || fail "Env lacks GREETING: $cfg"
jq -e '.config.Env | index("EMPTY=")' <<<"$cfg" >/dev/null || fail "Env lacks EMPTY=: $cfg"
assert_eq 1 "$(jq '[.config.Env[] | select(startswith("PATH="))] | length' <<<"$cfg")" "one PATH in Env"
assert_eq "$(jq -r '.config.Env[] | select(startswith("PATH="))' <<<"$base_config")" \
	"$(jq -r '.config.Env[] | select(startswith("PATH="))' <<<"$cfg")" "PATH inherited from the base"
assert_eq DS-1 "$(jq -r '.annotations["org.example.ticket"]' <<<"$man")" "manifest annotation"
assert_eq "" "$(jq -r '.annotations["org.example.empty"]' <<<"$man")" "empty manifest annotation"
jq -e '.annotations | has("org.example.empty")' <<<"$man" >/dev/null || fail "empty annotation dropped: $man"
assert_eq 1970-01-01T00:00:00Z "$(jq -r '.annotations["org.opencontainers.image.created"]' <<<"$man")" \
	"created annotation kept next to the user's"

step "dsbuild inspect --json shows them"
ok "$DSBUILD" inspect --json "oci:$T/img:latest"
ins=$out
assert_eq '["53/udp","8080/tcp","9000/tcp"]' "$(jq -c '.config.config.ExposedPorts | keys' <<<"$ins")" \
	"inspect ExposedPorts"
assert_eq ds "$(jq -r '.config.config.Labels["org.example.team"]' <<<"$ins")" "inspect label"
assert_eq DS-1 "$(jq -r '.annotations["org.example.ticket"]' <<<"$ins")" "inspect annotation"
assert_eq $((nb + 1)) "$(jq '.layers | length' <<<"$ins")" "inspect layers"

step "dsbuild inspect (human) shows them"
ok "$DSBUILD" inspect "oci:$T/img:latest"
human=$out
for s in 8080/tcp 53/udp org.example.team org.example.ticket DS-1 1000:1000 /workspace/data \
	/workspace/start.sh "second word" GREETING; do
	assert_contains "$human" "$s" "human inspect shows $s"
done
assert_contains "$human" "$(jq -r .digest <<<"$ins")" "human inspect shows the digest"

step "skopeo reads the same"
ok skopeo inspect "oci:$T/img:latest"
sk=$out
assert_eq ds "$(jq -r '.Labels["org.example.team"]' <<<"$sk")" "skopeo Labels"
assert_eq "a b" "$(jq -r '.Labels["com.example.note"]' <<<"$sk")" "skopeo Labels with space"
assert_eq "$(jq -r .digest <<<"$ins")" "$(jq -r .Digest <<<"$sk")" "skopeo Digest"
ok skopeo inspect --config "oci:$T/img:latest"
assert_eq '["53/udp","8080/tcp","9000/tcp"]' "$(jq -c '.config.ExposedPorts | keys' <<<"$out")" \
	"skopeo ExposedPorts"
ok skopeo inspect --raw "oci:$T/img:latest"
assert_eq DS-1 "$(jq -r '.annotations["org.example.ticket"]' <<<"$out")" "skopeo raw manifest annotation"

step "podman runs Entrypoint + Cmd"
prun "oci:$T/img:latest"
[ "$rc" = 0 ] || fail "podman run failed: $(_show_run "podman run oci:$T/img:latest")"
got=$out
printf '%s\n' "$got"
assert_contains "$got" "args:2" "Cmd passed to the entrypoint"
assert_contains "$got" "arg:[first]"
assert_contains "$got" "arg:[second word]" "quoted Cmd word"
assert_contains "$got" "pwd:/workspace/data" "WorkingDir"
assert_contains "$got" "uid:1000 gid:1000" "User"
assert_contains "$got" "greeting:[hello world]" "Env"
assert_contains "$got" "empty:[]" "empty Env value is set"
assert_contains "$got" "hello from the tree" "file from the tree"
assert_contains "$got" "workspace writable" "/workspace writable by the app user"

step "podman: Cmd replaced on the command line"
prun "oci:$T/img:latest" other
assert_eq 0 "$rc" "podman run with args: $err"
assert_contains "$out" "args:1"
assert_contains "$out" "arg:[other]"

step "podman: ownership and modes inside the container"
run podman run --rm --network none --entrypoint '' "oci:$T/img:latest" \
	sh -c 'stat -c "%u:%g %a %n" /workspace /workspace/start.sh /workspace/data/hello.txt; id -u'
assert_eq 0 "$rc" "podman run stat: $err"
assert_eq "1000:1000 755 /workspace
1000:1000 644 /workspace/start.sh
1000:1000 644 /workspace/data/hello.txt
1000" "$out" "owners/modes seen by the container"

step "shell-string entrypoint; \"\" clears an inherited one"
build_json "$src" --base "oci:$T/base:latest" -o "oci:$T/img2:latest" \
	--entrypoint "sh -c 'echo from-string; echo \$0 \$1'" --cmd 'zero one'
assert_eq '["sh","-c","echo from-string; echo $0 $1"]' "$(config_of "$T/img2" latest | jq -c .config.Entrypoint)" \
	"string entrypoint split into words, no expansion"
prun "oci:$T/img2:latest"
assert_eq 0 "$rc" "podman run img2: $err"
assert_eq "from-string
zero one" "$out" "string entrypoint output"
# img2 as a base: its entrypoint is inherited, and "" clears it
build_json "$src" --base "oci:$T/img2:latest" -o "oci:$T/img3:latest"
assert_eq '["sh","-c","echo from-string; echo $0 $1"]' "$(config_of "$T/img3" latest | jq -c .config.Entrypoint)" \
	"Entrypoint inherited from the base"
build_json "$src" --base "oci:$T/img2:latest" -o "oci:$T/img4:latest" --entrypoint "" --cmd 'echo cleared'
assert_eq null "$(config_of "$T/img4" latest | jq -c '.config.Entrypoint | if . == [] then null else . end')" \
	"--entrypoint \"\" clears it"
prun "oci:$T/img4:latest"
assert_eq 0 "$rc" "podman run img4: $err"
assert_eq cleared "$out" "Cmd runs once the entrypoint is cleared"

step "--env replaces a base variable instead of adding a second one"
build_json "$src" --base "oci:$T/base:latest" -o "oci:$T/img5:latest" --env PATH=/opt/x/bin:/bin \
	--cmd "sh -c 'echo \$PATH'"
assert_eq '["PATH=/opt/x/bin:/bin"]' "$(config_of "$T/img5" latest | jq -c '[.config.Env[] | select(startswith("PATH="))]')" \
	"PATH replaced"
prun "oci:$T/img5:latest"
assert_eq /opt/x/bin:/bin "$out" "PATH inside the container"

step "the default user is the base's (none), default workdir /workspace"
build_json "$src" --base "oci:$T/base:latest" -o "oci:$T/img6:latest" --cmd 'sh -c "id -u; pwd"'
prun "oci:$T/img6:latest"
assert_eq 0 "$rc" "podman run img6: $err"
assert_eq "0
/workspace" "$out" "default user and workdir"
