"""The checks that need no network, on one spec document (before any merge).

Run by the spec loader on every document, so ``validate``, ``plan`` and ``apply`` all report
them, located, before any request. A database's fields are those written on it, over those
of the ``defaults`` beside it (as the merge does); each problem points at the field where
it is written, on the database or in the defaults. Values of a wrong type (reported by the
JSON Schema already) simply break no rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.preflight.rules import broken_rules

#: Keys of a database entry that are reconciler's own, not request fields.
OWN_KEYS = frozenset({"name", "state", "lifecycle", "import"})

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Finding:
    """A broken rule: ``path`` is the field it is about, inside the document."""

    rule: str
    path: Path
    message: str


@dataclass(frozen=True)
class Entry:
    """One database entry of a document: its merged fields and where each is written."""

    name: Any
    fields: Mapping[str, Any]
    written: Mapping[str, Path]


def check_document(data: Any) -> list[Finding]:
    """Return the rules the databases of one spec document break (document order).

    A problem with a field written in ``defaults`` names the database it breaks the rule for.
    """
    findings: list[Finding] = []
    for entry in entries(data):
        for rule in broken_rules(entry.fields, entry.written, new=None):
            path = entry.written[rule.at]
            message = rule.message(entry.fields)
            if "defaults" in path:
                message += f" (database {entry.name!r})"
            findings.append(Finding(rule.id, path, message))
    return findings


def entries(data: Any) -> Iterator[Entry]:
    """Yield every present database entry of a document, defaults merged underneath."""
    for sub_index, sub in _mappings(data.get("subscriptions") if isinstance(data, dict) else None):
        sub_path: Path = ("subscriptions", sub_index)
        defaults = sub.get("defaults")
        base = _request_fields(defaults, (*sub_path, "defaults"))
        for index, database in _mappings(sub.get("databases")):
            if database.get("state") == "absent":
                continue
            own = _request_fields(database, (*sub_path, "databases", index))
            written = {**base, **own}
            fields = {name: _value(name, database, defaults) for name in written}
            yield Entry(database.get("name"), fields, written)


def _request_fields(mapping: Any, path: Path) -> dict[str, Path]:
    if not isinstance(mapping, dict):
        return {}
    return {key: (*path, key) for key in mapping if key not in OWN_KEYS}


def _value(name: str, database: dict[str, Any], defaults: Any) -> Any:
    return database[name] if name in database else defaults[name]


def _mappings(value: Any) -> Iterator[tuple[int, dict[str, Any]]]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict):
                yield index, item
