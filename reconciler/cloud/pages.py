"""The database list of a subscription, page by page, and the shapes of the answers read.

``GET /subscriptions/{id}/databases?offset=&limit=`` answers with an odd nesting,
``{"subscription": [{"subscriptionId": 1, "numberOfDatabases": 3, "databases": [...]}]}``,
and with a 404 once ``offset`` is past the end of the list. The reader (the live state) and
recovery (looking a database up by name) both walk the list here: page by page, or, when the
subscription answer says how many databases it holds, with the pages that count needs
requested at once on the caller's pool (the caller bounds how many are in flight).

The checks of one subscription object (:func:`live_subscription`) and of one database object
(:func:`live_database`) live here too, so each answer shape is checked in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future
from typing import Any

from reconciler.cloud import paths
from reconciler.errors import BadResponseError, NotFoundError
from reconciler.model import LiveDatabase, LiveSubscription

PAGE_SIZE = 100
#: Pages read of one subscription before giving up on a list that never ends (10,000
#: databases at the default page size: far beyond what one subscription holds).
MAX_PAGES = 100

#: ``get(path, params)``: the client's GET (or one that also checks a stop flag).
Get = Callable[[str, Mapping[str, Any]], Any]


def database_pages(
    get: Get,
    subscription_id: int,
    page_size: int = PAGE_SIZE,
    max_pages: int = MAX_PAGES,
    *,
    expected: int | None = None,
    pool: Executor | None = None,
) -> Iterator[list[LiveDatabase]]:
    """Yield the databases of each page, in offset order, each database once, until the end.

    The end is a 404, a short or empty page, or as many databases read as
    ``numberOfDatabases`` says exist (so 100 databases cost one page). A database listed
    again on a later page (the list shifted) is yielded once.

    With a ``pool`` and ``expected`` (the number of databases the subscription answer says
    it holds), the pages that number needs are requested at once on ``pool`` (see
    :func:`pages_ahead`), then read in offset order with the same checks and the same end;
    when the last of them is not the end (the list holds more than ``expected``), paging
    goes on one page at a time. Pages requested past the end are discarded, those not yet
    sent are cancelled. Without them, or for a count that is not worth or not safe to trust,
    every page is requested after the previous one.

    Raises:
        BadResponseError: a page of an unexpected shape; a page without ``databases`` while
            ``numberOfDatabases`` says more exist; a page longer than ``limit``; a full page
            that only repeats databases already listed (the server ignores ``offset``); or
            more than ``max_pages`` pages (the list does not end).
    """
    path = paths.databases(subscription_id)
    ahead = _request_ahead(pool, get, path, page_size, pages_ahead(expected, page_size, max_pages))
    seen: set[int] = set()
    try:
        for number in range(max_pages):
            offset = number * page_size
            try:
                if number < len(ahead):
                    page = ahead[number].result()
                else:
                    page = get(path, {"offset": offset, "limit": page_size})
            except NotFoundError:
                return  # the API answers 404 past the end of the list
            shown = f"{path}?offset={offset}&limit={page_size}"
            fresh, last = _take(page, subscription_id, shown, page_size, seen)
            yield fresh
            if last:
                return
    finally:
        for future in ahead:
            future.cancel()
    shown = f"{path}?offset={max_pages * page_size}&limit={page_size}"
    raise _bad(
        shown,
        f"the database list does not end: stopped after {max_pages} pages ({len(seen)} databases)",
    )


def pages_ahead(expected: int | None, page_size: int, max_pages: int) -> int:
    """Return how many pages to request at once for ``expected`` databases; 0: one by one.

    0 when ``expected`` is None, negative, fits one page (nothing to overlap), or needs more
    than ``max_pages`` pages (a count that large is not trusted with that much work: paging
    one by one stops at the real end, or at the page bound).
    """
    if expected is None or expected < 0:
        return 0
    pages = -(-expected // page_size)
    return pages if 2 <= pages <= max_pages else 0


def _request_ahead(
    pool: Executor | None, get: Get, path: str, page_size: int, count: int
) -> list[Future[Any]]:
    """Submit the first ``count`` pages to ``pool``; return their futures in offset order."""
    if pool is None:
        return []
    return [
        pool.submit(get, path, {"offset": number * page_size, "limit": page_size})
        for number in range(count)
    ]


def _take(
    page: Any, subscription_id: int, shown: str, page_size: int, seen: set[int]
) -> tuple[list[LiveDatabase], bool]:
    """Check one page; return its databases not in ``seen`` (added to it) and whether it
    is the last page.

    Raises:
        BadResponseError: see :func:`database_pages`.
    """
    block = subscription_block(page, subscription_id, shown)
    entries = _entries(block, len(seen), shown)
    if len(entries) > page_size:
        raise _bad(
            shown,
            f"the page holds {len(entries)} databases, more than its limit of {page_size}",
        )
    fresh = []
    for index, entry in enumerate(entries):
        database = live_database(entry, shown, f"database entry {index}")
        if database.id not in seen:
            seen.add(database.id)
            fresh.append(database)
    if entries and not fresh:
        raise _bad(shown, "the page only repeats databases already listed: offset ignored")
    return fresh, _last_page(len(entries), len(seen), page_size, block)


def _bad(shown: str, description: str) -> BadResponseError:
    return BadResponseError("GET", shown, 200, "", description)


def _entries(block: Mapping[str, Any], read: int, shown: str) -> list[Any]:
    """The page's ``databases``; a page without them ends the list unless more exist."""
    entries = block.get("databases")
    if entries is None:
        total = database_count(block)
        if total is not None and total > read:
            raise BadResponseError(
                "GET",
                shown,
                200,
                "",
                f"no 'databases' in the page, but numberOfDatabases is {total}",
            )
        return []
    if not isinstance(entries, list):
        raise BadResponseError("GET", shown, 200, "", "expected 'databases' to be a list")
    return entries


