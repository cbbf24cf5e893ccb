"""Write docs/cellui.svg: cellui's main screen against the fake daemon.

Run from the top of the tree:  .venv/bin/python tests/python/ui/make_screenshot.py
Same pinned size, frozen clock and data as the snapshot tests, so the
picture changes only when the UI does.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from cellui_fake_daemon import FakeDaemon
from cellui_harness import RecordingUI, no_cursor_blink, table, wait_for

TOP = Path(__file__).resolve().parents[3]
OUT = TOP / "docs" / "cellui.svg"


async def shoot() -> None:
    app = RecordingUI("cellmgr.sock", poll_interval=3600)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: table(app).row_count == 6)
        await pilot.press("down", "down", "down", "down", "down")  # web
        no_cursor_blink(app)
        await pilot.pause()
        app.save_screenshot(filename=OUT.name, path=str(OUT.parent))


def main() -> None:
    work = tempfile.mkdtemp(prefix="cellui-shot-")
    cwd = os.getcwd()
    os.chdir(work)
    daemon = FakeDaemon("cellmgr.sock").start()
    try:
        asyncio.run(shoot())
    finally:
        daemon.close()
        os.chdir(cwd)
        shutil.rmtree(work, ignore_errors=True)
    print(OUT)


if __name__ == "__main__":
    main()
