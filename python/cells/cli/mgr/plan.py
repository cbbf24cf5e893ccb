"""`cellmgr plan`: what apply would do, and why."""

from __future__ import annotations

import json

import click

from cells.cli.mgr.common import MgrApp, pass_mgr, render_plan


@click.command("plan")
@click.argument("cells", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="The plan as JSON (stable keys).")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Save the plan for 'cellmgr apply --plan FILE'.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 0 when there is nothing to do, 2 when there are changes.",
)
@pass_mgr
def plan_cmd(
    app: MgrApp, cells: tuple[str, ...], as_json: bool, out: str | None, detailed_exitcode: bool
) -> None:
    """Compare the manifests with the live state and list the actions.

    Drift (live state that no longer matches what was applied) is shown
    apart from edits.  "replace" means a new kernel cell (policy changed)
    and restarts the cell's service.  With CELLS, only those cells.

    \b
    Examples:
      cellmgr plan
      cellmgr plan --json | jq '.actions[].op'
      cellmgr plan --out tonight.plan --detailed-exitcode
    """
    from cells.mgr.loader import ManifestError

    try:
        p = app.manager(readonly=True).plan(list(cells) or None)
    except ManifestError as e:
        for problem in e.problems:
            app.stderr.write(f"{problem}\n")
        app.abort("the manifests have problems; nothing was planned")
    doc = p.to_dict()
    doc["cells"] = sorted(cells)
    if out is not None:
        import os

        from cells import private

        # 0600: a plan shows old and new values, secrets in env: included.
        with os.fdopen(private.open_file(out, os.O_WRONLY | os.O_TRUNC), "w") as f:
            json.dump(doc, f, indent=2)
            f.write("\n")
    if as_json:
        app.json(doc)
    else:
        render_plan(app, p)
        if out is not None:
            app.note(f"plan saved to {out}; apply it with 'cellmgr apply --plan {out}'")
    if detailed_exitcode and p.changes:
        raise click.exceptions.Exit(2)
