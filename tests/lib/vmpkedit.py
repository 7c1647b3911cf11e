"""Rewrite a container's config or manifest into a copy whose digests all
agree again (index.json -> manifest -> config), to make containers that
`vmpack create` itself refuses: for the e2e tests of `vmpack check` and
`vmpack resume` (spec/container.md: the OCI layout and its digests).

    rewrite(src, dst, kind)
      kind "cpu":     the CPU profile (renamed with-3dnow) claims AVX-512F
                      (leaf 7 EBX bit 16) and 3DNow! (leaf 0x80000001 EDX
                      bit 31)
      kind "version": the manifest says format version 2

As a command: python3 vmpkedit.py SRC DST KIND.
"""
import hashlib
import io
import json
import sys
import tarfile


def rewrite(src, dst, kind):
    members = []
    with tarfile.open(src) as t:
        for m in t.getmembers():
            members.append((m, t.extractfile(m).read() if m.isfile() else None))
    blobs = {m.name: data for m, data in members if m.isfile()}
    index = json.loads(blobs["index.json"])
    man_name = "blobs/sha256/" + index["manifests"][0]["digest"].split(":")[1]
    man = json.loads(blobs[man_name])
    cfg_name = "blobs/sha256/" + man["config"]["digest"].split(":")[1]
    cfg = json.loads(blobs[cfg_name])
    renames = {}

    def store(old, obj):
        data = json.dumps(obj, separators=(",", ":")).encode()
        renames[old] = ("blobs/sha256/" + hashlib.sha256(data).hexdigest(), data)
        return "sha256:" + hashlib.sha256(data).hexdigest(), len(data)

    if kind == "cpu":
        for leaf in cfg["vmpack"]["cpu"]["leaves"]:
            if leaf[0] == 7 and leaf[1] == 0:
                leaf[3] |= 1 << 16            # EBX bit 16: AVX-512F
            if leaf[0] == 0x80000001:
                leaf[5] |= 1 << 31            # EDX bit 31: 3DNow!
        cfg["vmpack"]["cpu"]["name"] = "with-3dnow"
        man["config"]["digest"], man["config"]["size"] = store(cfg_name, cfg)
    elif kind == "version":
        man["annotations"]["org.vmpack.format.version"] = "2"
    else:
        raise ValueError("unknown kind " + kind)
    d, n = store(man_name, man)
    index["manifests"][0]["digest"], index["manifests"][0]["size"] = d, n
    renames["index.json"] = ("index.json", json.dumps(index, separators=(",", ":")).encode())
    with tarfile.open(dst, "w", format=tarfile.USTAR_FORMAT) as t:
        for m, data in members:
            if m.name in renames:
                m.name, data = renames[m.name]
                m.size = len(data)
            t.addfile(m, io.BytesIO(data) if data is not None else None)


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit("usage: vmpkedit.py SRC DST cpu|version")
    rewrite(*sys.argv[1:4])
