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

#: Every method the server answers, with the params it accepts.
METHODS: dict[str, tuple[str, ...]] = {
    "hello": (),
    "status": (),
    "cell.start": ("cells", "all"),
    "cell.stop": ("cells", "all"),
    "cell.restart": ("cells", "all"),
    "plan": ("cells",),
    "apply": ("cells", "fingerprint"),
    "volumes.list": (),
    "backup.list": ("cell",),
    "backup.create": ("cell",),
    "backup.restore": ("id", "yes"),
    "backup.delete": ("id", "yes"),
    "logs.tail": ("cell", "lines"),
    "subscribe": ("topics",),
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
    return rid, method, params


def check_topic(topic: str) -> str:
    if topic in FIXED_TOPICS or (topic.startswith("log:") and len(topic) > 4):
        return topic
    raise ProtocolError(
        "invalid", f"unknown topic {topic!r}; use cells, audit, daemon or log:<cell>"
    )
