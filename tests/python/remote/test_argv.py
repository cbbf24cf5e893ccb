"""Where --host is taken from a command line, and [user@]host[:port]."""

from __future__ import annotations

import pytest
from cells.remote.argv import split
from cells.remote.run import command_line
from cells.remote.ssh import RemoteError, parse_spec

VALUES = frozenset({"--backend", "--state-dir"})


def test_host_is_taken_from_the_global_options_only() -> None:
    s = split(["--backend", "sim", "--host", "h1", "exec", "web", "--host", "x"], VALUES, {})
    assert (s.host, s.verb) == ("h1", "exec")
    assert s.args == ["--backend", "sim", "exec", "web", "--host", "x"]
    s = split(["--host=admin@h2:2222", "--remote-command={prog}", "list", "--json"], VALUES, {})
    assert (s.host, s.remote_command, s.args) == ("admin@h2:2222", "{prog}", ["list", "--json"])


def test_environment_and_option_values_that_look_like_verbs() -> None:
    s = split(["--state-dir", "list", "list"], VALUES, {"CELLS_HOST": "h3"})
    assert (s.host, s.options, s.verb) == ("h3", ["--state-dir", "list"], "list")
    assert split(["list"], VALUES, {"CELLS_HOST": ""}).host is None
    assert split(["--host"], VALUES, {}).args == ["--host"]  # click reports it


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("web1", (None, "web1", None)),
        ("root@web1:2222", ("root", "web1", 2222)),
        ("a@b@c", ("a@b", "c", None)),
        ("[::1]:22", (None, "::1", 22)),
        ("fe80::1", (None, "fe80::1", None)),
    ],
)
def test_parse_spec(spec: str, parsed: tuple[object, ...]) -> None:
    assert parse_spec(spec) == parsed


@pytest.mark.parametrize("spec", ["", "user@", "h:0", "h:99999", "h:x", "[::1]x"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(RemoteError):
        parse_spec(spec)


def test_command_line_quotes_every_argument() -> None:
    line = command_line("cellctl", "env X=1 /opt/bin/{prog}", ["exec", "web", "--", "a b", "$(x)"])
    assert line == "env X=1 /opt/bin/cellctl exec web -- 'a b' '$(x)'"
    assert command_line("cellmgr", None, []) == "cellmgr"
