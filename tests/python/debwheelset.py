#!/usr/bin/python3
"""Wheels for Debian python3-* packages and their whole Python dependency closure.

usage: debwheelset.py --debs DEBDIR --out WHEELDIR [--report FILE]
                      [--resolve 'flask gunicorn' ...] ROOTPKG...

Runs under Debian's /usr/bin/python3 (needs python3-packaging); uses apt-cache dumpavail,
apt-get download (into DEBDIR, reused), dpkg, dpkg-deb, patchelf and deb2wheel.py beside it.

1. Closure: from ROOTPKG, the Pre-Depends/Depends of python3-* packages are followed (candidate
   versions of the local apt lists).  A group 'a | b' is met by the interpreter when it is one
   of the alternatives and its version fits; otherwise the first alternative that exists is
   taken; a virtual package goes to its first python3-* provider.  Dependencies that are not
   python3-* are libraries (Section libs, or lib*; their own library Depends are followed;
   never libc6), vendored by deb2wheel where an ELF file needs them, or something else: libjs-*
   and fonts that the package's symbolic links point into are packed in the links' place
   (LINK_NEVER excepted); the rest (gdb, tzdata, ca-certificates ...) is only listed.
2. One wheel per python3-* package with a *.egg-info / *.dist-info, named and versioned by it
   (a version 0.0.0, from a build without its VCS tag, is the Debian upstream version).
   Packages without metadata are handled by GLUE and SPECIAL; EXCLUDE and SUBST undo Debian
   leftovers and edits; usr/share/jupyter and etc/jupyter become the wheel's data.
3. Requires-Dist = the package's own metadata (deb2wheel --all-requires: METADATA, every
   requires.txt section with its extra/marker; malformed entries left out) plus each Debian
   dependency on another python3-* package whose dist the metadata does not name at all (with
   the Debian version constraint as a PEP 440 specifier).  Debian's dh_python3 deletes from
   requires.txt the requirements it turned into Depends (Flask's requires.txt has no
   Werkzeug), so the Depends are where most requirements live.  When the metadata names a dist
   under a marker (pyzmq: 'py; implementation_name == "pypy"'), the marker wins over Debian's
   plain Depends.
4. A requirement of the metadata that applies on CPython 3.11/Linux and names a dist outside
   the set must be in DROP (with a reason), else the script fails naming it.
5. Checks on the wheels as built: every applicable requirement is met inside the set (version
   included; pre-releases count, as PEP 440 allows when nothing else matches), no two wheels
   ship the same path.  Each --resolve set is resolved and printed, with a report of where
   each requirement came from and what was left out.
"""
import argparse, email.parser, glob, os, re, shutil, subprocess, sys, tempfile, zipfile

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import deb2wheel  # noqa: E402

