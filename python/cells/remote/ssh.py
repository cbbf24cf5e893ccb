"""The SSH transport (paramiko): one connection to one host, used by every
remote command.

`connect(spec)` reads `~/.ssh/config` (HostName, User, Port,
IdentityFile, ProxyJump, UserKnownHostsFile), authenticates with the
agent and key files, and checks the host key strictly against the
known_hosts files: an unknown or changed key is refused with one line
that says how to accept it; nothing is ever added on its own.  A
`Session` runs commands (`run`, streaming; `capture`, buffered), sends
SIGINT to a command on Ctrl-C, opens SFTP, and turns a dropped connection
into `ConnectionDropped`.  Callers: cells.remote.run, cells.remote.staging,
cells.remote.bridge.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import logging
import os
import select
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, cast

from cells.errors import CellsError

if TYPE_CHECKING:
    import paramiko

CONNECT_TIMEOUT = 15.0
#: After Ctrl-C, how long the command has to exit on SIGINT before the
#: channel is closed.
INTERRUPT_GRACE = 5.0
#: TCP keepalive: a silent peer is given up after about IDLE + INTERVAL * COUNT s.
KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_COUNT = 15, 5, 3
DEFAULT_PORT = 22


class RemoteError(CellsError):
    """The host cannot be reached, or the connection failed."""


class HostKeyError(RemoteError):
    """The host's key is unknown or differs from known_hosts."""


class ConnectionDropped(RemoteError):
    """The connection went away while a command ran."""


@dataclass(frozen=True)
class Target:
    """Where to connect, after ~/.ssh/config."""

    spec: str
    hostname: str
    port: int
    user: str | None
    identity_files: tuple[str, ...] = ()
    proxy_jump: str | None = None
    known_hosts: tuple[str, ...] = ()

    @property
    def key_name(self) -> str:
        """The name known_hosts files the host's key under."""
        return self.hostname if self.port == DEFAULT_PORT else f"[{self.hostname}]:{self.port}"

    @property
    def shown(self) -> str:
        """user@host:port as the person wrote it."""
        return self.spec


def parse_spec(spec: str) -> tuple[str | None, str, int | None]:
    """`[user@]host[:port]` (IPv6 as `[addr]:port`) -> (user, host, port)."""
    user, at, rest = spec.rpartition("@")
    if not at:
        user, rest = "", spec
    port: int | None = None
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        if tail.startswith(":"):
            port = _port(spec, tail[1:])
        elif tail:
            raise RemoteError(f"bad host {spec!r}: use [user@]host[:port]")
    elif rest.count(":") == 1:
        host, _, p = rest.partition(":")
        port = _port(spec, p)
    else:
        host = rest
    if not host:
        raise RemoteError(f"bad host {spec!r}: use [user@]host[:port]")
    return user or None, host, port


