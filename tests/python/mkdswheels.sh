#!/bin/bash
# mkdswheels.sh OUTDIR: real wheels for the data-science web and notebook stacks, made from
# Debian bookworm's packages by debwheelset.py (which calls deb2wheel.py):
#   - flask (python3-flask + blinker, which Flask 2.2 only recommends) and gunicorn
#     (python3-gunicorn), with everything they depend on;
#   - the classic Jupyter Notebook server, python3-notebook 6.4.12, with its whole Python
#     dependency closure (ipykernel, ipython, jupyter-client/-core, nbconvert, nbformat,
#     pyzmq with libzmq vendored, argon2-cffi with libargon2, terminado, tornado ...).
#     Notebook 6.4 does not use jupyter-server, so that is not in the set; bookworm has no
#     jupyterlab package (only python3-jupyterlab-server and -pygments).
# The closure is the Debian Depends of the python3-* packages (apt-cache dumpavail), each
# wheel's Requires-Dist its own metadata plus those Depends (dh_python3 deletes from
# requires.txt what it turned into Depends).  Not turned into wheels or requirements, by
# design (see GLUE/SPECIAL/DROP in debwheelset.py and OUTDIR/report.txt):
#   - python3-setuptools/-pkg-resources: the genuine setuptools wheel of python3-setuptools-whl;
#   - python3-distutils (Debian's split of the stdlib, needed by jupyter-core and
#     notebook.utils): a requirement on setuptools, whose distutils-precedence.pth provides
#     `distutils` in an environment that lacks it (the default Debian base does);
#   - python3-lib2to3: dropped (only distutils' 2to3 build step uses it);
#   - non-Python Depends: notebook's libjs-* and fonts-font-awesome (the browser UI's static
#     files: the server and its REST API work without them), pydevd's gdb, tinycss2's test data,
#     tzdata and ca-certificates (in the base);
#   - Send2Trash's two malformed extras requirements ('sys-platform (=="darwin")'), not PEP 508.
# Requirements under markers false on CPython 3.11/Linux or under extras stay as upstream
# wrote them.  Shared libraries (all but glibc's) are vendored auditwheel-style; the tags are
# cp311-cp311-manylinux_2_36_x86_64 (or py3-none-any).  Idempotent: OUTDIR/.done marks a
# finished set.  Needs apt-get/apt-cache (Debian's archive), dpkg-deb, patchelf and
# /usr/bin/python3 with python3-packaging.
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$out/.done" ] && exit 0
for t in patchelf dpkg-deb apt-get apt-cache /usr/bin/python3; do
	command -v $t >/dev/null || {
		p=${t#/usr/bin/}
		echo "missing $t: apt-get install ${p/dpkg-deb/dpkg}" >&2
		exit 1
	}
done
/usr/bin/python3 -c 'import packaging.requirements' 2>/dev/null ||
	{ echo "missing packaging for /usr/bin/python3: apt-get install python3-packaging" >&2; exit 1; }
mkdir -p "$out/debs"
w=$out/wheels.tmp
rm -rf "$w"
/usr/bin/python3 "$here/debwheelset.py" --debs "$out/debs" --out "$w" --report "$out/report.txt.tmp" \
	--resolve 'flask gunicorn' --resolve 'notebook' \
	python3-flask python3-blinker python3-gunicorn python3-notebook >&2
rm -rf "$out/wheels"
mv "$w" "$out/wheels"
mv "$out/report.txt.tmp" "$out/report.txt"
touch "$out/.done"
