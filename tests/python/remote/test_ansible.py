"""The cells.netbsd collection driven by ansible-playbook over SSH.

ansible_connection=paramiko against the test sshd; the modules run on
"the host" with this tree's cellmgr on the sim.  One playbook checks:
check mode is the plan (changed, nothing applied, the field diff shown),
apply is changed then idempotent, a manifest edit shows as a field diff,
facts list the cells, and the kernel module task is changed once (with
stand-ins for sysctl/modload, since this is not NetBSD).  Skips when
ansible-playbook is not installed.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import BIN, Remote, host_env, run, tool

REPO = Path(__file__).resolve().parents[3]


def ansible_playbook() -> str:
    found = BIN / "ansible-playbook"
    if found.exists():
        return str(found)
    which = shutil.which("ansible-playbook")
    if which is None:
        pytest.skip("needs ansible-playbook (pip install ansible-core; in the dev extras)")
    return which


FAKE_SYSCTL = """#!/bin/sh
# sysctl -n security.models.cell.abi_version: present once "loaded"
[ -e "{state}" ] && echo 1 && exit 0
echo "sysctl: unknown variable" >&2; exit 1
"""
FAKE_MODLOAD = """#!/bin/sh
[ "$1" = secmodel_cell ] && touch "{state}" && echo "$1" >> "{log}"
"""

PLAYBOOK = """\
- hosts: cellhosts
  gather_facts: false
  environment: {env}
  vars:
    cellmgr: {cellmgr}
    manifests:
      - {{kind: Volume, name: data}}
      - {{kind: Cell, name: web, profile: medium, ports: [80], mounts: ["data:/srv:rw"]}}
  tasks:
    - name: check mode is the plan
      cells.netbsd.cells_apply: {{manifests: "{{{{ manifests }}}}", cellmgr: "{{{{ cellmgr }}}}"}}
      check_mode: true
      register: checked
    - name: apply
      cells.netbsd.cells_apply: {{manifests: "{{{{ manifests }}}}", cellmgr: "{{{{ cellmgr }}}}"}}
      register: applied
    - name: apply again
      cells.netbsd.cells_apply: {{manifests: "{{{{ manifests }}}}", cellmgr: "{{{{ cellmgr }}}}"}}
      register: again
    - name: an edit, planned with its diff
      cells.netbsd.cells_apply:
        cellmgr: "{{{{ cellmgr }}}}"
        manifests:
          - {{kind: Volume, name: data}}
          - {{kind: Cell, name: web, profile: medium, ports: [80, 443], mounts: ["data:/srv:rw"]}}
      check_mode: true
      diff: true
      register: edit
    - name: facts
      cells.netbsd.cells_facts: {{cellmgr: "{{{{ cellmgr }}}}"}}
    - name: kernel module
      cells.netbsd.cells_kmod: {{persist: true, modules_conf: "{conf}"}}
      register: kmod
    - name: kernel module again
      cells.netbsd.cells_kmod: {{persist: true, modules_conf: "{conf}"}}
      register: kmod_again
    - name: report
      ansible.builtin.copy:
        dest: "{report}"
        content: "{{{{ dict(checked=checked, applied=applied, again=again, edit=edit,
          cells=ansible_facts.cells, kmod=kmod, kmod_again=kmod_again) | to_json }}}}"
"""


def test_playbook_over_paramiko(remote: Remote, tmp_path: Path) -> None:
    playbook_bin = ansible_playbook()
    fake = tmp_path / "fakebin"
    fake.mkdir()
    state, log = tmp_path / "kmod-loaded", tmp_path / "modload.log"
    for name, text in (("sysctl", FAKE_SYSCTL), ("modload", FAKE_MODLOAD)):
        (fake / name).write_text(text.format(state=state, log=log))
        (fake / name).chmod(0o755)
    env = dict(
        host_env(remote.host_dir),
        CELLS_CONFIG_DIR=str(remote.config_dir),
        PATH=f"{fake}:/usr/bin:/bin",
    )
    report, conf = tmp_path / "report.json", tmp_path / "modules.conf"
    (tmp_path / "site.yml").write_text(
        PLAYBOOK.format(env=json.dumps(env), cellmgr=tool("cellmgr"), conf=conf, report=report)
    )
    (tmp_path / "hosts.ini").write_text(
        textwrap.dedent(
            f"""\
            [cellhosts]
            cellhost ansible_host=127.0.0.1 ansible_port={remote.sshd.port}

            [cellhosts:vars]
            ansible_connection=paramiko
            ansible_user={getpass.getuser()}
            ansible_ssh_private_key_file={remote.sshd.client_key}
            ansible_python_interpreter={sys.executable}
            ansible_remote_tmp={tmp_path / "remote-tmp"}
            """
        )
    )
    (tmp_path / "ansible.cfg").write_text("[defaults]\n")
    ansible_env = {k: v for k, v in remote.env.items() if not k.startswith(("CELLS_", "ANSIBLE_"))}
    ansible_env.update(
        ANSIBLE_COLLECTIONS_PATH=str(REPO),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_PIPELINING="True",
        ANSIBLE_CONFIG=str(tmp_path / "ansible.cfg"),
    )
    result = subprocess.run(
        [playbook_bin, "-i", str(tmp_path / "hosts.ini"), str(tmp_path / "site.yml")],
        env=ansible_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    got = json.loads(report.read_text())
    checked, applied, again, edit = got["checked"], got["applied"], got["again"], got["edit"]
    assert checked["changed"] is True and checked["plan"]["changes"] is True
    assert "results" not in checked  # check mode applied nothing ...
    assert applied["changed"] is True and applied["results"]  # ... the real run did
    assert all(r["ok"] for r in applied["results"])
    assert again["changed"] is False and again["plan"]["actions"] == []
    assert edit["changed"] is True
    assert edit["diff"]["before"] == "web.ports: [80]\n"
    assert edit["diff"]["after"] == "web.ports: [80, 443]\n"
    assert got["cells"]["web"]["profile"] == "medium"
    assert got["kmod"]["changed"] is True and got["kmod"]["loaded"] is True
    assert got["kmod_again"]["changed"] is False
    assert log.read_text() == "secmodel_cell\n"  # loaded once
    assert conf.read_text() == "secmodel_cell\n"
    # The live state is the playbook's: ports stayed [80] (the edit was a check).
    listed = run([tool("cellctl"), "list", "--json"], dict(os.environ, **host_env(remote.host_dir)))
    (web,) = json.loads(listed.stdout)["cells"]
    assert web["ports"] == [80]


def test_the_collection_builds(tmp_path: Path) -> None:
    galaxy = BIN / "ansible-galaxy"
    if not galaxy.exists():
        pytest.skip("needs ansible-galaxy (pip install ansible-core; in the dev extras)")
    source = REPO / "ansible_collections" / "cells" / "netbsd"
    built = subprocess.run(
        [str(galaxy), "collection", "build", str(source), "--output-path", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
        env=dict(os.environ, ANSIBLE_CONFIG=str(tmp_path / "none.cfg")),
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    import tarfile

    with tarfile.open(tmp_path / "cells-netbsd-0.1.0.tar.gz") as tar:
        names = set(tar.getnames())
    for module in ("cells_apply", "cells_facts", "cells_kmod"):
        assert f"plugins/modules/{module}.py" in names
    assert "MANIFEST.json" in names and not any("tests/output" in n for n in names)
