"""QEMU arguments with and without KVM, and the guest's device names."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from ci.qemu import vmm


def test_kvm_args() -> None:
    assert vmm.accel_args(True, 2, "max") == ["-accel", "kvm", "-cpu", "max", "-smp", "2"]


def test_tcg_args() -> None:
    args = vmm.accel_args(False, 4, "")
    assert args == ["-accel", "tcg,thread=multi", "-smp", "4"]
    assert "kvm" not in " ".join(args)


def test_kvm_unusable_without_device(tmp_path: Path) -> None:
    ok, why = vmm.kvm_usable(str(tmp_path / "kvm"))
    assert not ok and "TCG" in why


def test_kvm_unusable_when_not_kvm() -> None:
    ok, why = vmm.kvm_usable("/dev/null")
    assert not ok and "KVM_GET_API_VERSION" in why


def test_iso_boot_args_attach_the_scratch_disk_then_a_cd() -> None:
    args = vmm.boot_args("/w/project.iso", "iso", "/w/results.img", network=False)
    assert args == [
        "-drive",
        "file=/w/results.img,format=raw,media=disk,index=1",
        "-drive",
        "file=/w/project.iso,format=raw,media=cdrom,index=2,readonly=on",
        "-nic",
        "none",
    ]
    dev = vmm.guest_devices("iso")
    assert (dev.project, dev.scratch) == ("/dev/cd0a", "/dev/rwd1d")


def test_tar_boot_args_and_devices() -> None:
    args = vmm.boot_args("/w/p.tar", "tar", "/w/r.img", network=True)
    assert args[2:4] == ["-drive", "file=/w/p.tar,format=raw,media=disk,index=2,snapshot=on"]
    assert args[-2:] == ["-nic", "user,model=e1000"]
    assert "hostfwd" not in " ".join(args)
    dev = vmm.guest_devices("tar")
    assert (dev.project, dev.scratch) == ("/dev/rwd2d", "/dev/rwd1d")


def test_commas_in_paths_are_escaped() -> None:
    assert vmm.drive("/a,b/img", "disk", 1) == [
        "-drive",
        "file=/a,,b/img,format=raw,media=disk,index=1",
    ]


# A QEMU that behaves like 7.2 on a nested KVM host: "-cpu host" aborts at
# vCPU set-up, any other model runs until "quit" arrives on the monitor.
NESTED_QEMU = """#!/bin/sh
case " $* " in
*" -cpu host "*)
    echo "qemu-system-x86_64: ../target/i386/kvm/kvm.c:3060: kvm_buf_set_msrs:" \\
        "Assertion \\`ret == cpu->kvm_msr_buf->nmsrs' failed." >&2
    exit 134 ;;
esac
echo "$*" >>"$(dirname "$0")/argv.log"
while read -r line; do [ "$line" = quit ] && exit 0; done
exit 1
"""


def fake_qemu(tmp_path: Path, text: str = NESTED_QEMU) -> str:
    path = tmp_path / "qemu-system-x86_64"
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


def test_the_probe_really_starts_qemu_and_sees_host_abort(tmp_path: Path) -> None:
    qemu = fake_qemu(tmp_path)
    ok, why = vmm.probe_cpu("host", 2, qemu=qemu, run=0.2)
    assert not ok and "kvm_buf_set_msrs" in why and "-cpu host" in why
    ok, why = vmm.probe_cpu("max", 2, qemu=qemu, run=0.2)
    assert ok, why
    argv = (tmp_path / "argv.log").read_text()
    assert "-accel kvm -cpu max -smp 2" in argv and "-monitor stdio" in argv


def test_a_nested_kvm_host_falls_back_to_a_safe_model(tmp_path: Path) -> None:
    qemu = fake_qemu(tmp_path)

    def probe(cpu: str, cpus: int) -> tuple[bool, str]:
        return vmm.probe_cpu(cpu, cpus, qemu=qemu, run=0.2)

    acc = vmm.choose_cpu(2, probe=probe)
    assert (acc.kvm, acc.cpu) == (True, "max")
    assert "kvm_buf_set_msrs" in acc.why
    assert vmm.accel_args(acc.kvm, 2, acc.cpu)[:4] == ["-accel", "kvm", "-cpu", "max"]


def test_no_model_runs_means_tcg(tmp_path: Path) -> None:
    qemu = fake_qemu(tmp_path, "#!/bin/sh\necho 'failed to initialize kvm' >&2\nexit 1\n")
    acc = vmm.choose_cpu(1, probe=lambda c, n: vmm.probe_cpu(c, n, qemu=qemu, run=0.1))
    assert not acc.kvm and acc.cpu == "" and "using TCG" in acc.why
    assert "failed to initialize kvm" in acc.why


def test_a_qemu_that_ignores_quit_is_killed_in_time(tmp_path: Path) -> None:
    qemu = fake_qemu(tmp_path, "#!/bin/sh\nexec sleep 60\n")
    start = time.monotonic()
    ok, why = vmm.probe_cpu("max", 1, qemu=qemu, run=0.1, limit=0.5)
    assert not ok and "did not quit" in why
    assert time.monotonic() - start < 10


def test_a_missing_qemu_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    ok, why = vmm.probe_cpu("max", 1, qemu=str(tmp_path / "nope"), run=0.1)
    assert not ok and "No such file" in why


def test_the_real_probe_where_kvm_and_qemu_exist() -> None:
    if shutil.which(vmm.QEMU) is None:
        pytest.skip(f"{vmm.QEMU} missing: apt-get install qemu-system-x86")
    usable, why = vmm.kvm_usable()
    if not usable or not os.access(vmm.KVM_DEVICE, os.R_OK | os.W_OK):
        pytest.skip(why)
    acc = vmm.choose_cpu(1)
    assert acc.kvm == (acc.cpu in vmm.CPU_MODELS), acc.why
