"""The console tee, and (where QEMU and gson's anita exist) a real QEMU start.

The last test is the one check of the harness against the real anita: it
installs nothing and boots no NetBSD (no sets here), but anita builds and
spawns QEMU with our arguments on an empty system disk, SeaBIOS talks on the
serial console, our tee records it, and the step limit kills QEMU.
"""

from __future__ import annotations

import importlib
import io
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from ci.qemu import anita_compat, config, image, session, vmm
from ci.qemu.errors import GuestPanic, HarnessError, StepTimeout
from ci.qemu.steps import StepLog, run_step


def test_console_tee_writes_everywhere_and_reads_back(tmp_path: Path) -> None:
    echo = io.BytesIO()
    tee = session.ConsoleTee(tmp_path / "console.log", echo)
    tee.write(b"login: ")
    mark = tee.mark()
    tee.write(b"reboot-probe: EPERM\r\n")
    tee.flush()
    assert tee.since(mark) == "reboot-probe: EPERM\r\n"
    tee.close()
    assert (tmp_path / "console.log").read_bytes() == b"login: reboot-probe: EPERM\r\n"
    assert echo.getvalue() == b"login: reboot-probe: EPERM\r\n"


def test_console_tail_is_bounded(tmp_path: Path) -> None:
    tee = session.ConsoleTee(tmp_path / "console.log", None)
    mark = tee.mark()
    tee.write(b"x" * (session.TAIL_BYTES + 10))
    tee.write(b"end")
    assert len(tee.since(mark)) == session.TAIL_BYTES
    assert tee.since(mark).endswith("end")
    tee.close()
    assert (tmp_path / "console.log").stat().st_size == session.TAIL_BYTES + 13


def real_anita() -> ModuleType:
    try:
        return anita_compat.load_anita(importlib.import_module)
    except HarnessError as exc:
        pytest.skip(f"gson's anita not importable ({str(exc).split(';')[0]})")


def test_real_anita_starts_qemu_with_our_arguments(tmp_path: Path) -> None:
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 missing: apt-get install qemu-system-x86")
    tool = image.find_iso_tool()
    if tool is None:
        pytest.skip("no ISO tool: apt-get install genisoimage")
    anita = real_anita()
    run = tmp_path / "run"
    run.mkdir()
    with open(run / "wd0.img", "wb") as fh:  # present, so anita installs nothing
        fh.truncate(16 << 20)
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "f").write_text("x")
    iso = image.build_iso(tmp_path / "tree", ["f"], run / "project.iso", tool, 30.0)
    scratch = image.make_scratch(run / "results.img", 1)
    usable, _ = vmm.kvm_usable()
    acc = vmm.choose_cpu(1) if usable else vmm.Accel(False)
    dist = anita.distribution(config.default_sets_url("10.1", "amd64"), sets=list(config.SETS))
    tee = session.ConsoleTee(run / "console.log", None)
    guest = session.GuestSession(
        anita,
        dist,
        run,
        vmm.accel_args(acc.kvm, 1, acc.cpu),
        persist=False,
        disk_size="1G",
        memory="64M",
        console=tee,
        structured_log=run / "anita-boot.log",
    )
    log = StepLog()
    with pytest.raises(StepTimeout):
        run_step(
            "boot",
            5.0,
            lambda: guest.boot(vmm.boot_args(str(iso), "iso", str(scratch), network=False)),
            log,
            guest.kill,
        )
    tee.close()
    text = (run / "console.log").read_text(errors="replace")
    assert "SeaBIOS" in text and "Booting from" in text
    assert log.records[-1].status == "timeout"
    left = subprocess.run(
        ["pgrep", "-f", str(run / "wd0.img")], capture_output=True, text=True, check=False
    ).stdout
    assert left == "", f"QEMU still running: {left}"


PANIC = (
    b'[  42.1234567] panic: kernel diagnostic assertion "error == 0" failed:'
    b' file "../../../../kern/kern_auth.c", line 1067\r\n'
    b"[  42.1234567] cpu0: Begin traceback...\r\n"
)


def test_a_panic_on_the_console_stops_the_wait(tmp_path: Path) -> None:
    tee = session.ConsoleTee(tmp_path / "console.log", None)
    tee.write(b"cells-guest: kern.securelevel=1\r\nno panic: here\r\n")
    tee.write(PANIC[:30])  # split across reads, as pexpect delivers it
    with pytest.raises(GuestPanic) as exc:
        tee.write(PANIC[30:])
    assert 'panic: kernel diagnostic assertion "error == 0" failed' in str(exc.value)
    assert tee.panic is not None and tee.panic.startswith("panic: kernel diagnostic")
    tee.write(b"db{0}> ")  # reported once only
    tee.close()
    assert PANIC in (tmp_path / "console.log").read_bytes()


def test_the_ddb_prompt_counts_as_a_panic(tmp_path: Path) -> None:
    tee = session.ConsoleTee(tmp_path / "console.log", None)
    with pytest.raises(GuestPanic, match=r"db\{0\}>"):
        tee.write(b"Stopped in pid 1.1 (init) at netbsd:breakpoint+0x5: leave\r\ndb{0}> ")
    tee.close()
