"""Manifest loading: the malformed corpus (one expected line each) and a good set."""

from __future__ import annotations

from pathlib import Path

import pytest
from cells.mgr.loader import ManifestError, load_dir, load_files
from cells.mgr.model import Mount

DATA = Path(__file__).parent / "data"

BAD = sorted((DATA / "bad").glob("*.yaml"))


def test_corpus_is_large_enough() -> None:
    assert len(BAD) >= 40


@pytest.mark.parametrize("file", BAD, ids=lambda p: p.stem)
def test_malformed_manifest_reports_one_line(file: Path) -> None:
    first = file.read_text().splitlines()[0]
    assert first.startswith("# expect: "), f"{file.name}: first line must be '# expect: ...'"
    expected = first[len("# expect: ") :]
    with pytest.raises(ManifestError) as info:
        load_files([file])
    got = str(info.value).replace(str(file.parent) + "/", "")
    assert got == expected


def test_good_manifests_are_normalised(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        'kind: Volume\nname: www\nmode: "750"\n---\n'
        "kind: Cell\nname: web\nprofile: medium\nautostart: yes\nports: [443, 80]\n"
        "bind_addrs: ['2001:db8::0:1', 192.0.2.1]\nrlimits: {nofile: 1K}\n"
        "mounts: ['www:/var//www/:ro']\ndepends_on: [db]\n"
        "service: {command: '/usr/sbin/httpd -f', restart: 'on-failure:3',"
        " stop_timeout: 1500ms}\n"
        'healthcheck: {command: ["true"], interval: 1m}\n'
    )
    (tmp_path / "b.yml").write_text("kind: Cell\nname: db\n")
    (tmp_path / "notes.txt").write_text("not a manifest")
    desired = load_dir(tmp_path)
    assert sorted(desired.cells) == ["db", "web"]
    web = desired.cells["web"]
    assert web.ports == (80, 443)
    assert web.bind_addrs == ("192.0.2.1", "2001:db8::1")
    assert web.rlimits[0].soft == 1024 and web.rlimits[0].hard == 1024
    assert web.mounts == (Mount("www", "/var/www", "ro"),)
    assert web.service is not None
    assert web.service.command == ("/usr/sbin/httpd", "-f")
    assert (web.service.restart, web.service.max_restarts) == ("on-failure", 3)
    assert web.service.stop_timeout == 1.5
    assert web.healthcheck is not None and web.healthcheck.interval == 60.0
    assert desired.volumes["www"].mode == 0o750
    assert web.source is not None and web.source.line == 5


def test_spelling_does_not_change_the_digest(tmp_path: Path) -> None:
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "c.yaml").write_text("kind: Cell\nname: x\nports: [2, 1]\nservice: {command: a b}\n")
    (b / "c.yaml").write_text(
        "kind: Cell\nname: x\nprofile: high\nports: [1, 2]\n"
        "service: {command: [a, b], stop_timeout: 10s, restart: on-failure}\n"
    )
    assert load_dir(a).cells["x"].digest() == load_dir(b).cells["x"].digest()


def test_every_problem_is_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("kind: Cell\nname: a\nprofile: x\nports: [0]\n")
    (tmp_path / "b.yaml").write_text("kind: Cell\nname: 1\n")
    with pytest.raises(ManifestError) as info:
        load_dir(tmp_path)
    lines = str(info.value).splitlines()
    assert len(lines) == 3
    assert lines[0].endswith("a.yaml:3:10: profile: must be one of low, medium, high; got 'x'")
    assert "b.yaml:2:7: name:" in lines[2]


def test_missing_config_dir_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"config dir .* does not exist"):
        load_dir(tmp_path / "nope")


def test_stored_form_round_trips() -> None:
    from cells.mgr.model import cell_from_canonical, volume_from_canonical

    examples = Path(__file__).resolve().parents[3] / "examples"
    desired = load_dir(examples)
    assert desired.cells
    for cell in desired.cells.values():
        again = cell_from_canonical(cell.canonical())
        assert again == cell
        assert again.digest() == cell.digest()
    for vol in desired.volumes.values():
        assert volume_from_canonical(vol.canonical()) == vol
