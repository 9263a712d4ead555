"""The pages of one subscription read at once by reconciler.cloud.reader, over a real client.

The subscription answer's ``numberOfDatabases`` says how many pages exist; they are
requested at once (at most ``max(concurrency, page_concurrency)`` in flight, 8 by default),
taken in offset order, and paging
goes on one by one when that count is missing, hostile or short of the truth.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fake_api import FakeApi, Reply, Seen

from reconciler.cloud.client import ApiClient
from reconciler.cloud.reader import PAGE_CONCURRENCY, read_live
from reconciler.errors import ApiUnavailableError, BadResponseError
from reconciler.model import DesiredState, Location, SubscriptionSpec

HERE = Location("spec.yaml", 1, 1)
SUB = 7
SIZE = 10  # the page size of these tests
UNSAID = object()  # the subscription answer leaves numberOfDatabases out
TRUTH = object()  # the subscription answer gives the true number


@dataclass
class Paged:
    """Subscriptions of ``sizes[id]`` databases (ids ``id*1000 + 1…``), paged by the API's rules.

    The subscription answer carries ``numberOfDatabases = announced`` (``TRUTH``: the true
    size; ``UNSAID``: left out), each page the true one unless ``page_count`` is False; a
    page past the end answers 404; ``pages`` answers chosen
    offsets itself; ``hold`` makes the page at offset 0 wait (at most 5 s) until ``hold``
    other pages were answered; ``gather`` makes every page wait (at most 5 s) until
    ``gather`` pages have arrived. ``answered`` lists the offsets in the order answered.
    """

    sizes: dict[int, int]
    announced: Any = TRUTH
    page_count: bool = True
    pages: dict[int, Reply] = field(default_factory=dict)
    delay: float = 0.0
    hold: int = 0
    gather: int = 0
    arrived: int = 0
    answered: list[int] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def __call__(self, seen: Seen) -> Reply:
        parts = seen.route.strip("/").split("/")
        sub = int(parts[1])
        if len(parts) == 2:
            body: dict[str, Any] = {"id": sub, "name": f"sub-{sub}", "status": "active"}
            said = self.sizes[sub] if self.announced is TRUTH else self.announced
            if said is not UNSAID:
                body["numberOfDatabases"] = said
            return Reply(200, body, delay=self.delay)
        offset, limit = int(seen.query["offset"]), int(seen.query["limit"])
        with self.changed:
            self.arrived += 1
            self.changed.notify_all()
            self.changed.wait_for(lambda: self.arrived >= self.gather, timeout=5)
            if offset == 0:
                self.changed.wait_for(lambda: len(self.answered) >= self.hold, timeout=5)
            self.answered.append(offset)
            self.changed.notify_all()
        if offset in self.pages:
            return self.pages[offset]
        return self._page(sub, offset, limit)

    def _page(self, sub: int, offset: int, limit: int) -> Reply:
        ids = range(sub * 1000 + 1, sub * 1000 + self.sizes[sub] + 1)[offset : offset + limit]
        if not ids:
            return Reply(404, delay=self.delay)
        entries = [{"databaseId": i, "name": f"db-{i}", "status": "active"} for i in ids]
        block: dict[str, Any] = {"subscriptionId": sub, "databases": entries, "links": []}
        if self.page_count:
            block["numberOfDatabases"] = self.sizes[sub]
        return Reply(200, {"subscription": [block]}, delay=self.delay)


@pytest.fixture
def connect() -> Iterator[Callable[[Paged], tuple[FakeApi, ApiClient]]]:
    opened: list[tuple[FakeApi, ApiClient]] = []

    def start(account: Paged) -> tuple[FakeApi, ApiClient]:
        api = FakeApi(account)
        client = ApiClient(
            api.url, "key", "secret", get_retries=0, backoff_factor=0.0, sleep=lambda s: None
        )
        opened.append((api, client))
        return api, client

    yield start
    for api, client in opened:
        client.close()
        api.close()


def desired(*ids: int) -> DesiredState:
    return DesiredState(tuple(SubscriptionSpec(i, False, (), HERE) for i in ids))


def listed(
    api_client: tuple[FakeApi, ApiClient], concurrency: int = 4, sub: int = SUB
) -> list[int]:
    _api, client = api_client
    live = read_live(client, desired(sub), concurrency=concurrency, page_size=SIZE)
    return [d.id for d in live.subscriptions[sub].databases]


def offsets(api: FakeApi) -> list[int]:
    """The offsets of the page requests, in arrival order."""
    return [int(s.query["offset"]) for s in api.seen if "offset" in s.query]


def ids(count: int, sub: int = SUB) -> list[int]:
    return list(range(sub * 1000 + 1, sub * 1000 + count + 1))


# --- order and request count -----------------------------------------------------------------


def test_pages_answered_out_of_order_are_taken_in_offset_order(connect: Any) -> None:
    account = Paged({SUB: 35}, hold=3)
    api, client = connect(account)
    assert listed((api, client)) == ids(35)
    assert account.answered[-1] == 0  # the first page was answered last
    assert sorted(offsets(api)) == [0, 10, 20, 30]
    assert client.request_count == 1 + 4


@pytest.mark.parametrize(
    ("size", "pages"),
    [(0, 1), (1, 1), (10, 1), (11, 2), (40, 4), (95, 10), (100, 10)],
)
def test_requests_are_pages_plus_one(connect: Any, size: int, pages: int) -> None:
    api, client = connect(Paged({SUB: size}))
    assert listed((api, client)) == ids(size)
    assert sorted(offsets(api)) == [n * SIZE for n in range(pages)]
    assert client.request_count == pages + 1


def test_one_thousand_databases_cost_eleven_requests(connect: Any) -> None:
    _api, client = connect(Paged({SUB: 1000}))
    live = read_live(client, desired(SUB))
    assert [d.id for d in live.subscriptions[SUB].databases] == ids(1000)
    assert client.request_count == 11


# --- the bound on requests in flight ---------------------------------------------------------


@pytest.mark.parametrize(
    ("concurrency", "page_concurrency", "bound"),
    [(2, 2, 2), (3, 3, 3), (4, 4, 4), (2, 5, 5), (4, 6, 6), (4, 1, 4), (3, 0, 3)],
)
def test_requests_in_flight_never_exceed_the_bound(
    connect: Any, concurrency: int, page_concurrency: int, bound: int
) -> None:
    sizes = {1: 45, 2: 5, 3: 45, 4: 5, 5: 45, 6: 5, 7: 45}
    api, client = connect(Paged(sizes, delay=0.02))
    live = read_live(
        client,
        desired(*sizes),
        concurrency=concurrency,
        page_concurrency=page_concurrency,
        page_size=SIZE,
    )
    assert [[d.id for d in s.databases] for s in live.subscriptions.values()] == [
        ids(size, sub) for sub, size in sizes.items()
    ]
    assert api.max_in_flight == bound  # subscriptions and pages share the one bound
    assert client.request_count == 4 * (1 + 5) + 3 * (1 + 1)


def test_pages_have_eight_in_flight_by_default(connect: Any) -> None:
    assert PAGE_CONCURRENCY == 8
    api, client = connect(Paged({SUB: 120}, gather=PAGE_CONCURRENCY))
    assert listed((api, client)) == ids(120)  # concurrency 4: the subscriptions' bound
    assert api.max_in_flight == PAGE_CONCURRENCY
    assert client.request_count == 1 + 12


def test_subscriptions_themselves_stay_within_concurrency(connect: Any) -> None:
    """One page each: no page is requested ahead, so only the subscription threads send."""
    sizes = dict.fromkeys(range(1, 9), 5)
    api, client = connect(Paged(sizes, delay=0.02))
    live = read_live(client, desired(*sizes), concurrency=3, page_size=SIZE)
    assert len(live.subscriptions) == 8
    assert api.max_in_flight == 3
    assert client.request_count == 8 * 2


@pytest.mark.parametrize("concurrency", [1, 0, -3])
def test_a_bound_of_one_reads_page_after_page(connect: Any, concurrency: int) -> None:
    api, client = connect(Paged({SUB: 45}, delay=0.005))
    assert listed((api, client), concurrency) == ids(45)
    assert offsets(api) == [0, 10, 20, 30, 40]
    assert api.max_in_flight == 1


# --- a count that is missing, wrong or hostile -----------------------------------------------


@pytest.mark.parametrize(
    "announced", [UNSAID, -5, "45", 45.0, True, None, 10**12, 101 * SIZE, [45], {"n": 45}]
)
def test_an_unusable_count_falls_back_to_page_after_page(connect: Any, announced: Any) -> None:
    api, client = connect(Paged({SUB: 45}, announced=announced, delay=0.005))
    assert listed((api, client)) == ids(45)
    assert offsets(api) == [0, 10, 20, 30, 40]  # in order: one at a time
    assert client.request_count == 1 + 5


@pytest.mark.parametrize(
    ("size", "page_count", "follow"),
    [
        (45, True, [30, 40]),
        (40, True, [30]),  # the page's own count says the list ends there
        (30, True, []),
        (45, False, [30, 40]),
        (40, False, [30, 40]),  # a full page without a count: the next one answers 404
        (30, False, [30]),
    ],
)
def test_a_count_short_of_the_truth_continues_after_a_full_last_page(
    connect: Any, size: int, page_count: bool, follow: list[int]
) -> None:
    api, client = connect(Paged({SUB: size}, announced=25, page_count=page_count))
    assert listed((api, client)) == ids(size)
    assert sorted(offsets(api)[:3]) == [0, 10, 20]  # the three pages 25 databases need
    assert offsets(api)[3:] == follow  # then one by one, up to a short page or a 404


def test_a_count_beyond_the_truth_stops_at_the_first_end(connect: Any) -> None:
    api, client = connect(Paged({SUB: 15}, announced=60))
    assert listed((api, client)) == ids(15)
    assert {0, 10} <= set(offsets(api)) <= {0, 10, 20, 30, 40, 50}  # not past the count
    assert client.request_count <= 1 + 6


# --- ends and failures mid-way ---------------------------------------------------------------


def test_a_404_mid_way_ends_the_list_there(connect: Any) -> None:
    api, client = connect(Paged({SUB: 50}, pages={20: Reply(404)}))
    assert listed((api, client)) == ids(20)
    assert {0, 10, 20} <= set(offsets(api)) <= {0, 10, 20, 30, 40}


@pytest.mark.parametrize("end", [Reply(200, {"subscription": [{"subscriptionId": SUB}]}), None])
def test_pages_after_the_end_are_not_read(connect: Any, end: Reply | None) -> None:
    """A short (or absent) page ends the list; a garbage page after it is never looked at."""
    short = Paged({SUB: 25})._page(SUB, 20, SIZE)
    garbage = Reply(200, ["not", "a", "page"])
    pages = {20: short if end is None else end, 30: garbage, 40: garbage}
    api, client = connect(Paged({SUB: 50}, pages=pages))
    assert listed((api, client)) == (ids(25) if end is None else ids(20))


def test_a_failure_mid_way_is_raised_with_its_page(connect: Any) -> None:
    api, client = connect(Paged({SUB: 50}, pages={20: Reply(500, {"type": "BOOM"})}))
    with pytest.raises(ApiUnavailableError) as error:
        listed((api, client))
    assert str(error.value) == (
        f"GET /subscriptions/{SUB}/databases?offset=20&limit=10: HTTP 500, BOOM: "
        f"{api.url} still failing after 0 retries"
    )


def test_a_bad_page_mid_way_is_raised_with_its_page(connect: Any) -> None:
    api, client = connect(Paged({SUB: 50}, pages={30: Reply(200, {"subscription": []})}))
    with pytest.raises(BadResponseError) as error:
        listed((api, client))
    assert str(error.value) == (
        f"GET /subscriptions/{SUB}/databases?offset=30&limit=10: HTTP 200: expected "
        "'subscription' to hold exactly one entry, got 0 entries"
    )


def test_a_failed_subscription_stops_the_pages_of_the_others(connect: Any) -> None:
    account = Paged({1: 90, 2: 90}, pages={0: Reply(500, None)}, delay=0.01)
    api, client = connect(account)
    with pytest.raises(ApiUnavailableError):
        read_live(client, desired(1, 2), concurrency=2, page_concurrency=2, page_size=SIZE)
    assert len(api.seen) < 10  # of 2 * (1 + 9): queued pages were dropped, not sent
