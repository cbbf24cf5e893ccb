"""`cellmgr schema`: print the JSON Schema of manifests."""

from __future__ import annotations

import click

from cells.cli.mgr.common import MgrApp, pass_mgr


@click.command()
@pass_mgr
def schema(app: MgrApp) -> None:
    """Print the JSON Schema (draft 2020-12) that manifests are checked against.

    \b
    Example:
      cellmgr schema > cells.schema.json
    """
    from cells.mgr.schema import schema_json

    app.write(schema_json())
