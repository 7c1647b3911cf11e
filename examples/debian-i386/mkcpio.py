#!/usr/bin/env python3
"""Write a newc (SVR4, no CRC) cpio archive from a directory tree plus
device nodes, without needing root: every entry is owned by 0:0.

usage: mkcpio.py ROOTDIR OUT.cpio [--dev PATH:c|b:MAJOR:MINOR:MODE ...]

The newc header is 110 ASCII bytes: magic "070701" and 13 fields of 8 hex
digits (ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor,
rdevmajor, rdevminor, namesize, check), then the NUL-terminated name padded
to 4 bytes, then the data padded to 4 bytes; "TRAILER!!!" ends the archive
(Linux Documentation/driver-api/early-userspace/buffer-format.rst).
"""
import os
import stat
import sys


class Writer:
    def __init__(self, out):
        self.out = out
        self.ino = 1

    def _pad(self):
        n = (-self.out.tell()) % 4
        self.out.write(b"\0" * n)

    def entry(self, name, mode, data=b"", rdev=(0, 0), mtime=0):
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, mtime,
                  len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        self.out.write(b"070701" + b"".join(b"%08X" % f for f in fields))
        self.out.write(name_b)
        self._pad()
        self.out.write(data)
        self._pad()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    root, dst = sys.argv[1], sys.argv[2]
    devs = []
    args = sys.argv[3:]
    while args:
        if args[0] != "--dev" or len(args) < 2:
            sys.exit("mkcpio.py: bad argument %r" % args[0])
        path, kind, major, minor, mode = args[1].split(":")
        devs.append((path.strip("/"), kind, int(major), int(minor), int(mode, 8)))
        args = args[2:]
    # A fixed mtime keeps the archive reproducible.
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", "0"))
    with open(dst, "wb") as f:
        w = Writer(f)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            if rel != ".":
                st = os.lstat(dirpath)
                w.entry(rel, stat.S_IFDIR | (st.st_mode & 0o7777), mtime=mtime)
            for fn in sorted(filenames) + sorted(d for d in dirnames
                                                 if os.path.islink(os.path.join(dirpath, d))):
                full = os.path.join(dirpath, fn)
                name = os.path.normpath(os.path.join(rel, fn))
                st = os.lstat(full)
                if stat.S_ISLNK(st.st_mode):
                    w.entry(name, stat.S_IFLNK | 0o777, os.readlink(full).encode(), mtime=mtime)
                elif stat.S_ISREG(st.st_mode):
                    with open(full, "rb") as src:
                        w.entry(name, stat.S_IFREG | (st.st_mode & 0o7777), src.read(), mtime=mtime)
        for path, kind, major, minor, mode in devs:
            ftype = stat.S_IFCHR if kind == "c" else stat.S_IFBLK
            w.entry(path, ftype | mode, rdev=(major, minor), mtime=mtime)
        w.entry("TRAILER!!!", 0)


if __name__ == "__main__":
    main()
