"""The tasks of the API: what a write answers, what ``GET /tasks`` and ``GET /tasks/{id}`` hold.

Every write (POST, PUT, DELETE) answers at once with a task: ``{"taskId": "…", …}``. The
task then moves through ``initialized``, ``received`` and ``processing-in-progress`` to
``processing-completed`` or ``processing-error``; a just-accepted task may be unknown
(404) for a moment. A completed create names the new database in ``response.resourceId``.
A failure is told by ``processing-error`` or by a ``response.error``, which is an object
(``type``, ``status``, ``description``) or, on some endpoints, a bare string; any other
status is unknown to us and is taken as a failure too, as the Go SDK does.

``GET /tasks`` lists the account's recent tasks, each with its ``commandType`` (e.g.
``databaseUpdateRequest``) and ``timestamp`` (ISO 8601 with up to nine fraction digits).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from reconciler.cloud import paths
from reconciler.errors import BadResponseError, TaskFailedError

TASK_COMPLETED = "processing-completed"
TASK_FAILED = "processing-error"
TASK_PENDING = frozenset({"initialized", "received", "processing-in-progress"})
TASK_FINISHED = frozenset({TASK_COMPLETED, TASK_FAILED})


def task_id_of(answer: Any, method: str, path: str) -> str:
    """Return the ``taskId`` of the answer to the write ``method path``.

    Raises:
        BadResponseError: the answer holds no task id.
    """
    task_id = answer.get("taskId") if isinstance(answer, Mapping) else None
    if not isinstance(task_id, str) or not task_id:
        raise BadResponseError(method, path, 0, "", "the answer holds no taskId")
    return task_id


def task_list(listing: Any) -> list[Mapping[str, Any]]:
    """Return the tasks of a ``GET /tasks`` answer (a list, or an object with ``tasks``)."""
    tasks = listing.get("tasks") if isinstance(listing, Mapping) else listing
    return [t for t in (tasks if isinstance(tasks, list) else []) if isinstance(t, Mapping)]


def task_state(task_id: str, task: Any) -> tuple[str, Mapping[str, Any] | None]:
    """Return ``(status, task)`` when completed, ``(status, None)`` while pending.

    Raises TaskFailedError for ``processing-error``, a ``response.error`` whatever the
    status, and any status we do not know (the Go SDK does the same); BadResponseError
    when the answer is not an object.
    """
    if not isinstance(task, Mapping):
        raise BadResponseError("GET", paths.task(task_id), 200, "", "task is not a JSON object")
    status = str(task.get("status") or "(no status)")
    response = task.get("response")
    error = response.get("error") if isinstance(response, Mapping) else None
    if error is None and status in TASK_PENDING:
        return status, None
    if error is None and status == TASK_COMPLETED:
        return status, task
    raise _task_failure(task_id, status, task, error)


def _task_failure(
    task_id: str, status: str, task: Mapping[str, Any], error: Any
) -> TaskFailedError:
    """Build the TaskFailedError for a failed task; ``error`` is an object or a bare string."""
    description = str(task.get("description") or "")
    if isinstance(error, Mapping):
        error_type = str(error.get("type") or "")
        error_status = str(error.get("status") or "")
        description = str(error.get("description") or description)
    elif error:
        error_type, error_status = str(error), ""
    else:
        error_type, error_status = "", status
        if status != TASK_FAILED:
            description = f"unexpected task status '{status}'"
    response = task.get("response")
    extra = response.get("additionalInfo") if isinstance(response, Mapping) else None
    if extra:
        description = f"{description} ({extra})" if description else str(extra)
    return TaskFailedError(task_id, error_type, error_status, description)


def resource_id(task: Mapping[str, Any]) -> int | None:
    """Return the task's ``response.resourceId`` (a create's new database id), or None."""
    response = task.get("response")
    resource = response.get("resourceId") if isinstance(response, Mapping) else None
    return resource if isinstance(resource, int) and not isinstance(resource, bool) else None


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:?\d\d)?$")


def parse_timestamp(value: Any) -> float | None:
    """Return an API timestamp (``2024-04-15T09:08:04.222268Z``) as POSIX seconds, or None.

    Any number of fraction digits is accepted (the API sends up to nine); no zone is UTC.
    """
    match = _STAMP.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    base = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    fraction = float(match.group(2)) if match.group(2) else 0.0
    zone = match.group(3) or "Z"
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        base -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return base.timestamp() + fraction
