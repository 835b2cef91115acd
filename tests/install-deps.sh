#!/bin/bash
# Installs what dsbuild needs on Debian 12 (bookworm), as root.
#   tests/install-deps.sh build   compiler, meson and the libraries dsbuild links against
#   tests/install-deps.sh test    that plus every tool the test suites run (default)
# Idempotent: installs only what is missing; runs `apt-get update` only when needed.
set -euo pipefail

mode=${1:-test}

build_pkgs=(
	meson ninja-build pkg-config gcc
	libarchive-dev libjansson-dev libcurl4-openssl-dev libssl-dev zlib1g-dev
	git
	# the default base: Debian archive signatures are checked with gpgv
	gpgv debian-archive-keyring
)
test_pkgs=(
	# OCI tools: independent producers, validators and runtimes
	umoci skopeo podman runc oci-image-tool
	# what podman only recommends, spelt out since we install without recommends
	conmon netavark aardvark-dns iptables catatonit fuse-overlayfs slirp4netns
	# a shell-only base image is made from busybox-static by the tests
	busybox-static
	# archives, JSON, measuring
	pigz jq time tar gzip python3 file
	# the Python tests compare against packaging and pip (Debian's, under /usr/bin/python3)
	python3-packaging python3-pip python3-pip-whl python3-setuptools-whl python3-wheel-whl
	# the registry tests make certificates and talk HTTP by hand
	openssl curl
	# the Debian base tests: an independent reference and corrupt .debs
	mmdebstrap xz-utils dpkg
	# real compiled wheels repackaged from Debian's numpy/scipy/sklearn
	patchelf
	# the predict server's tests load a real scikit-learn model (Debian's, /usr/bin/python3)
	python3-sklearn python3-joblib
	# the CNB tests look for processes a buildpack left behind
	procps
	# test_layer compiles a Latin-1 locale with localedef
	locales
	# sanitizers and libFuzzer (clang's compiler-rt); gcc's ASan/UBSan runtimes
	clang libclang-rt-14-dev libasan8 libubsan1
	# rootless / user switching for podman and the permission tests
	uidmap util-linux
	# registry tests: a real registry, htpasswd, the token server's JWT/RSA
	docker-registry apache2-utils python3-jwt python3-cryptography
)

case "$mode" in
build) pkgs=("${build_pkgs[@]}") ;;
test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
-h | --help | help)
	sed -n '2,5s/^# \{0,1\}//p' "$0"
	exit 0
	;;
*)
	echo "usage: $0 [build|test]" >&2
	exit 2
	;;
esac

missing=()
for p in "${pkgs[@]}"; do
	if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages for '$mode' already installed"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages: ${missing[*]}" >&2
	echo "hint: run as root (sudo $0 $mode)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
apt_install() {
	apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 "${missing[@]}" >/dev/null
}
# Fresh machines (and containers) often have no package lists yet: update
# once when they are missing or when the install cannot find a package.
if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]; then
	apt-get update -q >/dev/null
fi
if ! apt_install; then
	apt-get update -q >/dev/null
	apt_install
fi
echo "install-deps: done"
