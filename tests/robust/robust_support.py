"""Helpers shared by the robustness suites (tests/test_robust_*.py).

- ``SteppingClock`` and ``stepping_runtime(clock)``: a clock that moves only when slept on,
  and the CLI ``Runtime`` on it (API client, reader and executor all wait on it); pass the
  same clock to the simulator (``clock=``) so waits of minutes cost nothing.
- ``copy_examples(folder)``: a copy of examples/ in ``folder``.
- ``run_cli(capsys, *argv, runtime=None)``: ``reconciler ARGV`` in-process;
  ``(code, stdout, stderr)``.
- The example account: ``PROD``, ``STAGING``, ``EXPECTED_NAMES``, ``ABSENT_IN_SPEC``.

Imported as a plain module (``from robust_support import …``): pytest's default "prepend"
import mode puts tests/ on ``sys.path``.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from reconciler import cli
from reconciler.cli import Runtime

PROJECT = Path(__file__).resolve().parents[2]
EXAMPLES = PROJECT / "examples"
PROD, STAGING = 2001234, 2005678
ABSENT_IN_SPEC = {"legacy-cache"}
EXPECTED_NAMES = {
    PROD: {"sessions", "cache", "queue", "reports", "analytics"},
    STAGING: {"staging-sessions", "staging-cache", "feature-flags", "scratch"},
}


class SteppingClock:
    """A clock that moves only when someone sleeps on it; shared by simulator and tool."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Move the clock forward instead of waiting."""
        with self._lock:
            self.now += max(0.0, seconds)


def stepping_runtime(clock: SteppingClock, *, serial_reads: bool = False) -> Runtime:
    """Return the CLI runtime on ``clock``: every wait steps it instead of sleeping.

    GET retries get no back-off (urllib3 sleeps between them on the real clock).
    ``serial_reads`` reads the live state one subscription at a time, so that seeded faults
    meet the requests in the same order on every run.
    """
    return Runtime(
        clock=clock,
        sleep=clock.sleep,
        wall_clock=clock,
        backoff_factor=0.0,
        read_concurrency=1 if serial_reads else Runtime.read_concurrency,
    )


def copy_examples(folder: Path, ignore: Sequence[str] = ("ci", "__*")) -> Path:
    """Copy examples/ (without ``ignore``d names) to ``folder/examples``; return the copy."""
    target = folder / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns(*ignore))
    return target


def run_cli(
    capsys: pytest.CaptureFixture[str], *argv: str, runtime: Runtime | None = None
) -> tuple[int, str, str]:
    """Run ``reconciler ARGV`` in-process on ``runtime``; argparse's exits count as codes."""
    try:
        code = cli.main(list(argv), runtime)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err
