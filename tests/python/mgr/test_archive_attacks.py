"""Hostile backups and release sets, run through cellmgr as an operator
would: each is refused with exit 1 and one line naming the member, and no
host file, cell root or base changes.  The archives come from the corpus
(tests/corpus/archives/hostile.py); good ones still round-trip."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import stat
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import hostile
import pytest
from cells import archive
from cells.cli.mgr import cli
from cells.errors import CellsError
from cells.kernel import open_kernel
from cells.mgr import backups, rootfs
from cells.mgr.apply import Manager
from cells.mgr.host import SimHost
from cells.mgr.paths import Paths
from click.testing import CliRunner, Result
from hostile import Case, Member, write, write_sums

MANIFESTS = """\
kind: Volume
name: data
---
kind: Volume
name: other
---
kind: Cell
name: web
mounts: ["data:/srv/data:rw"]
---
kind: Cell
name: db
mounts: ["other:/var/db/x:rw"]
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(cli(), list(args), env={"CELLS_QUIET": "1"})


def snapshot(top: Path) -> dict[str, tuple[object, ...]]:
    """Every entry under `top` (not following links): type, mode, links, content."""
    out: dict[str, tuple[object, ...]] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                what: object = os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                what = hashlib.sha256(p.read_bytes()).hexdigest()
            else:
                what = None
            out[str(p.relative_to(top))] = (stat.S_IFMT(st.st_mode), st.st_mode, st.st_nlink, what)
    return out


@dataclass
class Host:
    """What an attack aims at: a file and a directory of the host."""

    file: Path
    dir: Path

    def state(self) -> tuple[object, ...]:
        st = self.file.stat()
        return (self.file.read_bytes(), st.st_mode, st.st_nlink, snapshot(self.dir))


@pytest.fixture
def host(tmp_path: Path) -> Host:
    d = tmp_path / "host"
    (d / "dir").mkdir(parents=True)
    (d / "dir" / "keep").write_text("host dir file\n")
    f = d / "secret"
    f.write_text("host secret\n")
    f.chmod(0o640)
    return Host(f, d / "dir")


@pytest.fixture
def cells(paths: Paths) -> Iterator[Paths]:
    (paths.config_dir / "c.yaml").write_text(MANIFESTS)
    m = Manager(paths, open_kernel("sim", paths.state_dir), SimHost())
    assert m.apply().ok
    (paths.root("web") / "etc/app.conf").write_text("v1\n")
    (paths.volume("data") / "rows").write_text("1,2,3\n")
    yield paths
    m.close()


def make_backup(paths: Paths) -> tuple[str, Path]:
    made = run("backup", "create", "web")
    assert made.exit_code == 0, made.stderr
    backup_id = made.stdout.strip()
    return backup_id, paths.backup_dir / backup_id


