"""Robustness: secrets never leave memory in clear — not in output, files or logs.

Canaries: the two database passwords of the example spec (from the environment), the API
key and secret (the simulator is configured with them), and the password the live
``sessions`` database already has. Every command that can see them runs —
``validate``, ``plan`` in every format and with ``--out``, ``apply`` with ``--plan`` and
``--report``, ``export`` to stdout and to files — and afterwards stdout, stderr, every file
written and every log record (all loggers at DEBUG, urllib3 included) are searched for each
canary and for its random core. Error paths too: the API answering 400/500 with the request
body and headers echoed back. A few runs go through a subprocess with ``-v``/``-vv`` so the
real log handler on stderr is searched as well.

In-process runs use a stepping clock shared with the simulator (waits cost nothing).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from robust_support import PROJECT, SteppingClock, copy_examples, run_cli, stepping_runtime

from reconciler.cli import Runtime
from reconciler.simulator import RunningSimulator
from reconciler.simulator.gateway import Answer

# Each starts with a random core, so that even a secret cut short after 10 characters shows.
SESSIONS_PASSWORD = "Q7x2Vb9Lk4-canary-sessions-password"
REPORTS_PASSWORD = "M3n8Rt5Zp1-canary-reports-password"
API_KEY = "H6d1Yw8Fs3-canary-api-key"
API_SECRET = "J2c7Ne4Ug9-canary-api-secret"
LIVE_PASSWORD = "seed-sessions-password-0000000001"  # examples/simulator-seed.yaml
CANARIES = (SESSIONS_PASSWORD, REPORTS_PASSWORD, API_KEY, API_SECRET, LIVE_PASSWORD)
CORES = ("Q7x2Vb9Lk4", "M3n8Rt5Zp1", "H6d1Yw8Fs3", "J2c7Ne4Ug9", "password-0000000001")


def leaks(texts: dict[str, str]) -> list[str]:
    """Return ``where: canary`` for every canary (or core) found in ``texts``."""
    return [
        f"{where}: {needle}"
        for where, text in texts.items()
        for needle in (*CANARIES, *CORES)
        if needle in text
    ]


def files_below(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): path.read_text(encoding="utf-8", errors="replace")
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def runtime(clock: SteppingClock) -> Runtime:
    """The in-process CLI waits on the simulator's clock."""
    return stepping_runtime(clock)


