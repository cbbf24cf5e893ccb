"""cellmgr: declarative desired state for cells.

Manifests (`model`, `schema`, `loader`) → live state (`facts`) → a pure
diff (`plan`) → journaled effects (`apply`, `journal`).  Root file systems,
volumes, provision steps and backups have one module each; `daemon`
supervises services and serves the IPC socket.  Callers: the `cellmgr` CLI
(`cells.cli.mgr`) and the daemon.
"""
