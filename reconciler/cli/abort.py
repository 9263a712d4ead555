"""What an apply run was doing when a second Ctrl-C aborted it at once.

The first Ctrl-C asks the executor to stop after the current request, and it reports the
run itself. A second one raises ``KeyboardInterrupt`` wherever the run is — possibly in the
middle of a write — so the executor cannot report. :class:`RunTracker` stands between the
executor and both the API client and the progress sink, and knows enough to write the
report instead: the actions done, the action under way, the write in flight (sent, its
answer unknown) or the task it was following, and the actions not started.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.apply import ActionOutcome, ApplyReport
    from reconciler.cloud import ApiClient
    from reconciler.plan import PlannedAction

RERUN = "re-run plan to see where it stands"


class RunTracker:
    """The API client and the progress sink of one apply run, watched on the way through.

    In a parallel run (``parallel`` > 1) each lane is a thread with an action of its own
    under way: what is under way is kept per thread, and the report names every lane's.
    A thread is told apart by a number of its own (thread-local), not by its ident: Python
    gives a new thread the ident of one that has ended, and a lane that ended with an
    action under way must not lose it to the next thread.
    """

    def __init__(
        self,
        client: ApiClient,
        progress: Any,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
        parallel: int = 1,
    ) -> None:
        self._client = client
        self._progress = progress
        self._clock = clock
        self._wall_clock = wall_clock
        self._parallel = parallel
        self._started_at = wall_clock()
        self._done: list[ActionOutcome] = []
        self._stopped: list[ActionOutcome] = []  # failed, or interrupted after a write
        self._lanes: dict[int, _Lane] = {}  # thread number -> its action under way
        self._threads = threading.local()  # .number: the calling thread's
        self._numbers = itertools.count(1)
        self._numbering = threading.Lock()

    # --- the client the executor uses ---------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The client's GET."""
        return self._client.get(path, params)

    def write(self, method: str, path: str, body: Any = None) -> Any:
        """The client's write; remembered as in flight until its answer (or error) is back."""
        lane = self._lane()
        lane.writing = f"{method.upper()} {path}"
        lane.wrote = True
        try:
            answer = self._client.write(method, path, body)
        except KeyboardInterrupt:
            raise  # aborted mid-request: it stays in flight for the report
        except BaseException:
            lane.writing = None
            raise
        lane.writing = None
        task = answer.get("taskId") if isinstance(answer, Mapping) else None
        lane.task = task if isinstance(task, str) else None
        return answer

    # --- the progress sink the executor uses --------------------------------------------

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Remember the action under way; pass on."""
        self._lanes[self._thread()] = _Lane(index, action, self._clock())
        self._progress.action_started(index, total, action)

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Pass on."""
        self._progress.action_status(action, status_text, elapsed)

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Remember a finished action; pass on."""
        lane = self._lanes.pop(self._thread(), None)
        if outcome.status == "done":
            self._done.append(outcome)
        elif outcome.status == "failed" or (lane is not None and lane.wrote):
            self._stopped.append(outcome)
        self._progress.action_finished(action, outcome)

    # --- the report ---------------------------------------------------------------------

    def aborted_report(self, actions: Sequence[PlannedAction]) -> ApplyReport:
        """Return the report of a run aborted now: done, interrupted, not started."""
        from reconciler.apply import ActionSummary, ApplyReport

        report = ApplyReport(
            started_at=self._started_at, done=list(self._done), parallel=self._parallel
        )
        for outcome in self._stopped:
            report.add_stopped(outcome)
        for lane in sorted(self._lanes.values(), key=lambda lane: lane.index):
            report.add_stopped(lane.interrupted(self._clock()))
        ended = {o.action.index for o in (*report.done, *report.failures, *report.interruptions)}
        report.not_started = [
            ActionSummary.of(i, actions[i - 1])
            for i in range(1, len(actions) + 1)
            if i not in ended
        ]
        report.finished_at = self._wall_clock()
        return report

    def _thread(self) -> int:
        """Return the calling thread's number (given at its first call, never reused)."""
        number: int | None = getattr(self._threads, "number", None)
        if number is None:
            with self._numbering:
                number = self._threads.number = next(self._numbers)
        return number

    def _lane(self) -> _Lane:
        """Return the calling thread's action under way (a blank one between actions)."""
        return self._lanes.get(self._thread()) or _Lane(0, None, 0.0)


class _Lane:
    """One lane's action under way: the write in flight, the task it follows."""

    def __init__(self, index: int, action: PlannedAction | None, started: float) -> None:
        self.index = index
        self.action = action
        self.started = started
        self.writing: str | None = None
        self.task: str | None = None
        self.wrote = False

    def interrupted(self, now: float) -> ActionOutcome:
        """Return the outcome of this action aborted at ``now``."""
        from reconciler.apply import ActionOutcome, ActionSummary

        assert self.action is not None
        if self.writing is not None:
            note = f"request in flight ({self.writing}): sent, answer unknown; {RERUN}"
        elif self.task is None:
            note = f"stopped before sending its request; {RERUN}"
        else:
            note = ""  # the outcome names the task it was following
        return ActionOutcome(
            ActionSummary.of(self.index, self.action),
            "interrupted",
            now - self.started,
            task_id=self.task,
            note=note,
        )
