"""`cellmgr validate`: check every manifest; report problems, change nothing."""

from __future__ import annotations

import click

from cells.cli.mgr.common import MgrApp, pass_mgr


@click.command()
@pass_mgr
def validate(app: MgrApp) -> None:
    """Check the manifests in the config dir against the schema and the rules.

    Every problem is one line, FILE:LINE:COL: KEY: PROBLEM, on stderr; the
    exit status is 1 if there is any.  Nothing is changed.

    \b
    Example:
      cellmgr --config-dir ./cells validate
    """
    from cells.mgr.loader import ManifestError, load_dir

    paths = app.paths()
    try:
        desired = load_dir(paths.config_dir)
    except ManifestError as e:
        for problem in e.problems:
            app.stderr.write(f"{problem}\n")
        app.abort(
            f"{len(e.problems)} problem{'s' if len(e.problems) != 1 else ''} in "
            f"{paths.config_dir}; nothing was changed"
        )
    if not desired.cells and not desired.volumes:
        app.note(
            f"warning: no manifests (*.yaml, *.yml) in {paths.config_dir}; "
            "'cellmgr apply' refuses to remove every cell without --allow-empty"
        )
    app.note(f"{len(desired.cells)} cells, {len(desired.volumes)} volumes: ok")
