"""Run the harness's steps, each under a time limit, and keep a record.

A step is a callable run in the main thread with an interval timer armed:
when the limit passes, SIGALRM interrupts whatever the step is blocked in
(a pexpect read of the QEMU console, a download, a subprocess wait), the
step's kill callback ends what it started (QEMU, a tool), and StepTimeout
is raised with the step's name and limit.  Every step's outcome and time
go to a StepLog that ci.qemu.run writes next to the console log.
"""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import TypeVar

from ci.qemu.errors import StepTimeout

T = TypeVar("T")


class _Expired(BaseException):
    """Raised by the SIGALRM handler; a BaseException so `except Exception` misses it."""


@dataclass
class StepRecord:
    name: str
    status: str  # ok | failed | timeout
    seconds: float
    limit: float
    detail: str = ""


@dataclass
class StepLog:
    records: list[StepRecord] = field(default_factory=list)

    def add(self, record: StepRecord) -> None:
        self.records.append(record)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps([asdict(r) for r in self.records], indent=2) + "\n")

    def lines(self) -> list[str]:
        return [
            f"{r.name:<14} {r.status:<8} {r.seconds:8.1f} s (limit {r.limit:g} s)"
            + (f"  {r.detail}" if r.detail else "")
            for r in self.records
        ]


def is_timeout(exc: BaseException) -> bool:
    """A time limit ran out: ours, or one of pexpect's (anita's own waits)."""
    if isinstance(exc, StepTimeout):
        return True
    cls = type(exc)
    return cls.__name__ == "TIMEOUT" and cls.__module__.startswith("pexpect")


def first_line(exc: BaseException) -> str:
    """An exception as one line (pexpect's messages run to dozens)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise _Expired


def run_step(
    name: str,
    limit: float,
    fn: Callable[[], T],
    log: StepLog,
    kill: Callable[[], None] | None = None,
) -> T:
    """Run fn within limit seconds; on expiry call kill and raise StepTimeout."""
    if limit <= 0:
        raise ValueError(f"step {name}: limit must be positive")
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    start = time.monotonic()
    try:
        result = fn()
        signal.setitimer(signal.ITIMER_REAL, 0)
    except _Expired:
        signal.setitimer(signal.ITIMER_REAL, 0)
        if kill is not None:
            kill()
        log.add(StepRecord(name, "timeout", time.monotonic() - start, limit, "killed"))
        raise StepTimeout(name, limit) from None
    except BaseException as exc:
        signal.setitimer(signal.ITIMER_REAL, 0)
        log.add(
            StepRecord(
                name,
                "timeout" if is_timeout(exc) else "failed",
                time.monotonic() - start,
                limit,
                first_line(exc),
            )
        )
        raise
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    log.add(StepRecord(name, "ok", time.monotonic() - start, limit))
    return result
