"""The one error type of the harness.

Every module raises HarnessError with a one-line message (what, where, how
to fix); ci.qemu.run prints it to stderr and exits non-zero.
"""

from __future__ import annotations


class HarnessError(Exception):
    """A failure the harness reports as one line, never a traceback."""


class StepTimeout(HarnessError):
    """A step ran past its time limit and was killed."""

    def __init__(self, step: str, limit: float) -> None:
        super().__init__(
            f"ci/qemu: step '{step}' exceeded its limit of {limit:g} s and was killed;"
            " raise it with --timeout-scale or look at the console log"
        )
        self.step = step
        self.limit = limit


class GuestPanic(HarnessError):
    """The guest kernel panicked or dropped into ddb; seen on the console."""

    def __init__(self, line: str) -> None:
        super().__init__(
            f"ci/qemu: the guest kernel panicked: {line}; the full trace is in console.log"
        )
        self.line = line
