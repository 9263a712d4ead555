"""Read the live state of the subscriptions a spec names.

Per subscription: ``GET /subscriptions/{id}`` (a 404 lists it as missing), then
``GET /subscriptions/{id}/databases`` page by page, and a single-database GET only for a
database whose spec manages its password when the list entry lacks it (the list endpoint
may leave passwords out), and ``GET …/tags`` only for a database whose spec manages its
tags. Subscriptions are read concurrently, at most ``concurrency`` at once; so are the pages
of one subscription whose answer says how many databases it holds (its
``numberOfDatabases``; page by page otherwise), and they are taken in offset order. One
bound covers every request in flight, whichever subscription or page it reads: the larger
of ``concurrency`` and :data:`PAGE_CONCURRENCY` (the subscriptions' own requests never
exceed ``concurrency``: only that many threads send them). The first failure stops every
worker before its next request.
"""

from __future__ import annotations

import logging
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Executor, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from typing import Any

from reconciler.cloud import paths
from reconciler.cloud.client import ApiClient
from reconciler.cloud.pages import (
    database_count,
    database_pages,
    live_database,
    live_subscription,
)
from reconciler.cloud.tags import tag_names, with_tags
from reconciler.errors import BadResponseError, NotFoundError
from reconciler.model import DesiredState, LiveDatabase, LiveState, LiveSubscription
from reconciler.secrets import mask_url

logger = logging.getLogger(__name__)

_Found = dict[int, LiveSubscription | None]

#: Page requests in flight at once (with ``concurrency`` of 2 or more). A bound, not a
#: budget: it changes how soon the pages arrive, never how many are sent (a subscription
#: still costs its pages + 1). The API's documented limit counts requests per minute (400
#: per key; this client keeps to 200, see :mod:`reconciler.cloud.ratelimit`, which paces a
#: longer burst), not requests in flight; 5,000 databases are 51 requests whatever the bound.
#: At 50 ms a request, 8 in flight read those 50 pages in 7 round trips instead of 13 with
#: the subscriptions' 4. Terraform reads with 10 in flight (``-parallelism=10``); the
#: transport keeps 16 connections, so 8 are reused, not reopened.
PAGE_CONCURRENCY = 8


@dataclass(frozen=True)
class _Names:
    """The databases of one subscription needing more than the list: password, tags."""

    passwords: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()


class _Stopped(Exception):
    """Another worker failed: stop before the next request."""


