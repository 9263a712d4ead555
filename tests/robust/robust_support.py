"""Helpers shared by the robustness suites (tests/test_robust_*.py).

- ``SteppingClock`` and ``run_on_stepping_clock(monkeypatch)``: the in-process CLI (API
  client and executor) waits on a clock that moves only when slept on; pass the same clock
  to the simulator (``clock=``) so waits of minutes cost nothing.
- ``copy_examples(folder)``: a copy of examples/ in ``folder``.
- ``run_cli(capsys, *argv)``: ``reconciler ARGV`` in-process; ``(code, stdout, stderr)``.
- The example account: ``PROD``, ``STAGING``, ``EXPECTED_NAMES``, ``ABSENT_IN_SPEC``.

Imported as a plain module (``from robust_support import …``): pytest's default "prepend"
import mode puts tests/ on ``sys.path``.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import reconciler.apply.executor
import reconciler.cloud.client
import reconciler.cloud.reader
from reconciler import cli

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


def run_on_stepping_clock(
    monkeypatch: pytest.MonkeyPatch, *, serial_reads: bool = False
) -> SteppingClock:
    """Make the in-process CLI run on a new stepping clock; return the clock.

    ``serial_reads`` also reads the live state one subscription at a time, so that seeded
    faults meet the requests in the same order on every run.
    """
    stepping = SteppingClock()
    real_client = reconciler.cloud.client.ApiClient
    real_apply = reconciler.apply.executor.apply_plan
    real_read = reconciler.cloud.reader.read_live

    def client(base_url: str, key: str, secret: str, **options: Any) -> Any:
        # backoff 0: urllib3 sleeps between GET retries on the real clock
        fast = {"sleep": stepping.sleep, "clock": stepping, "backoff_factor": 0.0}
        return real_client(base_url, key, secret, **{**options, **fast})

    def apply_plan(plan: Any, api: Any, **options: Any) -> Any:
        fast = {"clock": stepping, "sleep": stepping.sleep, "wall_clock": stepping}
        return real_apply(plan, api, **{**options, **fast})

    def read_live(api: Any, desired: Any, **options: Any) -> Any:
        return real_read(api, desired, **{**options, "concurrency": 1})

    monkeypatch.setattr(reconciler.cloud.client, "ApiClient", client)
    monkeypatch.setattr(reconciler.apply.executor, "apply_plan", apply_plan)
    if serial_reads:
        monkeypatch.setattr(reconciler.cloud.reader, "read_live", read_live)
    return stepping


def copy_examples(folder: Path, ignore: Sequence[str] = ("ci", "__*")) -> Path:
    """Copy examples/ (without ``ignore``d names) to ``folder/examples``; return the copy."""
    target = folder / "examples"
    shutil.copytree(EXAMPLES, target, ignore=shutil.ignore_patterns(*ignore))
    return target


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``reconciler ARGV`` in-process; argparse's exits count as exit codes."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err
