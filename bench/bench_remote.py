"""The control plane over SSH, measured against a local sshd on 127.0.0.1.

Figures (median of several runs, all in one run of this script):
- `cellctl --host H list --json` (50 sim cells) as a ratio to the same
  command run locally; and the same command over one already open
  connection (cells.remote.ssh.Session), as a ratio to a local run;
- a no-op `cellmgr --host H apply --yes` (upload, apply, clean-up over one
  connection) as a ratio to a local no-op apply;
- an ansible-playbook run (cells_apply no-op + cells_facts, paramiko
  connection, default forks) over N = 1, 2, 5, 10 hosts (one sshd port
  each), as seconds and as a ratio to N = 1.

Also OpenSSH's ssh(1) running the same remote command line, for what SSH
itself costs here (session set-up, the login shell and its rc files).
Targets: remote list <= 2x ssh(1), remote no-op apply <= 4x local.  The
Ansible figures have no target (they show how time grows with N at the
default fork count of 5).  Skips (exit 0, saying why) without sshd, and
the Ansible part without ansible-playbook.  Run by bench/run.py, or
alone: python bench/bench_remote.py.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "python"))

from remote.conftest import (  # noqa: E402  (the test suite's sshd launcher)
    BIN,
    Sshd,
    host_env,
    remote_command,
    sshd_missing,
    start_sshd,
    write_ssh_home,
)

RUNS = 7
CELLS = 50
FLEET = (1, 2, 5, 10)
TARGET = 4.0
TARGET_SSH = 2.0
FLEET_RUNS = 2

MANIFEST = "kind: Volume\nname: data\n---\nkind: Cell\nname: web\nmounts: ['data:/srv:rw']\n"


def median(argv: list[str], env: dict[str, str], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    missing = sshd_missing()
    if missing:
        print(f"bench_remote: skipped: {missing}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        return measure(Path(tmp))


def measure(tmp: Path) -> int:
    servers = [start_sshd(tmp / f"sshd{i}") for i in range(max(FLEET))]
    try:
        return _measure(tmp, servers)
    finally:
        for s in servers:
            s.proc.terminate()
            s.proc.wait(10)


def _measure(tmp: Path, servers: list[Sshd]) -> int:
    home, host = tmp / "home", tmp / "host"
    (host / "etc").mkdir(parents=True)
    (host / "etc" / "cells.yaml").write_text(MANIFEST)
    write_ssh_home(home, servers[0])
    local = dict(os.environ, **host_env(host), CELLS_CONFIG_DIR=str(host / "etc"))
    remote = dict(os.environ, HOME=str(home), CELLS_REMOTE_COMMAND=remote_command(host))
    remote.pop("SSH_AUTH_SOCK", None)
    ctl, mgr = str(BIN / "cellctl"), str(BIN / "cellmgr")
    for i in range(CELLS):
        root = host / "roots" / f"c{i}"
        root.mkdir(parents=True)
        subprocess.run(
            [ctl, "create", f"c{i}", "--root", str(root)], env=local, check=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
    subprocess.run([mgr, "apply", "--yes"], env=local, check=True, capture_output=True)

    lines = []
    ok = True
    from cells.remote.run import command_line

    list_local = median([ctl, "list", "--json"], local)
    list_remote = median([ctl, "--host", "cellhost", "list", "--json"], remote)
    # OpenSSH's client running the same command line: what SSH itself costs
    # on this machine (the session, the login shell and its rc files).
    line = command_line("cellctl", remote_command(host), ["list", "--json"])
    openssh = ["ssh", "-F", str(home / ".ssh" / "config"), "-o", "BatchMode=yes"]
    openssh += ["-o", f"UserKnownHostsFile={home / '.ssh' / 'known_hosts'}"]
    list_openssh = median([*openssh, "cellhost", line], remote)
    ratio = list_remote / list_openssh
    ok &= ratio <= TARGET_SSH
    lines.append(
        f"cellctl list --json ({CELLS} cells): local {list_local * 1000:.0f} ms, "
        f"--host {list_remote * 1000:.0f} ms (ratio {list_remote / list_local:.2f} to local), "
        f"ssh(1) {list_openssh * 1000:.0f} ms (ratio {ratio:.2f} to it, target <= "
        f"{TARGET_SSH:g})"
    )

    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    try:
        from cells.remote.ssh import connect

        with connect("cellhost") as session:
            times = []
            for _ in range(RUNS):
                start = time.perf_counter()
                session.capture(line)
                times.append(time.perf_counter() - start)
        reused = statistics.median(times)
    finally:
        if old_home is not None:
            os.environ["HOME"] = old_home
    lines.append(
        f"cellctl list --json over one open connection: {reused * 1000:.0f} ms, "
        f"ratio {reused / list_local:.2f} to local"
    )

    config = ["--config-dir", str(host / "etc")]
    apply_local = median([mgr, *config, "apply", "--yes"], local)
    apply_remote = median([mgr, "--host", "cellhost", *config, "apply", "--yes"], remote)
    ratio = apply_remote / apply_local
    ok &= ratio <= TARGET
    lines.append(
        f"cellmgr apply --yes (no-op): local {apply_local * 1000:.0f} ms, "
        f"--host {apply_remote * 1000:.0f} ms, ratio {ratio:.2f} (target <= {TARGET:g})"
    )
    lines.extend(fleet(tmp, servers))
    for text in lines:
        print(text)
    return 0 if ok else 1


def fleet(tmp: Path, servers: list[Sshd]) -> list[str]:
    playbook = BIN / "ansible-playbook"
    if not playbook.exists() and shutil.which("ansible-playbook") is None:
        return ["ansible: skipped: needs ansible-playbook (pip install ansible-core)"]
    exe = str(playbook) if playbook.exists() else str(shutil.which("ansible-playbook"))
    home = tmp / "home"
    inventory = ["[fleet]"]
    for i, s in enumerate(servers):
        h = tmp / f"fleet{i}"
        (h / "etc").mkdir(parents=True)
        write_ssh_home(home, s, name=f"unused{i}")
        env = json.dumps(dict(host_env(h), CELLS_CONFIG_DIR=str(h / "etc")))
        inventory.append(
            f"h{i} ansible_host=127.0.0.1 ansible_port={s.port} "
            f"ansible_ssh_private_key_file={s.client_key} cells_env='{env}'"
        )
    inventory += [
        "[fleet:vars]",
        "ansible_connection=paramiko",
        f"ansible_user={getpass.getuser()}",
        f"ansible_python_interpreter={sys.executable}",
        f"ansible_remote_tmp={tmp / 'remote-tmp'}",
    ]
    (tmp / "fleet.ini").write_text("\n".join(inventory) + "\n")
    (tmp / "fleet.yml").write_text(
        f"""- hosts: "{{{{ limit_hosts }}}}"
  gather_facts: false
  environment: "{{{{ cells_env }}}}"
  tasks:
    - cells.netbsd.cells_apply:
        cellmgr: {BIN / "cellmgr"}
        manifests: [{{kind: Cell, name: web}}]
    - cells.netbsd.cells_facts:
        cellmgr: {BIN / "cellmgr"}
