"""Project images going in, result tars coming back."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from ci.qemu import image
from ci.qemu.errors import HarnessError
from ci.qemu.tests.fakes import results_tar


def small_tree(root: Path) -> Path:
    (root / "kmod" / "secmodel_cell").mkdir(parents=True)
    (root / "kmod" / "secmodel_cell" / "Makefile").write_text("KMOD=secmodel_cell\n")
    script = root / "ci" / "qemu" / "guest" / "cells-guest.sh"
    script.parent.mkdir(parents=True)
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    deep = root / "a" / "b" / "c" / "d" / "e" / "f" / "g" / "h" / "i"
    deep.mkdir(parents=True)
    (deep / "a_rather_long_file_name_beyond_8.3_rules.txt").write_text("deep\n")
    for junk in (
        ".venv/bin/python",
        ".git/HEAD",
        "x/__pycache__/m.pyc",
        "ci/qemu/work/10.1-amd64/wd0.img",
    ):
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("junk")
    return root


def test_project_files_skip_junk(tmp_path: Path) -> None:
    files = image.project_files(small_tree(tmp_path))
    assert "kmod/secmodel_cell/Makefile" in files
    assert "ci/qemu/guest/cells-guest.sh" in files
    assert not [f for f in files if f.startswith((".venv", ".git", "ci/qemu/work"))]
    assert not [f for f in files if "__pycache__" in f]


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
def test_project_files_in_a_git_checkout(tmp_path: Path) -> None:
    root = small_tree(tmp_path)
    shutil.rmtree(root / ".git")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("/ignored.txt\n/.venv/\n")
    (root / "ignored.txt").write_text("no")
    files = image.project_files(root)
    assert "kmod/secmodel_cell/Makefile" in files  # untracked work is shipped
    assert "ignored.txt" not in files
    assert not [f for f in files if f.startswith((".venv", "ci/qemu/work"))]


def test_tar_disk_round_trip(tmp_path: Path) -> None:
    root = small_tree(tmp_path / "tree")
    files = image.project_files(root)
    kernel = tmp_path / "netbsd-DIAGNOSTIC.gz"
    kernel.write_bytes(b"kernel")
    out = image.build_tar_disk(
        root, files, tmp_path / "p.tar", {".cells-kernel/netbsd-DIAGNOSTIC.gz": kernel}
    )
    assert out.stat().st_size % image.TAR_PAD == 0
    with tarfile.open(out) as tar:
        names = tar.getnames()
        script = tar.getmember("ci/qemu/guest/cells-guest.sh")
        assert script.mode & 0o111 and script.uid == 0
    assert set(files) <= set(names)
    assert ".cells-kernel/netbsd-DIAGNOSTIC.gz" in names


@pytest.mark.parametrize(
    ("tool", "head"),
    [
        ("xorriso", ["xorriso", "-as", "mkisofs"]),
        ("genisoimage", ["genisoimage"]),
        ("mkisofs", ["mkisofs"]),
    ],
)
def test_iso_argv(tool: str, head: list[str]) -> None:
    argv = image.iso_argv(tool, Path("/o.iso"), Path("/src"))
    assert argv[: len(head)] == head
    assert argv[len(head) :] == ["-quiet", "-R", "-V", "CELLS", "-o", "/o.iso", "/src"]


def test_iso_build_for_real(tmp_path: Path) -> None:
    tool = image.find_iso_tool()
    if tool is None:
        pytest.skip("no ISO tool: apt-get install genisoimage (or xorriso)")
    if shutil.which("isoinfo") is None:
        pytest.skip("isoinfo missing to read the ISO back: apt-get install genisoimage")
    root = small_tree(tmp_path / "tree")
    files = image.project_files(root)
    out = image.build_iso(root, files, tmp_path / "p.iso", tool, 60.0)
    listing = subprocess.run(
        ["isoinfo", "-R", "-l", "-i", str(out)], capture_output=True, text=True, check=True
    ).stdout
    assert "cells-guest.sh" in listing
    assert "a_rather_long_file_name_beyond_8.3_rules.txt" in listing
    assert "-r-xr-xr-x" in listing or "-rwxr-xr-x" in listing  # Rock Ridge modes kept
    assert "wd0.img" not in listing
    assert not (tmp_path / "p.stage").exists()


def test_iso_tool_failure_is_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "bin" / "genisoimage"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'genisoimage: boom' >&2\nexit 3\n")
    fake.chmod(0o755)
    root = small_tree(tmp_path / "tree")
    with pytest.raises(HarnessError, match=r"genisoimage failed .*: genisoimage: boom"):
        image.build_iso(root, ["kmod/secmodel_cell/Makefile"], tmp_path / "p.iso", str(fake), 10.0)


def test_tar_disk_is_plain_ustar_and_refuses_overlong_names(tmp_path: Path) -> None:
    root = small_tree(tmp_path / "tree")
    out = image.build_tar_disk(root, image.project_files(root), tmp_path / "p.tar")
    with open(out, "rb") as fh:
        block = fh.read(512)
    assert block[257:263] == b"ustar\x00" and block[156:157] == b"0"
    long_dir = root / ("d" * 120) / ("e" * 120)
    long_dir.mkdir(parents=True)
    (long_dir / ("f" * 40)).write_text("x")
    with pytest.raises(HarnessError, match="use --image iso"):
        image.build_tar_disk(root, image.project_files(root), tmp_path / "q.tar")


def test_results_round_trip(tmp_path: Path) -> None:
    scratch = image.make_scratch(tmp_path / "results.img", 2)
    assert scratch.stat().st_size == 2 << 20
    with open(scratch, "r+b") as fh:  # as the guest's `tar cf /dev/rwd1d` does
        fh.write(results_tar({"cells-results/atf.tps": "x\n"}))
    names = image.read_results(scratch, tmp_path / "out")
    assert names == ["cells-results/atf.tps"]
    assert (tmp_path / "out" / "cells-results" / "atf.tps").read_text() == "x\n"


def test_blank_scratch_disk_is_an_error(tmp_path: Path) -> None:
    scratch = image.make_scratch(tmp_path / "results.img", 1)
    with pytest.raises(HarnessError, match="did not reach the save step"):
        image.read_results(scratch, tmp_path / "out")


def test_hostile_results_cannot_escape(tmp_path: Path) -> None:
    scratch = image.make_scratch(tmp_path / "results.img", 1)
    with open(scratch, "r+b") as fh:
        fh.write(results_tar({"../../escaped.txt": "gotcha"}))
    with pytest.raises(HarnessError, match="cannot read the results tar"):
        image.read_results(scratch, tmp_path / "out" / "deeper")
    assert not (tmp_path / "escaped.txt").exists()


def _as_in_python_3_11_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make tarfile look like Debian 12's Python 3.11.2: no extraction filters."""
    original = tarfile.TarFile.extractall

    def extractall(
        self: tarfile.TarFile,
        path: str = ".",
        members: object = None,
        *,
        numeric_owner: bool = False,
    ) -> None:
        original(self, path, members, numeric_owner=numeric_owner)  # type: ignore[arg-type]

    monkeypatch.setattr(tarfile.TarFile, "extractall", extractall)
    for name in ("data_filter", "tar_filter", "fully_trusted_filter"):
        monkeypatch.delattr(tarfile, name, raising=False)


