"""Facts: everything plan needs to know about the live host, read once.

Kernel cells (policy as the kernel reports it), built roots, mounted
volumes, volume directories, the supervisor's services (None when no daemon
runs), which provision steps would change, and the manifests applied last
(from the state database).  Facts are plain immutable values with a
canonical form, so plan stays a pure function and a saved plan can be
fingerprinted.  Callers: cellmgr plan/apply, the daemon.
"""

from __future__ import annotations

import grp
import json
import pwd
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cells.kernel.api import CellInfo, Kernel
from cells.mgr import mountpoint, provision
from cells.mgr.host import Host
from cells.mgr.journal import StateDB
from cells.mgr.loader import Desired
from cells.mgr.model import Cell, Mount, Root, Volume, address, digest
from cells.mgr.paths import Paths

ROOT_MARKER = "root.json"


@dataclass(frozen=True)
class KernelFact:
    id: int
    root: str
    policy: Mapping[str, Any]


@dataclass(frozen=True)
class VolumeFact:
    mode: int
    owner_ok: bool


@dataclass(frozen=True)
class ServiceFact:
    state: str
    health: str = "unknown"
    digest: str = ""
    restarts: int = 0
    pid: int | None = None


@dataclass(frozen=True)
class Facts:
    kernel: Mapping[str, KernelFact] = field(default_factory=dict)
    roots: Mapping[str, str] = field(default_factory=dict)
    mounts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    volumes: Mapping[str, VolumeFact] = field(default_factory=dict)
    applied_cells: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    applied_volumes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    provision: Mapping[str, tuple[bool, ...]] = field(default_factory=dict)
    services: Mapping[str, ServiceFact] | None = None

    def canonical(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kernel": {
                n: {"id": k.id, "root": k.root, "policy": dict(k.policy)}
                for n, k in self.kernel.items()
            },
            "roots": dict(self.roots),
            "mounts": {n: list(m) for n, m in self.mounts.items()},
            "volumes": {n: [v.mode, v.owner_ok] for n, v in self.volumes.items()},
            "applied_cells": dict(self.applied_cells),
            "applied_volumes": dict(self.applied_volumes),
            "provision": {n: list(p) for n, p in self.provision.items()},
            "services": None
            if self.services is None
            else {n: [s.state, s.digest] for n, s in self.services.items()},
        }
        plain: dict[str, Any] = json.loads(json.dumps(out, sort_keys=True))
        return plain

    @classmethod
    def from_canonical(cls, doc: Mapping[str, Any]) -> Facts:
        """Facts written as data (plan test cases use this form)."""
        services = doc.get("services")
        return cls(
            kernel={
                n: KernelFact(k.get("id", 1), k.get("root", ""), k["policy"])
                for n, k in doc.get("kernel", {}).items()
            },
            roots=dict(doc.get("roots", {})),
            mounts={n: tuple(m) for n, m in doc.get("mounts", {}).items()},
            volumes={
                n: VolumeFact(int(v[0]), bool(v[1])) for n, v in doc.get("volumes", {}).items()
            },
            applied_cells=dict(doc.get("applied_cells", {})),
            applied_volumes=dict(doc.get("applied_volumes", {})),
            provision={n: tuple(p) for n, p in doc.get("provision", {}).items()},
            services=None
            if services is None
            else {n: ServiceFact(s[0], digest=s[1]) for n, s in services.items()},
        )


def kernel_policy(info: CellInfo) -> dict[str, Any]:
    """The kernel's view of a cell, in the manifest's canonical spelling."""
    return {
        "profile": info.profile,
        "ports": sorted(info.ports),
        "bind_addrs": sorted({address(a) for a in info.bind_addrs}),
        "rlimits": {
            r.resource: [r.soft, r.hard] for r in sorted(info.rlimits, key=lambda r: r.resource)
        },
        "overrides": sorted(info.overrides),
    }


def root_digest(root: Root | None) -> str:
    return digest(None if root is None else [root.release, root.arch, list(root.sets)])


