"""The layers import downwards only: the binding never imports the kernel
API built on it, and the IPC library and the TUI never import the manager."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "python" / "cells"

#: package -> packages below cells it must not import.
FORBIDDEN = {
    "ffi": ("cells.kernel", "cells.mgr", "cells.cli", "cells.ipc", "cells.ui", "cells.supervisor"),
    "ipc": ("cells.mgr", "cells.cli", "cells.ui"),
    "ui": ("cells.mgr", "cells.cli", "cells.kernel"),
}


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_no_layer_above_it(package: str) -> None:
    files = sorted((PKG / package).rglob("*.py"))
    assert files
    bad = [
        f"{f.relative_to(PKG)} imports {name}"
        for f in files
        for name in imports(f)
        if any(name == p or name.startswith(p + ".") for p in FORBIDDEN[package])
    ]
    assert bad == []
