"""One action of a plan, run to the end: its waits, its request, its task, its check.

For each action (as Terraform does it):

1. wait for the subscription to be ``active`` and, unless creating, the database too;
2. send the one request the plan holds;
3. poll ``GET /tasks/{id}`` until ``processing-completed`` (a few early 404s are normal);
   ``processing-error``, an error object or an unknown status is a TaskFailedError (a
   synchronous kind, ``tag``, has no task: its answer is the outcome);
4. wait for the database to be ``active`` (gone, for a delete; nothing, for a kind that
   leaves its status untouched) and the subscription ``active``: the task ends the
   processing phase, not the provisioning, so the database is still pending for a while
   after the task completed;
5. re-read and check the change took effect; a silent no-op is an error.

What differs between kinds is read from :data:`reconciler.apply.kinds.KINDS`. A 409 (or a
403 "not active") on a write means "not now": wait for the resources to be active and send
again, within the action's timeout. A lost answer and a create's name clash are decided by
:class:`reconciler.apply.recovery.Recovery`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from reconciler.apply.context import ActionScope, ApplyContext, RunState
from reconciler.apply.kinds import KINDS, Seen, Settle
from reconciler.apply.recovery import Recovery, Trace
from reconciler.apply.report import ActionOutcome, ActionSummary
from reconciler.apply.waiting import (
    FIRST_POLL_DELAY,
    early_misses,
    poll_delay,
    status_probe,
    task_probe,
)
from reconciler.cloud import paths, tasks
from reconciler.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ResourceFailedError,
    TaskFailedError,
    UnknownOutcomeError,
    WaitTimeoutError,
)
from reconciler.plan import PlannedAction

log = logging.getLogger(__name__)

NOTHING_TO_BACK_UP = "the database is being deleted already (an earlier run?); nothing to back up"


class ActionStep:
    """One action being executed, and what is known of it so far.

    ``before_delete`` marks a backup taken because a delete of the same database follows:
    when the database is being deleted already (an earlier run killed after sending its
    delete), there is nothing left to back up and the step is done with a note.
    """

    def __init__(
        self,
        context: ApplyContext,
        state: RunState,
        action: PlannedAction,
        started: float,
        *,
        before_delete: bool = False,
    ) -> None:
        self.action = action
        self.started = started
        self.before_delete = before_delete
        self.rules = KINDS[action.kind]
        self.db_id = action.database_id
        self.task_id: str | None = None
        self.sent = False
        self.note = ""
        self.last_state = ""
        self.name_clash: ConflictError | None = None  # a create adopting a database by name
        self.sub_raw: Mapping[str, Any] = {}
        self.db_raw: Mapping[str, Any] = {}
        poller = context.poller(started, self._on_state)
        self.scope = ActionScope(context, state, action, started, poller)
        self.recovery = Recovery(self.scope)

    def run(self) -> None:
        """Wait until ready, send, follow the task, wait until settled, verify."""
        if not self._wait_ready():
            return
        task_id = self._send()
        if task_id is None and self.before_delete:
            return  # the database went away while the backup waited to be sent
        if task_id is not None and not self._follow_task(task_id):
            return  # the database went away while the backup ran
        if self.rules.creates and self.db_id is None:
            self.db_id = self.recovery.wait_listed()
        self._settle()
        read_back = (
            self.scope.client.get(self.action.request.path) if self.rules.read_back else None
        )
        seen = Seen(self.action, self.db_id, self.db_raw, self.sub_raw, self.name_clash, read_back)
        self.rules.verify(seen)
        if self.rules.creates and self.db_id is not None:
            self.scope.state.new_ids[(self.action.subscription_id, self.action.name)] = self.db_id

    def outcome(self, index: int, status: str) -> ActionOutcome:
        """Return this step's outcome as it stands: action ``index`` (1-based) is ``status``."""
        summary = ActionSummary.of(index, replace(self.action, database_id=self.db_id))
        note = self.scope.context.scrub(self.note)
        return ActionOutcome(
            summary, status, self.scope.elapsed(), self.task_id, self.last_state, note
        )

    # ------------------------------------------------------------------ the steps

    def _wait_ready(self) -> bool:
        """Wait for the subscription and database to be active; False if already deleted."""
        self.sub_raw = self._wait_subscription()
        if not self.rules.waits_for_database:
            return True
        try:
            self.db_raw = self._wait_database()
        except NotFoundError:
            note = NOTHING_TO_BACK_UP if self.before_delete else self.rules.gone_note
            if note is None:
                raise
            self.note = note
            return False
        return True

    def _send(self) -> str | None:
        """Send the request; return the task id (None: a lost answer's change was seen)."""
        request = self.action.request
        refused_since: float | None = None
        lost = 0
        while True:
            self.scope.poller.check_stop()
            sent_at = self.scope.context.wall_clock()
            self.scope.status(f"sending {request.method}")
            try:
                answer = self.scope.client.write(request.method, request.path, request.body)
            except UnknownOutcomeError as exc:
                lost += 1
                trace: Trace | None = self._lost(exc, sent_at, lost)
            except (ConflictError, AuthenticationError) as exc:
                refused_since = refused_since if refused_since is not None else self._now()
                trace = self._refused(exc, refused_since)
            else:
                self.sent = True
                if self.rules.synchronous:
                    return None  # the answer is the outcome: no task to follow
                return tasks.task_id_of(answer, request.method, request.path)
            if trace is not None and not trace.resend:
                return self._take(trace)
            if not self._wait_ready():
                return None  # deleted meanwhile: nothing left to send

    def _lost(self, exc: UnknownOutcomeError, sent_at: float, sends: int) -> Trace:
        """Decide what the ``sends``-th send, whose answer was lost, did; return the trace."""
        self.sent = True
        trace = self.recovery.after_lost_answer(exc, sent_at, sends, self.db_id, self.sub_raw)
        if trace.resend:
            self._take(trace)  # the note says it was sent again
        return trace

    def _refused(self, exc: ApiError, since: float) -> Trace | None:
        """Decide what a refused write means: an adoption, or wait (since ``since``) to resend."""
        adopted = self.recovery.after_refusal(exc)
        if adopted is None:
            self._back_off(exc, since)
        return adopted

    def _take(self, trace: Trace) -> str | None:
        """Record what a re-read decided; return the task to follow, if any."""
        self.note = trace.note
        if trace.db_id is not None:
            self.db_id = trace.db_id
        if trace.name_clash is not None:
            self.name_clash = trace.name_clash
        return trace.task_id

    def _follow_task(self, task_id: str) -> bool:
        """Poll the task until completed; return False when there was nothing to back up.

        That is a failed backup before delete of a database that is being deleted meanwhile
        (e.g. by an earlier run killed after sending its delete): the delete that follows
        finds it gone.

        Raises:
            TaskFailedError: the task failed.
        """
        self.task_id = task_id
        self.scope.state.known_tasks.add(task_id)
        clock = self.scope.context.clock
        probe = task_probe(lambda: self.scope.client.get(paths.task(task_id)), task_id, clock)
        try:
            task = self.scope.poller.wait(
                f"task {task_id}",
                tasks.TASK_COMPLETED,
                probe,
                noun="task",
                first_delay=FIRST_POLL_DELAY,
            )
        except TaskFailedError:
            if not (self.before_delete and self.recovery.being_deleted(self.db_id)):
                raise
            self.note = NOTHING_TO_BACK_UP
            return False
        if self.rules.creates and self.db_id is None:
            self.db_id = tasks.resource_id(task)
        return True

    def _settle(self) -> None:
        """Wait for the database to be active (gone, for delete), then the subscription."""
        if self.rules.settle is Settle.UNTOUCHED:
            return
        if self.rules.settle is Settle.GONE:
            self._wait_gone()
        else:
            self.db_raw = self._wait_database(missing_ok=early_misses(self.scope.context.clock))
        self.sub_raw = self._wait_subscription()

    # ------------------------------------------------------------------ waits

    def _wait_subscription(self) -> Mapping[str, Any]:
        sid = self.action.subscription_id
        what = f"subscription {sid}"
        probe = status_probe(lambda: self.scope.get_object(paths.subscription(sid)), what)
        return self.scope.poller.wait(what, "active", probe, noun="subscription")

    def _wait_database(self, missing_ok: Callable[[], bool] | None = None) -> Mapping[str, Any]:
        what = f"database {self.db_id}"
        path = self.scope.database_path(self.db_id)

        def fetch() -> Mapping[str, Any]:
            try:
                return self.scope.get_object(path)
            except NotFoundError:
                if missing_ok is None or not missing_ok():
                    raise
                return {"status": "not found yet"}

        return self.scope.poller.wait(what, "active", status_probe(fetch, what), noun="database")

    def _wait_gone(self) -> None:
        what = f"database {self.db_id}"
        path = self.scope.database_path(self.db_id)

        def probe() -> tuple[str, bool | None]:
            try:
                status = str(self.scope.get_object(path).get("status", ""))
            except NotFoundError:
                return "deleted", True
            if status == "error":
                raise ResourceFailedError(what, status)
            return status, None

        self.scope.poller.wait(what, "deleted", probe, noun="database")

    def _back_off(self, exc: ApiError, since: float) -> None:
        """Wait before re-sending a request refused as "not active"; time out at the deadline."""
        poller = self.scope.poller
        now = self._now()
        state = " ".join(x for x in (f"HTTP {exc.status}", exc.error_type) if x)
        if now >= poller.deadline:
            what = f"{exc.method} {exc.path}"
            raise WaitTimeoutError(what, "accepted", state, poller.timeout) from exc
        log.info("%s %s refused (%s); waiting to send again", exc.method, exc.path, state)
        self.scope.status(f"refused ({state}), waiting to retry")
        poller.pause(min(poll_delay(now - since), poller.deadline - now))

    # ------------------------------------------------------------------ helpers

    def _now(self) -> float:
        return self.scope.context.clock()

    def _on_state(self, noun: str, state: str) -> None:
        text = f"{noun} {state}" if noun else state
        self.last_state = text
        if state != "active":  # the steady state is not news
            self.scope.status(text)
