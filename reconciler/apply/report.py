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
    """The run so far. ``finished_at`` is None while running; times are POSIX seconds.

    A parallel run (``parallel`` > 1) may stop several actions at once: ``failed`` and
    ``interrupted`` are the first of each, ``more_failed`` and ``more_interrupted`` the
    others; its JSON and text add one entry per subscription.
    """

    started_at: float
    finished_at: float | None = None
    done: list[ActionOutcome] = field(default_factory=list)
    failed: ActionOutcome | None = None
    interrupted: ActionOutcome | None = None
    not_started: list[ActionSummary] = field(default_factory=list)
    parallel: int = 1
    more_failed: list[ActionOutcome] = field(default_factory=list)
    more_interrupted: list[ActionOutcome] = field(default_factory=list)

    @property
    def status(self) -> str:
        """Return ``applied``, ``failed`` or ``interrupted``."""
        if self.failed is not None:
            return "failed"
        if self.interrupted is not None or self.not_started:
            return "interrupted"
        return "applied"

    @property
    def failures(self) -> list[ActionOutcome]:
        """Return every failed action: ``failed``, then ``more_failed``."""
        return ([self.failed] if self.failed else []) + self.more_failed

    @property
    def interruptions(self) -> list[ActionOutcome]:
        """Return every interrupted action: ``interrupted``, then ``more_interrupted``."""
        return ([self.interrupted] if self.interrupted else []) + self.more_interrupted

    def add_stopped(self, outcome: ActionOutcome) -> None:
        """Record a failed or interrupted ``outcome`` (the first of its kind, or one more)."""
        if outcome.status == "failed":
            if self.failed is None:
                self.failed = outcome
            else:
                self.more_failed.append(outcome)
        elif self.interrupted is None:
            self.interrupted = outcome
        else:
            self.more_interrupted.append(outcome)

    def by_subscription(self) -> list[SubscriptionPart]:
        """Return each subscription's part of the run, in order of first appearance."""
        parts: dict[int, SubscriptionPart] = {}

        def part(summary: ActionSummary) -> SubscriptionPart:
            sid = summary.subscription_id
            return parts.setdefault(sid, SubscriptionPart(sid, [], [], [], []))

        rows: list[tuple[ActionSummary, ActionOutcome | None]]
        rows = [(o.action, o) for o in (*self.done, *self.failures, *self.interruptions)]
        rows += [(s, None) for s in self.not_started]
        for summary, outcome in sorted(rows, key=lambda row: row[0].index):
            if outcome is None:
                part(summary).not_started.append(summary.index)
            else:
                getattr(part(summary), outcome.status).append(summary.index)
        return list(parts.values())

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
            **(self._parallel_dict() if self.parallel > 1 else {}),
        }

    def _parallel_dict(self) -> dict[str, Any]:
        """Return the JSON keys of a parallel run: its lanes, the other stops, per subscription."""
        return {
            "parallel": self.parallel,
            "moreFailed": [o.to_dict() for o in self.more_failed],
            "moreInterrupted": [o.to_dict() for o in self.more_interrupted],
            "subscriptions": [part.to_dict() for part in self.by_subscription()],
        }

    def summary_text(self) -> str:
        """Return the human summary (no final newline), one line per group: ``Done (3): …``."""
        lines = [f"Done ({len(self.done)}): {_labels(o.action for o in self.done)}"]
        lines += [f"Failed: {o.action.label}: {o.detail}" for o in self.failures]
        lines += [f"Interrupted: {o.action.label}: {o.detail}" for o in self.interruptions]
        if self.not_started:
            lines.append(f"Not started ({len(self.not_started)}): {_labels(self.not_started)}")
        if self.parallel > 1:
            lines += [part.text() for part in self.by_subscription()]
        return "\n".join(lines)


@dataclass(frozen=True)
class SubscriptionPart:
    """One subscription's part of a run: the plan indices (1-based) of its actions by end."""

    subscription_id: int
    done: list[int]
    failed: list[int]
    interrupted: list[int]
    not_started: list[int]

    @property
    def status(self) -> str:
        """Return ``applied``, ``failed`` or ``interrupted``."""
        if self.failed:
            return "failed"
        return "interrupted" if self.interrupted or self.not_started else "applied"

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return {
            "subscriptionId": self.subscription_id,
            "status": self.status,
            "done": self.done,
            "failed": self.failed,
            "interrupted": self.interrupted,
            "notStarted": self.not_started,
        }

    def text(self) -> str:
        """Return ``Subscription 101: failed (done 1, failed 1, not started 2)``."""
        counts = [f"done {len(self.done)}"]
        counts += [
            f"{name} {len(indices)}"
            for name, indices in (
                ("failed", self.failed),
                ("interrupted", self.interrupted),
                ("not started", self.not_started),
            )
            if indices
        ]
        return f"Subscription {self.subscription_id}: {self.status} ({', '.join(counts)})"


def _labels(actions: Iterable[ActionSummary]) -> str:
    labels = [a.label for a in actions]
    return ", ".join(labels) if labels else "nothing"
