"""A real OpenSSH sshd on 127.0.0.1 for the remote tests.

One sshd per test session: its own host key, its own authorized_keys, a
random port, run as the current user (as root it needs the privilege
separation directory /run/sshd, which it is given).  Each test gets a
private HOME whose ~/.ssh/config names the server `cellhost` and whose
known_hosts holds its key, and a sim state on "the host" (the remote
command runs this tree's cellctl/cellmgr with CELLS_BACKEND=sim).  Without
sshd or ssh-keygen the tests are skipped with the reason.
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd", "/usr/bin/sshd")
BIN = Path(sys.executable).parent
START_TIMEOUT = 10.0


def sshd_path() -> str | None:
    for p in SSHD_CANDIDATES:
        if os.access(p, os.X_OK):
            return p
    return None


def sshd_missing() -> str | None:
    if sshd_path() is None:
        return "needs OpenSSH's sshd (apt-get install openssh-server)"
    if shutil.which("ssh-keygen") is None:
        return "needs ssh-keygen (apt-get install openssh-client)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def keygen(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
        check=True,
        timeout=30,
    )
    return path.with_suffix(".pub").read_text().strip()


@dataclass
class Sshd:
    port: int
    host_key: str  # "ssh-ed25519 AAAA..."
    client_key: Path
    dir: Path
    proc: subprocess.Popen[bytes]

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key}\n"


def start_sshd(base: Path, port: int | None = None) -> Sshd:
    base.mkdir(parents=True, exist_ok=True)
    host_pub = keygen(base / "host_ed25519")
    client_pub = keygen(base / "client_ed25519")
    (base / "authorized_keys").write_text(client_pub + "\n")
    os.chmod(base / "authorized_keys", 0o600)
    if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    sshd = sshd_path()
    assert sshd is not None
    last = ""
    for _ in range(5):
        chosen = port or free_port()
        config = base / "sshd_config"
        config.write_text(
            f"""ListenAddress 127.0.0.1
Port {chosen}
HostKey {base / "host_ed25519"}
AuthorizedKeysFile {base / "authorized_keys"}
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding yes
Subsystem sftp internal-sftp
LogLevel ERROR
"""
        )
        log = open(base / "sshd.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(config)],
            stdout=log,
            stderr=log,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", chosen), 0.5) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return Sshd(chosen, host_pub, base / "client_ed25519", base, proc)
            except OSError:
                time.sleep(0.05)
        proc.kill()
        proc.wait(5)
        last = (base / "sshd.log").read_text(errors="replace")[-400:]
    raise RuntimeError(f"sshd did not start: {last}")


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    reason = sshd_missing()
    if reason:
        pytest.skip(reason)
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.proc.terminate()
    try:
        server.proc.wait(5)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait(5)


@dataclass
class Remote:
    """The test's view: HOME with ~/.ssh, the host's cells paths, env."""

    home: Path
    host_dir: Path
    env: dict[str, str]
    sshd: Sshd

    @property
    def config_dir(self) -> Path:
        return self.host_dir / "etc"


def host_env(host_dir: Path) -> dict[str, str]:
    return {
        "CELLS_BACKEND": "sim",
        "CELLS_STATE_DIR": str(host_dir / "db"),
        "CELLS_DIR": str(host_dir / "cells"),
        "CELLS_BACKUP_DIR": str(host_dir / "backups"),
        "CELLS_SOCKET": str(host_dir / "run" / "cellmgr.sock"),
        "CELLS_QUIET": "1",
    }


def remote_command(host_dir: Path) -> str:
    """The host side: this tree's tools on the sim, with the test's paths."""
    assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in host_env(host_dir).items())
    return f"env {assigns} {shlex.quote(str(BIN))}/{{prog}}"


def write_ssh_home(home: Path, server: Sshd, *, known: bool = True, name: str = "cellhost") -> None:
    ssh = home / ".ssh"
    ssh.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(ssh / "config", "a") as f:
        f.write(
            f"Host {name}\n"
            "  HostName 127.0.0.1\n"
            f"  Port {server.port}\n"
            f"  User {getpass.getuser()}\n"
            f"  IdentityFile {server.client_key}\n\n"
        )
    if known:
        with open(ssh / "known_hosts", "a") as f:
            f.write(server.known_hosts_line())


@pytest.fixture
def remote(sshd: Sshd, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Remote:
    home = tmp_path / "home"
    host_dir = tmp_path / "host"
    (host_dir / "etc").mkdir(parents=True)
    write_ssh_home(home, sshd)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CELLS_", "SSH_AUTH_SOCK"))}
    env.update(
        HOME=str(home),
        CELLS_REMOTE_COMMAND=remote_command(host_dir),
        COLUMNS="100",
        PYTHONUNBUFFERED="1",
    )
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    return Remote(home, host_dir, env, sshd)


def tool(prog: str) -> str:
    return str(BIN / prog)


def run(
    argv: list[str], env: dict[str, str], *, input: bytes | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        argv, env=env, input=input, capture_output=True, timeout=timeout, check=False
    )
