#!/bin/bash
# Same tree -> same digest, whatever the checkout path, mtimes, umask,
# owner, TZ, locale, cache, day.  SOURCE_DATE_EPOCH and the last git commit
# set the epoch: config.created, the created annotation and every mtime.
. "$(dirname "$0")/lib.sh"
need jq jq
need git git
need tar tar

mk_tree() { # DIR
	mkdir -p "$1/pkg/sub" "$1/notebooks" "$1/empty"
	printf 'import pkg\nprint("hi")\n' >"$1/main.py"
	printf '' >"$1/pkg/__init__.py"
	printf 'def f():\n    return 42\n' >"$1/pkg/sub/mod.py"
	printf '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n' >"$1/notebooks/explore.ipynb"
	seq 1 50000 >"$1/model.bin"
	printf '#!/bin/sh\nexec python3 main.py\n' >"$1/run.sh"
	chmod +x "$1/run.sh"
	ln -s pkg/sub/mod.py "$1/link.py"
	printf 'caf\xc3\xa9\n' >"$1/caf\xc3\xa9.txt"
}

src=$T/a/src
mk_tree "$src"

step "reference build"
d0=$(build_digest "$src" -o "oci:$T/out0:latest")
json0=$(last_json)
list0=$(layer_list "$T/out0" latest)

step "another checkout: path, umask 077, mtimes, owner, TZ, locale, cache, cwd, day"
sleep 1
other=$T/b/much/deeper/checkout
mkdir -p "$(dirname "$other")"
(umask 077 && cp -r "$src" "$other")
[ "$(stat -c %a "$other/main.py")" = 600 ] || fail "test setup: umask 077 copy gave $(stat -c %a "$other/main.py")"
[ "$(stat -c %a "$other/run.sh")" = 700 ] || fail "test setup: exec bit lost in the copy"
find "$other" -exec touch -h -d '2011-11-11 11:11:11' {} +
chown -R 2222:3333 "$other"
mkdir -p "$T/elsewhere"
d1=$(cd / && TZ=Asia/Tokyo LC_ALL=C.UTF-8 DSBUILD_CACHE=$T/cache2 \
	"$DSBUILD" build --json -q "$other" -o "oci:$T/elsewhere/out1:tagx" | jq -r .digest)
assert_eq "$d0" "$d1" "digest of the same tree elsewhere"
d2=$(cd "$other" && export TZ=America/St_Johns LC_ALL=C && umask 077 && "$DSBUILD" build --json -q . \
	-o "oci:$T/out2:latest" | jq -r .digest)
assert_eq "$d0" "$d2" "digest with a relative DIR, LC_ALL=C, TZ -03:30, umask 077"
assert_eq "$list0" "$(layer_list "$T/out2" latest)" "layer listing"

step "files created in another order"
third=$T/c/src
mkdir -p "$third"
(cd "$src" && find . -mindepth 1 -print | sort -r) | while IFS= read -r p; do
	if [ -d "$src/$p" ] && [ ! -L "$src/$p" ]; then mkdir -p "$third/$p"; fi
done
(cd "$src" && find . -mindepth 1 \( -type f -o -type l \) -print | sort -r | while IFS= read -r p; do
	cp -P --preserve=mode "$p" "$third/$p"
done)
assert_eq "$d0" "$(build_digest "$third" -o "oci:$T/out3:latest")" "digest of a tree made in reverse order"

step "the layer: sorted entries, every mtime at the epoch"
names=$(layer_names "$T/out0" latest)
assert_eq "$(LC_ALL=C sort <<<"$names")" "$names" "entries sorted bytewise"
assert_eq "" "$(LC_ALL=C sort <<<"$names" | uniq -d)" "duplicate entries"
bad=$(awk '$4 != "1970-01-01" || $5 != "00:00:00"' <<<"$list0")
[ -z "$bad" ] || fail "entries not at epoch 0:
$bad"
blob=$(layer_blob "$T/out0" latest)
assert_eq "00000000" "$(od -An -j4 -N4 -tx1 "$blob" | tr -d ' \n')" "gzip header MTIME must be 0"

step "SOURCE_DATE_EPOCH sets created and every mtime"
e=1700000000 # 2023-11-14T22:13:20Z
de=$(SOURCE_DATE_EPOCH=$e build_digest "$src" -o "oci:$T/oute:latest")
assert_ne "$d0" "$de" "SOURCE_DATE_EPOCH must change the digest"
assert_eq "$e" "$(last_json | jq -r .epoch)" "--json epoch"
cfg=$(config_of "$T/oute" latest)
assert_eq 2023-11-14T22:13:20Z "$(jq -r .created <<<"$cfg")" "config.created"
assert_eq 2023-11-14T22:13:20Z "$(jq -r '.history[-1].created' <<<"$cfg")" "history created"
assert_eq 2023-11-14T22:13:20Z \
	"$(manifest_of "$T/oute" latest | jq -r '.annotations["org.opencontainers.image.created"]')" \
	"created annotation"