@dataclass(frozen=True)
class _Reading:
    """What every worker shares: the client, the stop flag, the page size, the bound on
    requests in flight (``gate``) and the pool the pages are read on (None: page by page).
    """

    client: ApiClient
    stop: threading.Event
    page_size: int
    gate: threading.BoundedSemaphore
    pages: Executor | None

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The client's GET, sent once a place under the bound is free; refused
        (``_Stopped``) once another worker has failed.
        """
        with self.gate:
            if self.stop.is_set():
                raise _Stopped()
            return self.client.get(path, params or None)


def read_live(
    client: ApiClient,
    desired: DesiredState,
    *,
    concurrency: int = 4,
    page_concurrency: int = PAGE_CONCURRENCY,
    page_size: int = 100,
) -> LiveState:
    """Return the live state of every subscription in ``desired``.

    Subscriptions answering 404 are listed in ``LiveState.missing`` (in spec order). At most
    ``concurrency`` subscriptions are read at once (less than 1 counts as 1), and at most
    ``max(concurrency, page_concurrency)`` requests are in flight at once, pages included. A
    ``concurrency`` of 1 sends every request after the previous one, pages too.

    Raises:
        ApiError: the first failure of any worker (the other workers stop at their next
            request); BadResponseError for answers of an unexpected shape.
    """
    bound = max(1, concurrency)
    in_flight = max(bound, page_concurrency) if bound > 1 else 1
    tagged = tag_names(desired)
    wanted = {
        i: _Names(names, tagged.get(i, frozenset()))
        for i, names in _password_names(desired).items()
    }
    page_pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="page")
    reading = _Reading(
        client,
        threading.Event(),
        page_size,
        threading.BoundedSemaphore(in_flight),
        page_pool if bound > 1 else None,
    )
    try:
        found = _read_all(reading, wanted, bound)
    finally:
        reading.stop.set()  # pages still running past the end of a list: drop them
        page_pool.shutdown(wait=True, cancel_futures=True)
    return LiveState(
        subscriptions={i: sub for i, sub in found.items() if sub is not None},
        missing=tuple(i for i, sub in found.items() if sub is None),
    )


def _password_names(desired: DesiredState) -> dict[int, frozenset[str]]:
    """Subscription ids in first-seen order → names of present databases managing a password.

    A subscription may appear in several files, so names are gathered across all of them.
    """
    names: dict[int, set[str]] = {}
    for spec in desired.subscriptions:
        bucket = names.setdefault(spec.id, set())
        bucket.update(
            d.name for d in spec.databases if d.state == "present" and "password" in d.fields
        )
    return {i: frozenset(n) for i, n in names.items()}


def _read_all(reading: _Reading, wanted: dict[int, _Names], concurrency: int) -> _Found:
    """Read every subscription of ``wanted`` on at most ``concurrency`` threads, in its order.

    Raises:
        ApiError: the first failure of any worker.
    """
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="read") as pool:
        futures = {
            i: pool.submit(_read_or_stop_all, reading, i, names) for i, names in wanted.items()
        }
        _raise_first_failure(pool, reading.stop, list(futures.values()))
    return {i: future.result() for i, future in futures.items()}


def _raise_first_failure(
    pool: ThreadPoolExecutor, stop: threading.Event, futures: Sequence[Future[Any]]
) -> None:
    """Wait for every future; on the first failure drop the queue and raise that failure."""
    try:
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
    except BaseException:  # Ctrl-C: drop the queue, stop the others at their next request
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    errors = [f.exception() for f in futures if f in done and f.exception() is not None]
    # A _Stopped is only the echo of another worker's failure: report the real one.
    real = [e for e in errors if not isinstance(e, _Stopped)]
    failed = (real or errors or [None])[0]
    if failed is not None:
        pool.shutdown(wait=True, cancel_futures=True)
        raise failed


def _read_or_stop_all(
    reading: _Reading, subscription_id: int, names: _Names
) -> LiveSubscription | None:
    """Read one subscription; on failure tell the other workers at once.

    Set from the failing worker itself, so that a queued subscription this same thread picks
    up next is not started before the main thread has noticed.
    """
    try:
        return _read_subscription(reading, subscription_id, names)
    except BaseException:
        reading.stop.set()
        raise


def _read_subscription(
    reading: _Reading, subscription_id: int, names: _Names
) -> LiveSubscription | None:
    """Read one subscription and its databases; None when it does not exist."""
    path = paths.subscription(subscription_id)
    try:
        answer = reading.get(path)
    except NotFoundError as exc:
        _check_api_root(reading.client.base_url, exc)
        logger.debug("subscription %s does not exist", subscription_id)
        return None
    subscription = live_subscription(answer, subscription_id, path)
    pages = database_pages(
        reading.get,
        subscription_id,
        reading.page_size,
        expected=database_count(subscription.raw),
        pool=reading.pages,
    )
    # Every page first, then the single GETs: the list is read in one sweep.
    listed = [database for page in pages for database in page]
    databases = tuple(
        _with_password(reading, subscription_id, database)
        if database.name in names.passwords and _lacks_password(database.raw)
        else database
        for database in listed
    )
    databases = tuple(
        with_tags(reading.get, subscription_id, database)
        if database.name in names.tags
        else database
        for database in databases
    )
    return replace(subscription, databases=databases)


def _with_password(reading: _Reading, subscription_id: int, listed: LiveDatabase) -> LiveDatabase:
    """Return the single-database answer for a list entry that lacks its password.

    Raises:
        BadResponseError: the answer is not a database object, or is another database.
    """
    path = paths.database(subscription_id, listed.id)
    database = live_database(reading.get(path), path, "the database")
    if database.id != listed.id:
        raise BadResponseError(
            "GET", path, 200, "", f"expected databaseId {listed.id}, got {database.id}"
        )
    return database


def _lacks_password(raw: Mapping[str, Any]) -> bool:
    """True when a list entry has no password, unless it is memcached.

    The API never returns the SASL password of a memcached database, so a single GET would
    not bring it either.
    """
    if raw.get("protocol", "redis") == "memcached":
        return False
    security = raw.get("security")
    password = security.get("password") if isinstance(security, Mapping) else None
    return not (isinstance(password, str) and password)


def _check_api_root(base_url: str, not_found: NotFoundError) -> None:
    """A 404 from a base URL that is not the API's ``…/v1`` is a wrong URL, not a missing
    subscription (which would send the user looking for the wrong thing).

    Raises:
        BadResponseError: ``base_url``'s path does not end in ``/v1``.
    """
    if urllib.parse.urlsplit(base_url).path.rstrip("/").endswith("/v1"):
        return
    raise BadResponseError(
        not_found.method,
        not_found.path,
        404,
        not_found.error_type,
        f"this does not look like the Redis Cloud API v1 at {mask_url(base_url)}: "
        "its base URL ends in /v1 (e.g. https://api.redislabs.com/v1)",
    )
