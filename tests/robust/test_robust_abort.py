"""Robustness: a second Ctrl-C aborts apply at once, and still says what was under way.

Reproduction from the adversarial trials: the second Ctrl-C used to print only
"Interrupted.", saying nothing of the write in flight. Here both Ctrl-Cs arrive while a
write is being sent (a transport raising SIGINT twice from inside ``send``), so the abort
happens mid-request: the report must name that request as sent with its answer unknown,
list what was done and what was not started, and exit 130.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Mapping
from pathlib import Path

import pytest
from robust_support import copy_examples, run_cli

from reconciler.cli import Runtime
from reconciler.cloud import Answer, RequestsTransport


class CtrlCTwiceOnWrite:
    """The real transport, but the ``nth`` write gets two Ctrl-Cs while it is being sent."""

    def __init__(self, nth: int) -> None:
        self.real = RequestsTransport(get_retries=1, backoff_factor=0.0)
        self.nth = nth
        self.writes = 0

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Answer:
        if method != "GET":
            self.writes += 1
            if self.writes == self.nth:
                answer = self.real.send(method, url, headers, body, timeout)
                signal.raise_signal(signal.SIGINT)
                signal.raise_signal(signal.SIGINT)
                return answer  # never reached: the second Ctrl-C raises
        return self.real.send(method, url, headers, body, timeout)

    def close(self) -> None:
        self.real.close()


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SESSIONS_DB_PASSWORD", "sessions-pw-1")
    monkeypatch.setenv("REPORTS_DB_PASSWORD", "reports-pw-2")
    monkeypatch.setenv("RECONCILER_SIM_TASK_SECONDS", "0.01")
    monkeypatch.setenv("RECONCILER_SIM_PROVISION_SECONDS", "0.01")
    monkeypatch.setenv("NO_COLOR", "1")
    return copy_examples(tmp_path)


def test_a_second_ctrl_c_reports_the_request_in_flight(
    spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime = Runtime(transport=lambda: CtrlCTwiceOnWrite(nth=2), backoff_factor=0.0)
    code, out, err = run_cli(
        capsys,
        "apply", "examples/", "--api-url", "sim:", "--yes", "--report", "report.json",
        runtime=runtime,
    )  # fmt: skip
    assert code == 130, err
    assert "create reports" in out  # the progress showed the action under way
    lines = err.lstrip("\n").splitlines()
    assert lines[0] == "Stopping after the current request (Ctrl-C again to abort)…"
    assert lines[1] == "Done (1): upgrade queue (db 51170944)"
    assert lines[2] == (
        "Interrupted: create reports: request in flight (POST /subscriptions/2001234/databases): "
        "sent, answer unknown; re-run plan to see where it stands"
    )
    assert lines[3].startswith("Not started (7): update reports, import reports, ")
    assert lines[4:] == ["Interrupted: aborted at once by a second Ctrl-C."]
    report = json.loads(Path("report.json").read_text(encoding="utf-8"))
    assert report["status"] == "interrupted"
    assert report["interrupted"]["note"].startswith("request in flight (POST ")
    assert len(report["done"]) == 1 and len(report["notStarted"]) == 7
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