def assert_refused(result: Result, *needles: str) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    # One error line; off a terminal a long step also names itself first.
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("cellmgr: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], result.stderr
    assert all(line.startswith("cellmgr: ") for line in lines), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in errors[0], result.stderr


# -- backups -------------------------------------------------------------


#: Case names, for test ids; the cases themselves need the test's host paths.
BACKUP_CASES = [c.name for c in hostile.cases(Path("/h"), Path("/d")) if "backup" in c.hostile_to]
SET_CASES = [c.name for c in hostile.cases(Path("/h"), Path("/d")) if "set" in c.hostile_to]


def case(host: Host, name: str) -> Case:
    return next(c for c in hostile.cases(host.file, host.dir) if c.name == name)


def test_the_corpus_covers_the_known_attacks() -> None:
    assert len(BACKUP_CASES) >= 17 and len(SET_CASES) >= 15
    assert len(set(BACKUP_CASES)) == len(BACKUP_CASES)


@pytest.mark.parametrize("where", ["overlay", "volume"])
@pytest.mark.parametrize("name", BACKUP_CASES)
def test_a_hostile_backup_archive_is_refused(
    cells: Paths, host: Host, name: str, where: str
) -> None:
    backup_id, d = make_backup(cells)
    target = d / "overlay.tar.gz" if where == "overlay" else d / "volumes" / "data.tar.gz"
    hostile_case = case(host, name)
    write(hostile_case.members, target)
    before = (host.state(), snapshot(cells.cells_dir))
    result = run("backup", "restore", backup_id, "--yes")
    assert_refused(result, target.name, repr(hostile_case.refused))
    assert (host.state(), snapshot(cells.cells_dir)) == before


def test_a_size_bomb_is_refused_at_the_cap(
    cells: Paths, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_id, d = make_backup(cells)
    write(hostile.BOMB.members, d / "overlay.tar.gz")
    assert (d / "overlay.tar.gz").stat().st_size < 64 << 10
    monkeypatch.setattr(archive, "BACKUP", archive.Policy(max_bytes=1 << 20))
    before = snapshot(cells.cells_dir)
    result = run("backup", "restore", backup_id, "--yes")
    assert_refused(result, repr(hostile.BOMB.refused), "expands beyond 1048576 bytes")
    assert snapshot(cells.cells_dir) == before


def test_too_many_members_are_refused(
    cells: Paths, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_id, d = make_backup(cells)
    write([Member(f"./f{i}") for i in range(50)], d / "overlay.tar.gz")
    monkeypatch.setattr(archive, "BACKUP", archive.Policy(max_members=20))
    result = run("backup", "restore", backup_id, "--yes")
    assert_refused(result, "'./f20'", "more than 20 members")


def test_a_link_where_a_mount_point_lives_is_refused(cells: Paths, host: Host) -> None:
    """`srv` holds the live mount /srv/data: an archive making it a link to a
    host directory once had the swap move that directory's files in."""
    backup_id, d = make_backup(cells)
    write(
        [Member("./etc", "dir", mode=0o755), Member("./srv", "symlink", target=str(host.dir))],
        d / "overlay.tar.gz",
    )
    before = (host.state(), snapshot(cells.cells_dir))
    result = run("backup", "restore", backup_id, "--yes")
    assert_refused(result, "'./srv'", "/srv/data")
    assert (host.state(), snapshot(cells.cells_dir)) == before


def rewrite_meta(d: Path, **fields: object) -> None:
    meta = json.loads((d / "meta.json").read_text())
    meta.update(fields)
    (d / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"cell": "../../../x"}, "cell '../../../x' is not a valid name"),
        ({"volumes": ["../../y"]}, "volume '../../y' is not a valid name"),
        ({"cell": "db"}, "cell 'db' is not the cell of backup"),
        ({"volumes": ["other"]}, "holds volume other, which cell web does not mount"),
        ({"volumes": "data"}, "volumes is not a list"),
        ({"id": "db-20270115T080000Z"}, "is not 'web-"),
    ],
)
def test_meta_json_cannot_aim_restore_elsewhere(
    cells: Paths, tmp_path: Path, fields: dict[str, object], needle: str
) -> None:
    backup_id, d = make_backup(cells)
    # What a hostile meta.json aims at: directories outside the cells dir,
    # and another cell's root and volume.
    for victim in (tmp_path / "x", tmp_path / "y", cells.cells_dir.parent / "y"):
        victim.mkdir(exist_ok=True)
        (victim / "precious").write_text("keep\n")
    (cells.volume("other") / "rows").write_text("other's\n")
    rewrite_meta(d, **fields)
    before = snapshot(tmp_path)
    result = run("backup", "restore", backup_id, "--yes")
    assert_refused(result, needle)
    assert snapshot(tmp_path) == before


def test_backup_ids_are_names_not_paths(cells: Paths, tmp_path: Path) -> None:
    backup_id, d = make_backup(cells)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / backup_id).mkdir(parents=True)
    (elsewhere / backup_id / "meta.json").write_text((d / "meta.json").read_text())
    os.symlink(elsewhere / backup_id, cells.backup_dir / "web-20270101T000000Z")
    for bad in ("../../x", "../elsewhere/" + backup_id, "web-20270101T000000Z", ".", ""):
        result = run("backup", "restore", bad, "--yes")
        assert_refused(result, "see 'cellmgr backup list'")
        assert run("backup", "delete", bad, "--yes").exit_code == 1
    assert (elsewhere / backup_id / "meta.json").exists()


