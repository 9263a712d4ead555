"""The run report of ``apply``: what was done, what failed, what was not started.

:class:`ApplyReport` is built by :mod:`reconciler.apply.executor` as it goes and handed to the CLI
(inside ApplyFailedError / ApplyInterruptedError when the run stops early). It holds no
request bodies, so no secrets; error texts are scrubbed of the plan's secret values by the
executor before they get here. :meth:`ApplyReport.to_dict` is the ``--report FILE`` JSON;
:meth:`ApplyReport.summary_text` the human lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from reconciler.errors import ApiError, ReconcilerError, ResourceFailedError, TaskFailedError
from reconciler.plan import PlannedAction

REPORT_FORMAT_VERSION = 1


def iso_utc(timestamp: float) -> str:
    """Return a POSIX timestamp as ``2026-11-27T14:03:05Z``."""
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class ActionSummary:
    """Which action: its 1-based place in the plan, kind, subscription, database and name."""

    index: int
    kind: str
    subscription_id: int
    database_id: int | None
    name: str

    @classmethod
    def of(cls, index: int, action: PlannedAction) -> ActionSummary:
        """Return the summary of ``action``, the ``index``-th (1-based) of its plan."""
        return cls(
            index, action.kind.value, action.subscription_id, action.database_id, action.name
        )

    @property
    def label(self) -> str:
        """Return e.g. ``update sessions (db 51170941)`` or ``create reports``."""
        db = f" (db {self.database_id})" if self.database_id is not None else ""
        return f"{self.kind} {self.name}{db}"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "index": self.index,
            "action": self.kind,
            "subscriptionId": self.subscription_id,
            "databaseId": self.database_id,
            "name": self.name,
        }


@dataclass(frozen=True)
class ActionError:
    """Why an action failed: the message and, when a task failed, its facts."""

    message: str
    error_type: str = ""
    status: str = ""
    description: str = ""

    @classmethod
    def from_exception(
        cls, exc: ReconcilerError, scrub: Callable[[str], str] = lambda text: text
    ) -> ActionError:
        """Return the report form of ``exc``; ``scrub`` masks secrets in every text."""
        if isinstance(exc, TaskFailedError):
            facts = (exc.error_type, exc.status, exc.description)
        elif isinstance(exc, ApiError):
            facts = (exc.error_type, f"HTTP {exc.status}" if exc.status else "", exc.description)
        elif isinstance(exc, ResourceFailedError):
            facts = ("", exc.status, "")
        else:
            facts = ("", "", "")
        error_type, status, description = (scrub(x) for x in facts)
        return cls(scrub(str(exc)), error_type, status, description)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "message": self.message,
            "type": self.error_type,
            "status": self.status,
            "description": self.description,
        }


@dataclass(frozen=True)
class ActionOutcome:
    """How one started action ended: ``done``, ``failed`` or ``interrupted``.

    ``action.database_id`` is the id the action ended up with (a create's new id).
    ``last_state`` is the last task/resource state seen; ``note`` says anything unusual
    (e.g. an answer was lost and the effect was found already applied).
    """

    action: ActionSummary
    status: str
    elapsed: float
    task_id: str | None = None
    last_state: str = ""
    note: str = ""
    error: ActionError | None = None

    @property
    def detail(self) -> str:
        """Return the text after the label in summaries: the error, or the note."""
        if self.error is not None:
            text = self.error.message
            if self.task_id and self.task_id not in text:
                text += f" (task {self.task_id})"
            return text
        if self.status == "interrupted" and self.task_id:
            state = f", last seen: {self.last_state}" if self.last_state else ""
            return (
                f"stopped before it finished (task {self.task_id}{state}); "
                "re-run plan to see where it stands"
            )
        return self.note

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            **self.action.to_dict(),
            "status": self.status,
            "elapsedSeconds": round(self.elapsed, 3),
            "taskId": self.task_id,
            "lastState": self.last_state,
            "note": self.note,
            "error": self.error.to_dict() if self.error else None,
        }


@dataclass
class ApplyReport:
    """The run so far. ``finished_at`` is None while running; times are POSIX seconds."""

    started_at: float
    finished_at: float | None = None
    done: list[ActionOutcome] = field(default_factory=list)
    failed: ActionOutcome | None = None
    interrupted: ActionOutcome | None = None
    not_started: list[ActionSummary] = field(default_factory=list)

    @property
    def status(self) -> str:
        """Return ``applied``, ``failed`` or ``interrupted``."""
        if self.failed is not None:
            return "failed"
        if self.interrupted is not None or self.not_started:
            return "interrupted"
        return "applied"

    def to_dict(self) -> dict[str, Any]:
        """Return the ``--report`` JSON document (versioned, secret-free)."""
        finished = self.finished_at
        return {
            "formatVersion": REPORT_FORMAT_VERSION,
            "status": self.status,
            "startedAt": iso_utc(self.started_at),
            "finishedAt": iso_utc(finished) if finished is not None else None,
            "durationSeconds": round(finished - self.started_at, 3) if finished else None,
            "done": [o.to_dict() for o in self.done],
            "failed": self.failed.to_dict() if self.failed else None,
            "interrupted": self.interrupted.to_dict() if self.interrupted else None,
            "notStarted": [s.to_dict() for s in self.not_started],
        }

    def summary_text(self) -> str:
        """Return the human summary (no final newline), one line per group: ``Done (3): …``."""
        lines = [f"Done ({len(self.done)}): {_labels(o.action for o in self.done)}"]
        if self.failed is not None:
            lines.append(f"Failed: {self.failed.action.label}: {self.failed.detail}")
        if self.interrupted is not None:
            lines.append(f"Interrupted: {self.interrupted.action.label}: {self.interrupted.detail}")
        if self.not_started:
            lines.append(f"Not started ({len(self.not_started)}): {_labels(self.not_started)}")
        return "\n".join(lines)


def _labels(actions: Iterable[ActionSummary]) -> str:
    labels = [a.label for a in actions]
    return ", ".join(labels) if labels else "nothing"
