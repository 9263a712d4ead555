"""What an apply run was doing when a second Ctrl-C aborted it at once.

The first Ctrl-C asks the executor to stop after the current request, and it reports the
run itself. A second one raises ``KeyboardInterrupt`` wherever the run is — possibly in the
middle of a write — so the executor cannot report. :class:`RunTracker` stands between the
executor and both the API client and the progress sink, and knows enough to write the
report instead: the actions done, the action under way, the write in flight (sent, its
answer unknown) or the task it was following, and the actions not started.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.apply import ActionOutcome, ApplyReport
    from reconciler.cloud import ApiClient
    from reconciler.plan import PlannedAction

RERUN = "re-run plan to see where it stands"


class RunTracker:
    """The API client and the progress sink of one apply run, watched on the way through."""

    def __init__(
        self,
        client: ApiClient,
        progress: Any,
        clock: Callable[[], float],
        wall_clock: Callable[[], float],
    ) -> None:
        self._client = client
        self._progress = progress
        self._clock = clock
        self._wall_clock = wall_clock
        self._started_at = wall_clock()
        self._done: list[ActionOutcome] = []
        self._current: tuple[int, PlannedAction, float] | None = None
        self._writing: str | None = None
        self._task: str | None = None

    # --- the client the executor uses ---------------------------------------------------

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The client's GET."""
        return self._client.get(path, params)

    def write(self, method: str, path: str, body: Any = None) -> Any:
        """The client's write; remembered as in flight until its answer (or error) is back."""
        self._writing = f"{method.upper()} {path}"
        try:
            answer = self._client.write(method, path, body)
        except KeyboardInterrupt:
            raise  # aborted mid-request: it stays in flight for the report
        except BaseException:
            self._writing = None
            raise
        self._writing = None
        task = answer.get("taskId") if isinstance(answer, Mapping) else None
        self._task = task if isinstance(task, str) else None
        return answer

    # --- the progress sink the executor uses --------------------------------------------

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Remember the action under way; pass on."""
        self._current = (index, action, self._clock())
        self._task = None
        self._progress.action_started(index, total, action)

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Pass on."""
        self._progress.action_status(action, status_text, elapsed)

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Remember a finished action; pass on."""
        if outcome.status == "done":
            self._done.append(outcome)
        self._current = None
        self._progress.action_finished(action, outcome)

    # --- the report ---------------------------------------------------------------------

    def aborted_report(self, actions: Sequence[PlannedAction]) -> ApplyReport:
        """Return the report of a run aborted now: done, interrupted, not started."""
        from reconciler.apply import ActionOutcome, ActionSummary, ApplyReport

        report = ApplyReport(started_at=self._started_at, done=list(self._done))
        first_not_started = len(self._done) + 1
        if self._current is not None:
            index, action, started = self._current
            if self._writing is not None:
                note = f"request in flight ({self._writing}): sent, answer unknown; {RERUN}"
            elif self._task is None:
                note = f"stopped before sending its request; {RERUN}"
            else:
                note = ""  # the outcome names the task it was following
            report.interrupted = ActionOutcome(
                ActionSummary.of(index, action),
                "interrupted",
                self._clock() - started,
                task_id=self._task,
                note=note,
            )
            first_not_started = index + 1
        report.not_started = [
            ActionSummary.of(i, actions[i - 1]) for i in range(first_not_started, len(actions) + 1)
        ]
        report.finished_at = self._wall_clock()
        return report
