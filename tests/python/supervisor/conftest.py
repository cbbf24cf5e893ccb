"""Fixtures of the supervisor tests: an event recorder; no zombie may be left."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sup_helpers import Recorder, zombie_children


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture(autouse=True)
def _no_zombies_left() -> Iterator[None]:
    """Every test must leave no zombie child behind."""
    yield
    assert zombie_children() == []
