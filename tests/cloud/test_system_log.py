"""Tests for reconciler.cloud.history: the system log read in bounded pages, never raising."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fake_api import FakeApi, Reply, Seen, by_route, in_order

from reconciler.cloud import ApiClient
from reconciler.cloud.history import (
    MAX_DESCRIPTION,
    MAX_NAME,
    LogRead,
    log_entry,
    read_key_name,
    read_system_log,
)
from reconciler.plan import HistoryEntry


def raw(entry_id: int, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": entry_id,
        "time": "2026-11-20T14:02:00Z",
        "originator": "alice@example.com",
        "resource": "sessions",
        "type": "Database",
        "description": f"Database 'sessions' change {entry_id}",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def paged_log(total: int) -> Any:
    """A responder serving ``total`` entries, newest (highest id) first, by offset/limit."""
    log = [raw(total - i) for i in range(total)]

    def answer(seen: Seen) -> Reply:
        offset, limit = int(seen.query["offset"]), int(seen.query["limit"])
        return Reply(body={"entries": log[offset : offset + limit]})

    return answer


@pytest.fixture
def client_for() -> Iterator[Any]:
    servers: list[FakeApi] = []
    clients: list[ApiClient] = []

    def make(responder: Any) -> tuple[FakeApi, ApiClient]:
        api = FakeApi(responder)
        servers.append(api)
        client = ApiClient(api.url, "key", "secret", get_retries=0, sleep=lambda s: None)
        clients.append(client)
        return api, client

    yield make
    for client in clients:
        client.close()
    for api in servers:
        api.close()


def test_pages_are_read_until_a_short_page(client_for: Any) -> None:
    api, client = client_for(paged_log(25))
    read = read_system_log(client, max_pages=5, page_size=10)
    assert [e.id for e in read.entries] == list(range(25, 0, -1))
    assert api.paths() == [
        "/logs?offset=0&limit=10",
        "/logs?offset=10&limit=10",
        "/logs?offset=20&limit=10",
    ]
    assert (read.requests, read.notes, read.available) == (3, (), True)


@pytest.mark.parametrize("pages", [1, 2, 3])
def test_at_most_max_pages_requests_are_made(client_for: Any, pages: int) -> None:
    api, client = client_for(paged_log(1000))
    read = read_system_log(client, max_pages=pages, page_size=10)
    assert len(api.seen) == read.requests == pages
    assert len(read.entries) == 10 * pages


def test_an_empty_log_is_one_request(client_for: Any) -> None:
    api, client = client_for(paged_log(0))
    assert read_system_log(client) == LogRead((), 1)
    assert api.paths() == ["/logs?offset=0&limit=100"]


@pytest.mark.parametrize(
    ("status", "why"),
    [
        (403, "the API key may not read the system log (HTTP 403)"),
        (412, "the system log is not enabled for this account (HTTP 412)"),
        (400, "GET /logs?offset=0&limit=100: HTTP 400, BAD_REQUEST: no"),
        (500, "GET /logs?offset=0&limit=100: HTTP 500, ERR: no; "),
    ],
)
def test_a_refused_first_page_makes_history_unavailable(
    client_for: Any, status: int, why: str
) -> None:
    body = {"error": {"type": "BAD_REQUEST" if status == 400 else "ERR", "description": "no"}}
    _, client = client_for(in_order(Reply(status, body)))
    read = read_system_log(client)
    assert read.available is False
    assert read.entries == ()
    (note,) = read.notes
    assert note.startswith(f"history unavailable: {why}")


def test_a_failure_after_the_first_page_keeps_what_was_read(client_for: Any) -> None:
    first = Reply(body={"entries": [raw(3), raw(2)]})
    _, client = client_for(in_order(first, Reply(403, {})))
    read = read_system_log(client, page_size=2)
    assert [e.id for e in read.entries] == [3, 2]
    assert read.available is True
    assert read.notes == (
        "history incomplete: the system log stopped after 1 page(s): "
        "the API key may not read the system log (HTTP 403)",
    )


@pytest.mark.parametrize(
    "body", [[], {"entries": {"id": 1}}, {"logs": []}, '"text"', "null", {"entries": None}]
)
def test_an_answer_of_the_wrong_shape_makes_history_unavailable(client_for: Any, body: Any) -> None:
    _, client = client_for(in_order(Reply(body=body)))
    read = read_system_log(client)
    assert read.notes == (
        "history unavailable: GET /logs answered an unexpected shape (no 'entries' list)",
    )


def test_an_answer_that_is_not_json_makes_history_unavailable(client_for: Any) -> None:
    _, client = client_for(in_order(Reply(body="<html>", content_type="text/html")))
    (note,) = read_system_log(client).notes
    assert note == (
        "history unavailable: GET /logs?offset=0&limit=100: HTTP 200: "
        "answer is not JSON (text/html, 6 bytes)"
    )


def test_malformed_entries_are_skipped_and_counted(client_for: Any) -> None:
    entries = [
        raw(9),
        "not an object",
        raw(8, id="8"),
        raw(7, id=True),
        raw(6, time="yesterday"),
        raw(5, originator=None),
        raw(4, description=["x"]),
        raw(3, apiKeyName=12),
        raw(2, resource={"name": "x"}),
        raw(1, time="2026-11-20T15:02:00+01:00", type=None, resource=None),
    ]
    _, client = client_for(in_order(Reply(body={"entries": entries})))
    read = read_system_log(client)
    assert [e.id for e in read.entries] == [9, 1]
    assert read.entries[1].time == "2026-11-20T14:02:00Z"
    assert (read.entries[1].type, read.entries[1].resource) == ("", "")
    assert read.notes == ("history: 8 system log entries of an unexpected shape skipped",)


def test_an_entry_listed_again_on_a_later_page_is_kept_once(client_for: Any) -> None:
    pages = in_order(
        Reply(body={"entries": [raw(5), raw(4)]}),
        Reply(body={"entries": [raw(4), raw(3)]}),  # a new entry shifted the log by one
        Reply(body={"entries": []}),
    )
    _, client = client_for(pages)
    assert [e.id for e in read_system_log(client, page_size=2).entries] == [5, 4, 3]


def test_a_page_longer_than_its_limit_is_cut_to_the_limit(client_for: Any) -> None:
    _, client = client_for(in_order(Reply(body={"entries": [raw(i) for i in range(50, 0, -1)]})))
    read = read_system_log(client, max_pages=1, page_size=10)
    assert [e.id for e in read.entries] == list(range(50, 40, -1))


def test_huge_strings_are_clipped_and_credentials_masked() -> None:
    entry = log_entry(
        raw(
            1,
            originator="o" * 10_000,
            apiKeyName="k" * 10_000,
            description="import from s3://AKIA:topsecret@bucket/x " + "d" * 10_000,
        )
    )
    assert entry is not None
    assert len(entry.originator) == len(entry.api_key_name or "") == MAX_NAME
    assert len(entry.description) == MAX_DESCRIPTION
    assert entry.description.startswith("import from s3://(sensitive)@bucket/x ddd")
    assert "topsecret" not in entry.description


def test_a_console_entry_has_no_key_name() -> None:
    assert log_entry(raw(1)) == HistoryEntry(
        1,
        "2026-11-20T14:02:00Z",
        "alice@example.com",
        None,
        "sessions",
        "Database",
        "Database 'sessions' change 1",
    )
    blank = log_entry(raw(1, apiKeyName=""))
    assert blank is not None and blank.api_key_name is None


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        (Reply(body={"account": {"id": 1, "key": {"name": "ci-key"}}}), "ci-key"),
        (Reply(body={"account": {"id": 1}}), None),
        (Reply(body={"account": {"key": {"name": 7}}}), None),
        (Reply(body=[1]), None),
        (Reply(404, {}), None),
        (Reply(403, {}), None),
    ],
)
def test_the_key_name_comes_from_the_account(client_for: Any, answer: Reply, name: str) -> None:
    api, client = client_for(by_route({("GET", "/"): answer}))
    assert read_key_name(client) == name
    assert api.paths() == ["/"]
