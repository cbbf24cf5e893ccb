"""The manifest model: normalised, immutable desired state.

`Cell` and `Volume` are built from schema-valid documents by the loader;
every field is normalised (durations in seconds, sizes in bytes, sorted
ports, canonical addresses, argv lists) so that comparing two manifests
compares meaning, not spelling.  `canonical()` gives the JSON-able form that
is stored as "applied" and hashed.  Callers: loader, facts, plan, apply,
daemon.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import shlex
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from cells.kernel.api import DEFAULT_PROFILE, Profile, Rlimit, RlimitName

RestartKind = Literal["no", "on-failure", "always"]

#: Fields whose change needs a new kernel cell ("replace").
POLICY_FIELDS: tuple[str, ...] = ("profile", "ports", "bind_addrs", "rlimits", "overrides")

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_SIZES = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def duration(value: float | int | str) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    for unit in ("ms", "s", "m", "h"):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * _UNITS[unit]
    return float(value)


def size(value: int | str) -> int:
    if isinstance(value, int):
        return value
    if value[-1:] in _SIZES:
        return int(value[:-1]) * _SIZES[value[-1]]
    return int(value)


def argv(value: str | list[str]) -> tuple[str, ...]:
    return tuple(shlex.split(value)) if isinstance(value, str) else tuple(value)


def mode(value: str | None, default: int) -> int:
    return int(value, 8) if value is not None else default


def address(value: str) -> str:
    return str(ipaddress.ip_address(value))


@dataclass(frozen=True)
class Mount:
    volume: str
    target: str
    mode: Literal["ro", "rw"]

    @classmethod
    def parse(cls, text: str) -> Mount:
        vol, target, m = text.split(":")
        norm = "/" + "/".join(p for p in target.split("/") if p not in ("", "."))
        return cls(vol, norm, "ro" if m == "ro" else "rw")

    def __str__(self) -> str:
        return f"{self.volume}:{self.target}:{self.mode}"


@dataclass(frozen=True)
class LogSpec:
    facility: str = "daemon"
    stdout: str = "info"
    stderr: str = "err"
    tag: str = ""


@dataclass(frozen=True)
class Service:
    command: tuple[str, ...]
    user: str = "root"
    group: str = ""
    restart: RestartKind = "on-failure"
    max_restarts: int | None = None
    stop_timeout: float = 10.0
    env: tuple[tuple[str, str], ...] = ()
    log: LogSpec = field(default_factory=LogSpec)


@dataclass(frozen=True)
class Healthcheck:
    command: tuple[str, ...]
    interval: float = 10.0
    timeout: float = 5.0
    retries: int = 3
    start_period: float = 0.0


@dataclass(frozen=True)
class Root:
    release: str
    arch: str
    sets: tuple[str, ...] = ("base", "etc")


@dataclass(frozen=True)
class Step:
    """One provision step: kind plus its normalised arguments."""

    kind: str
    args: tuple[tuple[str, Any], ...]

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.args).get(key, default)

    def describe(self) -> str:
        a = dict(self.args)
        target = a.get("path") or a.get("name") or " ".join(a.get("command", ()))
        return f"{self.kind} {target}"


@dataclass(frozen=True)
class Source:
    """Where a document came from (for messages)."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Cell:
    name: str
    profile: Profile = DEFAULT_PROFILE
    autostart: bool = False
    ports: tuple[int, ...] = ()
    bind_addrs: tuple[str, ...] = ()
    rlimits: tuple[Rlimit, ...] = ()
    overrides: tuple[str, ...] = ()
    root: Root | None = None
    mounts: tuple[Mount, ...] = ()
    service: Service | None = None
    depends_on: tuple[str, ...] = ()
    healthcheck: Healthcheck | None = None
    provision: tuple[Step, ...] = ()
    source: Source | None = field(default=None, compare=False)

    def canonical(self) -> dict[str, Any]:
        return canonical_cell(self)

    def digest(self) -> str:
        return digest(self.canonical())


@dataclass(frozen=True)
class Volume:
    name: str
    mode: int = 0o755
    owner: str = ""
    source: Source | None = field(default=None, compare=False)

    def canonical(self) -> dict[str, Any]:
        return {
            "kind": "Volume",
            "name": self.name,
            "mode": f"{self.mode:04o}",
            "owner": self.owner,
        }


def digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def canonical_policy(cell: Cell) -> dict[str, Any]:
    return {
        "profile": cell.profile,
        "ports": list(cell.ports),
        "bind_addrs": list(cell.bind_addrs),
        "rlimits": {r.resource: [r.soft, r.hard] for r in cell.rlimits},
        "overrides": list(cell.overrides),
    }


def canonical_cell(cell: Cell) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "Cell", "name": cell.name, "autostart": cell.autostart}
    out.update(canonical_policy(cell))
    out["root"] = (
        None
        if cell.root is None
        else {"release": cell.root.release, "arch": cell.root.arch, "sets": list(cell.root.sets)}
    )
    out["mounts"] = [str(m) for m in cell.mounts]
    out["service"] = None if cell.service is None else canonical_service(cell.service)
    out["depends_on"] = list(cell.depends_on)
    hc = cell.healthcheck
    out["healthcheck"] = (
        None
        if hc is None
        else {
            "command": list(hc.command),
            "interval": hc.interval,
            "timeout": hc.timeout,
            "retries": hc.retries,
            "start_period": hc.start_period,
        }
    )
    out["provision"] = [{s.kind: dict(s.args)} for s in cell.provision]
    plain: dict[str, Any] = json.loads(json.dumps(out))  # tuples → lists
    return plain


