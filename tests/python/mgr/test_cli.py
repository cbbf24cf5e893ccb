"""cellmgr's command line: exit codes, exact output, JSON parsed, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cells.cli.mgr import cli
from cells.mgr.paths import Paths
from click.testing import CliRunner, Result
from hostile import write_sums
from jsonschema import Draft202012Validator

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"

SMALL = """\
kind: Volume
name: data
---
kind: Cell
name: web
profile: medium
ports: [80]
mounts: ["data:/srv:rw"]
"""


def run(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli(), list(args), input=input, env={"CELLS_QUIET": "1"})


@pytest.fixture
def small(paths: Paths) -> Paths:
    (paths.config_dir / "cells.yaml").write_text(SMALL)
    return paths


def test_validate_ok_and_bad(paths: Paths) -> None:
    (paths.config_dir / "a.yaml").write_text(SMALL)
    ok = run("validate")
    assert ok.exit_code == 0 and ok.stdout == ""
    assert ok.stderr == "cellmgr: 1 cells, 1 volumes: ok\n"
    (paths.config_dir / "b.yaml").write_text("kind: Cell\nname: db\nports: [80]\n")
    bad = run("validate")
    assert bad.exit_code == 1
    assert bad.stderr.splitlines() == [
        f"{paths.config_dir}/b.yaml:3:9: ports[0]: port 80 is also reserved by cell 'web'",
        f"cellmgr: error: 1 problem in {paths.config_dir}; nothing was changed",
    ]


def test_schema_is_json_that_accepts_the_examples() -> None:
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    validator = Draft202012Validator(schema)
    docs = [d for f in sorted(EXAMPLES.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text())]
    assert len(docs) >= 4
    for doc in docs:
        validator.validate(doc)
    assert not validator.is_valid({"kind": "Cell", "name": "x", "profile": "max"})


def test_plan_human_output(small: Paths) -> None:
    result = run("plan")
    assert result.exit_code == 0
    assert result.stdout == (
        "Plan: 4 actions\n"
        "    + volume.create data  (new)\n"
        "    + cell.root     web  (new)\n"
        "    + cell.mounts   web  (new; mounts: (none) → data:/srv:rw)\n"
        "    + cell.create   web  (new)\n"
    )


def test_detailed_exitcode_json_and_second_apply(small: Paths) -> None:
    first = run("plan", "--json", "--detailed-exitcode")
    assert first.exit_code == 2
    doc = json.loads(first.stdout)
    assert [a["op"] for a in doc["actions"]][:2] == ["volume.create", "cell.root"]
    applied = run("apply", "--yes")
    assert applied.exit_code == 0, applied.stderr
    assert "    ok  cell.create web\n" in applied.stdout
    again = run("plan", "--detailed-exitcode")
    assert again.exit_code == 0
    assert again.stdout == "No changes: the host matches the manifests.\n"
    assert run("apply", "--yes").stdout == "No changes: the host matches the manifests.\n"


def test_saved_plan_applies_and_stale_plan_is_refused(small: Paths, tmp_path: Path) -> None:
    saved = tmp_path / "p.json"
    assert run("plan", "--out", str(saved)).exit_code == 0
    (small.config_dir / "cells.yaml").write_text(SMALL.replace("[80]", "[81]"))
    stale = run("apply", "--plan", str(saved))
    assert stale.exit_code == 1
    assert stale.stderr == (
        "cellmgr: error: the saved plan is stale: manifests or live state changed since it "
        "was made; run 'cellmgr plan --out FILE' again\n"
    )
    assert run("plan", "--out", str(saved)).exit_code == 0
    assert run("apply", "--plan", str(saved)).exit_code == 0
    assert run("plan", "--detailed-exitcode").exit_code == 0


def test_apply_without_yes_off_a_terminal_refuses(small: Paths) -> None:
    result = run("apply")
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "cellmgr: error: refusing to apply without --yes (stdin is not a terminal)\n"
    )


def test_status_json_and_tsv(small: Paths) -> None:
    run("apply", "--yes")
    doc = json.loads(run("status", "--json").stdout)
    (row,) = doc["cells"]
    assert (row["name"], row["state"], row["profile"], row["ports"]) == (
        "web",
        "created",
        "medium",
        [80],
    )
    tsv = run("status", "--tsv").stdout.splitlines()
    assert tsv[0].split("\t") == [
        "name",
        "state",
        "profile",
        "service",
        "health",
        "restarts",
        "procs",
        "ports",
        "age",
    ]


def test_errors_are_one_line(small: Paths) -> None:
    start = run("start", "web")
    assert start.exit_code == 1
    assert start.stderr == (
        f"cellmgr: error: no cellmgr daemon answers at {small.socket}; "
        "start it with 'cellmgr daemon' (or /etc/rc.d/cellmgr start)\n"
    )
    assert run("start").exit_code == 2
    restore = run("backup", "restore", "web-1")
    assert restore.exit_code == 1 and restore.stderr.count("\n") == 1
    assert json.loads(run("backup", "list", "--json").stdout) == {"backups": []}
    (small.config_dir / "cells.yaml").write_text("kind: Cell\nname: [x]\n")
    plan = run("plan")
    assert plan.exit_code == 1
    assert "cells.yaml:2:7: name: must be a string; got a list" in plan.stderr
    assert run("--backend", "bogus", "plan").exit_code == 2


def test_bootstrap_imports_sets(paths: Paths, tmp_path: Path) -> None:
    import io
    import tarfile

    sets = tmp_path / "sets"
    sets.mkdir()
    for name, member in (("base", "bin/sh"), ("etc", "etc/passwd")):
        with tarfile.open(sets / f"{name}.tgz", "w:gz") as tar:
            info = tarfile.TarInfo(member)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    write_sums(sets)
    result = run("bootstrap", "--release", "10.1", "--arch", "amd64", "--sets", str(sets))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{paths.base('10.1', 'amd64')}\n"
    assert "module: skipped: not NetBSD" in result.stderr
    assert "imported base, etc" in result.stderr
    again = run("bootstrap", "--release", "10.1", "--arch", "amd64", "--sets", str(sets))
    assert "already complete" in again.stderr


def test_plan_shows_a_replace_once_with_its_restart(small: Paths) -> None:
    assert run("apply", "--yes").exit_code == 0
    (small.config_dir / "cells.yaml").write_text(
        SMALL.replace("profile: medium", "profile: high\nservice: {command: /bin/true}")
    )
    result = run("plan")
    assert result.stdout == (
        "Plan: 2 actions\n"
        "  -/+ cell.replace web  (profile: medium → high; restarts service web)\n"
        "    ~ cell.record  web  (service: (none) → {command: [/bin/true], user: root, "
        "restart: on-failure, stop_timeout: 10.0, log: {facility: daemon, stdout: info, "
        "stderr: err, tag: web}})\n"
    )


def test_unusable_state_dir_is_one_line(paths: Paths, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    for args, db in (
        (["plan"], f"sim state {blocker}/db/sim.db"),
        (["apply", "--yes"], f"state database {blocker}/db/cellmgr.db"),
    ):
        result = run("--state-dir", str(blocker / "db"), *args)
        assert result.exit_code == 1
        assert result.stderr.startswith(f"cellmgr: error: cannot open the {db}: "), args
        assert result.stderr.endswith(
            "Not a directory; set --state-dir / CELLS_STATE_DIR to a writable directory\n"
        )
        assert result.stderr.count("\n") == 1


def test_cells_are_addressed_by_id_too(small: Paths) -> None:
    assert run("apply", "--yes").exit_code == 0
    cell_id = json.loads(run("status", "--json").stdout)["cells"][0]["id"]
    created = run("backup", "create", str(cell_id))
    assert created.exit_code == 0, created.stderr
    assert created.stdout.startswith("web-")
    listed = json.loads(run("backup", "list", str(cell_id), "--json").stdout)
    assert [b["cell"] for b in listed["backups"]] == ["web"]
    missing = run("backup", "create", "999")
    assert missing.exit_code == 1 and missing.stderr.count("\n") == 1


def test_apply_of_an_empty_config_dir_over_cells_is_refused(small: Paths) -> None:
    assert run("apply", "--yes").exit_code == 0
    (small.config_dir / "cells.yaml").unlink()
    checked = run("validate")
    assert checked.exit_code == 0
    assert "warning: no manifests" in checked.stderr
    for args in (["apply", "--yes"], ["apply", "--yes", "--json"]):
        refused = run(*args)
        assert refused.exit_code == 1, refused.output
        assert refused.stdout == ""
        assert refused.stderr == (
            f"cellmgr: error: no manifests in {small.config_dir}, and applying that would "
            "destroy 1 cell and forget 1 volume; check --config-dir (is it mounted?), "
            "or pass --allow-empty to remove them all\n"
        )
    status = json.loads(run("status", "--json").stdout)
    assert [c["name"] for c in status["cells"]] == ["web"]
    removed = run("apply", "--yes", "--allow-empty")
    assert removed.exit_code == 0, removed.output
    assert "ok  cell.destroy web" in removed.stdout
    assert run("apply", "--yes").exit_code == 0  # nothing applied any more: nothing to refuse


def test_a_missing_config_dir_is_an_error_for_every_reader(paths: Paths, tmp_path: Path) -> None:
    missing = tmp_path / "etc-typo"
    for verb in ("validate", "plan", "apply"):
        args = ["--config-dir", str(missing), verb] + (["--yes"] if verb == "apply" else [])
        result = run(*args)
        assert result.exit_code == 1, (verb, result.output)
        assert result.stderr == (
            f"cellmgr: error: config dir {missing} does not exist; create it or set "
            "--config-dir / CELLS_CONFIG_DIR\n"
        ), verb


def test_multi_line_file_content_keeps_one_plan_line_per_action(paths: Paths) -> None:
    cell = 'kind: Cell\nname: web\nprovision:\n  - file: {path: /etc/motd, content: "%s"}\n'
    (paths.config_dir / "cells.yaml").write_text(cell % "one\\ntwo\\n")
    assert run("apply", "--yes").exit_code == 0
    (paths.config_dir / "cells.yaml").write_text(cell % "three\\nfour\\n")
    result = run("plan")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Plan: 2 actions"
    assert len(lines) == 3, result.stdout
    assert "three\\nfour\\n" in result.stdout
