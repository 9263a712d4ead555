"""Database tags: ``/subscriptions/{subscriptionId}/databases/{databaseId}/tags``.

Tags are synchronous (no task) and are kept on the database record, so they survive in
the saved state. ``GET …/tags`` answers the OpenAPI ``CloudTags`` shape
``{accountId, tags: [{key, value, createdAt, updatedAt, links}], links}``; a database whose
tags were never written has no ``tags`` key at all, as the Go SDK's tests show for a fresh
database. ``PUT …/tags`` ``{"tags": [{key, value}]}`` replaces every tag, ``POST …/tags``
``{key, value}`` adds one (409 when the key exists), ``PUT …/tags/{tagKey}`` ``{value}``
changes one and ``DELETE …/tags/{tagKey}`` removes one (404 when the key is unknown).

Keys and values must be lower case (the Terraform provider enforces it, as the API
requires); the lengths and the count per database are this simulator's own bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from reconciler.simulator import logtext, systemlog
from reconciler.simulator.checks import array, check_fields, obj, string
from reconciler.simulator.records import Record
from reconciler.simulator.replies import ApiProblem, Reply, bad_request
from reconciler.simulator.timeline import iso_time

if TYPE_CHECKING:  # the seed imports this module, and the api module imports the seed
    from reconciler.simulator.api import ApiRequest, Simulator

TAG_KEY_MAX_LENGTH = 128
TAG_VALUE_MAX_LENGTH = 256
MAX_TAGS = 100
_READ_ONLY = ("subscriptionId", "databaseId", "commandType")


def _lower_case(path: str, value: Any, max_length: int) -> str:
    text: str = string("BAD_REQUEST", max_length)(path, value)
    if text != text.lower():
        raise bad_request(f'"{path}" must be lower case, got "{text[:40]}"')
    return text


def _tag_key(path: str, value: Any) -> str:
    return _lower_case(path, value, TAG_KEY_MAX_LENGTH)


def _tag_value(path: str, value: Any) -> str:
    return _lower_case(path, value, TAG_VALUE_MAX_LENGTH)


_TAG = obj({"key": _tag_key, "value": _tag_value}, required=("key", "value"), ignored=_READ_ONLY)


def _body(request: ApiRequest) -> Mapping[str, Any]:
    if not isinstance(request.body, dict):
        raise bad_request("The request body must be a JSON object")
    return request.body


def _stored(record: Record) -> list[dict[str, Any]]:
    tags: list[dict[str, Any]] = record.get("tags") or []
    return tags


def _tags_path(request: ApiRequest) -> str:
    params = request.params
    return (
        f"{request.base_url}/subscriptions/{params['subscriptionId']}"
        f"/databases/{params['databaseId']}/tags"
    )


def _render_tag(tag: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key": tag["key"],
        "value": tag["value"],
        "createdAt": iso_time(float(tag["createdAt"])),
        "updatedAt": iso_time(float(tag["updatedAt"])),
        "links": [],
    }


def _render_tags(sim: Simulator, record: Record, request: ApiRequest) -> dict[str, Any]:
    view: dict[str, Any] = {"accountId": sim.account.account_id}
    if record.get("tags") is not None:
        view["tags"] = [_render_tag(tag) for tag in record["tags"]]
    view["links"] = [{"rel": "self", "type": "GET", "href": _tags_path(request)}]
    return view


def _ids(record: Record) -> tuple[str, int]:
    return str(record["name"]), int(record["databaseId"])


def _path_key(request: ApiRequest) -> str:
    return unquote(str(request.params["tagKey"]))


def _find(record: Record, key: str) -> dict[str, Any]:
    found = next((tag for tag in _stored(record) if tag["key"] == key), None)
    if found is None:
        raise ApiProblem(404, "ENTITY_NOT_FOUND", f'Tag "{key[:40]}" not found')
    return found


def _log(sim: Simulator, request: ApiRequest, record: Record, now: float, text: str) -> None:
    systemlog.write_entry(sim.account, now, sim.author(request), str(record["name"]), text)


def get_tags(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """GET …/tags: ``CloudTags``; no ``tags`` key until tags were first written."""
    _, record = sim.database(request, now)
    return Reply(200, _render_tags(sim, record, request))


def replace_tags(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """PUT …/tags: replace every tag; answers the new ``CloudTags``.

    Raises:
        ApiProblem: 404 unknown database; 400 bad body, a key twice, too many tags.
    """
    _, record = sim.database(request, now)
    fields = check_fields(
        "", _body(request), {"tags": array(_TAG)}, required=("tags",), ignored=_READ_ONLY
    )
    keys = [tag["key"] for tag in fields["tags"]]
    if len(keys) != len(set(keys)):
        raise bad_request('"tags" names the same key twice')
    if len(keys) > MAX_TAGS:
        raise bad_request(f"A database can have at most {MAX_TAGS} tags, got {len(keys)}")
    before = {tag["key"]: tag for tag in _stored(record)}
    record["tags"] = [_updated(before.get(tag["key"]), tag, now) for tag in fields["tags"]]
    sim.changed()
    _log(sim, request, record, now, logtext.tags_set_text(*_ids(record), fields["tags"]))
    return Reply(200, _render_tags(sim, record, request))


def _updated(old: Mapping[str, Any] | None, new: Mapping[str, Any], now: float) -> dict[str, Any]:
    if old is None:
        return {"key": new["key"], "value": new["value"], "createdAt": now, "updatedAt": now}
    changed = old["value"] != new["value"]
    return {**old, "value": new["value"], "updatedAt": now if changed else old["updatedAt"]}


def add_tag(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """POST …/tags: add one tag; answers the ``CloudTag``.

    Raises:
        ApiProblem: 404 unknown database; 400 bad body or too many tags; 409 key exists.
    """
    _, record = sim.database(request, now)
    tag = _TAG("", _body(request))
    tags = _stored(record)
    if any(existing["key"] == tag["key"] for existing in tags):
        raise ApiProblem(409, "CONFLICT_ERROR", f'Tag "{tag["key"]}" already exists')
    if len(tags) >= MAX_TAGS:
        raise bad_request(f"A database can have at most {MAX_TAGS} tags")
    stored = _updated(None, tag, now)
    record["tags"] = [*tags, stored]
    sim.changed()
    _log(sim, request, record, now, logtext.tag_added_text(*_ids(record), tag["key"], tag["value"]))
    return Reply(200, _render_tag(stored))


def update_tag(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """PUT …/tags/{tagKey}: change one tag's value; answers the ``CloudTag``.

    Raises:
        ApiProblem: 404 unknown database or tag; 400 bad body.
    """
    _, record = sim.database(request, now)
    fields = check_fields(
        "", _body(request), {"value": _tag_value}, required=("value",), ignored=(*_READ_ONLY, "key")
    )
    tag = _find(record, _path_key(request))
    old = tag["value"]
    tag.update(_updated(tag, {"key": tag["key"], "value": fields["value"]}, now))
    sim.changed()
    text = logtext.tag_changed_text(*_ids(record), tag["key"], old, tag["value"])
    _log(sim, request, record, now, text)
    return Reply(200, _render_tag(tag))


def delete_tag(sim: Simulator, request: ApiRequest, now: float) -> Reply:
    """DELETE …/tags/{tagKey}: remove one tag; answers ``{}``.

    Raises:
        ApiProblem: 404 unknown database or tag.
    """
    _, record = sim.database(request, now)
    tag = _find(record, _path_key(request))
    record["tags"] = [other for other in _stored(record) if other is not tag]
    sim.changed()
    _log(sim, request, record, now, logtext.tag_removed_text(*_ids(record), tag["key"]))
    return Reply(200, {})


def seed_tags(path: str, value: Any, now: float) -> list[dict[str, Any]]:
    """Return the stored tags of a seed database's ``tags`` mapping (key → value).

    Raises:
        ApiProblem: not a mapping, a key or value breaking the tag rules, too many tags.
    """
    if not isinstance(value, dict):
        raise bad_request(f'"{path}" must be a mapping of tag keys to values')
    if len(value) > MAX_TAGS:
        raise bad_request(f"A database can have at most {MAX_TAGS} tags, got {len(value)}")
    return [
        _updated(None, {"key": _tag_key(path, key), "value": _tag_value(f"{path}.{key}", v)}, now)
        for key, v in value.items()
    ]