# python3-* packages without metadata of their own: their files go into another package's wheel
# (the one their source package makes the dist from).
GLUE = {
    "python3-cffi-backend": "python3-cffi",  # _cffi_backend.so of cffi (Source: python-cffi)
}
# python3-* packages that map to a dist made another way (None: dropped).
SPECIAL = {
    # The genuine setuptools wheel of python3-setuptools-whl stands for both halves Debian
    # splits setuptools into.
    "python3-setuptools": "setuptools",
    "python3-pkg-resources": "setuptools",
    # Part of CPython's standard library that Debian splits off; the base image has only
    # python3's closure, which lacks it.  setuptools' distutils-precedence.pth supplies
    # `distutils` (setuptools._distutils) in an environment without it, and notebook needs it
    # (notebook/utils.py: from distutils.version import LooseVersion).
    "python3-distutils": "setuptools",
    # The rest of the same split; only distutils' build_py_2to3 uses it.
    "python3-lib2to3": None,
}
SETUPTOOLS_WHL_DEB = "python3-setuptools-whl"
# Requirements that Debian does not ship and that do not apply: name -> reason.  None needed for
# flask, gunicorn and notebook on bookworm: Debian's Depends cover every requirement the
# metadata keeps.  (Requirements under a marker false on CPython 3.11/Linux, or under an extra,
# stay in the metadata as they are upstream: appnope, pywin32, colorama, importlib-metadata ...)
DROP = {}
# Debian-specific edits undone: (file in the deb, Debian's text, upstream's text).
SUBST = {
    # Debian's kernel spec runs /usr/bin/python3, which in a virtual environment has no
    # ipykernel; upstream's says "python", which jupyter-client replaces with sys.executable.
    "python3-ipykernel": [("usr/share/jupyter/kernels/python3/kernel.json", '"/usr/bin/python3"',
                           '"python"')],
}
# Debs that links of the Python files point into but that are not packed (the links are left
# out); the other targets are packed in the links' place (notebook's static/components/* from
# libjs-*, werkzeug's debugger jquery.js).
LINK_NEVER = {
    "libjs-mathjax": "41 MB; the notebook falls back to plain text for maths without it",
    "python-tinycss2-common": "tinycss2's test data",
}
# Stray files in dist-packages that upstream's wheels do not have: deb -> [(path, why)].
EXCLUDE = {
    "python3-ipykernel": [("share", "a second copy of the kernel spec, which is data")],
    "python3-pycparser": [("ast", "a pickled syntax tree left by the build's tests")],
}
LIBS_NEVER = {"libc6"}  # glibc: the base's, never vendored (the wheels say manylinux_2_36)
DATA = [("usr/share/jupyter", "share/jupyter"), ("etc/jupyter", "etc/jupyter")]
TARGET_ENV = {
    "implementation_name": "cpython", "implementation_version": "3.11.2", "os_name": "posix",
    "platform_machine": "x86_64", "platform_python_implementation": "CPython",
    "platform_release": "", "platform_system": "Linux", "platform_version": "",
    "python_full_version": "3.11.2", "python_version": "3.11", "sys_platform": "linux",
}
INTERP = re.compile(r"^(lib)?python3(\.\d+)?(-minimal|-stdlib|-dev)?$")
DEP = re.compile(r"^([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9]+)?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^)\s]+)\s*\))?"
                 r"\s*(?:\[[^]]*\])?\s*(?:<[^>]*>)?$")

_avail, _prov = None, {}


def _load():
    """Every candidate record of the local apt lists (apt-cache dumpavail: one call, ~1 s; an
    apt-cache call per package would take as long each)."""
    global _avail
    if _avail is None:
        _avail = {}
        out = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
        for para in out.split("\n\n"):
            rec = {}
            for line in para.splitlines():
                if line[:1] not in (" ", "\t") and ":" in line:
                    k, _, v = line.partition(":")
                    rec[k] = v.strip()
            if "Package" in rec:
                _avail[rec["Package"]] = rec
                for pv in filter(None, (x.strip() for x in rec.get("Provides", "").split(","))):
                    _prov.setdefault(re.split(r"[\s(:]", pv)[0], []).append(rec["Package"])
        if not _avail:
            sys.exit("debwheelset: apt-cache dumpavail lists nothing: run apt-get update")
    return _avail


def apt_show(pkg):
    """Candidate record of a real package (dict of single-line fields), None if virtual/unknown."""
    return _load().get(pkg)


def apt_providers(name):
    _load()
    return sorted(dict.fromkeys(_prov.get(name, [])))


def sh(*a):
    r = subprocess.run(a, capture_output=True, text=True)
    if r.returncode:
        sys.exit(f"debwheelset: {' '.join(a[:3])} ... failed:\n{r.stderr}")
    return r.stdout


def dpkg_cmp(a, op, b):
    ops = {"<<": "lt", "<=": "le", "=": "eq", ">=": "ge", ">>": "gt", "<": "le", ">": "ge"}
    return subprocess.run(["dpkg", "--compare-versions", a, ops[op], b]).returncode == 0


