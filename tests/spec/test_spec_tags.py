"""Tests for database ``tags`` in the spec: validation, defaults, the OpenAPI request shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.cloud import tags_body
from reconciler.errors import SpecError
from reconciler.model import DesiredState
from reconciler.spec import load_spec

OPENAPI = Path(__file__).resolve().parents[1] / "openapi" / "redis-cloud-openapi.trimmed.json"
HEAD = "version: 1\nsubscriptions:\n  - id: 1\n"


def load(tmp_path: Path, text: str) -> DesiredState:
    (tmp_path / "prod.yaml").write_text(HEAD + text)
    return load_spec([str(tmp_path / "prod.yaml")], {"TEAM": "payments"})


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load(tmp_path, text)
    return [str(p).replace(f"{tmp_path}/", "") for p in caught.value.problems]


def tags_of(state: DesiredState) -> dict[str, Any]:
    return {d.name: d.tags for s in state.subscriptions for d in s.databases}


def test_tags_are_carried_apart_from_the_request_fields(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        "    databases:\n"
        "      - {name: a, datasetSizeInGb: 1, tags: {env: prod, team: '${TEAM}'}}\n"
        "      - {name: b, tags: {}}\n"
        "      - {name: c}\n",
    )
    assert tags_of(state) == {"a": {"env": "prod", "team": "payments"}, "b": {}, "c": None}
    assert dict(state.subscriptions[0].databases[0].fields) == {"datasetSizeInGb": 1}


def test_defaults_tags_apply_whole_unless_the_database_has_its_own(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        "    defaults:\n"
        "      tags: {env: prod, team: core}\n"
        "    databases:\n"
        "      - {name: a}\n"
        "      - {name: b, tags: {team: payments}}\n"
        "      - {name: c, tags: {}}\n",
    )
    assert tags_of(state) == {
        "a": {"env": "prod", "team": "core"},
        "b": {"team": "payments"},
        "c": {},
    }


def test_bad_tags_are_located_problems(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "    databases:\n"
        "      - name: a\n"
        "        tags:\n"
        "          env: prod\n"
        "          Team: payments\n"
        "          owner: Ana\n"
        "          cost-center: 700\n"
        '          "": x\n'
        "          note: ''\n"
        "      - name: b\n"
        "        tags: [env]\n",
    )
    where = "prod.yaml:{}: subscriptions[0].databases[{}].tags"
    assert found == [
        where.format("8:11", 0) + ".Team: 'Team': a tag key is lower case (the API refuses "
        "capital letters)",
        where.format("9:18", 0) + ".owner: 'Ana': a tag value is lower case (the API refuses "
        "capital letters)",
        where.format("10:24", 0) + ".cost-center: expected a string, got 700; write it in "
        'quotes: "700"',
        where.format("11:11", 0) + "['']: must not be empty",
        where.format("12:17", 0) + ".note: must not be empty",
        where.format("14:15", 1) + ": expected a mapping, got a list",
    ]


def test_the_tags_body_matches_the_openapi_request() -> None:
    schemas = json.loads(OPENAPI.read_text())["components"]["schemas"]
    request = schemas["DatabaseTagsUpdateRequest"]
    writable = {k for k, v in request["properties"].items() if not v.get("readOnly")}
    assert writable == set(request["required"]) == {"tags"}
    tag = schemas["tag"]
    assert {k for k, v in tag["properties"].items() if not v.get("readOnly")} == {"key", "value"}
    (item,) = tags_body({"env": "prod"})["tags"]
    assert set(item) == set(tag["required"])