@pytest.fixture
def sim(make_simulator: Callable[..., RunningSimulator], clock: SteppingClock) -> RunningSimulator:
    return make_simulator(
        api_key=API_KEY, api_secret=API_SECRET, task_seconds=2.0, provision_seconds=3.0, clock=clock
    )


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sim: RunningSimulator) -> Path:
    """A folder with the example spec; the environment holds every canary."""
    copy_examples(tmp_path)
    (tmp_path / "out").mkdir()
    for name in ("REDIS_API_URL", "REDISCLOUD_ACCESS_KEY", "REDISCLOUD_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SESSIONS_DB_PASSWORD", SESSIONS_PASSWORD)
    monkeypatch.setenv("REPORTS_DB_PASSWORD", REPORTS_PASSWORD)
    monkeypatch.setenv("REDIS_API_KEY", API_KEY)
    monkeypatch.setenv("REDIS_API_SECRET", API_SECRET)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Capture every logger at DEBUG (what -vv shows, and more)."""
    caplog.set_level(logging.DEBUG)
    yield caplog


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every record as a handler would write it, tracebacks included."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in caplog.records)


def check_no_leak(work: Path, caplog: pytest.LogCaptureFixture, outputs: dict[str, str]) -> None:
    found = leaks({**outputs, **files_below(work / "out"), "logs": log_text(caplog)})
    assert found == []


# ---------------------------------------------------------------------- every command


def test_validate(
    work: Path, all_logs: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "-vv", "validate", "examples")
    assert code == 0, err
    check_no_leak(work, all_logs, {"stdout": out, "stderr": err})


@pytest.mark.parametrize("form", ["text", "json", "markdown"])
def test_plan_in_every_format_and_saved(
    form: str,
    work: Path,
    sim: RunningSimulator,
    runtime: Runtime,
    all_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        capsys,
        "-vv",
        "plan",
        "examples",
        "--format",
        form,
        "--out",
        f"out/plan-{form}.json",
        "--api-url",
        sim.url,
        runtime=runtime,
    )
    assert code == 0, err
    assert "(sensitive value changed)" in out or "sensitive" in out
    check_no_leak(work, all_logs, {"stdout": out, "stderr": err})


def test_apply_from_a_saved_plan_with_a_report_then_export(
    work: Path,
    sim: RunningSimulator,
    runtime: Runtime,
    all_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outputs: dict[str, str] = {}
    steps = {
        "plan": ["plan", "examples", "--out", "out/plan.json"],
        "apply": ["apply", "examples", "--plan", "out/plan.json", "--report", "out/report.json"],
        "export": ["export"],
        "export-split": ["export", "--out", "out/exported", "--split"],
        "plan-after": ["plan", "examples", "--detailed-exitcode"],
    }
    for step, argv in steps.items():
        code, out, err = run_cli(capsys, "-vv", *argv, "--api-url", sim.url, runtime=runtime)
        assert code == 0, f"{step}: {err}"
        outputs[f"{step} stdout"], outputs[f"{step} stderr"] = out, err
    report = json.loads((work / "out" / "report.json").read_text())
    assert report["status"] == "applied" and len(report["done"]) == 9
    assert list((work / "out" / "exported").iterdir())
    check_no_leak(work, all_logs, outputs)


# ---------------------------------------------------------------------- error paths


EXCERPT = 200  # error texts are cut to this length: a secret may straddle the cut


def echoed_text(layout: str, headers: Any, body: bytes) -> str:
    """What a careless API (or proxy) echoes back: the credentials and the password."""
    keys = f"x-api-key: {headers.get('x-api-key')}, secret: {headers.get('x-api-secret-key')}"
    password = json.loads(body).get("password", "") if body.strip() else ""
    if layout == "cut-key":  # the API key starts 10 characters before the cut
        return "k" * (EXCERPT - 10) + keys.removeprefix("x-api-key: ")
    if layout == "cut-password":
        return "p" * (EXCERPT - 10) + password
    return f"refused ({keys}) password {password}"


def echo_on(running: RunningSimulator, method: str, status: int, layout: str) -> None:
    """Make the simulator refuse ``method`` requests with ``status``, echoing secrets.

    Writes are refused only when they carry a password, reads always. ``layout`` is
    ``json`` (an error object), ``cut-key``/``cut-password`` (a secret straddling the
    excerpt limit) or ``html`` (an error page whose title holds the key).
    """
    real = running.gateway.api

    def api(verb: str, path: str, query: str, headers: Any, body: bytes, base_url: str) -> Answer:
        if verb != method or (verb != "GET" and b"password" not in body):
            return real(verb, path, query, headers, body, base_url)
        text = echoed_text(layout, headers, body)
        if layout == "html":
            page = f"<html><head><title>Denied: {text}</title></head><body/></html>"
            return Answer(status, page.encode(), {"Content-Type": "text/html"})
        error = {"type": "BAD_REQUEST", "status": f"{status} ERROR", "description": text}
        payload = json.dumps({"error": error}).encode()
        return Answer(status, payload, {"Content-Type": "application/json"})

    running.gateway.api = api  # type: ignore[method-assign]


ECHO_CASES = {
    "update-400": ("PUT", 400, "apply", "json"),
    "create-400": ("POST", 400, "apply", "json"),
    "update-500": ("PUT", 500, "apply", "json"),
    "update-400-cut-through-the-password": ("PUT", 400, "apply", "cut-password"),
    "create-400-html-page": ("POST", 400, "apply", "html"),
    "read-400": ("GET", 400, "plan", "json"),
    "read-401-html-page": ("GET", 401, "plan", "html"),
    "read-400-cut-through-the-key": ("GET", 400, "plan", "cut-key"),
    "export-500": ("GET", 500, "export", "json"),
}


@pytest.mark.parametrize("case", list(ECHO_CASES))
def test_an_api_error_echoing_secrets_leaks_nothing(
    case: str,
    work: Path,
    sim: RunningSimulator,
    runtime: Runtime,
    all_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    method, status, command, layout = ECHO_CASES[case]
    echo_on(sim, method, status, layout)
    argv = {
        "apply": ["apply", "examples", "--yes", "--report", "out/report.json"],
        "plan": ["plan", "examples", "--out", "out/plan.json"],
        "export": ["export", "--out", "out/export.yaml"],
    }[command]
    code, out, err = run_cli(capsys, "-vv", *argv, "--api-url", sim.url, runtime=runtime)
    assert code == 1
    assert f"HTTP {status}" in err.splitlines()[-1]
    assert "(sensitiv" in err  # the echo did reach the message, masked (maybe cut short)
    check_no_leak(work, all_logs, {"stdout": out, "stderr": err})


# ---------------------------------------------------------------------- the real log handler


@pytest.mark.parametrize("verbosity", ["-v", "-vv"])
def test_subprocess_logs_at_every_verbosity_leak_nothing(
    verbosity: str, work: Path, sim: RunningSimulator
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "REDIS_API_URL": sim.url,
    }
    outputs = {}
    for command in (
        ["plan", "examples", "--format", "json", "--out", "out/plan.json"],
        ["export", "--out", "out/export.yaml"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "reconciler", verbosity, *command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        outputs[f"{command[0]} stdout"] = done.stdout
        outputs[f"{command[0]} stderr"] = done.stderr
    if verbosity == "-vv":
        assert " DEBUG " in outputs["plan stderr"]  # the debug log really was on
    found = leaks({**outputs, **files_below(work / "out")})
    assert found == []
