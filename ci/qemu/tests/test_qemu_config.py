"""Release and sets resolution, time limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from ci.qemu import config
from ci.qemu.errors import HarnessError


def make_release_tree(root: Path, arch: str = "amd64", skip: tuple[str, ...] = ()) -> Path:
    sets = root / arch / "binary" / "sets"
    sets.mkdir(parents=True)
    for name in config.SETS:
        if name in skip or name == "syssrc":
            continue
        (sets / f"{name}.tar.xz").write_bytes(b"x")
    if "syssrc" not in skip:
        src = root / "source" / "sets"
        src.mkdir(parents=True)
        (src / "syssrc.tgz").write_bytes(b"x")
    return root


def test_default_is_the_cdn_arch_directory() -> None:
    assert config.resolve_dist(None, "10.1", "amd64") == (
        "https://cdn.netbsd.org/pub/NetBSD/NetBSD-10.1/amd64/"
    )


@pytest.mark.parametrize(
    ("given", "want"),
    [
        (
            "https://m.example/pub/NetBSD/NetBSD-10.1/",
            "https://m.example/pub/NetBSD/NetBSD-10.1/amd64/",
        ),
        (
            "https://m.example/pub/NetBSD/NetBSD-10.1",
            "https://m.example/pub/NetBSD/NetBSD-10.1/amd64/",
        ),
        ("http://m.example/NetBSD-10.1/amd64/", "http://m.example/NetBSD-10.1/amd64/"),
        ("ftp://m.example/NetBSD-10.1/amd64", "ftp://m.example/NetBSD-10.1/amd64/"),
    ],
)
def test_urls_end_in_the_port_directory(given: str, want: str) -> None:
    assert config.resolve_dist(given, "10.1", "amd64") == want


def test_local_release_root_and_arch_dir(tmp_path: Path) -> None:
    root = make_release_tree(tmp_path / "NetBSD-10.1")
    want = f"{root / 'amd64'}/"
    assert config.resolve_dist(str(root), "10.1", "amd64") == want
    assert config.resolve_dist(str(root / "amd64"), "10.1", "amd64") == want
    assert config.resolve_dist(f"file://{root}", "10.1", "amd64") == want


def test_local_tree_missing_sets_are_named(tmp_path: Path) -> None:
    root = make_release_tree(tmp_path / "rel", skip=("comp", "syssrc"))
    with pytest.raises(HarnessError) as exc:
        config.resolve_dist(str(root), "10.1", "amd64")
    msg = str(exc.value)
    assert "comp" in msg and "syssrc" in msg and "\n" not in msg


def test_not_a_release_tree(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="no amd64/binary/sets"):
        config.resolve_dist(str(tmp_path), "10.1", "amd64")
    with pytest.raises(HarnessError, match="not a directory"):
        config.resolve_dist(str(tmp_path / "nope"), "10.1", "amd64")
    with pytest.raises(HarnessError, match="unsupported scheme"):
        config.resolve_dist("rsync://x/y/", "10.1", "amd64")


@pytest.mark.parametrize("release", ["10.1", "9.4", "10.0_RC1", "10.1.1"])
def test_release_numbers_accepted(release: str) -> None:
    assert config.check_release(release) == release


@pytest.mark.parametrize("release", ["", "ten", "10", "10.1;rm"])
def test_bad_release_numbers(release: str) -> None:
    with pytest.raises(HarnessError, match="NETBSD_RELEASE"):
        config.check_release(release)


def test_tcg_limits_are_longer() -> None:
    kvm = config.limits(True)
    tcg = config.limits(False)
    assert set(kvm) == set(config.BASE_LIMITS)
    for step, seconds in kvm.items():
        assert tcg[step] == seconds * config.TCG_FACTOR
    assert config.limits(True, 2.0)["install"] == 2 * kvm["install"]


def test_sets_include_what_the_module_build_needs() -> None:
    for needed in ("kern-GENERIC", "base", "etc", "comp", "syssrc"):
        assert needed in config.SETS


def test_kernel_from_a_local_tree_or_a_url(tmp_path: Path) -> None:
    root = make_release_tree(tmp_path / "rel")
    dist = config.resolve_dist(str(root), "10.1", "amd64")
    with pytest.raises(HarnessError, match=r"provide no binary/kernel/netbsd-DIAGNOSTIC\.gz"):
        config.resolve_kernel("sets:DIAGNOSTIC", dist)
    kdir = root / "amd64" / "binary" / "kernel"
    kdir.mkdir(parents=True)
    (kdir / "netbsd-DIAGNOSTIC.gz").write_bytes(b"k")
    assert config.resolve_kernel("sets:DIAGNOSTIC", dist) == (kdir / "netbsd-DIAGNOSTIC.gz", "")
    url = config.default_sets_url("10.1", "amd64")
    assert config.resolve_kernel("sets:DIAGNOSTIC", url) == (
        None,
        url + "binary/kernel/netbsd-DIAGNOSTIC.gz",
    )


def test_kernel_file_and_bad_specs(tmp_path: Path) -> None:
    k = tmp_path / "netbsd"
    k.write_bytes(b"k")
    assert config.resolve_kernel(str(k), "/x/amd64/") == (k, "")
    assert config.resolve_kernel("", "/x/amd64/") == (None, "")
    with pytest.raises(HarnessError, match="no such file"):
        config.resolve_kernel(str(tmp_path / "none"), "/x/amd64/")
    with pytest.raises(HarnessError, match="want sets:<CONF>"):
        config.resolve_kernel("sets:../../etc", "/x/amd64/")
