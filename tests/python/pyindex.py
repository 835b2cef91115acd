#!/usr/bin/env python3
"""Test helper: tiny wheels and a PEP 503 index folder.

usage:
  pyindex.py wheel OUTDIR NAME VERSION [--dep 'REQ'...] [--extra 'X:REQ'...]
             [--tag py3-none-any] [--script NAME=MOD:FUNC] [--file PATH=TEXT]
             [--bad-record] [--evil PATH] [--requires-python SPEC] [--data-script NAME]
  pyindex.py index WHEELDIR INDEXDIR [--no-metadata] [--yank FILE...] [--no-hash]
  pyindex.py sdist OUTDIR NAME VERSION
The index has /simple/<project>/index.html with #sha256= fragments,
data-requires-python, data-dist-info-metadata (PEP 658) and data-yanked, and
the files themselves under /files/.
"""
import argparse, base64, json, email.parser, hashlib, html, io, os, re, shutil, sys, tarfile, zipfile


def norm(n):
    return re.sub(r"[-_.]+", "-", n).lower()


def rec_hash(data):
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def wheel(a):
    dist = re.sub(r"[-_.]+", "_", a.name)
    di = f"{dist}-{a.version}.dist-info"
    files = {}
    pkg = dist.lower()
    files[f"{pkg}/__init__.py"] = (f"__version__ = {a.version!r}\n"
                                   f"def main():\n    print('{a.name} {a.version} main')\n").encode()
    for f in a.file:
        p, _, t = f.partition("=")
        files[p] = t.encode()
    meta = [f"Metadata-Version: 2.1", f"Name: {a.name}", f"Version: {a.version}"]
    if a.requires_python:
        meta.append(f"Requires-Python: {a.requires_python}")
    for d in a.dep:
        meta.append(f"Requires-Dist: {d}")
    extras = []
    for e in a.extra:
        x, _, r = e.partition(":")
        if x not in extras:
            extras.append(x)
            meta.append(f"Provides-Extra: {x}")
        meta.append(f"Requires-Dist: {r} ; extra == \"{x}\"")
    files[f"{di}/METADATA"] = ("\n".join(meta) + "\n\nA test package.\n").encode()
    tag = a.tag
    files[f"{di}/WHEEL"] = (f"Wheel-Version: 1.0\nGenerator: pyindex.py\n"
                            f"Root-Is-Purelib: {'true' if tag.endswith('any') else 'false'}\n"
                            f"Tag: {tag}\n").encode()
    if a.script:
        ep = "[console_scripts]\n" + "".join(s.replace("=", " = ", 1) + "\n" for s in a.script)
        files[f"{di}/entry_points.txt"] = ep.encode()
    for s in a.data_script:
        files[f"{dist}-{a.version}.data/scripts/{s}"] = b"#!python\nimport sys\nprint('data script', sys.prefix)\n"
    if a.evil:
        files[a.evil] = b"evil\n"
    record = []
    for p, d in files.items():
        h = rec_hash(d)
        if a.bad_record and p.endswith("__init__.py"):
            h = rec_hash(b"something else")
        record.append(f"{p},{h},{len(d)}")
    record.append(f"{di}/RECORD,,")
    files[f"{di}/RECORD"] = ("\n".join(record) + "\n").encode()
    fn = f"{dist}-{a.version}-{tag}.whl"
    os.makedirs(a.outdir, exist_ok=True)
    with zipfile.ZipFile(os.path.join(a.outdir, fn), "w", zipfile.ZIP_DEFLATED) as z:
        for p, d in files.items():
            zi = zipfile.ZipInfo(p, date_time=(2020, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, d)
    print(fn)


def sdist(a):
    os.makedirs(a.outdir, exist_ok=True)
    fn = f"{a.name}-{a.version}.tar.gz"
    with tarfile.open(os.path.join(a.outdir, fn), "w:gz") as t:
        data = f"Metadata-Version: 2.1\nName: {a.name}\nVersion: {a.version}\n".encode()
        ti = tarfile.TarInfo(f"{a.name}-{a.version}/PKG-INFO")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    print(fn)


def wheel_meta(path):
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            if n.count("/") == 1 and n.endswith(".dist-info/METADATA"):
                return z.read(n)
    raise SystemExit(f"{path}: no METADATA")


def index(a):
    files_dir = os.path.join(a.indexdir, "files")
    simple = os.path.join(a.indexdir, "simple")
    os.makedirs(files_dir, exist_ok=True)
    os.makedirs(simple, exist_ok=True)
    projects = {}
    for fn in sorted(os.listdir(a.wheeldir)):
        p = os.path.join(a.wheeldir, fn)
        if fn.endswith(".whl"):
            name = fn.split("-")[0]
        elif fn.endswith(".tar.gz"):
            name = fn[:-7].rsplit("-", 1)[0]
        else:
            continue
        shutil.copy(p, os.path.join(files_dir, fn))
        projects.setdefault(norm(name), []).append(fn)
    root = ["<!DOCTYPE html><html><body>"]
    for proj, fns in sorted(projects.items()):
        root.append(f'<a href="{proj}/">{proj}</a>')
        os.makedirs(os.path.join(simple, proj), exist_ok=True)
        lines = ["<!DOCTYPE html><html><head><title>Links for %s</title></head><body>" % proj]
        jfiles = []
        for fn in fns:
            fp = os.path.join(files_dir, fn)
            data = open(fp, "rb").read()
            href = f"../../files/{fn}"
            if not a.no_hash:
                href += "#sha256=" + hashlib.sha256(data).hexdigest()
            attrs = ""
            if fn.endswith(".whl"):
                meta = wheel_meta(fp)
                m = email.parser.BytesParser().parsebytes(meta)
                if m.get("Requires-Python"):
                    attrs += f' data-requires-python="{html.escape(m["Requires-Python"])}"'
                if not a.no_metadata:
                    open(fp + ".metadata", "wb").write(meta)
                    attrs += f' data-dist-info-metadata="sha256={hashlib.sha256(meta).hexdigest()}"'
            if fn in (a.yank or []):
                attrs += ' data-yanked="broken release"'
            lines.append(f'<a href="{href}"{attrs}>{fn}</a><br/>')
            jf = {"filename": fn, "url": f"../../files/{fn}",
                  "hashes": {} if a.no_hash else {"sha256": hashlib.sha256(data).hexdigest()}}
            if "data-requires-python" in attrs:
                jf["requires-python"] = m["Requires-Python"]
            if fn.endswith(".whl") and not a.no_metadata:
                jf["core-metadata"] = {"sha256": hashlib.sha256(meta).hexdigest()}
            if fn in (a.yank or []):
                jf["yanked"] = "broken release"
            jfiles.append(jf)
        lines.append("</body></html>")
        json.dump({"meta": {"api-version": "1.1"}, "name": proj, "files": jfiles},
                  open(os.path.join(simple, proj, "index.json"), "w"))
        open(os.path.join(simple, proj, "index.html"), "w").write("\n".join(lines) + "\n")
    root.append("</body></html>")
    open(os.path.join(simple, "index.html"), "w").write("\n".join(root) + "\n")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wheel")
    w.add_argument("outdir"); w.add_argument("name"); w.add_argument("version")
    w.add_argument("--dep", action="append", default=[])
    w.add_argument("--extra", action="append", default=[])
    w.add_argument("--tag", default="py3-none-any")
    w.add_argument("--script", action="append", default=[])
    w.add_argument("--data-script", action="append", default=[])
    w.add_argument("--file", action="append", default=[])
    w.add_argument("--bad-record", action="store_true")
    w.add_argument("--evil")
    w.add_argument("--requires-python")
    s = sub.add_parser("sdist")
    s.add_argument("outdir"); s.add_argument("name"); s.add_argument("version")
    i = sub.add_parser("index")
    i.add_argument("wheeldir"); i.add_argument("indexdir")
    i.add_argument("--no-metadata", action="store_true")
    i.add_argument("--no-hash", action="store_true")
    i.add_argument("--yank", action="append")
    a = ap.parse_args()
    {"wheel": wheel, "sdist": sdist, "index": index}[a.cmd](a)


if __name__ == "__main__":
    main()
