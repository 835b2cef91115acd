#!/bin/bash
# For a set of requirement files, dsbuild resolves the same packages, versions
# and wheel files as pip (`pip install --dry-run --report`, Debian's pip, for
# CPython 3.11 on manylinux_2_36_x86_64, wheels only) from the same local
# index: generated wheels (backtracking, markers, extras, yanked,
# pre-releases, requires-python, tag priority) and the real numpy /
# scikit-learn / pip / setuptools wheels.
. "$(dirname "$0")/lib-python.sh"
unset DSBUILD_BASE
py_cache
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || fail "no pip: apt-get install python3-pip"

w=$T/wheels
mkdir -p "$w"
cp "$PYCACHE"/pyreal/wheels/*.whl "$w/" 2>/dev/null || {
	bash "$PYTESTS/mkrealwheels.sh" "$PYCACHE/pyreal" || fail "cannot make the real wheels"
	cp "$PYCACHE"/pyreal/wheels/*.whl "$w/"
}
mkwheel "$w" top 1.0 --dep 'mid>=1'
mkwheel "$w" top 2.0 --dep 'mid>=2' --dep 'old ; python_version < "3"'
mkwheel "$w" mid 1.0
mkwheel "$w" mid 2.0
mkwheel "$w" mid 3.0b1
mkwheel "$w" left 1.0
mkwheel "$w" left 2.0 --dep 'pin==1'
mkwheel "$w" right 1.0 --dep 'pin==2'
mkwheel "$w" pin 1
mkwheel "$w" pin 2
mkwheel "$w" fancy 1.0 --dep 'winonly ; sys_platform == "win32"' --extra 'plot:mid<2' \
	--extra 'all:left' --extra 'all:fancy[plot]'
mkwheel "$w" beta 1.0
mkwheel "$w" beta 3.0
mkwheel "$w" fast 1.0
mkwheel "$w" fast 1.0 --tag cp311-cp311-manylinux_2_17_x86_64
mkwheel "$w" fast 1.0 --tag cp311-abi3-manylinux_2_17_x86_64
mkwheel "$w" fast 2.0 --tag cp311-cp311-manylinux_2_39_x86_64
mkwheel "$w" fast 3.0 --tag cp312-cp312-manylinux_2_17_x86_64
mkwheel "$w" onlypre 1.0rc1
mkwheel "$w" newpy 1.0 --requires-python '>=3.12'
mkwheel "$w" newpy 0.9 --requires-python '>=3.8'
mkwheel "$w" local-ver 1.0+abc
mkwheel "$w" local-ver 1.0
mkindex "$w" "$T/idx" --yank beta-3.0-py3-none-any.whl
serve "$T/idx"
src=$T/proj
mkdir -p "$src"

# The platforms a glibc 2.36 x86_64 target supports, best first, as
# packaging.tags lists them (pip expands only the legacy manylinux aliases).
plats=""
for i in $(seq 36 -1 5); do
	plats="$plats --platform manylinux_2_${i}_x86_64"
	case $i in 17) plats="$plats --platform manylinux2014_x86_64" ;;
	12) plats="$plats --platform manylinux2010_x86_64" ;;
	5) plats="$plats --platform manylinux1_x86_64" ;; esac
done
plats="$plats --platform linux_x86_64"

# pip_set FILE: "name==version file" lines pip picks
pip_set() {
	rm -rf "$T/pip-target" "$T/report.json"
	PIP_CONFIG_FILE=/dev/null /usr/bin/python3 -m pip install --dry-run --report "$T/report.json" --quiet \
		--index-url "$INDEX/simple" --no-cache-dir --only-binary=:all: \
		--python-version 3.11 --implementation cp --abi cp311 \
		$plats --target "$T/pip-target" \
		--ignore-installed -r "$1" >"$T/pip.log" 2>&1 ||
		fail "pip failed on $(cat "$1"): $(cat "$T/pip.log")"
	jq -r '.install[] | "\(.metadata.name | ascii_downcase | gsub("[-_.]+"; "-"))==\(.metadata.version) \(.download_info.url | split("/") | last)"' \
		"$T/report.json" | sed "s/%2B/+/g" | sort
}
ds_set() {
	run "$DSBUILD" build --json "$src" --cache-dir "$PYCACHE" -o "oci:$T/img:latest" \
		--index-url "$INDEX/simple"
	[ "$rc" = 0 ] || fail "dsbuild failed on $(cat "$src/requirements.txt"): $err"
	printf '%s' "$out" | jq -r '.python.packages[] | "\(.name)==\(.version) \(.filename)"' | sort
}

n=0
check() {
	n=$((n + 1))
	printf '%b' "$1" >"$src/requirements.txt"
	step "case $n: $(tr '\n' ' ' <"$src/requirements.txt")"
	local p d
	p=$(pip_set "$src/requirements.txt")
	d=$(ds_set)
	[ "$p" = "$d" ] || fail "dsbuild and pip differ for: $(cat "$src/requirements.txt")
pip:
$p
dsbuild:
$d"
}

check 'top\n'
check 'top\nmid<2\n'
check 'left\nright\n'
check 'fancy[all]\nbeta\n'
check 'beta==3.0\nnewpy\nonlypre\n'
check 'fast\n'
check 'local-ver\n'
check 'numpy>=1.20\nscikit-learn\n'
check 'scipy\npip\nsetuptools<70\n'
echo "$n requirement sets: same choice as pip"
