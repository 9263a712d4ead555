"""Database tags (reconciler/simulator/tags.py), over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import FakeClock, SimApi

from reconciler.errors import UsageError
from reconciler.simulator import RunningSimulator
from reconciler.simulator.seed import account_from_document

PROD = "/subscriptions/2001234"
SESSIONS = f"{PROD}/databases/51170941"
TAGS = f"{SESSIONS}/tags"
START = "2027-01-15T08:00:00Z"  # the fake clock's start, 1_800_000_000
LATER = "2027-01-15T08:01:40Z"  # 100 s later


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, task_seconds=1.0, provision_seconds=1.0))


def tag(key: str, value: str, created: str = START, updated: str = START) -> dict[str, Any]:
    return {"key": key, "value": value, "createdAt": created, "updatedAt": updated, "links": []}


def links(api: SimApi) -> list[dict[str, str]]:
    return [{"rel": "self", "type": "GET", "href": f"{api.url}{TAGS}"}]


def test_a_database_never_tagged_has_no_tags_key(api: SimApi) -> None:
    answer = api.get(TAGS)
    assert answer.status_code == 200
    assert answer.json() == {"accountId": 1001, "links": links(api)}


def test_put_replaces_every_tag_synchronously(api: SimApi, fake_clock: FakeClock) -> None:
    first = api.put(
        TAGS, {"tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": "a"}]}
    )
    assert first.status_code == 200
    assert "taskId" not in first.json()
    fake_clock.advance(100)
    second = api.put(
        TAGS, {"tags": [{"key": "env", "value": "prod"}, {"key": "owner", "value": "b"}]}
    )
    expected = {
        "accountId": 1001,
        "tags": [tag("env", "prod"), tag("owner", "b", LATER, LATER)],
        "links": links(api),
    }
    assert second.json() == expected
    assert api.get(TAGS).json() == expected


def test_put_with_no_tags_leaves_an_empty_list(api: SimApi) -> None:
    api.put(TAGS, {"tags": [{"key": "env", "value": "prod"}]})
    assert api.put(TAGS, {"tags": []}).json()["tags"] == []
    assert api.get(TAGS).json()["tags"] == []


def test_post_adds_one_and_refuses_an_existing_key(api: SimApi) -> None:
    added = api.post(TAGS, {"key": "env", "value": "prod"})
    assert (added.status_code, added.json()) == (200, tag("env", "prod"))
    again = api.post(TAGS, {"key": "env", "value": "dev"})
    assert again.status_code == 409
    assert again.json()["error"] == {
        "type": "CONFLICT_ERROR",
        "status": "409 CONFLICT",
        "description": 'Tag "env" already exists',
    }
    assert api.get(TAGS).json()["tags"] == [tag("env", "prod")]


def test_put_one_changes_its_value(api: SimApi, fake_clock: FakeClock) -> None:
    api.post(TAGS, {"key": "env", "value": "prod"})
    fake_clock.advance(100)
    changed = api.put(f"{TAGS}/env", {"value": "dev"})
    assert (changed.status_code, changed.json()) == (200, tag("env", "dev", START, LATER))
    assert api.get(TAGS).json()["tags"] == [tag("env", "dev", START, LATER)]


def test_delete_one(api: SimApi) -> None:
    api.put(TAGS, {"tags": [{"key": "env", "value": "prod"}, {"key": "team", "value": "a"}]})
    deleted = api.delete(f"{TAGS}/team")
    assert (deleted.status_code, deleted.json()) == (200, {})
    assert api.get(TAGS).json()["tags"] == [tag("env", "prod")]


@pytest.mark.parametrize(("method", "body"), [("PUT", {"value": "x"}), ("DELETE", None)])
def test_unknown_tag_key_is_404(api: SimApi, method: str, body: Any) -> None:
    answer = api.request(method, f"{TAGS}/nope", json=body)
    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "type": "ENTITY_NOT_FOUND",
        "status": "404 NOT_FOUND",
        "description": 'Tag "nope" not found',
    }


def test_tag_key_in_the_path_is_url_decoded(api: SimApi) -> None:
    api.post(TAGS, {"key": "cost center", "value": "r&d"})
    assert api.put(f"{TAGS}/cost%20center", {"value": "ops"}).json()["value"] == "ops"


@pytest.mark.parametrize(
    ("method", "path", "body", "description"),
    [
        (
            "PUT",
            TAGS,
            {"tags": [{"key": "Env", "value": "prod"}]},
            '"tags[0].key" must be lower case, got "Env"',
        ),
        (
            "PUT",
            TAGS,
            {"tags": [{"key": "env", "value": "Prod"}]},
            '"tags[0].value" must be lower case, got "Prod"',
        ),
        ("POST", TAGS, {"key": "ENV", "value": "prod"}, '"key" must be lower case, got "ENV"'),
        ("PUT", f"{TAGS}/env", {"value": "PROD"}, '"value" must be lower case, got "PROD"'),
        ("PUT", TAGS, {}, '"tags" is required'),
        ("PUT", TAGS, {"tags": [{"key": "env"}]}, '"tags[0].value" is required'),
        (
            "PUT",
            TAGS,
            {"tags": [{"key": "env", "value": "a"}, {"key": "env", "value": "b"}]},
            '"tags" names the same key twice',
        ),
        ("PUT", TAGS, {"tags": [{"key": " ", "value": "a"}]}, '"tags[0].key" must not be blank'),
        ("POST", TAGS, {"key": "k" * 129, "value": "a"}, '"key" is longer than 128 characters'),
        ("POST", TAGS, {"key": "k", "value": "v" * 257}, '"value" is longer than 256 characters'),
        ("POST", TAGS, {"key": 5, "value": "a"}, '"key" must be a string, got integer'),
        ("POST", TAGS, ["env"], "The request body must be a JSON object"),
        ("POST", TAGS, {"key": "a", "value": "b", "x": 1}, 'Unrecognized field "x"'),
    ],
)
def test_bad_tag_requests_are_400(
    api: SimApi, method: str, path: str, body: Any, description: str
) -> None:
    api.post(TAGS, {"key": "env", "value": "prod"})
    answer = api.request(method, path, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "type": "BAD_REQUEST",
        "status": "400 BAD_REQUEST",
        "description": description,
    }


def test_at_most_100_tags(api: SimApi) -> None:
    hundred = [{"key": f"k{i}", "value": "v"} for i in range(100)]
    assert api.put(TAGS, {"tags": hundred}).status_code == 200
    refused = api.post(TAGS, {"key": "one-more", "value": "v"})
    assert refused.json()["error"]["description"] == "A database can have at most 100 tags"
    too_many = api.put(TAGS, {"tags": [*hundred, {"key": "k100", "value": "v"}]})
    assert too_many.json()["error"]["description"] == (
        "A database can have at most 100 tags, got 101"
    )


def test_tags_of_an_unknown_database_are_404(api: SimApi) -> None:
    answer = api.get(f"{PROD}/databases/1/tags")
    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "DATABASE_NOT_FOUND"


def test_tags_survive_a_restart(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> None:
    state = tmp_path / "state.json"
    first = make_simulator(clock=fake_clock, state_path=state)
    sim_api(first).put(TAGS, {"tags": [{"key": "env", "value": "prod"}]})
    first.stop()
    second = sim_api(make_simulator(clock=fake_clock, state_path=state))
    assert second.get(TAGS).json()["tags"] == [tag("env", "prod")]


def test_seed_tags(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "account:\n  id: 7\n  subscriptions:\n"
        "    - id: 10\n      name: s\n      provider: AWS\n      region: us-east-1\n"
        "      databases:\n        - {databaseId: 5, name: db, tags: {env: prod, team: core}}\n"
        "        - {databaseId: 6, name: untagged}\n"
    )
    api = sim_api(make_simulator(clock=fake_clock, seed_path=seed))
    tags = api.get("/subscriptions/10/databases/5/tags").json()["tags"]
    assert tags == [tag("env", "prod"), tag("team", "core")]
    assert "tags" not in api.get("/subscriptions/10/databases/6/tags").json()


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ({"Env": "prod"}, 'BAD_REQUEST: "tags" must be lower case, got "Env"'),
        (["env"], 'BAD_REQUEST: "tags" must be a mapping of tag keys to values'),
        ({"env": 1}, 'BAD_REQUEST: "tags.env" must be a string, got integer'),
    ],
)
def test_seed_tag_errors(tags: Any, message: str) -> None:
    document = {
        "account": {
            "id": 1,
            "subscriptions": [
                {
                    "id": 2,
                    "name": "s",
                    "provider": "AWS",
                    "region": "us-east-1",
                    "databases": [{"databaseId": 3, "name": "db", "tags": tags}],
                }
            ],
        }
    }
    with pytest.raises(UsageError) as caught:
        account_from_document(document, "seed.yaml", 0.0)
    assert str(caught.value) == f"seed.yaml: account.subscriptions[0].databases[0]: {message}"
