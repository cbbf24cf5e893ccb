"""The control plane over SSH: run cellctl/cellmgr/cellui against another host.

`cells.remote.argv` finds `--host` in a command line (no imports beyond
the standard library: the CLIs call it before anything else);
`cells.remote.ssh` is the one transport (paramiko: ~/.ssh/config, agent
and key files, strict known_hosts); `cells.remote.run` runs a tool's
command on the host with the local streams and exit code;
`cells.remote.staging` uploads local manifests for `cellmgr plan|apply`;
`cells.remote.bridge` carries the daemon's IPC stream for `cellui --host`.
"""
