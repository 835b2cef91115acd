#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_layout (see the comment at the top of
fuzz_layout.c for the input format) into corpus/layout/."""
import hashlib
import io
import json
import os
import tarfile

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "layout")
SEP = b"\n@@@@\n"
MARKER = b'{"imageLayoutVersion":"1.0.0"}'
OCI_M = "application/vnd.oci.image.manifest.v1+json"
OCI_I = "application/vnd.oci.image.index.v1+json"
OCI_C = "application/vnd.oci.image.config.v1+json"
TAR = "application/vnd.oci.image.layer.v1.tar"


def seed(name, mode, platform, tag, sections):
    """sections: a list of sections, or raw bytes (mode 3)."""
    if isinstance(sections, bytes):
        body = sections
    else:
        body = SEP.join(s if isinstance(s, bytes) else s.encode() for s in sections)
    data = bytes([mode, platform, tag]) + body
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def small_tar(files):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, content, kind, link in files:
            ti = tarfile.TarInfo(name)
            ti.mtime = 0
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif kind == "hard":
                ti.type = tarfile.LNKTYPE
                ti.linkname = link
                t.addfile(ti)
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = link
                t.addfile(ti)
            else:
                ti.size = len(content)
                t.addfile(ti, io.BytesIO(content))
        end = t.offset
    # keep the end-of-archive blocks, drop tarfile's padding to 10240
    return b.getvalue()[:end + 1024]


LAYER = small_tar([("app/hello.txt", b"hello\n", "file", None)])
INDEX = ('{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"@2","size":#2,'
         '"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' % OCI_M)
MANIFEST = ('{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"@3",'
            '"size":#3},"layers":[{"mediaType":"%s","digest":"@4","size":#4}]}' % (OCI_M, OCI_C, TAR))
CONFIG = ('{"architecture":"amd64","os":"linux","config":{"Env":["A=1"]},"rootfs":'
          '{"type":"layers","diff_ids":["@4"]},"history":[{"created_by":"seed"}]}')


def real_oci_archive():
    blobs = {}

    def put(b):
        d = hashlib.sha256(b).hexdigest()
        blobs[d] = b
        return "sha256:" + d, len(b)

    ld, ls = put(LAYER)
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": [ld]}}).encode()
    cd, cs = put(cfg)
    man = json.dumps({"schemaVersion": 2, "mediaType": OCI_M,
                      "config": {"mediaType": OCI_C, "digest": cd, "size": cs},
                      "layers": [{"mediaType": TAR, "digest": ld, "size": ls}]}).encode()
    md, ms = put(man)
    idx = json.dumps({"schemaVersion": 2, "manifests": [{"mediaType": OCI_M, "digest": md,
                      "size": ms, "annotations": {"org.opencontainers.image.ref.name": "latest"}}]})
    files = [("oci-layout", MARKER, "file", None), ("index.json", idx.encode(), "file", None),
             ("blobs", b"", "dir", None), ("blobs/sha256", b"", "dir", None)]
    files += [("blobs/sha256/" + d, b, "file", None) for d, b in sorted(blobs.items())]
    return small_tar(files)


def main():
    os.makedirs(OUT, exist_ok=True)
    good = [MARKER, INDEX, MANIFEST, CONFIG, LAYER]
    seed("oci-valid", 0, 1, 0, good)
    seed("oci-valid-tag", 0, 0, 2, good)
    seed("oci-archive-valid", 1, 1, 2, good)
    seed("docker-archive-oci-layout", 2, 1, 3, good)
    seed("docker-archive-legacy", 2, 1, 0,
         [b"", '[{"Config":"$2","RepoTags":["app:v1"],"Layers":["$3"]}]',
          '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["@3"]}}',
          LAYER])
    nested = ('{"schemaVersion":2,"mediaType":"%s","manifests":['
              '{"mediaType":"%s","digest":"@3","size":#3,"platform":{"os":"linux","architecture":"amd64"}},'
              '{"mediaType":"%s","digest":"@4","size":#4,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}'
              % (OCI_I, OCI_M, OCI_M))
    top = ('{"schemaVersion":2,"manifests":[{"mediaType":"%s","digest":"@2","size":#2}]}' % OCI_I)
    m_for = lambda c: ('{"schemaVersion":2,"mediaType":"%s","config":{"mediaType":"%s","digest":"@%d",'
                       '"size":#%d},"layers":[{"mediaType":"%s","digest":"@7","size":#7}]}'
                       % (OCI_M, OCI_C, c, c, TAR))
    cfg_for = lambda a: ('{"architecture":"%s","os":"linux","rootfs":{"type":"layers","diff_ids":["@7"]}}' % a)
    seed("oci-nested-index-arm64", 0, 2, 0,
         [MARKER, top, nested, m_for(5), m_for(6), cfg_for("amd64"), cfg_for("arm64"), LAYER])
    seed("oci-nested-index-missing-platform", 0, 4, 0,
         [MARKER, top, nested, m_for(5), m_for(6), cfg_for("amd64"), cfg_for("arm64"), LAYER])
    seed("oci-docker-media-types", 0, 1, 0,
         [MARKER, INDEX.replace(OCI_M, "application/vnd.docker.distribution.manifest.v2+json"),
          MANIFEST.replace(OCI_M, "application/vnd.docker.distribution.manifest.v2+json")
          .replace(TAR, "application/vnd.docker.image.rootfs.diff.tar.gzip"),
          CONFIG, LAYER])
    seed("bad-index-json", 0, 1, 0, [MARKER, '{"manifests":[', MANIFEST, CONFIG, LAYER])
    seed("bad-manifest-size", 0, 1, 0, [MARKER, INDEX.replace("#2", "7"), MANIFEST, CONFIG, LAYER])
    seed("bad-layer-size", 0, 1, 0, [MARKER, INDEX, MANIFEST.replace("#4", "99999"), CONFIG, LAYER])
    seed("bad-diff-ids", 0, 1, 0, [MARKER, INDEX, MANIFEST, CONFIG.replace('["@4"]', '[]'), LAYER])
    seed("no-oci-layout", 1, 1, 0, [b"", INDEX, MANIFEST, CONFIG, LAYER])
    seed("raw-oci-archive", 3, 0, 1, real_oci_archive())
    seed("raw-evil-archive", 3, 1, 0, small_tar([
        ("oci-layout", MARKER, "file", None),
        ("../evil", b"x", "file", None),
        ("blobs", b"", "sym", "/etc"),
        ("index.json", b"", "hard", "/etc/passwd")]))


if __name__ == "__main__":
    main()
