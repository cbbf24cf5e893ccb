#!/usr/bin/env python3
"""A stand-in for cellprobe that models secmodel_cell well enough for the ATF
scripts to run on Linux (test_qemu_atf.py).

It is not the kernel and proves nothing about it: it answers from a small
model of the policy matrix (cell_policy.def) kept in a JSON file, so that
the shell plumbing of ci/qemu/atf -- helper functions, quoting, background
targets, cleanups, the order of probes -- runs end to end before a real
guest ever does.  Same command line and output tokens as cellprobe.c;
"inside a cell" is the environment (FAKE_CELL, FAKE_ROOT, FAKE_UID) that
`exec` passes on, and paths inside a cell are taken relative to its root.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

STATE = Path(os.environ.get("FAKE_CELLS_STATE", "/nonexistent/state.json"))
PROFILES = {"low": 1, "medium": 2, "high": 3}
SCOPES = {"process": 0, "system": 1, "network": 2}
F_RAWSOCK, F_SYSVIPC = 1, 2
# Profile-column operations: (scope, denied from profile, relax flag).
PROFILE_OPS = {
    "raw4": ("network", 2, F_RAWSOCK),
    "raw6": ("network", 2, F_RAWSOCK),
    "route": ("network", 2, 0),
    "mount": ("system", 2, 0),
    "mknod": ("system", 2, 0),
    "modload": ("system", 2, 0),
    "sysctl-write": ("system", 2, 0),
    "settime": ("system", 2, 0),
    "chroot": ("system", 2, 0),
}
SECURELEVEL = 1
# The kernel's ephemeral range (net.inet.ip.anonportmin..anonportmax): a
# wildcard candidate port there is put to the policy as port 0.
ANON_PORTS = range(49152, 65536)


@contextlib.contextmanager
def state() -> Iterator[dict[str, Any]]:
    with open(str(STATE) + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data: dict[str, Any] = (
            json.loads(STATE.read_text())
            if STATE.exists()
            else {"next": 1, "cells": {}, "pids": {}, "events": [], "trace": {}, "shm": {}}
        )
        yield data
        STATE.write_text(json.dumps(data))


def me() -> tuple[int, int]:
    return int(os.environ.get("FAKE_CELL", "0")), int(os.environ.get("FAKE_UID", "0"))


def inside(path: str) -> Path:
    return Path(os.environ.get("FAKE_ROOT", "/") + "/" + path.lstrip("/"))


def deny(data: dict[str, Any], scope: str, token: str = "EPERM") -> str:
    cell, _ = me()
    data["events"].append({"cell": cell, "scope": SCOPES[scope]})
    if str(cell) in data["cells"]:
        data["cells"][str(cell)]["denies"][SCOPES[scope]] += 1
    return token


def proc_state(pid: int) -> str:
    """The process's state letter, "" if gone.

    An orphaned zombie counts as gone: NetBSD's init reaps it at once, while
    the pid 1 of some containers never does.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    if fields[0] == "Z" and fields[1] == "1":
        return ""
    return fields[0]


def cell_of(data: dict[str, Any], pid: int) -> int:
    return int(data["pids"].get(str(pid), 0))


def cross(data: dict[str, Any], pid: int) -> bool:
    """Whether the caller is kept away from pid (process rows: CROSS)."""
    cell, uid = me()
    target = cell_of(data, pid)
    if cell == 0:
        return uid != 0 and target != 0
    return target != cell


def out(token: str) -> int:
    print(token)
    return 0


def control(op: str, av: list[str], data: dict[str, Any]) -> int:
    cell, uid = me()
    host_root = cell == 0 and uid == 0
    if op == "create":
        name, root, profile = av[0], av[1], PROFILES[av[2]]
        flags = int(av[3]) if len(av) > 3 else 0
        ports = [int(p) for p in av[4:] if not set(p) & set(".:")]
        addrs = [str(ipaddress.ip_address(a)) for a in av[4:] if set(a) & set(".:")]
        if not host_root:
            return out("EPERM")
        if any(c["name"] == name for c in data["cells"].values()):
            return out("EEXIST")
        if any(p in c["ports"] for c in data["cells"].values() for p in ports):
            return out("EADDRINUSE")
        if not Path(root).is_dir():
            return out("ENOENT")
        cid = data["next"]
        data["next"] += 1
        data["cells"][str(cid)] = {
            "name": name,
            "root": root,
            "profile": profile,
            "flags": flags,
            "ports": ports,
            "addrs": addrs,
            "denies": [0] * 6,
        }
        return out(str(cid))
    if op == "destroy":
        if not host_root:
            return out("EPERM")
        if av[0] not in data["cells"]:
            return out("ENOENT")
        if any(c == int(av[0]) and proc_state(int(p)) for p, c in data["pids"].items()):
            return out("EBUSY")
        del data["cells"][av[0]]
        data["pids"] = {p: c for p, c in data["pids"].items() if c != int(av[0])}
        return out("ok")
    if op == "list":
        return out("ok" if cell == 0 else "EPERM")
    if op == "info":
        c = data["cells"].get(av[0])
        if c is None:
            return out("ENOENT")
        d = ",".join(str(n) for n in c["denies"])
        return out(
            f"id={av[0]} name={c['name']} profile={c['profile']} state=1 nprocs=0"
            f" nrefs=0 denies={d}"
        )
    if op == "head":
        return out(str(len(data["events"])))
    if op == "events":
        per = [0] * 6
        for seq, ev in enumerate(data["events"], start=1):
            if seq >= int(av[0]) and ev["cell"] == int(av[1]):
                per[ev["scope"]] += 1
        return out(" ".join(map(str, per)))
    if op == "enter":
        return out(f"EPERM id={cell}")
    if op == "chroot-enter":
        c = data["cells"].get(av[1])
        ok = host_root and len(av) < 3 and c is not None and c["root"] == av[0]
        return out(f"ok id={av[1]}" if ok else "EPERM id=0")
    if op == "unload":
        return out("EPERM")
    return -1


