"""Apply a plan: serially, in plan order, waiting for every asynchronous task (DESIGN §6).

For each action (facts §4.6-4.7, as Terraform does it):

1. wait for the subscription to be ``active`` and, unless creating, the database too;
2. send the one request the plan holds (a create's follow-up update and import get the
   new database id in place of :data:`reconciler.plan.NEW_DATABASE_ID`);
3. poll ``GET /tasks/{id}`` until ``processing-completed`` (a few early 404s are normal);
   ``processing-error``, an error object or an unknown status is a TaskFailedError;
4. wait for the database to be ``active`` (gone, for a delete) and the subscription
   ``active``: the task ends the *processing* phase, not the provisioning (facts §4.3);
5. re-read and check the change took effect; a silent no-op is an error.

Statuses: ``active`` is ready, ``error`` is failure, anything else (new ones keep appearing)
is pending. A 409 (or a 403 "not active") on a write means "not now": wait for the resources
to be active and send again, within the action's timeout. A write whose answer was lost
(UnknownOutcomeError), a create refused because an earlier run's create holds the name, and a
backup of a database already being deleted are handed to :mod:`reconciler.apply.recovery`: a write
whose outcome is unknown is never blindly re-sent; it is re-read, then decided.

The first failure stops the run: :class:`reconciler.errors.ApplyFailedError` carries an
:class:`reconciler.apply.report.ApplyReport`. ``stop_requested`` is checked between requests;
when it turns true the run stops with :class:`reconciler.errors.ApplyInterruptedError`.
Request bodies hold :class:`reconciler.secrets.Secret` values: they are handed to the client
as they are and never logged, and report texts are scrubbed of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, NoReturn, Protocol

from reconciler.apply.progress import NullProgress, ProgressSink
from reconciler.apply.recovery import (
    NOTHING_TO_BACK_UP,
    ApiReader,
    Recovery,
    Trace,
    check_adopted,
    get_object,
    is_backup_before_delete,
    is_name_clash,
    means_not_active,
    unapplied_fields,
)
from reconciler.apply.report import ActionError, ActionOutcome, ActionSummary, ApplyReport
from reconciler.apply.waiting import (
    FIRST_POLL_DELAY,
    TASK_COMPLETED,
    Poller,
    StopRequested,
    early_misses,
    poll_delay,
    resource_id,
    status_probe,
    task_probe,
)
from reconciler.cloud import paths
from reconciler.compare import same_version
from reconciler.errors import (
    ApiError,
    ApplyFailedError,
    ApplyInterruptedError,
    AuthenticationError,
    BadResponseError,
    ConflictError,
    NotFoundError,
    ReconcilerError,
    ResourceFailedError,
    SilentNoOpError,
    TaskFailedError,
    UnknownOutcomeError,
    WaitTimeoutError,
)
from reconciler.plan import NEW_DATABASE_ID, ActionKind, Plan, PlannedAction
from reconciler.secrets import clear_values, scrub

log = logging.getLogger(__name__)


class ApiClientLike(ApiReader, Protocol):
    """What the executor needs of the API client: ``get`` and ``write``."""

    def write(self, method: str, path: str, body: Any = None) -> Any:
        """Send one POST/PUT/DELETE and return the parsed task JSON."""


def apply_plan(
    plan: Plan,
    client: ApiClientLike,
    *,
    timeout: float = 3600.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    progress: ProgressSink | None = None,
    stop_requested: Callable[[], bool] = lambda: False,
    wall_clock: Callable[[], float] = time.time,
) -> ApplyReport:
    """Execute ``plan`` action by action and return the report of a complete run.

    ``timeout`` bounds each action (all its waits together). ``wall_clock`` stamps the
    report and matches task timestamps after a lost answer.

    Raises:
        ApplyFailedError: an action failed; ``.report`` says what was done and not started.
        ApplyInterruptedError: ``stop_requested()`` turned true; ``.report`` likewise.
    """
    sink = progress or NullProgress()
    run = _Run(plan, client, timeout, clock, sleep, wall_clock, sink, stop_requested)
    for index in range(1, len(plan.actions) + 1):
        if stop_requested():
            run.stop(index, None)
        run.execute(index)
    run.report.finished_at = wall_clock()
    return run.report


class _Run:
    """One apply run: the report, the ids created so far, the tasks already followed."""

    def __init__(
        self,
        plan: Plan,
        client: ApiClientLike,
        timeout: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        wall_clock: Callable[[], float],
        progress: ProgressSink,
        stop_requested: Callable[[], bool],
    ) -> None:
        self.actions = plan.actions
        self.client = client
        self.timeout = timeout
        self.clock = clock
        self.sleep = sleep
        self.wall_clock = wall_clock
        self.progress = progress
        self.stop_requested = stop_requested
        self.report = ApplyReport(started_at=wall_clock())
        self.new_ids: dict[tuple[int, str], int] = {}
        self.known_tasks: set[str] = set()
        bodies = [a.request.body for a in plan.actions]
        self.secrets = tuple(sorted(set(clear_values(bodies)), key=len, reverse=True))

    def execute(self, index: int) -> None:
        """Run action ``index`` (1-based); record its outcome or stop the run."""
        planned = self.actions[index - 1]
        started = self.clock()
        try:
            action = _resolve(planned, self.new_ids)
        except ReconcilerError as exc:
            self.progress.action_started(index, len(self.actions), planned)
            self.fail(index, planned, None, exc, started)
        self.progress.action_started(index, len(self.actions), action)
        before_delete = is_backup_before_delete(self.actions, index)
        step = _Step(self, action, started, before_delete=before_delete)
        try:
            step.run()
        except StopRequested:
            self.stop(index, step)
        except ReconcilerError as exc:
            self.fail(index, action, step, exc, started)
        outcome = step.outcome(index, "done", self.clock() - started)
        if action.kind is ActionKind.CREATE and step.db_id is not None:
            self.new_ids[(action.subscription_id, action.name)] = step.db_id
        self.report.done.append(outcome)
        self.progress.action_finished(action, outcome)

    def fail(
        self,
        index: int,
        action: PlannedAction,
        step: _Step | None,
        exc: ReconcilerError,
        started: float,
    ) -> NoReturn:
        """Record the failure of action ``index`` and raise ApplyFailedError."""
        elapsed = self.clock() - started
        if step is None:
            outcome = ActionOutcome(ActionSummary.of(index, action), "failed", elapsed)
        else:
            outcome = step.outcome(index, "failed", elapsed)
        outcome = replace(outcome, error=ActionError.from_exception(exc, self.scrub))
        self.report.failed = outcome
        self._close(index + 1)
        self.progress.action_finished(action, outcome)
        raise ApplyFailedError(f"{outcome.action.label}: {outcome.detail}", self.report) from exc

    def stop(self, index: int, step: _Step | None) -> NoReturn:
        """Record an interruption at action ``index`` and raise ApplyInterruptedError.

        An action whose request was not sent yet counts as not started.
        """
        if step is None:
            self._close(index)
            raise ApplyInterruptedError(self.report)
        outcome = step.outcome(index, "interrupted", self.clock() - step.started)
        if not step.sent:
            outcome = replace(outcome, note="stopped before sending its request")
        elif step.task_id is None:
            outcome = replace(outcome, note="stopped after sending its request; outcome unknown")
        self.progress.action_finished(step.action, outcome)
        if step.sent:
            self.report.interrupted = outcome
        self._close(index + 1 if step.sent else index)
        raise ApplyInterruptedError(self.report)

    def scrub(self, text: str) -> str:
        """Return ``text`` with every secret value of the plan masked."""
        return scrub(text, self.secrets)

    def _close(self, first_not_started: int) -> None:
        self.report.not_started = [
            ActionSummary.of(i, self.actions[i - 1])
            for i in range(first_not_started, len(self.actions) + 1)
        ]
        self.report.finished_at = self.wall_clock()


class _Step:
    """One action being executed: its waits, its request, its checks."""

    def __init__(
        self, run: _Run, action: PlannedAction, started: float, *, before_delete: bool = False
    ) -> None:
        self.run_ = run
        self.before_delete = before_delete  # a backup taken because a delete follows
        self.client = run.client
        self.action = action
        self.kind = action.kind
        self.started = started
        self.db_id = action.database_id
        self.task_id: str | None = None
        self.sent = False
        self.note = ""
        self.last_state = ""
        self.name_clash: ConflictError | None = None  # a create adopting a database by name
        self.sub_raw: Mapping[str, Any] = {}
        self.db_raw: Mapping[str, Any] = {}
        self.poller = Poller(
            clock=run.clock,
            sleep=run.sleep,
            deadline=started + run.timeout,
            timeout=run.timeout,
            stop_requested=run.stop_requested,
            on_state=self._on_state,
        )
        self.recovery = Recovery(run.client, action, self.poller, run.known_tasks, self._status)

    # ------------------------------------------------------------------ the steps

    def run(self) -> None:
        """Wait until ready, send, follow the task, wait until settled, verify."""
        if not self._wait_ready():
            return
        task_id = self._send()
        if task_id is None and self.before_delete:
            return  # the database went away while the backup waited to be sent
        if task_id is not None:
            task = self._follow_task(task_id)
            if task is None:
                return  # the database went away while the backup ran
            if self.kind is ActionKind.CREATE and self.db_id is None:
                self.db_id = resource_id(task)
        if self.kind is ActionKind.CREATE and self.db_id is None:
            self.db_id = self.recovery.wait_listed()
        self._settle()
        self._verify()

    def _wait_ready(self) -> bool:
        """Wait for the subscription and database to be active; False if already deleted."""
        self.sub_raw = self._wait_subscription()
        if self.kind is ActionKind.CREATE:
            return True
        try:
            self.db_raw = self._wait_database()
        except NotFoundError:
            if self.kind is ActionKind.DELETE:
                self.note = "already deleted"
            elif self.before_delete:
                self.note = NOTHING_TO_BACK_UP
            else:
                raise
            return False
        return True

    def _send(self) -> str | None:
        """Send the request; return the task id (None: a lost answer's change was seen)."""
        request = self.action.request
        conflict_since: float | None = None
        lost = 0
        while True:
            self.poller.check_stop()
            sent_at = self.run_.wall_clock()
            self._status(f"sending {request.method}")
            try:
                answer = self.client.write(request.method, request.path, request.body)
            except UnknownOutcomeError as exc:
                self.sent = True
                lost += 1
                trace = self.recovery.after_lost_answer(
                    exc, sent_at, lost, self.db_id, self.sub_raw
                )
                task_id = self._take(trace)
                if not trace.resend:
                    return task_id
            except (ConflictError, AuthenticationError) as exc:
                if self.kind is ActionKind.CREATE and is_name_clash(exc):
                    self.name_clash = exc
                    return self._take(self.recovery.adopt_by_name(exc))
                if not means_not_active(exc):
                    raise
                conflict_since = conflict_since if conflict_since is not None else self._now()
                self._back_off(exc, conflict_since)
            else:
                self.sent = True
                return _task_id(answer, request.method, request.path)
            if not self._wait_ready():
                return None  # deleted meanwhile: nothing left to send

    def _take(self, trace: Trace) -> str | None:
        """Record what a re-read decided; return the task to follow, if any."""
        self.note = trace.note
        if trace.db_id is not None:
            self.db_id = trace.db_id
        return trace.task_id

    def _follow_task(self, task_id: str) -> Mapping[str, Any] | None:
        """Poll the task until completed; return it.

        Returns None for a failed backup before delete of a database that is being deleted
        meanwhile (e.g. by an earlier run killed after sending its delete): there is nothing
        left to back up, and the delete that follows finds it gone.

        Raises:
            TaskFailedError: the task failed.
        """
        self.task_id = task_id
        self.run_.known_tasks.add(task_id)
        probe = task_probe(lambda: self.client.get(paths.task(task_id)), task_id, self.run_.clock)
        try:
            return self.poller.wait(
                f"task {task_id}", TASK_COMPLETED, probe, noun="task", first_delay=FIRST_POLL_DELAY
            )
        except TaskFailedError:
            if not (self.before_delete and self.recovery.being_deleted(self.db_id)):
                raise
        self.note = NOTHING_TO_BACK_UP
        return None

    def _settle(self) -> None:
        """Wait for the database to be active (gone, for delete), then the subscription."""
        if self.kind is ActionKind.DELETE:
            self._wait_gone()
        else:
            self.db_raw = self._wait_database(missing_ok=early_misses(self.run_.clock))
        self.sub_raw = self._wait_subscription()

    def _verify(self) -> None:
        """Check the change took effect. Raises SilentNoOpError when it did not."""
        body = self.action.request.body if isinstance(self.action.request.body, Mapping) else {}
        if self.kind is ActionKind.UPDATE:
            fields = unapplied_fields(body, self.db_raw, self.sub_raw)
            if fields:
                raise SilentNoOpError(f"fields still differ after update: {', '.join(fields)}")
        elif self.kind is ActionKind.UPGRADE:
            target, live = body.get("targetRedisVersion"), self.db_raw.get("redisVersion")
            if not same_version(target, live):
                raise SilentNoOpError(f"redisVersion is {live} after the upgrade to {target}")
        elif self.kind is ActionKind.CREATE and self.db_raw.get("name") != self.action.name:
            name = self.db_raw.get("name")
            raise SilentNoOpError(
                f"database {self.db_id} is named {name!r}, not {self.action.name!r}"
            )
        elif self.kind is ActionKind.CREATE and self.name_clash is not None:
            check_adopted(self.name_clash, body, self.db_raw, self.sub_raw)

    # ------------------------------------------------------------------ waits

    def _wait_subscription(self) -> Mapping[str, Any]:
        sid = self.action.subscription_id
        what = f"subscription {sid}"
        probe = status_probe(lambda: get_object(self.client, paths.subscription(sid)), what)
        return self.poller.wait(what, "active", probe, noun="subscription")

    def _wait_database(self, missing_ok: Callable[[], bool] | None = None) -> Mapping[str, Any]:
        what = f"database {self.db_id}"

        def fetch() -> Mapping[str, Any]:
            try:
                return get_object(self.client, self._db_path())
            except NotFoundError:
                if missing_ok is None or not missing_ok():
                    raise
                return {"status": "not found yet"}

        return self.poller.wait(what, "active", status_probe(fetch, what), noun="database")

    def _wait_gone(self) -> None:
        what = f"database {self.db_id}"

        def probe() -> tuple[str, bool | None]:
            try:
                status = str(get_object(self.client, self._db_path()).get("status", ""))
            except NotFoundError:
                return "deleted", True
            if status == "error":
                raise ResourceFailedError(what, status)
            return status, None

        self.poller.wait(what, "deleted", probe, noun="database")

    def _back_off(self, exc: ApiError, since: float) -> None:
        """Wait before re-sending a request refused as "not active"; time out at the deadline."""
        now = self._now()
        state = " ".join(x for x in (f"HTTP {exc.status}", exc.error_type) if x)
        if now >= self.poller.deadline:
            what = f"{exc.method} {exc.path}"
            raise WaitTimeoutError(what, "accepted", state, self.poller.timeout) from exc
        log.info("%s %s refused (%s); waiting to send again", exc.method, exc.path, state)
        self._status(f"refused ({state}), waiting to retry")
        self.poller.pause(min(poll_delay(now - since), self.poller.deadline - now))

    # ------------------------------------------------------------------ helpers

    def outcome(self, index: int, status: str, elapsed: float) -> ActionOutcome:
        """Return this step's outcome as it stands."""
        summary = ActionSummary.of(index, replace(self.action, database_id=self.db_id))
        return ActionOutcome(
            summary, status, elapsed, self.task_id, self.last_state, self.run_.scrub(self.note)
        )

    def _db_path(self) -> str:
        return paths.database(self.action.subscription_id, str(self.db_id))

    def _now(self) -> float:
        return self.run_.clock()

    def _on_state(self, noun: str, state: str) -> None:
        text = f"{noun} {state}" if noun else state
        self.last_state = text
        if state != "active":  # the steady state is not news
            self._status(text)

    def _status(self, text: str) -> None:
        self.run_.progress.action_status(self.action, text, self._now() - self.started)


# ---------------------------------------------------------------------- pure helpers


def _resolve(action: PlannedAction, new_ids: Mapping[tuple[int, str], int]) -> PlannedAction:
    """Return ``action`` with the id its create returned in place of the placeholder."""
    if NEW_DATABASE_ID not in action.request.path:
        return action
    db_id = new_ids.get((action.subscription_id, action.name))
    if db_id is None:
        raise ReconcilerError(
            f"no database id for {action.name!r}: its create has not run in this apply"
        )
    request = replace(action.request, path=action.request.path.replace(NEW_DATABASE_ID, str(db_id)))
    return replace(action, database_id=db_id, request=request)


def _task_id(answer: Any, method: str, path: str) -> str:
    task_id = answer.get("taskId") if isinstance(answer, Mapping) else None
    if not isinstance(task_id, str) or not task_id:
        raise BadResponseError(method, path, 0, "", "the answer holds no taskId")
    return task_id
