"""cellui widgets, one module per region of the screen.

banner: the connection banner; cell_table: the live table of cells;
detail: the selected cell's detail pane; filter_bar: filter, sort and
search; follow_log: the log and audit follow view; storage_tables: the
volumes and backups tables.  Callers: cells.ui.screens.
"""
