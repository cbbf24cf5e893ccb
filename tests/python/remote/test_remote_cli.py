"""cellctl/cellmgr --host against a real sshd: same output, same exit codes,
strict host keys, Ctrl-C, staged manifests, a dropped connection."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest

from .conftest import Remote, host_env, run, tool, write_ssh_home

WEB = """\
kind: Volume
name: data
---
kind: Cell
name: web
profile: medium
ports: [80]
mounts: ["data:/srv:rw"]
"""


def local_env(r: Remote, **extra: str) -> dict[str, str]:
    """The same tools run directly on "the host" (no SSH)."""
    env = {k: v for k, v in r.env.items() if k != "CELLS_REMOTE_COMMAND"}
    env.update(host_env(r.host_dir), **extra)
    return env


def both(r: Remote, prog: str, *args: str) -> tuple[subprocess.CompletedProcess[bytes], ...]:
    here = run([tool(prog), *args], local_env(r))
    there = run([tool(prog), "--host", "cellhost", *args], r.env)
    return here, there


def stages() -> set[str]:
    return set(glob.glob("/tmp/cellmgr-stage.*"))


def test_cellctl_output_and_exit_codes_match_a_local_run(remote: Remote, tmp_path: Path) -> None:
    root = tmp_path / "roots" / "web"
    root.mkdir(parents=True)
    create = ["create", "web", "--root", str(root), "--port", "80"]
    created = run([tool("cellctl"), "--host", "cellhost", *create], remote.env)
    assert created.returncode == 0, created.stderr
    # The same document, key for key (age, in seconds, is the one field
    # that may tick between the two runs).
    local, listed = both(remote, "cellctl", "list", "--json")
    assert listed.returncode == local.returncode == 0
    assert listed.stdout.count(b"\n") == 1  # compact: stdout is not a terminal
    assert without_age(listed.stdout) == without_age(local.stdout)
    for args in (
        ("explain", "web", "process.signal", "host"),
        ("explain", "web", "process.signal", "host", "--json"),
        ("destroy", "nosuch"),  # an error: exit 1, one line
        ("list", "--bogus"),  # a usage error: exit 2
    ):
        here, there = both(remote, "cellctl", *args)
        assert (there.returncode, there.stdout, there.stderr) == (
            here.returncode,
            here.stdout,
            here.stderr,
        ), args
    doc = json.loads(listed.stdout)
    assert [c["name"] for c in doc["cells"]] == ["web"]
    assert both(remote, "cellctl", "destroy", "nosuch")[1].returncode == 1
    assert both(remote, "cellctl", "list", "--bogus")[1].returncode == 2


def without_age(stdout: bytes) -> object:
    doc = json.loads(stdout)
    for cell in doc["cells"]:
        assert isinstance(cell.pop("age"), int)
    return doc


def test_cells_host_env_and_stdin_reach_the_host(remote: Remote) -> None:
    env = dict(remote.env, CELLS_HOST="cellhost")
    result = run([tool("cellmgr"), "schema"], env)
    assert result.returncode == 0
    assert result.stdout == run([tool("cellmgr"), "schema"], local_env(remote)).stdout


def test_unknown_host_key_is_refused_and_not_added(remote: Remote) -> None:
    known = remote.home / ".ssh" / "known_hosts"
    known.unlink()
    result = run([tool("cellctl"), "--host", "cellhost", "list"], remote.env)
    assert result.returncode == 1 and result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    port = remote.sshd.port
    assert lines[0].startswith(f"cellctl: error: the host key of [127.0.0.1]:{port} is not known")
    assert f"accept it with 'ssh -p {port} " in lines[0]
    assert "SHA256:" in lines[0]
    assert not known.exists()  # never added on its own


def test_changed_host_key_is_refused(remote: Remote, tmp_path: Path) -> None:
    other = tmp_path / "other"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True, timeout=30
    )
    known = remote.home / ".ssh" / "known_hosts"
    forged = other.with_suffix(".pub").read_text().split()[:2]
    known.write_text(f"[127.0.0.1]:{remote.sshd.port} {' '.join(forged)}\n")
    result = run([tool("cellmgr"), "--host", "cellhost", "status", "--json"], remote.env)
    assert result.returncode == 1 and result.stdout == b""
    (line,) = result.stderr.decode().splitlines()
    assert "has CHANGED" in line and "ssh-keygen -R" in line


def test_unreachable_host_is_one_line(remote: Remote) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    result = run([tool("cellctl"), "--host", f"127.0.0.1:{port}", "list"], remote.env)
    assert result.returncode == 1
    (line,) = result.stderr.decode().splitlines()
    assert line.startswith(f"cellctl: error: cannot connect to 127.0.0.1:{port}: ")


def test_plan_and_apply_use_local_manifests(remote: Remote, tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    (laptop / "web.yaml").write_text(WEB)
    before = stages()
    cfg = ("--config-dir", str(laptop))
    here, there = both(remote, "cellmgr", *cfg, "plan", "--json", "--detailed-exitcode")
    assert there.returncode == here.returncode == 2
    assert there.stdout == here.stdout and there.stderr == here.stderr
    human = both(remote, "cellmgr", *cfg, "plan")
    assert human[1].stdout == human[0].stdout and b"+ cell.create   web" in human[1].stdout

    refused = run([tool("cellmgr"), "--host", "cellhost", *cfg, "apply"], remote.env)
    assert refused.returncode == 1
    assert refused.stderr == (
        b"cellmgr: error: refusing to apply without --yes (stdin is not a terminal)\n"
    )

    saved = tmp_path / "tonight.plan"
    planned = run(
        [tool("cellmgr"), "--host", "cellhost", *cfg, "plan", "--out", str(saved)], remote.env
    )
    assert planned.returncode == 0
    assert planned.stderr.decode() == (
        f"cellmgr: plan saved to {saved}; apply it with 'cellmgr apply --plan {saved}'\n"
    )
    applied = run(
        [tool("cellmgr"), "--host", "cellhost", *cfg, "apply", "--plan", str(saved), "--json"],
        remote.env,
    )
    assert applied.returncode == 0, applied.stderr
    report = json.loads(applied.stdout)
    assert report["ok"] is True and report["actions"]
    # Converged: the host says so, locally and over SSH alike.
    here, there = both(remote, "cellmgr", *cfg, "plan", "--detailed-exitcode")
    assert here.returncode == there.returncode == 0
    assert there.stdout == b"No changes: the host matches the manifests.\n"
    again = run([tool("cellmgr"), "--host", "cellhost", *cfg, "apply", "--yes"], remote.env)
    assert again.returncode == 0 and b"No changes" in again.stdout
    assert stages() == before  # every staging directory was removed


def test_a_stale_saved_plan_is_refused(remote: Remote, tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    (laptop / "web.yaml").write_text(WEB)
    saved = tmp_path / "p.plan"
    cfg = ("--config-dir", str(laptop))
    host = ("--host", "cellhost")
    planned = run([tool("cellmgr"), *host, *cfg, "plan", "--out", str(saved)], remote.env)
    assert planned.returncode == 0
    (laptop / "web.yaml").write_text(WEB.replace("ports: [80]", "ports: [8080]"))
    stale = run([tool("cellmgr"), *host, *cfg, "apply", "--plan", str(saved)], remote.env)
    assert stale.returncode == 1
    assert stale.stderr.decode().count("\n") == 1 and b"cellmgr: error:" in stale.stderr
    listed = run([tool("cellctl"), *host, "list", "--json"], remote.env)
    assert json.loads(listed.stdout)["cells"] == []


def test_bad_manifests_name_the_local_files(remote: Remote, tmp_path: Path) -> None:
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    (laptop / "bad.yaml").write_text("kind: Cell\nname: db\nprofile: max\n")
    here, there = both(remote, "cellmgr", "--config-dir", str(laptop), "validate")
    assert there.returncode == here.returncode == 1
    assert there.stderr == here.stderr and str(laptop).encode() in there.stderr


def host_pids(host_dir: Path) -> list[int]:
    """Processes running with this test's host paths (the remote commands)."""
    needle = f"CELLS_STATE_DIR={host_dir / 'db'}".encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read().split(b"\0"):
                    pids.append(int(entry))
        except OSError:
            continue
    return pids


