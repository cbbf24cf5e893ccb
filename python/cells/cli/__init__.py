"""Command-line front ends: `cellctl` (cells.cli.ctl) and `cellmgr`
(cells.cli.mgr), sharing the application object of `cells.cli.app`.
Callers: the console scripts declared in pyproject.toml.
"""
