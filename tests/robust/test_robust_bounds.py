"""Robustness: inputs and answers that never end stop within a documented bound.

Reproductions from the adversarial trials, each run as the user runs it — a ``reconciler``
subprocess with a wall-clock limit and a memory cap, so a regression fails instead of
hanging the suite or eating the machine:

- spec inputs that block or never end: a FIFO named ``*.yaml`` (alone or in a folder),
  ``/dev/zero``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from robust_support import PROJECT

#: Wall-clock bound of one subprocess run; every case here ends far sooner.
RUN_SECONDS = 60
#: Address-space cap of one subprocess run: an unbounded read fails instead of swapping.
MEMORY_BYTES = 2 * 1024**3


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def reconciler(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``python -m reconciler ARGV`` in ``cwd``; return (exit code, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(PROJECT), "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        preexec_fn=_cap_memory,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


NOT_REGULAR = "not a regular file: it is {}; a spec must be a plain YAML file"


@pytest.mark.parametrize(
    ("make", "arg", "line"),
    [
        (
            lambda d: os.mkfifo(d / "x.yaml"),
            "x.yaml",
            "x.yaml: " + NOT_REGULAR.format("a named pipe (FIFO)"),
        ),
        (
            lambda d: (d / "f").mkdir() or os.mkfifo(d / "f" / "x.yaml"),
            "f",
            "f/x.yaml: " + NOT_REGULAR.format("a named pipe (FIFO)"),
        ),
        (lambda d: None, "/dev/zero", "/dev/zero: " + NOT_REGULAR.format("a character device")),
    ],
    ids=["fifo", "fifo-in-folder", "dev-zero"],
)
def test_spec_inputs_that_never_end_are_refused(
    tmp_path: Path, make: Callable[[Path], object], arg: str, line: str
) -> None:
    make(tmp_path)
    code, out, err = reconciler("validate", arg, cwd=tmp_path)
    assert (code, out, err) == (1, "", f"{line}\n1 problem found.\n")
