"""Terraform's schedule for many database changes, run against the simulator in virtual time.

``terraform apply -parallelism=10`` runs up to ten resource operations at once; the
provider's per-subscription mutex (``utils/mutex.go``) lets one operation at a time touch a
subscription, and an operation waiting for that mutex still holds its parallelism slot.
Each update does what the provider's pro database resource does::

    lock subscription → wait subscription active → wait database active →
    PUT (the Go SDK waits for the task) → wait database active → wait subscription active →
    unlock

"wait … active" is ``StateChangeConf``: first check after 10 s, then every 30 s. The SDK
polls the task at once and then after 1, 2, 4 … 30 s (:func:`bench_apply.sdk_delays`,
jitter left out). Every request goes through the SDK's HTTP layer, which retries a 429 (a
refusal for too many concurrent changes as well as a rate limit) after 1 s, doubling, at
most 10 attempts; the 10th 429 fails the operation. The tags PUT and the final read after
each update are left out, which flatters Terraform.

Operations are coroutines (generators yielding delays or lock requests) on one
discrete-event loop over the shared virtual clock: deterministic, and hours pass in a
second. The order in which the ten slots are taken is Terraform's graph walk (unordered);
:func:`terraform_wall` tries the plan's order and a round-robin over subscriptions.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from bench_apply import _status_probe, _task_probe, sdk_delays, state_change_delays

from reconciler.cloud.client import ApiClient
from reconciler.errors import AccountBusyError, RateLimitedError
from reconciler.plan import PlannedAction

PARALLELISM = 10
SDK_429_ATTEMPTS = 10
SDK_429_CAP = 60.0
GIVE_UP_AFTER = 6 * 3600.0  # StateChangeConf's SafetyTimeout
# The SDK retries every 429 alike; reconciler's client tells the account busy apart.
ANY_429 = (RateLimitedError, AccountBusyError)


@dataclass
class Lock:
    """A counting lock: ``free`` places, first-come first-served waiters."""

    free: int
    waiters: deque[Generator[Any, None, None]] = field(default_factory=deque)


@dataclass(frozen=True)
class Acquire:
    """Yielded by an operation: take a place in ``lock`` (waits when none is free)."""

    lock: Lock


@dataclass(frozen=True)
class Release:
    """Yielded by an operation: give its place in ``lock`` back."""

    lock: Lock


Operation = Generator[Any, None, None]


class EventLoop:
    """Runs operations on a virtual clock (``clock()`` and ``clock.sleep(seconds)``)."""

    def __init__(self, clock: Any) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Operation]] = []
        self._seq = itertools.count()

    def spawn(self, operation: Operation) -> None:
        """Start ``operation`` now."""
        self._push(self.clock(), operation)

    def run(self) -> None:
        """Run until every operation has returned."""
        while self._heap:
            at, _, operation = heapq.heappop(self._heap)
            self.clock.sleep(at - self.clock())
            self._step(operation)

    def _push(self, at: float, operation: Operation) -> None:
        heapq.heappush(self._heap, (at, next(self._seq), operation))

    def _step(self, operation: Operation) -> None:
        try:
            command = operation.send(None)
        except StopIteration:
            return
        now = self.clock()
        if isinstance(command, Acquire):
            if command.lock.free > 0:
                command.lock.free -= 1
                self._push(now, operation)
            else:
                command.lock.waiters.append(operation)
        elif isinstance(command, Release):
            if command.lock.waiters:
                self._push(now, command.lock.waiters.popleft())
            else:
                command.lock.free += 1
            self._push(now, operation)
        else:
            self._push(now + float(command), operation)


def sdk_call(request: Callable[[], Any]) -> Generator[Any, None, Any]:
    """Send through the Go SDK's HTTP layer: a 429 is retried after 1, 2, 4 … s, 10 tries.

    Raises:
        RateLimitedError, AccountBusyError: the 10th answer was a 429 too.
    """
    delay = 1.0
    for attempt in range(1, SDK_429_ATTEMPTS + 1):
        try:
            return request()
        except ANY_429:
            if attempt == SDK_429_ATTEMPTS:
                raise
        yield delay
        delay = min(SDK_429_CAP, delay * 2)
    raise AssertionError("unreachable")


def poll(probe: Callable[[], Any], delays: Iterator[float]) -> Generator[Any, None, Any]:
    """Wait each delay and probe (through :func:`sdk_call`) until the probe finds something.

    Raises:
        RuntimeError: nothing found within :data:`GIVE_UP_AFTER`.
    """
    waited = 0.0
    for delay in delays:
        yield delay
        waited += delay
        found = yield from sdk_call(probe)
        if found is not None:
            return found
        if waited > GIVE_UP_AFTER:
            break
    raise RuntimeError("Terraform wait timed out")


@dataclass
class Outcome:
    """What the operations ended with: how many failed, and the last error."""

    failed: int = 0
    errors: list[str] = field(default_factory=list)


def update(
    client: ApiClient, action: PlannedAction, slots: Lock, sub_lock: Lock, outcome: Outcome
) -> Operation:
    """One ``rediscloud_subscription_database`` update, as the provider runs it."""
    sub_path = f"/subscriptions/{action.subscription_id}"
    db_path = f"{sub_path}/databases/{action.database_id}"
    yield Acquire(slots)
    yield Acquire(sub_lock)
    try:
        yield from poll(_status_probe(client, sub_path), state_change_delays())
        yield from poll(_status_probe(client, db_path), state_change_delays())
        body = action.request.body
        answer = yield from sdk_call(
            lambda: client.write(action.request.method, action.request.path, body)
        )
        yield from poll(_task_probe(client, answer["taskId"]), sdk_delays())
        yield from poll(_status_probe(client, db_path), state_change_delays())
        yield from poll(_status_probe(client, sub_path), state_change_delays())
    except (*ANY_429, RuntimeError) as exc:
        outcome.failed += 1
        outcome.errors.append(f"{action.name}: {exc}")
    yield Release(sub_lock)
    yield Release(slots)


def round_robin(actions: Sequence[PlannedAction]) -> list[PlannedAction]:
    """Return ``actions`` taking one of each subscription in turn (order kept within one)."""
    groups: dict[int, list[PlannedAction]] = {}
    for action in actions:
        groups.setdefault(action.subscription_id, []).append(action)
    rounds = itertools.zip_longest(*groups.values())
    return [action for group in rounds for action in group if action is not None]


def run_terraform(client: ApiClient, clock: Any, actions: Sequence[PlannedAction]) -> Outcome:
    """Run every update in ``actions`` order (the order slots are taken); return the outcome."""
    loop = EventLoop(clock)
    slots = Lock(PARALLELISM)
    sub_locks: dict[int, Lock] = {}
    outcome = Outcome()
    for action in actions:
        sub_lock = sub_locks.setdefault(action.subscription_id, Lock(1))
        loop.spawn(update(client, action, slots, sub_lock, outcome))
    loop.run()
    return outcome
