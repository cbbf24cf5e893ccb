"""`cellmgr --host H plan|apply|validate`: local manifests, remote host.

The manifests of the local config dir (its *.yaml/*.yml files, as the
loader reads them) are uploaded by SFTP into a fresh private directory on
the host (mode 0700, a random name under /tmp, created with mkdir so an
existing name is never reused), the command runs there with
`--config-dir` pointing at it, and the directory is removed afterwards.
An `apply` that asks first goes through a saved plan: the plan is made on
the host (`plan --out`), shown and confirmed here, and exactly that plan
is applied (`apply --plan`: the host refuses it if anything changed in
between); `apply --yes` and `apply --plan FILE` run as they would locally.
The staging path is replaced by the local config dir in what the host
prints, so messages name the operator's files.  Callers: cells.remote.run.
"""

from __future__ import annotations

import os
import secrets
import stat
import sys
from pathlib import Path

from cells.remote.argv import Split
from cells.remote.run import command_line, fail
from cells.remote.ssh import RemoteError, Session

STAGING_PARENT = "/tmp"
MAX_MANIFEST_BYTES = 16 << 20


def local_config_dir(options: list[str]) -> tuple[Path, list[str]]:
    """The --config-dir (else CELLS_CONFIG_DIR, else the default) and the
    global options without it."""
    from cells.mgr.paths import DEFAULT_CONFIG_DIR

    value: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(options):
        opt = options[i]
        if opt == "--config-dir" and i + 1 < len(options):
            value = options[i + 1]
            i += 2
            continue
        if opt.startswith("--config-dir="):
            value = opt.partition("=")[2]
        else:
            rest.append(opt)
        i += 1
    chosen = value or os.environ.get("CELLS_CONFIG_DIR") or DEFAULT_CONFIG_DIR
    return Path(chosen), rest


