"""A write refused because the account is busy: three other subscriptions changing at once.

The simulator refuses a write that would make a fourth subscription change with 429
``TOO_MANY_PENDING_SUBSCRIPTIONS``. Another actor changes three subscriptions (provisioning
300 s); this run's write to a fourth waits for the account, within the busy timeout, and is
sent again once one of them is done. Virtual time: the simulator and the run share a clock
that moves only when the run sleeps.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import FakeClock, SimApi

from reconciler import cli
from reconciler.apply import apply_plan
from reconciler.apply.report import ActionOutcome, ApplyReport
from reconciler.cli import Runtime
from reconciler.cloud import ApiClient
from reconciler.errors import ApplyFailedError
from reconciler.plan import ActionKind, ApiRequest, Plan, PlannedAction
from reconciler.simulator import RunningSimulator

TASK = 10.0
PROVISION = 300.0
FIRST_FREE = TASK + PROVISION  # the first of the other three changes is done
LONGEST_BUSY_WAIT = 30.0
SUB = 5_000_001
DB = 80_000_000
BUSY = "the account has three subscriptions changing, the most it allows at once"
WAITING = f"{BUSY}; waiting to send again"
ANSWER = (
    "HTTP 429 TOO_MANY_PENDING_SUBSCRIPTIONS: Too many resources are concurrently created / "
    "updated / deleted in the account. Please re-submit API requests after resource changes "
    "are completed"
)


def db_path(index: int) -> str:
    return f"/subscriptions/{SUB + index}/databases/{DB + index * 10}"


def seed(folder: Path) -> Path:
    """Four subscriptions of one database each; return the seed's path."""
    subscriptions = [
        {
            "id": SUB + s,
            "name": f"team-{s}",
            "provider": "AWS",
            "region": "us-east-1",
            "databases": [{"databaseId": DB + s * 10, "name": "db-0"}],
        }
        for s in range(4)
    ]
    path = folder / "seed.yaml"
    path.write_text(json.dumps({"account": {"id": 1001, "subscriptions": subscriptions}}))
    return path


