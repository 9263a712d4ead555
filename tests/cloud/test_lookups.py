"""Tests for reconciler.cloud.lookups: the account's lists, read once, failures skipped."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_api import FakeApi, Reply, by_route

from reconciler.cloud import AccountLookups, ApiClient, Offered, paths


@pytest.fixture
def served() -> Iterator[tuple[FakeApi, AccountLookups]]:
    routes = {
        ("GET", "/subscriptions/redis-versions?subscriptionId=1"): Reply(
            body={"redisVersions": [{"version": "7.4", "isDefault": True}, {"version": "8.2"}]}
        ),
        ("GET", "/subscriptions/redis-versions?subscriptionId=2"): Reply(
            body={"redisVersions": [{"version": "7.2"}]}
        ),
        ("GET", "/database-modules"): Reply(403, {"error": {"type": "FORBIDDEN"}}),
        ("GET", "/query-performance-factors"): Reply(body={"queryPerformanceFactors": ["2x"]}),
        ("GET", "/data-persistence"): Reply(body={"dataPersistence": [{"name": "none"}]}),
    }
    with (
        FakeApi(by_route(routes)) as api,
        ApiClient(api.url, "key", "secret", get_retries=0, sleep=lambda s: None) as client,
    ):
        yield api, AccountLookups(client)


def test_each_lookup_is_parsed(served: tuple[FakeApi, AccountLookups]) -> None:
    _, lookups = served
    assert lookups.redis_versions(1) == Offered(("7.4", "8.2"), default="7.4")
    assert lookups.redis_versions(2) == Offered(("7.2",))
    assert lookups.query_performance_factors() == Offered(("2x",))
    assert lookups.data_persistence() == Offered(("none",))


def test_each_lookup_is_read_at_most_once_even_when_it_failed(
    served: tuple[FakeApi, AccountLookups], caplog: pytest.LogCaptureFixture
) -> None:
    api, lookups = served
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert lookups.modules() is None
            lookups.redis_versions(1)
    assert api.paths() == ["/database-modules", "/subscriptions/redis-versions?subscriptionId=1"]
    assert lookups.requests == 2
    assert [r.getMessage() for r in caplog.records] == [
        "not checking modules against the account: GET /database-modules: HTTP 403, FORBIDDEN"
    ]


def test_nothing_is_read_until_asked(served: tuple[FakeApi, AccountLookups]) -> None:
    api, lookups = served
    assert lookups.requests == 0
    assert api.paths() == []


OPENAPI = Path(__file__).resolve().parents[1] / "openapi" / "redis-cloud-openapi.trimmed.json"


def schema_of(openapi: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    found: dict[str, Any] = openapi["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else node
    return found


@pytest.mark.parametrize(
    ("path", "key", "item"),
    [(paths.REDIS_VERSIONS, "redisVersions", "version"),
     (paths.DATABASE_MODULES, "modules", "name"),
     (paths.QUERY_PERFORMANCE_FACTORS, "queryPerformanceFactors", None),
     (paths.DATA_PERSISTENCE, "dataPersistence", "name")],
)  # fmt: skip
def test_the_shapes_read_are_the_openapi_ones(path: str, key: str, item: str | None) -> None:
    openapi = json.loads(OPENAPI.read_text(encoding="utf-8"))
    answer = openapi["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    listed = schema_of(openapi, answer["schema"])["properties"][key]
    entry = schema_of(openapi, listed["items"])
    if item is None:
        assert entry["type"] == "string"
    else:
        assert entry["properties"][item]["type"] == "string"


def test_the_openapi_examples_are_read() -> None:
    schemas = json.loads(OPENAPI.read_text(encoding="utf-8"))["components"]["schemas"]
    modules = AccountLookups(Canned(schemas["ModulesData"]["example"])).modules()
    assert modules == Offered(("RedisBloom", "RedisJSON", "RediSearch", "RedisTimeSeries"))
    options = AccountLookups(Canned(schemas["DataPersistenceOptions"]["example"]))
    assert options.data_persistence() == Offered(
        ("none", "aof-every-1-second", "aof-every-write", "snapshot-every-1-hour",
         "snapshot-every-6-hours", "snapshot-every-12-hours")
    )  # fmt: skip


class Canned:
    """A client answering every GET with one body."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def get(self, path: str, params: Any = None) -> Any:
        return self.body


def answer(body: Any) -> Offered | None:
    return AccountLookups(Canned(body)).data_persistence()


@pytest.mark.parametrize(
    "body",
    [None, "none", [], {}, {"dataPersistence": "none"}, {"dataPersistence": []},
     {"dataPersistence": [{"name": ""}]}, {"dataPersistence": [{"name": "none"}, 3]}],
)  # fmt: skip
def test_an_unexpected_shape_is_none(body: Any) -> None:
    assert answer(body) is None
