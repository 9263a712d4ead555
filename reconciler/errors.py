"""The one exception tree of reconciler.

Every error the tool raises on purpose derives from :class:`ReconcilerError`. Each keeps its
structured facts (file, line, path; method, status, task id, error type) as attributes and
builds its message from them. The CLI maps them to exit codes in one place
(:func:`reconciler.cli.main`).

::

    ReconcilerError
    ├── UsageError              bad flags, missing credentials, refused URL
    ├── SpecError               one or more located problems in spec files
    ├── ApiError                an HTTP call failed (method, path, status, type, description)
    │   ├── AuthenticationError     401 / 403
    │   ├── NotFoundError           404
    │   ├── ConflictError           409 (name exists, resource not active)
    │   ├── RateLimitedError        429 that outlasted the retries
    │   ├── ApiUnavailableError     connection errors and 5xx that outlasted the retries
    │   ├── UnknownOutcomeError     a write whose answer was lost; its effect is unknown
    │   └── BadResponseError        a 2xx answer that is not the JSON we expect
    ├── PlanRefusedError        the plan breaks a safety rule (reasons listed)
    ├── StalePlanError          the saved plan's fingerprint no longer matches
    ├── TaskFailedError         a task ended in processing-error (task id, type, status, text)
    ├── ResourceFailedError     a database or subscription entered status error (what, status)
    ├── SilentNoOpError         a task completed but the re-read shows no change (detail)
    ├── WaitTimeoutError        a wait ran out of time (what, last state seen)
    ├── ApplyFailedError        apply stopped; carries the run report
    └── ApplyInterruptedError   Ctrl-C during apply; carries the run report
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class ReconcilerError(Exception):
    """Root of every error reconciler raises on purpose."""


class UsageError(ReconcilerError):
    """Bad command-line input: flags, credentials, URLs."""


@dataclass(frozen=True)
class SpecProblem:
    """One located problem in a spec file.

    ``line`` and ``column`` are 1-based; 0 means unknown. ``path`` is the path inside the
    document, e.g. ``subscriptions[0].databases[2].alerts[0].value`` (empty for the whole file).
    """

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line:
            where += f":{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class SpecError(ReconcilerError):
    """The spec files hold one or more problems; all are kept, in file order."""

    def __init__(self, problems: Sequence[SpecProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ApiError(ReconcilerError):
    """An API call failed. ``status`` is the HTTP status (0 when no answer came)."""

    def __init__(
        self,
        method: str,
        path: str,
        status: int = 0,
        error_type: str = "",
        description: str = "",
    ) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.error_type = error_type
        self.description = description
        super().__init__(self._message())

    def _message(self) -> str:
        parts = [f"{self.method} {self.path}"]
        if self.status:
            parts.append(f"HTTP {self.status}")
        if self.error_type:
            parts.append(self.error_type)
        text = (
            ": ".join([" ".join(parts[:1]), ", ".join(parts[1:])]) if len(parts) > 1 else parts[0]
        )
        return f"{text}: {self.description}" if self.description else text


class AuthenticationError(ApiError):
    """401 or 403: the key pair was refused."""


class NotFoundError(ApiError):
    """404: the resource does not exist."""


class ConflictError(ApiError):
    """409: a name conflict, or the resource is not active."""


class RateLimitedError(ApiError):
    """429 answers outlasted the retries."""


class ApiUnavailableError(ApiError):
    """Connection errors or 5xx answers outlasted the retries."""


class UnknownOutcomeError(ApiError):
    """A write was sent but its answer was lost; whether it took effect is unknown."""


class BadResponseError(ApiError):
    """A 2xx answer that is not the JSON shape we expect."""


class PlanRefusedError(ReconcilerError):
    """The plan breaks one or more safety rules; nothing was applied."""

    def __init__(self, reasons: Sequence[str]) -> None:
        self.reasons = tuple(reasons)
        super().__init__("plan refused:\n" + "\n".join(f"  - {r}" for r in self.reasons))


class StalePlanError(ReconcilerError):
    """The live account or the spec changed since the saved plan was made."""

    def __init__(self, plan_file: str) -> None:
        self.plan_file = plan_file
        super().__init__(
            f"plan is stale: {plan_file} no longer matches the spec and the live account; "
            "run plan again and review it"
        )


class TaskFailedError(ReconcilerError):
    """A task ended in ``processing-error`` (or an unknown terminal status)."""

    def __init__(self, task_id: str, error_type: str, status: str, description: str) -> None:
        self.task_id = task_id
        self.error_type = error_type
        self.status = status
        self.description = description
        detail = " ".join(x for x in (status, error_type) if x)
        super().__init__(f"task {task_id} failed: {detail}: {description}".rstrip(": "))


class ResourceFailedError(ReconcilerError):
    """A database or subscription entered the failure status ``error``."""

    def __init__(self, what: str, status: str) -> None:
        self.what = what
        self.status = status
        super().__init__(f"{what} entered status '{status}'")


class SilentNoOpError(ReconcilerError):
    """The task completed but a re-read shows the change did not take effect."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"silent no-op: {detail}")


class WaitTimeoutError(ReconcilerError):
    """A wait ran past its deadline; ``last_state`` is the last state seen."""

    def __init__(self, what: str, wanted: str, last_state: str, seconds: float) -> None:
        self.what = what
        self.wanted = wanted
        self.last_state = last_state
        self.seconds = seconds
        super().__init__(
            f"timed out after {seconds:.0f}s waiting for {what} to be {wanted}; "
            f"last state seen: {last_state}"
        )


class ApplyFailedError(ReconcilerError):
    """Apply stopped on a failure. ``report`` says what was done, failed, not started."""

    def __init__(self, message: str, report: Any) -> None:
        self.report = report
        super().__init__(message)


class ApplyInterruptedError(ReconcilerError):
    """Apply was interrupted (Ctrl-C) after the current request."""

    def __init__(self, report: Any) -> None:
        self.report = report
        super().__init__("interrupted")
