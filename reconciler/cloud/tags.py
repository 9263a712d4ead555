"""Database tags: ``GET`` and ``PUT /subscriptions/{id}/databases/{id}/tags``.

Both calls are synchronous (no task). ``GET`` answers
``{"accountId", "tags": [{"key", "value", "createdAt", "updatedAt", "links"}], "links"}``
and may leave ``tags`` out when a database has none; ``PUT`` takes ``{"tags": [{"key",
"value"}]}`` and replaces every tag of the database, so ``{"tags": []}`` removes them all.
Tags are read only for databases whose spec manages them (:func:`tag_names`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.cloud import paths
from reconciler.errors import BadResponseError
from reconciler.model import DesiredState, LiveDatabase

#: ``get(path)``: the client's GET (or one that also checks a stop flag).
GetTags = Callable[[str], Any]


def tags_body(tags: Mapping[str, str]) -> dict[str, Any]:
    """Return the ``PUT …/tags`` body that leaves exactly ``tags`` on a database."""
    return {"tags": [{"key": key, "value": value} for key, value in tags.items()]}


def tags_of(answer: Any, method: str, path: str) -> dict[str, str]:
    """Return the tags (key → value, in answer order) of a tags answer or a ``PUT`` body.

    An object without ``tags`` means no tags.

    Raises:
        BadResponseError: not an object, ``tags`` not a list of ``{key, value}`` strings,
            or a key listed twice.
    """
    if not isinstance(answer, Mapping):
        raise BadResponseError(method, path, 200, "", "expected a tags object")
    listed = answer.get("tags", [])
    if not isinstance(listed, list):
        raise BadResponseError(method, path, 200, "", "expected 'tags' to be a list")
    found: dict[str, str] = {}
    for index, tag in enumerate(listed):
        key = tag.get("key") if isinstance(tag, Mapping) else None
        value = tag.get("value") if isinstance(tag, Mapping) else None
        if not isinstance(key, str) or not isinstance(value, str):
            message = f"tag {index} is not a {{key, value}} pair of strings"
            raise BadResponseError(method, path, 200, "", message)
        if key in found:
            raise BadResponseError(method, path, 200, "", f"tag key {key!r} is listed twice")
        found[key] = value
    return found


def read_tags(get: GetTags, subscription_id: int, database_id: int) -> dict[str, str]:
    """Return the tags of one database.

    Raises:
        BadResponseError: the answer is not a tags object (see :func:`tags_of`).
        ApiError: the GET failed.
    """
    path = paths.database_tags(subscription_id, database_id)
    return tags_of(get(path), "GET", path)


def with_tags(get: GetTags, subscription_id: int, database: LiveDatabase) -> LiveDatabase:
    """Return ``database`` with its tags read (see :func:`read_tags` for what it raises)."""
    return replace(database, tags=read_tags(get, subscription_id, database.id))


def tag_names(desired: DesiredState) -> dict[int, frozenset[str]]:
    """Subscription id → names of the present databases whose spec manages tags.

    A subscription may appear in several files, so names are gathered across all of them.
    """
    names: dict[int, set[str]] = {}
    for spec in desired.subscriptions:
        bucket = names.setdefault(spec.id, set())
        bucket.update(d.name for d in spec.databases if d.state == "present" and d.tags is not None)
    return {i: frozenset(n) for i, n in names.items()}
