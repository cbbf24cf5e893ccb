"""What a schema cannot say about one document, and apply would trip on.

Pure functions over a schema-valid document (plain data): commands split
the way the model splits them, regular expressions compile, provision paths
stay inside the cell, rlimits fit the ABI, mounts do not hide the base
system, a volume's owner exists on the host.  Each problem is a (path,
message) pair; the loader adds the file, line and column.  Caller: the
loader (so validate, plan and apply all refuse the same documents).

Owners: a Volume lives on the host and may be shared by cells, so its
owner is a host user (the host's passwd and group).  Files a provision
step creates are inside one cell and belong to the users the cell's own
/etc/passwd names; those are checked by cells.mgr.preflight, which can
read the cell's files.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from cells.kernel.rlimits import AMOUNT_MAX
from cells.mgr.model import Mount, size

Where = tuple[str | int, ...]
Problems = Iterator[tuple[Where, str]]

#: The largest rlimit the ABI carries (an unsigned 64-bit value).
RLIMIT_MAX = AMOUNT_MAX

#: Mount targets that would hide the cell's base system or its own files.
SYSTEM_DIRS = frozenset(
    {
        "/bin",
        "/etc",
        "/lib",
        "/libdata",
        "/libexec",
        "/rescue",
        "/sbin",
        "/stand",
        "/usr",
        "/usr/bin",
        "/usr/include",
        "/usr/lib",
        "/usr/libdata",
        "/usr/libexec",
        "/usr/sbin",
        "/usr/share",
        "/var",
        "/var/db",
        "/var/run",
    }
)

#: Provision step fields that name a path inside the cell.
_PATH_FIELDS = ("path", "creates")


def cell(d: dict[str, Any]) -> Problems:
    """Problems of one schema-valid Cell document."""
    yield from _addresses(d)
    yield from _commands(d)
    yield from _rlimits(d)
    yield from _provision(d)
    yield from _mounts(d)


def volume(d: dict[str, Any]) -> Problems:
    """Problems of one schema-valid Volume document."""
    from cells.mgr.facts import owner_ids  # facts imports the loader, which imports us

    owner = d.get("owner")
    if owner and owner_ids(owner) is None:
        yield (
            ("owner",),
            f"no user or group {owner!r} on this host (a volume belongs to a host "
            "user); create it first, or fix the manifest",
        )


def _addresses(d: dict[str, Any]) -> Problems:
    for i, text in enumerate(d.get("bind_addrs", [])):
        if isinstance(text, str) and "%" in text:
            yield (
                ("bind_addrs", i),
                f"{text!r} has a zone: a cell's address carries none; give it without the %zone",
            )


def _commands(d: dict[str, Any]) -> Problems:
    places: list[tuple[Where, Any]] = []
    if "service" in d:
        places.append((("service", "command"), d["service"].get("command")))
    if "healthcheck" in d:
        places.append((("healthcheck", "command"), d["healthcheck"].get("command")))
    for i, step in enumerate(d.get("provision", [])):
        ex = step.get("exec")
        if isinstance(ex, dict):
            for key in ("command", "unless"):
                if key in ex:
                    places.append((("provision", i, "exec", key), ex[key]))
    for where, value in places:
        if not isinstance(value, str):
            continue
        try:
            words = shlex.split(value)
        except ValueError as e:
            yield where, f"cannot split it like a shell would: {e}; close the quote or give a list"
            continue
        if not words:
            yield where, "must not be empty"


def _rlimits(d: dict[str, Any]) -> Problems:
    for name, value in d.get("rlimits", {}).items():
        amounts = [value["soft"], value["hard"]] if isinstance(value, dict) else [value]
        for amount in amounts:
            if size(amount) > RLIMIT_MAX:
                yield (
                    ("rlimits", name),
                    f"{amount} is above the largest limit ({RLIMIT_MAX} bytes or items)",
                )
                break


def _provision(d: dict[str, Any]) -> Problems:
    for i, step in enumerate(d.get("provision", [])):
        for kind, args in step.items():
            if not isinstance(args, dict):
                continue
            for key in _PATH_FIELDS:
                path = args.get(key)
                if isinstance(path, str) and ".." in path.split("/"):
                    yield (
                        ("provision", i, kind, key),
                        f"{path!r} must not contain '..': a path names a place inside the cell",
                    )
            if kind == "line" and isinstance(args.get("match"), str):
                try:
                    re.compile(args["match"])
                except re.error as e:
                    yield (
                        ("provision", i, kind, "match"),
                        f"not a regular expression: {e}",
                    )


def _mounts(d: dict[str, Any]) -> Problems:
    for i, text in enumerate(d.get("mounts", [])):
        target = Mount.parse(text).target
        if target in SYSTEM_DIRS:
            yield (
                ("mounts", i),
                f"mounting over {target} would hide the cell's system files; "
                "mount on a directory of its own (e.g. /srv/NAME)",
            )
