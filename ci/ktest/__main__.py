"""`python -m ci.ktest test|record|bench`: the boot-test tier's entry point.

    test     build, boot in both load modes, exit 0 only if every case
             passed in both (make ktest)
    record   boot once and write the module's raw sysctl answers as the
             netbsd backend's test fixtures (make ktest-fixtures)
    bench    boot the bench program >= 5 times per variant and print
             ratios of medians (make ktest-bench)

Exit status: 0 pass, 1 failure, 2 missing inputs or tools (with one line
saying what to pass or install).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from ci.ktest import bench, build, fixtures, image
from ci.ktest.boot import Boot, boot
from ci.ktest.errors import KtestError
from ci.ktest.results import Run, parse

TOOLS = {
    "qemu-system-x86_64": "qemu-system-x86",
    "grub-mkrescue": "grub-common grub-pc-bin",
    "xorriso": "xorriso",
    "mformat": "mtools",
    "makefs": "makefs",
    "gcc": "gcc",
    "ld": "binutils",
}
MODES = ("preload", "modctl")


def missing_tools() -> list[str]:
    return sorted({pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None})


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m ci.ktest", description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=("test", "record", "bench"))
    ap.add_argument("--kernel", required=True, help="a NetBSD amd64 kernel with MODULAR")
    ap.add_argument("--sys", required=True, help="the sys/ tree the kernel was built from")
    ap.add_argument("--common", help="common/include of the tree (default: beside sys/)")
    ap.add_argument("--make", help="a NetBSD make (nbmake-amd64) to build with bsd.kmodule.mk")
    ap.add_argument("--kmod", help="test this secmodel_cell.kmod instead of building one")
    ap.add_argument("--work", default="build/ktest", help="work directory (default %(default)s)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per boot")
    ap.add_argument("--modes", default=",".join(MODES), help="load modes to boot")
    ap.add_argument("--boots", type=int, default=5, help="bench: boots per variant")
    ap.add_argument(
        "--out", default="tests/python/kernel/fixtures/netbsd_answers.json", help="record: output"
    )
    return ap.parse_args(argv)


def _report(mode: str, result: Boot, run: Run, log: Path) -> bool:
    ok = result.status == "done" and run.ok
    passed = sum(run.cases.values())
    print(
        f"ktest: {mode}: {'PASS' if ok else 'FAIL'}: {passed}/{len(run.cases)} cases passed,"
        f" boot {result.status} in {result.seconds:.0f} s (console: {log})"
    )
    if not ok:
        for line in run.failures:
            print(f"ktest: {mode}: {line}")
        if result.status != "done" or not run.cases:
            print(f"ktest: {mode}: console tail:\n{result.tail()}")
    return ok


def cmd_test(a: argparse.Namespace, tree: build.Tree, work: Path, kmod: Path, init: Path) -> int:
    modes = [m for m in a.modes.split(",") if m]
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise KtestError(f"unknown load mode {', '.join(bad) or '(none)'}; use {', '.join(MODES)}")
    all_ok = True
    for mode in modes:
        mwork = work / mode
        mwork.mkdir(parents=True, exist_ok=True)
        img = image.make_root(mwork, init, kmod, image.conf_text(mode, "test"))
        iso = image.make_iso(mwork, Path(a.kernel), kmod, preload=mode == "preload")
        log = mwork / "console.log"
        result = boot(iso, img, log, a.timeout)
        all_ok &= _report(mode, result, parse(result.console), log)
    print(f"ktest: {'PASS' if all_ok else 'FAIL'} ({', '.join(modes)})")
    return 0 if all_ok else 1


def cmd_record(a: argparse.Namespace, tree: build.Tree, work: Path, kmod: Path, init: Path) -> int:
    rwork = work / "record"
    rwork.mkdir(parents=True, exist_ok=True)
    img = image.make_root(rwork, init, kmod, image.conf_text("modctl", "record"))
    iso = image.make_iso(rwork, Path(a.kernel), kmod, preload=False)
    log = rwork / "console.log"
    result = boot(iso, img, log, a.timeout)
    run = parse(result.console)
    if result.status != "done" or not run.ok or not run.records:
        _report("record", result, run, log)
        return 1
    out = Path(a.out)
    fixtures.write(out, run.records, result.console)
    print(f"ktest: record: {len(run.records)} answers written to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    try:
        need = missing_tools()
        if need:
            print(
                f"ktest: missing tools; install: apt-get install {' '.join(need)}",
                file=sys.stderr,
            )
            return 2
        if not Path(a.kernel).is_file():
            raise KtestError(f"{a.kernel}: no such kernel")
        tree = build.Tree.find(a.sys, a.common)
        work = Path(a.work).resolve()
        work.mkdir(parents=True, exist_ok=True)
        if a.kmod:
            kmod = Path(a.kmod).resolve()
            if not kmod.is_file():
                raise KtestError(f"{a.kmod}: no such module")
        elif a.make:
            kmod = build.build_kmod_nbmake(tree, work, a.make)
        else:
            kmod = build.build_kmod(tree, work)
        init = build.build_init(tree, work)
        if a.command == "test":
            return cmd_test(a, tree, work, kmod, init)
        if a.command == "record":
            return cmd_record(a, tree, work, kmod, init)
        return bench.run(Path(a.kernel), work, kmod, init, a.boots, a.timeout)
    except KtestError as exc:
        print(f"ktest: {exc}", file=sys.stderr)
        return 2 if "not a NetBSD" in str(exc) or "no such kernel" in str(exc) else 1


if __name__ == "__main__":
    sys.exit(main())
