"""Progress of ``apply``: a live line per action on a terminal, timestamped lines otherwise.

The executor calls a :class:`ProgressSink` as it works: ``action_started`` once per action,
``action_status`` on every poll (the sink decides what to show) and ``action_finished`` with
the outcome. The CLI picks the sink with :func:`make_progress` and passes the stream; this
module writes only to that stream, and status texts never hold request bodies (no secrets).

On a TTY the line of the current action is rewritten in place (``\\r``) with its latest
status and elapsed time, then replaced by a final line::

    [2/7] update sessions (db 51170941): task processing-in-progress (4s)
    [2/7] update sessions (db 51170941): done (12s)

Otherwise (CI logs, files) one timestamped line is written per status *change*::

    2026-11-27T14:03:05Z apply 2/7 update sessions (db 51170941): task processing-in-progress (4s)
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Protocol, TextIO

from reconciler.apply.report import ActionOutcome, ActionSummary, iso_utc
from reconciler.plan import PlannedAction

_CLEAR_LINE = "\r\x1b[K"


class ProgressSink(Protocol):
    """Told what apply is doing; implementations decide how (and whether) to show it."""

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Action ``index`` (1-based) of ``total`` is starting."""

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """The running action's state is ``status_text``, ``elapsed`` seconds in."""

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """The running action ended with ``outcome``."""


class NullProgress:
    """A sink that shows nothing (the default when the caller passes none)."""

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Ignore."""

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Ignore."""

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Ignore."""


def format_elapsed(seconds: float) -> str:
    """Return ``4s``, ``2m05s`` or ``1h02m`` (whole seconds, rounded down)."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def outcome_text(outcome: ActionOutcome) -> str:
    """Return the final words for an action, e.g. ``done (12s)`` or ``failed (3s): …``."""
    text = f"{outcome.status} ({format_elapsed(outcome.elapsed)})"
    detail = outcome.detail
    return f"{text}: {detail}" if detail else text


class _Sink:
    """What both sinks share: the current action's position and label."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.position = ""
        self.label = ""

    def _start(self, index: int, total: int, action: PlannedAction) -> None:
        self.position = f"{index}/{total}"
        self.label = ActionSummary.of(index, action).label

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class PlainProgress(_Sink):
    """Timestamped lines, one per status change: for logs and CI."""

    def __init__(self, stream: TextIO, *, wall_clock: Callable[[], float] = time.time) -> None:
        super().__init__(stream)
        self.wall_clock = wall_clock
        self.last_status = ""

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Write the ``started`` line."""
        self._start(index, total, action)
        self.last_status = ""
        self._line(self.label, "started")

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Write a line when the status differs from the last one written."""
        if status_text == self.last_status:
            return
        self.last_status = status_text
        self._line(self.label, f"{status_text} ({format_elapsed(elapsed)})")

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Write the final line (done, failed or interrupted)."""
        self._line(outcome.action.label, outcome_text(outcome))

    def _line(self, label: str, text: str) -> None:
        self._write(f"{iso_utc(self.wall_clock())} apply {self.position} {label}: {text}\n")


class LiveProgress(_Sink):
    """One line per action, rewritten in place: for terminals."""

    def __init__(self, stream: TextIO, *, width: int | None = None) -> None:
        super().__init__(stream)
        self.width = width if width is not None else shutil.get_terminal_size().columns - 1

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Draw the action's line."""
        self._start(index, total, action)
        self._draw(f"[{self.position}] {self.label}: starting")

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Redraw the line with the latest status and elapsed time."""
        self._draw(f"[{self.position}] {self.label}: {status_text} ({format_elapsed(elapsed)})")

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Replace the line with the final one and move to the next line."""
        line = f"[{self.position}] {outcome.action.label}: {outcome_text(outcome)}"
        self._write(f"{_CLEAR_LINE}{line}\n")

    def _draw(self, line: str) -> None:
        # a live line longer than the terminal would wrap, and \r only rewinds the last row
        if len(line) > self.width > 1:
            line = line[: self.width - 1] + "…"
        self._write(f"{_CLEAR_LINE}{line}")


def make_progress(
    stream: TextIO,
    *,
    tty: bool,
    wall_clock: Callable[[], float] = time.time,
    width: int | None = None,
) -> ProgressSink:
    """Return the sink for ``stream``: live lines on a TTY, timestamped lines otherwise.

    ``wall_clock`` stamps plain lines; ``width`` bounds live lines (default: terminal width).
    """
    if tty:
        return LiveProgress(stream, width=width)
    return PlainProgress(stream, wall_clock=wall_clock)
