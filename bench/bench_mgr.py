"""cellmgr benchmarks: plan for 1,000 and 2,000 cells (fresh host, and
converged host after an apply: load + facts + plan, as `cellmgr plan`),
no-op apply for 100, and the daemon's memory with 100 supervised services.

Everything runs on the sim backend in a temp dir.  Figures are printed;
main() returns 0 when the targets are met:
  plan of 1,000 cells <= 1.5 s, and plan(2,000) / plan(1,000) <= 2.3, on
  both the fresh and the converged host;
  daemon with 100 services: total memory (daemon + services) < 150 MB,
  counted as PSS (RSS sums the shared libc pages of 100 identical `sleep`
  processes 100 times; both are printed).
Run by bench/run.py (or directly: python bench/bench_mgr.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

PLAN_TARGET_S = 1.5
RATIO_TARGET = 2.3
RSS_TARGET_MB = 150.0


def manifests(n: int, *, services: bool = False) -> str:
    docs = ["kind: Volume\nname: shared\n"]
    for i in range(n):
        doc = (
            f"kind: Cell\nname: c{i:05d}\nprofile: {('low', 'medium', 'high')[i % 3]}\n"
            f"autostart: true\nports: [{10000 + 2 * i}, {10001 + 2 * i}]\n"
            f"rlimits: {{nofile: 1024}}\n"
        )
        if i % 10 == 0:
            doc += "mounts: ['shared:/srv/shared:ro']\n"
        if i and i % 50:
            doc += f"depends_on: [c{(i // 50) * 50:05d}]\n"
        if services:
            doc += "service: {command: [sleep, '600'], stop_timeout: 1s}\n"
        else:
            doc += (
                "service: {command: /usr/sbin/httpd -f, restart: 'on-failure:3'}\n"
                "healthcheck: {command: ['true'], interval: 10s}\n"
                "provision:\n  - line: {path: /etc/rc.conf, line: httpd=YES}\n"
            )
        docs.append(doc)
    return "---\n".join(docs)


def setup(base: Path, text: str) -> dict[str, str]:
    env = {
        "CELLS_CONFIG_DIR": str(base / "etc"),
        "CELLS_STATE_DIR": str(base / "db"),
        "CELLS_DIR": str(base / "cells"),
        "CELLS_SOCKET": str(base / "cellmgr.sock"),
        "CELLS_BACKUP_DIR": str(base / "bk"),
        "CELLS_BACKEND": "sim",
        "CELLS_QUIET": "1",
    }
    (base / "etc").mkdir(parents=True)
    (base / "etc" / "cells.yaml").write_text(text)
    os.environ.update(env)
    return env


def manager() -> object:
    from cells.kernel import open_kernel
    from cells.mgr.apply import Manager
    from cells.mgr.host import SimHost
    from cells.mgr.paths import Paths

    paths = Paths.resolve()
    return Manager(paths, open_kernel("sim", paths.state_dir), SimHost())


def time_plan(tmp: Path, n: int) -> dict[str, float]:
    """Seconds for: plan on a fresh host, the apply, plan of the converged host."""
    setup(tmp / f"plan{n}", manifests(n))
    m = manager()
    t0 = time.perf_counter()
    fresh = m.plan()  # type: ignore[attr-defined]
    t_fresh = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert m.apply().ok  # type: ignore[attr-defined]
    t_apply = time.perf_counter() - t0
    m = manager()
    t0 = time.perf_counter()
    again = m.plan()  # type: ignore[attr-defined]
    t_converged = time.perf_counter() - t0
    assert again.actions == (), again.actions[:3]
    return {
        "fresh": t_fresh,
        "apply": t_apply,
        "converged": t_converged,
        "actions": float(len(fresh.actions)),
    }


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages divided among their users."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rfind(")") + 2 :].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def daemon_rss(tmp: Path, n: int) -> tuple[float, float, dict[str, float], int]:
    """(first apply s, no-op apply s, memory figures in MB, running services)."""
    from cells.ipc.client import Client, ConnectionLost

    env = setup(tmp / "daemon", manifests(n, services=True))
    m = manager()
    t0 = time.perf_counter()
    assert m.apply().ok  # type: ignore[attr-defined]
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = manager().apply()  # type: ignore[attr-defined]
    noop = time.perf_counter() - t0
    assert report.results == [], report.to_dict()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cells.cli.mgr", "daemon", "--interval", "1"],
        env={**os.environ, **env, "PYTHONPATH": str(ROOT / "python")},
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        running = 0
        while time.monotonic() < deadline:
            try:
                with Client(env["CELLS_SOCKET"]) as c:
                    rows = c.status()["cells"]
                running = sum(1 for r in rows if r["service"] == "running")
                if running == n:
                    break
            except ConnectionLost:
                pass
            time.sleep(0.5)
        time.sleep(1)
        kids = descendants(proc.pid)
        mem = {
            "daemon_rss": rss_kb(proc.pid) / 1024,
            "services_rss": sum(rss_kb(p) for p in kids) / 1024,
            "daemon_pss": pss_kb(proc.pid) / 1024,
            "services_pss": sum(pss_kb(p) for p in kids) / 1024,
            "processes": len(kids),
        }
    finally:
        proc.terminate()
        proc.wait(30)
    return first, noop, mem, running


def main() -> int:
    saved = dict(os.environ)
    try:
        return _run()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _run() -> int:
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-mgr-") as d:
        tmp = Path(d)
        one, two = time_plan(tmp, 1000), time_plan(tmp, 2000)
        for label, key in (("fresh host", "fresh"), ("converged host", "converged")):
            ratio = two[key] / one[key]
            print(
                f"plan, {label}: 1000 cells {one[key]:.3f} s, 2000 cells {two[key]:.3f} s, "
                f"ratio {ratio:.2f}"
            )
            if one[key] > PLAN_TARGET_S or ratio > RATIO_TARGET:
                print(f"  target missed: <= {PLAN_TARGET_S} s and ratio <= {RATIO_TARGET}")
                ok = False
        print(
            f"  ({one['actions']:.0f} and {two['actions']:.0f} actions on the fresh host; "
            f"applying them took {one['apply']:.2f} s and {two['apply']:.2f} s)"
        )
        first, noop, mem, running = daemon_rss(tmp, 100)
        print(f"apply 100 cells: first {first:.3f} s, no-op {noop:.3f} s")
        rss = mem["daemon_rss"] + mem["services_rss"]
        pss = mem["daemon_pss"] + mem["services_pss"]
        print(
            f"daemon with {running}/100 services running ({mem['processes']:.0f} child "
            f"processes): daemon RSS {mem['daemon_rss']:.1f} MB (PSS "
            f"{mem['daemon_pss']:.1f} MB)"
        )
        print(
            f"  total with services: RSS {rss:.1f} MB (sums shared pages once per "
            f"process), PSS {pss:.1f} MB"
        )
        if running != 100 or pss >= RSS_TARGET_MB:
            print(f"  target missed: 100 running and total PSS < {RSS_TARGET_MB:.0f} MB")
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