def manifests(config_dir: Path) -> list[Path]:
    """The files cellmgr would load from `config_dir` (see cells.mgr.loader)."""
    if not config_dir.is_dir():
        raise RemoteError(
            f"config dir {config_dir} does not exist; create it or set "
            "--config-dir / CELLS_CONFIG_DIR"
        )
    return sorted(p for p in config_dir.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


class Stage:
    """A private directory on the host holding a copy of the manifests."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.sftp = session.sftp()
        self.path = ""

    def create(self) -> str:
        name = f"{STAGING_PARENT}/cellmgr-stage.{secrets.token_hex(8)}"
        try:
            self.sftp.mkdir(name, 0o700)
            self.path = name
            self.sftp.chmod(name, 0o700)  # whatever the host's umask
            st = self.sftp.lstat(name)
        except OSError as e:
            raise RemoteError(f"{self.session.target.spec}: cannot create {name}: {e}") from None
        if st.st_mode is None or not stat.S_ISDIR(st.st_mode) or st.st_mode & 0o077:
            raise RemoteError(f"{self.session.target.spec}: {name} is not a private directory")
        self.sftp.mkdir(self.config, 0o700)
        return name

    @property
    def config(self) -> str:
        return f"{self.path}/config"

    def upload(self, local: Path, remote: str) -> None:
        data = local.read_bytes()
        if len(data) > MAX_MANIFEST_BYTES:
            raise RemoteError(f"{local}: larger than {MAX_MANIFEST_BYTES >> 20} MiB")
        try:
            with self.sftp.open(remote, "wb") as f:
                f.write(data)
            self.sftp.chmod(remote, 0o600)
        except OSError as e:
            raise RemoteError(f"{self.session.target.spec}: {remote}: {e}") from None

    def download(self, remote: str, local: str) -> None:
        try:
            with self.sftp.open(remote, "rb") as f:
                data = f.read()
        except OSError as e:
            raise RemoteError(f"{self.session.target.spec}: {remote}: {e}") from None
        with open(local, "wb") as out:
            out.write(data)

    def remove(self) -> None:
        """Remove the staging directory (by SFTP: no process on the host)."""
        try:
            if self.path and self.session.alive:
                self._rmtree(self.path)
        except OSError:
            pass  # gone with the connection; /tmp is cleaned by the host
        finally:
            self.sftp.close()

    def _rmtree(self, path: str) -> None:
        for entry in self.sftp.listdir_attr(path):
            child = f"{path}/{entry.filename}"
            if entry.st_mode is not None and stat.S_ISDIR(entry.st_mode):
                self._rmtree(child)
            else:
                self.sftp.remove(child)
        self.sftp.rmdir(path)


def staged(session: Session, split: Split) -> int:
    config_dir, options = local_config_dir(split.options)
    files = manifests(config_dir)
    stage = Stage(session)
    try:
        stage.create()
        for f in files:
            stage.upload(f, f"{stage.config}/{f.name}")
        run = _Runner(session, split, [*options, "--config-dir", stage.config])
        run.replace(stage.config, str(config_dir))
        if split.verb == "plan":
            return _plan(run, stage, split.rest)
        if split.verb == "apply":
            return _apply(run, stage, split.rest)
        return run.show(run.capture([str(split.verb), *split.rest]))
    finally:
        stage.remove()


class _Runner:
    """Runs cellmgr verbs on the host and shows their output here."""

    def __init__(self, session: Session, split: Split, options: list[str]) -> None:
        self.session, self.split, self.options = session, split, options
        self.swaps: list[tuple[bytes, bytes]] = []

    def replace(self, remote: str, local: str) -> None:
        self.swaps.append((remote.encode(), local.encode()))

    def capture(self, args: list[str]) -> tuple[int, bytes, bytes]:
        line = command_line("cellmgr", self.split.remote_command, [*self.options, *args])
        status, out, err = self.session.capture(line)
        for remote, local in self.swaps:
            out, err = out.replace(remote, local), err.replace(remote, local)
        return status, out, err

    def show(self, result: tuple[int, bytes, bytes]) -> int:
        status, out, err = result
        sys.stdout.buffer.write(out)
        sys.stdout.buffer.flush()
        sys.stderr.buffer.write(err)
        sys.stderr.buffer.flush()
        return status


def _take(args: list[str], name: str) -> tuple[str | None, list[str]]:
    """The value of option `name` in a verb's arguments, and the rest."""
    value: str | None = None
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            rest += args[i:]
            break
        if a == name and i + 1 < len(args):
            value = args[i + 1]
            i += 2
            continue
        if a.startswith(name + "="):
            value = a.partition("=")[2]
        else:
            rest.append(a)
        i += 1
    return value, rest


def _plan(run: _Runner, stage: Stage, args: list[str]) -> int:
    out, rest = _take(args, "--out")
    if out is None:
        return run.show(run.capture(["plan", *rest]))
    remote = f"{stage.path}/plan.json"
    run.replace(remote, out)
    result = run.capture(["plan", "--out", remote, *rest])
    if result[0] in (0, 2):
        stage.download(remote, out)
    return run.show(result)


def _apply(run: _Runner, stage: Stage, args: list[str]) -> int:
    plan_file, rest = _take(args, "--plan")
    flags = {a for a in rest if a.startswith("-")}
    yes = bool(flags & {"--yes", "-y"})
    cells = [a for a in rest if not a.startswith("-")]
    remote = f"{stage.path}/plan.json"
    if plan_file is not None:
        try:
            stage.upload(Path(plan_file), remote)
        except OSError as e:
            return fail("cellmgr", f"{plan_file}: {e.strerror or e}")
        run.replace(remote, plan_file)
        return run.show(run.capture(["apply", "--plan", remote, *rest]))
    if yes:
        # What a local 'apply --yes' does: plan under the apply lock, apply.
        return run.show(run.capture(["apply", *rest]))
    status, out, err = run.capture(["plan", "--out", remote, "--detailed-exitcode", *cells])
    if status not in (0, 2):
        return run.show((status, out, err))
    err = b"".join(
        line for line in err.splitlines(keepends=True) if b"cellmgr: plan saved to " not in line
    )
    if status == 0:  # nothing to do: the plan says so, as a local apply would
        return run.show((0, out, err))
    if not sys.stdin.isatty():
        return fail("cellmgr", "refusing to apply without --yes (stdin is not a terminal)")
    run.show((0, out, err))
    import click

    if not click.confirm("Apply these actions?", default=False, err=True):
        return fail("cellmgr", "nothing was applied")
    keep = [a for a in rest if a in flags]
    return run.show(run.capture(["apply", "--plan", remote, *keep]))
