"""`cellmgr bootstrap`: load and persist the module, import release sets."""

from __future__ import annotations

import platform
import sys

import click

from cells.cli.mgr.common import MgrApp, pass_mgr, working

_ARCH = {"x86_64": "amd64", "aarch64": "evbarm", "i686": "i386", "i386": "i386"}


@click.command()
@click.option(
    "--release", required=True, metavar="VERSION", help="NetBSD release of the base, e.g. 10.1."
)
@click.option(
    "--arch",
    default=lambda: _ARCH.get(platform.machine(), platform.machine()),
    show_default="this machine",
    help="Machine architecture of the base.",
)
@click.option(
    "--sets",
    "source",
    metavar="DIR-OR-URL",
    help="Where the release sets are: a directory or an http(s)/ftp URL of .../binary/sets.",
)
@click.option(
    "--set",
    "set_names",
    multiple=True,
    default=("base", "etc"),
    show_default=True,
    help="Set to import (repeat); base and etc are required.",
)
@click.option(
    "--modules-conf",
    default="/etc/modules.conf",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where the module is made persistent.",
)
@click.option("--no-module", is_flag=True, help="Do not load or persist the module.")
@click.option(
    "--no-verify",
    is_flag=True,
    help="Do not check the sets against the release's SHA512 file (warns).",
)
@click.option(
    "--sha512",
    "sums_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Check the sets against this SHA512 file (from a trusted place), not the "
    "one next to them: sets over plain http or ftp bring their own.",
)
@pass_mgr
def bootstrap(
    app: MgrApp,
    release: str,
    arch: str,
    source: str | None,
    set_names: tuple[str, ...],
    modules_conf: str,
    no_module: bool,
    no_verify: bool,
    sums_file: str | None,
) -> None:
    """Prepare this host: secmodel_cell loaded now and at boot, and a shared
    read-only base for RELEASE/ARCH built from the release sets.

    Both steps are idempotent: run it again to add sets or after an upgrade.
    Each set is checked against the SHA512 file next to it (as NetBSD
    publishes it) and refused on a mismatch or when it is not listed.

    \b
    Examples:
      cellmgr bootstrap --release 10.1 --sets /mnt/netbsd/amd64/binary/sets
      cellmgr bootstrap --release 10.1 \\
          --sets https://cdn.netbsd.org/pub/NetBSD/NetBSD-10.1/amd64/binary/sets
    """
    from pathlib import Path

    from cells.mgr.bootstrap import ensure_module
    from cells.mgr.host import NetbsdHost
    from cells.mgr.rootfs import import_sets, read_base, unauthenticated

    if not no_module:
        if sys.platform.startswith("netbsd"):
            for line in ensure_module(NetbsdHost(), Path(modules_conf)) or ["module: ok"]:
                app.note(line)
        else:
            app.note(
                f"module: skipped: not NetBSD ({sys.platform}); the sim backend needs no module"
            )
    paths = app.paths()
    if source is None:
        have = read_base(paths.base(release, arch))
        if not have:
            app.abort(f"no base for {release}/{arch} yet; give --sets DIR-OR-URL")
        app.note(f"base {release}/{arch}: sets {', '.join(have)}")
        return
    missing = {"base", "etc"} - set(set_names)
    if missing:
        app.abort(f"--set must include {' and '.join(sorted(missing))}", 2)
    if no_verify and sums_file:
        app.abort("--no-verify and --sha512 contradict each other", 2)
    if no_verify:
        app.note(f"warning: --no-verify: the sets from {source} are not checked against SHA512")
    elif sums_file is None and unauthenticated(source):
        app.note(
            f"warning: {source} is plain http/ftp: its SHA512 file comes the same way, so the "
            "check finds corruption but not tampering; give --sha512 FILE from a trusted place"
        )
    wanted = [s for s in set_names if s not in read_base(paths.base(release, arch))]
    step = f"importing sets {', '.join(wanted)} from {source}" if wanted else "checking the base"
    with working(app, step) as part:
        base, added = import_sets(
            paths,
            source,
            release,
            arch,
            set_names,
            verify=not no_verify,
            sums_file=sums_file,
            progress=part,
        )
    app.out(str(base))
    app.note(
        f"base {release}/{arch}: "
        + (f"imported {', '.join(added)}" if added else "already complete")
    )
