"""The one kernel API of the control plane, and how a backend is chosen.

`open_kernel()` returns a `Kernel` (see `cells.kernel.api`).  `auto` fails
closed: on NetBSD it means the netbsd backend, and when secmodel_cell is
not loaded it is an error (`ModuleNotLoaded`), never a silent fall-back to
the sim, which isolates nothing; elsewhere it means the sim (with a
one-line notice on stderr).  An explicit `sim` on NetBSD still works, for
trying things out, and warns on stderr every time.  `--backend` /
CELLS_BACKEND and `--state-dir` / CELLS_STATE_DIR override.  Backends are imported only when
chosen, so importing this package stays cheap.  Callers: cellctl, cellmgr,
the supervisor.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import TYPE_CHECKING

from cells.errors import InvalidArgument, ModuleNotLoaded
from cells.kernel.api import Kernel

if TYPE_CHECKING:
    from pathlib import Path

BACKENDS = ("auto", "netbsd", "sim")
DEFAULT_STATE_DIR = "/var/db/cells"
SIM_NOTICE = "cells: secmodel_cell not loaded; using the sim backend (enforces nothing)"
SIM_ON_NETBSD = (
    "cells: warning: the sim backend on NetBSD isolates nothing; it is for trying "
    "things out only (use --backend netbsd with secmodel_cell loaded)"
)
NOT_LOADED = (
    "secmodel_cell is not loaded, so nothing would be isolated: load it with "
    "'modload secmodel_cell' (and list it in /etc/modules.conf to load it at boot); "
    "--backend sim is for trying things out only"
)

__all__ = [
    "BACKENDS",
    "DEFAULT_STATE_DIR",
    "Kernel",
    "on_netbsd",
    "open_kernel",
    "state_dir_from_env",
]

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
    CELLS_STATE_DIR, then /var/db/cells.  The sim notice of "auto" off
    NetBSD can be silenced with CELLS_QUIET=1; the warning for the sim on
    NetBSD cannot.  Raises ModuleNotLoaded for "auto" on NetBSD without
    the module.
    """
    global _noticed
    choice = backend or os.environ.get("CELLS_BACKEND") or "auto"
    if choice not in BACKENDS:
        raise InvalidArgument(
            f"unknown backend '{choice}' (use {', '.join(BACKENDS)})", err=errno.EINVAL
        )
    if choice == "auto" and on_netbsd():
        if not _module_loaded():
            raise ModuleNotLoaded(NOT_LOADED)
        choice = "netbsd"
    elif choice == "auto":
        choice = "sim"
        if not _noticed and os.environ.get("CELLS_QUIET") != "1":
            print(SIM_NOTICE, file=sys.stderr)
            _noticed = True
    elif choice == "sim" and on_netbsd() and not _noticed:
        print(SIM_ON_NETBSD, file=sys.stderr)
        _noticed = True
    if choice == "netbsd":
        from cells.kernel.netbsd import NetbsdKernel

        return NetbsdKernel()
    from cells.kernel.sim import SimKernel

    return SimKernel(_state_dir(state_dir))


def on_netbsd() -> bool:
    """True when running on NetBSD (by either of Python's names for it)."""
    if sys.platform.startswith("netbsd"):
        return True
    uname = getattr(os, "uname", None)
    return uname is not None and uname().sysname == "NetBSD"


def _module_loaded() -> bool:
    """True when security.models.cell.abi_version exists (on NetBSD)."""
    from cells.kernel.netbsd import module_loaded

    return module_loaded()
