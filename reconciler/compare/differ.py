"""Field-level differences between two canonical, request-shaped mappings.

The only module that imports :mod:`deepdiff`. Equality is decided first by a cheap strict
comparison (numbers numerically, booleans apart from numbers, sets as sets, secrets by
value); DeepDiff is consulted only for a nested mapping that already differs, to name the
sub-fields that changed (``remoteBackup.timeUTC``). Secrets never reach DeepDiff: a field
holding one is reported whole and marked sensitive.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from reconciler.compare.fields import SECRET_FIELDS
from reconciler.plan import FieldChange
from reconciler.secrets import Secret, has_credentials, iter_leaves, map_leaves

_ABSENT = object()


def diff_fields(
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    *,
    ignore: Collection[str] = (),
) -> tuple[FieldChange, ...]:
    """Return the changes that turn ``live`` into ``desired``, in ``desired``'s key order.

    Only keys present in ``desired`` are compared; a key missing from ``live`` reads as
    None. ``ignore`` holds field paths (``alerts``, ``remoteBackup.timeUTC``) left out,
    together with everything below them. Changes involving a secret have
    ``sensitive=True`` and keep every clear string wrapped in :class:`Secret`. Never raises
    on unexpected value types: they simply compare unequal.
    """
    ignored = frozenset(ignore)
    changes: list[FieldChange] = []
    for field, want in desired.items():
        if is_ignored(field, ignored):
            continue
        have = live.get(field)
        if not same(want, have):
            changes.extend(
                c for c in _field_changes(field, want, have) if not is_ignored(c.path, ignored)
            )
    return tuple(changes)


def same(a: Any, b: Any) -> bool:
    """Return True when two JSON-like values are equal for planning purposes.

    Numbers compare numerically (``2 == 2.0``) but never equal a boolean; sets compare as
    sets; a :class:`Secret` equals a Secret or plain string holding the same value; lists
    compare in order; mappings by keys and values. Any other type mismatch is unequal.
    """
    kind = type(a)
    if kind is type(b) and (kind is str or kind is int or kind is bool or a is None):
        return bool(a == b)  # the common case, without the isinstance chain below
    if isinstance(a, Secret) or isinstance(b, Secret):
        return _secret_text(a) is not None and _secret_text(a) == _secret_text(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same(v, b[k]) for k, v in a.items())
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (set, frozenset)) and isinstance(b, (set, frozenset)):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _secret_text(value: Any) -> str | None:
    """Return the text a secret or string holds (revealed only for comparison), else None."""
    if isinstance(value, Secret):
        return value.reveal()
    return value if isinstance(value, str) else None


def is_ignored(path: str, ignored: frozenset[str]) -> bool:
    """Return True when ``path`` or one of its parents is ignored."""
    if not ignored:
        return False
    parts = path.split(".")
    return any(".".join(parts[:i]) in ignored for i in range(1, len(parts) + 1))


def _field_changes(field: str, want: Any, have: Any) -> list[FieldChange]:
    """Return the changes for one differing field: sub-fields for mappings, else whole."""
    if _holds_secret(want) or _holds_secret(have) or field in SECRET_FIELDS:
        return [FieldChange(field, _wrap(have), _wrap(want), sensitive=True)]
    if isinstance(want, Mapping) and isinstance(have, Mapping):
        subpaths = _changed_subpaths(have, want)
        if subpaths:
            return [
                FieldChange(
                    ".".join([field, *path]), _display(_at(have, path)), _display(_at(want, path))
                )
                for path in subpaths
            ]
    return [FieldChange(field, _display(have), _display(want))]


def _holds_secret(value: Any) -> bool:
    """Return True when a value holds a Secret or a clear string carrying credentials."""
    return any(
        isinstance(leaf, Secret) or (isinstance(leaf, str) and has_credentials(leaf))
        for leaf in iter_leaves(value, sets=True)
    )


def _changed_subpaths(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[list[str]]:
    """Return the key paths (list indexes cut off) DeepDiff reports between two mappings."""
    # Imported on first use: most plans never need it, and the spec loader imports this
    # package (for the field catalogue) where DeepDiff's import time would be wasted.
    from deepdiff import DeepDiff

    diff = DeepDiff(before, after, ignore_numeric_type_changes=True, view="tree")
    paths: list[list[str]] = []
    for levels in diff.values():
        for level in levels:
            path = []
            for part in level.path(output_format="list"):
                if not isinstance(part, str):
                    break
                path.append(part)
            if path and path not in paths:
                paths.append(path)
    return sorted(paths)


def _at(value: Any, path: list[str]) -> Any:
    """Return the value at a key path, or None where it is absent."""
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def _display(value: Any) -> Any:
    """Return a value fit for a FieldChange: sets as sorted lists."""
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return value


def _wrap(value: Any) -> Any:
    """Return a value with every clear string wrapped in Secret (for sensitive changes)."""
    return map_leaves(value, _wrap_text, sets=True)


def _wrap_text(leaf: Any) -> Any:
    return Secret(leaf) if isinstance(leaf, str) else leaf
