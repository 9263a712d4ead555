"""``reconciler apply --parallel N`` end to end: the CLI, on a lockstep virtual clock.

The four-subscription account of parallel_support.py is served by a simulator on the
test's :class:`lockstep.Lockstep`; the command runs in-process on a Runtime of the same
clock, whose ``run_lanes`` runs the lanes one at a time. Progress is not a TTY here, so
every event is one timestamped line naming its subscription.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from lockstep import START, Lockstep
from parallel_support import SUBS, seed_document

from reconciler.cli import Runtime, main
from reconciler.simulator import RunningSimulator

SPEC = "version: 1\nsubscriptions:\n" + "".join(
    f"  - id: {sid}\n    databases:\n"
    "      - {name: a, datasetSizeInGb: 2}\n"
    "      - {name: b, datasetSizeInGb: 2}\n"
    for sid in SUBS
)


@pytest.fixture
def clock() -> Lockstep:
    """The test's virtual clock: the simulator's and the command's."""
    return Lockstep()


@pytest.fixture
def cli(
    clock: Lockstep,
    make_simulator: Callable[..., RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., tuple[int, str, str]]:
    """Return ``run(*argv)``: the CLI against the account, on a lockstep clock."""
    (tmp_path / "seed.json").write_text(json.dumps(seed_document()), encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    running = make_simulator(
        clock=clock, seed_path=tmp_path / "seed.json", task_seconds=2.0, provision_seconds=10.0
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REDIS_API_KEY", running.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", running.api_secret)
    monkeypatch.setenv("NO_COLOR", "1")
    runtime = Runtime(
        clock=clock,
        sleep=clock.sleep,
        wall_clock=clock,
        run_lanes=clock.run_lanes,
        backoff_factor=0.0,
        read_concurrency=1,
    )

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--api-url", running.url], runtime)
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_parallel_apply_prints_lines_per_subscription_and_a_report_per_subscription(
    cli: Callable[..., tuple[int, str, str]],
) -> None:
    code, out, err = cli("apply", "spec.yaml", "--yes", "--parallel", "3", "--report", "r.json")
    assert code == 0, err
    progress = out[out.index("2026-") :].splitlines()[:-5]
    line = re.compile(
        r"2026-11-27T14:\d\d:\d\dZ \[sub (\d+)\] apply (\d)/8 update ([ab]) \(db (\d+)\): "
    )
    for text in progress:
        match = line.match(text)
        assert match, text
        sid, index, name, db = match.groups()
        assert db == f"{sid}0{1 + 'ab'.index(name)}"
        assert int(index) == 2 * SUBS.index(int(sid)) + 1 + "ab".index(name)
    assert progress[:6] == [
        f"2026-11-27T14:03:05Z [sub {sid}] apply {index}/8 update a (db {sid}01): {text}"
        for sid, index in ((3001, 1), (3002, 3), (3003, 5))
        for text in ("started", "sending PUT (0s)")
    ]
    assert out.splitlines()[-5:] == [
        "Done (8): "
        + ", ".join(
            f"update {db} (db {sid}0{n})" for sid in SUBS for n, db in ((1, "a"), (2, "b"))
        ),
        "Subscription 3001: applied (done 2)",
        "Subscription 3002: applied (done 2)",
        "Subscription 3003: applied (done 2)",
        "Subscription 3004: applied (done 2)",
    ]
    report = json.loads(Path("r.json").read_text(encoding="utf-8"))
    assert report["status"] == "applied" and report["parallel"] == 3
    assert report["subscriptions"][3] == {
        "subscriptionId": 3004,
        "status": "applied",
        "done": [7, 8],
        "failed": [],
        "interrupted": [],
        "notStarted": [],
    }


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--parallel", "0"), "argument --parallel: invalid number '0': must be at least 1"),
        (("--parallel", "-2"), "argument --parallel: invalid number '-2': must be at least 1"),
        (
            ("--parallel", "4"),
            "argument --parallel: invalid number '4': at most 3 (the API works on at most 3 "
            "subscriptions that are not active at once)",
        ),
        (
            ("--parallel", "two"),
            "argument --parallel: invalid number 'two': expected a whole number",
        ),
        (
            ("--max-requests-per-minute", "0"),
            "argument --max-requests-per-minute: invalid number '0': must be at least 1",
        ),
    ],
)
def test_bad_parallel_or_budget_flags_are_usage_errors(
    cli: Callable[..., tuple[int, str, str]],
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, str],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("apply", "spec.yaml", "--yes", *flags)
    assert exited.value.code == 1
    assert capsys.readouterr().err.endswith(f"reconciler apply: error: {message}\n")


def test_plan_keeps_under_its_request_budget(
    cli: Callable[..., tuple[int, str, str]], clock: Lockstep
) -> None:
    code, out, err = cli("plan", "spec.yaml", "--max-requests-per-minute", "4")
    assert code == 0, err
    assert "Plan: 0 to create, 8 to update" in out
    assert clock.slept and clock() - START >= 60  # past 4 requests, the budget paced it


def test_plan_reads_without_waiting_at_the_default_budget(
    cli: Callable[..., tuple[int, str, str]], clock: Lockstep
) -> None:
    code, _, err = cli("plan", "spec.yaml")
    assert code == 0, err
    assert clock.slept == []
