"""Lost answers and an earlier run's leftovers: re-read, then decide.

The rule: a write whose outcome is unknown is never blindly re-sent: re-read, then decide.

After an :class:`reconciler.errors.UnknownOutcomeError` on a write, two traces are looked for
during at most :data:`UNKNOWN_OUTCOME_GRACE` seconds:

* a task in ``GET /tasks`` of the action's ``commandType`` (:data:`COMMAND_TYPES`) stamped
  after the send, give or take :data:`TASK_CLOCK_SKEW`, unknown to this run and not already
  finished at the first look (that is an older task, maybe a failure of an earlier run): the
  executor follows it;
* the change itself, re-read: a database with the create's name, an update's fields already
  equal, the upgrade's version, a deleted database gone or ``deleting``. A backup or an import
  leaves no such trace.

Only when neither shows up is the request sent again, at most :data:`MAX_SENDS` times in all.

An earlier run killed mid-action leaves work the plan could not see. A create refused with a
409 name clash adopts the database holding the name (waiting while a create task is under
way) when it has every field the create would have set (:func:`check_adopted`). A backup
before delete of a database already being deleted is done with a note
(:data:`NOTHING_TO_BACK_UP`): there is nothing left to back up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeGuard

from reconciler.apply.waiting import TASK_COMPLETED, Poller, parse_timestamp, resource_id
from reconciler.cloud import database_pages, paths
from reconciler.compare import (
    CompareContext,
    comparable_fields,
    diff_fields,
    live_to_request,
    same_version,
)
from reconciler.errors import (
    ApiError,
    BadResponseError,
    ConflictError,
    NotFoundError,
    UnknownOutcomeError,
)
from reconciler.plan import ActionKind, PlannedAction

log = logging.getLogger(__name__)

UNKNOWN_OUTCOME_GRACE = 15.0  # look for a lost write's trace this long before re-sending
MAX_SENDS = 3  # sends of one request whose answers were all lost before giving up
TASK_CLOCK_SKEW = 60.0  # tolerated difference between our clock and the API's
NOTHING_TO_BACK_UP = "the database is being deleted already (an earlier run?); nothing to back up"
_ADOPTED = "the name was taken by a database being created (an earlier run?); adopted"
_FINISHED = frozenset({TASK_COMPLETED, "processing-error"})

COMMAND_TYPES = {
    ActionKind.CREATE: "databaseCreateRequest",
    ActionKind.UPDATE: "databaseUpdateRequest",
    ActionKind.DELETE: "databaseDeleteRequest",
    ActionKind.BACKUP: "databaseBackupRequest",
    ActionKind.IMPORT: "databaseImportRequest",
    ActionKind.UPGRADE: "databaseUpgradeRequest",
}


class ApiReader(Protocol):
    """What re-reading needs of :class:`reconciler.cloud.client.ApiClient`."""

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET and return parsed JSON."""


@dataclass(frozen=True)
class Trace:
    """What a re-read decided, and the ``note`` saying so in the report."""

    note: str
    resend: bool = False  # no trace: send the request again
    task_id: str | None = None  # the task to follow
    db_id: int | None = None  # the database found by the create's name


