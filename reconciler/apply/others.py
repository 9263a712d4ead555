"""Other runs' work on the account: seen before writing, waited out within a bound.

Two applies at once against one account (two CI jobs, a person and a pipeline) do not lock
each other out: the API has no lock to take. They see each other's work instead.

* Before this run's first write to a subscription, ``GET /tasks`` is read: a task not in a
  final state and not started by this run is another run's work. The run waits until no
  such task is left (at most the busy timeout, with a progress line naming the task), or,
  told not to wait, refuses at once with :class:`reconciler.errors.BusyError`. A task does
  not name its subscription, so any unfinished task of the account counts; the account
  processes one task at a time anyway, so ours would queue behind it. The subscription's
  and the database's statuses are then read again (the step's usual wait for ``active``).
* A write refused later with a 409 or a 403 is read as "busy" unless a re-read shows why it
  will not pass (see :mod:`reconciler.apply.recovery`); it is sent again once the resources
  are ``active``, within the busy timeout, and a timeout quotes the API's last answer
  (:func:`refusal_text`).
* A delete whose database someone else deleted meanwhile is done, with the note
  :data:`DELETED_BY_OTHERS`; an update or upgrade refused as a bad request (4xx) while a
  re-read shows its change in place (another run made it) is done, with the note
  :data:`DONE_BY_OTHERS`.

When ``GET /tasks`` cannot be read (a 404 or an answer of another shape), there is nothing
to wait for: the later refusals are handled as above.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from reconciler.apply.context import ActionScope, ApiReader
from reconciler.cloud import paths, tasks
from reconciler.errors import ApiError, BadResponseError, BusyError, NotFoundError

log = logging.getLogger(__name__)

DELETED_BY_OTHERS = "already deleted by someone else"
DONE_BY_OTHERS = "refused, but the change was in place: done by someone else"
NO_WAIT_ADVICE = "not waiting (--no-wait-for-others); run apply again once it is done"


def account_tasks(client: ApiReader) -> list[Mapping[str, Any]] | None:
    """Return the account's tasks (``GET /tasks``), or None when they cannot be listed."""
    try:
        listing = client.get(paths.TASKS)
    except (NotFoundError, BadResponseError) as exc:
        log.info("cannot list tasks: %s", exc)
        return None
    return tasks.task_list(listing)


def unfinished_of_others(
    listed: list[Mapping[str, Any]], known: set[str]
) -> list[Mapping[str, Any]]:
    """Return the tasks of ``listed`` not in a final state and not in ``known`` (this run's)."""
    return [
        task
        for task in listed
        if task.get("status") not in tasks.TASK_FINISHED and str(task.get("taskId")) not in known
    ]


def describe_task(task: Mapping[str, Any]) -> str:
    """Return ``task t-5 (databaseUpdateRequest, processing-in-progress)``."""
    facts = ", ".join(
        str(task[key]) for key in ("commandType", "status") if task.get(key) not in (None, "")
    )
    return f"task {task.get('taskId')} ({facts})" if facts else f"task {task.get('taskId')}"


def refusal_text(exc: ApiError) -> str:
    """Return the API's answer to a refused write: ``HTTP 409 TYPE: description``.

    An answer without a type or a description says so (``HTTP 409 (empty answer)``).
    """
    head = " ".join(x for x in (f"HTTP {exc.status}", exc.error_type) if x)
    if exc.description:
        return f"{head}: {exc.description}"
    return head if exc.error_type else f"{head} (empty answer)"


def wait_for_others(scope: ActionScope, on_state: Callable[[str, str], None]) -> bool:
    """Wait until no other run's task is unfinished; return whether there was one.

    Runs once per subscription, before this run's first write to it (later calls return
    False at once). ``on_state`` is told each busy state seen.

    Raises:
        BusyError: another run's task is unfinished and the context says not to wait.
        WaitTimeoutError: one still is after the busy timeout.
    """
    sid = scope.action.subscription_id
    if sid in scope.state.checked:
        return False
    busy = _busy_now(scope)
    _refuse_if_told(scope, busy)
    if busy:
        log.info("waiting: %s; subscription %s not written to yet", _busy_text(busy), sid)
        on_state("", f"waiting: {_busy_text(busy)}")
        poller = scope.busy_poller(scope.context.clock(), _busy_only(on_state))
        poller.wait(f"subscription {sid}", "free of other runs' tasks", _probe(scope))
    scope.state.checked.add(sid)
    return bool(busy)


def _refuse_if_told(scope: ActionScope, busy: list[Mapping[str, Any]]) -> None:
    """Refuse when another run's task is unfinished and the context says not to wait.

    While another lane of this run has a write whose answer is not back, an unknown task may
    be that write's: it is waited for instead (its id is known as soon as the answer is in).

    Raises:
        BusyError: as :func:`wait_for_others`.
    """
    lanes_sending = scope.state.sending - {scope.action.subscription_id}
    if busy and not scope.context.wait_for_others and not lanes_sending:
        sid = scope.action.subscription_id
        raise BusyError(f"subscription {sid}", _busy_text(busy), NO_WAIT_ADVICE)


def _busy_only(on_state: Callable[[str, str], None]) -> Callable[[str, str], None]:
    """Return ``on_state`` told only busy states (the quiet one is not news)."""

    def tell(noun: str, state: str) -> None:
        if state:
            on_state(noun, state)

    return tell


def _busy_now(scope: ActionScope) -> list[Mapping[str, Any]]:
    """Return the other runs' unfinished tasks now."""
    return unfinished_of_others(account_tasks(scope.client) or [], scope.state.known_tasks)


def _busy_text(busy: list[Mapping[str, Any]]) -> str:
    """Return ``another run's task t-5 (…)`` (and how many more)."""
    text = f"another run's {describe_task(busy[0])} is unfinished"
    return text if len(busy) == 1 else f"{text} (and {len(busy) - 1} more)"


def _probe(scope: ActionScope) -> Callable[[], tuple[str, bool | None]]:
    """Return a probe done once no other run's task is unfinished."""

    def probe() -> tuple[str, bool | None]:
        busy = _busy_now(scope)
        _refuse_if_told(scope, busy)
        return (f"waiting: {_busy_text(busy)}", None) if busy else ("", True)

    return probe
