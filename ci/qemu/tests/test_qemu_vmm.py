"""QEMU arguments with and without KVM, and the guest's device names."""

from __future__ import annotations

from pathlib import Path

from ci.qemu import vmm


def test_kvm_args() -> None:
    assert vmm.accel_args(True, 2) == ["-accel", "kvm", "-cpu", "host", "-smp", "2"]


def test_tcg_args() -> None:
    args = vmm.accel_args(False, 4)
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