class Recovery:
    """The re-reads of one action that decide what a lost or refused write did.

    ``known_tasks`` is shared by the whole run: the tasks it followed or saw finished, which
    are never taken for the trace of a lost write.
    """

    def __init__(
        self,
        client: ApiReader,
        action: PlannedAction,
        poller: Poller,
        known_tasks: set[str],
        status: Callable[[str], None],
    ) -> None:
        self._client = client
        self._action = action
        self._poller = poller
        self._known_tasks = known_tasks
        self._status = status

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
        self._status("answer lost, checking whether the request took effect")
        until = min(self._poller.deadline, self._poller.clock() + UNKNOWN_OUTCOME_GRACE)
        probe = self._trace_probe(sent_at, db_id, sub_raw)
        found = self._poller.watch(probe, until=until).value
        if found is not None:
            return found
        if sends >= MAX_SENDS or self._poller.clock() >= self._poller.deadline:
            raise exc
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
            tasks = self.list_tasks()
            if tasks is not None and not looked:
                looked = True
                self._ignore_finished(tasks)
            task_id = self._pick_task(tasks or [], sent_at, db_id)
            if task_id is not None:
                how = f"followed task {task_id}" if task_id else "the change was in place"
                return "task found", Trace(f"answer lost; {how}", task_id=task_id)
            change = self._change_seen(db_id, sub_raw)
            return ("change found", change) if change is not None else ("no trace yet", None)

        return probe

    def list_tasks(self) -> list[Mapping[str, Any]] | None:
        """Return the account's tasks (``GET /tasks``), or None when they cannot be listed."""
        try:
            listing = self._client.get(paths.TASKS)
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
        self._known_tasks.update(
            str(task.get("taskId")) for task in tasks if task.get("status") in _FINISHED
        )

    def _pick_task(
        self, tasks: list[Mapping[str, Any]], sent_at: float, db_id: int | None
    ) -> str | None:
        """Return the newest unknown task of this action's type stamped after ``sent_at``."""
        candidates = [
            (stamp, str(task["taskId"]))
            for task in tasks
            if self._is_ours(task, db_id)
            and (stamp := parse_timestamp(task.get("timestamp"))) is not None
            and stamp >= sent_at - TASK_CLOCK_SKEW
        ]
        return max(candidates)[1] if candidates else None

    def _is_ours(self, task: Mapping[str, Any], db_id: int | None) -> bool:
        """Could ``task`` be the one our lost write started?"""
        task_id = task.get("taskId")
        if not isinstance(task_id, str) or task_id in self._known_tasks:
            return False
        if task.get("commandType") != COMMAND_TYPES[self._action.kind]:
            return False
        resource = resource_id(task)
        return resource is None or db_id is None or resource == db_id

    def _change_seen(self, db_id: int | None, sub_raw: Mapping[str, Any]) -> Trace | None:
        """Return the trace when a re-read shows the change already made, else None."""
        in_place = "answer lost; the change was in place"
        if self._action.kind is ActionKind.CREATE:
            new_id = self.find_by_name()
            return None if new_id is None else Trace(in_place, db_id=new_id)
        return Trace(in_place) if self._change_visible(db_id, sub_raw) else None

    def _change_visible(self, db_id: int | None, sub_raw: Mapping[str, Any]) -> bool:
        """Does a re-read of the database show this (non-create) change already made?"""
        kind = self._action.kind
        if kind in (ActionKind.BACKUP, ActionKind.IMPORT):
            return False  # leaves no trace on the database itself
        try:
            raw = get_object(self._client, self._db_path(db_id))
        except NotFoundError:
            if kind is ActionKind.DELETE:
                return True
            raise
        if kind is ActionKind.DELETE:
            return raw.get("status") == "deleting"
        body = self._action.request.body
        body = body if isinstance(body, Mapping) else {}
        if kind is ActionKind.UPGRADE:
            return same_version(body.get("targetRedisVersion"), raw.get("redisVersion"))
        return not unapplied_fields(body, raw, sub_raw)

    def adopt_by_name(self, clash: ConflictError) -> Trace:
        """Return the database holding this create's name as the one created (``db_id``).

        An earlier run killed after sending this same create leaves a database the plan did
        not see (it is listed only once its task is processed). Wait while a create task
        unknown to this run is under way until the name is listed; the executor then checks
        with :func:`check_adopted` that it has every field this create would have set.

        Raises:
            ConflictError: ``clash``, when the name is not listed and no create is under way.
        """
        log.warning("%s; looking for the database holding the name", clash)
        self._status("name taken, looking for the database holding it")

        def probe() -> tuple[str, int | None]:
            db_id = self.find_by_name()
            if db_id is not None:
                return "listed", db_id
            if not self._create_under_way():
                raise clash
            return "being created", None

        what = f"database {self._action.name!r}"
        db_id = self._poller.wait(what, "listed", probe, noun="database")
        return Trace(_ADOPTED, db_id=db_id)

    def _create_under_way(self) -> bool:
        """Is a create task this run does not know about still being processed?"""
        return any(
            task.get("commandType") == COMMAND_TYPES[ActionKind.CREATE]
            and task.get("status") not in _FINISHED
            and task.get("taskId") not in self._known_tasks
            for task in self.list_tasks() or []
        )

    def find_by_name(self) -> int | None:
        """Return the id of the database named like the action, listing page by page."""
        sid = self._action.subscription_id
        for page in database_pages(self._client.get, sid):
            for db in page:
                if db.name == self._action.name:
                    return db.id
        return None

    def wait_listed(self) -> int:
        """Return the id of the database named like the action, waiting for it to be listed."""
        name = self._action.name

        def probe() -> tuple[str, int | None]:
            db_id = self.find_by_name()
            return ("listed" if db_id is not None else "not listed"), db_id

        return self._poller.wait(f"database {name!r}", "listed", probe, noun="database")

    def being_deleted(self, db_id: int | None) -> bool:
        """Is the database gone or in status ``deleting`` (a backup has nothing to take)?"""
        try:
            return get_object(self._client, self._db_path(db_id)).get("status") == "deleting"
        except NotFoundError:
            return True

    def _db_path(self, db_id: int | None) -> str:
        return paths.database(self._action.subscription_id, str(db_id))


def is_name_clash(exc: ApiError) -> TypeGuard[ConflictError]:
    """Is this refused write a 409 because the name is taken?"""
    return isinstance(exc, ConflictError) and not means_not_active(exc)


def means_not_active(exc: ApiError) -> bool:
    """Is this refused write a "not now" (retry once active) rather than a real conflict?"""
    kind = exc.error_type.upper()
    if isinstance(exc, ConflictError):
        # a name clash will not go away by waiting
        return "NAME" not in kind and "already exists" not in exc.description.lower()
    return exc.status == 403 and ("NOT_ACTIVE" in kind or "PENDING" in kind)


def is_backup_before_delete(actions: Sequence[PlannedAction], index: int) -> bool:
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


def check_adopted(
    clash: ConflictError,
    body: Mapping[str, Any],
    db_raw: Mapping[str, Any],
    sub_raw: Mapping[str, Any],
) -> None:
    """Check that a database adopted after ``clash`` has every field of the create ``body``.

    Raises:
        ConflictError: ``clash`` with the fields that differ added to its description.
    """
    fields = unapplied_fields(body, db_raw, sub_raw)
    if fields:
        text = f"{clash.description}; it differs from this create in: {', '.join(fields)}"
        raise ConflictError(clash.method, clash.path, clash.status, clash.error_type, text)


def unapplied_fields(
    body: Mapping[str, Any], db_raw: Mapping[str, Any], sub_raw: Mapping[str, Any]
) -> list[str]:
    """Return the paths of the fields of ``body`` that the live database does not show."""
    live = live_to_request(db_raw, sub_raw)
    context = CompareContext.for_database(body, live, sub_raw)
    want, have = comparable_fields(body, live, context)
    return [change.path for change in diff_fields(want, have)]


def get_object(client: ApiReader, path: str) -> Mapping[str, Any]:
    """GET ``path`` and return the answer. Raises BadResponseError when it is not an object."""
    answer = client.get(path)
    if not isinstance(answer, Mapping):
        raise BadResponseError("GET", path, 200, "", "answer is not a JSON object")
    return answer
