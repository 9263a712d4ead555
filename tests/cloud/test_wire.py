"""Tests for the transport seam: an ApiClient over a scripted transport object, no sockets.

Every test that builds a client checks what its scripted transport was sent, so a client
that ignored ``transport=`` and built its default one would fail here (and, its base URL
being ``.invalid``, could reach nothing).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from reconciler.cloud import Answer, ApiClient, Transport, TransportError
from reconciler.errors import (
    ApiUnavailableError,
    BadResponseError,
    NotFoundError,
    UnknownOutcomeError,
)
from reconciler.secrets import Secret

BASE = "https://api.example.invalid/v1"
UNKNOWN = "the change may or may not have taken effect; re-read before retrying"


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None
    timeout: float


class ScriptedTransport:
    """Plays ``outcomes`` in order (the last one again and again); records what was sent."""

    def __init__(self, *outcomes: Answer | TransportError) -> None:
        self.outcomes = list(outcomes)
        self.sent: list[Sent] = []
        self.closed = False

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Answer:
        self.sent.append(Sent(method, url, dict(headers), body, timeout))
        outcome = self.outcomes[min(len(self.sent), len(self.outcomes)) - 1]
        if isinstance(outcome, TransportError):
            raise outcome
        return outcome

    def close(self) -> None:
        self.closed = True


class Sleeps:
    """An injected sleep and clock: sleeping only moves the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client_over(transport: Transport, **options: Any) -> tuple[ApiClient, Sleeps]:
    sleeps = Sleeps()
    settings: dict[str, Any] = {"timeout": 5.0, "sleep": sleeps.sleep, "clock": sleeps.clock}
    client = ApiClient(BASE, "key-1", "secret-2", transport=transport, **{**settings, **options})
    return client, sleeps


def ok(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Answer:
    return Answer(status, headers or {}, json.dumps(body).encode())


def test_transport_protocol_is_met_by_a_plain_object() -> None:
    transport: Transport = ScriptedTransport(ok({}))
    assert transport.send("GET", BASE, {}, None, 1.0) == ok({})


@pytest.mark.parametrize(
    ("headers", "name", "value"),
    [
        ({"Content-Type": "text/html"}, "content-type", "text/html"),
        ({"x-rate-limit-remaining": "3"}, "X-Rate-Limit-Remaining", "3"),
        ({}, "Location", None),
    ],
)
def test_answer_header_ignores_case(headers: dict[str, str], name: str, value: str | None) -> None:
    assert Answer(200, headers).header(name) == value


def test_get_sends_plain_values_and_parses_json() -> None:
    transport = ScriptedTransport(ok({"subscriptions": []}))
    client, _ = client_over(transport)
    assert client.get("/subscriptions", {"offset": 0}) == {"subscriptions": []}
    [sent] = transport.sent
    assert (sent.method, sent.url, sent.body, sent.timeout) == (
        "GET",
        f"{BASE}/subscriptions?offset=0",
        None,
        5.0,
    )
    assert sent.headers["x-api-key"] == "key-1"
    assert sent.headers["x-api-secret-key"] == "secret-2"
    assert sent.headers["Content-Type"] == "application/json"


def test_write_sends_the_revealed_body_bytes() -> None:
    transport = ScriptedTransport(ok({"taskId": "t"}, 202))
    client, _ = client_over(transport)
    assert client.write("put", "/subscriptions/1/databases/2", {"password": Secret("pw")}) == {
        "taskId": "t"
    }
    [sent] = transport.sent
    assert sent.method == "PUT"
    assert sent.body is not None and json.loads(sent.body) == {"password": "pw"}


def test_request_count_adds_the_transports_attempts() -> None:
    transport = ScriptedTransport(
        Answer(200, {}, b"{}", attempts=3),
        TransportError("connection reset", sent=True, attempts=2),
    )
    client, _ = client_over(transport)
    client.get("/x")
    with pytest.raises(ApiUnavailableError):
        client.get("/x")
    assert client.request_count == 5
    assert len(transport.sent) == 2


@pytest.mark.parametrize(
    ("method", "sent", "kind", "message"),
    [
        ("GET", False, ApiUnavailableError, f"GET /x: cannot reach {BASE}: connection refused"),
        ("POST", False, ApiUnavailableError, f"POST /x: cannot reach {BASE}: connection refused"),
        (
            "GET",
            True,
            ApiUnavailableError,
            f"GET /x: request to {BASE} failed: connection refused",
        ),
        (
            "POST",
            True,
            UnknownOutcomeError,
            f"POST /x: request sent but connection refused; {UNKNOWN}",
        ),
    ],
)
def test_transport_errors_become_api_errors(
    method: str, sent: bool, kind: type[Exception], message: str
) -> None:
    transport = ScriptedTransport(TransportError("connection refused", sent=sent))
    client, _ = client_over(transport)
    with pytest.raises(kind) as error:
        client.get("/x") if method == "GET" else client.write(method, "/x", {})
    assert str(error.value) == message
    assert error.value.__context__ is None
    assert len(transport.sent) == 1  # the client itself never re-sends a lost request


def test_status_errors_and_bad_json_come_from_plain_answers() -> None:
    transport = ScriptedTransport(
        ok({"type": "NOT_FOUND", "description": "gone"}, 404),
        Answer(200, {"content-type": "text/html"}, b"<html/>"),
        Answer(503, {}, b""),
    )
    client, _ = client_over(transport, get_retries=7)
    with pytest.raises(NotFoundError, match=r"^GET /a: HTTP 404, NOT_FOUND: gone$"):
        client.get("/a")
    with pytest.raises(BadResponseError) as bad:
        client.get("/b")
    assert str(bad.value) == "GET /b: HTTP 200: answer is not JSON (text/html, 7 bytes)"
    with pytest.raises(ApiUnavailableError) as down:
        client.get("/c")
    assert str(down.value) == f"GET /c: HTTP 503: {BASE} still failing after 7 retries"
    assert [sent.url for sent in transport.sent] == [f"{BASE}/a", f"{BASE}/b", f"{BASE}/c"]


def test_429_waits_on_the_injected_clock_whatever_the_header_case() -> None:
    transport = ScriptedTransport(
        Answer(429, {"X-RATE-LIMIT-RETRY-AFTER-SECONDS": "7"}, b""), ok({"done": True})
    )
    client, sleeps = client_over(transport)
    assert client.write("POST", "/x", {}) == {"done": True}
    assert sleeps.slept == [7.0]
    assert len(transport.sent) == 2


def test_budget_reads_the_remaining_header_of_plain_answers() -> None:
    transport = ScriptedTransport(ok({}, headers={"x-rate-limit-remaining": "0"}), ok({}))
    client, sleeps = client_over(transport)
    client.get("/x")
    client.get("/x")
    assert sleeps.slept == [60.0]
    assert len(transport.sent) == 2


def test_close_closes_the_injected_transport() -> None:
    transport = ScriptedTransport(ok({}))
    with client_over(transport)[0] as client:
        client.get("/x")
    assert transport.closed
    assert len(transport.sent) == 1
