"""Memory and latency of the supervisor engine with 100 services.

Starts one `Supervisor` supervising 100 `sleep` services (host services:
the engine's own cost, without a kernel backend), in a fresh Python
process so nothing else is counted, and reports: the RSS of that process
before and with the 100 services running, the added RSS per service, the
thread count, and the time to start and to stop all of them.  Target: the
whole process under 150 MB (the daemon target for 100 services).
Run by bench/run.py (`make bench`) or on its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SERVICES = 100
TARGET_MB = 150.0


def _rss_kib() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    # ru_maxrss is KiB on Linux and NetBSD: a peak, so an upper bound.
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _measure() -> dict[str, float]:
    import asyncio
    import threading
    import time

    from cells.supervisor import ServiceSpec, Supervisor, parse_restart

    async def scenario() -> dict[str, float]:
        sup = Supervisor()
        lines: list[str] = []
        for index in range(SERVICES):
            sup.add(
                ServiceSpec(
                    name=f"sleep{index:03d}",
                    argv=("sh", "-c", "echo up; exec sleep 3600"),
                    restart=parse_restart("always"),
                    stop_timeout=5,
                    log_sink=lambda _s, _t, line: lines.append(line),
                )
            )
        base = _rss_kib()
        began = time.monotonic()
        for name in sup.names():
            await sup.start(name)
        started = time.monotonic() - began
        while len(lines) < SERVICES:
            await asyncio.sleep(0.01)
        running = sum(s.state == "running" for s in sup.statuses())
        rss = _rss_kib()
        threads = threading.active_count()
        began = time.monotonic()
        await sup.stop_all()
        stopped = time.monotonic() - began
        await sup.close()
        return {
            "services": SERVICES,
            "running": running,
            "rss_base_mib": base / 1024,
            "rss_running_mib": rss / 1024,
            "rss_per_service_kib": (rss - base) / SERVICES,
            "threads": threads,
            "start_all_s": started,
            "stop_all_s": stopped,
        }

    return asyncio.run(scenario())


def main() -> int:
    repo = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = str(repo / "python") + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, __file__, "--measure"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        print(f"bench_supervisor: measurement failed: {proc.stderr.strip()}")
        return 1
    r = json.loads(proc.stdout)
    print(f"services running          {r['running']}/{r['services']}")
    print(f"rss before services       {r['rss_base_mib']:.1f} MiB")
    print(f"rss with services         {r['rss_running_mib']:.1f} MiB (target < {TARGET_MB:g})")
    print(f"rss added per service     {r['rss_per_service_kib']:.1f} KiB")
    print(f"threads                   {r['threads']}")
    print(f"start all                 {r['start_all_s'] * 1000:.0f} ms")
    print(f"stop all (TERM)           {r['stop_all_s'] * 1000:.0f} ms")
    met = r["running"] == r["services"] and r["rss_running_mib"] < TARGET_MB
    return 0 if met else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--measure"]:
        print(json.dumps(_measure()))
        sys.exit(0)
    sys.exit(main())