class Statuses:
    """A progress sink keeping every status text with its time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.seen: list[tuple[float, str]] = []

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Ignore."""

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        self.seen.append((self.clock(), status_text))

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Ignore."""


class Busy:
    """The simulator, another actor keeping three subscriptions changing, and this run."""

    def __init__(self, running: RunningSimulator, clock: FakeClock, lines: list[str]) -> None:
        self.running = running
        self.clock = clock
        self.lines = lines
        self.statuses = Statuses(clock)
        self.start = clock()

    def apply(self, action: PlannedAction, busy_timeout: float = 600.0) -> ApplyReport:
        running, clock = self.running, self.clock
        with ApiClient(
            running.url, running.api_key, running.api_secret, sleep=clock.advance, clock=clock
        ) as client:
            return apply_plan(
                Plan(subscriptions=(), actions=(action,)),
                client,
                busy_timeout=busy_timeout,
                clock=clock,
                sleep=clock.advance,
                wall_clock=clock,
                progress=self.statuses,
            )

    def answers(self, method: str, path: str) -> list[tuple[float, str]]:
        """Return (time, status) of each answer to ``method path``, in order."""
        prefix = f"{method} /v1{path} "
        return [(at, line.split()[2]) for at, line in self.lines_at if line.startswith(prefix)]

    @property
    def lines_at(self) -> list[tuple[float, str]]:
        return [(float(at), line) for at, line in (x.split(" ", 1) for x in self.lines)]


@pytest.fixture
def busy(
    make_simulator: Callable[..., RunningSimulator],
    fake_clock: FakeClock,
    sim_api: Callable[[RunningSimulator], SimApi],
    tmp_path: Path,
) -> Busy:
    lines: list[str] = []
    running = make_simulator(
        clock=fake_clock,
        task_seconds=TASK,
        provision_seconds=PROVISION,
        seed_path=seed(tmp_path),
        log=lambda line: lines.append(f"{fake_clock() - 1_800_000_000.0} {line}"),
    )
    other = sim_api(running)
    for index in range(3):  # another actor changes three subscriptions
        assert other.put(db_path(index), {"datasetSizeInGb": 3}).status_code == 200
    lines.clear()
    return Busy(running, fake_clock, lines)


def update() -> PlannedAction:
    request = ApiRequest("PUT", db_path(3), {"datasetSizeInGb": 2})
    return PlannedAction(ActionKind.UPDATE, SUB + 3, DB + 30, "db-0", (), request)


def create() -> PlannedAction:
    request = ApiRequest("POST", f"/subscriptions/{SUB + 3}/databases", {"name": "new"})
    return PlannedAction(ActionKind.CREATE, SUB + 3, None, "new", (), request)


def delete() -> PlannedAction:
    request = ApiRequest("DELETE", db_path(3), None)
    return PlannedAction(ActionKind.DELETE, SUB + 3, DB + 30, "db-0", (), request)


@pytest.mark.parametrize("make_action", [update, create, delete])
def test_a_write_refused_while_three_subscriptions_change_waits_and_succeeds(
    busy: Busy, make_action: Callable[[], PlannedAction]
) -> None:
    action = make_action()
    report = busy.apply(action)
    assert [outcome.status for outcome in report.done] == ["done"]
    sends = busy.answers(action.request.method, action.request.path)
    assert [status for _, status in sends[:-1]] == ["429"] * (len(sends) - 1)
    accepted, status = sends[-1]
    assert status in ("200", "202")
    # Sent again soon after the first of the other changes is done, not earlier.
    assert FIRST_FREE <= accepted <= FIRST_FREE + LONGEST_BUSY_WAIT
    assert len(sends) <= 30  # 5 s, then half the time waited, at most 30 s between sends
    assert WAITING in [text for _, text in busy.statuses.seen]


def test_the_busy_waits_grow_from_5s_to_30s(busy: Busy) -> None:
    busy.apply(update())
    times = [at for at, _ in busy.answers("PUT", db_path(3))]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # 5 s, then half the time waited since the first refusal, at most 30 s.
    assert gaps[:8] == [5.0, 5.0, 5.0, 7.5, 11.25, 16.875, 25.3125, 30.0]
    assert set(gaps[8:-1]) == {30.0}
    assert 0 < gaps[-1] <= 30.0


def test_the_busy_timeout_names_the_cause(busy: Busy) -> None:
    with pytest.raises(ApplyFailedError) as raised:
        busy.apply(update(), busy_timeout=120.0)
    assert str(raised.value) == (
        f"update db-0 (db 80000030): timed out after 120s waiting for PUT {db_path(3)} to be "
        f"accepted; last state seen: {BUSY} ({ANSWER})"
    )
    failed = raised.value.report.failed
    assert failed is not None and failed.status == "failed"
    sends = busy.answers("PUT", db_path(3))
    assert {status for _, status in sends} == {"429"}
    assert sends[0][0] == 0.0
    assert sends[-1][0] == 120.0 < FIRST_FREE  # a last send at the deadline


SPEC = """\
version: 1
subscriptions:
  - id: 5000004
    databases:
      - name: db-0
        datasetSizeInGb: 2
"""


@pytest.mark.parametrize(
    ("flags", "code", "last_line"),
    [
        ((), 0, "Done (1): update db-0 (db 80000030)"),
        (
            ("--busy-timeout", "2m"),
            1,
            f"error: update db-0 (db 80000030): timed out after 120s waiting for PUT "
            f"{db_path(3)} to be accepted; last state seen: {BUSY} ({ANSWER})",
        ),
    ],
    ids=["default-10m", "2m"],
)
def test_apply_on_the_command_line_waits_within_busy_timeout(
    busy: Busy,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, ...],
    code: int,
    last_line: str,
) -> None:
    spec = tmp_path / "team-3.yaml"
    spec.write_text(SPEC)
    monkeypatch.setenv("REDIS_API_KEY", busy.running.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", busy.running.api_secret)
    clock = busy.clock
    runtime = Runtime(clock=clock, sleep=clock.advance, wall_clock=clock, backoff_factor=0.0)
    argv = ["--api-url", busy.running.url, "apply", str(spec), "--yes", *flags]
    assert cli.main(argv, runtime) == code
    out, err = capsys.readouterr()
    assert (out + err).strip().splitlines()[-1] == last_line
    assert WAITING in out + err
