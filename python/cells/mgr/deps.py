"""Dependency order of cells (`depends_on`): a stable topological sort.

Dependencies come before dependents; ties are broken by name so the order is
the same on every run.  A cycle or a missing dependency raises
`DependencyError` whose message names the cells.  Callers: loader (reports
problems with line/col), plan (orders actions), daemon (start/stop order).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence


class DependencyError(Exception):
    def __init__(self, message: str, cell: str, index: int | None = None) -> None:
        super().__init__(message)
        self.cell = cell
        self.index = index


def order(deps: Mapping[str, Sequence[str]]) -> list[str]:
    """Names of `deps` so that each comes after everything it depends on."""
    for name in sorted(deps):
        for i, dep in enumerate(deps[name]):
            if dep == name:
                raise DependencyError("a cell cannot depend on itself", name, i)
            if dep not in deps:
                raise DependencyError(
                    f"no cell named {dep!r}; define it or remove the dependency", name, i
                )
    waiting = {name: len(set(d)) for name, d in deps.items()}
    users: dict[str, list[str]] = {name: [] for name in deps}
    for name, d in deps.items():
        for dep in set(d):
            users[dep].append(name)
    ready = [name for name, n in waiting.items() if n == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        name = heapq.heappop(ready)
        out.append(name)
        for user in users[name]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, user)
    if len(out) != len(deps):
        cycle = find_cycle({n: deps[n] for n in deps if waiting[n] > 0})
        raise DependencyError("dependency cycle: " + " -> ".join(cycle), cycle[0])
    return out


def find_cycle(deps: Mapping[str, Sequence[str]]) -> list[str]:
    """One cycle among `deps` (every node is on or leads to a cycle)."""
    start = min(deps)
    path: list[str] = []
    seen: dict[str, int] = {}
    node = start
    while node not in seen:
        seen[node] = len(path)
        path.append(node)
        node = min(d for d in deps[node] if d in deps)
    cycle = path[seen[node] :]
    return [*cycle, node]
