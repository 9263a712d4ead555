"""Tests for reconciler.cloud.tags and the reader's tag reads (against the shared fake API)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_api import FakeApi, Reply, by_route

from reconciler.cloud import ApiClient, paths, read_live, read_tags, tags_body, tags_of
from reconciler.cloud.tags import tag_names
from reconciler.errors import BadResponseError, NotFoundError
from reconciler.model import DatabaseSpec, DesiredState, Location, SubscriptionSpec

HERE = Location("spec.yaml", 1, 1)
SID = 2001234
PATH = f"/subscriptions/{SID}/databases/7/tags"


def test_path() -> None:
    assert paths.database_tags(SID, 7) == PATH
    assert (
        paths.database_tags(SID, "{databaseId}")
        == f"/subscriptions/{SID}/databases/{{databaseId}}/tags"
    )


def test_body_lists_every_tag_in_order() -> None:
    body = tags_body({"team": "payments", "env": "prod"})
    assert body == {"tags": [{"key": "team", "value": "payments"}, {"key": "env", "value": "prod"}]}


def test_empty_body_clears() -> None:
    assert tags_body({}) == {"tags": []}


def test_answer_read_in_order_ignoring_stamps() -> None:
    answer = {
        "accountId": 40131,
        "tags": [
            {"key": "environment", "value": "production", "createdAt": "x", "links": []},
            {"key": "owner", "value": "ana", "updatedAt": "y"},
        ],
        "links": [],
    }
    assert tags_of(answer, "GET", PATH) == {"environment": "production", "owner": "ana"}


def test_answer_without_tags_means_none() -> None:
    assert tags_of({"accountId": 1, "links": []}, "GET", PATH) == {}


A, A2, NO_KEY = {"key": "a", "value": "1"}, {"key": "a", "value": "2"}, {"value": "2"}
NOT_A_PAIR = "is not a {key, value} pair of strings"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ([], "expected a tags object"),
        ({"tags": {"env": "prod"}}, "expected 'tags' to be a list"),
        ({"tags": ["env"]}, f"tag 0 {NOT_A_PAIR}"),
        ({"tags": [{"key": "env", "value": 1}]}, f"tag 0 {NOT_A_PAIR}"),
        ({"tags": [A, NO_KEY]}, f"tag 1 {NOT_A_PAIR}"),
        ({"tags": [A, A2]}, "tag key 'a' is listed twice"),
    ],
)  # fmt: skip
def test_bad_answers_are_refused(answer: Any, message: str) -> None:
    with pytest.raises(BadResponseError) as caught:
        tags_of(answer, "GET", PATH)
    assert caught.value.description == message
    assert caught.value.path == PATH


def test_read_tags_gets_the_path() -> None:
    asked: list[str] = []

    def get(path: str) -> Any:
        asked.append(path)
        return {"tags": [{"key": "env", "value": "prod"}]}

    assert read_tags(get, SID, 7) == {"env": "prod"}
    assert asked == [PATH]


def db(name: str, state: str = "present", tags: dict[str, str] | None = None) -> DatabaseSpec:
    return DatabaseSpec(SID, name, {}, HERE, state, tags=tags)  # type: ignore[arg-type]


def test_tag_names_are_present_databases_managing_tags_across_files() -> None:
    desired = DesiredState(
        (
            SubscriptionSpec(SID, False, (db("a", tags={}), db("b")), HERE),
            SubscriptionSpec(9, False, (), HERE),
            SubscriptionSpec(SID, False, (db("c", tags={"x": "y"}), db("d", "absent", {})), HERE),
        )
    )
    assert tag_names(desired) == {SID: frozenset({"a", "c"}), 9: frozenset()}


# --- the reader --------------------------------------------------------------------------


def listing(*names: str) -> dict[str, Any]:
    entries = [
        {"databaseId": i, "name": n, "status": "active", "protocol": "memcached"}
        for i, n in enumerate(names, start=1)
    ]
    block = {"subscriptionId": SID, "numberOfDatabases": len(entries), "databases": entries}
    return {"subscription": [block]}


def routes(**tag_replies: Reply) -> dict[tuple[str, str], Reply]:
    table = {
        ("GET", f"/subscriptions/{SID}"): Reply(200, {"id": SID, "name": "prod"}),
        ("GET", f"/subscriptions/{SID}/databases"): Reply(200, listing("a", "b", "c")),
    }
    for db_id, reply in tag_replies.items():
        table[("GET", f"/subscriptions/{SID}/databases/{db_id[2:]}/tags")] = reply
    return table


@pytest.fixture
def client_for() -> Iterator[Any]:
    opened: list[tuple[FakeApi, ApiClient]] = []

    def start(table: dict[tuple[str, str], Reply]) -> tuple[FakeApi, ApiClient]:
        api = FakeApi(by_route(table))
        client = ApiClient(api.url, "k", "s", get_retries=0, backoff_factor=0.0)
        opened.append((api, client))
        return api, client

    yield start
    for api, client in opened:
        client.close()
        api.close()


def subscription(*databases: DatabaseSpec) -> DesiredState:
    return DesiredState((SubscriptionSpec(SID, False, databases, HERE),))


def test_reader_reads_tags_only_where_the_spec_manages_them(client_for: Any) -> None:
    tagged = Reply(200, {"tags": [{"key": "env", "value": "prod"}]})
    api, client = client_for(routes(db3=tagged))
    live = read_live(client, subscription(db("a"), db("b", "absent", {}), db("c", tags={})))
    assert [d.tags for d in live.subscriptions[SID].databases] == [None, None, {"env": "prod"}]
    assert [p for p in api.paths() if p.endswith("/tags")] == [
        f"/subscriptions/{SID}/databases/3/tags"
    ]


def test_reader_without_managed_tags_sends_no_tag_request(client_for: Any) -> None:
    api, client = client_for(routes())
    read_live(client, subscription(db("a"), db("b"), db("new", tags={"x": "y"})))
    assert len(api.paths()) == 2
    assert not any(p.endswith("/tags") for p in api.paths())


def test_reader_fails_on_a_bad_tags_answer(client_for: Any) -> None:
    _, client = client_for(routes(db1=Reply(200, {"tags": "env=prod"})))
    with pytest.raises(BadResponseError, match="expected 'tags' to be a list"):
        read_live(client, subscription(db("a", tags={})))


def test_reader_fails_when_the_tags_cannot_be_read(client_for: Any) -> None:
    _, client = client_for(routes())
    with pytest.raises(NotFoundError):
        read_live(client, subscription(db("a", tags={})))