"""
    )
    (tmp / "ansible.cfg").write_text("[defaults]\n")
    env = dict(
        os.environ,
        HOME=str(home),
        ANSIBLE_COLLECTIONS_PATH=str(REPO),
        ANSIBLE_CONFIG=str(tmp / "ansible.cfg"),
        ANSIBLE_LOCAL_TEMP=str(tmp / "local-tmp"),
        ANSIBLE_DEPRECATION_WARNINGS="False",
    )
    env.pop("SSH_AUTH_SOCK", None)

    def play(n: int) -> float:
        hosts = ",".join(f"h{i}" for i in range(n))
        argv = [exe, "-i", str(tmp / "fleet.ini"), str(tmp / "fleet.yml")]
        argv += ["-e", f"limit_hosts={hosts}"]
        start = time.perf_counter()
        subprocess.run(
            argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True
        )
        return time.perf_counter() - start

    play(max(FLEET))  # first run: creates the cells; the measured runs are no-ops
    times = {n: statistics.median(play(n) for _ in range(FLEET_RUNS)) for n in FLEET}
    parts = ", ".join(f"N={n} {t:.2f} s ({t / times[1]:.2f}x)" for n, t in times.items())
    return [f"ansible-playbook (apply no-op + facts, forks 5): {parts}"]


if __name__ == "__main__":
    sys.exit(main())
