"""The NetBSD host effects, asserted as the exact argv they would run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from cells.errors import BackendError
from cells.mgr.bootstrap import ensure_module
from cells.mgr.host import NetbsdHost


class Recorder:
    def __init__(self, replies: dict[str, tuple[int, str]] | None = None) -> None:
        self.calls: list[list[str]] = []
        self.replies = replies or {}

    def __call__(self, argv: Sequence[str], cwd: Path | None = None) -> tuple[int, str]:
        self.calls.append(list(argv))
        return self.replies.get(argv[0], (0, ""))


def test_mounts(tmp_path: Path) -> None:
    rec = Recorder()
    host = NetbsdHost(rec)
    host.mount_base(Path("/var/cells/base/10.1-amd64/usr"), tmp_path / "usr")
    host.mount_volume(Path("/var/cells/volumes/www"), tmp_path / "www", True)
    host.mount_volume(Path("/var/cells/volumes/db"), tmp_path / "db", False)
    host.unmount(tmp_path / "db")
    assert rec.calls == [
        ["/sbin/mount_null", "-o", "ro", "/var/cells/base/10.1-amd64/usr", f"{tmp_path}/usr"],
        ["/sbin/mount_null", "-o", "ro", "/var/cells/volumes/www", f"{tmp_path}/www"],
        ["/sbin/mount_null", "/var/cells/volumes/db", f"{tmp_path}/db"],
        ["/sbin/umount", f"{tmp_path}/db"],
    ]


def test_is_mounted_reads_mount_output() -> None:
    rec = Recorder(
        {
            "/sbin/mount": (
                0,
                "/dev/wd0a on / type ffs (local)\n"
                "/b/usr on /var/cells/cells/web/root/usr type null "
                "(read-only, local)",
            )
        }
    )
    host = NetbsdHost(rec)
    assert host.is_mounted(Path("/var/cells/cells/web/root/usr"))
    assert not host.is_mounted(Path("/var/cells/cells/web/root/bin"))


def test_pkg_and_exec_run_inside_the_cell_not_just_chrooted() -> None:
    rec = Recorder()
    rec.replies[NetbsdHost.cellctl[0]] = (1, "")
    host = NetbsdHost(rec)
    # ... with a clean environment: nothing of the daemon's crosses into the cell.
    ctl = [*NetbsdHost.cellctl, "--backend", "netbsd", "exec", "--clean-env", "web", "--"]
    assert not host.pkg_installed(Path("/r"), "nginx", "web")
    assert host.run_in(Path("/r"), ["/bin/sh", "-c", "true"], "web") == (1, "")
    assert rec.calls == [
        [*ctl, "/usr/sbin/pkg_info", "-q", "-e", "nginx"],
        [*ctl, "/bin/sh", "-c", "true"],
    ]
    with pytest.raises(
        BackendError, match=r"pkg_add: .* exec --clean-env web -- /usr/sbin/pkg_add nginx"
    ):
        host.pkg_add(Path("/r"), "nginx", "web")
    assert not any(c[0] == "/usr/sbin/chroot" for c in rec.calls)
    with pytest.raises(BackendError, match="runs only inside a cell"):
        host.run_in(Path("/r"), ["/bin/sh"])


def test_module_is_loaded_and_persisted_once(tmp_path: Path) -> None:
    conf = tmp_path / "modules.conf"
    conf.write_text("# modules\nsecmodel_extensions\n")
    rec = Recorder({"/sbin/modstat": (1, "")})
    host = NetbsdHost(rec)
    assert ensure_module(host, conf) == [f"added secmodel_cell to {conf}", "loaded secmodel_cell"]
    assert rec.calls == [["/sbin/modstat", "secmodel_cell"], ["/sbin/modload", "secmodel_cell"]]
    rec.replies["/sbin/modstat"] = (0, "secmodel_cell  secmodel  filesys  -  0  12  -")
    assert ensure_module(host, conf) == []
    assert conf.read_text() == "# modules\nsecmodel_extensions\nsecmodel_cell\n"


def test_failure_is_one_line_with_the_command(tmp_path: Path) -> None:
    host = NetbsdHost(Recorder({"/sbin/mount_tmpfs": (1, "mount_tmpfs: busy\n")}))
    with pytest.raises(BackendError) as info:
        host.make_dev(tmp_path / "dev")
    assert str(info.value) == (
        f"mount /dev: /sbin/mount_tmpfs -s 1m -m 0755 tmpfs {tmp_path}/dev: mount_tmpfs: busy"
    )


def test_mount_table_is_read_once_until_a_mount_changes_it(tmp_path: Path) -> None:
    table = "/b/usr on /r/usr type null (read-only, local)\ntmpfs on /r/dev type tmpfs (local)"
    rec = Recorder({"/sbin/mount": (0, table)})
    host = NetbsdHost(rec)
    assert host.is_mounted(Path("/r/usr")) and host.is_mounted(Path("/r/dev"))
    assert not host.is_mounted(Path("/r/bin"))
    assert rec.calls == [["/sbin/mount"]]
    host.mount_base(Path("/b/bin"), tmp_path / "bin")
    host.is_mounted(Path("/r/bin"))
    assert [c[0] for c in rec.calls] == ["/sbin/mount", "/sbin/mount_null", "/sbin/mount"]


def test_facts_see_a_root_whose_mounts_are_gone(tmp_path: Path) -> None:
    from cells.kernel import open_kernel
    from cells.mgr.apply import Manager
    from cells.mgr.host import SimHost
    from cells.mgr.paths import Paths

    paths = Paths(tmp_path / "e", tmp_path / "s", tmp_path / "c", tmp_path / "b", tmp_path / "k")
    paths.config_dir.mkdir()
    (paths.config_dir / "c.yaml").write_text("kind: Cell\nname: web\n")
    kernel = open_kernel("sim", paths.state_dir)
    assert Manager(paths, kernel, SimHost()).apply().ok
    # The same host as NetBSD sees it after a reboot: nothing mounted.
    rebooted = NetbsdHost(Recorder({"/sbin/mount": (0, "/dev/wd0a on / type ffs (local)")}))
    plan = Manager(paths, kernel, rebooted).plan()
    assert [a.key() for a in plan.actions] == ["cell.root web"]
    assert [str(r) for _, r in plan.drift] == ["root: missing → built"]
