"""The release sets an install uses: fetched whole and checked, or refused.

anita downloads what it installs into <workdir>/download/ (binary sets under
<arch>/binary/sets/, syssrc under source/sets/) and reuses whatever file it
finds there.  It treats kern-GENERIC, modules, tests and syssrc as optional:
a failed download becomes a `.MISSING` marker and sysinst installs without
the set (no /usr/src/sys), and a download cut off by our step timer (a
BaseException, which anita does not catch) leaves a truncated file that the
next run installs.  So before anita runs, prepare() puts every set this run
needs there itself: each file is downloaded to a `.part` name that is
removed whatever stops the transfer, checked against the length the server
announced and against the release's SHA512 list when the release has one
(as NetBSD releases do, one per sets directory), and only then renamed into
place; a cached file is checked again the same way.  A required set that
cannot be had is an error, never an install without it.

The install cache itself (ci.qemu.run) is keyed by cache_key(): release,
arch, set list and source.  Called by ci.qemu.run; tested in
ci/qemu/tests/test_qemu_sets.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ci.qemu.config import SET_EXTS
from ci.qemu.errors import HarnessError

SUMS = "SHA512"
SOURCE_SETS = ("syssrc", "src", "sharesrc", "gnusrc", "xsrc")
CHUNK = 1 << 20
NET_TIMEOUT = 60.0  # seconds a stalled connection may stay silent
_SUM_RE = re.compile(r"^SHA512 \(([^()/]+)\) = ([0-9a-f]{128})$")

Opener = Callable[[str], IO[bytes]]


def _open(url: str) -> IO[bytes]:
    resp: IO[bytes] = urllib.request.urlopen(url, timeout=NET_TIMEOUT)
    return resp


def cache_key(release: str, arch: str, sets: Sequence[str], source: str) -> str:
    """What an install depends on, as the text stored next to it."""
    return json.dumps(
        {"release": release, "arch": arch, "sets": list(sets), "source": source},
        sort_keys=True,
    )


@dataclass(frozen=True)
class SetFile:
    name: str  # the set, e.g. "base"
    path: Path  # where anita looks for it
    size: int
    sha512: str  # "" when the release publishes no SHA512 list


def set_dir(set_name: str, arch: str) -> str:
    """The set's directory, relative to anita's download dir and the release root."""
    return "source/sets" if set_name in SOURCE_SETS else f"{arch}/binary/sets"


def release_root(dist: str, arch: str) -> str:
    """The release's root URL or directory ("…/NetBSD-10.1/") from anita's argument."""
    tail = f"{arch}/"
    if not dist.endswith(tail):
        raise HarnessError(f"ci/qemu: distribution {dist!r} does not end in /{tail}")
    root = dist[: -len(tail)]
    return Path(root).as_uri() + "/" if root.startswith("/") else root


def parse_sums(text: str) -> dict[str, str]:
    """A BSD-style SHA512 list ("SHA512 (base.tar.xz) = <hex>") as name -> digest."""
    sums: dict[str, str] = {}
    for line in text.splitlines():
        m = _SUM_RE.match(line.strip())
        if m:
            sums[m.group(1)] = m.group(2)
    return sums


def _read_sums(url: str, opener: Opener) -> dict[str, str] | None:
    try:
        with opener(url) as resp:
            data = resp.read(1 << 20)
    except (OSError, ValueError):
        return None  # no list published: lengths are checked, not digests
    return parse_sums(data.decode("utf-8", "replace"))


def sha512_of(path: Path) -> str:
    h = hashlib.sha512()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: Path, sha512: str = "", opener: Opener = _open) -> int:
    """Fetch url to dest whole, or leave nothing at dest; returns its size.

    The bytes go to dest + ".part", which is removed on any exception,
    BaseException included (a step timeout, ^C); dest appears only after
    the announced length and, if given, the SHA512 digest matched.
    """
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha512()
    size = 0
    try:
        with opener(url) as resp, open(part, "wb") as out:
            length = _announced_length(resp)
            for chunk in iter(lambda: resp.read(CHUNK), b""):
                out.write(chunk)
                h.update(chunk)
                size += len(chunk)
        if length is not None and size != length:
            raise HarnessError(f"ci/qemu: {url}: got {size} of {length} bytes (cut off)")
        if sha512 and h.hexdigest() != sha512:
            raise HarnessError(f"ci/qemu: {url}: SHA512 does not match the release's list")
        os.replace(part, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    return size


def _announced_length(resp: Any) -> int | None:
    headers = getattr(resp, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _cached_ok(path: Path, sha512: str) -> bool:
    if not path.is_file() or path.stat().st_size == 0:
        return False
    return not sha512 or sha512_of(path) == sha512


def installer_files(arch: str) -> list[tuple[str, str]]:
    """(directory, file) anita boots its installer from, besides the sets.

    On i386 and amd64 anita boots sysinst from installation/cdrom/boot-com.iso
    (a release has no boot floppies there any more), and fetches it as an
    optional file: a failed or cut-off download would surface only as a
    QEMU that cannot open its CD.
    """
    if arch in ("i386", "amd64"):
        return [(f"{arch}/installation/cdrom", "boot-com.iso")]
    return []


def prepare(
    dist: str,
    arch: str,
    sets: Iterable[str],
    download_dir: Path,
    opener: Opener = _open,
    say: Callable[[str], None] = lambda _msg: None,
) -> list[SetFile]:
    """Put every set (and the installer's boot CD) in anita's download dir, checked.

    HarnessError if one cannot be had whole.
    """
    root = release_root(dist, arch)
    sums_by_dir: dict[str, dict[str, str] | None] = {}

    def sums_of(rel_dir: str) -> dict[str, str] | None:
        if rel_dir not in sums_by_dir:
            sums_by_dir[rel_dir] = _read_sums(f"{root}{rel_dir}/{SUMS}", opener)
            if sums_by_dir[rel_dir] is None:
                say(f"no {SUMS} list in {root}{rel_dir}/: checking lengths only")
        return sums_by_dir[rel_dir]

    wanted = [(name, set_dir(name, arch), [name + e for e in SET_EXTS]) for name in sets]
    wanted += [(fname, rel_dir, [fname]) for rel_dir, fname in installer_files(arch)]
    return [
        _prepare_one(name, names, root, rel_dir, sums_of(rel_dir), download_dir, opener, say)
        for name, rel_dir, names in wanted
    ]


def _prepare_one(
    name: str,
    candidates: Sequence[str],
    root: str,
    rel_dir: str,
    sums: dict[str, str] | None,
    download_dir: Path,
    opener: Opener,
    say: Callable[[str], None],
) -> SetFile:
    listed = [f for f in candidates if sums is None or f in sums]
    if not listed:
        raise HarnessError(
            f"ci/qemu: set {name} is not in {root}{rel_dir}/{SUMS}"
            f" (no {' or '.join(candidates)}): the release lacks it"
        )
    errors: list[str] = []
    for fname in listed:
        digest = sums[fname] if sums is not None else ""
        path = download_dir / rel_dir / fname
        _drop(path.with_name(fname + ".MISSING"))
        if _cached_ok(path, digest):
            return SetFile(name, path, path.stat().st_size, digest)
        if path.exists():
            say(f"{path}: does not match the release's {SUMS}; downloading it again")
            path.unlink()
        try:
            size = download(f"{root}{rel_dir}/{fname}", path, digest, opener)
        except (OSError, ValueError) as exc:
            errors.append(f"{fname}: {exc}")
            continue
        return SetFile(name, path, size, digest)
    raise HarnessError(
        f"ci/qemu: cannot fetch the {name} set from {root}{rel_dir}/: {'; '.join(errors)}"
    )


def _drop(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def check_installed(files: Iterable[SetFile]) -> None:
    """After anita's install: every set still there, whole (else no install cache)."""
    for f in files:
        if not f.path.is_file() or f.path.stat().st_size != f.size:
            raise HarnessError(
                f"ci/qemu: {f.path} changed during the install; the install is not kept"
            )
        if f.path.with_name(f.path.name + ".MISSING").exists():
            raise HarnessError(f"ci/qemu: anita marked {f.path.name} missing; not kept")


def prune_unchecked(download_dir: Path, keep: Iterable[SetFile]) -> list[Path]:
    """Remove what anita downloaded that we did not check (after a failed install).

    anita leaves a partial file behind when a BaseException (our step
    timer) cuts a download off, and reuses it next time; everything but the
    checked sets goes, so it fetches those files again.
    """
    kept = {f.path for f in keep}
    removed: list[Path] = []
    if not download_dir.is_dir():
        return removed
    for dirpath, _dirs, names in os.walk(download_dir):
        for n in names:
            p = Path(dirpath) / n
            if p not in kept and not p.is_symlink():
                p.unlink()
                removed.append(p)
    return removed
