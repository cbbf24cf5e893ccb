"""The corpus of hostile archives: every way into the host through a backup
or a release set that was once found (or feared) stays here, one case each.

Archives are built deterministically at test time (fixed names, modes,
owners and times; gzip without a timestamp), because several cases point
at a host file whose path is the test's temporary directory.  Run this
file to write the corpus for use by hand:

    python tests/corpus/archives/hostile.py OUTDIR [HOST-FILE]

Each case names the member the refusal must name.  Add a case for every
new finding; tests/python/mgr/test_archive_attacks.py runs them all
against backup restore and against bootstrap.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

MTIME = 1_700_000_000


@dataclass(frozen=True)
class Member:
    name: str
    kind: str = "file"  # file dir symlink hardlink chr blk fifo
    data: bytes = b""
    target: str = ""
    mode: int = 0o644
    major: int = 0
    minor: int = 0

    def info(self) -> tarfile.TarInfo:
        info = tarfile.TarInfo(self.name)
        info.mode, info.mtime = self.mode, MTIME
        info.uid = info.gid = 0
        info.uname, info.gname = "root", "wheel"
        info.type = {
            "file": tarfile.REGTYPE,
            "dir": tarfile.DIRTYPE,
            "symlink": tarfile.SYMTYPE,
            "hardlink": tarfile.LNKTYPE,
            "chr": tarfile.CHRTYPE,
            "blk": tarfile.BLKTYPE,
            "fifo": tarfile.FIFOTYPE,
        }[self.kind]
        info.linkname = self.target
        info.devmajor, info.devminor = self.major, self.minor
        info.size = len(self.data) if self.kind == "file" else 0
        return info


@dataclass(frozen=True)
class Case:
    name: str
    members: tuple[Member, ...]
    #: The member the one-line refusal must name.
    refused: str
    #: For which callers the case is hostile: a set may hold set-id programs.
    hostile_to: frozenset[str] = field(default_factory=lambda: frozenset({"backup", "set"}))


def _d(name: str) -> Member:
    return Member(name, "dir", mode=0o755)


def cases(host_file: Path, host_dir: Path) -> list[Case]:
    """The corpus; `host_file`/`host_dir` are what an attack aims at."""
    h = str(host_file)
    return [
        Case(
            "hardlink-then-file",
            (_d("./etc"), Member("./etc/hl", "hardlink", target=h), Member("./etc/hl", data=b"x")),
            "./etc/hl",
        ),
        Case("hardlink-alone", (_d("./etc"), Member("./etc/hl", "hardlink", target=h)), "./etc/hl"),
        Case(
            "hardlink-relative-escape",
            (_d("./etc"), Member("./etc/hl", "hardlink", target="../../../../../../" + h)),
            "./etc/hl",
        ),
        Case(
            "hardlink-to-later-member",
            (Member("./etc/hl", "hardlink", target="./etc/passwd"), Member("./etc/passwd")),
            "./etc/hl",
        ),
        Case("block-device", (_d("./etc"), Member("./etc/sd0", "blk", major=8)), "./etc/sd0"),
        Case(
            "char-device", (_d("./etc"), Member("./etc/mem", "chr", major=1, minor=1)), "./etc/mem"
        ),
        Case("fifo", (_d("./var"), Member("./var/fifo", "fifo")), "./var/fifo"),
        Case("dotdot-member", (Member("./etc/../../escaped", data=b"x"),), "./etc/../../escaped"),
        Case("absolute-member", (Member(h + ".abs", data=b"x"),), h + ".abs"),
        Case(
            "symlinked-dir-then-member",
            (
                _d("./etc"),
                Member("./etc/sub", "symlink", target=str(host_dir)),
                Member("./etc/sub/planted", data=b"x"),
            ),
            "./etc/sub/planted",
        ),
        Case(
            "relative-symlinked-dir-then-member",
            (
                _d("./etc"),
                Member("./etc/up", "symlink", target="."),
                Member("./etc/up/x", data=b"x"),
            ),
            "./etc/up/x",
        ),
        Case(
            "symlink-escapes",
            (_d("./etc"), Member("./etc/out", "symlink", target="../../../../../../../etc")),
            "./etc/out",
        ),
        Case(
            "symlink-then-file",
            (
                _d("./etc"),
                Member("./etc/x", "symlink", target=h),
                Member("./etc/x", data=b"written through the link"),
            ),
            "./etc/x",
        ),
        Case(
            "hardlink-then-file-over-it",
            (
                _d("./etc"),
                Member("./etc/a", data=b"a"),
                Member("./etc/b", "hardlink", target="./etc/a"),
                Member("./etc/b", data=b"b"),
            ),
            "./etc/b",
        ),
        Case(
            "setuid-file",
            (_d("./root"), Member("./root/sh", data=b"#!", mode=0o4755)),
            "./root/sh",
            frozenset({"backup"}),
        ),
        Case(
            "setgid-file",
            (_d("./root"), Member("./root/sh", data=b"#!", mode=0o2755)),
            "./root/sh",
            frozenset({"backup"}),
        ),
        Case(
            "long-extended-header",
            (Member("./" + "a/" * 700_000 + "x", data=b"x"),),
            "././@PaxHeader",
        ),
    ]


#: Small when compressed, large when extracted; tests lower the cap.
BOMB = Case("size-bomb", (_d("./var"), Member("./var/zeros", data=bytes(8 << 20))), "./var/zeros")


def pax_chain(path: Path, n: int = 5000) -> Path:
    """`n` pax headers in a row before one member: tarfile reads the chain
    recursively (a RecursionError once escaped as a traceback)."""
    raw = io.BytesIO()
    record = b"11 path=a\n"
    for _ in range(n):
        info = tarfile.TarInfo("x")
        info.type, info.size = tarfile.XHDTYPE, len(record)
        raw.write(info.tobuf(tarfile.USTAR_FORMAT) + record + bytes(512 - len(record)))
    raw.write(tarfile.TarInfo("y").tobuf(tarfile.USTAR_FORMAT) + bytes(1024))
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return path


def write(members: tuple[Member, ...] | list[Member], path: Path) -> Path:
    """A gzip'd tar of `members`, byte for byte the same on every run."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for m in members:
            tar.addfile(m.info(), io.BytesIO(m.data) if m.kind == "file" else None)
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())
    return path


def write_sums(sets: Path) -> Path:
    """The release's SHA512 file for every file in `sets`, as NetBSD's
    distrib/sets/makesums writes it (`cksum -a sha512`)."""
    lines = [
        f"SHA512 ({p.name}) = {hashlib.sha512(p.read_bytes()).hexdigest()}\n"
        for p in sorted(sets.iterdir())
        if p.is_file() and p.name != "SHA512"
    ]
    (sets / "SHA512").write_text("".join(lines))
    return sets / "SHA512"


def main(argv: list[str]) -> int:
    out = Path(argv[1])
    host = Path(argv[2]) if len(argv) > 2 else Path("/etc/passwd")
    out.mkdir(parents=True, exist_ok=True)
    for case in [*cases(host, host.parent), BOMB]:
        write(case.members, out / f"{case.name}.tar.gz")
    pax_chain(out / "pax-chain.tar.gz")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