def test_results_read_back_on_python_3_11_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _as_in_python_3_11_2(monkeypatch)
    scratch = image.make_scratch(tmp_path / "results.img", 2)
    with open(scratch, "r+b") as fh:
        fh.write(results_tar({"cells-results/atf.tps": "x\n", "cells-results/sub/s.txt": "s"}))
    names = image.read_results(scratch, tmp_path / "out")
    assert names == ["cells-results/atf.tps", "cells-results/sub/s.txt"]
    assert (tmp_path / "out" / "cells-results" / "sub" / "s.txt").read_text() == "s"
    assert (tmp_path / "out" / "cells-results" / "atf.tps").stat().st_mode & 0o777 == 0o644


def _tar_with(tmp_path: Path, info: tarfile.TarInfo, data: bytes = b"") -> Path:
    import io

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        ok = tarfile.TarInfo("cells-results/ok.txt")
        ok.size = 2
        tar.addfile(ok, io.BytesIO(b"ok"))
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data) if data else None)
    scratch = image.make_scratch(tmp_path / "results.img", 1)
    with open(scratch, "r+b") as fh:
        fh.write(buf.getvalue())
    return scratch


@pytest.mark.parametrize(
    ("name", "kind", "target"),
    [
        ("cells-results/link", tarfile.SYMTYPE, "/etc/passwd"),
        ("cells-results/hard", tarfile.LNKTYPE, "/etc/passwd"),
        ("cells-results/dev", tarfile.CHRTYPE, ""),
        ("cells-results/fifo", tarfile.FIFOTYPE, ""),
        ("/tmp/abs.txt", tarfile.REGTYPE, ""),
        ("cells-results/../../up.txt", tarfile.REGTYPE, ""),
    ],
)
def test_hostile_members_are_refused_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, kind: bytes, target: str
) -> None:
    _as_in_python_3_11_2(monkeypatch)
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    scratch = _tar_with(tmp_path, info, b"x" if kind == tarfile.REGTYPE else b"")
    with pytest.raises(HarnessError, match="cannot read the results tar"):
        image.read_results(scratch, tmp_path / "out" / "deeper")
    assert not (tmp_path / "out" / "deeper" / "cells-results").exists()  # nothing written
    assert not (tmp_path / "up.txt").exists()


