"""The one exception tree of reconciler, and the exit code each error means.

Every error the tool raises on purpose derives from :class:`ReconcilerError`; the root itself
is never raised bare. Each keeps its structured facts (file, line, path; method, status,
task id, error type) as attributes and builds its message from them, and each class carries
the exit code the command line returns for it (``exit_code``). The CLI turns them into
messages and exit codes in one place (:func:`reconciler.cli.main`).

::

    exit  class                     raised when
    ----  ------------------------  --------------------------------------------------------
     1    ReconcilerError           (root; never raised bare)
     1    ├── UsageError            bad flags, missing credentials, refused URL, no confirmation
     1    ├── SpecError             one or more located problems in spec files
     1    ├── DumpError             the data cannot be written as a spec (also a ValueError)
     1    ├── ApiError              an HTTP call failed (method, path, status, type, description)
     1    │   ├── AuthenticationError   401 / 403
     1    │   ├── NotFoundError         404
     1    │   ├── ConflictError         409 (name exists, resource not active)
     1    │   │   └── AccountBusyError  429 to a write: too many subscriptions changing at once
     1    │   ├── RateLimitedError      429 that outlasted the retries
     1    │   ├── ApiUnavailableError   connection errors and 5xx that outlasted the retries
     1    │   ├── UnknownOutcomeError   a write whose answer was lost; its effect is unknown
     1    │   └── BadResponseError      a 2xx answer that is not the JSON we expect
     1    ├── PlanRefusedError      the plan breaks a safety rule; nothing is applied
     1    ├── MalformedPlanError    the plan cannot be executed as written
     1    ├── StalePlanError        the saved plan's fingerprint no longer matches
     1    ├── TaskFailedError       a task ended in processing-error (task id, type, status, text)
     1    ├── ResourceFailedError   a database or subscription entered status error (what, status)
     1    ├── SilentNoOpError       a task completed but the re-read shows no change (detail)
     1    ├── WaitTimeoutError      a wait ran out of time (what, last state seen)
     1    ├── BusyError             another run's work blocks a write and waiting was refused
     1    ├── ApplyFailedError      apply stopped; carries the run report
   130    └── ApplyInterruptedError Ctrl-C during apply; carries the run report

Exit codes outside the tree: 0 success, 2 changes present (``plan --detailed-exitcode``),
130 also for a Ctrl-C outside apply, 1 for an unexpected exception (a bug).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


class ReconcilerError(Exception):
    """Root of every error reconciler raises on purpose; never raised bare.

    ``exit_code`` is what the command line returns when this error ends a command.
    """

    exit_code: ClassVar[int] = EXIT_ERROR


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


class DumpError(ReconcilerError, ValueError):
    """The data cannot be written as a spec (a secret, or a value YAML cannot hold)."""


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


class AccountBusyError(ConflictError):
    """429 to a write: the account has too many subscriptions changing at once.

    Not the request rate: the write was refused at submission (nothing was queued), and it
    can pass once other changes complete, minutes later. A "not now", like a 409.
    """


class RateLimitedError(ApiError):
    """429 answers outlasted the retries."""


class ApiUnavailableError(ApiError):
    """Connection errors or 5xx answers outlasted the retries."""


class UnknownOutcomeError(ApiError):
    """A write was sent but its answer was lost; whether it took effect is unknown."""


class BadResponseError(ApiError):
    """A 2xx answer that is not the JSON shape we expect."""


class PlanRefusedError(ReconcilerError):
    """The plan breaks one or more safety rules; nothing is applied.

    ``reasons`` are the refusals as text (they were shown with the plan already, so the
    message only points at them); ``command`` is the command that refused: ``plan`` says
    nothing *will be* applied, ``apply`` that nothing *was*.
    """

    def __init__(
        self, reasons: Sequence[object], *, command: Literal["plan", "apply"] = "plan"
    ) -> None:
        self.reasons = tuple(str(reason) for reason in reasons)
        self.command = command
        if command == "apply":
            message = "plan refused; nothing was applied (see 'Refused' above)"
        else:
            message = "plan refused; nothing will be applied (see 'Refused' above)."
        super().__init__(message)


class MalformedPlanError(ReconcilerError):
    """The plan cannot be executed as written (e.g. an action needs an id no create made)."""


class StalePlanError(ReconcilerError):
    """The live account or the spec changed since the saved plan was made."""

    def __init__(self, plan_file: str, moved: Sequence[str] = ()) -> None:
        self.plan_file = plan_file
        self.moved = tuple(moved)
        lines = "".join(f"\n  - {line}" for line in self.moved)
        super().__init__(
            f"plan is stale: {plan_file} no longer matches the spec and the live account; "
            f"run plan again and review it{lines}"
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


class BusyError(ReconcilerError):
    """Another run's unfinished work blocks a write, and apply was told not to wait for it."""

    def __init__(self, what: str, busy_with: str, advice: str) -> None:
        self.what = what
        self.busy_with = busy_with
        super().__init__(f"{what} is busy: {busy_with}; {advice}")


class ApplyFailedError(ReconcilerError):
    """Apply stopped on a failure. ``report`` says what was done, failed, not started."""

    def __init__(self, message: str, report: Any) -> None:
        self.report = report
        super().__init__(message)


class ApplyInterruptedError(ReconcilerError):
    """Apply was interrupted (Ctrl-C) after the current request."""

    exit_code: ClassVar[int] = EXIT_INTERRUPTED

    def __init__(self, report: Any, how: str = "stopped after the current request") -> None:
        self.report = report
        self.how = how
        super().__init__("interrupted")
