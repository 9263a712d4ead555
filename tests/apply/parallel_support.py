"""Helpers of the parallel apply tests: an account of four subscriptions on a lockstep clock.

- ``SUBS``: the four subscriptions (3001 … 3004), each with databases ``a`` and ``b``.
- ``resize(sid, db, size)``, ``db_id(sid, db)``: planned updates and ids.
- ``LaneAccount``: the account in a simulator on a :class:`lockstep.Lockstep`, a client
  whose transport records every request with its virtual time, and ``run``/``stopped``
  applying a plan through it (``parallel``, ``on_sleep`` and options passed on).
- ``Watch``: a progress sink recording each event and, at every moment, which
  subscriptions have an action under way.

Imported as a plain module: pytest puts tests/apply/ (and, for conftest.py, tests/) on
``sys.path``.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from lockstep import START, Lockstep

from reconciler.apply.executor import apply_plan
from reconciler.apply.report import ActionOutcome, ApplyReport
from reconciler.cloud import Answer, ApiClient, RequestsTransport
from reconciler.errors import ReconcilerError
from reconciler.plan import ActionKind, ApiRequest, Plan, PlannedAction
from reconciler.simulator import RunningSimulator

SUBS = (3001, 3002, 3003, 3004)
DBS = ("a", "b")


def db_id(sid: int, db: str) -> int:
    """Return the id of database ``db`` (``a`` or ``b``) of subscription ``sid``."""
    return sid * 100 + DBS.index(db) + 1


def resize(sid: int, db: str, size: int) -> PlannedAction:
    """Return the update of ``db`` of ``sid`` to ``size`` GB."""
    path = f"/subscriptions/{sid}/databases/{db_id(sid, db)}"
    body = {"datasetSizeInGb": size}
    return PlannedAction(
        ActionKind.UPDATE, sid, db_id(sid, db), db, (), ApiRequest("PUT", path, body)
    )


def seed_document() -> dict[str, Any]:
    """Return the seed: four subscriptions of two 1 GB databases each."""
    subscriptions = [
        {
            "id": sid,
            "name": f"team-{sid}",
            "provider": "AWS",
            "region": "us-east-1",
            "databases": [
                {
                    "databaseId": db_id(sid, db),
                    "name": db,
                    "redisVersion": "7.4",
                    "datasetSizeInGb": 1,
                    "dataPersistence": "aof-every-1-second",
                }
                for db in DBS
            ],
        }
        for sid in SUBS
    ]
    return {"account": {"id": 1001, "subscriptions": subscriptions}}


class TimedTransport:
    """The real transport, recording every request as (virtual time, method, path).

    ``on_send(method, path)`` runs before each request is sent.
    """

    def __init__(self, clock: Lockstep) -> None:
        self.calls: list[tuple[float, str, str]] = []
        self.on_send: Callable[[str, str], None] = lambda method, path: None
        self._clock = clock
        self._inner = RequestsTransport(get_retries=0, backoff_factor=0.0)

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Answer:
        """Record the request, then send it."""
        path = urllib.parse.urlsplit(url).path.split("/v1", 1)[1]
        self.on_send(method, path)
        self.calls.append((self._clock(), method, path))
        return self._inner.send(method, url, headers, body, timeout)

    def close(self) -> None:
        """Close the real transport."""
        self._inner.close()


class Watch:
    """A progress sink keeping every event and the most subscriptions busy at once."""

    def __init__(self, clock: Lockstep) -> None:
        self.events: list[tuple[float, str, int]] = []  # (time, event, plan index or sid)
        self.busy: set[int] = set()
        self.most_busy = 0
        self._clock = clock

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        self.busy.add(action.subscription_id)
        self.most_busy = max(self.most_busy, len(self.busy))
        self.events.append((self._clock(), "started", index))

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Ignore."""

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        self.busy.discard(action.subscription_id)
        self.events.append((self._clock(), outcome.status, outcome.action.index))


class LaneAccount:
    """The four-subscription account in a simulator on a lockstep clock."""

    def __init__(
        self,
        make_simulator: Callable[..., RunningSimulator],
        folder: Path,
        on_sleep: Callable[[int, float], None] | None = None,
        max_requests_per_minute: int = 200,
        **timings: float,
    ) -> None:
        seed = folder / "seed.json"
        seed.write_text(json.dumps(seed_document()), encoding="utf-8")  # JSON is YAML
        self.clock = Lockstep(START, on_sleep)
        options = {"task_seconds": 2.0, "provision_seconds": 10.0, **timings}
        self.running = make_simulator(clock=self.clock, seed_path=seed, **options)
        self.transport = TimedTransport(self.clock)
        self.client = ApiClient(
            self.running.url,
            self.running.api_key,
            self.running.api_secret,
            sleep=self.clock.sleep,
            clock=self.clock,
            get_retries=0,
            transport=self.transport,
            max_requests_per_minute=max_requests_per_minute,
        )
        self.watch = Watch(self.clock)

    def other_client(self) -> ApiClient:
        """Return a client of another run (its requests are not recorded)."""
        return ApiClient(
            self.running.url, self.running.api_key, self.running.api_secret, clock=self.clock
        )

    def requests(self) -> list[tuple[float, str, str]]:
        """Every request as (seconds into the run, method, path), task ids numbered ``t1``…"""
        names: dict[str, str] = {}
        shown = []
        for at, method, path in self.transport.calls:
            if path.startswith("/tasks/"):
                path = "/tasks/" + names.setdefault(path, f"t{len(names) + 1}")
            shown.append((at - START, method, path))
        return shown

    def writes(self, sid: int | None = None) -> list[tuple[str, str]]:
        """The writes sent (to subscription ``sid``, if given), in order."""
        prefix = f"/subscriptions/{sid}/" if sid is not None else "/"
        return [(m, p) for _, m, p in self.transport.calls if m != "GET" and p.startswith(prefix)]

    def run(self, *actions: PlannedAction, parallel: int = 3, **options: Any) -> ApplyReport:
        """Apply ``actions`` in ``parallel`` lanes on the lockstep clock; return the report."""
        return apply_plan(
            Plan(subscriptions=(), actions=tuple(actions)),
            self.client,
            clock=self.clock,
            sleep=self.clock.sleep,
            wall_clock=self.clock,
            run_lanes=self.clock.run_lanes,
            parallel=parallel,
            **{"progress": self.watch, **options},
        )

    def stopped(self, error: type[ReconcilerError], *actions: PlannedAction, **options: Any) -> Any:
        """Apply ``actions``, which must stop with ``error``; return the error."""
        with pytest.raises(error) as caught:
            self.run(*actions, **options)
        return caught.value


def two_each(*sids: int) -> list[PlannedAction]:
    """Return the plan resizing ``a`` then ``b`` of every subscription of ``sids``."""
    return [resize(sid, db, 2) for sid in sids for db in DBS]
