"""Shared fixtures: an in-process Redis Cloud API simulator on loopback.

- ``make_simulator(**config_overrides)`` starts a simulator (``SimulatorConfig`` fields;
  defaults: port 0, task 0.1 s, provision 0.1 s, the packaged example account) and stops
  every one it started at teardown. Pass ``clock=`` to run it on a test's clock.
- ``make_module_simulator`` is the same for module-scoped fixtures: its simulators live
  until the module's last test (stopping one earlier is fine; ``stop`` is idempotent).
- ``simulator`` is ``make_simulator()``.
- ``fake_clock`` is a settable clock to pass as ``clock=`` so tests of time never wait.
- ``sim_api(running)`` returns a small authenticated HTTP client for a running simulator.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests

from reconciler.simulator import RunningSimulator, SimulatorConfig, serve_in_background

FAST_TIMINGS: dict[str, Any] = {"port": 0, "task_seconds": 0.1, "provision_seconds": 0.1}


class FakeClock:
    """A wall clock that only moves when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class FakeTime:
    """A monotonic clock and its sleep for one client: sleeping only moves the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    """A clock at 0 whose sleep only moves it, for an ``ApiClient``."""
    return FakeTime()


class SimApi:
    """An authenticated ``requests`` session bound to one running simulator."""

    def __init__(self, running: RunningSimulator) -> None:
        self.running = running
        self.url = running.url
        self.session = requests.Session()
        self.session.headers.update(
            {"x-api-key": running.api_key, "x-api-secret-key": running.api_secret}
        )

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send ``method`` to ``/v1`` + ``path``; return the response (any status)."""
        return self.session.request(method, self.url + path, timeout=10, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """GET ``path``."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        """POST ``body`` as JSON to ``path``."""
        return self.request("POST", path, json=body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        """PUT ``body`` as JSON to ``path``."""
        return self.request("PUT", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        """DELETE ``path``."""
        return self.request("DELETE", path, **kwargs)

    def close(self) -> None:
        """Close the session's connections."""
        self.session.close()


@contextmanager
def _simulator_factory() -> Iterator[Callable[..., RunningSimulator]]:
    """Yield a factory starting simulators with fast timings (overridable); stop them all."""
    started: list[RunningSimulator] = []

    def factory(**config_overrides: Any) -> RunningSimulator:
        running = serve_in_background(SimulatorConfig(**{**FAST_TIMINGS, **config_overrides}))
        started.append(running)  # list.append is atomic: factories may run on threads
        return running

    try:
        yield factory
    finally:
        for running in started:
            running.stop()


@pytest.fixture
def make_simulator() -> Iterator[Callable[..., RunningSimulator]]:
    """Return a factory starting simulators with fast timings (overridable); stop them all."""
    with _simulator_factory() as factory:
        yield factory


@pytest.fixture(scope="module")
def make_module_simulator() -> Iterator[Callable[..., RunningSimulator]]:
    """Return ``make_simulator``'s factory for module-scoped fixtures; stop them all after."""
    with _simulator_factory() as factory:
        yield factory


@pytest.fixture
def simulator(make_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    """Return a running simulator of the example account with fast timings."""
    return make_simulator()


@pytest.fixture
def fake_clock() -> FakeClock:
    """Return a clock that moves only with ``advance``."""
    return FakeClock()


@pytest.fixture
def sim_api() -> Iterator[Callable[[RunningSimulator], SimApi]]:
    """Return a factory of authenticated clients; their sessions are closed at teardown."""
    clients: list[SimApi] = []

    def factory(running: RunningSimulator) -> SimApi:
        client = SimApi(running)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        client.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how many cases each robustness suite ran (tests/test_robust_*.py).

    The counts live in the test ids (``seed-07-of-20…``, ``kill-2-of-4…``,
    ``…[200-examples]``); this adds them up per suite so CI output shows them at a glance.
    """
    counts: dict[str, dict[str, int]] = {}
    for outcome in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(outcome, []):
            nodeid = getattr(report, "nodeid", "")
            if getattr(report, "when", "call") != "call" or "test_robust_" not in nodeid:
                continue
            suite = nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
            bucket = counts.setdefault(suite, {})
            bucket[outcome] = bucket.get(outcome, 0) + 1
            examples = re.search(r"\[(\d+)-examples\]", nodeid)
            if examples:  # one hypothesis test stands for this many generated cases
                key = "generated examples"
                bucket[key] = bucket.get(key, 0) + int(examples.group(1))
    if not counts:
        return
    terminalreporter.section("robustness suites")
    for suite, bucket in sorted(counts.items()):
        text = ", ".join(f"{n} {outcome}" for outcome, n in bucket.items())
        terminalreporter.write_line(f"{suite}: {text}")