def _port(spec: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise RemoteError(f"bad port in {spec!r}: use [user@]host[:port]")
    return int(text)


def ssh_config_path() -> str:
    return os.path.expanduser("~/.ssh/config")


def _import_paramiko() -> None:
    """Import paramiko without `invoke`, which it loads only to run ssh_config
    `Match exec` lines (a tenth of a second of start-up we do not spend;
    such lines then fail with paramiko's own message)."""
    if "paramiko" not in sys.modules and "invoke" not in sys.modules:
        sys.modules["invoke"] = None  # type: ignore[assignment]
        try:
            import paramiko  # noqa: F401
        finally:
            del sys.modules["invoke"]


def resolve(spec: str, config_path: str | None = None) -> Target:
    """The target of `spec` after ~/.ssh/config; what the command line says wins."""
    _import_paramiko()
    import paramiko

    user, host, port = parse_spec(spec)
    path = config_path or ssh_config_path()
    config = paramiko.SSHConfig()
    if os.path.exists(path):
        try:
            config = paramiko.SSHConfig.from_path(path)
        except (OSError, paramiko.SSHException) as e:
            raise RemoteError(f"{path}: {e}") from None
    entry = config.lookup(host)
    identity = tuple(
        os.path.expanduser(p) for p in entry.get("identityfile", []) if p and p != "none"
    )
    known = entry.get("userknownhostsfile")
    known_files = (
        tuple(os.path.expanduser(p) for p in str(known).split())
        if known
        else (os.path.expanduser("~/.ssh/known_hosts"),)
    )
    jump = entry.get("proxyjump")
    return Target(
        spec=spec,
        hostname=str(entry.get("hostname", host)),
        port=port or int(entry.get("port", DEFAULT_PORT)),
        user=user or entry.get("user"),
        identity_files=identity,
        proxy_jump=None if jump in (None, "none") else str(jump),
        known_hosts=(*known_files, "/etc/ssh/ssh_known_hosts"),
    )


def fingerprint(key: paramiko.PKey) -> str:
    """OpenSSH's SHA256 fingerprint of a key, as ssh(1) shows it."""
    digest = base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode()
    return f"{key.get_name()} SHA256:{digest.rstrip('=')}"


def connect(spec: str, *, jumped: int = 0) -> Session:
    """An authenticated session with `spec`, host key checked."""
    target = resolve(spec)
    _quiet_paramiko()
    hops: list[Session] = []
    sock: Any = None
    if target.proxy_jump:
        if jumped > 8:
            raise RemoteError(f"{spec}: ProxyJump loops (more than 8 hops)")
        jumps = [j.strip() for j in target.proxy_jump.split(",") if j.strip()]
        for j, hop in enumerate(jumps):
            if j == 0:
                hops.append(connect(hop, jumped=jumped + 1))
            else:
                hops.append(_connect_via(hops[-1], hop))
        sock = _channel_to(hops[-1], target)
    try:
        return _open(target, sock, hops)
    except BaseException:
        for h in hops:
            h.close()
        raise


def _connect_via(hop: Session, spec: str) -> Session:
    target = resolve(spec)
    return _open(target, _channel_to(hop, target), [hop])


def _channel_to(hop: Session, target: Target) -> Any:
    import paramiko

    try:
        return hop.transport.open_channel(
            "direct-tcpip", (target.hostname, target.port), ("127.0.0.1", 0),
            timeout=CONNECT_TIMEOUT,
        )  # fmt: skip
    except (paramiko.SSHException, OSError) as e:
        raise RemoteError(f"cannot reach {target.spec} through {hop.target.spec}: {e}") from None


def _tcp(target: Target) -> socket.socket:
    try:
        sock = socket.create_connection((target.hostname, target.port), CONNECT_TIMEOUT)
    except OSError as e:
        why = e.strerror or str(e)
        raise RemoteError(f"cannot connect to {target.spec}: {why}") from None
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    for opt, value in (
        ("TCP_KEEPIDLE", KEEPALIVE_IDLE),
        ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", KEEPALIVE_COUNT),
    ):
        if hasattr(socket, opt):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, opt), value)
    return sock


def _open(target: Target, sock: Any, hops: list[Session]) -> Session:
    import paramiko

    client = paramiko.SSHClient()
    for path in target.known_hosts:
        if os.path.exists(path):
            try:
                client.load_system_host_keys(path)  # read-only: never written back
            except (OSError, paramiko.SSHException) as e:
                raise RemoteError(f"{path}: {e}") from None
    client.set_missing_host_key_policy(_refuse(target))
    keys = [p for p in target.identity_files if os.path.exists(p)]
    if sock is None:
        sock = _tcp(target)
    try:
        client.connect(
            target.hostname,
            port=target.port,
            username=target.user or _local_user(),
            # a list is accepted (paramiko's documentation; the stubs say str)
            key_filename=cast(Any, keys) or None,
            allow_agent=True,
            look_for_keys=not keys,
            timeout=CONNECT_TIMEOUT,
            banner_timeout=CONNECT_TIMEOUT,
            auth_timeout=CONNECT_TIMEOUT,
            sock=sock,
        )
    except HostKeyError:
        client.close()
        raise
    except paramiko.BadHostKeyException as e:
        client.close()
        raise HostKeyError(
            f"the host key of {target.key_name} has CHANGED (it offers "
            f"{fingerprint(e.key)}, known_hosts has {fingerprint(e.expected_key)}): "
            "someone may be intercepting the connection; if the host was reinstalled, "
            f"remove the old key with 'ssh-keygen -R {_quote_key(target)}' and accept the new one"
        ) from None
    except (paramiko.AuthenticationException, paramiko.SSHException) as e:
        client.close()
        if not isinstance(e, paramiko.AuthenticationException) and not _no_auth(e):
            raise RemoteError(f"cannot connect to {target.spec}: {_why(e)}") from None
        tried = ", ".join(keys) if keys else "~/.ssh/id_*"
        raise RemoteError(
            f"{target.user or _local_user()}@{target.key_name}: authentication failed "
            f"(tried the agent and {tried}); add a key with ssh-add or IdentityFile "
            "in ~/.ssh/config"
        ) from None
    except (OSError, EOFError) as e:
        client.close()
        raise RemoteError(f"cannot connect to {target.spec}: {_why(e)}") from None
    transport = client.get_transport()
    if transport is None or not transport.is_active():
        client.close()
        raise RemoteError(f"cannot connect to {target.spec}: the connection closed")
    return Session(target, client, transport, hops)


def _no_auth(e: BaseException) -> bool:
    """paramiko's way of saying it had no key at all to offer."""
    return "No authentication methods available" in str(e)


def _quote_key(target: Target) -> str:
    return target.key_name if target.port == DEFAULT_PORT else f"'{target.key_name}'"


