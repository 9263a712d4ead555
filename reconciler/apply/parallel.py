"""Apply several subscriptions at once: one lane per subscription, at most three lanes.

The API's unit of concurrency is the subscription: within one, actions run strictly one
after another and in plan order (deletes last, as planned); across subscriptions, the
provisioning that follows each task runs side by side. So the plan's actions are grouped by
subscription (in order of first appearance) and each lane takes the next subscription not
started yet and runs its actions, with the run's shared state (ids of new databases, the
tasks this run started, the subscriptions checked for other runs' work).

A failure (or a refusal) in one lane stops every lane from *starting* another action; the
actions in flight run to their end, bounded by the usual timeouts. A stop request (the
first Ctrl-C) is seen by every lane at its next safe point. An exception that is not a
:class:`reconciler.errors.ReconcilerError` in a lane (``KeyboardInterrupt``, a bug) stops the
other lanes at their next safe point too, and is raised again once they have.

The report lists the actions done in plan order and says per subscription what was done,
failed, interrupted and not started.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import replace

from reconciler.apply.context import ApplyContext, RunState
from reconciler.apply.executor import ActionEnd, ActionRunner
from reconciler.apply.lanes import RunLanes
from reconciler.apply.progress import LockedProgress
from reconciler.apply.report import ActionSummary, ApplyReport
from reconciler.errors import ApplyFailedError, ApplyInterruptedError, ReconcilerError
from reconciler.plan import PlannedAction


def apply_in_lanes(
    context: ApplyContext, actions: Sequence[PlannedAction], parallel: int, run_lanes: RunLanes
) -> ApplyReport:
    """Apply ``actions`` in up to ``parallel`` lanes started by ``run_lanes``.

    Raises:
        ApplyFailedError: an action failed; ``.report`` covers every subscription.
        ApplyInterruptedError: a stop was requested; ``.report`` likewise.
        BaseException: what a lane raised that was not a ReconcilerError (KeyboardInterrupt).
    """
    run = _ParallelRun(context, actions, parallel)
    lanes = min(parallel, len(run.queue))
    try:
        run_lanes([run.lane] * lanes)
    except BaseException:
        run.abort()  # a KeyboardInterrupt in the waiting thread: every lane stops
        raise
    return run.finish()


def subscription_groups(actions: Sequence[PlannedAction]) -> list[list[int]]:
    """Return the 1-based indices of ``actions`` grouped by subscription, in plan order."""
    groups: dict[int, list[int]] = {}
    for index, action in enumerate(actions, start=1):
        groups.setdefault(action.subscription_id, []).append(index)
    return list(groups.values())


class _ParallelRun:
    """The lanes' shared queue of subscriptions, stop flags and report."""

    def __init__(
        self, context: ApplyContext, actions: Sequence[PlannedAction], parallel: int
    ) -> None:
        self._lock = threading.Lock()
        self._halted = False  # a lane failed: start nothing more
        self._aborted = False  # a lane crashed: stop at the next safe point
        self._crash: BaseException | None = None
        self._error: ReconcilerError | None = None
        self._user_stop = context.stop_requested
        self.context = replace(
            context, progress=LockedProgress(context.progress), stop_requested=self._stopping
        )
        self.actions = actions
        self.queue = deque(subscription_groups(actions))
        self.runner = ActionRunner(self.context, RunState(), actions)
        self.report = ApplyReport(started_at=context.wall_clock(), parallel=parallel)

    def lane(self) -> None:
        """Take subscriptions until none is left or the run stops; never raises."""
        try:
            while (indices := self._take()) is not None:
                self._run_subscription(indices)
        except BaseException as exc:  # raised again by finish()
            with self._lock:
                self._crash = self._crash or exc
            self.abort()

    def abort(self) -> None:
        """Stop every lane at its next safe point."""
        with self._lock:
            self._aborted = self._halted = True

    def finish(self) -> ApplyReport:
        """Close the report once every lane has returned; return it.

        Raises:
            ApplyFailedError, ApplyInterruptedError, BaseException: as :func:`apply_in_lanes`.
        """
        if self._crash is not None:
            raise self._crash
        report = self.report
        report.done.sort(key=lambda outcome: outcome.action.index)
        ended = {o.action.index for o in (*report.done, *report.failures, *report.interruptions)}
        report.not_started = [
            ActionSummary.of(i, self.actions[i - 1])
            for i in range(1, len(self.actions) + 1)
            if i not in ended
        ]
        report.finished_at = self.context.wall_clock()
        if report.failed is not None:
            first = report.failed
            message = f"{first.action.label}: {first.detail}"
            raise ApplyFailedError(message, report) from self._error
        if report.status == "interrupted":
            raise ApplyInterruptedError(report)
        return report

    def _stopping(self) -> bool:
        """Should a lane stop at its next safe point? (the user asked, or a lane crashed)."""
        return self._aborted or self._user_stop()

    def _halting(self) -> bool:
        """Should a lane start nothing more? (a stop, or a failure anywhere)."""
        return self._halted or self._stopping()

    def _take(self) -> list[int] | None:
        """Return the next subscription's action indices, or None when the lane is done."""
        if self._halting():
            return None
        with self._lock:
            return self.queue.popleft() if self.queue else None

    def _run_subscription(self, indices: list[int]) -> None:
        """Run one subscription's actions in order until one does not end done."""
        for index in indices:
            if self._halting():
                return
            end = self.runner.execute(index)
            self._record(end)
            if end.outcome.status != "done":
                return

    def _record(self, end: ActionEnd) -> None:
        """Add ``end`` to the report; a failure halts every lane."""
        with self._lock:
            if end.outcome.status == "done":
                self.report.done.append(end.outcome)
                return
            if end.sent:
                self.report.add_stopped(end.outcome)
            if end.error is not None:
                self._halted = True
                self._error = self._error or end.error
