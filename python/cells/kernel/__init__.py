"""The one kernel API of the control plane, and how a backend is chosen.

`open_kernel()` returns a `Kernel` (see `cells.kernel.api`): the netbsd
backend when running on NetBSD with secmodel_cell loaded, else the sim
(with a one-line notice on stderr).  `--backend` / CELLS_BACKEND and
`--state-dir` / CELLS_STATE_DIR override.  Backends are imported only when
chosen, so importing this package stays cheap.  Callers: cellctl, cellmgr,
the supervisor.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import TYPE_CHECKING

from cells.errors import InvalidArgument
from cells.kernel.api import Kernel

if TYPE_CHECKING:
    from pathlib import Path

BACKENDS = ("auto", "netbsd", "sim")
DEFAULT_STATE_DIR = "/var/db/cells"
SIM_NOTICE = "cells: secmodel_cell not loaded; using the sim backend (enforces nothing)"

__all__ = ["BACKENDS", "DEFAULT_STATE_DIR", "Kernel", "open_kernel", "state_dir_from_env"]

_noticed = False


def state_dir_from_env(state_dir: str | os.PathLike[str] | None = None) -> Path:
    """The state dir: the argument, else CELLS_STATE_DIR, else /var/db/cells."""
    from pathlib import Path

    return Path(_state_dir(state_dir))


def _state_dir(state_dir: str | os.PathLike[str] | None) -> str:
    # A string, so that opening the sim does not import pathlib.
    return os.fspath(state_dir or os.environ.get("CELLS_STATE_DIR") or DEFAULT_STATE_DIR)


def open_kernel(
    backend: str | None = None, state_dir: str | os.PathLike[str] | None = None
) -> Kernel:
    """Open a backend.

    `backend` is "auto", "netbsd" or "sim"; None reads CELLS_BACKEND and
    falls back to "auto".  `state_dir` (sim only) defaults to
    CELLS_STATE_DIR, then /var/db/cells.  The sim notice of "auto" can be
    silenced with CELLS_QUIET=1.
    """
    global _noticed
    choice = backend or os.environ.get("CELLS_BACKEND") or "auto"
    if choice not in BACKENDS:
        raise InvalidArgument(
            f"unknown backend '{choice}' (use {', '.join(BACKENDS)})", err=errno.EINVAL
        )
    if choice == "auto":
        choice = "netbsd" if _module_loaded() else "sim"
        if choice == "sim" and not _noticed and os.environ.get("CELLS_QUIET") != "1":
            print(SIM_NOTICE, file=sys.stderr)
            _noticed = True
    if choice == "netbsd":
        from cells.kernel.netbsd import NetbsdKernel

        return NetbsdKernel()
    from cells.kernel.sim import SimKernel

    return SimKernel(_state_dir(state_dir))


def _module_loaded() -> bool:
    """True on NetBSD when security.models.cell.abi_version exists."""
    if not sys.platform.startswith("netbsd"):
        return False
    from cells.kernel.netbsd import module_loaded

    return module_loaded()
