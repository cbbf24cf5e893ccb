"""One table of requests and the errno each must fail with (0: success).

The same table runs against the sim (test_errno_table.py) and, under the
`netbsd` marker, against the real module.  Each request is a function of
(kernel, roots) where roots has "a" and "b" (existing directories),
"file" (a regular file) and "missing" (no such path).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

from cells.kernel.api import CellSpec, Rlimit

Request = Callable[[Any, dict[str, str]], object]


def _create(name: str, root: str = "a", **kw: Any) -> Request:
    return lambda k, roots: k.create(CellSpec(name, roots.get(root, root), **kw))


def _setup_web(k: Any, roots: dict[str, str]) -> None:
    k.create(CellSpec("web", roots["a"], ports=(8080,)))


TABLE: list[tuple[str, Request, int]] = [
    ("create ok", _create("ok"), 0),
    ("create name in use", _create("web"), errno.EEXIST),
    ("create port of another cell", _create("p", ports=(8080,)), errno.EADDRINUSE),
    ("create empty name", _create(""), errno.EINVAL),
    ("create bad charset", _create("a b"), errno.EINVAL),
    ("create name all digits (an id)", _create("4"), errno.EINVAL),
    ("create name starting with a digit", _create("4web"), errno.EINVAL),
    ("create name 63 bytes", _create("n" * 63), 0),
    ("create name 64 bytes", _create("n" * 64), errno.ENAMETOOLONG),
    ("create relative root", _create("r", root="relative/root"), errno.EINVAL),
    ("create missing root", _create("m", root="missing"), errno.ENOENT),
    ("create root is a file", _create("f", root="file"), errno.ENOTDIR),
    ("create port 0", _create("z", ports=(0,)), errno.EINVAL),
    ("create duplicate port", _create("d", ports=(9000, 9000)), errno.EINVAL),
    ("create soft > hard", _create("s", rlimits=(Rlimit("nofile", 10, 5),)), errno.EINVAL),
    ("destroy unknown id", lambda k, r: k.destroy(999), errno.ENOENT),
    ("destroy unknown name", lambda k, r: k.destroy("nope"), errno.ENOENT),
    ("destroy ok", lambda k, r: k.destroy("web"), 0),
    ("get unknown", lambda k, r: k.get("nope"), errno.ENOENT),
    ("enter unknown", lambda k, r: k.enter(999), errno.ENOENT),
    ("explain unknown op", lambda k, r: k.explain("web", "process.teleport"), errno.EINVAL),
    ("explain bad bind target", lambda k, r: k.explain("web", "network.bind", "x:y"), errno.EINVAL),
]


def run(kernel: Any, roots: dict[str, str], request: Request) -> int:
    """The errno a request failed with, 0 on success."""
    from cells.errors import CellsError

    try:
        request(kernel, roots)
    except CellsError as exc:
        return exc.errno
    return 0


setup = _setup_web
