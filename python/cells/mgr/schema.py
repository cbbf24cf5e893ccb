"""The JSON Schema of cellmgr manifests (kinds `Cell` and `Volume`).

One table of cell parameters drives the schema; `cellmgr schema` prints it,
the loader validates every document against it, and docs/manifests.md is
checked against it by the tests.  Limits mirror the kernel ABI
(kmod/secmodel_cell/core/cell_abi.h).  Callers: loader, cellmgr schema.
"""

from __future__ import annotations

import json
from typing import Any

from cells.kernel.api import OVERRIDES, PROFILES, RLIMIT_NAMES

SCHEMA_ID = "https://cells.netbsd.example/schema/manifest-v1.json"

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$"
NAME_PROBLEM = "a name is 1-63 letters, digits, '.', '_' or '-', starting with a letter"
DURATION_PATTERN = r"^[0-9]+(\.[0-9]+)?(ms|s|m|h)?$"
DURATION_PROBLEM = "a duration is a number of seconds or a string like 500ms, 10s, 5m, 1h"
SIZE_PATTERN = r"^[0-9]+[KMGT]?$"
MODE_PATTERN = r"^0?[0-7]{3,4}$"
MODE_PROBLEM = 'a mode is an octal string like "0755"'
MOUNT_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,62}:/[^:]*:(ro|rw)$"
MOUNT_PROBLEM = "a mount is VOLUME:/target:ro or VOLUME:/target:rw"
RESTART_PATTERN = r"^(no|always|on-failure(:[1-9][0-9]*)?)$"
RESTART_PROBLEM = "restart is no, always, on-failure or on-failure:N"
OWNER_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.-]*(:[A-Za-z_][A-Za-z0-9_.-]*)?$|^[0-9]+(:[0-9]+)?$"
OWNER_PROBLEM = "owner is USER or USER:GROUP"
FACILITIES = (
    "auth",
    "authpriv",
    "cron",
    "daemon",
    "ftp",
    "kern",
    "lpr",
    "mail",
    "news",
    "syslog",
    "user",
    "uucp",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
)
LEVELS = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")
PORTS_MAX = 32
ADDRS_MAX = 8

# Custom problem texts for pattern failures, keyed by pattern.
PATTERN_PROBLEMS: dict[str, str] = {
    NAME_PATTERN: NAME_PROBLEM,
    DURATION_PATTERN: DURATION_PROBLEM,
    MODE_PATTERN: MODE_PROBLEM,
    MOUNT_PATTERN: MOUNT_PROBLEM,
    RESTART_PATTERN: RESTART_PROBLEM,
    OWNER_PATTERN: OWNER_PROBLEM,
    "^/": "a path inside the cell must be absolute (start with /)",
    r"^[0-9]+(\.[0-9]+)*$": "a release is a version like 10.1",
    SIZE_PATTERN: "a size is a number of bytes, optionally with K, M, G or T",
}


def _name(doc: str) -> dict[str, Any]:
    return {"type": "string", "pattern": NAME_PATTERN, "description": doc}


def _duration(doc: str) -> dict[str, Any]:
    return {
        "description": doc,
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": DURATION_PATTERN},
        ],
    }


def _command(doc: str) -> dict[str, Any]:
    return {
        "description": doc + " (a string split like a shell would, or a list of words)",
        "anyOf": [
            {"type": "string", "minLength": 1},
            {"type": "array", "items": {"type": "string"}, "minItems": 1},
        ],
    }


def _obj(props: dict[str, Any], required: tuple[str, ...] = (), doc: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "additionalProperties": False,
    }
    if required:
        out["required"] = list(required)
    if doc:
        out["description"] = doc
    return out


_SIZE = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": SIZE_PATTERN}]}
_RLIMIT_VALUE = {
    "anyOf": [
        _SIZE,
        _obj({"soft": _SIZE, "hard": _SIZE}, ("soft", "hard")),
    ]
}
_PATH = {"type": "string", "pattern": "^/", "description": "an absolute path inside the cell"}
_MODE = {"type": "string", "pattern": MODE_PATTERN}