def database_count(answer: Mapping[str, Any]) -> int | None:
    """Return the ``numberOfDatabases`` of a subscription or list answer; None unless an
    integer."""
    total = answer.get("numberOfDatabases")
    return total if isinstance(total, int) and not isinstance(total, bool) else None


def _last_page(page_length: int, total_read: int, page_size: int, block: Mapping[str, Any]) -> bool:
    """True when no further page can hold a database."""
    total = database_count(block)
    if total is not None and total_read >= total:
        return True
    return page_length < page_size


def subscription_block(page: Any, subscription_id: int, shown: str) -> Mapping[str, Any]:
    """Return the one element of the ``subscription: [ {...} ]`` nesting of a list page.

    Raises:
        BadResponseError: not exactly one entry, or one for another subscription.
    """
    blocks = page.get("subscription") if isinstance(page, Mapping) else None
    if not isinstance(blocks, list) or len(blocks) != 1 or not isinstance(blocks[0], Mapping):
        count = len(blocks) if isinstance(blocks, list) else "no"
        raise BadResponseError(
            "GET",
            shown,
            200,
            "",
            f"expected 'subscription' to hold exactly one entry, got {count} entries",
        )
    block: Mapping[str, Any] = blocks[0]
    if block.get("subscriptionId") != subscription_id:
        raise BadResponseError(
            "GET",
            shown,
            200,
            "",
            f"expected subscriptionId {subscription_id}, got {block.get('subscriptionId')!r}",
        )
    return block


def live_database(entry: Any, shown: str, what: str) -> LiveDatabase:
    """Check one database object of an answer and wrap it.

    Raises:
        BadResponseError: not an object, or without an integer ``databaseId`` or a name.
    """
    if not isinstance(entry, Mapping):
        raise BadResponseError("GET", shown, 200, "", f"{what} is not an object")
    database_id = entry.get("databaseId")
    name = entry.get("name")
    if not isinstance(database_id, int) or isinstance(database_id, bool):
        raise BadResponseError("GET", shown, 200, "", f"{what} has no databaseId")
    if not isinstance(name, str) or not name:
        raise BadResponseError("GET", shown, 200, "", f"{what} has no name")
    return LiveDatabase(id=database_id, name=name, status=str(entry.get("status", "")), raw=entry)


def live_subscription(answer: Any, subscription_id: int, shown: str) -> LiveSubscription:
    """Check a ``GET /subscriptions/{id}`` answer and wrap it, without its databases.

    Raises:
        BadResponseError: not an object.
    """
    if not isinstance(answer, Mapping):
        raise BadResponseError("GET", shown, 200, "", "expected a subscription object")
    return LiveSubscription(
        id=subscription_id,
        name=str(answer.get("name", "")),
        status=str(answer.get("status", "")),
        raw=answer,
        databases=(),
    )
