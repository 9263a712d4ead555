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
(UnknownOutcomeError) is never blindly re-sent: ``GET /tasks`` is searched for a task of the
action's ``commandType`` stamped after the send (and not already finished at the first look:
that is an older task, maybe a failure of an earlier run), and the resource is re-read for
the change itself (a database with the name, the fields already equal, a 404 …); only when
neither shows up within :data:`UNKNOWN_OUTCOME_GRACE` seconds is the request sent again.

An earlier run killed mid-action leaves work the plan could not see. A create refused with a
409 name clash adopts the database holding the name (waiting while a create task is under
way) when it has every field the create would have set. A backup before delete of a database
already being deleted is done with a note: there is nothing left to back up.

The first failure stops the run: :class:`reconciler.errors.ApplyFailedError` carries an
:class:`reconciler.report.ApplyReport`. ``stop_requested`` is checked between requests;
when it turns true the run stops with :class:`reconciler.errors.ApplyInterruptedError`.
Request bodies hold :class:`reconciler.secrets.Secret` values: they are handed to the client
as they are and never logged, and report texts are scrubbed of them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, NoReturn, Protocol, TypeGuard

from reconciler.differ import diff_fields
from reconciler.errors import (
    ApiError,
    ApplyFailedError,
    ApplyInterruptedError,
    AuthenticationError,
    BadResponseError,
    ConflictError,
    NotFoundError,
    ReconcilerError,
    TaskFailedError,
    UnknownOutcomeError,
    WaitTimeoutError,
)
from reconciler.normalise import CompareContext, comparable_fields, live_to_request, same_version
from reconciler.plan import NEW_DATABASE_ID, ActionKind, Plan, PlannedAction
from reconciler.progress import NullProgress, ProgressSink
from reconciler.report import ActionError, ActionOutcome, ActionSummary, ApplyReport
from reconciler.secrets import MASK, Secret
from reconciler.waiting import (
    FIRST_POLL_DELAY,
    TASK_COMPLETED,
    Poller,
    ResourceFailedError,
    StopRequested,
    early_misses,
    parse_timestamp,
    poll_delay,
    resource_id,
    status_probe,
    task_probe,
)

log = logging.getLogger(__name__)

UNKNOWN_OUTCOME_GRACE = 15.0  # look for a lost write's trace this long before re-sending
MAX_SENDS = 3  # sends of one request whose answers were all lost before giving up
TASK_CLOCK_SKEW = 60.0  # tolerated difference between our clock and the API's
PAGE_SIZE = 100
_FINISHED = frozenset({TASK_COMPLETED, "processing-error"})
_NOTHING_TO_BACK_UP = "the database is being deleted already (an earlier run?); nothing to back up"

COMMAND_TYPES = {
    ActionKind.CREATE: "databaseCreateRequest",
    ActionKind.UPDATE: "databaseUpdateRequest",
    ActionKind.DELETE: "databaseDeleteRequest",
    ActionKind.BACKUP: "databaseBackupRequest",
    ActionKind.IMPORT: "databaseImportRequest",
    ActionKind.UPGRADE: "databaseUpgradeRequest",
}


class ApiClientLike(Protocol):
    """What the executor needs of :class:`reconciler.client.ApiClient`."""

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and return parsed JSON."""

    def write(self, method: str, path: str, body: Any = None) -> Any:
        """Send one POST/PUT/DELETE and return the parsed task JSON."""


class SilentNoOpError(ReconcilerError):
    """The task completed but a re-read shows the change did not take effect."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"silent no-op: {detail}")


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
        self.secrets = tuple(sorted(set(_secret_texts(plan)), key=len, reverse=True))

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
        step = _Step(self, action, started, before_delete=self._is_backup_before_delete(index))
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

    def _is_backup_before_delete(self, index: int) -> bool:
        """Is action ``index`` a backup whose next action deletes the same database?"""
        action = self.actions[index - 1]
        following = self.actions[index] if index < len(self.actions) else None
        return (
            action.kind is ActionKind.BACKUP
            and following is not None
            and following.kind is ActionKind.DELETE
            and (following.subscription_id, following.database_id)
            == (action.subscription_id, action.database_id)
        )

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
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return text

    def _close(self, first_not_started: int) -> None:
        self.report.not_started = [
            ActionSummary.of(i, self.actions[i - 1])
            for i in range(first_not_started, len(self.actions) + 1)
        ]
        self.report.finished_at = self.wall_clock()


