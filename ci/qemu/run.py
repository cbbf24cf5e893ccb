"""`python -m ci.qemu.run`: the QEMU tier from start to verdict.

Called by `make qemu-test NETBSD_RELEASE=... [NETBSD_SETS=...]`.  Steps,
each with a time limit (config.BASE_LIMITS, x6 without KVM):

1. check anita and pexpect; decide KVM or TCG; build the project image;
2. install the release once per (release, arch, sets) into
   ci/qemu/work/<release>-<arch>/base/wd0.img (anita caches downloads too);
3. copy that disk for this run and boot it: unpack the tree, build and
   install the module (and a DIAGNOSTIC kernel if asked), configure
   /etc/modules.conf and rc.conf, halt;
4. boot again (disk in snapshot mode): status, ATF tests, optional Python
   tests, save the results on the scratch disk, reboot probe, halt;
5. read the scratch disk, parse atf-run's output, print the summary on
   stdout and exit 0 (pass), 1 (tests failed) or 2 (the harness could not
   get a result: the one-line reason is on stderr).

Everything is logged under the run directory: console.log, steps.json,
anita-{install,boot1,boot2}.log (anita's structured logs) and results/.
`--dry-run` prints the plan and boots nothing.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from ci.qemu import anita_compat, config, image, plan, sets, tps, vmm
from ci.qemu.errors import HarnessError, StepTimeout
from ci.qemu.session import ConsoleTee, GuestSession, anita_prints_to_stderr
from ci.qemu.steps import StepLog, first_line, run_step

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE_KEY = "cache-key.json"
GRACE = 30.0  # pexpect's own timeout runs this much past the step's limit


def console_timeout(limit: float) -> float:
    """The timeout given to anita's shell_cmd: longer than the step's limit.

    The step timer (run_step) must be what fires, so the error names the
    step and steps.json says "timeout"; pexpect's TIMEOUT is a multi-line
    error that knows neither.
    """
    return limit + max(GRACE, limit)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m ci.qemu.run",
        description="Install NetBSD in QEMU with anita, build and load secmodel_cell"
        " in the guest, and run the in-guest tests.",
    )
    p.add_argument(
        "--release",
        default=config.DEFAULT_RELEASE,
        help="NetBSD release (default %(default)s; empty means the default)",
    )
    p.add_argument("--arch", default=config.DEFAULT_ARCH, help="port (default %(default)s)")
    p.add_argument(
        "--sets", default="", help="URL or local directory of the release's sets (default: the CDN)"
    )
    p.add_argument(
        "--tree",
        type=Path,
        default=REPO_ROOT,
        help="project tree shipped to the guest (default %(default)s)",
    )
    p.add_argument(
        "--work-dir",
        type=Path,
        default=REPO_ROOT / "ci" / "qemu" / "work",
        help="where images and logs go (default %(default)s)",
    )
    p.add_argument("--accel", choices=("auto", "kvm", "tcg"), default="auto")
    p.add_argument(
        "--cpu",
        default="auto",
        help="QEMU -cpu model under KVM (default: the first of"
        f" {', '.join(vmm.CPU_MODELS)} that really starts; TCG if none does)",
    )
    p.add_argument("--cpus", type=int, default=2)
    p.add_argument("--memory", default="1024M")
    p.add_argument("--disk-size", default="8G")
    p.add_argument(
        "--image",
        choices=("auto", "iso", "tar"),
        default="auto",
        help="how the project tree is attached (default: iso if a tool exists)",
    )
    p.add_argument(
        "--python-tests",
        choices=("auto", "require", "off"),
        default="auto",
        help="run pytest -m netbsd in the guest if Python can be had",
    )
    p.add_argument(
        "--pkg-path",
        default="",
        help="PKG_PATH for pkg_add of python311 in the guest (needs network)",
    )
    p.add_argument(
        "--kernel",
        default="",
        help="boot this kernel file (e.g. a DIAGNOSTIC build, .gz allowed),"
        " or sets:CONF for binary/kernel/netbsd-CONF.gz of the sets",
    )
    p.add_argument(
        "--kernel-options",
        default="",
        help="build GENERIC + these options in the guest, e.g. DIAGNOSTIC,LOCKDEBUG",
    )
    p.add_argument(
        "--no-reboot-probe",
        action="store_true",
        help="skip the final reboot(2) probe from a high cell",
    )
    p.add_argument(
        "--timeout-scale", type=float, default=1.0, help="multiply every step's time limit"
    )
    p.add_argument("--reinstall", action="store_true", help="discard the cached install")
    p.add_argument("--dry-run", action="store_true", help="print the plan, boot nothing")
    return p.parse_args(argv)


def build_config(ns: argparse.Namespace, accel: vmm.Accel) -> config.RunConfig:
    release = config.check_release(ns.release or config.DEFAULT_RELEASE)
    dist = config.resolve_dist(ns.sets or None, release, ns.arch)
    if not (ns.tree / "kmod" / "secmodel_cell").is_dir():
        raise HarnessError(f"ci/qemu: --tree {ns.tree}: no kmod/secmodel_cell in it")
    if ns.kernel and ns.kernel_options:
        raise HarnessError("ci/qemu: give --kernel or --kernel-options, not both")
    kernel, kernel_url = config.resolve_kernel(ns.kernel, dist)
    options = tuple(o for o in ns.kernel_options.replace(",", " ").split() if o)
    if ns.cpus < 1 or ns.timeout_scale <= 0:
        raise HarnessError("ci/qemu: --cpus and --timeout-scale must be positive")
    return config.RunConfig(
        release=release,
        arch=ns.arch,
        dist=dist,
        work_dir=ns.work_dir.resolve() / f"{release}-{ns.arch}",
        repo_root=ns.tree.resolve(),
        kvm=accel.kvm,
        cpu=accel.cpu,
        cpus=ns.cpus,
        memory=ns.memory,
        disk_size=ns.disk_size,
        image_kind=ns.image,
        python_tests=ns.python_tests,
        pkg_path=ns.pkg_path,
        kernel=kernel,
        kernel_url=kernel_url,
        kernel_options=options,
        reboot_probe=not ns.no_reboot_probe,
        timeout_scale=ns.timeout_scale,
    )


def choose_accel(accel: str, cpu: str, cpus: int) -> vmm.Accel:
    """KVM with a CPU model QEMU really runs (probed), or TCG."""
    if accel == "tcg":
        return vmm.Accel(False, "", "TCG requested")
    usable, why = vmm.kvm_usable()
    if usable:
        models = vmm.CPU_MODELS if cpu == "auto" else (cpu,)
        chosen = vmm.choose_cpu(cpus, models)
        usable, why = chosen.kvm, chosen.why
        if usable:
            return chosen
    if accel == "kvm":
        raise HarnessError(f"ci/qemu: --accel kvm: {why.split(';')[0]}")
    return vmm.Accel(False, "", why)


def choose_image(kind: str) -> tuple[str, str | None]:
    tool = image.find_iso_tool()
    if kind == "iso" and tool is None:
        raise HarnessError(
            "ci/qemu: --image iso needs xorriso, genisoimage or mkisofs;"
            " apt-get install genisoimage"
        )
    if kind == "tar" or tool is None:
        return "tar", None
    return "iso", tool


def say(msg: str) -> None:
    print(f"ci/qemu: {msg}", file=sys.stderr, flush=True)


def print_plan(cfg: config.RunConfig, kind: str, devices: vmm.GuestDevices) -> None:
    accel = vmm.accel_args(cfg.kvm, cfg.cpus, cfg.cpu)
    boot = vmm.boot_args(
        "<project image>", kind, "<scratch image>", network=cfg.python_tests != "off"
    )
    print(f"distribution: {cfg.dist}")
    print(f"sets: {','.join(cfg.sets)}")
    print(f"work dir: {cfg.work_dir}")
    print(f"qemu args (install and boots): {shlex.join(accel)}")
    print(f"qemu args (test boots): {shlex.join(boot)}")
    for label, cmds in (
        ("boot 1", plan.stage1(cfg, devices)),
        ("boot 2", plan.stage2(cfg, devices)),
    ):
        for c in cmds:
            print(f"{label} [{c.step}, {cfg.limit(c.step):g} s]: {c.command}")
    if cfg.reboot_probe:
        c = plan.reboot_probe_command()
        print(f"boot 2 [{c.step}, {cfg.limit(c.step):g} s]: {c.command}")


def sparse_copy(src: Path, dst: Path) -> None:
    subprocess.run(["cp", "--sparse=always", str(src), str(dst)], check=True)


def fetch(url: str, run_dir: Path) -> Path:
    """Download url into run_dir (the kernel the sets provide)."""
    dest = run_dir / url.rstrip("/").rsplit("/", 1)[-1]
    try:
        with urllib.request.urlopen(url) as resp, open(dest, "wb") as out:
            shutil.copyfileobj(resp, out)
    except (OSError, ValueError) as exc:
        raise HarnessError(f"ci/qemu: cannot fetch {url}: {exc}") from None
    return dest


def run_guest(
    cfg: config.RunConfig,
    anita: ModuleType,
    kind: str,
    tool: str | None,
    log: StepLog,
    run_dir: Path,
) -> int:
    devices = vmm.guest_devices(kind)
    accel = vmm.accel_args(cfg.kvm, cfg.cpus, cfg.cpu)
    base = cfg.work_dir / "base"
    marker = base / "installed.ok"  # anita treats any wd0.img as installed
    open_install_cache(cfg, base)
    if not marker.is_file():
        image.anita_iso_tool()  # before the image and the downloads, not after
        (base / "wd0.img").unlink(missing_ok=True)
    files = image.project_files(cfg.repo_root)
    extras: dict[str, Path] = {}
    kname = plan.kernel_image_name(cfg)
    if kname is not None and cfg.kernel is not None:
        extras[kname] = cfg.kernel
    elif kname is not None and cfg.kernel_url:
        extras[kname] = run_step(
            "kernel-fetch", cfg.limit("image"), lambda: fetch(cfg.kernel_url, run_dir), log
        )
    project = run_dir / ("project.iso" if kind == "iso" else "project.tar")
    if tool is not None:
        run_step(
            "image",
            cfg.limit("image"),
            lambda: image.build_iso(
                cfg.repo_root, files, project, tool, cfg.limit("image"), extras
            ),
            log,
        )
    else:
        run_step(
            "image",
            cfg.limit("image"),
            lambda: image.build_tar_disk(cfg.repo_root, files, project, extras),
            log,
        )
    scratch = image.make_scratch(run_dir / "results.img", plan.SCRATCH_MB)
    boot_args = vmm.boot_args(str(project), kind, str(scratch), network=cfg.python_tests != "off")
    with anita_prints_to_stderr():
        dist = anita.distribution(cfg.dist, sets=list(cfg.sets))

    console = ConsoleTee(run_dir / "console.log", sys.stderr.buffer)
    sessions: list[GuestSession] = []
    try:
        installer = GuestSession(
            anita,
            dist,
            base,
            accel,
            persist=True,
            disk_size=cfg.disk_size,
            memory=cfg.memory,
            console=console,
            structured_log=run_dir / "anita-install.log",
        )
        sessions.append(installer)
        if not marker.is_file():
            install(installer, cfg, base, log)
            marker.touch()
        sparse_copy(base / "wd0.img", run_dir / "wd0.img")

        def boot(n: int, persist: bool) -> GuestSession:
            session = GuestSession(
                anita,
                dist,
                run_dir,
                accel,
                persist=persist,
                disk_size=cfg.disk_size,
                memory=cfg.memory,
                console=console,
                structured_log=run_dir / f"anita-boot{n}.log",
            )
            sessions.append(session)
            return session

        first = boot(1, persist=True)
        run_commands(first, boot_args, plan.stage1(cfg, devices), cfg, log, "boot1")
        run_step("halt", cfg.limit("halt"), first.halt, log, first.kill)

        second = boot(2, persist=False)
        run_commands(second, boot_args, plan.stage2(cfg, devices), cfg, log, "boot2")
        probe: str | None = None
        alive = True
        if cfg.reboot_probe:
            probe, alive = reboot_probe(second, cfg, log)
        if alive:
            run_step("halt", cfg.limit("halt"), second.halt, log, second.kill)
    finally:
        for s in sessions:  # a failed step leaves no QEMU behind
            s.kill()
        console.close()
    return report(run_dir, scratch, cfg, probe, log)


def open_install_cache(cfg: config.RunConfig, base: Path) -> None:
    """Keep the cached install only if it was made from the same release, sets and source."""
    key = sets.cache_key(cfg.release, cfg.arch, cfg.sets, cfg.dist)
    keyfile = base / CACHE_KEY
    if base.exists() and (not keyfile.is_file() or keyfile.read_text() != key):
        say(f"the install in {base} was made from other sets or another source; installing anew")
        shutil.rmtree(base)
    base.mkdir(parents=True, exist_ok=True)
    keyfile.write_text(key)


def install(installer: GuestSession, cfg: config.RunConfig, base: Path, log: StepLog) -> None:
    """Fetch and check the sets, let anita install them, check nothing went missing."""
    download_dir = base / "download"
    checked = run_step(
        "sets",
        cfg.limit("sets"),
        lambda: sets.prepare(cfg.dist, cfg.arch, cfg.sets, download_dir, say=say),
        log,
    )
    try:
        run_step("install", cfg.limit("install"), installer.install, log, installer.kill)
        sets.check_installed(checked)
    except BaseException:
        sets.prune_unchecked(download_dir, checked)
        raise


def run_commands(
    session: GuestSession,
    boot_args: list[str],
    cmds: list[plan.GuestCommand],
    cfg: config.RunConfig,
    log: StepLog,
    label: str,
) -> None:
    run_step(f"{label}", cfg.limit("boot"), lambda: session.boot(boot_args), log, session.kill)
    for c in cmds:
        limit = cfg.limit(c.step)

        def send(command: str = c.command, limit: float = limit) -> int:
            return session.sh(command, console_timeout(limit))

        status = run_step(c.step, limit, send, log, session.kill)
        say(f"{c.step}: exit {status}: {c.command}")
        if status != 0 and c.must_succeed:
            raise HarnessError(
                f"ci/qemu: guest step '{c.step}' failed (exit {status}): {c.command};"
                " see console.log in the run directory"
            )


def reboot_probe(
    session: GuestSession, cfg: config.RunConfig, log: StepLog
) -> tuple[str | None, bool]:
    """Run the probe; (the errno it printed, whether the guest still answers)."""
    c = plan.reboot_probe_command()
    mark = session.console.mark()
    limit = cfg.limit(c.step)
    alive = True
    try:
        run_step(
            c.step,
            limit,
            lambda: session.sh(c.command, console_timeout(limit)),
            log,
            session.kill,
        )
    except StepTimeout:
        alive = False
    except Exception as exc:  # pexpect EOF/TIMEOUT: the guest stopped answering
        say(f"reboot probe: the guest stopped answering ({type(exc).__name__})")
        session.kill()
        alive = False
    return plan.reboot_probe_result(session.console.since(mark)), alive


def report(
    run_dir: Path, scratch: Path, cfg: config.RunConfig, probe: str | None, log: StepLog
) -> int:
    results = run_dir / "results"
    image.read_results(scratch, results)
    out = results / Path(plan.RESULTS).name
    tps_path = out / "atf.tps"
    if not tps_path.is_file():
        raise HarnessError(f"ci/qemu: {tps_path} missing: atf-run did not run in the guest")
    try:
        summary = tps.parse_tps(tps_path.read_text(errors="replace"))
    except tps.TpsError as exc:
        raise HarnessError(f"ci/qemu: {tps_path}: {exc}") from None
    status_file = out / "atf-run.status"
    atf_status = int(status_file.read_text().strip()) if status_file.is_file() else None
    ticker = out / "atf.txt"
    if ticker.is_file():
        counts = tps.parse_ticker_summary(ticker.read_text(errors="replace"))
        if counts and counts.get("passed") != summary.passed:
            say(f"atf-report says {counts.get('passed')} passed, the tps {summary.passed}")
    py_file = out / "python.status"
    py_status = py_file.read_text().strip() if py_file.is_file() else ""
    v = plan.verdict(summary, atf_status, py_status, cfg.python_tests, probe, cfg.reboot_probe)
    for line in log.lines():
        print(f"step: {line}")
    status_txt = out / "status.txt"
    if status_txt.is_file():
        for line in status_txt.read_text(errors="replace").splitlines()[:2]:
            print(f"guest: {line}")
    for line in v.lines:
        print(line)
    print(f"logs: {run_dir}")
    return v.status


def new_run_dir(work_dir: Path) -> Path:
    """A fresh run-<time>[-N] directory under work_dir."""
    work_dir.mkdir(parents=True, exist_ok=True)
    stem = time.strftime("run-%Y%m%d-%H%M%S")
    for n in range(1, 1000):
        path = work_dir / (stem if n == 1 else f"{stem}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise HarnessError(f"ci/qemu: cannot make a run directory under {work_dir}")


def main(argv: Sequence[str] | None = None) -> int:
    ns = parse_args(argv)
    log = StepLog()
    run_dir: Path | None = None
    try:
        if ns.cpus < 1:
            raise HarnessError("ci/qemu: --cpus must be positive")
        accel = choose_accel(ns.accel, ns.cpu, ns.cpus)
        cfg = build_config(ns, accel)
        kind, tool = choose_image(ns.image)
        say(f"{accel.why}; project image: {kind}{f' ({tool})' if tool else ''}")
        if ns.dry_run:
            print_plan(cfg, kind, vmm.guest_devices(kind))
            return 0
        anita = anita_compat.load_anita()
        if ns.reinstall and (cfg.work_dir / "base").exists():
            shutil.rmtree(cfg.work_dir / "base")
        run_dir = new_run_dir(cfg.work_dir)
        say(f"logs in {run_dir}")
        return run_guest(cfg, anita, kind, tool, log, run_dir)
    except HarnessError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ci/qemu: interrupted", file=sys.stderr)
        return 2
    except Exception as exc:  # anita, pexpect or OS failures: one line, logs kept
        where = f"; logs in {run_dir}" if run_dir is not None else ""
        last = log.records[-1] if log.records else None
        step = f"step '{last.name}' {last.status}: " if last and last.status != "ok" else ""
        print(f"ci/qemu: {step}{type(exc).__name__}: {first_line(exc)}{where}", file=sys.stderr)
        return 2
    finally:
        if run_dir is not None and run_dir.exists():
            log.write(run_dir / "steps.json")


if __name__ == "__main__":
    sys.exit(main())
