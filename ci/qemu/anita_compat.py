"""Find gson's anita and refuse anything else that is called `anita`.

The NetBSD installer/tester anita (Andreas Gustafsson) is distributed as a
tarball and in pkgsrc (misc/py-anita), not on PyPI; the PyPI package named
`anita` is an unrelated proof assistant.  load_anita() imports whatever
`anita` is importable and checks, by its API rather than its name, that it
is the installer: the module-level `distribution()` factory and `URL` /
`LocalDirectory` classes, and an `Anita` class whose constructor takes the
keyword arguments this harness passes and which has install(), boot(),
login(), shell_cmd() and halt().  Called by ci.qemu.run before anything is
booted.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from types import ModuleType

from ci.qemu.errors import HarnessError

ANITA_VERSION = "2.18"
INSTALL_HINT = (
    "install gson's anita: pip install pexpect"
    f" https://www.gson.org/netbsd/anita/download/anita-{ANITA_VERSION}.tar.gz"
    " (or pkgsrc misc/py-anita)"
)

# Keyword arguments of anita.Anita.__init__ that ci.qemu.run passes.
ANITA_KWARGS: tuple[str, ...] = (
    "workdir",
    "vmm",
    "vmm_args",
    "disk_size",
    "memory_size",
    "persist",
    "structured_log_file",
    "image_format",
)
ANITA_METHODS: tuple[str, ...] = ("install", "boot", "login", "shell_cmd", "halt")
MODULE_NAMES: tuple[str, ...] = ("distribution", "URL", "LocalDirectory", "Anita")


def _problems(mod: ModuleType) -> list[str]:
    missing = [name for name in MODULE_NAMES if not hasattr(mod, name)]
    if missing:
        return [f"no {', '.join(missing)}"]
    anita_cls = mod.Anita
    if not inspect.isclass(anita_cls):
        return ["Anita is not a class"]
    problems = [
        f"no Anita.{m}()" for m in ANITA_METHODS if not callable(getattr(anita_cls, m, None))
    ]
    try:
        params = inspect.signature(anita_cls.__init__).parameters
    except (TypeError, ValueError):
        return [*problems, "Anita() signature unreadable"]
    absent = [k for k in ANITA_KWARGS if k not in params]
    if absent:
        problems.append(f"Anita() lacks {', '.join(absent)} (too old?)")
    return problems


def check_anita(mod: ModuleType) -> ModuleType:
    """Return mod if it is gson's anita, else raise a one-line HarnessError."""
    problems = _problems(mod)
    if problems:
        where = getattr(mod, "__file__", None) or "<unknown>"
        doc = (mod.__doc__ or "").strip().splitlines()
        what = f" ({doc[0][:60]})" if doc else ""
        raise HarnessError(
            f"ci/qemu: the 'anita' module at {where}{what} is not the NetBSD installer"
            f" ({'; '.join(problems)}); the PyPI package 'anita' is an unrelated"
            f" project: pip uninstall -y anita, then {INSTALL_HINT}"
        )
    return mod


def load_anita(importer: Callable[[str], ModuleType] = importlib.import_module) -> ModuleType:
    """Import and check anita; a missing pexpect or anita is one clear line."""
    try:
        importer("pexpect")
    except ImportError:
        raise HarnessError("ci/qemu: pexpect is not importable; pip install pexpect") from None
    try:
        mod = importer("anita")
    except ImportError:
        raise HarnessError(f"ci/qemu: anita is not importable; {INSTALL_HINT}") from None
    return check_anita(mod)
