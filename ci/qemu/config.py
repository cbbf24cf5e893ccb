"""What one QEMU run installs and where its sets come from.

Owns the release defaults (NetBSD 10.1 amd64), the list of sets installed,
the resolution of NETBSD_SETS (a URL or a local release tree) into the
distribution argument anita expects, and the per-step time limits.
ci.qemu.run builds a RunConfig from the command line; the other modules only
read it.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from ci.qemu.errors import HarnessError

DEFAULT_RELEASE = "10.1"
DEFAULT_ARCH = "amd64"
CDN_BASE = "https://cdn.netbsd.org/pub/NetBSD/"

# Installed by sysinst.  anita's Version class names exactly these sets;
# kern-GENERIC, base and etc are required by it, comp brings cc and the
# bsd.*.mk files, syssrc the kernel sources that `make S=/usr/src/sys`
# builds the module against, tests the ATF tools' support files.
SETS: tuple[str, ...] = (
    "kern-GENERIC",
    "modules",
    "base",
    "etc",
    "comp",
    "tests",
    "syssrc",
)
# The extensions anita tries for each set, newest first.
SET_EXTS: tuple[str, ...] = (".tar.xz", ".tgz")

# Per-step limits in seconds under KVM; TCG multiplies them (see limits()).
BASE_LIMITS: dict[str, float] = {
    "image": 120.0,
    "sets": 3600.0,  # fetching and checking about 0.3 GB of sets
    "install": 2400.0,
    "boot": 600.0,
    "build": 1800.0,
    "kernel": 5400.0,
    "tests": 2400.0,
    "python": 1800.0,
    "save": 300.0,
    "reboot-probe": 120.0,
    "halt": 120.0,
}
TCG_FACTOR = 6.0

_RELEASE_RE = re.compile(r"^[0-9]+\.[0-9]+(\.[0-9]+)?(_[A-Z0-9]+)?$")
_ARCH_RE = re.compile(r"^[a-z0-9_-]+$")


@dataclass(frozen=True)
class RunConfig:
    """Everything a run needs, after validation."""

    release: str
    arch: str
    dist: str  # what anita.distribution() receives: URL or directory, "/"-terminated
    work_dir: Path
    repo_root: Path
    kvm: bool
    cpu: str = ""  # the -cpu model under KVM (vmm.choose_cpu); empty under TCG
    cpus: int = 2
    memory: str = "1024M"
    disk_size: str = "8G"
    image_kind: str = "auto"  # auto | iso | tar
    python_tests: str = "auto"  # auto | require | off
    pkg_path: str = ""
    kernel: Path | None = None  # a kernel file on this host, or
    kernel_url: str = ""  # one the sets provide, fetched at run time
    kernel_options: tuple[str, ...] = ()
    reboot_probe: bool = True
    timeout_scale: float = 1.0
    sets: tuple[str, ...] = field(default=SETS)

    def limit(self, step: str) -> float:
        """The time limit of one step, in seconds."""
        return limits(self.kvm, self.timeout_scale)[step]


def limits(kvm: bool, scale: float = 1.0) -> dict[str, float]:
    """Per-step limits: the KVM figures, times TCG_FACTOR without KVM."""
    factor = scale * (1.0 if kvm else TCG_FACTOR)
    return {name: seconds * factor for name, seconds in BASE_LIMITS.items()}


def check_release(release: str) -> str:
    """Validate a release number such as 10.1 or 9.4."""
    if not _RELEASE_RE.match(release):
        raise HarnessError(
            f"ci/qemu: --release {release!r} is not a NetBSD release number;"
            " use e.g. NETBSD_RELEASE=10.1"
        )
    return release


def default_sets_url(release: str, arch: str) -> str:
    """The NetBSD CDN directory of a release's sets for one port."""
    return f"{CDN_BASE}NetBSD-{release}/{arch}/"


