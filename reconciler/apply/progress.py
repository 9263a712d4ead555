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

A parallel run (``apply --parallel N``) shows on a TTY one live line per subscription with
an action under way, redrawn as a block (:class:`LanesLiveProgress`), and otherwise the same
timestamped lines, each naming its subscription::

    2026-11-27T14:03:05Z [sub 2001234] apply 2/7 update sessions (db 51170941): started
"""

from __future__ import annotations

import shutil
import threading
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
    """What the sinks share: each subscription's current action, its position and label.

    One action runs at a time per subscription, so state kept per subscription is the
    current action's, in a serial run and in each lane of a parallel one.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.current: dict[int, tuple[str, str]] = {}  # subscription -> (position, label)

    def _start(self, index: int, total: int, action: PlannedAction) -> tuple[str, str]:
        position = f"{index}/{total}"
        label = ActionSummary.of(index, action).label
        self.current[action.subscription_id] = (position, label)
        return position, label

    def _of(self, action: PlannedAction) -> tuple[str, str]:
        return self.current.get(action.subscription_id, ("", ""))

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


class PlainProgress(_Sink):
    """Timestamped lines, one per status change: for logs and CI.

    ``lanes`` (a parallel run) starts each line after the time with ``[sub ID]``.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        wall_clock: Callable[[], float] = time.time,
        lanes: bool = False,
    ) -> None:
        super().__init__(stream)
        self.wall_clock = wall_clock
        self.lanes = lanes
        self.last_status: dict[int, str] = {}

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Write the ``started`` line."""
        _, label = self._start(index, total, action)
        self.last_status[action.subscription_id] = ""
        self._line(action, label, "started")

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Write a line when the status differs from the last one written."""
        if status_text == self.last_status.get(action.subscription_id):
            return
        self.last_status[action.subscription_id] = status_text
        self._line(action, self._of(action)[1], f"{status_text} ({format_elapsed(elapsed)})")

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Write the final line (done, failed or interrupted)."""
        self._line(action, outcome.action.label, outcome_text(outcome))

    def _line(self, action: PlannedAction, label: str, text: str) -> None:
        lane = f" [sub {action.subscription_id}]" if self.lanes else ""
        position = self._of(action)[0]
        stamp = iso_utc(self.wall_clock())
        self._write(f"{stamp}{lane} apply {position} {label}: {text}\n")


class LiveProgress(_Sink):
    """One line per action, rewritten in place: for terminals."""

    def __init__(self, stream: TextIO, *, width: int | None = None) -> None:
        super().__init__(stream)
        self.width = width if width is not None else shutil.get_terminal_size().columns - 1

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Draw the action's line."""
        position, label = self._start(index, total, action)
        self._draw(f"[{position}] {label}: starting")

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Redraw the line with the latest status and elapsed time."""
        position, label = self._of(action)
        self._draw(f"[{position}] {label}: {status_text} ({format_elapsed(elapsed)})")

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Replace the line with the final one and move to the next line."""
        line = f"[{self._of(action)[0]}] {outcome.action.label}: {outcome_text(outcome)}"
        self._write(f"{_CLEAR_LINE}{line}\n")

    def _draw(self, line: str) -> None:
        self._write(f"{_CLEAR_LINE}{_fit(line, self.width)}")


class LanesLiveProgress(_Sink):
    """One live line per subscription being applied, redrawn as a block: for terminals.

    A finished action's final line is written above the block and stays; the block below
    it holds the current line of every subscription with an action under way.
    """

    def __init__(self, stream: TextIO, *, width: int | None = None) -> None:
        super().__init__(stream)
        self.width = width if width is not None else shutil.get_terminal_size().columns - 1
        self.lines: dict[int, str] = {}
        self.drawn = 0

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Add the subscription's line to the block."""
        position, label = self._start(index, total, action)
        self._redraw(action, f"[sub {action.subscription_id}] [{position}] {label}: starting")

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Redraw the subscription's line with the latest status and elapsed time."""
        position, label = self._of(action)
        text = f"{status_text} ({format_elapsed(elapsed)})"
        self._redraw(action, f"[sub {action.subscription_id}] [{position}] {label}: {text}")

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Write the final line above the block; drop the subscription's live line."""
        position = self._of(action)[0]
        self.lines.pop(action.subscription_id, None)
        sub = f"[sub {action.subscription_id}]"
        final = f"{sub} [{position}] {outcome.action.label}: {outcome_text(outcome)}\n"
        self._write(self._erase() + final + self._block())

    def _redraw(self, action: PlannedAction, line: str) -> None:
        self.lines[action.subscription_id] = _fit(line, self.width)
        self._write(self._erase() + self._block())

    def _erase(self) -> str:
        """Return the escapes that move to the block's first line and clear to the end."""
        up = f"\x1b[{self.drawn - 1}A" if self.drawn > 1 else ""
        return f"\r{up}\x1b[J"

    def _block(self) -> str:
        self.drawn = len(self.lines)
        return "\n".join(self.lines.values())


class LockedProgress:
    """A sink passed on to ``sink`` one call at a time: lanes of a parallel run share it."""

    def __init__(self, sink: ProgressSink) -> None:
        self._sink = sink
        self._lock = threading.RLock()

    def action_started(self, index: int, total: int, action: PlannedAction) -> None:
        """Pass on."""
        with self._lock:
            self._sink.action_started(index, total, action)

    def action_status(self, action: PlannedAction, status_text: str, elapsed: float) -> None:
        """Pass on."""
        with self._lock:
            self._sink.action_status(action, status_text, elapsed)

    def action_finished(self, action: PlannedAction, outcome: ActionOutcome) -> None:
        """Pass on."""
        with self._lock:
            self._sink.action_finished(action, outcome)


def _fit(line: str, width: int) -> str:
    """Return ``line`` cut to ``width`` columns (with ``…``): a live line must not wrap.

    A wrapped line would break the redraw: ``\\r`` only rewinds the last row.
    """
    return line[: width - 1] + "…" if len(line) > width > 1 else line


def make_progress(
    stream: TextIO,
    *,
    tty: bool,
    wall_clock: Callable[[], float] = time.time,
    width: int | None = None,
    parallel: int = 1,
) -> ProgressSink:
    """Return the sink for ``stream``: live lines on a TTY, timestamped lines otherwise.

    ``wall_clock`` stamps plain lines; ``width`` bounds live lines (default: terminal width).
    ``parallel`` > 1: a live line per subscription, or plain lines prefixed ``[sub ID]``.
    """
    if tty:
        if parallel > 1:
            return LanesLiveProgress(stream, width=width)
        return LiveProgress(stream, width=width)
    return PlainProgress(stream, wall_clock=wall_clock, lanes=parallel > 1)
