"""Stand-ins for the `anita` modules the harness may meet.

`unrelated_anita()` looks like the PyPI package of that name (a proof
assistant: a docstring, no installer API).  `installer_anita()` has the
shape of gson's anita 2.x (the names and keyword arguments ci.qemu uses)
and plays a guest: shell commands are recorded, and the "save" step writes
a results tar onto the scratch disk the way the real guest script does.
"""

from __future__ import annotations

import io
import re
import tarfile
import types
from pathlib import Path
from typing import Any

PASSING_TPS = """Content-Type: application/X-atf-tps; version="3"

info: atf.version, Automated Testing Framework 0.20 (atf-0.20)
tps-count: 1
tp-start: 1700000000.100000, t_isolation, 2
tc-start: 1700000000.200000, cross_see
tc-end: 1700000001.300000, cross_see, passed
tc-start: 1700000001.400000, cross_signal
tc-so:expect EPERM
tc-end: 1700000002.500000, cross_signal, passed
tp-end: 1700000002.600000, t_isolation
"""


def make_release(root: Path, sets: tuple[str, ...] | None = None, sums: bool = True) -> Path:
    """A small release tree laid out like the CDN's NetBSD-<release>/, with SHA512 lists."""
    import hashlib

    from ci.qemu import config

    lists: dict[Path, list[str]] = {}
    for name in sets if sets is not None else config.SETS:
        where = root / ("source/sets" if name == "syssrc" else "amd64/binary/sets")
        where.mkdir(parents=True, exist_ok=True)
        fname = name + (".tgz" if name == "syssrc" else ".tar.xz")
        data = f"set {name}\n".encode() * 100
        (where / fname).write_bytes(data)
        digest = hashlib.sha512(data).hexdigest()
        lists.setdefault(where, []).append(f"SHA512 ({fname}) = {digest}\n")
    cdrom = root / "amd64" / "installation" / "cdrom"
    cdrom.mkdir(parents=True, exist_ok=True)
    iso = b"boot-com.iso\n" * 100
    (cdrom / "boot-com.iso").write_bytes(iso)
    lists[cdrom] = [f"SHA512 (boot-com.iso) = {hashlib.sha512(iso).hexdigest()}\n"]
    if sums:
        for where, lines in lists.items():
            (where / "SHA512").write_text("".join(lines))
    return root


def unrelated_anita() -> types.ModuleType:
    mod = types.ModuleType("anita", "ANITA is a proof assistant for teaching analytic tableaux.")
    mod.__file__ = "/site-packages/anita/__init__.py"
    mod.Anita = type("Anita", (), {})  # type: ignore[attr-defined]
    return mod


def results_tar(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class Guest:
    """What the fake guest saw and what it answers."""

    def __init__(self) -> None:
        self.commands: list[str] = []
        self.boots: list[list[str]] = []
        self.instances: list[dict[str, Any]] = []
        self.tps = PASSING_TPS
        self.atf_status = 0
        self.python_status = "skipped: no Python in the guest"
        self.reboot_answer = "EPERM"
        self.status_for: dict[str, int] = {}
        self.halts = 0


def installer_anita(guest: Guest) -> types.ModuleType:
    mod = types.ModuleType("anita")
    mod.__file__ = "/fake/anita.py"

    class Anita:
        def __init__(
            self,
            dist: Any,
            workdir: str | None = None,
            vmm: str | None = None,
            vmm_args: list[str] | None = None,
            disk_size: str | None = None,
            memory_size: str | None = None,
            persist: bool = False,
            boot_from: str | None = None,
            structured_log: Any = None,
            structured_log_file: str | None = None,
            no_install: bool = False,
            tests: str = "atf",
            dtb: str = "",
            xen_type: str = "pv",
            image_format: str = "dense",
        ) -> None:
            self.workdir = Path(workdir or "w")
            self.scratch: Path | None = None
            self.unstructured_log_f: Any = None
            self.child = None
            guest.instances.append(
                {
                    "dist": dist,
                    "workdir": workdir,
                    "vmm": vmm,
                    "structured_log_file": structured_log_file,
                    "vmm_args": vmm_args,
                    "persist": persist,
                    "image_format": image_format,
                }
            )

        def install(self) -> None:
            wd0 = self.workdir / "wd0.img"
            if not wd0.exists():
                wd0.write_bytes(b"\0" * 4096)

        def boot(self, vmm_args: list[str] | None = None) -> None:
            args = list(vmm_args or [])
            guest.boots.append(args)
            for a in args:
                m = re.match(r"file=([^,]+results\.img),", a)
                if m:
                    self.scratch = Path(m.group(1))

        def login(self) -> None:
            pass

        def shell_cmd(self, cmd: str, timeout: float = -1) -> int:
            guest.commands.append(cmd)
            if " save " in cmd and self.scratch is not None:
                files = {
                    "cells-results/atf.tps": guest.tps,
                    "cells-results/status.txt": "kern.securelevel=1\nuname: NetBSD\n",
                    "cells-results/atf-run.status": f"{guest.atf_status}\n",
                    "cells-results/python.status": guest.python_status + "\n",
                }
                with open(self.scratch, "r+b") as fh:
                    fh.write(results_tar(files))
            if " reboot-probe " in cmd and self.unstructured_log_f is not None:
                self.unstructured_log_f.write(f"reboot-probe: {guest.reboot_answer}\n".encode())
            for key, status in guest.status_for.items():
                if key in cmd:
                    return status
            return 0

        def halt(self) -> None:
            guest.halts += 1

    mod.Anita = Anita  # type: ignore[attr-defined]
    mod.distribution = lambda d, sets=None: ("dist", d, tuple(sets or ()))  # type: ignore[attr-defined]
    mod.URL = type("URL", (), {})  # type: ignore[attr-defined]
    mod.LocalDirectory = type("LocalDirectory", (), {})  # type: ignore[attr-defined]
    return mod