def canonical_service(s: Service) -> dict[str, Any]:
    return {
        "command": list(s.command),
        "user": s.user,
        "group": s.group,
        "restart": s.restart,
        "max_restarts": s.max_restarts,
        "stop_timeout": s.stop_timeout,
        "env": dict(s.env),
        "log": {
            "facility": s.log.facility,
            "stdout": s.log.stdout,
            "stderr": s.log.stderr,
            "tag": s.log.tag,
        },
    }


# --- building from schema-valid documents ---------------------------------


def _rlimits(doc: dict[str, Any]) -> tuple[Rlimit, ...]:
    out = []
    for name, value in sorted(doc.items()):
        if isinstance(value, dict):
            out.append(Rlimit(cast(RlimitName, name), size(value["soft"]), size(value["hard"])))
        else:
            out.append(Rlimit(cast(RlimitName, name), size(value), size(value)))
    return tuple(out)


def _service(doc: dict[str, Any], cell: str) -> Service:
    restart = doc.get("restart", "on-failure")
    kind, _, count = restart.partition(":")
    log = doc.get("log", {})
    return Service(
        command=argv(doc["command"]),
        user=doc.get("user", "root"),
        group=doc.get("group", ""),
        restart=kind,
        max_restarts=int(count) if count else None,
        stop_timeout=duration(doc.get("stop_timeout", 10)),
        env=tuple(sorted(doc.get("env", {}).items())),
        log=LogSpec(
            facility=log.get("facility", "daemon"),
            stdout=log.get("stdout", "info"),
            stderr=log.get("stderr", "err"),
            tag=log.get("tag", cell),
        ),
    )


def _step(doc: dict[str, Any]) -> Step:
    ((kind, value),) = doc.items()
    if kind == "pkg":
        args: dict[str, Any] = {"name": value if isinstance(value, str) else value["name"]}
    elif kind == "exec":
        args = {"command": list(argv(value["command"]))}
        if "creates" in value:
            args["creates"] = value["creates"]
        if "unless" in value:
            args["unless"] = list(argv(value["unless"]))
    else:
        args = dict(value)
        if "mode" in args:
            args["mode"] = f"{int(args['mode'], 8):04o}"
    return Step(kind, tuple(sorted(args.items())))


def cell_from_doc(doc: dict[str, Any], source: Source | None = None) -> Cell:
    root = doc.get("root")
    hc = doc.get("healthcheck")
    return Cell(
        name=doc["name"],
        profile=doc.get("profile", DEFAULT_PROFILE),
        autostart=bool(doc.get("autostart", False)),
        ports=tuple(sorted(set(doc.get("ports", ())))),
        bind_addrs=tuple(sorted({address(a) for a in doc.get("bind_addrs", ())})),
        rlimits=_rlimits(doc.get("rlimits", {})),
        overrides=tuple(sorted(set(doc.get("overrides", ())))),
        root=None
        if root is None
        else Root(str(root["release"]), root["arch"], tuple(root.get("sets", ("base", "etc")))),
        mounts=tuple(
            sorted((Mount.parse(m) for m in doc.get("mounts", ())), key=lambda m: m.target)
        ),
        service=None if "service" not in doc else _service(doc["service"], doc["name"]),
        depends_on=tuple(sorted(set(doc.get("depends_on", ())))),
        healthcheck=None
        if hc is None
        else Healthcheck(
            command=argv(hc["command"]),
            interval=duration(hc.get("interval", 10)),
            timeout=duration(hc.get("timeout", 5)),
            retries=int(hc.get("retries", 3)),
            start_period=duration(hc.get("start_period", 0)),
        ),
        provision=tuple(_step(s) for s in doc.get("provision", ())),
        source=source,
    )


def volume_from_doc(doc: dict[str, Any], source: Source | None = None) -> Volume:
    return Volume(
        name=doc["name"],
        mode=mode(doc.get("mode"), 0o755),
        owner=doc.get("owner", ""),
        source=source,
    )


def cell_from_canonical(doc: dict[str, Any]) -> Cell:
    """Rebuild a Cell from its stored canonical form (applied state)."""
    d = dict(doc)
    d["rlimits"] = {k: {"soft": v[0], "hard": v[1]} for k, v in d["rlimits"].items()}
    d = {k: v for k, v in d.items() if v is not None}
    if "service" in d:
        svc = dict(d["service"])
        if svc.get("max_restarts"):
            svc["restart"] = f"{svc['restart']}:{svc['max_restarts']}"
        svc.pop("max_restarts", None)
        d["service"] = svc
    d["provision"] = [
        {k: ({"name": v["name"]} if k == "pkg" else v) for k, v in s.items()}
        for s in d.get("provision", [])
    ]
    return cell_from_doc(d)


def volume_from_canonical(doc: dict[str, Any]) -> Volume:
    return volume_from_doc({k: v for k, v in doc.items() if v != ""})
