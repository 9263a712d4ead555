"""Apply a plan: serially, in plan order, one :class:`~reconciler.apply.step.ActionStep` each.

A create's follow-up update and import get the new database id in place of
:data:`reconciler.plan.NEW_DATABASE_ID` before they start. The first failure stops the run:
:class:`reconciler.errors.ApplyFailedError` carries an
:class:`reconciler.apply.report.ApplyReport`. ``stop_requested`` is checked between requests;
when it turns true the run stops with :class:`reconciler.errors.ApplyInterruptedError`.
Request bodies hold :class:`reconciler.secrets.Secret` values: they are handed to the client
as they are and never logged, and report texts are scrubbed of them.

With ``parallel`` > 1, :mod:`reconciler.apply.parallel` runs the subscriptions side by side,
each serially, through the same :class:`ActionRunner`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from reconciler.apply.context import ApiClientLike, ApplyContext, RunState
from reconciler.apply.lanes import MAX_PARALLEL, RunLanes, run_in_threads
from reconciler.apply.progress import NullProgress, ProgressSink
from reconciler.apply.report import ActionError, ActionOutcome, ActionSummary, ApplyReport
from reconciler.apply.step import ActionStep
from reconciler.apply.waiting import StopRequested
from reconciler.errors import (
    ApplyFailedError,
    ApplyInterruptedError,
    MalformedPlanError,
    ReconcilerError,
)
from reconciler.plan import NEW_DATABASE_ID, ActionKind, Plan, PlannedAction
from reconciler.secrets import clear_values

__all__ = ["MAX_PARALLEL", "ApiClientLike", "RunLanes", "apply_plan"]


def apply_plan(
    plan: Plan,
    client: ApiClientLike,
    *,
    timeout: float = 3600.0,
    busy_timeout: float = 600.0,
    wait_for_others: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: ProgressSink | None = None,
    stop_requested: Callable[[], bool] = lambda: False,
    wall_clock: Callable[[], float] = time.time,
    parallel: int = 1,
    run_lanes: RunLanes | None = None,
) -> ApplyReport:
    """Execute ``plan`` action by action and return the report of a complete run.

    ``timeout`` bounds each action (all its waits together); ``busy_timeout`` bounds, within
    it, each wait for other work: another run's unfinished tasks before the first write to a
    subscription, and a write refused as "not now" until it is accepted.
    ``wait_for_others`` False refuses at once (BusyError) instead of waiting for another
    run's tasks. ``wall_clock`` stamps the report and matches task timestamps after a lost
    answer. ``parallel`` subscriptions are applied at the same time (1: strictly serial;
    at most :data:`MAX_PARALLEL`), each in its own lane started by ``run_lanes`` (default:
    one thread per lane).

    Raises:
        ValueError: ``parallel`` is not between 1 and :data:`MAX_PARALLEL`.
        ApplyFailedError: an action failed; ``.report`` says what was done and not started.
        ApplyInterruptedError: ``stop_requested()`` turned true; ``.report`` likewise.
    """
    if not 1 <= parallel <= MAX_PARALLEL:
        raise ValueError(f"parallel must be 1 to {MAX_PARALLEL}, not {parallel}")
    bodies = [action.request.body for action in plan.actions]
    context = ApplyContext(
        client=client,
        timeout=timeout,
        clock=clock,
        sleep=sleep,
        wall_clock=wall_clock,
        progress=progress or NullProgress(),
        stop_requested=stop_requested,
        secrets=tuple(sorted(set(clear_values(bodies)), key=len, reverse=True)),
        busy_timeout=busy_timeout,
        wait_for_others=wait_for_others,
    )
    if parallel > 1:
        from reconciler.apply.parallel import apply_in_lanes

        return apply_in_lanes(context, plan.actions, parallel, run_lanes or run_in_threads)
    return _apply_serially(context, plan.actions)


def _apply_serially(context: ApplyContext, actions: Sequence[PlannedAction]) -> ApplyReport:
    """Run ``actions`` one after another; the first that does not end done stops the run.

    Raises:
        ApplyFailedError, ApplyInterruptedError: as :func:`apply_plan`.
    """
    run = ActionRunner(context, RunState(), actions)
    report = ApplyReport(started_at=context.wall_clock())

    def close(first_not_started: int) -> None:
        report.not_started = [
            ActionSummary.of(i, actions[i - 1]) for i in range(first_not_started, len(actions) + 1)
        ]
        report.finished_at = context.wall_clock()

    for index in range(1, len(actions) + 1):
        if context.stop_requested():
            close(index)
            raise ApplyInterruptedError(report)
        end = run.execute(index)
        if end.outcome.status == "done":
            report.done.append(end.outcome)
            continue
        if end.sent:
            report.add_stopped(end.outcome)
        close(index + 1 if end.sent else index)
        if end.error is not None:
            outcome = end.outcome
            raise ApplyFailedError(f"{outcome.action.label}: {outcome.detail}", report) from (
                end.error
            )
        raise ApplyInterruptedError(report)
    report.finished_at = context.wall_clock()
    return report


@dataclass(frozen=True)
class ActionEnd:
    """How one action ended: its outcome, the failure, and whether its request was sent.

    An action interrupted before its request was sent counts as not started.
    """

    outcome: ActionOutcome
    error: ReconcilerError | None = None
    sent: bool = True


class ActionRunner:
    """Runs actions of a plan one at a time, telling the progress sink; thread-safe per lane.

    Lanes of a parallel run share one runner (the state and the ids of new databases);
    each runs its own actions.
    """

    def __init__(
        self, context: ApplyContext, state: RunState, actions: Sequence[PlannedAction]
    ) -> None:
        self.context = context
        self.state = state
        self.actions = actions

    def execute(self, index: int) -> ActionEnd:
        """Run action ``index`` (1-based) and return how it ended (never raises a failure)."""
        planned = self.actions[index - 1]
        started = self.context.clock()
        progress = self.context.progress
        try:
            action = _resolve(planned, self.state.new_ids)
        except ReconcilerError as exc:
            progress.action_started(index, len(self.actions), planned)
            elapsed = self.context.clock() - started
            outcome = ActionOutcome(ActionSummary.of(index, planned), "failed", elapsed)
            return self._failed(planned, outcome, exc)
        progress.action_started(index, len(self.actions), action)
        before_delete = _is_backup_before_delete(self.actions, index)
        step = ActionStep(self.context, self.state, action, started, before_delete=before_delete)
        try:
            step.run()
        except StopRequested:
            return self._interrupted(index, step)
        except ReconcilerError as exc:
            return self._failed(action, step.outcome(index, "failed"), exc)
        outcome = step.outcome(index, "done")
        progress.action_finished(action, outcome)
        return ActionEnd(outcome)

    def _failed(
        self, action: PlannedAction, outcome: ActionOutcome, exc: ReconcilerError
    ) -> ActionEnd:
        """Return the end of a failed action (its error scrubbed); tell the progress sink."""
        outcome = replace(outcome, error=ActionError.from_exception(exc, self.context.scrub))
        self.context.progress.action_finished(action, outcome)
        return ActionEnd(outcome, exc)

    def _interrupted(self, index: int, step: ActionStep) -> ActionEnd:
        """Return the end of an action stopped at a safe point; tell the progress sink."""
        outcome = step.outcome(index, "interrupted")
        if not step.sent:
            outcome = replace(outcome, note="stopped before sending its request")
        elif step.task_id is None:
            outcome = replace(outcome, note="stopped after sending its request; outcome unknown")
        self.context.progress.action_finished(step.action, outcome)
        return ActionEnd(outcome, sent=step.sent)


def _resolve(action: PlannedAction, new_ids: Mapping[tuple[int, str], int]) -> PlannedAction:
    """Return ``action`` with the id its create returned in place of the placeholder."""
    if NEW_DATABASE_ID not in action.request.path:
        return action
    db_id = new_ids.get((action.subscription_id, action.name))
    if db_id is None:
        raise MalformedPlanError(
            f"no database id for {action.name!r}: its create has not run in this apply"
        )
    request = replace(action.request, path=action.request.path.replace(NEW_DATABASE_ID, str(db_id)))
    return replace(action, database_id=db_id, request=request)


def _is_backup_before_delete(actions: Sequence[PlannedAction], index: int) -> bool:
    """Is action ``index`` (1-based) a backup whose next action deletes the same database?"""
    action = actions[index - 1]
    following = actions[index] if index < len(actions) else None
    return (
        action.kind is ActionKind.BACKUP
        and following is not None
        and following.kind is ActionKind.DELETE
        and (following.subscription_id, following.database_id)
        == (action.subscription_id, action.database_id)
    )