def _local_user() -> str:
    import getpass

    return getpass.getuser()


def _why(e: BaseException) -> str:
    return (getattr(e, "strerror", None) or str(e) or type(e).__name__).splitlines()[0]


def _quiet_paramiko() -> None:
    """paramiko logs connection trouble itself; we report it as one line."""
    log = logging.getLogger("paramiko")
    if not log.handlers and not os.environ.get("CELLS_SSH_DEBUG"):
        log.addHandler(logging.NullHandler())
        log.propagate = False


def _refuse(target: Target) -> paramiko.MissingHostKeyPolicy:
    """Missing-host-key policy: refuse, and say how to accept the key."""
    import paramiko

    class Refuse(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: Any) -> None:
            t = target
            user = f"{t.user}@" if t.user else ""
            port = f"-p {t.port} " if t.port != DEFAULT_PORT else ""
            raise HostKeyError(
                f"the host key of {t.key_name} is not known ({fingerprint(key)}); if that "
                f"is the host's key, accept it with 'ssh {port}{user}{t.hostname} true' "
                f"or add it to {t.known_hosts[0]}"
            )

    return Refuse()


@dataclass
class Session:
    """One authenticated SSH connection (and the jump hosts it goes through)."""

    target: Target
    client: paramiko.SSHClient
    transport: paramiko.Transport
    hops: list[Session] = field(default_factory=list)

    def close(self) -> None:
        self.client.close()
        for hop in reversed(self.hops):
            hop.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.transport.is_active()

    def open_channel(self, command: str, *, pty: tuple[str, int, int] | None = None) -> Any:
        """A session channel running `command` (optionally on a pseudo-terminal)."""
        import paramiko

        try:
            chan = self.transport.open_session(timeout=CONNECT_TIMEOUT)
            if pty is not None:
                term, cols, rows = pty
                chan.get_pty(term=term, width=cols, height=rows)
            chan.exec_command(command)
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise self.dropped(e) from None
        return chan

    def dropped(self, e: BaseException | None = None) -> ConnectionDropped:
        why = _why(e) if e is not None else "the connection closed"
        if self.transport.get_exception() is not None:
            why = _why(self.transport.get_exception())  # type: ignore[arg-type]
        return ConnectionDropped(
            f"connection to {self.target.spec} lost ({why}); the command may have "
            "run in part there: run it again (apply resumes from its journal)"
        )

    def run(
        self,
        command: str,
        *,
        stdout: IO[bytes],
        stderr: IO[bytes],
        stdin: IO[bytes] | None = None,
        pty: tuple[str, int, int] | None = None,
        on_open: Callable[[Any], None] | None = None,
    ) -> int:
        """Run `command` on the host; stream its output; return its exit status.

        `stdin` (when given) is copied to the command until EOF.  Ctrl-C
        sends SIGINT to the command and waits INTERRUPT_GRACE seconds for
        it to exit; a second Ctrl-C, or the grace running out, sends
        SIGTERM and closes the channel (exit 130).  On a pseudo-terminal
        Ctrl-C is just a byte for the host's terminal.  A lost connection
        raises ConnectionDropped."""
        chan = self.open_channel(command if pty else with_pid(command), pty=pty)
        if on_open is not None:
            on_open(chan)
        try:
            return _Pump(self, chan, stdout, stderr, stdin, pid_header=pty is None).run()
        finally:
            chan.close()

    def kill(self, pid: int, sig: str) -> None:
        """Send `sig` to process `pid` on the host (best effort, no wait)."""
        with contextlib.suppress(Exception):
            self.transport.open_session(timeout=CONNECT_TIMEOUT).exec_command(
                f"kill -{sig} {int(pid)}"
            )

    def capture(self, command: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
        """Run `command` with its output kept: (status, stdout, stderr)."""
        out, err = io.BytesIO(), io.BytesIO()
        status = self.run(
            command, stdout=out, stderr=err, stdin=io.BytesIO(stdin) if stdin is not None else None
        )
        return status, out.getvalue(), err.getvalue()

    def sftp(self) -> paramiko.SFTPClient:
        import paramiko

        try:
            return paramiko.SFTPClient.from_transport(self.transport)  # type: ignore[return-value]
        except (paramiko.SSHException, OSError, EOFError) as e:
            raise self.dropped(e) from None


class _Pump:
    """Copy a channel's output to local streams until the command exits."""

    def __init__(
        self,
        session: Session,
        chan: Any,
        stdout: IO[bytes],
        stderr: IO[bytes],
        stdin: IO[bytes] | None,
        *,
        pid_header: bool,
    ) -> None:
        self.session, self.chan = session, chan
        self.stdout, self.stderr, self.stdin = stdout, stderr, stdin
        self.interrupted_at: float | None = None
        self.stdin_fd = _fileno(stdin)
        #: Until the header line is read: the stderr bytes that may hold it.
        self.header: bytearray | None = bytearray() if pid_header else None
        self.pid: int | None = None

    def run(self) -> int:
        chan = self.chan
        if self.stdin is not None and self.stdin_fd is None:
            # In-memory input: send it all, then EOF.
            data = self.stdin.read()
            if data:
                chan.sendall(data)
            self.stdin = None
        if self.stdin is None:
            chan.shutdown_write()
        while True:
            try:
                if self._step():
                    break
            except KeyboardInterrupt:
                if self.interrupted_at is not None:
                    return self._give_up()
                self.interrupted_at = time.monotonic()
                self._interrupt()
            if (
                self.interrupted_at is not None
                and time.monotonic() - self.interrupted_at > INTERRUPT_GRACE
            ):
                return self._give_up()
        self._drain()
        if chan.exit_status_ready() and chan.exit_status >= 0:
            return int(chan.exit_status)
        if not self.session.alive:
            raise self.session.dropped()
        if self.interrupted_at is not None:
            return 130
        raise RemoteError(
            f"the command on {self.session.target.spec} ended without an exit status "
            "(killed by a signal?)"
        )

    def _step(self) -> bool:
        """Wait for and move some data; True when the channel is done."""
        chan = self.chan
        fds: list[Any] = [chan]
        if self.stdin_fd is not None:
            fds.append(self.stdin_fd)
        if chan.eof_received and self.stdin_fd is None:
            # Output is over; only the exit status is to come.
            chan.status_event.wait(1.0)
            ready: list[Any] = []
        else:
            ready, _, _ = select.select(fds, [], [], 1.0)
        self._drain()
        if self.stdin_fd is not None and self.stdin_fd in ready:
            data = os.read(self.stdin_fd, 32768)
            if data:
                # When the command closed its input, its exit status follows.
                with contextlib.suppress(OSError):
                    chan.sendall(data)
            else:
                chan.shutdown_write()
                self.stdin_fd = None
        done = chan.closed or (chan.eof_received and chan.exit_status_ready())
        return bool(done or not self.session.alive)

    def _interrupt(self) -> None:
        """SIGINT to the command: by its pid when the wrapper told it (sshd
        refuses "signal" requests for root logins), else by the protocol."""
        if self.pid is not None:
            self.session.kill(self.pid, "INT")
        else:
            _send_signal(self.chan, "INT")

    def _give_up(self) -> int:
        if self.pid is not None:
            self.session.kill(self.pid, "TERM")
        return 130

    def _drain(self) -> None:
        chan = self.chan
        while chan.recv_ready():
            _write(self.stdout, chan.recv(65536))
        while chan.recv_stderr_ready():
            self._stderr(chan.recv_stderr(65536))
        if chan.closed and self.header:
            self._stderr(b"", final=True)

    def _stderr(self, data: bytes, *, final: bool = False) -> None:
        if self.header is None:
            _write(self.stderr, data)
            return
        self.header += data
        line, nl, rest = bytes(self.header).partition(b"\n")
        if not nl and not final and len(self.header) < 64:
            return
        self.header = None
        if nl and line.startswith(PID_TAG) and line[len(PID_TAG) :].isdigit():
            self.pid = int(line[len(PID_TAG) :])
            _write(self.stderr, rest)
        else:
            _write(self.stderr, bytes(line + nl + rest))


PID_TAG = b"cells-remote-pid "


def with_pid(command: str) -> str:
    """`command` run by sh(1) that first says its pid on stderr (taken out
    again by the pump), whatever the login shell of the user on the host."""
    import shlex

    inner = f'echo "{PID_TAG.decode()}$$" >&2 && exec {command}'
    return f"exec /bin/sh -c {shlex.quote(inner)}"


def _fileno(stream: IO[bytes] | None) -> int | None:
    if stream is None:
        return None
    try:
        return stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return None


def _write(stream: IO[bytes], data: bytes) -> None:
    if data:
        stream.write(data)
        stream.flush()


def _send_signal(chan: Any, name: str) -> None:
    """RFC 4254 6.9 "signal" request (paramiko has no call for it; OpenSSH's
    sshd delivers it to the command's process group)."""
    import paramiko
    from paramiko.common import cMSG_CHANNEL_REQUEST

    m = paramiko.Message()
    m.add_byte(cMSG_CHANNEL_REQUEST)
    m.add_int(chan.remote_chanid)
    m.add_string("signal")
    m.add_boolean(False)
    m.add_string(name)
    with contextlib.suppress(Exception):
        chan.transport._send_user_message(m)


def stdio() -> tuple[IO[bytes], IO[bytes]]:
    return sys.stdout.buffer, sys.stderr.buffer
