"""The cellmgr daemon's IPC: newline-delimited JSON over a Unix stream socket.

`protocol` defines the messages (versioned), `server` serves them inside
`cellmgr daemon` with a peer-credential check, `client` is the library the
CLI and the TUI use.  docs/ipc.md is the reference.
"""
