"""Every manual page is under man/, one copy each, and the README names it."""

from __future__ import annotations

import re
from pathlib import Path

TOP = Path(__file__).resolve().parents[2]


def test_every_page_is_in_man_and_named_by_the_readme() -> None:
    pages = sorted(p.name for p in (TOP / "man").iterdir() if re.search(r"\.[1-9]$", p.name))
    assert "secmodel_cell.4" in pages and "cellmgr.8" in pages
    readme = (TOP / "README.md").read_text()
    for page in pages:
        name, section = page.rsplit(".", 1)
        assert f"{name}({section})" in readme, page


def test_the_kernel_page_has_one_source() -> None:
    link = TOP / "man" / "secmodel_cell.4"
    assert link.is_symlink()
    assert link.resolve() == (TOP / "kmod" / "secmodel_cell" / "secmodel_cell.4").resolve()
    assert link.read_text().startswith('.\\"') or ".Dt SECMODEL_CELL 4" in link.read_text()