def wait_for(what: str, cond: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_ctrl_c_stops_the_remote_command(remote: Remote) -> None:
    proc = subprocess.Popen(
        [tool("cellctl"), "--host", "cellhost", "events", "--follow"],
        env=remote.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for("the remote command", lambda: host_pids(remote.host_dir))
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 130
    # What a local Ctrl-C shows: click's newline, then the one line.
    assert err == b"\ncellctl: interrupted\n"
    wait_for("the remote command to end", lambda: not host_pids(remote.host_dir), 10)


class Proxy:
    """A TCP relay to sshd that the test can cut, as a network would."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.port: int = self.listener.getsockname()[1]
        self.socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                a, _ = self.listener.accept()
            except OSError:
                return
            b = socket.create_connection(("127.0.0.1", self.target))
            self.socks += [a, b]
            for src, dst in ((a, b), (b, a)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        self.listener.close()
        for s in self.socks:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def test_dropped_connection_mid_apply_then_a_rerun_converges(
    remote: Remote, tmp_path: Path
) -> None:
    proxy = Proxy(remote.sshd.port)
    ssh = remote.home / ".ssh"
    with open(ssh / "config", "a") as f:
        f.write(
            f"Host flaky\n  HostName 127.0.0.1\n  Port {proxy.port}\n"
            f"  IdentityFile {remote.sshd.client_key}\n\n"
        )
    with open(ssh / "known_hosts", "a") as f:
        f.write(f"[127.0.0.1]:{proxy.port} {remote.sshd.host_key}\n")
    mark = tmp_path / "running"
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    (laptop / "cells.yaml").write_text(
        WEB
        + f"""provision:
  - exec:
      command: ["/bin/sh", "-c", "echo $PPID > {mark}; sleep 2; touch ran"]
      creates: /ran
---
kind: Cell
name: db
depends_on: [web]
"""
    )
    cfg = ("--config-dir", str(laptop))
    before = stages()
    proc = subprocess.Popen(
        [tool("cellmgr"), "--host", "flaky", *cfg, "apply", "--yes"],
        env=remote.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for("the apply to reach its provision step", mark.exists)
        proxy.cut()
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proxy.cut()
    assert proc.returncode == 1
    (line,) = err.decode().splitlines()
    assert line.startswith("cellmgr: error: connection to flaky lost")
    assert "run it again" in line
    # The host carries on or stops by itself; then the re-run converges.
    wait_for("the host's apply to end", lambda: not host_pids(remote.host_dir), 20)
    rerun = run([tool("cellmgr"), "--host", "cellhost", *cfg, "apply", "--yes"], remote.env)
    assert rerun.returncode == 0, rerun.stderr
    plan = run(
        [tool("cellmgr"), "--host", "cellhost", *cfg, "plan", "--detailed-exitcode"], remote.env
    )
    assert plan.returncode == 0, plan.stdout
    listed = run([tool("cellctl"), "--host", "cellhost", "list", "--json"], remote.env)
    names = [c["name"] for c in json.loads(listed.stdout)["cells"]]
    assert sorted(names) == ["db", "web"]
    # The cut connection could not remove its staging directory; it is private.
    for left in stages() - before:
        assert stat.S_IMODE(os.stat(left).st_mode) == 0o700
        shutil.rmtree(left)


def test_proxyjump_reaches_the_host_through_a_jump_host(remote: Remote) -> None:
    ssh = remote.home / ".ssh"
    with open(ssh / "config", "a") as f:
        f.write(
            "Host behind\n  HostName 127.0.0.1\n"
            f"  Port {remote.sshd.port}\n  ProxyJump cellhost\n"
            f"  IdentityFile {remote.sshd.client_key}\n\n"
        )
    here, there = (
        run([tool("cellctl"), "list", "--json"], local_env(remote)),
        run([tool("cellctl"), "--host", "behind", "list", "--json"], remote.env),
    )
    assert there.returncode == 0, there.stderr
    assert there.stdout == here.stdout


def test_help_shows_host(remote: Remote) -> None:
    for prog in ("cellctl", "cellmgr"):
        result = run([tool(prog), "--help"], local_env(remote))
        assert b"--host [USER@]HOST[:PORT]" in result.stdout
        assert b"CELLS_HOST" in result.stdout


def test_a_second_host_alias(remote: Remote) -> None:
    write_ssh_home(remote.home, remote.sshd, known=False, name="again")
    result = run([tool("cellctl"), "--host", "again", "list", "--json"], remote.env)
    assert result.returncode == 0


def test_apply_asks_here_and_applies_exactly_the_plan_shown(remote: Remote, tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    laptop = tmp_path / "laptop"
    laptop.mkdir()
    (laptop / "web.yaml").write_text(WEB)
    argv = ["--host", "cellhost", "--config-dir", str(laptop), "apply"]

    def ask() -> object:
        child = pexpect.spawn(tool("cellmgr"), argv, env=remote.env, timeout=20)
        child.expect(r"\+ cell\.create +web")
        child.expect_exact("Apply these actions? [y/N]: ")
        return child

    # The host changes after the plan was shown: that plan is refused.
    child = ask()
    meanwhile = tmp_path / "meanwhile"
    meanwhile.mkdir()
    (meanwhile / "v.yaml").write_text("kind: Volume\nname: data\n")
    made = run(
        [tool("cellmgr"), "--config-dir", str(meanwhile), "apply", "--yes"], local_env(remote)
    )
    assert made.returncode == 0, made.stderr
    child.sendline("y")  # type: ignore[attr-defined]
    child.expect(pexpect.EOF)  # type: ignore[attr-defined]
    child.close()  # type: ignore[attr-defined]
    assert child.exitstatus == 1  # type: ignore[attr-defined]
    assert b"cellmgr: error:" in child.before and b"plan" in child.before  # type: ignore[attr-defined]
    names = lambda: [  # noqa: E731
        c["name"] for c in json.loads(both(remote, "cellctl", "list", "--json")[0].stdout)["cells"]
    ]
    assert names() == []

    # Unchanged: yes applies it.
    child = ask()
    child.sendline("y")  # type: ignore[attr-defined]
    child.expect(r"ok  cell\.create web")  # type: ignore[attr-defined]
    child.expect(pexpect.EOF)  # type: ignore[attr-defined]
    child.close()  # type: ignore[attr-defined]
    assert child.exitstatus == 0  # type: ignore[attr-defined]
    assert names() == ["web"]


def test_keys_from_the_agent(remote: Remote, tmp_path: Path) -> None:
    agent = shutil.which("ssh-agent")
    if agent is None or shutil.which("ssh-add") is None:
        pytest.skip("needs ssh-agent and ssh-add (openssh-client)")
    sock = tmp_path / "agent.sock"
    proc = subprocess.Popen([agent, "-D", "-a", str(sock)], stdout=subprocess.DEVNULL)
    try:
        wait_for("ssh-agent", sock.exists, 10)
        env = dict(remote.env, SSH_AUTH_SOCK=str(sock))
        added = run(["ssh-add", str(remote.sshd.client_key)], env)
        assert added.returncode == 0, added.stderr
        with open(remote.home / ".ssh" / "config", "a") as f:
            f.write(f"Host byagent\n  HostName 127.0.0.1\n  Port {remote.sshd.port}\n\n")
        result = run([tool("cellctl"), "--host", "byagent", "list", "--json"], env)
        assert result.returncode == 0, result.stderr
        # Without the agent there is no key to offer: refused, in one line.
        without = run([tool("cellctl"), "--host", "byagent", "list"], remote.env)
        assert without.returncode == 1
        (line,) = without.stderr.decode().splitlines()
        assert "authentication failed" in line
    finally:
        proc.terminate()
        proc.wait(10)
