"""The cellmgr IPC protocol, version 1: message shapes, codes, framing.

Requests   {"v":1,"id":N,"method":"...","params":{...}}
Responses  {"v":1,"id":N,"ok":true,"result":...}
           {"v":1,"id":N,"ok":false,"error":{"code":"...","message":"one line"}}
Events     {"v":1,"event":"cells|log|audit|daemon","data":...}  (after subscribe)

One JSON object per line (UTF-8, no embedded newlines), at most MAX_LINE
bytes.  Callers: cells.ipc.server, cells.ipc.client; docs/ipc.md documents
every method.
"""

from __future__ import annotations

import json
from typing import Any, Literal

PROTOCOL_VERSION = 1
MAX_LINE = 4 << 20

ErrorCode = Literal["not_found", "busy", "invalid", "permission", "internal", "version"]
ERROR_CODES: tuple[ErrorCode, ...] = (
    "not_found",
    "busy",
    "invalid",
    "permission",
    "internal",
    "version",
)

#: The type of a request parameter: a list of strings, a boolean, a
#: non-empty string, or a count (an integer from 0 to MAX_COUNT).
ParamType = Literal["strings", "bool", "string", "count"]
MAX_COUNT = 100_000

#: Every method the server answers, with the params it accepts and their types.
PARAMS: dict[str, dict[str, ParamType]] = {
    "hello": {},
    "status": {},
    "cell.start": {"cells": "strings", "all": "bool"},
    "cell.stop": {"cells": "strings", "all": "bool"},
    "cell.restart": {"cells": "strings", "all": "bool"},
    "plan": {"cells": "strings"},
    "apply": {"cells": "strings", "fingerprint": "string", "allow_empty": "bool"},
    "volumes.list": {},
    "backup.list": {"cell": "string"},
    "backup.create": {"cell": "string"},
    "backup.restore": {"id": "string", "yes": "bool"},
    "backup.delete": {"id": "string", "yes": "bool"},
    "logs.tail": {"cell": "string", "lines": "count"},
    "subscribe": {"topics": "strings"},
}
#: Params a method cannot do without.
REQUIRED: dict[str, tuple[str, ...]] = {
    "backup.create": ("cell",),
    "backup.restore": ("id",),
    "backup.delete": ("id",),
    "logs.tail": ("cell",),
}
#: Every method the server answers, with the names of the params it accepts.
METHODS: dict[str, tuple[str, ...]] = {m: tuple(p) for m, p in PARAMS.items()}
_TYPE_WORDS: dict[ParamType, str] = {
    "strings": "a list of strings",
    "bool": "true or false",
    "string": "a non-empty string",
    "count": f"an integer from 0 to {MAX_COUNT}",
}

EventName = Literal["cells", "log", "audit", "daemon"]
EVENTS: tuple[EventName, ...] = ("cells", "log", "audit", "daemon")

#: subscribe topics: "cells", "audit", "daemon", or "log:<cell>".
FIXED_TOPICS: tuple[str, ...] = ("cells", "audit", "daemon")


class ProtocolError(Exception):
    """A request or reply that breaks the protocol; `code` is an ErrorCode."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> dict[str, Any]:
    """Parse one line; raise ProtocolError("invalid"|"version") when it is not v1."""
    if len(line) > MAX_LINE:
        raise ProtocolError("invalid", f"message longer than {MAX_LINE} bytes")
    try:
        obj = json.loads(line)
    except (ValueError, UnicodeDecodeError) as e:
        raise ProtocolError("invalid", f"not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("invalid", "a message must be a JSON object")
    if obj.get("v") != PROTOCOL_VERSION:
        raise ProtocolError(
            "version",
            f"protocol version {obj.get('v')!r} not supported; this side speaks "
            f"v{PROTOCOL_VERSION}: upgrade the older of cellmgr and its client",
        )
    return obj


def request(id: int, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": id, "method": method, "params": params or {}}


def ok(id: int | None, result: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "id": id, "ok": True, "result": result}


def error(id: int | None, code: ErrorCode, message: str) -> dict[str, Any]:
    one_line = " ".join(message.split())
    return {
        "v": PROTOCOL_VERSION,
        "id": id,
        "ok": False,
        "error": {"code": code, "message": one_line},
    }


def event(name: EventName, data: Any) -> dict[str, Any]:
    return {"v": PROTOCOL_VERSION, "event": name, "data": data}


def check_request(obj: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
    """Validate a decoded request; return (id, method, params)."""
    rid, method, params = obj.get("id"), obj.get("method"), obj.get("params", {})
    if not isinstance(rid, int) or isinstance(rid, bool):
        raise ProtocolError("invalid", "request needs an integer id")
    if not isinstance(method, str) or method not in METHODS:
        raise ProtocolError(
            "invalid", f"unknown method {method!r}; known: " + ", ".join(sorted(METHODS))
        )
    if not isinstance(params, dict):
        raise ProtocolError("invalid", "params must be an object")
    unknown = sorted(set(params) - set(METHODS[method]))
    if unknown:
        raise ProtocolError("invalid", f"{method}: unknown params {', '.join(unknown)}")
    for name, value in params.items():
        kind = PARAMS[method][name]
        if value is not None and not _has_type(value, kind):
            raise ProtocolError(
                "invalid",
                f"{method}: {name} must be {_TYPE_WORDS[kind]}; got {type(value).__name__}",
            )
    missing = [name for name in REQUIRED.get(method, ()) if params.get(name) is None]
    if missing:
        raise ProtocolError("invalid", f"{method}: {', '.join(missing)} is required")
    return rid, method, params


def _has_type(value: Any, kind: ParamType) -> bool:
    if kind == "strings":
        return isinstance(value, list) and all(isinstance(v, str) and v for v in value)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "string":
        return isinstance(value, str) and bool(value)
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_COUNT


def check_topic(topic: str) -> str:
    if topic in FIXED_TOPICS or (topic.startswith("log:") and len(topic) > 4):
        return topic
    raise ProtocolError(
        "invalid", f"unknown topic {topic!r}; use cells, audit, daemon or log:<cell>"
    )
