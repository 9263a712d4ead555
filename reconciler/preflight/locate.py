"""Locate a plan-time problem at the field in the spec file that asks for it.

The desired state keeps where each database's name is written, not each field; so a file
holding a refused value is read again (only when there is one) and the field is found on
the database entry, or in the ``defaults`` beside it. Should the file have changed or
vanished since, the problem points at the database's name instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import SpecProblem
from reconciler.model import DatabaseSpec

logger = logging.getLogger(__name__)

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Refusal:
    """A problem with ``field`` of the database ``spec``, not yet located."""

    spec: DatabaseSpec
    field: str
    message: str


def locate(refusals: Iterable[Refusal], files: Sequence[str]) -> list[SpecProblem]:
    """Return ``refusals`` as located problems, in file order, then by position."""
    documents: dict[str, Any] = {}
    problems = [_problem(refusal, documents) for refusal in refusals]
    order = {file: index for index, file in enumerate(files)}
    return sorted(
        dict.fromkeys(problems),
        key=lambda p: (order.get(p.file, len(order)), p.line, p.column, p.path, p.message),
    )


def _problem(refusal: Refusal, documents: dict[str, Any]) -> SpecProblem:
    from reconciler.spec import render_path

    where = refusal.spec.location
    if where.file not in documents:
        documents[where.file] = _read(where.file)
    doc = documents[where.file]
    path = _field_path(doc, (where.line, where.column), refusal.field) if doc else None
    if doc is None or path is None:
        return SpecProblem(where.file, where.line, where.column, refusal.field, refusal.message)
    line, column = doc.position(path, key=True)
    message = refusal.message
    if "defaults" in path:
        message += f" (database {refusal.spec.name!r})"
    return SpecProblem(where.file, line, column, render_path(path), message)


def _read(file: str) -> Any:
    """Return the file's document (positions only: no variable is substituted), or None."""
    from reconciler.spec import read_document

    try:
        with open(file, encoding="utf-8-sig") as handle:
            return read_document(handle.read(), file, {})
    except Exception:  # any failure: the problem then points at the database's name
        logger.debug("cannot read %s again to locate a problem", file, exc_info=True)
        return None


def _field_path(doc: Any, name_at: tuple[int, int], field: str) -> Path | None:
    """Return the path of ``field`` for the database whose name is written at ``name_at``."""
    for path, position in doc.values.items():
        if position != name_at or len(path) != 5 or path[-1] != "name":
            continue
        entry: Path = path[:-1]
        database = _at(doc.data, entry)
        if isinstance(database, dict) and field in database:
            return (*entry, field)
        defaults = _at(doc.data, (*entry[:2], "defaults"))
        if isinstance(defaults, dict) and field in defaults:
            return (*entry[:2], "defaults", field)
    return None


def _at(data: Any, path: Path) -> Any:
    """Return the value at ``path`` inside ``data``; None when there is none."""
    for part in path:
        if not _has(data, part):
            return None
        data = data[part]
    return data


def _has(data: Any, part: str | int) -> bool:
    if isinstance(part, int):
        return isinstance(data, list) and 0 <= part < len(data)
    return isinstance(data, dict) and part in data
