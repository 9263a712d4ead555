"""The lookup endpoints (reconciler/simulator/lookups.py) and their agreement with what
create and upgrade accept, over loopback HTTP."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conftest import FakeClock, SimApi

from reconciler.simulator import RunningSimulator

PROD = "/subscriptions/2001234"
SESSIONS = f"{PROD}/databases/51170941"
CREATE = f"{PROD}/databases"


@pytest.fixture
def api(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, task_seconds=1.0, provision_seconds=1.0))


def test_redis_versions(api: SimApi) -> None:
    answer = api.get("/subscriptions/redis-versions")
    assert answer.status_code == 200
    assert answer.json() == {
        "redisVersions": [
            {"version": "6.2", "eolDate": "2027-02-28", "isPreview": False, "isDefault": False},
            {"version": "7.2", "eolDate": "2028-02-28", "isPreview": False, "isDefault": False},
            {"version": "7.4", "eolDate": "2028-08-31", "isPreview": False, "isDefault": True},
            {"version": "8.0", "eolDate": "2029-05-31", "isPreview": False, "isDefault": False},
            {"version": "8.2", "eolDate": "2029-11-30", "isPreview": False, "isDefault": False},
        ]
    }
    assert api.get("/subscriptions/redis-versions?subscriptionId=2001234").json() == answer.json()


@pytest.mark.parametrize(
    ("query", "status", "error_type", "description"),
    [
        ("subscriptionId=9", 404, "SUBSCRIPTION_NOT_FOUND", "Subscription 9 not found"),
        (
            "subscriptionId=abc",
            400,
            "BAD_REQUEST",
            '"subscriptionId" must be an integer, got "abc"',
        ),
    ],
)
def test_redis_versions_checks_the_subscription(
    api: SimApi, query: str, status: int, error_type: str, description: str
) -> None:
    answer = api.get(f"/subscriptions/redis-versions?{query}")
    assert answer.status_code == status
    assert answer.json()["error"]["type"] == error_type
    assert answer.json()["error"]["description"] == description


def test_redis_versions_is_not_taken_for_a_subscription_id(api: SimApi) -> None:
    answer = api.put("/subscriptions/redis-versions", {})
    assert answer.status_code == 405
    assert answer.json()["error"]["description"] == "Method not allowed; allowed: GET"


def test_query_performance_factors(api: SimApi) -> None:
    body = api.get("/query-performance-factors").json()
    assert body["queryPerformanceFactors"] == [
        "Standard",
        "2x",
        "4x",
        "6x",
        "8x",
        "10x",
        "12x",
        "14x",
        "16x",
    ]
    assert body["links"] == [
        {"rel": "self", "type": "GET", "href": f"{api.url}/query-performance-factors"}
    ]


def test_database_modules_name_the_four_capabilities(api: SimApi) -> None:
    modules = api.get("/database-modules").json()["modules"]
    assert [(m["name"], m["capabilityName"]) for m in modules] == [
        ("RediSearch", "Search and query"),
        ("RedisBloom", "Probabilistic"),
        ("RedisJSON", "JSON"),
        ("RedisTimeSeries", "Time series"),
    ]


def listed(api: SimApi, path: str, key: str, field: str | None = None) -> list[Any]:
    entries = api.get(path).json()[key]
    return [entry[field] for entry in entries] if field else list(entries)


def test_every_listed_version_is_accepted_on_create(api: SimApi) -> None:
    for index, version in enumerate(
        listed(api, "/subscriptions/redis-versions", "redisVersions", "version")
    ):
        answer = api.post(CREATE, {"name": f"v{index}", "redisVersion": version, "dryRun": True})
        assert answer.status_code == 202, (version, answer.text)


@pytest.mark.parametrize("version", ["5.0", "9.0", "7.3"])
def test_an_unlisted_version_is_refused(api: SimApi, version: str) -> None:
    assert version not in listed(api, "/subscriptions/redis-versions", "redisVersions", "version")
    answer = api.post(CREATE, {"name": "x", "redisVersion": version})
    assert answer.json()["error"]["type"] == "DATABASE_REDIS_VERSION_IS_NOT_SUPPORTED"
    upgrade = api.post(f"{SESSIONS}/upgrade", {"targetRedisVersion": version})
    assert upgrade.json()["error"]["type"] == "DATABASE_REDIS_VERSION_IS_NOT_SUPPORTED"


def test_every_listed_module_with_its_parameters_is_accepted_on_create(api: SimApi) -> None:
    modules = listed(api, "/database-modules", "modules")
    body = {
        "name": "all-modules",
        "redisVersion": "7.4",
        "dryRun": True,
        "modules": [
            {
                "name": module["name"],
                "parameters": {p["name"]: p["defaultValue"] for p in module["parameters"]},
            }
            for module in modules
        ],
    }
    answer = api.post(CREATE, body)
    assert answer.status_code == 202, answer.text


def test_every_listed_factor_is_accepted_on_a_search_database(api: SimApi) -> None:
    for index, factor in enumerate(
        listed(api, "/query-performance-factors", "queryPerformanceFactors")
    ):
        body = {
            "name": f"qpf{index}",
            "modules": [{"name": "RediSearch"}],
            "queryPerformanceFactor": factor,
            "dryRun": True,
        }
        assert api.post(CREATE, body).status_code == 202, factor


@pytest.mark.parametrize("factor", ["1x", "3x", "18x", "fast"])
def test_an_unlisted_factor_is_refused(api: SimApi, factor: str) -> None:
    assert factor not in listed(api, "/query-performance-factors", "queryPerformanceFactors")
    body = {"name": "x", "modules": [{"name": "RediSearch"}], "queryPerformanceFactor": factor}
    error = api.post(CREATE, body).json()["error"]
    assert error["type"] == "DATABASE_QUERY_PERFORMANCE_FACTOR_INVALID_VALUE"


def test_every_listed_persistence_option_is_accepted(api: SimApi) -> None:
    names = listed(api, "/data-persistence", "dataPersistence", "name")
    assert names == [
        "none",
        "aof-every-1-second",
        "aof-every-write",
        "snapshot-every-1-hour",
        "snapshot-every-6-hours",
        "snapshot-every-12-hours",
    ]
    for index, name in enumerate(names):
        body = {"name": f"p{index}", "dataPersistence": name, "dryRun": True}
        assert api.post(CREATE, body).status_code == 202, name
    refused = api.post(CREATE, {"name": "x", "dataPersistence": "aof-every-minute"})
    assert refused.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/subscriptions/redis-versions",
        "/database-modules",
        "/query-performance-factors",
        "/data-persistence",
    ],
)
def test_lookups_need_authentication(api: SimApi, path: str) -> None:
    answer = api.session.get(api.url + path, headers={"x-api-key": "wrong"}, timeout=10)
    assert answer.status_code == 401
