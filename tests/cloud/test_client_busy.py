"""The two 429s of a write, over HTTP to the scripted fake API: the request rate, re-sent by
the client within its two-minute limit, and the account busy with other subscriptions'
changes (at most three at once), raised at once as AccountBusyError for the executor."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import FakeTime
from fake_api import FakeApi, Reply, in_order

from reconciler.cloud import busy_delay
from reconciler.cloud.client import ApiClient
from reconciler.cloud.ratelimit import ACCOUNT_BUSY, account_busy
from reconciler.errors import AccountBusyError, ConflictError, RateLimitedError

API_KEY = "account-key-AAAA1111"
API_SECRET = "user-secret-BBBB2222"
WORDS = (
    "Too many resources are concurrently created / updated / deleted in the account. "
    "Please re-submit API requests after resource changes are completed"
)
TOO_MANY = {
    "error": {
        "type": "TOO_MANY_PENDING_SUBSCRIPTIONS",
        "status": "429 TOO_MANY_REQUESTS",
        "description": WORDS,
    }
}
PUT = "PUT /subscriptions/1/databases/2: HTTP 429"


@pytest.fixture
def client_for(fake_time: FakeTime) -> Iterator[Callable[..., tuple[FakeApi, ApiClient]]]:
    """Serve ``replies`` in order; return the fake API and a client of it on fake time."""
    opened: list[tuple[FakeApi, ApiClient]] = []

    def start(*replies: Reply) -> tuple[FakeApi, ApiClient]:
        api = FakeApi(in_order(*replies))
        client = ApiClient(
            api.url,
            API_KEY,
            API_SECRET,
            timeout=5.0,
            backoff_factor=0.0,
            sleep=fake_time.sleep,
            clock=fake_time.clock,
        )
        opened.append((api, client))
        return api, client

    yield start
    for api, client in opened:
        client.close()
        api.close()


def put(client: ApiClient) -> Any:
    return client.write("PUT", "/subscriptions/1/databases/2", {"datasetSizeInGb": 2})


# --- the account busy: raised at once ---------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        (Reply(429, TOO_MANY), f"{PUT}, TOO_MANY_PENDING_SUBSCRIPTIONS: {WORDS}"),
        (
            Reply(429, {"type": "too_many_pending_subscriptions "}),
            f"{PUT}, too_many_pending_subscriptions: {ACCOUNT_BUSY}",
        ),
        (Reply(429, {"message": WORDS.upper()}), f"{PUT}: {WORDS.upper()}"),
        (Reply(429, WORDS, content_type="text/plain"), f"{PUT}: {WORDS}"),
        (
            Reply(429, {"error": {"type": "GENERAL_ERROR", "description": WORDS}}),
            f"{PUT}, GENERAL_ERROR: {WORDS}",
        ),
        (
            Reply(429, "Too  many resources are concurrently\tcreated / updated / deleted"),
            f"{PUT}: Too many resources are concurrently created / updated / deleted",
        ),
        (Reply(429, None, {"X-Rate-Limit-Remaining": "397"}), f"{PUT}: {ACCOUNT_BUSY}"),
        (
            Reply(429, {"error": "Too Many Requests"}, {"x-rate-limit-remaining": "1"}),
            f"{PUT}, Too Many Requests: {ACCOUNT_BUSY}",
        ),
    ],
    ids=[
        "api-shape",
        "type-any-case",
        "words-any-case",
        "words-as-text",
        "words-other-type",
        "words-spaced",
        "budget-left",
        "budget-left-lower-case",
    ],
)
def test_a_write_refused_because_the_account_is_busy_raises_at_once(
    client_for: Any, fake_time: FakeTime, reply: Reply, expected: str
) -> None:
    api, client = client_for(reply, Reply(200, {"taskId": "t"}))
    with pytest.raises(AccountBusyError) as raised:
        put(client)
    assert str(raised.value) == expected
    assert isinstance(raised.value, ConflictError)  # a "not now", like a 409
    assert raised.value.exit_code == 1
    assert fake_time.sleeps == []
    assert len(api.seen) == 1  # not re-sent: the caller waits for the account


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_every_write_method_can_be_refused_as_busy(
    client_for: Any, fake_time: FakeTime, method: str
) -> None:
    api, client = client_for(Reply(429, TOO_MANY))
    with pytest.raises(AccountBusyError):
        client.write(method, "/subscriptions/1/databases", {})
    assert len(api.seen) == 1


def test_the_busy_answer_feeds_the_request_budget(client_for: Any, fake_time: FakeTime) -> None:
    _, client = client_for(
        Reply(429, TOO_MANY, {"X-Rate-Limit-Remaining": "0"}), Reply(200, {"taskId": "t"})
    )
    with pytest.raises(AccountBusyError):
        put(client)
    assert put(client) == {"taskId": "t"}
    assert fake_time.sleeps == [60.0]  # the window seen spent: the next request waits it out


def test_a_busy_answer_echoing_the_credentials_is_scrubbed(client_for: Any) -> None:
    body = {"type": "TOO_MANY_PENDING_SUBSCRIPTIONS", "description": f"key {API_KEY} busy"}
    _, client = client_for(Reply(429, body))
    with pytest.raises(AccountBusyError) as raised:
        put(client)
    assert API_KEY not in str(raised.value)
    assert str(raised.value) == f"{PUT}, TOO_MANY_PENDING_SUBSCRIPTIONS: key (sensitive) busy"


# --- the request rate: today's re-sends ------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply(429, {"type": "TOO_MANY_REQUESTS"}, {"x-rate-limit-retry-after-seconds": "7"}),
        Reply(429, None, {"X-Rate-Limit-Remaining": "0", "Retry-After": "7"}),
        Reply(429, "Too many requests", {"Retry-After": "7"}, content_type="text/plain"),
        Reply(429, "<html><title>429</title></html>", {"Retry-After": "7"}, "text/html"),
        Reply(429, b"\xff\xfe{", {"X-Rate-Limit-Remaining": "many", "Retry-After": "7"}),
        Reply(429, None, {"X-Rate-Limit-Remaining": "-3", "Retry-After": "7"}),
        Reply(429, None, {"X-Rate-Limit-Remaining": "9" * 5000, "Retry-After": "7"}),
        Reply(429, {"error": {"type": ["TOO_MANY_PENDING_SUBSCRIPTIONS"]}}, {"Retry-After": "7"}),
    ],
    ids=[
        "rate-type",
        "budget-spent",
        "text",
        "html",
        "garbage",
        "negative-count",
        "absurd-count",
        "type-not-a-string",
    ],
)
def test_a_429_of_the_request_rate_is_re_sent_by_the_client(
    client_for: Any, fake_time: FakeTime, reply: Reply
) -> None:
    api, client = client_for(reply, Reply(200, {"taskId": "t"}))
    assert put(client) == {"taskId": "t"}
    assert fake_time.sleeps == [7.0]
    assert len(api.seen) == 2


def test_a_get_is_never_refused_as_busy(client_for: Any, fake_time: FakeTime) -> None:
    api, client = client_for(
        Reply(429, TOO_MANY, {"X-Rate-Limit-Remaining": "5", "Retry-After": "3"}), Reply(body={})
    )
    assert client.get("/subscriptions") == {}
    assert fake_time.sleeps == [3.0]
    assert len(api.seen) == 2


def test_the_rate_limit_still_gives_up_with_its_own_message(
    client_for: Any, fake_time: FakeTime
) -> None:
    _, client = client_for(Reply(429, {"type": "TOO_MANY_REQUESTS"}, {"Retry-After": "50"}))
    with pytest.raises(RateLimitedError) as raised:
        put(client)
    assert not isinstance(raised.value, AccountBusyError)
    assert str(raised.value) == (
        f"{PUT}, TOO_MANY_REQUESTS: too many requests; gave up after waiting 100s "
        "(the next wait, 50s, would pass the 120s limit)"
    )


# --- the pure rules --------------------------------------------------------------------------


def no_headers(name: str) -> str | None:
    return None


@pytest.mark.parametrize(
    ("method", "error_type", "description", "expected"),
    [
        ("PUT", "TOO_MANY_PENDING_SUBSCRIPTIONS", "", True),
        ("post", "", WORDS, True),
        ("DELETE", "", "", False),
        ("PUT", "TOO_MANY_REQUESTS", "Too many requests", False),
        ("PUT", "TOO_MANY_PENDING_SUBSCRIPTIONS_X", "", False),
        ("GET", "TOO_MANY_PENDING_SUBSCRIPTIONS", WORDS, False),
        ("get", "", WORDS, False),
    ],
)
def test_account_busy_reads_the_type_and_the_words(
    method: str, error_type: str, description: str, expected: bool
) -> None:
    assert account_busy(method, error_type, description, no_headers) is expected


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [("1", True), (" 12 ", True), ("0", False), ("-1", False), ("", False), ("1.5", False)],
)
def test_account_busy_reads_the_budget_left(remaining: str, expected: bool) -> None:
    def header(name: str) -> str | None:
        return remaining if name == "X-Rate-Limit-Remaining" else None

    assert account_busy("PUT", "", "", header) is expected


@pytest.mark.parametrize(
    ("waited", "expected"),
    [(0.0, 5.0), (9.0, 5.0), (20.0, 10.0), (59.0, 29.5), (60.0, 30.0), (1e9, 30.0)],
)
def test_busy_delay_starts_at_5s_and_grows_to_30s(waited: float, expected: float) -> None:
    assert busy_delay(waited) == expected