def test_a_symlink_already_in_the_way_is_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    (out / "cells-results").symlink_to(outside)
    scratch = image.make_scratch(tmp_path / "results.img", 1)
    with open(scratch, "r+b") as fh:
        fh.write(results_tar({"cells-results/atf.tps": "x\n"}))
    # Extracted aside and moved in: the link is replaced, never followed.
    image.read_results(scratch, out)
    assert list(outside.iterdir()) == []
    assert not (out / "cells-results").is_symlink()
    assert (out / "cells-results" / "atf.tps").read_text() == "x\n"


def test_results_size_is_capped(tmp_path: Path) -> None:
    scratch = image.make_scratch(tmp_path / "results.img", 1)
    with open(scratch, "r+b") as fh:
        fh.write(results_tar({"cells-results/big": "y" * 4096}))
    with pytest.raises(HarnessError, match="beyond 1000 bytes"):
        image.read_results(scratch, tmp_path / "out", max_bytes=1000)


def _bin(tmp_path: Path, *names: str) -> Path:
    d = tmp_path / "bin"
    d.mkdir(exist_ok=True)
    for n in names:
        (d / n).write_text("#!/bin/sh\nexit 0\n")
        (d / n).chmod(0o755)
    return d


def test_anita_needs_genisoimage_or_mkisofs_not_xorriso(tmp_path: Path) -> None:
    d = _bin(tmp_path, "xorriso")
    which = lambda name: shutil.which(name, path=str(d))  # noqa: E731
    absent = str(tmp_path / "usr-bin-genisoimage")
    with pytest.raises(HarnessError, match=r"xorriso is not enough.*apt-get install genisoimage"):
        image.anita_iso_tool("Linux", genisoimage=absent, which=which)
    _bin(tmp_path, "mkisofs")
    assert image.anita_iso_tool("Linux", genisoimage=absent, which=which) == str(d / "mkisofs")
    present = _bin(tmp_path, "genisoimage") / "genisoimage"
    assert image.anita_iso_tool("Linux", genisoimage=str(present), which=which) == str(present)


def test_the_project_image_prefers_the_tool_anita_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(_bin(tmp_path, "xorriso", "genisoimage")))
    assert image.find_iso_tool() == "genisoimage"