def service_digest(cell: Cell) -> str:
    """What a running service must match; a change means restart."""
    c = cell.canonical()
    return digest([c["service"], c["healthcheck"], c["mounts"]])


def read_root_marker(paths: Paths, name: str) -> str | None:
    try:
        data = json.loads((paths.cell_dir(name) / ROOT_MARKER).read_text())
    except (OSError, ValueError):
        return None
    value = data.get("digest") if isinstance(data, dict) else None
    return value if isinstance(value, str) and paths.root(name).is_dir() else None


def owner_ids(owner: str) -> tuple[int, int] | None:
    """USER[:GROUP] (names or numbers) as uid/gid; None when unknown here."""
    user, _, group = owner.partition(":")
    try:
        uid = int(user) if user.isdigit() else pwd.getpwnam(user).pw_uid
        if group:
            gid = int(group) if group.isdigit() else grp.getgrnam(group).gr_gid
        else:
            gid = pwd.getpwuid(uid).pw_gid
    except (KeyError, ValueError):
        return None
    return uid, gid


def _root_mounted(host: Host, root: Path, cell: Cell | None) -> bool:
    if not mountpoint.is_mounted(host, root, "dev"):
        return False
    return cell is None or cell.root is None or mountpoint.is_mounted(host, root, "usr")


def _volume_fact(path: Path, vol: Volume | None) -> VolumeFact | None:
    try:
        st = path.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode):
        return None  # a symlink or file in its place: ensure_volume refuses it
    owner_ok = True
    if vol is not None and vol.owner:
        ids = owner_ids(vol.owner)
        owner_ok = ids is not None and (st.st_uid, st.st_gid) == ids
    return VolumeFact(st.st_mode & 0o7777, owner_ok)


def gather(
    kernel: Kernel,
    paths: Paths,
    db: StateDB,
    desired: Desired,
    host: Host,
    services: Mapping[str, ServiceFact] | None = None,
) -> Facts:
    applied_cells = db.applied("Cell")
    applied_volumes = db.applied("Volume")
    names = set(desired.cells) | set(applied_cells)
    kernel_facts = {
        info.name: KernelFact(info.id, info.root, kernel_policy(info))
        for info in kernel.list()
        if info.name in names
    }
    roots: dict[str, str] = {}
    mounts: dict[str, tuple[str, ...]] = {}
    prov: dict[str, tuple[bool, ...]] = {}
    for name in sorted(names):
        marker = read_root_marker(paths, name)
        if marker is None:
            continue
        root = paths.root(name)
        cell = desired.cells.get(name)
        if host.name != "sim" and not _root_mounted(host, root, cell):
            continue  # after a reboot: the files are there, the mounts are not
        roots[name] = marker
        targets = {str(m) for m in cell.mounts} if cell is not None else set()
        for text in applied_cells.get(name, {}).get("mounts", []):
            targets.add(text)
        present = []
        for text in sorted(targets):
            m = Mount.parse(text)
            if mountpoint.is_mounted(host, root, m.target, paths.volume(m.volume)):
                present.append(text)
        mounts[name] = tuple(present)
        if cell is not None and cell.provision:
            checks = []
            fs = provision.CellFS.of(paths, host, cell)
            for step in cell.provision:
                try:
                    checks.append(provision.would_change(step, fs))
                except provision.StepError:
                    checks.append(True)
            prov[name] = tuple(checks)
    volumes: dict[str, VolumeFact] = {}
    for name in sorted(set(desired.volumes) | set(applied_volumes)):
        fact = _volume_fact(paths.volume(name), desired.volumes.get(name))
        if fact is not None:
            volumes[name] = fact
    return Facts(
        kernel=kernel_facts,
        roots=roots,
        mounts=mounts,
        volumes=volumes,
        applied_cells=applied_cells,
        applied_volumes=applied_volumes,
        provision=prov,
        services=services,
    )
