"""Rate limiting and request statistics (reconciler/simulator/limits.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from conftest import FakeClock, SimApi

from reconciler.simulator import RunningSimulator
from reconciler.simulator.limits import RateDecision, RateLimiter, RequestStats

PROD = "/subscriptions/2001234"


def test_limiter_fixed_window(fake_clock: FakeClock) -> None:
    limiter = RateLimiter(2, fake_clock)
    assert [limiter.check("k") for _ in range(3)] == [
        RateDecision(True, 1),
        RateDecision(True, 0),
        RateDecision(False, 0, 60),
    ]
    assert limiter.check("other") == RateDecision(True, 1)  # per key
    fake_clock.advance(59.5)
    assert limiter.check("k") == RateDecision(False, 0, 1)
    fake_clock.advance(0.5)
    assert limiter.check("k") == RateDecision(True, 1)


@pytest.fixture
def limited(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
) -> SimApi:
    return sim_api(make_simulator(clock=fake_clock, rate_limit=3))


def test_429_with_retry_headers(limited: SimApi, fake_clock: FakeClock) -> None:
    remaining = [limited.get(PROD).headers["X-Rate-Limit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    refused = limited.get(PROD)
    assert refused.status_code == 429
    assert refused.headers["x-rate-limit-retry-after-seconds"] == "60"
    assert refused.headers["Retry-After"] == "60"
    assert refused.headers["X-Rate-Limit-Remaining"] == "0"
    assert refused.json()["error"] == {
        "type": "TOO_MANY_REQUESTS",
        "status": "429 TOO_MANY_REQUESTS",
        "description": "Too many requests; retry later",
    }
    fake_clock.advance(45)
    assert limited.get(PROD).headers["x-rate-limit-retry-after-seconds"] == "15"
    fake_clock.advance(15)
    answer = limited.get(PROD)
    assert (answer.status_code, answer.headers["X-Rate-Limit-Remaining"]) == (200, "2")


def test_errors_carry_the_remaining_header_too(limited: SimApi) -> None:
    answer = limited.get("/subscriptions/1")
    assert (answer.status_code, answer.headers["X-Rate-Limit-Remaining"]) == (404, "2")


def test_unauthenticated_requests_use_no_budget(limited: SimApi) -> None:
    for _ in range(5):
        assert requests.get(limited.url + PROD, timeout=5).status_code == 401
    assert limited.get(PROD).headers["X-Rate-Limit-Remaining"] == "2"


def test_control_routes_are_not_limited(limited: SimApi) -> None:
    base = limited.url.removesuffix("/v1")
    for _ in range(5):
        assert limited.session.get(f"{base}/_simulator/stats").status_code == 200
    assert limited.get(PROD).headers["X-Rate-Limit-Remaining"] == "2"


def test_no_rate_headers_when_off(
    simulator: RunningSimulator, sim_api: Callable[[RunningSimulator], SimApi]
) -> None:
    assert "X-Rate-Limit-Remaining" not in sim_api(simulator).get(PROD).headers


def test_stats_count_per_route_method_and_status() -> None:
    stats = RequestStats()
    stats.count("GET", "/tasks/{taskId}", 404)
    stats.count("GET", "/tasks/{taskId}", 200)
    stats.count("PUT", "/subscriptions/{subscriptionId}/databases/{databaseId}", "dropped")
    assert stats.snapshot() == {
        "total": 3,
        "routes": {
            "GET /tasks/{taskId}": 2,
            "PUT /subscriptions/{subscriptionId}/databases/{databaseId}": 1,
        },
        "methods": {"GET": 2, "PUT": 1},
        "statuses": {"200": 1, "404": 1, "dropped": 1},
        "faults": {"500": 0, "503": 0, "drop": 0, "failing-task": 0, "lost-answer": 0},
    }
    stats.count_fault("drop")
    stats.count_fault("500")
    assert stats.snapshot()["faults"] == {
        "500": 1,
        "503": 0,
        "drop": 1,
        "failing-task": 0,
        "lost-answer": 0,
    }
    stats.reset()
    assert stats.snapshot()["total"] == 0
    assert stats.snapshot()["faults"] == {
        "500": 0,
        "503": 0,
        "drop": 0,
        "failing-task": 0,
        "lost-answer": 0,
    }


def test_stats_over_http(
    simulator: RunningSimulator, sim_api: Callable[[RunningSimulator], SimApi]
) -> None:
    api = sim_api(simulator)
    for offset in (0, 100):
        api.get(f"{PROD}/databases?offset={offset}")
    api.get(f"{PROD}/databases/51170941")
    api.put(f"{PROD}/databases/51170941", {"datasetSizeInGb": 2})
    api.get("/nothing")
    stats = api.session.get(simulator.url.removesuffix("/v1") + "/_simulator/stats").json()
    assert stats == {
        "total": 5,
        "routes": {
            "GET (unmatched)": 1,
            "GET /subscriptions/{subscriptionId}/databases": 2,
            "GET /subscriptions/{subscriptionId}/databases/{databaseId}": 1,
            "PUT /subscriptions/{subscriptionId}/databases/{databaseId}": 1,
        },
        "methods": {"GET": 4, "PUT": 1},
        "statuses": {"200": 3, "404": 2},
        "faults": {"500": 0, "503": 0, "drop": 0, "failing-task": 0, "lost-answer": 0},
    }
    assert simulator.stats() == stats
