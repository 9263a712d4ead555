"""Read the live state of the subscriptions a spec names (DESIGN §3, facts §2.2-2.4).

Per subscription: ``GET /subscriptions/{id}`` (a 404 lists it as missing), then
``GET /subscriptions/{id}/databases`` page by page, and a single-database GET only for a
database whose spec manages its password when the list entry lacks it. Subscriptions are
read concurrently (bounded); the pages of one subscription are read in order.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import Any

from reconciler.cloud import paths
from reconciler.cloud.client import ApiClient
from reconciler.cloud.pages import database_pages, live_database
from reconciler.errors import BadResponseError, NotFoundError
from reconciler.model import DesiredState, LiveDatabase, LiveState, LiveSubscription

logger = logging.getLogger(__name__)


class _Stopped(Exception):
    """Another worker failed: stop before the next request."""


def read_live(
    client: ApiClient, desired: DesiredState, *, concurrency: int = 4, page_size: int = 100
) -> LiveState:
    """Return the live state of every subscription in ``desired``.

    Subscriptions answering 404 are listed in ``LiveState.missing`` (in spec order).

    Raises:
        ApiError: the first failure of any worker (the other workers stop at their next
            request); BadResponseError for answers of an unexpected shape.
    """
    wanted = _password_names(desired)
    ids = list(wanted)
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="read") as pool:
        futures = [
            pool.submit(
                _stop_all_on_error, stop, _read_subscription, client, i, wanted[i], page_size
            )
            for i in ids
        ]
        try:
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        except BaseException:  # Ctrl-C: drop the queue, stop the others at their next request
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        failed = _first_failure(futures, done)
        if failed is not None:
            pool.shutdown(wait=True, cancel_futures=True)
            raise failed
    found = {i: f.result() for i, f in zip(ids, futures, strict=True)}
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


def _first_failure(
    futures: Iterable[Future[LiveSubscription | None]], done: set[Future[LiveSubscription | None]]
) -> BaseException | None:
    """The error of a finished future (a real one rather than a _Stopped echo)."""
    errors = [f.exception() for f in futures if f in done and f.exception() is not None]
    real = [e for e in errors if not isinstance(e, _Stopped)]
    return (real or errors or [None])[0]


def _stop_all_on_error(
    stop: threading.Event,
    read: Callable[..., LiveSubscription | None],
    *args: Any,
) -> LiveSubscription | None:
    """Run ``read(*args, stop)``; on failure tell the other workers at once.

    Set from the failing worker itself, so that a queued subscription this same thread picks
    up next is not started before the main thread has noticed.
    """
    try:
        return read(*args, stop)
    except BaseException:
        stop.set()
        raise


def _read_subscription(
    client: ApiClient,
    subscription_id: int,
    password_names: frozenset[str],
    page_size: int,
    stop: threading.Event,
) -> LiveSubscription | None:
    """Read one subscription and its databases; None when it does not exist."""
    path = paths.subscription(subscription_id)
    try:
        raw = _get(client, stop, path)
    except NotFoundError:
        logger.debug("subscription %s does not exist", subscription_id)
        return None
    if not isinstance(raw, Mapping):
        raise BadResponseError("GET", path, 200, "", "expected a subscription object")
    databases = _read_databases(client, subscription_id, page_size, stop)
    databases = _fill_passwords(client, subscription_id, password_names, databases, stop)
    return LiveSubscription(
        id=subscription_id,
        name=str(raw.get("name", "")),
        status=str(raw.get("status", "")),
        raw=raw,
        databases=tuple(databases),
    )


def _get(client: ApiClient, stop: threading.Event, path: str, **params: Any) -> Any:
    if stop.is_set():
        raise _Stopped()
    return client.get(path, params or None)


def _read_databases(
    client: ApiClient, subscription_id: int, page_size: int, stop: threading.Event
) -> list[LiveDatabase]:
    """Read the database list page by page, in order (see :mod:`reconciler.cloud.pages`)."""

    def get(path: str, params: Mapping[str, Any]) -> Any:
        return _get(client, stop, path, **params)

    return [db for page in database_pages(get, subscription_id, page_size) for db in page]


def _fill_passwords(
    client: ApiClient,
    subscription_id: int,
    password_names: frozenset[str],
    databases: list[LiveDatabase],
    stop: threading.Event,
) -> list[LiveDatabase]:
    """Replace list entries lacking a password the spec manages by a single-database GET.

    Memcached databases never return their SASL password (facts §6), so a GET would not
    help them.
    """
    result = []
    for listed in databases:
        database = listed
        if listed.name in password_names and _lacks_password(listed.raw):
            path = paths.database(subscription_id, listed.id)
            database = live_database(_get(client, stop, path), path, "the database")
            if database.id != listed.id:
                raise BadResponseError(
                    "GET", path, 200, "", f"expected databaseId {listed.id}, got {database.id}"
                )
        result.append(database)
    return result


def _lacks_password(raw: Mapping[str, Any]) -> bool:
    if raw.get("protocol", "redis") == "memcached":
        return False
    security = raw.get("security")
    password = security.get("password") if isinstance(security, Mapping) else None
    return not (isinstance(password, str) and password)