PROVISION_STEPS: dict[str, dict[str, Any]] = {
    "pkg": {
        "description": "install a binary package (pkg_add) unless it is installed",
        "anyOf": [
            {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$"},
            _obj({"name": {"type": "string", "minLength": 1}}, ("name",)),
        ],
    },
    "file": _obj(
        {
            "path": _PATH,
            "content": {"type": "string"},
            "mode": _MODE,
            "owner": {"type": "string", "pattern": OWNER_PATTERN},
        },
        ("path", "content"),
        "a file with exactly this content (and mode)",
    ),
    "dir": _obj(
        {"path": _PATH, "mode": _MODE, "owner": {"type": "string", "pattern": OWNER_PATTERN}},
        ("path",),
        "a directory (and its parents)",
    ),
    "line": _obj(
        {"path": _PATH, "line": {"type": "string"}, "match": {"type": "string"}},
        ("path", "line"),
        "a line present in a file; `match` (a regex) selects the line to replace",
    ),
    "symlink": _obj(
        {"path": _PATH, "target": {"type": "string", "minLength": 1}},
        ("path", "target"),
        "a symbolic link pointing at target",
    ),
    "patch": _obj(
        {"path": _PATH, "diff": {"type": "string", "minLength": 1}},
        ("path", "diff"),
        "a unified diff applied to one file unless already applied",
    ),
    "exec": _obj(
        {
            "command": _command("what to run inside the cell"),
            "creates": _PATH,
            "unless": _command("a guard: skip when it exits 0"),
        },
        ("command",),
        "a command, guarded by `creates` (a path) or `unless` (a command)",
    ),
}

CELL_PROPERTIES: dict[str, Any] = {
    "kind": {"const": "Cell"},
    "name": _name("the cell name; unique among cells"),
    "profile": {"enum": list(PROFILES), "description": "policy profile (default high)"},
    "autostart": {"type": "boolean", "description": "start the service on apply and at boot"},
    "ports": {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 65535},
        "maxItems": PORTS_MAX,
        "uniqueItems": True,
        "description": "ports only this cell may bind",
    },
    "bind_addrs": {
        "type": "array",
        "items": {"type": "string", "minLength": 1},
        "maxItems": ADDRS_MAX,
        "uniqueItems": True,
        "description": "IPv4/IPv6 addresses the cell may bind (none: any)",
    },
    "rlimits": {
        "type": "object",
        "propertyNames": {"enum": list(RLIMIT_NAMES)},
        "additionalProperties": _RLIMIT_VALUE,
        "description": "per-process resource limits: a value or {soft, hard}",
    },
    "overrides": {
        "type": "array",
        "items": {"enum": list(OVERRIDES)},
        "uniqueItems": True,
        "description": "policy rows relaxed for this cell",
    },
    "root": _obj(
        {
            "release": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)*$"},
            "arch": {"type": "string", "pattern": r"^[a-z0-9_]+$"},
            "sets": {
                "type": "array",
                "items": {"type": "string", "pattern": r"^[a-z0-9]+$"},
                "uniqueItems": True,
            },
        },
        ("release", "arch"),
        "the shared read-only base (release/arch) under a writable overlay",
    ),
    "mounts": {
        "type": "array",
        "items": {"type": "string", "pattern": MOUNT_PATTERN},
        "description": "volume mounts VOLUME:/target:ro|rw",
    },
    "service": _obj(
        {
            "command": _command("the service's command line"),
            "user": {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"},
            "group": {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"},
            "restart": {"type": "string", "pattern": RESTART_PATTERN},
            "stop_timeout": _duration("grace period between TERM and KILL"),
            "env": {"type": "object", "additionalProperties": {"type": "string"}},
            "log": _obj(
                {
                    "facility": {"enum": list(FACILITIES)},
                    "stdout": {"enum": list(LEVELS)},
                    "stderr": {"enum": list(LEVELS)},
                    "tag": {"type": "string", "pattern": r"^[A-Za-z0-9_.-]{1,32}$"},
                },
                doc="syslog facility, levels for stdout/stderr lines, tag",
            ),
        },
        ("command",),
        "the one service the cell runs",
    ),
    "depends_on": {
        "type": "array",
        "items": {"type": "string", "pattern": NAME_PATTERN},
        "uniqueItems": True,
        "description": "cells whose services must be healthy before this one starts",
    },
    "healthcheck": _obj(
        {
            "command": _command("exits 0 when healthy"),
            "interval": _duration("time between checks"),
            "timeout": _duration("time a check may take"),
            "retries": {"type": "integer", "minimum": 1, "maximum": 100},
            "start_period": _duration("failures ignored this long after start"),
        },
        ("command",),
        "how to tell the service is healthy; failing retries times restarts it",
    ),
    "provision": {
        "type": "array",
        "description": "idempotent steps run inside the cell, in order",
        "items": {
            "type": "object",
            "properties": PROVISION_STEPS,
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
        },
    },
}

VOLUME_PROPERTIES: dict[str, Any] = {
    "kind": {"const": "Volume"},
    "name": _name("the volume name; unique among volumes"),
    "mode": {"type": "string", "pattern": MODE_PATTERN, "description": "permissions (octal)"},
    "owner": {"type": "string", "pattern": OWNER_PATTERN, "description": "USER[:GROUP]"},
}

CELL_SCHEMA = _obj(CELL_PROPERTIES, ("kind", "name"), "a cell: policy, root, service")
VOLUME_SCHEMA = _obj(VOLUME_PROPERTIES, ("kind", "name"), "a named persistent directory")

KINDS: dict[str, dict[str, Any]] = {"Cell": CELL_SCHEMA, "Volume": VOLUME_SCHEMA}


def manifest_schema() -> dict[str, Any]:
    """The published schema: one document is a Cell or a Volume."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cellmgr manifest document",
        "$defs": {"Cell": CELL_SCHEMA, "Volume": VOLUME_SCHEMA},
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": list(KINDS)}},
        "allOf": [
            {"if": {"properties": {"kind": {"const": k}}}, "then": {"$ref": f"#/$defs/{k}"}}
            for k in KINDS
        ],
    }


def schema_json() -> str:
    return json.dumps(manifest_schema(), indent=2, sort_keys=True) + "\n"