def parse_depends(rec):
    """[[(name, op, version), ...alternatives], ...] of Pre-Depends and Depends."""
    groups = []
    for field in ("Pre-Depends", "Depends"):
        for g in filter(None, (x.strip() for x in rec.get(field, "").split(","))):
            alts = []
            for alt in g.split("|"):
                m = DEP.match(alt.strip())
                if not m:
                    sys.exit(f"debwheelset: cannot parse the dependency '{alt.strip()}' of {rec['Package']}")
                alts.append(m.groups())
            groups.append(alts)
    return groups


def pick(alts):
    """(name, op, version, virtual) for a dependency group, None when the interpreter meets it."""
    py = apt_show("python3")["Version"]
    for name, op, ver in alts:
        if INTERP.match(name) and len(alts) > 1 and (not op or dpkg_cmp(py, op, ver)):
            return None
    for name, op, ver in alts:
        if apt_show(name):
            return name, op, ver, False
        provs = apt_providers(name)
        if provs:
            py3 = [p for p in provs if p.startswith("python3-")]
            return (py3 or provs)[0], op, ver, True
    sys.exit(f"debwheelset: nothing in the archive satisfies {' | '.join(a[0] for a in alts)}")


def is_pymod(name):
    return name.startswith("python3-") and not INTERP.match(name)


def is_lib(name):
    rec = apt_show(name)
    sec = (rec or {}).get("Section", "")
    return name not in LIBS_NEVER and (sec in ("libs", "oldlibs") or
                                       (name.startswith("lib") and not name.startswith("libjs-")))


def deb2pep(op, ver):
    """A Debian version constraint as a PEP 440 specifier ('' when it cannot be said)."""
    if not op:
        return ""
    v = re.sub(r"^\d+:", "", ver)
    if "-" in v:
        v = v.rsplit("-", 1)[0]
    v = re.split(r"[~+]", v)[0]
    try:
        Version(v)
    except InvalidVersion:
        return ""
    return {"<<": "<", "<=": "<=", "=": "==", ">=": ">=", ">>": ">", "<": "<=", ">": ">="}[op] + v


def applies(req, extras=("",)):
    if req.marker is None:
        return True
    return any(req.marker.evaluate(dict(TARGET_ENV, extra=x)) for x in extras)


