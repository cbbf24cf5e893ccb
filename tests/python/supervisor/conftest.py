"""Fixtures of the supervisor tests: an event recorder; no zombie may be left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sup_helpers
from sup_helpers import Recorder, new_zombies, zombie_children


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture(autouse=True)
def _no_zombies_left() -> Iterator[None]:
    """Every test must leave no zombie child behind (other suites' leftovers aside)."""
    sup_helpers.zombie_baseline = set(zombie_children())
    yield
    assert new_zombies() == set()
