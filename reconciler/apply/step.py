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

What differs between kinds is read from :data:`reconciler.apply.kinds.KINDS`. Before this
run's first write to a subscription, other runs' unfinished tasks are waited out
(:mod:`reconciler.apply.others`). A write refused with a 409 (or a 403 that re-reads as
"not active", or a 429 saying three other subscriptions are changing) means "not now": wait
for the resources to be active and send again, within the busy timeout; a timeout quotes
the API's last answer. A lost answer and a create's name clash are decided by
:class:`reconciler.apply.recovery.Recovery`, by re-reading. A delete whose database someone
else deleted meanwhile is done, with a note; so is an update or an upgrade refused as a bad
request while a re-read shows its change made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from reconciler.apply.context import ActionScope, ApplyContext, RunState
from reconciler.apply.kinds import KINDS, Seen, Settle
from reconciler.apply.others import DELETED_BY_OTHERS, wait_for_others
from reconciler.apply.pace import ActionPace
from reconciler.apply.recovery import Recovery, Trace, busy_wait, refusal_reason
from reconciler.apply.report import ActionOutcome, ActionSummary
from reconciler.apply.waiting import Poller, early_misses, status_probe, task_probe
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


@dataclass(frozen=True)
class Refusal:
    """The last "not now" answer to a write, and when the first one came."""

    error: ConflictError | AuthenticationError
    since: float


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
        self.pace = ActionPace(
            context.learned, action.kind.value, context.clock, context.wall_clock
        )

    def run(self) -> None:
        """Wait until ready (and for other runs), send, follow the task, settle, verify."""
        if not self._wait_ready():
            return
        if wait_for_others(self.scope, self._on_state) and not self._wait_ready():
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

    def _wait_ready(self, poller: Poller | None = None) -> bool:
        """Wait for the subscription and database to be active; False if already deleted.

        ``poller`` times the waits (default: the action's).
        """
        self.sub_raw = self._wait_subscription(poller)
        if not self.rules.waits_for_database:
            return True
        try:
            self.db_raw = self._wait_database(poller=poller)
        except NotFoundError:
            note = NOTHING_TO_BACK_UP if self.before_delete else self.rules.gone_note
            if note is None:
                raise
            self.note = note
            return False
        return True

    def _send(self) -> str | None:
        """Send the request; return the task id (None: nothing to follow).

        Nothing to follow: a lost answer's change was seen, or the database went away.
        """
        request = self.action.request
        refusal: Refusal | None = None
        lost = 0
        while True:
            self.scope.poller.check_stop()
            sent_at = self.scope.context.wall_clock()
            self.scope.status(f"sending {request.method}")
            try:
                answer = self._write()
            except UnknownOutcomeError as exc:
                lost += 1
                trace: Trace | None = self._lost(exc, sent_at, lost)
            except NotFoundError as exc:
                trace = self._gone_on_send(exc)
            except (ConflictError, AuthenticationError) as exc:
                refusal = Refusal(exc, refusal.since if refusal else self._now())
                trace = self._refused(refusal)
            except ApiError as exc:
                trace = self._bad_request(exc)
            else:
                self.sent = True
                if self.rules.synchronous:
                    return None  # the answer is the outcome: no task to follow
                return tasks.task_id_of(answer, request.method, request.path)
            if trace is not None and not trace.resend:
                return self._take(trace)
            if not self._ready_again(refusal):
                return None  # deleted meanwhile: nothing left to send

    def _write(self) -> Any:
        """Send the action's request; return the answer, its task already known to the run.

        Until then the subscription is in ``state.sending``: another lane looking for other
        runs' tasks meanwhile may see this one's task listed before its id is known.
        """
        request, state, sid = self.action.request, self.scope.state, self.action.subscription_id
        state.sending.add(sid)
        try:
            answer = self.scope.client.write(request.method, request.path, request.body)
            task_id = answer.get("taskId") if isinstance(answer, Mapping) else None
            if isinstance(task_id, str):
                state.known_tasks.add(task_id)
            return answer
        finally:
            state.sending.discard(sid)

    def _lost(self, exc: UnknownOutcomeError, sent_at: float, sends: int) -> Trace:
        """Decide what the ``sends``-th send, whose answer was lost, did; return the trace."""
        self.sent = True
        trace = self.recovery.after_lost_answer(exc, sent_at, sends, self.db_id, self.sub_raw)
        if trace.resend:
            self._take(trace)  # the note says it was sent again
        return trace

    def _refused(self, refusal: Refusal) -> Trace | None:
        """Decide what a refused write means: an adoption, or wait to send it again."""
        adopted = self.recovery.after_refusal(refusal.error)
        if adopted is None:
            self._back_off(refusal)
        return adopted

    def _bad_request(self, exc: ApiError) -> Trace:
        """Decide what another refusal means: a 4xx whose change is in place is done.

        Raises:
            ApiError: ``exc``, for any other error or when the change is not in place.
        """
        if type(exc) is not ApiError or not 400 <= exc.status < 500:
            raise exc  # rate limits, outages, bad answers: not a refusal of the request
        return self.recovery.after_bad_request(exc, self.db_id, self.sub_raw)

    def _gone_on_send(self, exc: NotFoundError) -> Trace:
        """Decide what a 404 to a delete or a backup before delete means: gone meanwhile.

        Raises:
            NotFoundError: ``exc``, for any other kind, or when the database is still there.
        """
        deletes = self.rules.settle is Settle.GONE
        if not (deletes or self.before_delete) or not self.recovery.being_deleted(self.db_id):
            raise exc
        return Trace(DELETED_BY_OTHERS if deletes else NOTHING_TO_BACK_UP)

    def _ready_again(self, refusal: Refusal | None) -> bool:
        """Wait for the resources before sending again; False if the database is gone.

        After a refusal the waits end with the busy timeout, which quotes the refusal.
        """
        if refusal is None:
            return self._wait_ready()
        try:
            ready = self._wait_ready(self._busy_poller(refusal))
        except WaitTimeoutError as exc:
            still = f"{exc.what} still {exc.last_state}"
            raise self._still_refused(refusal, still) from exc
        if not ready and self.rules.settle is Settle.GONE:
            self.note = DELETED_BY_OTHERS
        return ready

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
            task = self.pace.follow_task(
                self.scope.poller, f"task {task_id}", tasks.TASK_COMPLETED, probe
            )
        except TaskFailedError:
            gone_is_done = self.before_delete or self.rules.settle is Settle.GONE
            if not (gone_is_done and self.recovery.being_deleted(self.db_id)):
                raise
            if self.rules.settle is Settle.GONE:
                self.note = DELETED_BY_OTHERS  # the delete failed: someone else's came first
                return True
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

    def _wait_subscription(self, poller: Poller | None = None) -> Mapping[str, Any]:
        sid = self.action.subscription_id
        what = f"subscription {sid}"
        probe = status_probe(lambda: self.scope.get_object(paths.subscription(sid)), what)
        return self.pace.wait(poller or self.scope.poller, what, "active", probe, "subscription")

    def _wait_database(
        self, missing_ok: Callable[[], bool] | None = None, poller: Poller | None = None
    ) -> Mapping[str, Any]:
        what = f"database {self.db_id}"
        path = self.scope.database_path(self.db_id)

        def fetch() -> Mapping[str, Any]:
            try:
                return self.scope.get_object(path)
            except NotFoundError:
                if missing_ok is None or not missing_ok():
                    raise
                return {"status": "not found yet"}

        probe = status_probe(fetch, what)
        return self.pace.wait(poller or self.scope.poller, what, "active", probe, "database")

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

        self.pace.wait(self.scope.poller, what, "deleted", probe, "database")

    def _back_off(self, refusal: Refusal) -> None:
        """Wait before sending a refused request again; time out at the busy deadline."""
        poller = self._busy_poller(refusal)
        now = self._now()
        if now >= poller.deadline:
            raise self._still_refused(refusal)
        error = refusal.error
        waiting, delay = busy_wait(error, now - refusal.since)
        reason = refusal_reason(error)
        log.info("%s %s refused (%s); waiting to send again", error.method, error.path, reason)
        self.scope.status(waiting)
        poller.pause(min(delay, poller.deadline - now))

    def _busy_poller(self, refusal: Refusal) -> Poller:
        return self.scope.busy_poller(refusal.since, self._on_state)

    def _still_refused(self, refusal: Refusal, still: str = "") -> WaitTimeoutError:
        """Return the timeout of a write still refused: it quotes the API's last answer."""
        error = refusal.error
        answer = "; ".join(x for x in (refusal_reason(error), still) if x)
        seconds = self._busy_poller(refusal).timeout
        return WaitTimeoutError(f"{error.method} {error.path}", "accepted", answer, seconds)

    # ------------------------------------------------------------------ helpers

    def _now(self) -> float:
        return self.scope.context.clock()

    def _on_state(self, noun: str, state: str) -> None:
        text = f"{noun} {state}" if noun else state
        self.last_state = text
        if state != "active":  # the steady state is not news
            self.scope.status(text)
