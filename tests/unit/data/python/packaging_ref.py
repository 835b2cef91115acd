"""Reference answers from Debian's python3-packaging for the unit tests of
lib/python: the C tests write their cases to a file, run this script and
compare its lines with their own answers.

    packaging_ref.py versions FILE      one version per line -> canonical | INVALID
    packaging_ref.py compare FILE       "a<TAB>b" -> -1 | 0 | 1
    packaging_ref.py specs FILE         "spec<TAB>version" -> "<pre-allowed> <default>" | INVALID
    packaging_ref.py markers FILE PY FULL MACHINE
                                        "marker<TAB>extra" -> 1 | 0 | INVALID | ERROR
    packaging_ref.py reqs FILE          requirement -> name|extras|specs|url|marker? | INVALID
    packaging_ref.py tags FILE PY GLIBC|- ARCH [MUSL]
                                        the supported tags, best first (FILE unused)
"""
import sys

try:
    from packaging import markers, requirements, specifiers, tags, version
    from packaging import _manylinux, _musllinux
except ImportError:
    sys.stderr.write("python3-packaging is missing: apt-get install python3-packaging\n")
    sys.exit(3)


def lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1]


def canon_spec(s):
    if s.operator == "===":
        return "===" + s.version
    v = s.version
    if v.endswith(".*"):
        return s.operator + str(version.Version(v[:-2])) + ".*"
    return s.operator + str(version.Version(v))


def main():
    mode = sys.argv[1]
    out = []
    if mode == "versions":
        for line in lines(sys.argv[2]):
            try:
                out.append(str(version.Version(line)))
            except version.InvalidVersion:
                out.append("INVALID")
    elif mode == "compare":
        for line in lines(sys.argv[2]):
            a, b = (version.Version(x) for x in line.split("\t"))
            out.append(str((a > b) - (a < b)))
    elif mode == "specs":
        for line in lines(sys.argv[2]):
            spec, v = line.split("\t")
            try:
                s = specifiers.SpecifierSet(spec)
            except specifiers.InvalidSpecifier:
                out.append("INVALID")
                continue
            try:
                dflt = s.contains(v)
            except version.InvalidVersion:
                # "===foobar": packaging 23 cannot tell whether it names a
                # pre-release; it does not.
                dflt = s.contains(v, prereleases=False)
            out.append("%d %d" % (s.contains(v, prereleases=True), dflt))
    elif mode == "markers":
        py, full, machine = sys.argv[3:6]
        env = {
            "implementation_name": "cpython", "implementation_version": full,
            "os_name": "posix", "platform_machine": machine, "platform_release": "",
            "platform_system": "Linux", "platform_version": "", "python_full_version": full,
            "platform_python_implementation": "CPython", "python_version": py,
            "sys_platform": "linux",
        }
        for line in lines(sys.argv[2]):
            text, extra = line.split("\t")
            try:
                m = markers.Marker(text)
            except markers.InvalidMarker:
                out.append("INVALID")
                continue
            try:
                e = dict(env)
                e["extra"] = extra
                out.append("1" if m.evaluate(e) else "0")
            except Exception:
                out.append("ERROR")
    elif mode == "reqs":
        for line in lines(sys.argv[2]):
            try:
                r = requirements.Requirement(line)
            except requirements.InvalidRequirement:
                out.append("INVALID")
                continue
            extras = ",".join(sorted({"-".join(e.lower().replace("_", "-").replace(".", "-").split("-"))
                                      for e in r.extras}))
            specs = ",".join(sorted(canon_spec(s) for s in r.specifier))
            out.append("|".join([r.name, extras, specs, r.url or "", "m" if r.marker else ""]))
    elif mode == "tags":
        py, glibc, arch = sys.argv[3:6]
        musl = sys.argv[6] if len(sys.argv) > 6 else None
        major, minor = (int(x) for x in py.split("."))
        plats = []
        if glibc != "-":
            g = tuple(int(x) for x in glibc.split("."))
            _manylinux._get_glibc_version = lambda: g
            # The real check reads this interpreter's ELF header: the target's
            # interpreter is a 32-bit one for these two.
            _manylinux._have_compatible_abi = lambda exe, a: a in {
                "x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "armv7l", "i686"}
            plats += list(_manylinux.platform_tags("linux_" + arch, arch))
        if musl:
            mm = tuple(int(x) for x in musl.split("."))
            plats += ["musllinux_%d_%d_%s" % (mm[0], m, arch) for m in range(mm[1], -1, -1)]
        plats.append("linux_" + arch)
        interp = "cp%d%d" % (major, minor)
        abis = tags._cpython_abis((major, minor))
        seq = list(tags.cpython_tags((major, minor), abis, plats))
        seq += list(tags.compatible_tags((major, minor), interp, plats))
        out = [str(t) for t in seq]
    else:
        sys.exit("unknown mode " + mode)
    sys.stdout.write("".join(x + "\n" for x in out))


main()
