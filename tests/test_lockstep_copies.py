"""tests/lockstep.py and bench/lockstep.py are one module kept in two places.

Tests never import bench/ and bench/ never imports tests/, and the lockstep clock is not
product code, so each folder holds a copy; this test keeps the copies identical.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_two_copies_of_the_lockstep_clock_are_identical() -> None:
    tests_copy = (ROOT / "tests" / "lockstep.py").read_text(encoding="utf-8")
    bench_copy = (ROOT / "bench" / "lockstep.py").read_text(encoding="utf-8")
    assert bench_copy == tests_copy
