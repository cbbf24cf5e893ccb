"""Attacks on mount targets, root seeding, /dev and volumes by planted links.

NetBSD effects are asserted as the argv a fake runner records (it keeps a
mount table that the "mounts" change); the sim ones through real apply.
After each attack the sentinel outside the cell is unchanged, and no mount
command ran on a path that leads through a symlink.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from cells.errors import CellsError
from cells.mgr import rootfs, volumes
from cells.mgr.host import NetbsdHost, SimHost
from cells.mgr.model import Volume, cell_from_doc
from cells.mgr.paths import Paths

CORPUS = Path(__file__).resolve().parents[2] / "corpus" / "planted"
sys.path.insert(0, str(CORPUS))

from planted import Sentinel, plant  # noqa: E402


class FakeNetbsd:
    """A runner: records argv (and cwd), keeps a mount table."""

    def __init__(self, table: Sequence[str] = ()) -> None:
        self.calls: list[list[str]] = []
        self.cwds: list[Path | None] = []
        self.table = list(table)
        self.on_mount: Callable[[list[str]], None] | None = None

    def __call__(self, argv: Sequence[str], cwd: Path | None = None) -> tuple[int, str]:
        argv = list(argv)
        self.calls.append(argv)
        self.cwds.append(cwd)
        if argv[0] == "/sbin/mount":
            return 0, "\n".join(f"x on {p} type null (local)" for p in self.table)
        if argv[0] in ("/sbin/mount_null", "/sbin/mount_tmpfs"):
            if self.on_mount is not None:
                self.on_mount(argv)
            else:
                self.table.append(argv[-1])
        if argv[0] == "/sbin/umount" and argv[-1] in self.table:
            self.table.remove(argv[-1])
        return 0, ""

    def ran(self, prog: str) -> list[list[str]]:
        return [c for c in self.calls if c[0] == prog]


def cell(*mounts: str) -> object:
    return cell_from_doc({"kind": "Cell", "name": "c", "mounts": list(mounts)})


def setup(paths: Paths) -> tuple[Path, Path]:
    root, vol = paths.root("c"), paths.volume("data")
    root.mkdir(parents=True)
    vol.mkdir(parents=True)
    return root, vol


# -- mount targets ---------------------------------------------------------------


def test_target_whose_parent_is_a_symlink_is_not_mounted_through(
    paths: Paths, tmp_path: Path
) -> None:
    root, _ = setup(paths)
    sentinel = Sentinel.dir(tmp_path / "host" / "srv")
    plant(root, "srv", sentinel.path)
    run = FakeNetbsd()
    with pytest.raises(CellsError) as info:
        volumes.sync_mounts(paths, NetbsdHost(run), cell("data:/srv/www:rw"), [])  # type: ignore[arg-type]
    assert str(info.value) == (
        "cell c: mount data:/srv/www:rw: /srv: is a symlink; refusing to follow it"
    )
    assert run.ran("/sbin/mount_null") == []
    assert sentinel.unchanged()


def test_target_whose_parent_is_a_symlink_on_the_sim(paths: Paths, tmp_path: Path) -> None:
    root, _ = setup(paths)
    sentinel = Sentinel.dir(tmp_path / "host" / "srv")
    plant(root, "srv", sentinel.path)
    with pytest.raises(CellsError, match="/srv: is a symlink"):
        volumes.sync_mounts(paths, SimHost(), cell("data:/srv/www:rw"), [])  # type: ignore[arg-type]
    assert sentinel.unchanged()


def test_symlink_target_is_not_taken_as_mounted(paths: Paths, tmp_path: Path) -> None:
    root, _ = setup(paths)
    sentinel = Sentinel.dir(tmp_path / "host" / "www")
    plant(root, "www", sentinel.path)
    # A stale entry for the path (mounted once, then replaced by a link).
    run = FakeNetbsd([str(root / "www")])
    with pytest.raises(CellsError, match=r"mount data:/www:rw: /www: is a symlink"):
        volumes.sync_mounts(paths, NetbsdHost(run), cell("data:/www:rw"), [])  # type: ignore[arg-type]
    assert run.ran("/sbin/mount_null") == []
    assert sentinel.unchanged()


def test_symlink_target_is_not_taken_as_mounted_on_the_sim(paths: Paths, tmp_path: Path) -> None:
    root, _ = setup(paths)
    sentinel = Sentinel.dir(tmp_path / "host" / "www")
    plant(root, "www", sentinel.path)
    with pytest.raises(CellsError, match="/www: is a symlink"):
        volumes.sync_mounts(paths, SimHost(), cell("data:/www:rw"), [])  # type: ignore[arg-type]
    assert sentinel.unchanged()


def test_mount_behind_a_symlinked_parent_is_never_unmounted(paths: Paths, tmp_path: Path) -> None:
    root, _ = setup(paths)
    host_dir = tmp_path / "host"
    (host_dir / "www").mkdir(parents=True)
    plant(root, "srv", host_dir)
    # The host has something mounted where the link leads.
    run = FakeNetbsd([str(root / "srv" / "www"), str(host_dir / "www")])
    volumes.sync_mounts(paths, NetbsdHost(run), cell(), ["data:/srv/www:rw"])  # type: ignore[arg-type]
    volumes.unmount_all(paths, NetbsdHost(run), "c", ["data:/srv/www:rw"])
    assert run.ran("/sbin/umount") == []


def test_mount_that_lands_behind_a_swapped_in_link_is_undone(paths: Paths, tmp_path: Path) -> None:
    root, _ = setup(paths)
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    run = FakeNetbsd()

    def race(argv: list[str]) -> None:
        # The cell swaps the verified directory for a link just before the
        # kernel resolves the path: the mount lands on the host directory.
        (root / "www").rmdir()
        plant(root, "www", host_dir)
        run.table.append(str(host_dir))

    run.on_mount = race
    with pytest.raises(CellsError, match="/www: changed while it was mounted; unmounted it"):
        volumes.sync_mounts(paths, NetbsdHost(run), cell("data:/www:rw"), [])  # type: ignore[arg-type]
    assert run.ran("/sbin/umount") == [["/sbin/umount", str(host_dir)]]
    assert run.table == []


# -- the root: seeding, /tmp, /dev -----------------------------------------------


@pytest.mark.parametrize("planted", ["etc", "tmp"])
def test_root_seeding_does_not_follow_a_planted_dir_link(
    paths: Paths, tmp_path: Path, planted: str
) -> None:
    root = paths.root("c")
    root.mkdir(parents=True)
    sentinel = Sentinel.dir(tmp_path / "host" / planted)
    plant(root, planted, sentinel.path)
    with pytest.raises(CellsError) as info:
        rootfs.build_root(paths, SimHost(), cell())  # type: ignore[arg-type]
    assert str(info.value) == f"cell c: root: /{planted}: is a symlink; refusing to follow it"
    assert sentinel.unchanged()


def test_seeded_file_is_not_written_through_a_dangling_link(paths: Paths, tmp_path: Path) -> None:
    root = paths.root("c")
    (root / "etc").mkdir(parents=True)
    outside = tmp_path / "host" / "myname"
    outside.parent.mkdir()
    plant(root, "etc/myname", outside)
    rootfs.build_root(paths, SimHost(), cell())  # type: ignore[arg-type]
    assert not outside.exists()


def test_dev_that_is_a_symlink_is_not_mounted_over(paths: Paths, tmp_path: Path) -> None:
    root = paths.root("c")
    root.mkdir(parents=True)
    sentinel = Sentinel.dir(tmp_path / "host" / "dev")
    plant(root, "dev", sentinel.path)
    run = FakeNetbsd()
    host = NetbsdHost(run)
    host.makedev = tmp_path / "MAKEDEV"
    host.makedev.write_text("#!/bin/sh\n")
    with pytest.raises(CellsError, match="cell c: root: /dev: is a symlink"):
        rootfs.build_root(paths, host, cell())  # type: ignore[arg-type]
    assert run.ran("/sbin/mount_tmpfs") == [] and run.ran("/bin/sh") == []
    assert sentinel.unchanged()


def test_makedev_does_not_run_when_the_dev_mount_landed_elsewhere(
    paths: Paths, tmp_path: Path
) -> None:
    root = paths.root("c")
    root.mkdir(parents=True)
    host_dir = tmp_path / "host"
    host_dir.mkdir()
    run = FakeNetbsd()

    def race(argv: list[str]) -> None:
        if argv[0] == "/sbin/mount_tmpfs":
            (root / "dev").rmdir()
            plant(root, "dev", host_dir)
            run.table.append(str(host_dir))

    run.on_mount = race
    host = NetbsdHost(run)
    host.makedev = tmp_path / "MAKEDEV"
    host.makedev.write_text("#!/bin/sh\n")
    with pytest.raises(CellsError, match="/dev: changed while it was mounted; unmounted it"):
        rootfs.build_root(paths, host, cell())  # type: ignore[arg-type]
    assert run.ran("/bin/sh") == []
    assert run.ran("/sbin/umount") == [["/sbin/umount", str(host_dir)]]
    assert list(host_dir.iterdir()) == []


def test_dev_on_the_sim_does_not_touch_through_links(paths: Paths, tmp_path: Path) -> None:
    root = paths.root("c")
    (root / "dev").mkdir(parents=True)
    outside = tmp_path / "host" / "null"
    outside.parent.mkdir()
    plant(root, "dev/null", outside)
    rootfs.build_root(paths, SimHost(), cell())  # type: ignore[arg-type]
    assert not outside.exists()


def test_makedev_runs_without_a_shell_in_the_dev_dir(tmp_path: Path) -> None:
    dev = tmp_path / "we ird; touch pwned" / "dev"
    dev.mkdir(parents=True)
    run = FakeNetbsd()
    host = NetbsdHost(run)
    host.makedev = tmp_path / "MAKEDEV"
    host.makedev.write_text("#!/bin/sh\necho made\n")
    host.make_dev(dev)
    assert run.calls == [
        ["/sbin/mount_tmpfs", "-s", "1m", "-m", "0755", "tmpfs", str(dev)],
        ["/bin/sh", "./MAKEDEV", "-M", "std"],
    ]
    assert run.cwds == [None, dev]
    assert (dev / "MAKEDEV").read_text() == "#!/bin/sh\necho made\n"


# -- volumes ----------------------------------------------------------------------


def test_volume_that_is_a_symlink_is_not_chmod_through(paths: Paths, tmp_path: Path) -> None:
    sentinel = Sentinel.dir(tmp_path / "host" / "vol")
    paths.volume("data").parent.mkdir(parents=True)
    plant(paths.volume("data").parent, "data", sentinel.path)
    with pytest.raises(CellsError, match=r"volume data: /.*/data: is a symlink"):
        volumes.ensure_volume(paths, Volume(name="data", mode=0o777))
    assert sentinel.unchanged()


def _can_mount(tmp_path: Path) -> str | None:
    if os.geteuid() != 0 or not sys.platform.startswith("linux"):
        return "needs root on Linux to make a real (tmpfs) mount"
    probe = tmp_path / "probe"
    probe.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "none", str(probe)], check=False).returncode:
        return "mount(8) is not permitted here"
    subprocess.run(["umount", str(probe)], check=True)
    return None


def test_a_real_mount_on_the_verified_directory_passes_the_check_after(
    paths: Paths, tmp_path: Path
) -> None:
    reason = _can_mount(tmp_path)
    if reason:
        pytest.skip(reason)
    root, _ = setup(paths)
    run = FakeNetbsd()
    made: list[str] = []

    def really(argv: list[str]) -> None:
        subprocess.run(["mount", "-t", "tmpfs", "none", argv[-1]], check=True, timeout=10)
        made.append(argv[-1])
        run.table.append(argv[-1])

    run.on_mount = really
    try:
        volumes.sync_mounts(paths, NetbsdHost(run), cell("data:/srv/www:rw"), [])  # type: ignore[arg-type]
        assert made == [str(root / "srv" / "www")]
        assert run.ran("/sbin/umount") == []
    finally:
        for m in made:
            subprocess.run(["umount", m], check=False, timeout=10)
