"""What runs in the guest, in which order, and what the run's verdict is.

Pure functions: ci.qemu.run sends the commands of stage1() (first boot:
unpack the tree, build and install the module, optionally a kernel, make
the next boot load the module) and stage2() (second boot: status, ATF
tests, optional Python tests, save the results, reboot probe) over the
console, each under its step's time limit; verdict() turns what came back
into the exit status.  Tested in ci/qemu/tests/test_plan.py.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import PurePosixPath

from ci.qemu.config import RunConfig
from ci.qemu.tps import TpsSummary
from ci.qemu.vmm import GuestDevices

TREE = "/usr/cells"
RESULTS = "/var/tmp/cells-results"
MOUNT = "/mnt/cells"
GUEST_SCRIPT = f"{TREE}/ci/qemu/guest/cells-guest.sh"
KERNEL_DIR = ".cells-kernel"
BOOT_KERNEL = "/netbsd"  # what boot 2 runs; install-kernel/build-kernel replace it
REBOOT_PROBE_RE = re.compile(r"reboot-probe: (E[A-Z0-9]+)\b")
SCRATCH_MB = 64
PYTEST_STATUS_RE = re.compile(r"^ran: pytest -m netbsd exit (\d+)\b")
PYTEST_NO_TESTS = 5  # pytest's exit status when nothing was collected


@dataclass(frozen=True)
class GuestCommand:
    step: str  # the key of its time limit in config.BASE_LIMITS
    command: str
    must_succeed: bool = True


def unpack_command(devices: GuestDevices, tree: str = TREE) -> str:
    """Copy the project tree from its attached image to tree (fresh)."""
    t = shlex.quote(tree)
    if devices.project_kind == "iso":
        return (
            f"rm -rf {t} && mkdir -p {t} {MOUNT} && "
            f"mount -t cd9660 -o ro {devices.project} {MOUNT} && "
            f"(cd {MOUNT} && pax -rw -pe . {t}); s=$?; umount {MOUNT}; [ $s -eq 0 ]"
        )
    return f"rm -rf {t} && mkdir -p {t} && (cd {t} && tar -xpf {devices.project})"


def guest(step: str, *args: str) -> str:
    return " ".join(["sh", GUEST_SCRIPT, step, *(shlex.quote(a) for a in args)])


def kernel_image_name(cfg: RunConfig) -> str | None:
    """Where a --kernel file sits inside the project image, if any."""
    if cfg.kernel is not None:
        return f"{KERNEL_DIR}/{cfg.kernel.name}"
    if cfg.kernel_url:
        return f"{KERNEL_DIR}/{cfg.kernel_url.rstrip('/').rsplit('/', 1)[-1]}"
    return None


def stage1(cfg: RunConfig, devices: GuestDevices) -> list[GuestCommand]:
    """Unpack; install the kernel boot 2 runs (if not GENERIC); build the module
    for that kernel (DIAGNOSTIC only if it has it); install; configure the boot."""
    cmds = [GuestCommand("image", unpack_command(devices))]
    name = kernel_image_name(cfg)
    if name is not None:
        path = str(PurePosixPath(TREE) / name)
        cmds.append(GuestCommand("kernel", guest("install-kernel", path)))
    elif cfg.kernel_options:
        cmds.append(GuestCommand("kernel", guest("build-kernel", *cfg.kernel_options)))
    cmds += [
        GuestCommand("build", guest("build", TREE, BOOT_KERNEL)),
        GuestCommand("build", guest("install-module", TREE)),
        GuestCommand("build", guest("configure-boot", "/")),
    ]
    return cmds


def stage2(cfg: RunConfig, devices: GuestDevices) -> list[GuestCommand]:
    cmds = [
        GuestCommand("boot", guest("status", RESULTS), must_succeed=False),
        GuestCommand("tests", guest("run-tests", TREE, RESULTS), must_succeed=False),
    ]
    if cfg.python_tests != "off":
        args = [TREE, RESULTS, cfg.python_tests]
        if cfg.pkg_path:
            args.append(cfg.pkg_path)
        cmds.append(GuestCommand("python", guest("python-tests", *args), must_succeed=False))
    cmds.append(
        GuestCommand("save", guest("save", RESULTS, devices.scratch, str(SCRATCH_MB * 900)))
    )
    return cmds


def reboot_probe_command() -> GuestCommand:
    return GuestCommand("reboot-probe", guest("reboot-probe", TREE))


def reboot_probe_result(console_text: str) -> str | None:
    """The errno the probe printed, or None if it printed none."""
    m = REBOOT_PROBE_RE.search(console_text)
    return m.group(1) if m else None


@dataclass(frozen=True)
class Verdict:
    status: int  # 0 pass, 1 tests failed
    lines: tuple[str, ...]


def verdict(
    tps: TpsSummary,
    atf_status: int | None,
    python_status: str,
    python_mode: str,
    reboot_probe: str | None,
    reboot_probe_wanted: bool,
) -> Verdict:
    """Combine the parts into the exit status and the summary lines."""
    lines = [
        f"atf: {tps.passed} passed, {tps.failed} failed, {tps.skipped} skipped,"
        f" {tps.expected_failures} expected failures in {tps.programs} programs",
    ]
    ok = tps.ok
    if not tps.complete:
        lines.append(f"atf: incomplete: {tps.programs} of {tps.declared_programs} programs ran")
    lines += [f"FAIL {f}" for f in tps.failures()]
    if atf_status is None:
        lines.append("atf-run: no exit status recorded")
        ok = False
    elif atf_status != 0:
        lines.append(f"atf-run: exit status {atf_status}")
        ok = False
    lines.append(f"python: {python_status or 'not run'}")
    m = PYTEST_STATUS_RE.match(python_status)
    code = int(m.group(1)) if m else None
    if code not in (None, 0, PYTEST_NO_TESTS):
        ok = False
    if python_mode == "require" and code != 0:
        ok = False
    if reboot_probe_wanted:
        if reboot_probe == "EPERM":
            lines.append("reboot-probe: EPERM (denied, VM kept running)")
        else:
            why = reboot_probe or "no errno printed: halted, or no probe cell; see console.log"
            lines.append(f"reboot-probe: FAIL ({why})")
            ok = False
    lines.append("result: PASS" if ok else "result: FAIL")
    return Verdict(0 if ok else 1, tuple(lines))
