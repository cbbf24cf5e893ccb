"""One NetBSD guest driven through anita, with its console kept on disk.

GuestSession wraps an anita.Anita object; only this module touches the
anita API, and only what anita 2.x defines (see anita_compat):
`anita.distribution(url_or_dir, sets=[...])`, `anita.Anita(dist,
workdir=, vmm='qemu', vmm_args=[...], disk_size=, memory_size=, persist=,
structured_log_file=, image_format=)`, `.install()`, `.boot(vmm_args)`,
`.shell_cmd(cmd, timeout)` (returns the command's exit status), `.halt()`,
the pexpect child in `.child`, and the `unstructured_log_f` attribute that
anita's configure_child() tees the console into.  ConsoleTee is what we put
there: console bytes go to console.log, to stderr (for people), and to a
bounded in-memory tail that lets ci.qemu.run read a command's output.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from ci.qemu.errors import GuestPanic

TAIL_BYTES = 1 << 20


# A kernel panic ("[  12.3] panic: ...") or the ddb prompt it leaves.
PANIC_RE = re.compile(rb"(?:^|[\r\n]|\] )(panic: [^\r\n]*)[\r\n]|(db\{\d+\}> )")
_SCAN_OVERLAP = 512


class ConsoleTee:
    """A file-like sink for pexpect's logfile_read (bytes).

    pexpect calls write() from inside expect(), so raising GuestPanic here
    stops whatever anita was waiting for as soon as the kernel panics,
    instead of when the step's time limit runs out.
    """

    def __init__(self, path: Path, echo: IO[bytes] | None) -> None:
        self._file = open(path, "ab")  # noqa: SIM115 - closed by close()
        self._echo = echo
        self._tail = bytearray()
        self._total = 0
        self.panic: str | None = None

    def write(self, data: bytes) -> int:
        self._file.write(data)
        if self._echo is not None:
            self._echo.write(data)
        scan_from = max(0, len(self._tail) - _SCAN_OVERLAP)
        self._tail += data
        if len(self._tail) > TAIL_BYTES:
            cut = len(self._tail) - TAIL_BYTES
            del self._tail[:cut]
            scan_from = max(0, scan_from - cut)
        self._total += len(data)
        if self.panic is None:
            m = PANIC_RE.search(self._tail, scan_from)
            if m is not None:
                self._file.flush()
                self.panic = (m.group(1) or m.group(2)).decode("utf-8", "replace").strip()
                raise GuestPanic(self.panic)
        return len(data)

    def flush(self) -> None:
        self._file.flush()
        if self._echo is not None:
            self._echo.flush()

    def mark(self) -> int:
        """Position to pass to since() later."""
        return self._total

    def since(self, mark: int) -> str:
        """Console text written after mark (as much as the tail still holds)."""
        start = max(0, len(self._tail) - (self._total - mark))
        return bytes(self._tail[start:]).decode("utf-8", "replace")

    def close(self) -> None:
        self._file.close()


@contextlib.contextmanager
def anita_prints_to_stderr() -> Iterator[None]:
    """anita prints progress to stdout; ours is for data, so divert it.

    Both its print()s (sys.stdout) and the programs it runs with our file
    descriptors (`qemu-system-x86_64 --version` writes to fd 1) go to
    stderr: fd 1 itself points at stderr until the block ends.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 at all: nothing to divert below print()
        saved = -1
    try:
        if saved >= 0:
            os.dup2(2, 1)
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stderr.flush()
        if saved >= 0:
            os.dup2(saved, 1)
            os.close(saved)


class GuestSession:
    """One anita.Anita instance: install, boot, run commands, halt."""

    def __init__(
        self,
        anita: ModuleType,
        dist: Any,
        workdir: Path,
        vmm_args: list[str],
        *,
        persist: bool,
        disk_size: str,
        memory: str,
        console: ConsoleTee,
        structured_log: Path,
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        with anita_prints_to_stderr():
            self._a = anita.Anita(
                dist,
                workdir=str(workdir),
                vmm="qemu",
                vmm_args=vmm_args,
                disk_size=disk_size,
                memory_size=memory,
                persist=persist,
                structured_log_file=str(structured_log),
                image_format="sparse",
            )
        self._a.unstructured_log_f = console
        self.console = console

    def install(self) -> None:
        with anita_prints_to_stderr():
            self._a.install()

    def boot(self, vmm_args: list[str]) -> None:
        with anita_prints_to_stderr():
            self._a.boot(list(vmm_args))

    def sh(self, command: str, timeout: float) -> int:
        """Run one shell command as root on the console; its exit status."""
        with anita_prints_to_stderr():
            return int(self._a.shell_cmd(command, timeout))

    def halt(self) -> None:
        with anita_prints_to_stderr():
            self._a.halt()

    def kill(self) -> None:
        """End QEMU now (used when a step runs past its limit)."""
        child = getattr(self._a, "child", None)
        if child is None:
            return
        if child.isalive():
            child.kill(signal.SIGKILL)
        # anita sets 30 s close delays for slow VMMs; QEMU is dead already.
        for obj in (child, getattr(child, "ptyproc", None)):
            if obj is not None:
                obj.delayafterclose = obj.delayafterterminate = 0.1
        with contextlib.suppress(Exception):
            child.close(force=True)
