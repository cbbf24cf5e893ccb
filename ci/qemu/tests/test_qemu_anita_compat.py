"""The harness accepts gson's anita and refuses the unrelated PyPI one."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from ci.qemu import anita_compat
from ci.qemu.errors import HarnessError
from ci.qemu.tests.fakes import Guest, installer_anita, unrelated_anita


def test_unrelated_anita_is_rejected_with_install_hint() -> None:
    with pytest.raises(HarnessError) as exc:
        anita_compat.check_anita(unrelated_anita())
    msg = str(exc.value)
    assert "\n" not in msg
    assert "not the NetBSD installer" in msg
    assert "unrelated" in msg and "pip uninstall -y anita" in msg
    assert "anita-2.18.tar.gz" in msg and "misc/py-anita" in msg
    assert "/site-packages/anita/__init__.py" in msg
    assert "proof assistant" in msg


def test_installer_shape_is_accepted() -> None:
    mod = installer_anita(Guest())
    assert anita_compat.check_anita(mod) is mod


def test_too_old_anita_is_rejected() -> None:
    mod = installer_anita(Guest())

    class Old:
        def __init__(self, dist: object, workdir: str | None = None) -> None:
            pass

        install = boot = login = shell_cmd = halt = lambda self: None

    mod.Anita = Old  # type: ignore[attr-defined]
    with pytest.raises(HarnessError, match="too old"):
        anita_compat.check_anita(mod)


def test_missing_methods_are_named() -> None:
    mod = installer_anita(Guest())
    del mod.Anita.shell_cmd
    with pytest.raises(HarnessError, match=r"no Anita\.shell_cmd\(\)"):
        anita_compat.check_anita(mod)


def test_a_real_import_of_an_unrelated_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "anita"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        '"""ANITA: a proof assistant for analytic tableaux."""\n'
        "def check(proof):\n    return True\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "anita", raising=False)
    try:
        with pytest.raises(HarnessError, match="unrelated") as exc:
            anita_compat.load_anita()
    finally:
        sys.modules.pop("anita", None)  # the fake must not outlive this test
    assert str(pkg / "__init__.py") in str(exc.value)


def test_missing_anita_and_pexpect() -> None:
    def no_anita(name: str) -> types.ModuleType:
        if name == "anita":
            raise ImportError(name)
        return types.ModuleType(name)

    with pytest.raises(HarnessError, match="anita is not importable; install gson's"):
        anita_compat.load_anita(no_anita)

    def nothing(name: str) -> types.ModuleType:
        raise ImportError(name)

    with pytest.raises(HarnessError, match="pip install pexpect"):
        anita_compat.load_anita(nothing)
