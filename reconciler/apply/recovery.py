"""Lost answers, refused writes and an earlier run's leftovers: re-read, then decide.

The rule: a write whose outcome is unknown is never blindly re-sent: re-read, then decide.

After an :class:`reconciler.errors.UnknownOutcomeError` on a write, two traces are looked for
during at most :data:`UNKNOWN_OUTCOME_GRACE` seconds:

* a task in ``GET /tasks`` of the action's ``commandType`` (a synchronous kind has none) (from
  :data:`reconciler.apply.kinds.KINDS`) stamped after the send, give or take
  :data:`TASK_CLOCK_SKEW`, unknown to this run and not already finished at the first look
  (that is an older task, maybe a failure of an earlier run): the executor follows it;
* the change itself, re-read as the kind's table entry says: a database with the create's
  name, an update's fields already equal, the upgrade's version, a deleted database gone or
  ``deleting``, the tags as sent. A backup or an import leaves no such trace.

Only when neither shows up is the request sent again, at most :data:`MAX_SENDS` times in all.
With ``apply --parallel``, while another lane awaits the answer to a write, no listed task is
taken for ours (it may be that lane's), and a write without a trace is not sent again: its
outcome stays unknown and the step fails, saying so.

A write refused with a 409 or a 403 is decided by re-reading, never by the answer's text
(its body may be JSON of any shape, HTML, plain text or empty):

* a create whose name a database of the subscription now holds: that database is adopted
  (an earlier or a concurrent run created it; the plan could not see it) when it has every
  field the create would have set (checked by the create's entry of the table);
* a 409 otherwise means "not now" (a resource not active, another run's work): the step
  waits for the resources and sends again, within the busy timeout;
* a 403 means "not now" when the subscription or the database reads as not ``active``,
  another run's task is unfinished, or the answer's type says so (``…NOT_ACTIVE``,
  ``…PENDING``); a 403 while all is quiet is a refusal waiting will not change (a key that
  may not write, a source-IP rule) and fails at once.

A write refused with a 429 because the account is busy (at most three subscriptions may be
changing at once; :class:`reconciler.errors.AccountBusyError`) is a "not now" too, decided by
the client from the answer alone: nothing is re-read, the step waits (:func:`busy_wait`) and
sends it again, within the busy timeout. Re-sending is safe because the API refuses such a
write at submission: no task was queued and nothing changed, so the same request is simply
asked again. A timeout names the cause (:func:`refusal_reason`).

A backup before delete of a database already being deleted has nothing left to back up
(:meth:`Recovery.being_deleted`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.apply.context import ActionScope
from reconciler.apply.kinds import KINDS, KindRules, request_body
from reconciler.apply.others import (
    DONE_BY_OTHERS,
    account_tasks,
    refusal_text,
    unfinished_of_others,
)
from reconciler.apply.waiting import poll_delay
from reconciler.cloud import busy_delay, database_pages, paths, tasks
from reconciler.errors import (
    AccountBusyError,
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    UnknownOutcomeError,
)

log = logging.getLogger(__name__)

UNKNOWN_OUTCOME_GRACE = 15.0  # look for a lost write's trace this long before re-sending
MAX_SENDS = 3  # sends of one request whose answers were all lost before giving up
TASK_CLOCK_SKEW = 60.0  # tolerated difference between our clock and the API's
_ADOPTED = "the name was taken by a database being created (an earlier run?); adopted"
_BUSY_TYPES = ("NOT_ACTIVE", "PENDING")  # 403 types that say "not now"
_IN_PLACE = "answer lost; the change was in place"
#: Why a write refused with :class:`AccountBusyError` waits.
ACCOUNT_BUSY_REASON = "the account has three subscriptions changing, the most it allows at once"


def refusal_reason(error: ApiError) -> str:
    """Return why a write was refused, as a timeout quotes it.

    That is the API's answer, preceded by the cause in plain words when it is the account
    busy with other subscriptions' changes.
    """
    answer = refusal_text(error)
    return f"{ACCOUNT_BUSY_REASON} ({answer})" if isinstance(error, AccountBusyError) else answer


def busy_wait(error: ApiError, waited: float) -> tuple[str, float]:
    """Return what a write refused as "not now" waits for (progress text) and how long.

    ``waited`` is the time since the first refusal. The account busy with other
    subscriptions waits :func:`reconciler.cloud.busy_delay` (provisioning takes minutes);
    any other refusal the usual :func:`reconciler.apply.waiting.poll_delay`.
    """
    if isinstance(error, AccountBusyError):
        return f"{ACCOUNT_BUSY_REASON}; waiting to send again", busy_delay(waited)
    return f"refused ({refusal_text(error)}), waiting to retry", poll_delay(waited)


@dataclass(frozen=True)
class Trace:
    """What a re-read decided, and the ``note`` saying so in the report."""

    note: str
    resend: bool = False  # no trace: send the request again
    task_id: str | None = None  # the task to follow
    db_id: int | None = None  # the database found by the create's name
    name_clash: ConflictError | None = None  # the 409 of a create that adopted ``db_id``


class Recovery:
    """The re-reads of one action that decide what a lost or refused write did."""

    def __init__(self, scope: ActionScope) -> None:
        self._scope = scope
        self._rules: KindRules = KINDS[scope.action.kind]

    # ------------------------------------------------------------------ a lost answer

    def after_lost_answer(
        self,
        exc: UnknownOutcomeError,
        sent_at: float,
        sends: int,
        db_id: int | None,
        sub_raw: Mapping[str, Any],
    ) -> Trace:
        """Look for the trace of the ``sends``-th send, whose answer was lost.

        Returns the task to follow, the change seen in place, or ``resend``.

        Raises:
            UnknownOutcomeError: ``exc``, when there is no trace and no send is left or the
                deadline passed.
        """
        log.warning("%s; looking for its effect before deciding", exc)
        self._scope.status("answer lost, checking whether the request took effect")
        poller = self._scope.poller
        until = min(poller.deadline, poller.clock() + UNKNOWN_OUTCOME_GRACE)
        found = poller.watch(self._trace_probe(sent_at, db_id, sub_raw), until=until).value
        if found is not None:
            return found
        if sends >= MAX_SENDS or poller.clock() >= poller.deadline or self._lanes_sending():
            raise exc  # another lane's unanswered write may have started our task: never resend
        log.warning(
            "no trace of the lost %s after %.0fs; sending it again",
            exc.method,
            UNKNOWN_OUTCOME_GRACE,
        )
        return Trace("answer lost, no trace found; sent again", resend=True)

    def _trace_probe(
        self, sent_at: float, db_id: int | None, sub_raw: Mapping[str, Any]
    ) -> Callable[[], tuple[str, Trace | None]]:
        """Return a probe looking for our task first, then for the change itself."""
        looked = False

        def probe() -> tuple[str, Trace | None]:
            nonlocal looked
            listed = None if self._rules.synchronous else self._list_tasks()
            if listed is not None and not looked:
                looked = True
                self._ignore_finished(listed)
            # Another lane's write whose answer is not in yet may have started a task of the
            # same type: no task is taken for ours until its id is known to the run.
            task_id = (
                None if self._lanes_sending() else self._pick_task(listed or [], sent_at, db_id)
            )
            if task_id is not None:
                how = f"followed task {task_id}" if task_id else "the change was in place"
                return "task found", Trace(f"answer lost; {how}", task_id=task_id)
            change = self._change_seen(db_id, sub_raw)
            return ("change found", change) if change is not None else ("no trace yet", None)

        return probe

    def _lanes_sending(self) -> bool:
        """True while another lane (``apply --parallel``) awaits the answer to a write."""
        scope = self._scope
        return bool(scope.state.sending - {scope.action.subscription_id})

    def _list_tasks(self) -> list[Mapping[str, Any]] | None:
        """Return the account's tasks (``GET /tasks``), or None when they cannot be listed."""
        return account_tasks(self._scope.client)

    def _ignore_finished(self, listed: list[Mapping[str, Any]]) -> None:
        """Count the tasks already finished at the first look after a lost answer as known.

        The request went out a moment ago and a task takes seconds, so a finished task is an
        older one, e.g. a failure of an earlier run still inside the clock-skew window. Had
        ours finished that fast (an answer lost after a long wait), the re-read of the change
        still finds it; a backup or import, which leave no trace, is then sent again.
        """
        self._scope.state.known_tasks.update(
            str(task.get("taskId")) for task in listed if task.get("status") in tasks.TASK_FINISHED
        )

    def _pick_task(
        self, listed: list[Mapping[str, Any]], sent_at: float, db_id: int | None
    ) -> str | None:
        """Return the newest unknown task of this action's type stamped after ``sent_at``."""
        candidates = [
            (stamp, str(task["taskId"]))
            for task in listed
            if self._is_ours(task, db_id)
            and (stamp := tasks.parse_timestamp(task.get("timestamp"))) is not None
            and stamp >= sent_at - TASK_CLOCK_SKEW
        ]
        return max(candidates)[1] if candidates else None

    def _is_ours(self, task: Mapping[str, Any], db_id: int | None) -> bool:
        """Could ``task`` be the one our lost write started?"""
        task_id = task.get("taskId")
        if not isinstance(task_id, str) or task_id in self._scope.state.known_tasks:
            return False
        if task.get("commandType") != self._rules.command_type:
            return False
        resource = tasks.resource_id(task)
        return resource is None or db_id is None or resource == db_id

    def _change_seen(self, db_id: int | None, sub_raw: Mapping[str, Any]) -> Trace | None:
        """Return the trace when a re-read shows the change already made, else None."""
        if self._rules.creates:
            new_id = self._find_by_name()
            return None if new_id is None else Trace(_IN_PLACE, db_id=new_id)
        in_place = self._rules.in_place
        if in_place is None:
            return None  # the kind leaves no trace on the database itself

        def fetch() -> Mapping[str, Any]:
            if self._rules.read_back:
                return self._scope.get_object(self._scope.action.request.path)
            return self._scope.get_object(self._scope.database_path(db_id))

        changed = in_place(request_body(self._scope.action), fetch, sub_raw)
        return Trace(_IN_PLACE) if changed else None

    # ------------------------------------------------------------------ a refused write

    def after_refusal(self, exc: ConflictError | AuthenticationError) -> Trace | None:
        """Decide what a write refused with a 409 or a 403 means, by re-reading.

        Returns the database adopted by a create whose name a database of the subscription
        holds, or None for "not now" (wait for the resources and send again). The account
        busy (:class:`AccountBusyError`) is "not now" without re-reading: the 429 says so.

        Raises:
            AuthenticationError: ``exc``, a 401 (the key was refused), or a 403 while
                nothing reads as busy.
        """
        if exc.status == 401:
            raise exc
        if isinstance(exc, AccountBusyError):
            return None
        if self._rules.creates:
            db_id = self._find_by_name()
            if db_id is not None:
                log.warning("%s; database %s holds the name", exc, db_id)
                return Trace(_ADOPTED, db_id=db_id, name_clash=self._clash(exc, db_id))
        if isinstance(exc, ConflictError) or self._reads_busy(exc):
            return None
        raise exc

    def _clash(self, exc: ApiError, db_id: int) -> ConflictError:
        """Return the refusal as the name clash it turned out to be (described if it was not)."""
        description = exc.description or (
            f"database {db_id} already holds the name {self._scope.action.name!r}"
        )
        return ConflictError(exc.method, exc.path, exc.status, exc.error_type, description)

    def _reads_busy(self, exc: ApiError) -> bool:
        """Does a 403 mean "not now": a resource not active, another run's task, its type?"""
        if any(word in exc.error_type.upper() for word in _BUSY_TYPES):
            return True
        scope = self._scope
        sub = scope.get_object(paths.subscription(scope.action.subscription_id))
        if sub.get("status") != "active":
            return True
        if self._rules.waits_for_database and self._database_status() != "active":
            return True
        return bool(unfinished_of_others(self._list_tasks() or [], scope.state.known_tasks))

    def _database_status(self) -> str:
        """Return the action's database status (``gone`` when it no longer exists)."""
        scope = self._scope
        try:
            raw = scope.get_object(scope.database_path(scope.action.database_id))
        except NotFoundError:
            return "gone"  # the wait that follows says what that means for the action
        return str(raw.get("status", ""))

    def after_bad_request(
        self, exc: ApiError, db_id: int | None, sub_raw: Mapping[str, Any]
    ) -> Trace:
        """Decide what a write refused as a bad request (4xx) means: done by someone else?

        Another run may have made the same change meanwhile (an upgrade to a version the
        database now runs is refused). Returns the trace when a re-read shows the change in
        place.

        Raises:
            ApiError: ``exc``, when the change is not in place, or when a re-read cannot
                show it (create, backup, import).
        """
        if self._rules.creates or self._rules.in_place is None:
            raise exc
        if self._change_seen(db_id, sub_raw) is None:
            raise exc
        log.warning("%s; the change is in place already: done by someone else", exc)
        return Trace(DONE_BY_OTHERS)

    # ------------------------------------------------------------------ re-reads

    def _find_by_name(self) -> int | None:
        """Return the id of the database named like the action, listing page by page."""
        action = self._scope.action
        for page in database_pages(self._scope.client.get, action.subscription_id):
            for db in page:
                if db.name == action.name:
                    return db.id
        return None

    def wait_listed(self) -> int:
        """Return the id of the database named like the action, waiting for it to be listed."""

        def probe() -> tuple[str, int | None]:
            db_id = self._find_by_name()
            return ("listed" if db_id is not None else "not listed"), db_id

        what = f"database {self._scope.action.name!r}"
        return self._scope.poller.wait(what, "listed", probe, noun="database")

    def being_deleted(self, db_id: int | None) -> bool:
        """Is the database gone or in status ``deleting`` (a backup has nothing to take)?"""
        try:
            raw = self._scope.get_object(self._scope.database_path(db_id))
        except NotFoundError:
            return True
        return raw.get("status") == "deleting"