def test_good_backups_round_trip_links_and_modes(cells: Paths) -> None:
    root = cells.root("web")
    (root / "etc/private").mkdir(mode=0o700)
    (root / "etc/private").chmod(0o700)
    (root / "etc/private/key").write_text("k\n")
    (root / "etc/private/key").chmod(0o600)
    os.link(root / "etc/private/key", root / "etc/private/key2")
    os.symlink("private/key", root / "etc/rel-link")
    os.symlink("/etc/private/key", root / "etc/abs-link")
    (root / "tmp/stale").write_text("x")
    want = snapshot(root)
    backup_id, _ = make_backup(cells)
    (root / "etc/private/key").write_text("changed\n")
    (root / "etc/rel-link").unlink()
    (root / "etc/extra").write_text("later\n")
    (cells.volume("data") / "rows").write_text("changed\n")
    result = run("backup", "restore", backup_id, "--yes")
    assert result.exit_code == 0, result.stderr
    assert snapshot(root) == want
    assert os.readlink(root / "etc/localtime").startswith("/usr/share/zoneinfo/")
    assert (root / "etc/private/key").stat().st_nlink == 2
    assert (cells.volume("data") / "rows").read_text() == "1,2,3\n"


def test_backups_are_private_whatever_the_umask(cells: Paths) -> None:
    old = os.umask(0)
    try:
        _, d = make_backup(cells)
    finally:
        os.umask(old)
    for p in (cells.backup_dir, d, d / "volumes"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700, p
    files = [p for p in d.rglob("*") if p.is_file()]
    assert len(files) == 4
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_backup_never_follows_a_link_swapped_into_a_shared_volume(cells: Paths, host: Host) -> None:
    """Another (running) cell mounting the same volume flips a directory and
    a link to a host directory while web is backed up: the host's files
    must never enter the archive (a restore would hand them to the cell).
    The race is won often within the time bound on a walker that lstats,
    then lists by path."""
    vol = cells.volume("data")
    (host.dir / "secret-file").write_text("host secret\n")
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                (vol / "d").mkdir()
                (vol / "d" / "x").write_text("x")
                (vol / "d").rename(vol / "old")
                (vol / "d").symlink_to(host.dir)
                (vol / "d").unlink()
                shutil.rmtree(vol / "old")

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    out = cells.backup_dir / "race"
    out.mkdir(parents=True)
    runs, deadline = 0, time.monotonic() + 2.0
    try:
        while time.monotonic() < deadline:
            dest = out / f"{runs}.tar.gz"
            try:
                backups._tar(vol, dest, set())  # what create does for each volume
            except (CellsError, OSError):
                dest.unlink(missing_ok=True)
                continue  # the tree changed under the walk: a refusal is fine
            runs += 1
            with tarfile.open(dest) as tar:
                names = tar.getnames()
            assert not [n for n in names if "secret" in n or "keep" in n], names
            dest.unlink()
    finally:
        stop.set()
        flipper.join(timeout=5)
        sys.setswitchinterval(old_interval)
    assert runs > 10


def test_create_leaves_out_fifos_and_set_id_bits(cells: Paths) -> None:
    root = cells.root("web")
    os.mkfifo(root / "var/pipe")
    (root / "root/tool").write_text("#!/bin/sh\n")
    (root / "root/tool").chmod(0o4755)
    backup_id, _ = make_backup(cells)
    result = run("backup", "restore", backup_id, "--yes")
    assert result.exit_code == 0, result.stderr
    assert not os.path.lexists(root / "var/pipe")
    assert stat.S_IMODE((root / "root/tool").stat().st_mode) == 0o755


# -- release sets --------------------------------------------------------


def good_set(path: Path, *extra: Member) -> Path:
    """A small set: etc.tgz holds etc/passwd, any other set bin/sh."""
    file = (
        Member("./etc/passwd", data=b"root:*:0:0::/root:/bin/sh\n")
        if path.name.startswith("etc.")
        else Member("./bin/sh", data=b"#!sh", mode=0o555)
    )
    return write(
        [
            Member("./", "dir", mode=0o755),
            Member("./etc", "dir", mode=0o755),
            Member("./bin", "dir", mode=0o755),
            file,
            *extra,
        ],
        path,
    )


def bootstrap(sets: Path | str, *more: str) -> Result:
    return run(
        "bootstrap",
        "--no-module",
        "--release",
        "10.1",
        "--arch",
        "amd64",
        "--sets",
        str(sets),
        *more,
    )


@pytest.fixture
def sets(tmp_path: Path) -> Path:
    d = tmp_path / "sets"
    d.mkdir()
    good_set(d / "etc.tgz")
    return d


MARKER_LINK = Case(
    "base-marker-link",
    (Member("./.cells-base.json", "symlink", target="HOST"),),
    "a set holds .cells-base.json",
)


@pytest.mark.parametrize("name", [*SET_CASES, MARKER_LINK.name])
def test_a_hostile_set_is_refused(paths: Paths, host: Host, sets: Path, name: str) -> None:
    """The marker case: a set planting a link where cellmgr writes its base
    marker made that write land on the host file."""
    base = paths.base("10.1", "amd64")
    if name == MARKER_LINK.name:
        members = (Member("./.cells-base.json", "symlink", target=str(host.file)),)
        needle = MARKER_LINK.refused
    else:
        members, needle = case(host, name).members, repr(case(host, name).refused)
    write(members, sets / "base.tgz")
    write_sums(sets)
    before = host.state()
    result = bootstrap(sets)
    assert_refused(result, needle)
    assert host.state() == before
    assert not base.exists() and list(base.parent.iterdir()) == []


def test_sets_keep_set_id_programs_links_and_absolute_symlinks(paths: Paths, sets: Path) -> None:
    good_set(
        sets / "base.tgz",
        Member("./usr", "dir", mode=0o755),
        Member("./usr/bin", "dir", mode=0o755),
        Member("./usr/bin/su", data=b"su", mode=0o4555),
        Member("./usr/bin/test", data=b"test", mode=0o555),
        Member("./usr/bin/[", "hardlink", target="./usr/bin/test"),
        Member("./usr/sbin", "dir", mode=0o755),
        Member("./usr/sbin/rmt", data=b"rmt", mode=0o555),
        Member("./etc/rmt", "symlink", target="/usr/sbin/rmt"),
    )
    write_sums(sets)
    result = bootstrap(sets)
    assert result.exit_code == 0, result.stderr
    base = paths.base("10.1", "amd64")
    assert stat.S_IMODE((base / "usr/bin/su").stat().st_mode) == 0o4555
    assert (base / "usr/bin/[").stat().st_ino == (base / "usr/bin/test").stat().st_ino
    assert os.readlink(base / "etc/rmt") == "/usr/sbin/rmt"
    assert json.loads((base / ".cells-base.json").read_text()) == {"sets": ["base", "etc"]}


def test_bases_are_out_of_host_users_reach(paths: Paths, sets: Path) -> None:
    good_set(sets / "base.tgz")
    write(
        [
            Member("./", "dir", mode=0o777),
            Member("./etc", "dir", mode=0o755),
            Member("./etc/passwd"),
        ],
        sets / "etc.tgz",
    )
    write_sums(sets)
    old = os.umask(0)
    try:
        result = bootstrap(sets)
    finally:
        os.umask(old)
    assert result.exit_code == 0, result.stderr
    base = paths.base("10.1", "amd64")
    assert stat.S_IMODE(base.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(base.stat().st_mode) == 0o755


def test_an_unreadable_archive_is_one_line(cells: Paths) -> None:
    backup_id, d = make_backup(cells)
    (d / "overlay.tar.gz").write_bytes(b"\x1f\x8b" + bytes(range(256)) * 4)
    before = snapshot(cells.cells_dir)
    assert_refused(run("backup", "restore", backup_id, "--yes"), "overlay.tar.gz: not a readable")
    hostile.pax_chain(d / "overlay.tar.gz")
    assert_refused(run("backup", "restore", backup_id, "--yes"), "overlay.tar.gz: not a readable")
    assert snapshot(cells.cells_dir) == before


def test_a_set_that_differs_from_sha512_is_refused(paths: Paths, sets: Path) -> None:
    good_set(sets / "base.tgz")
    write_sums(sets)
    good_set(sets / "base.tgz", Member("./etc/backdoor", data=b"x"))
    result = bootstrap(sets)
    assert_refused(result, "set base.tgz: SHA512 mismatch")
    assert not paths.base("10.1", "amd64").exists()
    uri = bootstrap(sets.as_uri())
    assert_refused(uri, "set base.tgz: SHA512 mismatch")


def test_a_set_missing_from_sha512_is_refused(paths: Paths, sets: Path) -> None:
    good_set(sets / "base.tgz")
    write_sums(sets)
    lines = (sets / "SHA512").read_text().splitlines(keepends=True)
    (sets / "SHA512").write_text("".join(x for x in lines if "(base.tgz)" not in x))
    assert_refused(bootstrap(sets), "set base.tgz: not listed in", "--no-verify")
    (sets / "SHA512").unlink()
    assert_refused(bootstrap(sets), "no SHA512 at", "--no-verify")
    assert not paths.base("10.1", "amd64").exists()


@pytest.fixture
def http_sets(sets: Path) -> Iterator[str]:
    """The sets directory served over http on 127.0.0.1 (a thread, stopped after)."""
    handler = functools.partial(QuietHandler, directory=str(sets))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def test_sets_over_http_are_verified_and_capped(
    paths: Paths, sets: Path, http_sets: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    good_set(sets / "base.tgz")
    write_sums(sets)
    good_set(sets / "base.tgz", Member("./etc/backdoor", data=b"x"))
    assert_refused(bootstrap(http_sets), "set base.tgz: SHA512 mismatch")
    cap = rootfs.MAX_SET_BYTES
    monkeypatch.setattr(rootfs, "MAX_SET_BYTES", 100)
    assert_refused(bootstrap(http_sets), "base.tgz: larger than 100 bytes")
    monkeypatch.setattr(rootfs, "MAX_SET_BYTES", cap)
    write_sums(sets)
    result = bootstrap(http_sets)
    assert result.exit_code == 0, result.stderr
    assert (paths.base("10.1", "amd64") / "etc/backdoor").exists()


def test_sets_over_plain_http_warn_and_a_trusted_sha512_catches_tampering(
    paths: Paths, sets: Path, http_sets: str, tmp_path: Path
) -> None:
    """Over plain http whoever is in the middle can replace a set and the
    SHA512 file beside it; a SHA512 file from a trusted place still sees it."""
    good_set(sets / "base.tgz")
    write_sums(sets)
    trusted = tmp_path / "trusted.SHA512"
    trusted.write_text((sets / "SHA512").read_text())
    # The man in the middle: a backdoored set and a SHA512 file to match.
    good_set(sets / "base.tgz", Member("./etc/backdoor", data=b"x"))
    write_sums(sets)
    fooled = bootstrap(http_sets)
    assert fooled.exit_code == 0, fooled.stderr
    assert "is plain http/ftp: its SHA512 file comes the same way" in fooled.stderr
    shutil.rmtree(paths.base("10.1", "amd64"))
    assert_refused(bootstrap(http_sets, "--sha512", str(trusted)), "set base.tgz: SHA512 mismatch")
    assert not paths.base("10.1", "amd64").exists()
    both = bootstrap(http_sets, "--sha512", str(trusted), "--no-verify")
    assert both.exit_code == 2 and "contradict" in both.stderr  # a usage error


def test_no_verify_imports_with_a_warning(paths: Paths, sets: Path) -> None:
    good_set(sets / "base.tgz")
    result = bootstrap(sets, "--no-verify")
    assert result.exit_code == 0, result.stderr
    assert "cellmgr: warning: --no-verify: the sets from" in result.stderr
    assert (paths.base("10.1", "amd64") / "bin/sh").exists()


def test_extraction_needs_no_tarfile_filters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian 12's Python 3.11.2 has no extraction filters: nothing here
    may call tarfile's own extraction."""
    import tarfile

    def absent(*a: object, **k: object) -> None:
        raise AssertionError("tarfile extraction used")

    for name in ("extract", "extractall", "_extract_member", "_extract_one"):
        monkeypatch.setattr(tarfile.TarFile, name, absent, raising=False)
    for name in ("data_filter", "tar_filter", "fully_trusted_filter"):
        monkeypatch.delattr(tarfile, name, raising=False)
    src = good_set(tmp_path / "s.tgz", Member("./etc/l", "symlink", target="passwd"))
    (tmp_path / "out").mkdir()
    names = archive.extract(src, tmp_path / "out", archive.RELEASE_SET)
    assert names == [".", "./etc", "./bin", "./bin/sh", "./etc/l"]
    assert os.readlink(tmp_path / "out/etc/l") == "passwd"


def test_backups_module_uses_the_one_extractor() -> None:
    text = Path(backups.__file__).read_text()
    assert "extractall" not in text and "archive.extract(" in text