@dataclass(frozen=True)
class _Found:
    """A lost write's trace: the task to follow, or None when the change itself was seen."""

    task_id: str | None


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
            self.db_id = self._wait_listed()
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
                self.note = _NOTHING_TO_BACK_UP
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
                found = self._recover(exc, sent_at, lost)
                if found is not None:
                    return found.task_id
            except (ConflictError, AuthenticationError) as exc:
                if self.kind is ActionKind.CREATE and _is_name_clash(exc):
                    self._adopt_by_name(exc)
                    return None
                if not _means_not_active(exc):
                    raise
                conflict_since = conflict_since if conflict_since is not None else self._now()
                self._back_off(exc, conflict_since)
            else:
                self.sent = True
                return _task_id(answer, request.method, request.path)
            if not self._wait_ready():
                return None  # deleted meanwhile: nothing left to send

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
        probe = task_probe(lambda: self.client.get(f"/tasks/{task_id}"), task_id, self.run_.clock)
        try:
            return self.poller.wait(
                f"task {task_id}", TASK_COMPLETED, probe, noun="task", first_delay=FIRST_POLL_DELAY
            )
        except TaskFailedError:
            if not (self.before_delete and self._being_deleted()):
                raise
        self.note = _NOTHING_TO_BACK_UP
        return None

    def _being_deleted(self) -> bool:
        """Is the database gone or in status ``deleting``?"""
        try:
            return self._get_object(self._db_path()).get("status") == "deleting"
        except NotFoundError:
            return True

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
            fields = _unapplied_fields(body, self.db_raw, self.sub_raw)
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
            fields = _unapplied_fields(body, self.db_raw, self.sub_raw)
            if fields:
                clash = self.name_clash
                differs = f"it differs from this create in: {', '.join(fields)}"
                raise ConflictError(
                    clash.method,
                    clash.path,
                    clash.status,
                    clash.error_type,
                    f"{clash.description}; {differs}",
                )

    # ------------------------------------------------------------------ waits

    def _wait_subscription(self) -> Mapping[str, Any]:
        sid = self.action.subscription_id
        what = f"subscription {sid}"
        probe = status_probe(lambda: self._get_object(f"/subscriptions/{sid}"), what)
        return self.poller.wait(what, "active", probe, noun="subscription")

    def _wait_database(self, missing_ok: Callable[[], bool] | None = None) -> Mapping[str, Any]:
        what = f"database {self.db_id}"

        def fetch() -> Mapping[str, Any]:
            try:
                return self._get_object(self._db_path())
            except NotFoundError:
                if missing_ok is None or not missing_ok():
                    raise
                return {"status": "not found yet"}

        return self.poller.wait(what, "active", status_probe(fetch, what), noun="database")

    def _wait_gone(self) -> None:
        what = f"database {self.db_id}"

        def probe() -> tuple[str, bool | None]:
            try:
                status = str(self._get_object(self._db_path()).get("status", ""))
            except NotFoundError:
                return "deleted", True
            if status == "error":
                raise ResourceFailedError(what, status)
            return status, None

        self.poller.wait(what, "deleted", probe, noun="database")

    def _wait_listed(self) -> int:
        """Return the id of the database named like the action, waiting for it to be listed."""
        name = self.action.name

        def probe() -> tuple[str, int | None]:
            db_id = self._find_by_name()
            return ("listed" if db_id is not None else "not listed"), db_id

        return self.poller.wait(f"database {name!r}", "listed", probe, noun="database")

    def _adopt_by_name(self, clash: ConflictError) -> None:
        """Take the database holding this create's name as the one created.

        An earlier run killed after sending this same create leaves a database the plan did
        not see (it is listed only once its task is processed). Wait while a create task
        unknown to this run is under way until the name is listed; :meth:`_verify` then
        checks that the database has every field this create would have set.

        Raises:
            ConflictError: ``clash``, when the name is not listed and no create is under way.
        """
        log.warning("%s; looking for the database holding the name", clash)
        self._status("name taken, looking for the database holding it")
        self.name_clash = clash
        name = self.action.name

        def probe() -> tuple[str, int | None]:
            db_id = self._find_by_name()
            if db_id is not None:
                return "listed", db_id
            if not self._create_under_way():
                raise clash
            return "being created", None

        self.db_id = self.poller.wait(f"database {name!r}", "listed", probe, noun="database")
        self.note = "the name was taken by a database being created (an earlier run?); adopted"

    def _create_under_way(self) -> bool:
        """Is a create task this run does not know about still being processed?"""
        return any(
            task.get("commandType") == COMMAND_TYPES[ActionKind.CREATE]
            and task.get("status") not in _FINISHED
            and task.get("taskId") not in self.run_.known_tasks
            for task in self._list_tasks() or []
        )

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

    # ------------------------------------------------------------------ lost answers

    def _recover(self, exc: UnknownOutcomeError, sent_at: float, lost: int) -> _Found | None:
        """Look for the trace of a write whose answer was lost; None means "send again".

        Raises the UnknownOutcomeError when no attempt is left or the deadline passed.
        """
        log.warning("%s; looking for its effect before deciding", exc)
        self._status("answer lost, checking whether the request took effect")
        until = min(self.poller.deadline, self._now() + UNKNOWN_OUTCOME_GRACE)
        looked = False

        def probe() -> tuple[str, _Found | None]:
            nonlocal looked
            tasks = self._list_tasks()
            if tasks is not None and not looked:
                looked = True
                self._ignore_finished(tasks)
            task_id = self._pick_task(tasks or [], sent_at)
            if task_id is not None:
                return "task found", _Found(task_id)
            if self._effect_visible():
                return "change found", _Found(None)
            return "no trace yet", None

        found = self.poller.watch(probe, until=until).value
        if found is not None:
            how = f"followed task {found.task_id}" if found.task_id else "the change was in place"
            self.note = f"answer lost; {how}"
            return found
        if lost >= MAX_SENDS or self._now() >= self.poller.deadline:
            raise exc
        log.warning(
            "no trace of the lost %s after %.0fs; sending it again",
            exc.method,
            UNKNOWN_OUTCOME_GRACE,
        )
        self.note = "answer lost, no trace found; sent again"
        return None

    def _list_tasks(self) -> list[Mapping[str, Any]] | None:
        """Return the account's tasks (``GET /tasks``), or None when they cannot be listed."""
        try:
            listing = self.client.get("/tasks")
        except (NotFoundError, BadResponseError) as exc:
            log.info("cannot list tasks: %s", exc)
            return None
        tasks = listing.get("tasks") if isinstance(listing, Mapping) else listing
        return [t for t in (tasks if isinstance(tasks, list) else []) if isinstance(t, Mapping)]

    def _ignore_finished(self, tasks: list[Mapping[str, Any]]) -> None:
        """Count the tasks already finished at the first look after a lost answer as known.

        The request went out a moment ago and a task takes seconds, so a finished task is an
        older one, e.g. a failure of an earlier run still inside the clock-skew window. Had
        ours finished that fast (an answer lost after a long wait), the re-read of the change
        still finds it; a backup or import, which leave no trace, is then sent again.
        """
        self.run_.known_tasks.update(
            str(task.get("taskId")) for task in tasks if task.get("status") in _FINISHED
        )

    def _pick_task(self, tasks: list[Mapping[str, Any]], sent_at: float) -> str | None:
        """Return the newest unknown task of this action's type stamped after ``sent_at``."""
        candidates = [
            (stamp, str(task["taskId"]))
            for task in tasks
            if self._is_ours(task)
            and (stamp := parse_timestamp(task.get("timestamp"))) is not None
            and stamp >= sent_at - TASK_CLOCK_SKEW
        ]
        return max(candidates)[1] if candidates else None

    def _is_ours(self, task: Mapping[str, Any]) -> bool:
        """Could ``task`` be the one our lost write started?"""
        task_id = task.get("taskId")
        if not isinstance(task_id, str) or task_id in self.run_.known_tasks:
            return False
        if task.get("commandType") != COMMAND_TYPES[self.kind]:
            return False
        resource = resource_id(task)
        return resource is None or self.db_id is None or resource == self.db_id

    def _effect_visible(self) -> bool:
        """Does a re-read show the change already made (so that it must not be re-sent)?"""
        if self.kind is ActionKind.CREATE:
            self.db_id = self._find_by_name()
            return self.db_id is not None
        if self.kind in (ActionKind.BACKUP, ActionKind.IMPORT):
            return False  # leaves no trace on the database itself
        try:
            raw = self._get_object(self._db_path())
        except NotFoundError:
            if self.kind is ActionKind.DELETE:
                return True
            raise
        if self.kind is ActionKind.DELETE:
            return raw.get("status") == "deleting"
        body = self.action.request.body if isinstance(self.action.request.body, Mapping) else {}
        if self.kind is ActionKind.UPGRADE:
            return same_version(body.get("targetRedisVersion"), raw.get("redisVersion"))
        return not _unapplied_fields(body, raw, self.sub_raw)

    def _find_by_name(self) -> int | None:
        """Return the id of the database named like the action, listing page by page."""
        path = f"/subscriptions/{self.action.subscription_id}/databases"
        offset = 0
        while True:
            try:
                page = self.client.get(path, {"offset": offset, "limit": PAGE_SIZE})
            except NotFoundError:
                return None  # past the end (or no databases at all)
            databases = _page_databases(page)
            for db in databases:
                if db.get("name") == self.action.name and isinstance(db.get("databaseId"), int):
                    return int(db["databaseId"])
            if len(databases) < PAGE_SIZE:
                return None
            offset += PAGE_SIZE

    # ------------------------------------------------------------------ helpers

    def outcome(self, index: int, status: str, elapsed: float) -> ActionOutcome:
        """Return this step's outcome as it stands."""
        summary = ActionSummary.of(index, replace(self.action, database_id=self.db_id))
        return ActionOutcome(
            summary, status, elapsed, self.task_id, self.last_state, self.run_.scrub(self.note)
        )

    def _get_object(self, path: str) -> Mapping[str, Any]:
        answer = self.client.get(path)
        if not isinstance(answer, Mapping):
            raise BadResponseError("GET", path, 200, "", "answer is not a JSON object")
        return answer

    def _db_path(self) -> str:
        return f"/subscriptions/{self.action.subscription_id}/databases/{self.db_id}"

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


