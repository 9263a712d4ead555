"""The one results table: rows, Markdown rendering, the machine line, the README section."""

from __future__ import annotations

import datetime
import os
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

START_MARKER = "<!-- bench:start -->"
END_MARKER = "<!-- bench:end -->"
HEADER = ("Benchmark", "reconciler", "Baseline (same run)", "Ratio ours/baseline", "Target", "Met")


@dataclass(frozen=True)
class Row:
    """One line of the table. ``met`` is None when the row has no target.

    ``exact`` marks targets that do not depend on the machine (request counts): only those
    make the runner exit non-zero when missed.
    """

    benchmark: str
    ours: str
    baseline: str = "—"
    ratio: str = "—"
    target: str = "—"
    met: bool | None = None
    exact: bool = False

    def cells(self) -> tuple[str, ...]:
        """Return the row's cells as text."""
        met = "—" if self.met is None else ("yes" if self.met else "**no**")
        return (self.benchmark, self.ours, self.baseline, self.ratio, self.target, met)


def ratio(ours: float, baseline: float) -> str:
    """Return ``ours / baseline`` as e.g. ``0.020x`` (two significant digits at least)."""
    value = ours / baseline if baseline else float("inf")
    return f"{value:.3f}x" if value < 1 else f"{value:.2f}x"


def markdown(rows: Sequence[Row]) -> str:
    """Return the rows as a Markdown table (pipes in cells escaped)."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for row in rows:
        cells = (cell.replace("|", "\\|") for cell in row.cells())
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """Return one line naming the CPU count (nproc), CPU model, OS and Python version."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{cpus} CPUs (nproc) · {_cpu_model()} · {platform.system()} {platform.release()} · "
        f"Python {platform.python_version()}"
    )


def today() -> str:
    """Return today's date (UTC) as YYYY-MM-DD."""
    return datetime.datetime.now(datetime.timezone.utc).date().isoformat()


def readme_section(table: str, notes: Sequence[str], command: str) -> str:
    """Return the generated README text that goes between the markers."""
    lines = [
        f"Measured on {today()} on {machine()}, by:",
        "",
        "```sh",
        command,
        "```",
        "",
        table.rstrip("\n"),
        "",
        *(f"- {note}" for note in notes),
    ]
    return "\n".join(lines) + "\n"


def write_readme(path: Path, section: str) -> None:
    """Replace the text between the bench markers of ``path`` with ``section``.

    Creates the file with just the markers when it does not exist. Nothing outside the
    markers is changed.

    Raises:
        ValueError: the file exists but does not hold each marker once, in order.
    """
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if not text:
        text = f"{START_MARKER}\n{END_MARKER}\n"
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if text.count(START_MARKER) != 1 or text.count(END_MARKER) != 1 or end < start:
        raise ValueError(f"{path} must hold {START_MARKER} then {END_MARKER}, once each")
    head = text[: start + len(START_MARKER)]
    path.write_text(f"{head}\n{section}{text[end:]}", encoding="utf-8")
