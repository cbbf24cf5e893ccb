"""Caps on what cellmgr reads from files: manifests and saved plans.

A manifest or a plan file is input that a careless operator (or whoever
can write one) hands to code running as root; without a cap, a plan
`/dev/zero` or a kilobyte of YAML aliases takes the host's memory.  Every
file is opened without blocking, must be a regular file and is read up to
its cap plus one byte, so an endless or oversized file is refused after
reading at most that much.  The total for all manifests can be moved with
CELLS_MAX_MANIFEST_BYTES.  Callers: cells.mgr.loader, cellmgr apply --plan.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from cells.errors import InvalidArgument

MIB = 1 << 20
#: One manifest file.
MAX_FILE_BYTES = 1 * MIB
#: All manifest files together, and one saved plan.
DEFAULT_TOTAL_BYTES = 64 * MIB
TOTAL_ENV = "CELLS_MAX_MANIFEST_BYTES"
#: Nesting of mappings and lists in a manifest or a plan.
MAX_DEPTH = 64


class TooLarge(InvalidArgument):
    """A file over its cap."""


def total_bytes() -> int:
    """The cap on all manifests together (CELLS_MAX_MANIFEST_BYTES)."""
    raw = os.environ.get(TOTAL_ENV)
    if not raw:
        return DEFAULT_TOTAL_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise InvalidArgument(f"{TOTAL_ENV}={raw!r}: give a positive number of bytes")
    return value


def human(n: int) -> str:
    return f"{n // MIB} MiB" if n % MIB == 0 else f"{n} bytes"


def read_capped(path: str | os.PathLike[str], cap: int) -> bytes:
    """The contents of a regular file of at most `cap` bytes.

    Raises InvalidArgument (one line, without the path: callers add it) for
    anything else, OSError when the file cannot be opened or read.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InvalidArgument("not a regular file")
        chunks: list[bytes] = []
        size = 0
        while size <= cap:
            chunk = os.read(fd, min(cap + 1 - size, MIB))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:
            raise TooLarge(f"larger than {human(cap)}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def depth(value: Any) -> int:
    """How deeply lists and mappings nest in `value` (iteratively)."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        todo.extend((child, level + 1) for child in children)
    return deepest


def load_json(path: str | os.PathLike[str], cap: int) -> Any:
    """A JSON document from a capped regular file, nesting at most MAX_DEPTH."""
    data = read_capped(path, cap)
    try:
        value = json.loads(data)
    except RecursionError:
        raise InvalidArgument(f"nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidArgument(f"not JSON ({e})") from None
    if depth(value) > MAX_DEPTH:
        raise InvalidArgument(f"nested deeper than {MAX_DEPTH} levels")
    return value