class Wheel:
    def __init__(self, owner):
        self.owner, self.debs = owner, [owner]
        self.edges = []  # (from deb, python3-* deb, op, version, virtual)
        self.libs, self.others = set(), {}  # others: name -> the deb that depends on it
        self.link_debs, self.unresolved = [], set()
        self.name = self.version = None
        self.meta_reqs, self.deb_reqs, self.notes = [], [], []
        self.data = []
        self.version_override = False
        self.bad_reqs = []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--debs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--report")
    ap.add_argument("--resolve", action="append", default=[])
    ap.add_argument("roots", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.debs, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    report = []

    # ---- 1. closure over python3-* packages
    wheels, owner_of, queue, seen = {}, {}, list(a.roots), set()
    special_used = {}
    while queue:
        deb = queue.pop(0)
        if deb in seen:
            continue
        seen.add(deb)
        if deb in SPECIAL:
            special_used.setdefault(deb, SPECIAL[deb])
            continue
        rec = apt_show(deb)
        if rec is None:
            sys.exit(f"debwheelset: no package '{deb}' in the archive")
        owner = GLUE.get(deb, deb)
        if owner != deb:
            queue.append(owner)
        w = wheels.setdefault(owner, Wheel(owner))
        if deb not in w.debs:
            w.debs.append(deb)
        owner_of[deb] = owner
        for alts in parse_depends(rec):
            p = pick(alts)
            if p is None:
                continue
            name, op, ver, virtual = p
            if INTERP.match(name):
                continue
            if is_pymod(name):
                w.edges.append((deb, name, op, ver, virtual))
                queue.append(name)
            elif is_lib(name):
                w.libs.add(name)
            elif name not in LIBS_NEVER:
                w.others.setdefault(name, deb)

    # ---- library closure, per wheel
    libdeps = {}

    def lib_closure(names):
        out, todo = set(), list(names)
        while todo:
            n = todo.pop()
            if n in out:
                continue
            out.add(n)
            if n not in libdeps:
                libdeps[n] = []
                for alts in parse_depends(apt_show(n)):
                    p = pick(alts)
                    if p and is_lib(p[0]):
                        libdeps[n].append(p[0])
            todo += libdeps[n]
        return sorted(out)

    for w in wheels.values():
        w.libs = lib_closure(w.libs)

    # ---- downloads
    want = sorted({d for w in wheels.values() for d in w.debs} |
                  {l for w in wheels.values() for l in w.libs} | {SETUPTOOLS_WHL_DEB})

    def debfile(p):
        f = sorted(glob.glob(os.path.join(a.debs, f"{p}_*.deb")))
        return f[-1] if f else None

    def download(names):
        missing = [p for p in names if not debfile(p)]
        if missing:
            subprocess.run(["apt-get", "download", "-q"] + missing, cwd=a.debs, check=True,
                           stdout=sys.stderr)

    download(want)

    def dangling(root, tops):
        """Targets ('/usr/share/javascript/jquery') of relative links under tops that point
        at nothing; absolute links are left out (they would name the host's files)."""
        out = set()
        for top in tops:
            for dp, dns, fns in os.walk(os.path.join(root, top)):
                for n in dns + fns:
                    p = os.path.join(dp, n)
                    t = os.readlink(p) if os.path.islink(p) else None
                    if t and not os.path.exists(p) and not t.startswith("/"):
                        t = os.path.normpath(os.path.join(os.path.dirname(p), t))
                        if t.startswith(root + os.sep):
                            out.add(t[len(root):])
        return out

    def resolve_links(w, root, tops, tmp):
        """Picks, among the non-Python Depends of w (libjs-*, fonts-*), the debs that hold what
        w's links point at, then theirs; extracts them into root."""
        targets = dangling(root, tops)
        cands = sorted(n for n in w.others if n not in LINK_NEVER)
        for _ in range(4):
            if not targets or not cands:
                break
            download(cands)
            new = []
            for c in cands:
                croot = os.path.join(tmp, "link", c)
                if not os.path.isdir(croot):
                    os.makedirs(croot)
                    subprocess.run(["dpkg-deb", "-x", debfile(c), croot], check=True)
                if any(os.path.lexists(croot + t) for t in targets):
                    new.append(c)
                    subprocess.run(["dpkg-deb", "-x", debfile(c), root], check=True)
            w.link_debs += new
            targets = dangling(root, tops)
            cands = sorted({p[0] for c in new for alts in parse_depends(apt_show(c))
                            for p in [pick(alts)] if p and not is_pymod(p[0]) and not is_lib(p[0])
                            and not INTERP.match(p[0]) and p[0] not in LINK_NEVER
                            and p[0] not in w.link_debs})
        w.unresolved = targets

    # ---- 2. metadata of each wheel's debs
    tmp = tempfile.mkdtemp(prefix="debwheelset.")
    try:
        for w in wheels.values():
            root = os.path.join(tmp, w.owner)
            for d in w.debs:
                subprocess.run(["dpkg-deb", "-x", debfile(d), root], check=True)
            msg, reqs, _ = deb2wheel.read_metadata(os.path.join(root, "usr/lib/python3/dist-packages"), True)
            if msg is None:
                sys.exit(f"debwheelset: {w.owner} has no *.egg-info / *.dist-info: add it to GLUE or SPECIAL")
            w.name, w.version = msg["Name"], msg["Version"]
            if w.version == "0.0.0":  # built without its VCS version (pure_eval)
                up = deb2pep(">=", apt_show(w.owner)["Version"])[2:]
                w.notes.append(f"version {up} from the Debian package (metadata says 0.0.0)")
                w.version, w.version_override = up, True
            w.meta_reqs = []
            for r in (msg.get_all("Requires-Dist") or []) + reqs:
                try:
                    Requirement(r)
                    w.meta_reqs.append(r)
                except InvalidRequirement:
                    w.bad_reqs.append(r)
                    w.notes.append(f"dropped '{r}': not PEP 508 (as upstream wrote it)")
            w.data = [f"{s}={d}" for s, d in DATA if os.path.isdir(os.path.join(root, s))]
            resolve_links(w, root, ["usr/lib/python3/dist-packages"] + [s for s, _ in DATA], tmp)
    finally:
        shutil.rmtree(tmp)
    setuptools_whl = None
    sroot = tempfile.mkdtemp(prefix="debwheelset.")
    try:
        subprocess.run(["dpkg-deb", "-x", debfile(SETUPTOOLS_WHL_DEB), sroot], check=True)
        for f in glob.glob(os.path.join(sroot, "usr/share/python-wheels/setuptools-*.whl")):
            setuptools_whl = os.path.join(a.out, os.path.basename(f))
            shutil.copy(f, setuptools_whl)
    finally:
        shutil.rmtree(sroot)
    if not setuptools_whl:
        sys.exit(f"debwheelset: no setuptools wheel in {SETUPTOOLS_WHL_DEB}")
    st_ver = re.match(r"setuptools-([^-]+)-", os.path.basename(setuptools_whl)).group(1)
    versions = {canonicalize_name(w.name): w.version for w in wheels.values()}
    versions["setuptools"] = st_ver

    def dist_of(deb):
        if deb in SPECIAL:
            return SPECIAL[deb]
        return wheels[owner_of[deb]].name

    # ---- 3. Requires-Dist: metadata + Debian Depends the metadata does not name
    dropped = []
    for w in wheels.values():
        named = {canonicalize_name(Requirement(r).name) for r in w.meta_reqs}
        add = {}
        for src, tgt, op, ver, virtual in w.edges:
            d = dist_of(tgt)
            if d is None:
                dropped.append(f"{w.name}: Debian's {src} -> {tgt} (not a wheel: see SPECIAL)")
                continue
            cd = canonicalize_name(d)
            if cd == canonicalize_name(w.name):
                continue
            if cd in named:
                continue
            spec = "" if virtual or tgt in GLUE or tgt == "python3-distutils" else deb2pep(op, ver)
            if spec and not SpecifierSet(spec, prereleases=True).contains(versions[cd], prereleases=True):
                w.notes.append(f"Debian's {tgt} ({op} {ver}) -> {spec} does not hold for {d} "
                               f"{versions[cd]}; kept without the version")
                spec = ""
            add.setdefault(d, [])
            if spec and spec not in add[d]:
                add[d].append(spec)
        w.deb_reqs = [d + ",".join(s) for d, s in sorted(add.items(), key=lambda x: x[0].lower())]
        # ---- 4. metadata requirements outside the set
        keep = []
        for r in w.meta_reqs:
            req = Requirement(r)
            cn = canonicalize_name(req.name)
            if applies(req) and cn not in versions:
                if cn in DROP:
                    dropped.append(f"{w.name}: {r} ({DROP[cn]})")
                    continue
                sys.exit(f"debwheelset: {w.name} requires '{r}', which no package of the closure "
                         f"provides: add its python3-* package to the roots or '{cn}' to DROP")
            keep.append(r)
        w.meta_reqs = keep

    # ---- build
    for w in sorted(wheels.values(), key=lambda w: w.name.lower()):
        cmd = [sys.executable, os.path.join(HERE, "deb2wheel.py"), "--out", a.out, "--no-tests", "--all-requires"]
        for d in w.debs:
            cmd += ["--deb", debfile(d)]
        for l in w.libs:
            cmd += ["--vendor-deb", debfile(l)]
        for l in w.link_debs:
            cmd += ["--link-deb", debfile(l)]
        for r in w.deb_reqs:
            cmd += ["--requires", r]
        for d in w.data:
            cmd += ["--data", d]
        for d in w.debs:
            for x, why in EXCLUDE.get(d, []):
                cmd += ["--exclude", x]
                w.notes.append(f"left out {x}: {why}")
            for f, o, n in SUBST.get(d, []):
                cmd += ["--subst", f, o, n]
                w.notes.append(f"{f}: {o} -> {n} (as upstream)")
        for r in w.bad_reqs:
            cmd += ["--drop-requires", r]
        if w.version_override:
            cmd += ["--version", w.version]
        out = sh(*cmd)
        report.append(f"{w.name}=={w.version}  debs: {' '.join(w.debs)}")
        mr = [r for r in w.meta_reqs if applies(Requirement(r))]
        if mr:
            report.append("    from metadata: " + ", ".join(mr))
        if w.deb_reqs:
            report.append("    from Debian Depends: " + ", ".join(w.deb_reqs))
        v = re.search(r"vendored=(\[[^]]*\])", out)
        if v and v.group(1) != "[]":
            report.append("    vendored: " + v.group(1))
        for n in w.notes:
            report.append("    note: " + n)
        if w.link_debs:
            report.append("    files its links point at, from: " + ", ".join(w.link_debs))
        if w.unresolved:
            report.append("    links left out (their targets are in none of its debs): "
                          + ", ".join(sorted(w.unresolved)))
        rest = sorted(f"{k} (of {v})" for k, v in w.others.items() if k not in w.link_debs)
        if rest:
            report.append("    not shipped (not Python, not a library): " + ", ".join(rest))
    report.append(f"setuptools=={st_ver}  from {SETUPTOOLS_WHL_DEB} (stands for "
                  + ", ".join(f"{k}" for k, v in sorted(special_used.items()) if v == "setuptools") + ")")
    for k, v in sorted(special_used.items()):
        if v is None:
            report.append(f"{k}: not a wheel (see SPECIAL in debwheelset.py)")
    for d in dropped:
        report.append("dropped: " + d)

    # ---- 5. checks on the wheels as built
    meta, paths = {}, {}
    for f in sorted(glob.glob(os.path.join(a.out, "*.whl"))):
        with zipfile.ZipFile(f) as z:
            mp = [n for n in z.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1]
            m = email.parser.Parser().parsestr(z.read(mp[0]).decode())
            meta[canonicalize_name(m["Name"])] = (m["Name"], m["Version"], m.get_all("Requires-Dist") or [])
            for n in z.namelist():
                if n.split("/")[0].endswith(".dist-info"):
                    continue
                if n in paths:
                    sys.exit(f"debwheelset: {os.path.basename(f)} and {paths[n]} both ship {n}")
                paths[n] = os.path.basename(f)
    bad = []
    for cn, (name, ver, reqs) in meta.items():
        for r in reqs:
            req = Requirement(r)
            if not applies(req):
                continue
            t = meta.get(canonicalize_name(req.name))
            if t is None or not req.specifier.contains(t[1], prereleases=True):
                bad.append(f"{name} {ver} requires {r}: set has {t[1] if t else 'nothing'}")
    if bad:
        sys.exit("debwheelset: requirements not met inside the set:\n  " + "\n  ".join(bad))
    report.append(f"{len(meta)} wheels")
    pulled = set()
    for rs in a.resolve:
        got, todo = {}, [Requirement(x) for x in rs.split()]
        while todo:
            req = todo.pop()
            cn = canonicalize_name(req.name)
            extras = set(req.extras)
            prev = got.get(cn)
            if prev is not None and extras <= prev:
                continue
            got[cn] = (prev or set()) | extras
            for r in meta[cn][2]:
                rr = Requirement(r)
                if applies(rr, ("",) + tuple(sorted(got[cn]))):
                    todo.append(rr)
        pulled |= set(got)
        names = sorted(f"{meta[c][0]}=={meta[c][1]}" for c in got)
        report.append(f"resolve '{rs}': {len(names)}: " + " ".join(names))
    if a.resolve:
        rest = sorted(f"{meta[c][0]}=={meta[c][1]}" for c in meta if c not in pulled)
        report.append(f"in no resolved set: {len(rest)}: " + " ".join(rest))
    text = "\n".join(report) + "\n"
    if a.report:
        with open(a.report, "w") as f:
            f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