def _is_name_clash(exc: ApiError) -> TypeGuard[ConflictError]:
    """Is this refused write a 409 because the name is taken?"""
    return isinstance(exc, ConflictError) and not _means_not_active(exc)


def _means_not_active(exc: ApiError) -> bool:
    """Is this refused write a "not now" (retry once active) rather than a real conflict?"""
    kind = exc.error_type.upper()
    if isinstance(exc, ConflictError):
        # a name clash will not go away by waiting
        return "NAME" not in kind and "already exists" not in exc.description.lower()
    return exc.status == 403 and ("NOT_ACTIVE" in kind or "PENDING" in kind)


def _unapplied_fields(
    body: Mapping[str, Any], db_raw: Mapping[str, Any], sub_raw: Mapping[str, Any]
) -> list[str]:
    """Return the paths of the fields of ``body`` that the live database does not show."""
    live = live_to_request(db_raw, sub_raw)
    context = CompareContext.for_database(body, live, sub_raw)
    want, have = comparable_fields(body, live, context)
    return [change.path for change in diff_fields(want, have)]


def _page_databases(page: Any) -> list[Mapping[str, Any]]:
    """Return the databases of one list page (``subscription[0].databases``)."""
    blocks = page.get("subscription") if isinstance(page, Mapping) else None
    block = blocks[0] if isinstance(blocks, list) and blocks else None
    databases = block.get("databases") if isinstance(block, Mapping) else None
    return [d for d in databases if isinstance(d, Mapping)] if isinstance(databases, list) else []


def _secret_texts(plan: Plan) -> Iterator[str]:
    """Yield the clear text of every secret in the plan's request bodies."""
    for action in plan.actions:
        yield from _walk_secrets(action.request.body)


def _walk_secrets(value: Any) -> Iterator[str]:
    if isinstance(value, Secret):
        if value.reveal():
            yield value.reveal()
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _walk_secrets(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _walk_secrets(item)
