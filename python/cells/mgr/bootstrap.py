"""Bootstrap a host: load and persist the kernel module, build a base.

`ensure_module` loads secmodel_cell now (modload) and at every boot (a line
in /etc/modules.conf), both idempotent.  Bases come from
`rootfs.import_sets`.  Callers: cellmgr bootstrap, rc.d/cellmgr.
"""

from __future__ import annotations

from pathlib import Path

from cells.mgr.host import Host

MODULE = "secmodel_cell"


def ensure_module(host: Host, modules_conf: Path, module: str = MODULE) -> list[str]:
    """Make the module loaded and persistent; returns what was changed."""
    changed: list[str] = []
    lines = modules_conf.read_text().splitlines() if modules_conf.exists() else []
    if not any(line.split("#", 1)[0].split() == [module] for line in lines):
        with modules_conf.open("a") as f:
            f.write(f"{module}\n")
        changed.append(f"added {module} to {modules_conf}")
    if not host.module_loaded(module):
        host.modload(module)
        changed.append(f"loaded {module}")
    return changed
