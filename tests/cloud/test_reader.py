"""Tests for reconciler.cloud.reader against a fake account served by the shared fake API."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from fake_api import FakeApi, Reply, Seen

from reconciler.cloud.client import ApiClient
from reconciler.cloud.reader import read_live
from reconciler.errors import ApiUnavailableError, AuthenticationError, BadResponseError
from reconciler.model import DatabaseSpec, DesiredState, Location, SubscriptionSpec
from reconciler.secrets import Secret

HERE = Location("spec.yaml", 1, 1)
Answer = tuple[int, Any]  # (status, JSON body or None for an empty body)


# --- the fake account ------------------------------------------------------------------------


def database(database_id: int, name: str, **extra: Any) -> dict[str, Any]:
    """A list entry: no password, as the list endpoint may answer."""
    entry = {"databaseId": database_id, "name": name, "status": "active", "protocol": "redis"}
    entry.update(extra)
    return entry


@dataclass
class Account:
    """Subscriptions and their databases, answered the way the API does.

    ``GET /subscriptions/{id}`` answers the subscription object, the paged list answers
    ``{"subscription": [{"subscriptionId", "numberOfDatabases", "databases"}]}``, and the
    single-database GET adds the ``security`` block with the password.

    ``end``: what a page past the end answers, "404" or "empty". ``count``: whether the list
    answer carries ``numberOfDatabases``. ``override`` answers chosen paths (with the query)
    itself.
    """

    databases: dict[int, list[dict[str, Any]]]
    end: str = "404"
    count: bool = True
    delay: float = 0.0
    override: dict[str, Answer] = field(default_factory=dict)

    def reply(self, seen: Seen) -> Reply:
        """Answer one request of the fake API."""
        status, body = self.answer(urllib.parse.urlsplit(seen.path).path, seen.query)
        return Reply(status, body, delay=self.delay)

    def answer(self, path: str, query: Mapping[str, str]) -> Answer:
        full = f"{path}?{urllib.parse.urlencode(query)}" if query else path
        if full in self.override:
            return self.override[full]
        parts = path.strip("/").split("/")[1:]  # drop "v1"
        if len(parts) < 2 or parts[0] != "subscriptions" or int(parts[1]) not in self.databases:
            return 404, None
        sub_id = int(parts[1])
        if len(parts) == 2:
            return 200, {"id": sub_id, "name": f"sub-{sub_id}", "status": "active", "extra": 1}
        if len(parts) == 3:
            return self._page(sub_id, int(query["offset"]), int(query["limit"]))
        return self._single(sub_id, int(parts[3]))

    def _page(self, sub_id: int, offset: int, limit: int) -> Answer:
        entries = self.databases[sub_id]
        page = entries[offset : offset + limit]
        if not page and self.end == "404":
            return 404, None
        block: dict[str, Any] = {"subscriptionId": sub_id, "databases": page, "links": []}
        if self.count:
            block["numberOfDatabases"] = len(entries)
        return 200, {"accountId": 1001, "subscription": [block], "links": []}

    def _single(self, sub_id: int, db_id: int) -> Answer:
        for entry in self.databases[sub_id]:
            if entry["databaseId"] == db_id:
                security = {"password": f"pw-{db_id}", "sourceIps": ["0.0.0.0/0"]}
                return 200, {**entry, "security": security}
        return 404, None


@pytest.fixture
def connect() -> Iterator[Callable[[Account], tuple[FakeApi, ApiClient]]]:
    opened: list[tuple[FakeApi, ApiClient]] = []

    def start(account: Account) -> tuple[FakeApi, ApiClient]:
        api = FakeApi(account.reply)
        client = ApiClient(
            api.url, "key", "secret", get_retries=0, backoff_factor=0.0, sleep=lambda s: None
        )
        opened.append((api, client))
        return api, client

    yield start
    for api, client in opened:
        client.close()
        api.close()


def desired(*subscriptions: tuple[int, list[DatabaseSpec]]) -> DesiredState:
    return DesiredState(
        tuple(SubscriptionSpec(i, False, tuple(dbs), HERE) for i, dbs in subscriptions)
    )


def spec(sub_id: int, name: str, state: str = "present", **fields: Any) -> DatabaseSpec:
    return DatabaseSpec(sub_id, name, fields, HERE, state)  # type: ignore[arg-type]


def many(count: int, first: int = 1) -> list[dict[str, Any]]:
    return [database(first + i, f"db-{first + i}") for i in range(count)]


# --- the live state built --------------------------------------------------------------------


def test_builds_live_state_and_lists_missing(connect: Any) -> None:
    entries = [database(11, "a", memoryUsedInMb=3, unknownField={"x": 1}), database(12, "b")]
    _api, client = connect(Account({1: entries, 2: []}))
    live = read_live(client, desired((3, []), (1, []), (2, []), (4, [])))
    assert list(live.subscriptions) == [1, 2]
    assert live.missing == (3, 4)
    sub = live.subscriptions[1]
    assert (sub.id, sub.name, sub.status) == (1, "sub-1", "active")
    assert sub.raw["extra"] == 1
    assert [(d.id, d.name, d.status) for d in sub.databases] == [
        (11, "a", "active"),
        (12, "b", "active"),
    ]
    assert sub.databases[0].raw == entries[0]
    assert live.subscriptions[2].databases == ()


def test_subscription_named_in_two_files_is_read_once(connect: Any) -> None:
    api, client = connect(Account({1: [database(11, "a"), database(12, "b")]}))
    live = read_live(
        client, desired((1, [spec(1, "a")]), (1, [spec(1, "b", password=Secret("p"))]))
    )
    assert list(live.subscriptions) == [1]
    assert api.paths() == [
        "/subscriptions/1",
        "/subscriptions/1/databases?offset=0&limit=100",
        "/subscriptions/1/databases/12",
    ]


def test_authentication_error_is_not_missing(connect: Any) -> None:
    account = Account({1: []}, override={"/v1/subscriptions/1": (401, None)})
    _api, client = connect(account)
    with pytest.raises(AuthenticationError):
        read_live(client, desired((1, [])))


# --- paging ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "page_size", "end", "with_count", "offsets"),
    [
        (100, 100, "404", True, [0]),  # numberOfDatabases reached: 1 page for 100 databases
        (100, 100, "404", False, [0, 100]),  # 404 past the end
        (100, 100, "empty", False, [0, 100]),  # empty page past the end
        (150, 100, "404", False, [0, 100]),  # short page
        (0, 100, "404", False, [0]),  # 404 at once: no databases
        (0, 100, "empty", True, [0]),
        (5, 2, "404", True, [0, 2, 4]),
        (4, 2, "404", True, [0, 2]),
        (4, 2, "empty", False, [0, 2, 4]),
    ],
)
def test_paging_stops(
    connect: Any, count: int, page_size: int, end: str, with_count: bool, offsets: list[int]
) -> None:
    api, client = connect(Account({7: many(count)}, end=end, count=with_count))
    live = read_live(client, desired((7, [])), page_size=page_size)
    assert [d.id for d in live.subscriptions[7].databases] == list(range(1, count + 1))
    assert api.paths() == ["/subscriptions/7"] + [
        f"/subscriptions/7/databases?offset={o}&limit={page_size}" for o in offsets
    ]
    assert client.request_count == 1 + len(offsets)


def test_requests_are_subscriptions_times_pages_plus_one(connect: Any) -> None:
    account = Account({i: many(100, first=i * 1000) for i in range(1, 6)})
    _api, client = connect(account)
    live = read_live(client, desired(*((i, []) for i in range(1, 6))))
    assert sum(len(s.databases) for s in live.subscriptions.values()) == 500
    assert client.request_count == 5 * (1 + 1)


def test_page_ignoring_offset_is_an_error(connect: Any) -> None:
    page = {"subscription": [{"subscriptionId": 1, "databases": many(2)}]}
    query = "/v1/subscriptions/1/databases?offset={}&limit=2"
    override = {query.format(o): (200, page) for o in (0, 2)}
    api, client = connect(Account({1: []}, override=override))
    with pytest.raises(BadResponseError) as info:
        read_live(client, desired((1, [])), page_size=2)
    assert str(info.value) == (
        "GET /subscriptions/1/databases?offset=2&limit=2: HTTP 200: the page only repeats "
        "databases already listed: offset ignored"
    )
    assert len(api.paths()) == 3


# --- answers of the wrong shape --------------------------------------------------------------

PAGE = "/subscriptions/1/databases?offset=0&limit=100"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"subscription": []}, "expected 'subscription' to hold exactly one entry, got 0 entries"),
        (
            {"subscription": [{"subscriptionId": 1}, {"subscriptionId": 1}]},
            "expected 'subscription' to hold exactly one entry, got 2 entries",
        ),
        ({"databases": []}, "expected 'subscription' to hold exactly one entry, got no entries"),
        ([], "expected 'subscription' to hold exactly one entry, got no entries"),
        (
            {"subscription": ["x"]},
            "expected 'subscription' to hold exactly one entry, got 1 entries",
        ),
        ({"subscription": [{"subscriptionId": 2}]}, "expected subscriptionId 1, got 2"),
        ({"subscription": [{"databases": []}]}, "expected subscriptionId 1, got None"),
        (
            {"subscription": [{"subscriptionId": 1, "databases": {"a": 1}}]},
            "expected 'databases' to be a list",
        ),
        (
            {"subscription": [{"subscriptionId": 1, "databases": [{"name": "a"}]}]},
            "database entry 0 has no databaseId",
        ),
        (
            {
                "subscription": [
                    {"subscriptionId": 1, "databases": [database(1, "a"), {"databaseId": 2}]}
                ]
            },
            "database entry 1 has no name",
        ),
        (
            {
                "subscription": [
                    {"subscriptionId": 1, "databases": [{"databaseId": True, "name": "a"}]}
                ]
            },
            "database entry 0 has no databaseId",
        ),
        (
            {"subscription": [{"subscriptionId": 1, "databases": [7]}]},
            "database entry 0 is not an object",
        ),
    ],
)
def test_bad_list_answers(connect: Any, body: Any, problem: str) -> None:
    _api, client = connect(Account({1: []}, override={"/v1" + PAGE: (200, body)}))
    with pytest.raises(BadResponseError) as error:
        read_live(client, desired((1, [])))
    assert str(error.value) == f"GET {PAGE}: HTTP 200: {problem}"


def test_bad_subscription_answer(connect: Any) -> None:
    _api, client = connect(Account({1: []}, override={"/v1/subscriptions/1": (200, [1])}))
    with pytest.raises(BadResponseError) as error:
        read_live(client, desired((1, [])))
    assert str(error.value) == "GET /subscriptions/1: HTTP 200: expected a subscription object"


# --- the single-database GET, only for a managed password --------------------------------------


def test_single_get_only_where_a_managed_password_is_missing(connect: Any) -> None:
    entries = [
        database(1, "wants-password"),
        database(2, "no-password-in-spec"),
        database(3, "memcached", protocol="memcached"),
        database(4, "listed-with-password", security={"password": "known"}),
        database(5, "to-delete"),
        database(6, "empty-security", security={}),
        database(7, "live-only"),
    ]
    api, client = connect(Account({1: entries}))
    specs = [
        spec(1, "wants-password", password=Secret("x")),
        spec(1, "no-password-in-spec", datasetSizeInGb=1),
        spec(1, "memcached", password=Secret("x")),
        spec(1, "listed-with-password", password=Secret("x")),
        spec(1, "to-delete", "absent", password=Secret("x")),
        spec(1, "empty-security", password=Secret("x")),
        spec(1, "not-live-yet", password=Secret("x")),
    ]
    live = read_live(client, desired((1, specs)))
    assert api.paths()[2:] == ["/subscriptions/1/databases/1", "/subscriptions/1/databases/6"]
    by_name = {d.name: d for d in live.subscriptions[1].databases}
    assert by_name["wants-password"].raw["security"]["password"] == "pw-1"
    assert by_name["empty-security"].raw["security"]["password"] == "pw-6"
    assert "security" not in by_name["no-password-in-spec"].raw
    assert [d.id for d in live.subscriptions[1].databases] == [1, 2, 3, 4, 5, 6, 7]


def test_single_get_of_another_database_is_a_bad_response(connect: Any) -> None:
    override = {"/v1/subscriptions/1/databases/1": (200, database(9, "other"))}
    _api, client = connect(Account({1: [database(1, "a")]}, override=override))
    with pytest.raises(BadResponseError) as error:
        read_live(client, desired((1, [spec(1, "a", password=Secret("x"))])))
    assert str(error.value) == (
        "GET /subscriptions/1/databases/1: HTTP 200: expected databaseId 1, got 9"
    )


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.parametrize("concurrency", [1, 2, 4])
def test_concurrency_is_bounded(connect: Any, concurrency: int) -> None:
    account = Account({i: many(3, first=i * 10) for i in range(1, 7)}, delay=0.04)
    api, client = connect(account)
    live = read_live(client, desired(*((i, []) for i in range(1, 7))), concurrency=concurrency)
    assert list(live.subscriptions) == list(range(1, 7))
    assert api.max_in_flight == concurrency


def test_pages_of_one_subscription_are_read_in_order(connect: Any) -> None:
    api, client = connect(Account({1: many(7), 2: many(7, first=100)}, delay=0.01))
    read_live(client, desired((1, []), (2, [])), page_size=2, concurrency=2)
    for sub in (1, 2):
        offsets = [p.split("offset=")[1].split("&")[0] for p in api.paths() if f"/{sub}/d" in p]
        assert offsets == ["0", "2", "4", "6"]


def test_first_worker_error_propagates_and_stops_the_rest(connect: Any) -> None:
    account = Account(
        {i: many(2, first=i * 10) for i in range(1, 6)},
        override={"/v1/subscriptions/1/databases?offset=0&limit=100": (500, {"type": "BOOM"})},
    )
    api, client = connect(account)
    with pytest.raises(ApiUnavailableError) as error:
        read_live(client, desired(*((i, []) for i in range(1, 6))), concurrency=1)
    assert str(error.value) == (
        f"GET {PAGE}: HTTP 500, BOOM: {api.url} still failing after 0 retries"
    )
    assert api.paths() == ["/subscriptions/1", PAGE]


def test_error_in_a_concurrent_worker_propagates(connect: Any) -> None:
    account = Account(
        {i: many(2, first=i * 10) for i in range(1, 9)},
        override={"/v1/subscriptions/3": (500, None)},
        delay=0.01,
    )
    api, client = connect(account)
    with pytest.raises(ApiUnavailableError) as error:
        read_live(client, desired(*((i, []) for i in range(1, 9))), concurrency=3)
    assert str(error.value) == (
        f"GET /subscriptions/3: HTTP 500: {api.url} still failing after 0 retries"
    )
    assert len(api.paths()) < 16  # the queued subscriptions were never started