def resolve_dist(sets: str | None, release: str, arch: str) -> str:
    """Turn NETBSD_SETS (URL, local directory or nothing) into anita's argument.

    anita takes the port from the last path component, so the result always
    ends in "/<arch>/"; a release root ("…/NetBSD-10.1/") gets the port
    appended.  Local directories are checked for the sets this run installs.
    """
    if not _ARCH_RE.match(arch):
        raise HarnessError(f"ci/qemu: --arch {arch!r} is not a NetBSD port name; use amd64")
    if not sets:
        return default_sets_url(release, arch)
    scheme = urllib.parse.urlsplit(sets).scheme
    if scheme in ("http", "https", "ftp"):
        return _arch_dir_url(sets, arch)
    if scheme == "file":
        sets = urllib.parse.urlsplit(sets).path
    elif scheme:
        raise HarnessError(
            f"ci/qemu: NETBSD_SETS={sets!r}: unsupported scheme {scheme!r};"
            " give an http(s)/ftp URL or a local directory"
        )
    return _local_arch_dir(Path(sets), arch)


def _arch_dir_url(url: str, arch: str) -> str:
    parts = urllib.parse.urlsplit(url)
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    last = path.rstrip("/").rsplit("/", 1)[-1]
    if last != arch:
        path = f"{path}{arch}/"
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _set_present(directory: Path, name: str) -> bool:
    return any((directory / (name + ext)).is_file() for ext in SET_EXTS)


def _local_arch_dir(path: Path, arch: str) -> str:
    path = path.expanduser().resolve()
    if not path.is_dir():
        raise HarnessError(
            f"ci/qemu: NETBSD_SETS={str(path)!r} is not a directory;"
            " give a release tree (…/NetBSD-10.1 or …/NetBSD-10.1/amd64) or a URL"
        )
    arch_dir = path if path.name == arch else path / arch
    bin_sets = arch_dir / "binary" / "sets"
    if not bin_sets.is_dir():
        raise HarnessError(
            f"ci/qemu: NETBSD_SETS={str(path)!r}: no {arch}/binary/sets under it;"
            f" expected a release tree laid out like the CDN's NetBSD-<release>/{arch}/"
        )
    missing = [s for s in SETS if s != "syssrc" and not _set_present(bin_sets, s)]
    if not _set_present(arch_dir.parent / "source" / "sets", "syssrc"):
        missing.append("syssrc (in ../source/sets)")
    if missing:
        raise HarnessError(
            f"ci/qemu: NETBSD_SETS={str(path)!r}: missing sets: {', '.join(missing)};"
            " copy them from the release (binary/sets and source/sets)"
        )
    return str(arch_dir) + os.sep


_KERNEL_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")


def resolve_kernel(spec: str, dist: str) -> tuple[Path | None, str]:
    """--kernel: a file on this host, or sets:NAME for the sets' netbsd-NAME.gz.

    Returns (local path, URL); at most one is set.  A release tree built with
    a DIAGNOSTIC kernel configuration carries it as binary/kernel/netbsd-<CONF>.gz
    next to its sets; sets:<CONF> picks it from a local tree or a URL.
    """
    if not spec:
        return None, ""
    if spec.startswith("sets:"):
        name = spec[len("sets:") :]
        if not _KERNEL_NAME_RE.match(name):
            raise HarnessError(
                f"ci/qemu: --kernel {spec!r}: want sets:<CONF>, e.g. sets:DIAGNOSTIC"
            )
        rel = f"binary/kernel/netbsd-{name}.gz"
        if dist.startswith("/"):
            path = Path(dist) / rel
            if not path.is_file():
                raise HarnessError(
                    f"ci/qemu: --kernel {spec}: the sets at {dist} provide no {rel};"
                    " build one (build.sh kernel=<CONF>) or give a kernel file"
                )
            return path, ""
        return None, dist + rel
    path = Path(spec).expanduser()
    if not path.is_file():
        raise HarnessError(f"ci/qemu: --kernel {spec}: no such file")
    return path.resolve(), ""
