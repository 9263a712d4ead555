"""Paths inside a spec document, positions in its file, and located problems.

A path is a tuple of mapping keys and list indexes, e.g. ``("subscriptions", 0, "id")``;
a position is a 1-based ``(line, column)``, ``(0, 0)`` when unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from reconciler.errors import SpecProblem

Path = tuple[str | int, ...]
Position = tuple[int, int]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def render_path(path: Iterable[str | int]) -> str:
    """Return a path as users read it: ``subscriptions[0].databases[2].name``."""
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENTIFIER.fullmatch(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{part!r}]")
    return "".join(out)


def located(file: str, position: Position, path: Path, message: str) -> SpecProblem:
    """Return a :class:`SpecProblem` at ``position`` of ``file`` about ``path``."""
    return SpecProblem(file, position[0], position[1], render_path(path), message)


class DocumentError(Exception):
    """The file cannot be read further; ``problem`` says where and why."""

    def __init__(self, problem: SpecProblem) -> None:
        self.problem = problem
        super().__init__(str(problem))
