"""Guest command lists and the run's verdict."""

from __future__ import annotations

from pathlib import Path

from ci.qemu import config, plan, tps, vmm
from ci.qemu.tests.fakes import PASSING_TPS


def cfg(**kw: object) -> config.RunConfig:
    base: dict[str, object] = {
        "release": "10.1",
        "arch": "amd64",
        "dist": "https://x/NetBSD-10.1/amd64/",
        "work_dir": Path("/w"),
        "repo_root": Path("/r"),
        "kvm": True,
    }
    base.update(kw)
    return config.RunConfig(**base)  # type: ignore[arg-type]


def commands(cmds: list[plan.GuestCommand]) -> list[str]:
    return [c.command for c in cmds]


def test_stage1_builds_installs_and_configures() -> None:
    got = commands(plan.stage1(cfg(), vmm.guest_devices("iso")))
    assert got[0].startswith(
        "rm -rf /usr/cells && mkdir -p /usr/cells /mnt/cells && "
        "mount -t cd9660 -o ro /dev/cd0a /mnt/cells"
    )
    assert got[1:] == [
        "sh /usr/cells/ci/qemu/guest/cells-guest.sh build /usr/cells /netbsd",
        "sh /usr/cells/ci/qemu/guest/cells-guest.sh install-module /usr/cells",
        "sh /usr/cells/ci/qemu/guest/cells-guest.sh configure-boot /",
    ]


def test_stage1_tar_unpacks_from_the_raw_disk() -> None:
    first = plan.stage1(cfg(), vmm.guest_devices("tar"))[0]
    assert first.command == (
        "rm -rf /usr/cells && mkdir -p /usr/cells && (cd /usr/cells && tar -xpf /dev/rwd2d)"
    )


def test_stage1_kernel_choices() -> None:
    with_file = commands(
        plan.stage1(cfg(kernel=Path("/k/netbsd-DIAGNOSTIC.gz")), vmm.guest_devices("iso"))
    )
    assert (
        "sh /usr/cells/ci/qemu/guest/cells-guest.sh install-kernel"
        " /usr/cells/.cells-kernel/netbsd-DIAGNOSTIC.gz"
    ) in with_file
    built = plan.stage1(cfg(kernel_options=("DIAGNOSTIC", "LOCKDEBUG")), vmm.guest_devices("iso"))
    kernel = [c for c in built if c.step == "kernel"]
    assert [c.command for c in kernel] == [
        "sh /usr/cells/ci/qemu/guest/cells-guest.sh build-kernel DIAGNOSTIC LOCKDEBUG"
    ]
    # The module is built after the kernel boot 2 runs is in place, for it.
    for cmds in (with_file, commands(built)):
        steps = [c.split()[2] if c.startswith("sh ") else "unpack" for c in cmds]
        assert steps[1] in ("install-kernel", "build-kernel")
        assert steps[2:] == ["build", "install-module", "configure-boot"]
        assert cmds[2].endswith("build /usr/cells /netbsd")


def test_stage2_order_and_python_modes() -> None:
    got = plan.stage2(cfg(python_tests="off"), vmm.guest_devices("tar"))
    assert [c.command.split()[2] for c in got] == ["status", "run-tests", "save"]
    assert got[-1].command.endswith("save /var/tmp/cells-results /dev/rwd1d 57600")
    assert got[-1].must_succeed and not got[1].must_succeed
    got = plan.stage2(
        cfg(python_tests="require", pkg_path="https://p/All"), vmm.guest_devices("iso")
    )
    assert "python-tests /usr/cells /var/tmp/cells-results require https://p/All" in got[2].command


def test_arguments_are_quoted() -> None:
    assert plan.guest("build-kernel", "A B", "C;rm") == (
        "sh /usr/cells/ci/qemu/guest/cells-guest.sh build-kernel 'A B' 'C;rm'"
    )


def test_reboot_probe_parsing() -> None:
    echo = "# sh /usr/cells/ci/qemu/guest/cells-guest.sh reboot-probe /usr/cells\r\n"
    assert plan.reboot_probe_result(echo) is None
    assert (
        plan.reboot_probe_result(
            echo + "reboot-probe: calling reboot(RB_HALT|RB_NOSYNC)\r\nreboot-probe: EPERM\r\n"
        )
        == "EPERM"
    )
    assert plan.reboot_probe_result("reboot-probe: calling\r\n[ 12.3] halted\r\n") is None


def verdict(**kw: object) -> plan.Verdict:
    args: dict[str, object] = {
        "tps": tps.parse_tps(PASSING_TPS),
        "atf_status": 0,
        "python_status": "skipped: no Python in the guest",
        "python_mode": "auto",
        "reboot_probe": "EPERM",
        "reboot_probe_wanted": True,
    }
    args.update(kw)
    return plan.verdict(**args)  # type: ignore[arg-type]


def test_verdict_pass() -> None:
    v = verdict()
    assert v.status == 0
    assert v.lines[0] == "atf: 2 passed, 0 failed, 0 skipped, 0 expected failures in 1 programs"
    assert v.lines[-1] == "result: PASS"


def test_verdict_failures() -> None:
    assert verdict(atf_status=1).status == 1
    assert verdict(atf_status=None).status == 1
    assert verdict(reboot_probe=None).status == 1
    assert verdict(reboot_probe="ok").status == 1
    assert verdict(reboot_probe=None, reboot_probe_wanted=False).status == 0
    assert verdict(python_status="ran: pytest -m netbsd exit 1 (1 failed)").status == 1
    assert verdict(python_mode="require").status == 1
    assert (
        verdict(
            python_mode="require", python_status="ran: pytest -m netbsd exit 0 (9 passed)"
        ).status
        == 0
    )
    # Nothing collected: tolerated unless the Python tests are required.
    assert verdict(python_status="ran: pytest -m netbsd exit 5 (no tests)").status == 0
    assert (
        verdict(
            python_mode="require", python_status="ran: pytest -m netbsd exit 5 (no tests)"
        ).status
        == 1
    )
