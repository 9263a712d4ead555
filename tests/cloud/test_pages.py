"""Tests of reconciler.cloud.pages: a database list that never ends stops within its bound."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from reconciler.cloud.pages import MAX_PAGES, database_pages
from reconciler.errors import BadResponseError

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
