"""Who is on the other end of a Unix socket, and may they talk to us.

Linux: SO_PEERCRED (struct ucred: pid, uid, gid).  NetBSD: LOCAL_PEEREID
(struct unpcbid: pid, euid, egid) at level 0; on a client's socket both
give the credentials the server had when it called listen().  The server
lets in root or the uid that owns the socket file (`allowed`); a client
talks only to a server run by root or by its own user (`server_allowed`),
so a socket that someone else put in place is never sent a request.
Callers: cells.ipc.server, cells.ipc.client.
"""

from __future__ import annotations

import os
import socket
import struct
import sys

_NETBSD_LOCAL_PEEREID = 3


def peer_uid(sock: socket.socket) -> int:
    """The effective uid of the peer; raises OSError where it cannot be known."""
    if sys.platform.startswith("linux"):
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return int(struct.unpack("3i", raw)[1])
    if sys.platform.startswith("netbsd"):
        raw = sock.getsockopt(0, _NETBSD_LOCAL_PEEREID, struct.calcsize("3i"))
        return int(struct.unpack("3i", raw)[1])
    raise OSError(f"peer credentials are not supported on {sys.platform}")


def server_allowed(uid: int) -> bool:
    """A client talks to a server run by root or by the client's own user."""
    return uid in (0, os.geteuid())


def allowed(uid: int, socket_path: str) -> bool:
    """Root, or the owner of the socket file."""
    if uid == 0:
        return True
    try:
        return os.stat(socket_path).st_uid == uid
    except OSError:
        return False
