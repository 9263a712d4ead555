"""Apply several subscriptions at once: up to three lanes, one action at a time each.

The API's unit of concurrency is the subscription: within one, actions run strictly one
after another and in plan order (deletes last, as planned); across subscriptions, the
provisioning that follows each task runs side by side, with at most three subscriptions
changing at once. So the plan's actions are grouped by subscription (in order of first
appearance), and a lane takes one *action* at a time: the next action of a subscription no
other lane is working on, choosing among those free subscriptions the one with the most
work left (:func:`remaining_work`; ties to the first in plan order). A subscription is
under way in at most one lane, so never more subscriptions change at once than there are
lanes. Taking the longest remaining work first keeps the long subscriptions from being
left to run alone at the end (a lane that kept a whole subscription could not switch).
The lanes share the run's state (ids of new databases, the tasks this run started, the
subscriptions checked for other runs' work, the writes awaiting their answer).

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
from collections.abc import Sequence
from dataclasses import replace

from reconciler.apply.context import ApplyContext, RunState
from reconciler.apply.executor import ActionEnd, ActionRunner
from reconciler.apply.lanes import RunLanes
from reconciler.apply.progress import LockedProgress
from reconciler.apply.report import ActionSummary, ApplyReport
from reconciler.errors import ApplyFailedError, ApplyInterruptedError, ReconcilerError
from reconciler.plan import ActionKind, PlannedAction

#: The weight of an action in a subscription's remaining work: 2 for the kinds whose task
#: is followed by provisioning (the database changes, often for tens of seconds), 1 for
#: the short ones (a backup, tags).
KIND_WEIGHTS = {
    ActionKind.CREATE: 2,
    ActionKind.UPDATE: 2,
    ActionKind.UPGRADE: 2,
    ActionKind.IMPORT: 2,
    ActionKind.DELETE: 2,
    ActionKind.BACKUP: 1,
    ActionKind.TAG: 1,
}


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
    lanes = min(parallel, len(run.pending))
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


def remaining_work(actions: Sequence[PlannedAction], indices: Sequence[int]) -> int:
    """Return the estimated work of actions ``indices``: their :data:`KIND_WEIGHTS` summed."""
    return sum(KIND_WEIGHTS[actions[i - 1].kind] for i in indices)


class _ParallelRun:
    """The lanes' shared work (each subscription's actions left), stop flags and report."""

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
        #: each subscription's actions not started yet, in plan order; subscriptions in
        #: plan order of their first action
        self.pending = subscription_groups(actions)
        self._busy: set[int] = set()  # positions in ``pending`` with an action under way
        self.runner = ActionRunner(self.context, RunState(), actions)
        self.report = ApplyReport(started_at=context.wall_clock(), parallel=parallel)

    def lane(self) -> None:
        """Take actions until none is free or the run stops; never raises.

        A lane that finds no free subscription with work left ends: the subscriptions still
        with work are under way in other lanes, which go on with them.
        """
        try:
            while (taken := self._take()) is not None:
                self._run_next(*taken)
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

    def _take(self) -> tuple[int, int] | None:
        """Claim the free subscription with the most work left; return it and its next action.

        Returns ``(position in pending, plan index)``, or None when the run stops or no
        subscription is both free and with work left.
        """
        with self._lock:
            if self._halting():
                return None
            free = [p for p, left in enumerate(self.pending) if left and p not in self._busy]
            if not free:
                return None
            taken = max(free, key=lambda p: (remaining_work(self.actions, self.pending[p]), -p))
            self._busy.add(taken)
            return taken, self.pending[taken][0]

    def _run_next(self, position: int, index: int) -> None:
        """Run action ``index``, the next of subscription ``position``; then free it.

        An action that does not end done leaves its subscription's later actions unstarted.
        """
        done = False
        try:
            end = self.runner.execute(index)
            self._record(end)
            done = end.outcome.status == "done"
        finally:
            with self._lock:
                self.pending[position] = self.pending[position][1:] if done else []
                self._busy.discard(position)

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
