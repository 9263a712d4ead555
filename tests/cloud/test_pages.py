"""Tests of reconciler.cloud.pages: a database list that never ends stops within its bound."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from reconciler.cloud.pages import MAX_PAGES, database_pages, pages_ahead
from reconciler.errors import BadResponseError, NotFoundError

SUB = 7


def page(ids: range | list[int], total: int | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {
        "subscriptionId": SUB,
        "databases": [{"databaseId": i, "name": f"db-{i}"} for i in ids],
    }
    if total is not None:
        block["numberOfDatabases"] = total
    return {"subscription": [block]}


class Endless:
    """A server answering every page with ``limit`` new databases (and ``total``, if any)."""

    def __init__(self, total: int | None = None, extra: int = 0) -> None:
        self.total = total
        self.extra = extra
        self.offsets: list[int] = []

    def __call__(self, path: str, params: Mapping[str, Any]) -> Any:
        offset, limit = int(params["offset"]), int(params["limit"])
        self.offsets.append(offset)
        return page(range(offset + 1, offset + limit + 1 + self.extra), self.total)


def test_the_max_pages_bound_is_documented() -> None:
    assert MAX_PAGES == 100


@pytest.mark.parametrize("total", [None, 10**9])
def test_endless_pages_stop_at_the_cap(total: int | None) -> None:
    server = Endless(total)
    with pytest.raises(BadResponseError) as info:
        for _ in database_pages(server, SUB):
            pass
    assert str(info.value) == (
        "GET /subscriptions/7/databases?offset=10000&limit=100: HTTP 200: the database list "
        "does not end: stopped after 100 pages (10000 databases)"
    )
    assert len(server.offsets) == MAX_PAGES


def test_pages_stop_once_the_reported_count_is_read() -> None:
    server = Endless(total=250)
    listed = [db.id for chunk in database_pages(server, SUB) for db in chunk]
    assert listed == list(range(1, 301))  # the third page is read whole, then it ends
    assert server.offsets == [0, 100, 200]


def test_a_page_longer_than_its_limit_is_an_error() -> None:
    with pytest.raises(BadResponseError) as info:
        list(database_pages(Endless(extra=1), SUB))
    assert str(info.value) == (
        "GET /subscriptions/7/databases?offset=0&limit=100: HTTP 200: the page holds 101 "
        "databases, more than its limit of 100"
    )


def test_a_partly_repeated_page_is_read_once_each() -> None:
    answers = {0: page(range(1, 3)), 2: page([2, 3]), 4: page([])}
    listed = database_pages(lambda path, params: answers[params["offset"]], SUB, page_size=2)
    assert [[db.id for db in chunk] for chunk in listed] == [[1, 2], [3], []]


# --- pages requested at once (expected count and a pool) -------------------------------------


@pytest.mark.parametrize(
    ("expected", "pages"),
    [
        (None, 0),
        (-1, 0),
        (0, 0),  # one page, nothing to overlap: page by page
        (1, 0),
        (100, 0),
        (101, 2),
        (5000, 50),
        (10_000, 100),  # the page bound itself
        (10_001, 0),  # beyond the bound: not trusted, page by page
        (10**18, 0),
    ],
)
def test_pages_ahead(expected: int | None, pages: int) -> None:
    assert pages_ahead(expected, 100, MAX_PAGES) == pages


def test_pages_ahead_are_yielded_in_offset_order() -> None:
    server = Endless(total=250)
    with ThreadPoolExecutor(max_workers=3) as pool:
        chunks = list(database_pages(server, SUB, expected=250, pool=pool))
    assert [[db.id for db in chunk] for chunk in chunks] == [
        list(range(1, 101)),
        list(range(101, 201)),
        list(range(201, 301)),
    ]
    assert sorted(server.offsets) == [0, 100, 200]


def test_pages_ahead_stay_within_the_page_bound() -> None:
    server = Endless()  # never ends, and its pages give no count
    with ThreadPoolExecutor(max_workers=4) as pool, pytest.raises(BadResponseError) as info:
        list(database_pages(server, SUB, page_size=2, max_pages=5, expected=10, pool=pool))
    assert str(info.value) == (
        "GET /subscriptions/7/databases?offset=10&limit=2: HTTP 200: the database list "
        "does not end: stopped after 5 pages (10 databases)"
    )
    assert sorted(server.offsets) == [0, 2, 4, 6, 8]


def test_a_count_beyond_the_page_bound_reads_page_by_page() -> None:
    server = Endless()
    with ThreadPoolExecutor(max_workers=4) as pool, pytest.raises(BadResponseError):
        list(database_pages(server, SUB, page_size=2, max_pages=5, expected=11, pool=pool))
    assert server.offsets == [0, 2, 4, 6, 8]  # in order: one at a time


def test_pages_ahead_not_yet_sent_are_cancelled_at_the_end() -> None:
    sent: list[int] = []
    released = threading.Event()

    def get(path: str, params: Mapping[str, Any]) -> Any:
        sent.append(params["offset"])
        if params["offset"] > 4:
            released.wait(timeout=5)  # hold the one worker: the rest stay queued
        if params["offset"] >= 4:
            raise NotFoundError("GET", path, 404, "", "")
        return page(range(params["offset"] + 1, params["offset"] + 3))

    with ThreadPoolExecutor(max_workers=1) as pool:
        listed = list(database_pages(get, SUB, page_size=2, expected=40, pool=pool))
        released.set()
    assert [[db.id for db in chunk] for chunk in listed] == [[1, 2], [3, 4]]
    assert sent in ([0, 2, 4], [0, 2, 4, 6])  # the pages queued behind the 404 never sent
