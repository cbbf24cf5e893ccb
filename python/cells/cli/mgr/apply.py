"""`cellmgr apply`: make the host match the manifests (journaled, locked)."""

from __future__ import annotations

import sys

import click

from cells.cli.mgr.common import MgrApp, Progress, pass_mgr, render_plan


@click.command("apply")
@click.argument("cells", nargs=-1)
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE",
    help="Apply a plan saved by 'cellmgr plan --out' (refused when stale).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Report the results as JSON.")
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Apply even when the config dir has no manifests (removes every cell).",
)
@pass_mgr
def apply_cmd(
    app: MgrApp,
    cells: tuple[str, ...],
    plan_file: str | None,
    yes: bool,
    as_json: bool,
    allow_empty: bool,
) -> None:
    """Apply the manifests (all cells, or only CELLS).

    Facts are read and the plan is made again under the apply lock; a saved
    plan whose manifests or live state changed since is refused.  A config
    dir without manifests over existing cells is refused (an unmounted or
    mistyped dir would remove them all) unless --allow-empty.  Each
    action is journaled; a killed apply converges when run again.  Without
    --yes, asks on a terminal and refuses otherwise.

    \b
    Examples:
      cellmgr apply --yes
      cellmgr plan --out p.json && cellmgr apply --plan p.json
    """
    from cells.mgr.loader import ManifestError

    progress = Progress(app, lines=not as_json)
    manager = app.manager(observer=progress)
    fingerprint = None
    targets = list(cells) or None
    if plan_file is not None:
        from cells.errors import InvalidArgument
        from cells.mgr import limits

        try:
            saved = limits.load_json(plan_file, limits.total_bytes())
            fingerprint = saved["fingerprint"]
            named = saved.get("cells") or []
            if not isinstance(fingerprint, str) or not (
                isinstance(named, list) and all(isinstance(n, str) for n in named)
            ):
                raise InvalidArgument("fingerprint must be a string and cells a list of names")
            targets = list(named) or targets
        except (InvalidArgument, OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            why = e.strerror if isinstance(e, OSError) and e.strerror else e
            app.abort(
                f"{plan_file}: not a saved plan ({why}); make one with 'cellmgr plan --out FILE'"
            )
    try:
        if not allow_empty:
            manager.refuse_empty(manager.load())
        if fingerprint is None and not yes:
            p = manager.plan(targets)
            if not p.changes:
                render_plan(app, p)
                return
            if not sys.stdin.isatty():
                app.abort("refusing to apply without --yes (stdin is not a terminal)")
            render_plan(app, p)
            if not click.confirm("Apply these actions?", default=False, err=True):
                app.abort("nothing was applied")
            fingerprint = p.fingerprint
        report = manager.apply(targets, fingerprint, allow_empty=allow_empty)
    except ManifestError as e:
        for problem in e.problems:
            app.stderr.write(f"{problem}\n")
        app.abort("the manifests have problems; nothing was changed")
    if manager.services is None:
        app.note(
            f"no cellmgr daemon answers at {app.paths().socket}: services are "
            "started by 'cellmgr daemon'"
        )
    progress.clear()
    if as_json:
        app.json(report.to_dict())
    elif not report.results:
        app.out("No changes: the host matches the manifests.")
    elif progress.tty:
        n = len(report.results)
        app.note(f"{n} action{'s' if n != 1 else ''} in {progress.elapsed():.1f}s")
    if not report.ok:
        failed = next(r for r in report.results if not r.ok)
        app.abort(
            f"{failed.detail}; fix it and run 'cellmgr apply' again (the journal lets it resume)"
        )
