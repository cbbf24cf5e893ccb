"""Sets fetched whole and checked before anita installs them; the cache key."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path
from typing import IO

import pytest

from ci.qemu import config, run, sets
from ci.qemu.errors import HarnessError
from ci.qemu.tests.fakes import Guest, installer_anita, make_release


def dist_of(release: Path) -> str:
    return f"{release / 'amd64'}/"


def test_every_set_lands_where_anita_looks_and_is_checked(tmp_path: Path) -> None:
    release = make_release(tmp_path / "NetBSD-10.1")
    dl = tmp_path / "base" / "download"
    got = sets.prepare(dist_of(release), "amd64", config.SETS, dl)
    assert [f.name for f in got] == [*config.SETS, "boot-com.iso"]
    assert (dl / "amd64" / "installation" / "cdrom" / "boot-com.iso").is_file()
    assert (dl / "amd64" / "binary" / "sets" / "base.tar.xz").read_bytes() == (
        release / "amd64" / "binary" / "sets" / "base.tar.xz"
    ).read_bytes()
    assert (dl / "source" / "sets" / "syssrc.tgz").is_file()
    assert all(len(f.sha512) == 128 for f in got)
    assert not list(dl.rglob("*.part"))


def test_a_set_the_release_lacks_is_an_error_not_an_install_without_it(
    tmp_path: Path,
) -> None:
    release = make_release(tmp_path / "NetBSD-10.1", sets=("kern-GENERIC", "base", "etc"))
    with pytest.raises(HarnessError, match=r"set modules is not in .*SHA512"):
        sets.prepare(dist_of(release), "amd64", config.SETS, tmp_path / "dl")
    nosums = make_release(tmp_path / "other" / "NetBSD-10.1", sets=("base",), sums=False)
    with pytest.raises(HarnessError, match="cannot fetch the etc set"):
        sets.prepare(dist_of(nosums), "amd64", ("base", "etc"), tmp_path / "dl2")


def test_the_installers_boot_cd_is_fetched_and_checked_too(tmp_path: Path) -> None:
    release = make_release(tmp_path / "NetBSD-10.1")
    iso = release / "amd64" / "installation" / "cdrom" / "boot-com.iso"
    iso.write_bytes(b"not the published boot CD")
    with pytest.raises(HarnessError, match=r"boot-com\.iso.*SHA512 does not match"):
        sets.prepare(dist_of(release), "amd64", ("base",), tmp_path / "dl")
    assert not (tmp_path / "dl" / "amd64" / "installation" / "cdrom" / "boot-com.iso").exists()


def test_a_missing_marker_and_a_truncated_cache_are_not_reused(tmp_path: Path) -> None:
    release = make_release(tmp_path / "NetBSD-10.1")
    dl = tmp_path / "dl"
    sdir = dl / "source" / "sets"
    sdir.mkdir(parents=True)
    (sdir / "syssrc.tgz.MISSING").touch()  # what anita leaves after a failed fetch
    bdir = dl / "amd64" / "binary" / "sets"
    bdir.mkdir(parents=True)
    whole = (release / "amd64" / "binary" / "sets" / "tests.tar.xz").read_bytes()
    (bdir / "tests.tar.xz").write_bytes(whole[:100])  # cut off by a step timeout
    (bdir / "comp.tar.xz").write_bytes(b"x" * len(whole))  # same size, other bytes
    msgs: list[str] = []
    sets.prepare(dist_of(release), "amd64", config.SETS, dl, say=msgs.append)
    assert not (sdir / "syssrc.tgz.MISSING").exists()
    assert (sdir / "syssrc.tgz").is_file()
    assert (bdir / "tests.tar.xz").read_bytes() == whole
    assert (bdir / "comp.tar.xz").read_bytes().startswith(b"set comp")
    assert any("comp.tar.xz: does not match" in m for m in msgs)


class _Cut(io.BytesIO):
    """A response that stops with an exception part-way through."""

    def __init__(self, data: bytes, exc: BaseException, length: int | None = None) -> None:
        super().__init__(data)
        self.exc = exc
        self.headers = {"Content-Length": str(length if length is not None else len(data))}
        self.reads = 0

    def read(self, n: int | None = -1) -> bytes:
        self.reads += 1
        if self.reads > 1:
            raise self.exc
        return super().read(4)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), OSError("connection reset")])
def test_an_interrupted_download_leaves_nothing(tmp_path: Path, exc: BaseException) -> None:
    dest = tmp_path / "sets" / "base.tar.xz"

    def opener(url: str) -> IO[bytes]:
        return _Cut(b"0123456789", exc)

    with pytest.raises(type(exc)):
        sets.download("http://x/base.tar.xz", dest, opener=opener)
    assert list((tmp_path / "sets").iterdir()) == []


def test_a_short_transfer_is_refused(tmp_path: Path) -> None:
    dest = tmp_path / "base.tar.xz"

    def opener(url: str) -> IO[bytes]:
        resp = io.BytesIO(b"short")
        resp.headers = {"Content-Length": "999"}  # type: ignore[attr-defined]
        return resp

    with pytest.raises(HarnessError, match="got 5 of 999 bytes"):
        sets.download("http://x/base.tar.xz", dest, opener=opener)
    assert list(tmp_path.iterdir()) == []


def test_without_a_sha512_list_lengths_are_still_checked(tmp_path: Path) -> None:
    release = make_release(tmp_path / "NetBSD-10.1", sums=False)
    msgs: list[str] = []
    got = sets.prepare(dist_of(release), "amd64", config.SETS, tmp_path / "dl", say=msgs.append)
    assert all(f.sha512 == "" for f in got)
    assert any("no SHA512 list" in m for m in msgs)


def test_parse_sums_and_release_root() -> None:
    digest = "a" * 128
    text = f"SHA512 (base.tar.xz) = {digest}\nMD5 (x) = 00\nSHA512 (../evil) = {digest}\n"
    assert sets.parse_sums(text) == {"base.tar.xz": digest}
    assert sets.release_root("https://m/pub/NetBSD-10.1/amd64/", "amd64") == (
        "https://m/pub/NetBSD-10.1/"
    )
    assert sets.release_root("/srv/NetBSD-10.1/amd64/", "amd64") == "file:///srv/NetBSD-10.1/"


def test_anything_unchecked_is_pruned_after_a_failed_install(tmp_path: Path) -> None:
    release = make_release(tmp_path / "NetBSD-10.1")
    dl = tmp_path / "dl"
    got = sets.prepare(dist_of(release), "amd64", config.SETS, dl)
    partial = dl / "amd64" / "installation" / "floppy" / "boot-com1.fs"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(b"half a floppy")
    assert sets.prune_unchecked(dl, got) == [partial]
    assert all(f.path.is_file() for f in got)
    sets.check_installed(got)
    got[0].path.write_bytes(b"")
    with pytest.raises(HarnessError, match="changed during the install"):
        sets.check_installed(got)


# --- through the whole harness, against the fake anita ---------------------------


@pytest.fixture
def harness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Guest, list[str]]:
    from ci.qemu.tests.test_qemu_run import argv

    g = Guest()
    monkeypatch.setitem(sys.modules, "anita", installer_anita(g))
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "mkisofs").write_text("#!/bin/sh\nexit 0\n")
    (tools / "mkisofs").chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    tree = tmp_path / "tree"
    (tree / "kmod" / "secmodel_cell").mkdir(parents=True)
    return g, argv(tree, tmp_path)


def test_the_install_cache_follows_sets_and_source(
    tmp_path: Path, harness: tuple[Guest, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    _, args = harness
    base = tmp_path / "work" / "10.1-amd64" / "base"
    assert run.main(args) == 0
    (base / "wd0.img").write_bytes(b"kept")
    assert run.main(args) == 0
    assert (base / "wd0.img").read_bytes() == b"kept"  # same key: reused
    other = tmp_path / "mirror" / "NetBSD-10.1"
    shutil.copytree(tmp_path / "NetBSD-10.1", other)
    i = args.index("--sets")
    assert run.main([*args[:i], "--sets", str(other), *args[i + 2 :]]) == 0
    assert (base / "wd0.img").read_bytes() != b"kept"  # other source: installed anew
    assert "installing anew" in capsys.readouterr().err
    assert str(other) in (base / "cache-key.json").read_text()


def test_a_release_without_a_required_set_installs_nothing(
    tmp_path: Path, harness: tuple[Guest, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    guest, args = harness
    sums = tmp_path / "NetBSD-10.1" / "source" / "sets" / "SHA512"
    sums.write_text("")  # the list says: no syssrc in this release
    assert run.main(args) == 2
    assert "set syssrc is not in" in capsys.readouterr().err.strip().splitlines()[-1]
    assert not (tmp_path / "work" / "10.1-amd64" / "base" / "wd0.img").exists()
    assert guest.commands == []


def test_no_iso_tool_for_anita_stops_before_anything(
    tmp_path: Path,
    harness: tuple[Guest, list[str]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if Path("/usr/bin/genisoimage").is_file():
        pytest.skip("/usr/bin/genisoimage is installed here; anita would use it")
    guest, args = harness
    (tmp_path / "tools" / "mkisofs").unlink()
    (tmp_path / "tools" / "xorriso").write_text("#!/bin/sh\nexit 0\n")
    (tmp_path / "tools" / "xorriso").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "tools"))
    assert run.main(args) == 2
    assert "xorriso is not enough" in capsys.readouterr().err.strip().splitlines()[-1]
    assert guest.instances == []
