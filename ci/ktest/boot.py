"""Boot one image under QEMU and watch the serial console.

The console is written to a log file as it arrives; the boot ends when
the test program prints its last line (then QEMU is stopped: there is no
ACPI power-off), when QEMU exits, when the console shows a panic or a ddb
prompt, or when the time limit runs out.  TCG only: nested KVM here is far
slower than TCG.  Called by ci.ktest.__main__ and ci.ktest.bench.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DONE = re.compile(r"^KTEST DONE (\d+)", re.M)
# What a kernel in trouble prints: a panic, a trap into ddb, a fatal trap.
TROUBLE = re.compile(r"panic: |^db\{\d+\}>|Stopped in pid|fatal (page fault|protection)", re.M)


@dataclass(frozen=True)
class Boot:
    status: str  # done | panic | timeout | exited
    console: str
    seconds: float

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.console.splitlines()[-lines:])


def qemu_argv(iso: Path, img: Path, memory: int = 512) -> list[str]:
    return [
        "qemu-system-x86_64",
        "-nographic",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "stdio",
        "-m",
        str(memory),
        "-accel",
        "tcg",
        "-no-reboot",
        "-cdrom",
        str(iso),
        "-drive",
        f"file={img},format=raw,if=ide",
    ]


def classify(console: str) -> str | None:
    """done, panic, or None while the boot goes on."""
    if TROUBLE.search(console):
        return "panic"
    if DONE.search(console):
        return "done"
    return None


def boot(iso: Path, img: Path, log: Path, timeout: float) -> Boot:
    """Run QEMU until the test program is done, or trouble, or the limit."""
    start = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            qemu_argv(iso, img), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
        )
        status = "timeout"
        try:
            while time.monotonic() - start < timeout:
                time.sleep(0.25)
                text = log.read_text(errors="replace")
                found = classify(text)
                if found is not None:
                    status = found
                    if found == "panic":
                        time.sleep(2)  # let the traceback reach the log
                    break
                if proc.poll() is not None:
                    status = "exited"
                    break
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    text = log.read_text(errors="replace")
    if status == "exited" and classify(text) is not None:
        status = classify(text) or status
    return Boot(status, text, time.monotonic() - start)
