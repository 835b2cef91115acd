#!/bin/bash
# The python3 package set against an independent reference: mmdebstrap
# --variant=essential --include=python3 of the same suite.  Every
# difference must be one docs/debian-base.md explains:
#   only in mmdebstrap: the Essential set and what it needs (dsbuild adds
#     Essential packages only when something depends on them, and ignores
#     dependencies on dpkg/debconf/install-info, which only maintainer
#     scripts use), usr-is-merged (its merged-/usr hook);
#   only in dsbuild: ca-certificates, netbase, tzdata (added as data);
# and packages in both have the same version.
. "$(dirname "$0")/lib-debian.sh"
need mmdebstrap mmdebstrap
need python3 python3

suite=${DEBIAN_SUITE:-bookworm}
debian_build "$T/img" ours --suite "$suite"

step "mmdebstrap --variant=essential --include=python3 $suite"
export SOURCE_DATE_EPOCH=1700000000
run mmdebstrap --quiet --variant=essential --include=python3 \
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr --skip=output/dev \
	--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	"$suite" "$T/ref.tar"
[ "$rc" = 0 ] || fail "mmdebstrap failed
$(_show_run mmdebstrap)"
tar -xOf "$T/ref.tar" ./var/lib/dpkg/status >"$T/ref.status"

python3 - "$T/ref.status" "$T/ours.json" <<'PY'
import json, sys

def paragraphs(path):
    para, last = {}, None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if not line:
            if para:
                yield para
            para, last = {}, None
        elif line[0] in " \t":
            para[last] += "\n" + line
        else:
            last, _, v = line.partition(":")
            para[last] = v.strip()
    if para:
        yield para

ref = {p["Package"]: p for p in paragraphs(sys.argv[1])
       if p.get("Status") == "install ok installed"}
ours = {p["name"]: p for p in json.load(open(sys.argv[2]))["debian"]["packages"]}

def deps(p):
    out = []
    for f in ("Pre-Depends", "Depends"):
        for group in p.get(f, "").split(","):
            for alt in group.split("|"):
                name = alt.strip().split(" ")[0].split(":")[0]
                if name:
                    out.append(name)
    return out

provides = {}
for n, p in ref.items():
    for v in p.get("Provides", "").split(","):
        v = v.strip().split(" ")[0]
        if v:
            provides.setdefault(v, []).append(n)

# what the Essential set pulls in (through virtual packages too), inside
# the reference
closure = {n for n, p in ref.items() if p.get("Essential") == "yes"}
todo = list(closure)
while todo:
    for d in deps(ref[todo.pop()]):
        for n in [d] + provides.get(d, []):
            if n in ref and n not in closure:
                closure.add(n)
                todo.append(n)

problems = []
only_ref = sorted(set(ref) - set(ours))
only_ours = sorted(set(ours) - set(ref))
for n in only_ref:
    if n not in closure and n != "usr-is-merged":
        problems.append("only in mmdebstrap and not needed by the Essential set: " + n)
for n in only_ours:
    if n not in ("ca-certificates", "netbase", "tzdata"):
        problems.append("only in dsbuild: " + n)
for n in sorted(set(ref) & set(ours)):
    if ref[n]["Version"] != ours[n]["version"]:
        problems.append("%s: mmdebstrap %s, dsbuild %s" % (n, ref[n]["Version"], ours[n]["version"]))
for n in ("python3", "python3.11", "libpython3.11-stdlib", "libc6", "libssl3"):
    if n in ref and n not in ours:
        problems.append("python3's dependency %s missing from dsbuild's set" % n)
print("# in both: %d, only mmdebstrap: %d (%s), only dsbuild: %s" % (
    len(set(ref) & set(ours)), len(only_ref), " ".join(only_ref), " ".join(only_ours)))
if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
PY
