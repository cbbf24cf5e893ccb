"""Helpers of the supervisor tests: an event recorder, /proc checks, a runner."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

_PY = Path(__file__).resolve().parents[3] / "python"
if str(_PY) not in sys.path:
    sys.path.insert(0, str(_PY))

from cells.supervisor import ServiceEvent  # noqa: E402

T = TypeVar("T")


def run(coro: Awaitable[T], timeout: float = 20.0) -> T:
    """Run one test coroutine with an overall deadline."""

    async def bounded() -> T:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def proc_state(pid: int) -> str | None:
    """The /proc state letter of `pid`, or None when it no longer exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2 :].split()[0]


def zombie_children(parent: int | None = None) -> list[int]:
    """Pids of zombie children of `parent` (this process by default)."""
    parent = os.getpid() if parent is None else parent
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        fields = text[text.rfind(")") + 2 :].split()
        if fields[0] == "Z" and int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


#: Zombies that existed before the current test (left by other suites).
zombie_baseline: set[int] = set()


def new_zombies() -> set[int]:
    """Zombie children that appeared during the current test."""
    return set(zombie_children()) - zombie_baseline


def dead(pid: int, within: float = 2.0) -> bool:
    """True when `pid` is gone or only a zombie (killed, awaiting its reaper).

    A killed process needs to be scheduled once to die, so allow `within`.
    """
    deadline = time.monotonic() + within
    while proc_state(pid) not in (None, "Z", "X"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@dataclass
class Recorder:
    """Collects events and log lines; waits for conditions on them."""

    events: list[tuple[float, ServiceEvent]] = field(default_factory=list)
    lines: list[tuple[str, str, str]] = field(default_factory=list)

    def on_event(self, event: ServiceEvent) -> None:
        self.events.append((time.monotonic(), event))

    def sink(self, service: str, stream: str, line: str) -> None:
        self.lines.append((service, stream, line))

    def states(self, name: str) -> list[str]:
        out: list[str] = []
        for _, event in self.events:
            if event.name == name and (not out or out[-1] != event.status.state):
                out.append(event.status.state)
        return out

    def times_of(self, name: str, state: str) -> list[float]:
        return [
            t
            for t, e in self.events
            if e.name == name and e.status.state == state and e.previous != state
        ]

    def lines_of(self, name: str, stream: str | None = None) -> list[str]:
        return [
            line for svc, st, line in self.lines if svc == name and (stream is None or st == stream)
        ]

    async def until(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.01)
