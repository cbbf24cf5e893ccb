"""cellui in a real pseudo-terminal: the shell key hands the terminal to a
subprocess through App.suspend() and takes it back.

The app runs in a child process on a pty (pexpect), against the fake
daemon, with the shell command replaced by a small program that prints
where it runs and waits for a line, so no cell root or privilege is
needed.  What is proven: the subprocess gets the terminal, sees the cell
and the socket, and when it exits cellui draws again, reports the exit
status and still answers keys (q quits with status 0).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pexpect

HERE = Path(__file__).resolve().parent

CHILD = """\
import sys
sys.path.insert(0, {here!r})
from cellui_fake_daemon import FakeDaemon
from cells.ui.app import CellUI

SHELL = "import os, sys; print('IN-SHELL', sys.argv[1], os.environ['CELLS_SOCKET']); input()"
fake = FakeDaemon({sock!r}).start()
try:
    CellUI({sock!r}, shell_argv=lambda cell: [sys.executable, "-c", SHELL, cell]).run()
finally:
    fake.close()
"""


def test_shell_suspends_the_app_and_comes_back(sock_dir: Path) -> None:
    sock = str(sock_dir / "cellmgr.sock")
    script = sock_dir / "child.py"
    script.write_text(CHILD.format(here=str(HERE), sock=sock))
    child = pexpect.spawn(
        sys.executable, [str(script)], dimensions=(36, 120), timeout=20,
        env={"TERM": "xterm-256color", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )  # fmt: skip
    try:
        child.expect("80,443")  # the table is drawn (web's ports)
        # search "web", back to the table, shell; one key at a time, as a
        # person types (a focus change takes effect between keys)
        for key in ("/", "w", "e", "b", "\r", "e"):
            time.sleep(0.3)
            child.send(key)
        child.expect(f"IN-SHELL web {sock}")
        child.send("\r")  # the "shell" exits
        child.expect("exited with status 0")
        child.send("q")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, child.before