def probe(op: str, av: list[str], data: dict[str, Any]) -> int:
    cell, uid = me()
    c = data["cells"].get(str(cell))
    if op in PROFILE_OPS:
        scope, from_profile, relax = PROFILE_OPS[op]
        if c is not None and c["profile"] >= from_profile and not c["flags"] & relax:
            return out(deny(data, scope))
        if op == "modload":
            return out("EPERM" if SECURELEVEL > 0 else "ENOENT")
        return out("ok" if uid == 0 else "EPERM")
    if op in ("bind4", "bind6"):
        return out(bind(data, "0.0.0.0" if op == "bind4" else "::", int(av[0])))
    if op in ("bindaddr4", "bindaddr6"):
        return out(bind(data, av[0], int(av[1])))
    if op in ("connect4", "connect6"):
        # An unbound socket's connect binds the wildcard to port 0 first.
        return out(bind(data, "0.0.0.0" if op == "connect4" else "::", 0))
    if op == "shm-private":
        return out("ok")
    if op == "shm-create":
        data["shm"][av[0]] = int(av[1])
        return out("1")
    if op == "shm-remove":
        return out("ok" if data["shm"].pop(av[0], None) is not None else "ENOENT")
    if op == "shm-get":
        if c is not None and c["profile"] >= 3 and not c["flags"] & F_SYSVIPC:
            return out(deny(data, "system", "EACCES"))
        return out("ok")
    if op == "forkloop":
        return out(f"forks={av[0]} failures=0")
    pid = int(av[0])
    if op == "see":
        if not proc_state(pid):
            return out("hidden")
        return out(deny(data, "process", "hidden") if cross(data, pid) else "visible")
    if op == "alive":
        st = proc_state(pid)
        return out("gone" if not st else "zombie" if st == "Z" else "alive")
    if op == "signal":
        if not proc_state(pid):
            return out("ESRCH")
        if cross(data, pid):
            return out(deny(data, "process"))
        if int(av[1]):
            os.kill(pid, int(av[1]))
        return out("ok")
    if op == "ptrace":
        return out(deny(data, "process", "ESRCH") if cross(data, pid) else "ok")
    if op == "traced":
        return out("untraced")
    if op == "ktrace":
        if cross(data, pid):
            deny(data, "process")
        else:
            data["trace"][str(pid)] = 2
        return out("ok")
    if op == "traceflag":
        return out(str(data["trace"].get(str(pid), 0)))
    return -1


def bind(data: dict[str, Any], addr: str, port: int) -> str:
    """A bind's token: other cells' reserved ports, then the cell's addresses."""
    cell, uid = me()
    ip = ipaddress.ip_address(addr)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for cid, other in data["cells"].items():
        if port in other["ports"] and int(cid) != cell and not (cell == 0 and uid == 0):
            return deny(data, "network", "EACCES")
    c = data["cells"].get(str(cell))
    if c is None or not c.get("addrs"):
        return "ok"
    if ip.is_unspecified:
        owned = any(port in o["ports"] for o in data["cells"].values())
        fixed = port != 0 and (port not in ANON_PORTS or owned)
        return deny(data, "network", "EACCES") if fixed else "ok"
    if str(ip) not in c["addrs"]:
        return deny(data, "network", "EACCES")
    return "ok"


def run(argv: list[str]) -> int:
    if argv[:1] == ["-u"]:
        os.environ["FAKE_UID"] = argv[1]
        argv = argv[2:]
    op, av = argv[0], argv[1:]
    if op == "abi":
        return out("1")
    if op == "id":
        return out(str(me()[0]))
    if op == "sleep":
        if len(av) > 1:
            inside(av[1]).touch()
        time.sleep(int(av[0]))
        return 0
    if op == "exec":
        cid, root = av[0], av[1]
        rest = av[2:]
        env = dict(os.environ, FAKE_CELL=cid, FAKE_ROOT=root)
        if rest[:1] == ["-u"]:
            env["FAKE_UID"] = rest[1]
            rest = rest[2:]
        prog = rest[1:]
        with state() as data:
            c = data["cells"].get(cid)
            if me() != (0, 0) or c is None or c["root"] != root:
                print(f"cellprobe: enter cell {cid}: EPERM", file=sys.stderr)
                return 2
            data["pids"][str(os.getpid())] = int(cid)
        os.execve(root + prog[0], prog, env)
    if op == "zombie":
        child = os.fork()
        if child == 0:
            with state() as data:
                data["pids"][str(os.getpid())] = int(av[0])
            os._exit(0)
        print(child, flush=True)
        while True:
            time.sleep(60)
    with state() as data:
        status = control(op, av, data)
        if status < 0:
            status = probe(op, av, data)
    if status < 0:
        print(f"cellprobe: unknown operation {op}", file=sys.stderr)
        return 2
    return status


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
