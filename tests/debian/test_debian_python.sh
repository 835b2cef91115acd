#!/bin/bash
# The default base (bookworm, python3, host architecture) runs Python with
# the modules a data-science runtime needs, as root and as the app user;
# the image validates; scanners find the packages.
. "$(dirname "$0")/lib-debian.sh"
need file file
podman_env

step "build the default base"
debian_build "$T/img" bookworm
j=$T/bookworm.json
assert_eq "3.11" "$(jq -r .python_version "$j")" "target Python version"
assert_eq "/usr/bin/python3.11" "$(jq -r .python "$j")" "interpreter path"
assert_eq 2 "$(jq '.layers | length' "$j")" "layers: system files + base packages"
assert_match "$(jq -r '.layers[1].created_by' "$j")" '^dsbuild debian: python3 runtime \(bookworm, [0-9]+ packages\)$'
names=$(pkg_names "$j")
for p in python3 python3.11-minimal libpython3.11-stdlib libc6 libssl3 libsqlite3-0 libffi8 \
	zlib1g base-files tzdata netbase ca-certificates; do
	assert_match "$names" "^$p\$" "package $p in the base"
done
for p in perl-base dpkg apt debconf bash coreutils; do
	assert_not_contains "$names"$'\n' "$p"$'\n' "no $p in the base"
done

step "validators accept it"
validate_image "$T/img" bookworm
root=$VALIDATED_BUNDLE/rootfs
for l in bin sbin lib; do
	assert_eq "usr/$l" "$(readlink "$root/$l")" "merged /usr: /$l"
done
assert_file "$root/var/lib/dpkg/status.d/python3"
assert_match "$(cat "$root/var/lib/dpkg/status.d/libc6")" '^Status: install ok installed$'
assert_match "$(cat "$root/var/lib/dpkg/status.d/libc6")" '^Package: libc6$'
assert_file "$root/var/lib/dpkg/status.d/libc6.md5sums"
assert_file "$root/etc/ssl/certs/ca-certificates.crt"
assert_file "$root/usr/share/doc/libc6/copyright"
assert_absent "$root/usr/share/doc/libc6/changelog.Debian.gz"
assert_absent "$root/usr/share/man/man1"
assert_file "$root/etc/os-release"
assert_eq "1777" "$(stat -c %a "$root/tmp")" "/tmp mode"
assert_eq "1000:1000" "$(stat -c %u:%g "$root/home/app")" "home of app"
assert_match "$(cat "$root/etc/passwd")" '^app:x:1000:1000:app:/home/app:'
setuid=$(find "$root" -perm /6000 -type f | head -5)
assert_eq "" "$setuid" "no setuid/setgid files"
label=$(config_of "$T/img" bookworm | jq -r '.config.Labels["io.dsbuild.debian"]')
assert_eq "$(jq -c '.debian.packages' "$j")" "$(printf '%s' "$label" | jq -c .packages)" \
	"the package list is in the image metadata"
printf '%s' "$label" | jq -e '.packages[] | select(.name == "python3") |
	(.version | length > 0) and (.sha256 | test("^sha256:[0-9a-f]{64}$"))' >/dev/null ||
	fail "python3 recorded without version or sha256: $label"

step "python3 runs under podman with ssl, sqlite3, json, ctypes, zlib"
prun "oci:$T/img:bookworm" python3 -c '
import ssl, sqlite3, json, ctypes, zlib, ctypes.util, sys
db = sqlite3.connect(":memory:")
db.execute("create table t (x)"); db.execute("insert into t values (42)")
ctx = ssl.create_default_context()
libc = ctypes.CDLL("libc.so.6")
print(json.dumps({
  "python": "%d.%d" % sys.version_info[:2],
  "sqlite": db.execute("select x from t").fetchone()[0],
  "zlib": zlib.decompress(zlib.compress(b"ok")).decode(),
  "cas": ctx.cert_store_stats()["x509_ca"],
  "ctypes": libc.strlen(b"hello"),
  "openssl": ssl.OPENSSL_VERSION.split()[0],
}))'
[ "$rc" = 0 ] || fail "python3 failed in the image
$(_show_run "podman run python3 -c ...")"
res=$(printf '%s\n' "$out" | tail -1)
assert_eq '3.11' "$(printf '%s' "$res" | jq -r .python)"
assert_eq 42 "$(printf '%s' "$res" | jq -r .sqlite)"
assert_eq ok "$(printf '%s' "$res" | jq -r .zlib)"
assert_eq 5 "$(printf '%s' "$res" | jq -r .ctypes)"
assert_eq OpenSSL "$(printf '%s' "$res" | jq -r .openssl)"
[ "$(printf '%s' "$res" | jq -r .cas)" -gt 100 ] || fail "CA bundle not loaded: $res"

step "as the app user: HOME writable, /tmp writable, name resolves"
run podman run --rm --network none --user 1000:1000 "oci:$T/img:bookworm" python3 -c '
import os, pwd, tempfile
home = os.path.expanduser("~")
open(os.path.join(home, "x"), "w").write("1")
fd, p = tempfile.mkstemp()
print(pwd.getpwuid(os.getuid()).pw_name, home, p.startswith("/tmp/"))'
[ "$rc" = 0 ] || fail "python3 as uid 1000 failed
$(_show_run "podman run --user 1000:1000 ...")"
assert_eq "app /home/app True" "$(printf '%s\n' "$out" | tail -1)"

step "python (python-is-python3) and LANG"
prun "oci:$T/img:bookworm" python -c 'import locale, sys; print(sys.getfilesystemencoding(), locale.getpreferredencoding())'
[ "$rc" = 0 ] || fail "python symlink missing $(_show_run python)"
assert_eq "utf-8 utf-8" "$(printf '%s\n' "$out" | tail -1)"
