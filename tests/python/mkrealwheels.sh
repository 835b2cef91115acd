#!/bin/bash
# mkrealwheels.sh OUTDIR: real compiled wheels made from Debian's packages
# (python3-numpy, -scipy, -sklearn(+-lib), -joblib, -threadpoolctl), their
# shared libraries vendored with patchelf as auditwheel does, tagged
# cp311-cp311-manylinux_2_36_x86_64; plus pip and setuptools from
# /usr/share/python-wheels.  Idempotent: OUTDIR/.done marks a finished set.
# Needs apt-get (Debian's archive), dpkg-deb, patchelf, python3.
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$out/.done" ] && exit 0
for t in patchelf dpkg-deb apt-get python3; do
	command -v $t >/dev/null || { echo "missing $t: apt-get install ${t/dpkg-deb/dpkg}" >&2; exit 1; }
done
debs=$out/debs
mkdir -p "$debs"
pkgs="python3-numpy python3-scipy python3-sklearn python3-sklearn-lib python3-joblib
python3-threadpoolctl libblas3 liblapack3 libgfortran5 libquadmath0 liblbfgsb0 libgomp1
libstdc++6 libgcc-s1"
(cd "$debs" && for p in $pkgs; do ls ${p}_*.deb >/dev/null 2>&1 || apt-get download -q "$p" >&2; done)
d() { ls "$debs"/$1_*.deb | head -1; }
libs="--vendor-deb $(d libblas3) --vendor-deb $(d liblapack3) --vendor-deb $(d libgfortran5)
--vendor-deb $(d libquadmath0) --vendor-deb $(d libgcc-s1) --vendor-deb $(d libstdc++6)"
w=$out/wheels.tmp
rm -rf "$w"
mkdir -p "$w"
python3 "$here/deb2wheel.py" --out "$w" --no-tests --deb "$(d python3-numpy)" $libs >&2
python3 "$here/deb2wheel.py" --out "$w" --no-tests --deb "$(d python3-scipy)" $libs \
	--vendor-deb "$(d liblbfgsb0)" --requires 'numpy>=1.19.5' >&2
python3 "$here/deb2wheel.py" --out "$w" --no-tests --deb "$(d python3-joblib)" >&2
python3 "$here/deb2wheel.py" --out "$w" --no-tests --deb "$(d python3-threadpoolctl)" >&2
python3 "$here/deb2wheel.py" --out "$w" --no-tests --deb "$(d python3-sklearn)" \
	--deb "$(d python3-sklearn-lib)" --vendor-deb "$(d libgomp1)" \
	--vendor-deb "$(d libgcc-s1)" --vendor-deb "$(d libstdc++6)" \
	--requires 'numpy>=1.17.3' --requires 'scipy>=1.3.2' --requires 'joblib>=1.1.1' \
	--requires 'threadpoolctl>=2.0.0' >&2
cp /usr/share/python-wheels/*.whl "$w/"
rm -rf "$out/wheels"
mv "$w" "$out/wheels"
touch "$out/.done"