bad=$(TZ=UTC layer_list "$T/oute" latest | awk '$4 != "2023-11-14" || $5 != "22:13:20"')
[ -z "$bad" ] || fail "entries not at SOURCE_DATE_EPOCH:
$bad"
assert_eq "$de" "$(SOURCE_DATE_EPOCH=$e TZ=Asia/Tokyo build_digest "$other" -o "oci:$T/oute2:latest")" \
	"same SOURCE_DATE_EPOCH, other checkout"
assert_eq 1970-01-01T00:00:00Z "$(config_of "$T/out0" latest | jq -r .created)" "created with no epoch"

step "a malformed SOURCE_DATE_EPOCH is bad input"
for bad_e in abc 12x -5 99999999999999999999; do
	SOURCE_DATE_EPOCH=$bad_e expect_exit 3 "$DSBUILD" build -q "$src" -o "oci:$T/never:latest"
	assert_error_names SOURCE_DATE_EPOCH "$bad_e"
	assert_absent "$T/never"
done

step "in a git repo the last commit touching the tree is the epoch"
repo=$T/repo
mkdir -p "$repo/other"
mk_tree "$repo/app"
echo x >"$repo/other/file"
git -C "$repo" init -q
git -C "$repo" -c user.name=t -c user.email=t@e add -A
GIT_AUTHOR_DATE='@1600000000 +0200' GIT_COMMITTER_DATE='@1600000000 +0200' \
	git -C "$repo" -c user.name=t -c user.email=t@e commit -q -m one
echo y >>"$repo/other/file"
GIT_AUTHOR_DATE='@1650000000 +0000' GIT_COMMITTER_DATE='@1650000000 +0000' \
	git -C "$repo" -c user.name=t -c user.email=t@e commit -q -am two
dg=$(build_digest "$repo/app" -o "oci:$T/outg:latest")
assert_eq 1600000000 "$(last_json | jq -r .epoch)" "epoch of the subtree = its last commit (2020-09-13)"
assert_eq 2020-09-13T12:26:40Z "$(config_of "$T/outg" latest | jq -r .created)" "created from git"
assert_not_contains "$(layer_names "$T/outg" latest)" ".git" ".git in the layer"
dr=$(build_digest "$repo" -o "oci:$T/outr:latest")
assert_eq 1650000000 "$(last_json | jq -r .epoch)" "epoch of the whole repo = the last commit"
assert_eq 2022-04-15T05:20:00Z "$(config_of "$T/outr" latest | jq -r .created)" "created of the repo"
# the app tree is the same as $src: only the epoch differs from a plain build (and the
# git build names its commit in org.opencontainers.image.revision)
SOURCE_DATE_EPOCH=1600000000 build_digest "$src" -o "oci:$T/outg2:latest" >/dev/null
assert_eq "$(layer_list "$T/outg" latest)" "$(layer_list "$T/outg2" latest)" \
	"git epoch == SOURCE_DATE_EPOCH of the same time: the same layers"
assert_eq "$(config_of "$T/outg" latest | jq -c '.config.Labels | del(."org.opencontainers.image.revision")')" \
	"$(config_of "$T/outg2" latest | jq -c .config.Labels)" "the same labels but the revision"
assert_eq "$(git -C "$repo" rev-parse HEAD)" \
	"$(config_of "$T/outg" latest | jq -r '.config.Labels."org.opencontainers.image.revision"')" \
	"the revision label is the commit"
step "SOURCE_DATE_EPOCH wins over git"
SOURCE_DATE_EPOCH=$e build_digest "$repo/app" -o "oci:$T/outge:latest" >/dev/null
assert_eq "$e" "$(last_json | jq -r .epoch)" "SOURCE_DATE_EPOCH over git"
step "a git checkout elsewhere (clone) gives the same digest"
git clone -q "$repo" "$T/clone"
mkdir "$T/clone/app/empty" # git keeps no empty folder
dc=$(build_digest "$T/clone/app" -o "oci:$T/outc:latest")
assert_eq "$(layer_list "$T/outg" latest)" "$(layer_list "$T/outc" latest)" "layer of a clone"
assert_eq "$dg" "$dc" "digest of a clone"
step "the source label names the remote without its credentials"
git -C "$repo" remote add origin https://ci-bot:s3cret@git.example.com/team/app.git
build_digest "$repo/app" -o "oci:$T/outs:latest" >/dev/null
assert_eq https://git.example.com/team/app.git \
	"$(config_of "$T/outs" latest | jq -r '.config.Labels."org.opencontainers.image.source"')" \
	"source label"
assert_not_contains "$(config_of "$T/outs" latest)" "s3cret" "the password in the config"
assert_cache_clean
