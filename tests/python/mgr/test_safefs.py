"""safefs: the no-follow primitives every host-side step in a cell uses."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from cells.mgr.safefs import Dir, UnsafePath, opened, parent_of, parts_of

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "planted"
sys.path.insert(0, str(CORPUS))

from planted import SECRET, Sentinel, plant, plant_fifo  # noqa: E402


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


def test_dotdot_is_refused() -> None:
    with pytest.raises(UnsafePath, match=r"^/etc/\.\./x: '\.\.' is not allowed"):
        parts_of("/etc/../x")
    assert parts_of("//etc/./rc.conf") == ("etc", "rc.conf")


def test_a_root_that_is_a_symlink_is_refused(tmp_path: Path, root: Path) -> None:
    link = plant(tmp_path, "link", root)
    with pytest.raises(UnsafePath, match="is a symlink"):
        Dir.open(link)


def test_walk_creates_real_directories_and_refuses_links(root: Path, tmp_path: Path) -> None:
    with parent_of(root, "/a/b/c", create=True) as (d, name):
        assert name == "c" and d.label == "/a/b"
    assert (root / "a/b").is_dir() and not (root / "a/b").is_symlink()
    sentinel = Sentinel.dir(tmp_path / "host")
    plant(root, "a/b/l", sentinel.path)
    with (
        pytest.raises(UnsafePath, match=r"^/a/b/l: is a symlink"),
        opened(root, ("a", "b", "l", "x")),
    ):
        pass
    with (
        pytest.raises(UnsafePath, match=r"^/a/b/l: is a symlink"),
        parent_of(root, "/a/b/l/x/y", create=True),
    ):
        pass
    assert sentinel.unchanged()


def test_write_replaces_a_hard_link_instead_of_writing_through_it(
    root: Path, tmp_path: Path
) -> None:
    sentinel = Sentinel.file(tmp_path / "host")
    os.link(sentinel.path, root / "f")
    sentinel.state = sentinel._now()  # its link count now includes the cell's
    with Dir.open(root) as d:
        d.write_file("f", b"new\n", 0o600)
    assert (root / "f").read_text() == "new\n"
    assert sentinel.path.read_text() == SECRET


def test_write_replaces_a_final_link_and_exclusive_refuses_one(root: Path, tmp_path: Path) -> None:
    sentinel = Sentinel.file(tmp_path / "host")
    plant(root, "f", sentinel.path)
    plant(root, "g", tmp_path / "dangling")
    with Dir.open(root) as d:
        with pytest.raises(FileExistsError):
            d.write_file("g", b"x", exclusive=True)
        d.write_file("f", b"mine\n")
    assert not (tmp_path / "dangling").exists()
    assert not (root / "f").is_symlink() and sentinel.unchanged()


def test_only_regular_files_are_read(root: Path, tmp_path: Path) -> None:
    plant_fifo(root, "fifo")
    plant(root, "link", Sentinel.file(tmp_path / "host").path)
    with Dir.open(root, "/") as d:
        with pytest.raises(UnsafePath, match=r"^/fifo: a fifo, not a regular file$"):
            d.read_bytes("fifo")
        with pytest.raises(UnsafePath, match=r"^/link: is a symlink"):
            d.read_bytes("link")
        assert d.read_bytes("missing") is None


def test_chmod_goes_through_the_descriptor_never_a_link(root: Path, tmp_path: Path) -> None:
    sentinel = Sentinel.dir(tmp_path / "host")
    plant(root, "l", sentinel.path)
    (root / "d").mkdir()
    with Dir.open(root, "/") as d:
        d.chmod("d", 0o700)
        with pytest.raises(UnsafePath, match="is a symlink"):
            d.chmod("l", 0o777)
    assert (root / "d").stat().st_mode & 0o777 == 0o700
    assert sentinel.unchanged()


def test_symlink_replaces_a_link_and_refuses_a_directory(root: Path) -> None:
    (root / "dir").mkdir()
    with Dir.open(root, "/") as d:
        d.symlink("l", "/a")
        d.symlink("l", "/b")
        assert d.readlink("l") == "/b"
        with pytest.raises(UnsafePath, match="a directory is in the way"):
            d.symlink("dir", "/c")


@pytest.mark.parametrize("fd_based", [True, False], ids=["shutil", "own-walk"])
def test_remove_tree_never_follows_links_out(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fd_based: bool
) -> None:
    monkeypatch.setattr(shutil.rmtree, "avoids_symlink_attacks", fd_based)
    sentinel = Sentinel.dir(tmp_path / "host")
    (root / "t/sub").mkdir(parents=True)
    (root / "t/sub/f").write_text("x")
    plant(root, "t/sub/out", sentinel.path)
    plant(root, "t/out", sentinel.path)
    plant(root, "top", sentinel.path)
    with Dir.open(root) as d:
        d.remove_tree("t")
        d.remove_tree("top")
        d.remove_tree("missing")
    assert os.listdir(root) == []
    assert sentinel.unchanged()
