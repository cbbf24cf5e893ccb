"""The IPC framing and request checks (cells.ipc.protocol)."""

from __future__ import annotations

import json

import pytest
from cells.ipc import protocol
from cells.ipc.protocol import ProtocolError


def test_round_trip_is_one_line() -> None:
    raw = protocol.encode(protocol.request(3, "status"))
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1
    assert protocol.decode(raw) == {"v": 1, "id": 3, "method": "status", "params": {}}


def test_error_message_is_one_line() -> None:
    msg = protocol.error(1, "busy", "cell web\nis running")
    assert msg["error"] == {"code": "busy", "message": "cell web is running"}


@pytest.mark.parametrize(
    ("line", "code"),
    [
        (b"not json\n", "invalid"),
        (b"[1]\n", "invalid"),
        (json.dumps({"v": 2, "id": 1, "method": "hello"}).encode(), "version"),
    ],
)
def test_bad_lines_are_rejected(line: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as info:
        protocol.decode(line)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("req", "text"),
    [
        ({"v": 1, "id": "x", "method": "hello"}, "integer id"),
        ({"v": 1, "id": 1, "method": "nope"}, "unknown method 'nope'"),
        ({"v": 1, "id": 1, "method": "status", "params": []}, "params must be an object"),
        ({"v": 1, "id": 1, "method": "logs.tail", "params": {"cel": "x"}}, "unknown params cel"),
    ],
)
def test_bad_requests_are_rejected(req: dict[str, object], text: str) -> None:
    with pytest.raises(ProtocolError, match=text):
        protocol.check_request(req)


def test_topics() -> None:
    assert protocol.check_topic("log:web") == "log:web"
    with pytest.raises(ProtocolError):
        protocol.check_topic("log:")


def test_error_codes_follow_the_taxonomy() -> None:
    from cells.errors import Busy, NotFound, PermissionDenied
    from cells.ipc.server import error_code
    from cells.mgr.apply import StalePlan
    from cells.mgr.loader import ManifestError, Problem
    from cells.mgr.plan import PlanError

    assert error_code(ManifestError([Problem("a.yaml", 1, 1, "kind", "x")])) == "invalid"
    assert error_code(PlanError("no cell")) == "invalid"
    assert error_code(StalePlan("stale")) == "invalid"
    assert error_code(Busy("locked")) == "busy"
    assert error_code(NotFound("gone")) == "not_found"
    assert error_code(PermissionDenied("no")) == "permission"
    assert error_code(ProtocolError("version", "v2")) == "version"
    assert error_code(RuntimeError("boom")) == "internal"


@pytest.mark.parametrize(
    ("method", "params", "text"),
    [
        ("cell.start", {"cells": "web"}, "cells must be a list of strings; got str"),
        ("cell.stop", {"cells": [1]}, "cells must be a list of strings; got list"),
        ("cell.start", {"all": "yes"}, "all must be true or false; got str"),
        ("subscribe", {"topics": "cells"}, "topics must be a list of strings; got str"),
        ("logs.tail", {"cell": "web", "lines": "10"}, "lines must be an integer"),
        ("logs.tail", {"cell": "web", "lines": 10**9}, "lines must be an integer"),
        ("logs.tail", {"cell": "web", "lines": True}, "lines must be an integer"),
        ("logs.tail", {"cell": ["web"]}, "cell must be a non-empty string; got list"),
        ("logs.tail", {}, "cell is required"),
        ("backup.restore", {"id": 3}, "id must be a non-empty string; got int"),
        ("apply", {"fingerprint": {}}, "fingerprint must be a non-empty string; got dict"),
    ],
)
def test_params_of_the_wrong_type_are_invalid(
    method: str, params: dict[str, object], text: str
) -> None:
    with pytest.raises(ProtocolError, match=text) as info:
        protocol.check_request({"v": 1, "id": 1, "method": method, "params": params})
    assert info.value.code == "invalid"


def test_every_method_has_typed_params() -> None:
    assert set(protocol.METHODS) == set(protocol.PARAMS)
    for method, names in protocol.REQUIRED.items():
        assert set(names) <= set(protocol.PARAMS[method])


@pytest.mark.parametrize("debug", [False, True])
def test_a_bug_in_a_handler_is_one_reply_line_and_a_traceback_only_with_debug(
    tmp_path: object, capsys: pytest.CaptureFixture[str], debug: bool
) -> None:
    import asyncio
    from pathlib import Path

    from cells.ipc.client import AsyncClient, IpcError
    from cells.ipc.server import IpcServer

    async def handler(method: str, params: dict[str, object], conn: object) -> object:
        if method == "hello":
            return {"server": "cellmgr", "protocol": 1}
        raise KeyError("oops")

    async def main() -> None:
        sock = Path(str(tmp_path)) / "s.sock"
        server = IpcServer(sock, handler, check_peer=False, debug=debug)
        await server.start()
        try:
            async with AsyncClient(sock) as c:
                with pytest.raises(IpcError) as err:
                    await c.call("status")
            assert err.value.code == "internal"
            assert str(err.value) == "internal error: KeyError: 'oops'"
        finally:
            await server.close()

    asyncio.run(main())
    err = capsys.readouterr().err
    assert "cellmgr: request status: internal error: KeyError: 'oops'" in err
    assert ("Traceback (most recent call last)" in err) is debug
