"""QEMU arguments: acceleration, the attached images, and guest device names.

anita builds the QEMU command line itself (system disk, -nographic, memory)
and appends two lists we give it: `vmm_args` passed to anita.Anita() (used
for the install and every boot) and the list passed to Anita.boot() (that
boot only).  This module computes both, decides KVM or TCG, and says which
NetBSD device each attached image becomes, so the guest scripts address the
right disk.  Called by ci.qemu.run; tested in ci/qemu/tests/test_vmm.py.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

KVM_DEVICE = "/dev/kvm"
_KVM_GET_API_VERSION = 0xAE00  # _IO(KVMIO, 0x00)
_KVM_API_VERSION = 12
QEMU = "qemu-system-x86_64"
# Tried in order under KVM.  "host" passes the host CPU through; on nested
# KVM hosts QEMU 7.2 aborts with it (kvm_buf_set_msrs assertion) while the
# emulated models boot.  qemu64 is QEMU's own default.
CPU_MODELS: tuple[str, ...] = ("host", "max", "qemu64")
PROBE_RUN = 1.5  # seconds the probe VM runs (SeaBIOS) before "quit"
PROBE_LIMIT = 20.0  # the probe's whole time limit


def kvm_usable(device: str = KVM_DEVICE) -> tuple[bool, str]:
    """Whether KVM can be used, and why (for the log)."""
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return False, f"{device}: {exc.strerror}; using TCG (slow)"
    try:
        version = fcntl.ioctl(fd, _KVM_GET_API_VERSION)
    except OSError as exc:
        return False, f"{device}: KVM_GET_API_VERSION: {exc.strerror}; using TCG (slow)"
    finally:
        os.close(fd)
    if version != _KVM_API_VERSION:
        return False, f"{device}: KVM API version {version}, want 12; using TCG (slow)"
    return True, f"{device}: usable; using KVM"


def probe_argv(qemu: str, cpu: str, cpus: int) -> list[str]:
    """A diskless VM under KVM with this CPU model, its monitor on stdio."""
    return [
        qemu,
        "-accel",
        "kvm",
        "-cpu",
        cpu,
        "-smp",
        str(cpus),
        "-m",
        "64M",
        "-nodefaults",
        "-display",
        "none",
        "-serial",
        "none",
        "-no-reboot",
        "-monitor",
        "stdio",
    ]


def probe_cpu(
    cpu: str, cpus: int, qemu: str = QEMU, run: float = PROBE_RUN, limit: float = PROBE_LIMIT
) -> tuple[bool, str]:
    """Really start QEMU under KVM with this CPU model; (it ran, why not).

    The VM runs its firmware for `run` seconds (vCPU set-up and KVM_RUN,
    where an unusable model aborts QEMU), then is told to quit on its
    monitor.  It passes if QEMU was still running then and exits 0.
    """
    argv = probe_argv(qemu, cpu, cpus)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        return False, f"{qemu}: {exc.strerror}"
    try:
        deadline = time.monotonic() + run
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        early = proc.poll()
        try:
            _, err = proc.communicate(b"quit\n", timeout=limit)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            return False, f"-cpu {cpu}: QEMU did not quit within {limit:g} s"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if early is not None or proc.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        last = lines[-1] if lines else f"exit status {proc.returncode}"
        return False, f"-cpu {cpu}: QEMU exited ({last})"
    return True, ""


@dataclass(frozen=True)
class Accel:
    """How the guest's QEMU runs: KVM with one CPU model, or TCG."""

    kvm: bool
    cpu: str = ""  # the -cpu model under KVM; empty under TCG
    why: str = ""  # for the log


Prober = Callable[[str, int], tuple[bool, str]]


def choose_cpu(cpus: int, models: Sequence[str] = CPU_MODELS, probe: Prober | None = None) -> Accel:
    """The first CPU model QEMU really runs under KVM, else TCG."""
    prober = probe or probe_cpu
    failures: list[str] = []
    for model in models:
        ok, why = prober(model, cpus)
        if ok:
            note = f" ({'; '.join(failures)})" if failures else ""
            return Accel(True, model, f"using KVM with -cpu {model}{note}")
        failures.append(why)
    return Accel(False, "", f"KVM unusable ({'; '.join(failures)}); using TCG (slow)")


def accel_args(kvm: bool, cpus: int, cpu: str) -> list[str]:
    """Arguments for every QEMU start (install and boots)."""
    if kvm:
        return ["-accel", "kvm", "-cpu", cpu, "-smp", str(cpus)]
    return ["-accel", "tcg,thread=multi", "-smp", str(cpus)]


@dataclass(frozen=True)
class GuestDevices:
    """NetBSD device names of the images attached at boot."""

    project: str  # block device holding the project tree
    project_kind: str  # iso | tar
    scratch: str  # raw disk the results tar is written to


def guest_devices(image_kind: str) -> GuestDevices:
    """Where the guest finds the images that boot_args() attaches.

    boot_args() pins IDE indexes: the system disk is index 0 (wd0, placed
    by anita), the scratch disk index 1 -- the primary slave, which anita's
    own test runs use and NetBSD names wd1 -- and the project image index
    2, the secondary master: an ISO there is the only CD, cd0; a tar disk
    is the third hard disk, wd2.
    """
    if image_kind == "iso":
        return GuestDevices(project="/dev/cd0a", project_kind="iso", scratch="/dev/rwd1d")
    if image_kind == "tar":
        return GuestDevices(project="/dev/rwd2d", project_kind="tar", scratch="/dev/rwd1d")
    raise ValueError(f"unknown image kind {image_kind!r}")


def drive(
    path: str, media: str, index: int, *, readonly: bool = False, snapshot: bool = False
) -> list[str]:
    """One -drive option in anita's style (raw format, IDE), at a fixed index."""
    attrs = [f"file={path.replace(',', ',,')}", "format=raw", f"media={media}", f"index={index}"]
    if readonly:
        attrs.append("readonly=on")
    if snapshot:
        attrs.append("snapshot=on")
    return ["-drive", ",".join(attrs)]


def boot_args(project_image: str, image_kind: str, scratch_image: str, network: bool) -> list[str]:
    """Arguments for the boots that test: scratch disk, project image, network.

    IDE hard disks cannot be read-only in QEMU, so a tar project disk is
    attached with snapshot=on instead (guest writes never reach the file).
    The network (user-mode, no host forwards) is only there for pkg_add;
    otherwise QEMU's default NIC is switched off.
    """
    args = drive(scratch_image, "disk", 1)
    if image_kind == "iso":
        args += drive(project_image, "cdrom", 2, readonly=True)
    elif image_kind == "tar":
        args += drive(project_image, "disk", 2, snapshot=True)
    else:
        raise ValueError(f"unknown image kind {image_kind!r}")
    args += ["-nic", "user,model=e1000"] if network else ["-nic", "none"]
    return args
