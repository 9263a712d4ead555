"""A saved plan file is self-verifying: ``apply --plan`` runs exactly what was reviewed.

Each test is a reproduction from the adversarial trials: an edited plan file (deletes
removed, then re-sealed), and every kind of drift (live field, spec file, secret, flags),
each refused with a line naming what moved and never a secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from robust_support import copy_examples, run_cli

from reconciler.render.planfile import seal

PASSWORDS = {"SESSIONS_DB_PASSWORD": "canary-sess-7781", "REPORTS_DB_PASSWORD": "canary-rep-9902"}
STALE = "error: plan is stale: p.json no longer matches the spec and the live account; "
STALE += "run plan again and review it\n"


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """examples/ copied to ``tmp_path/spec``; cwd there, passwords set, fast simulator."""
    monkeypatch.chdir(tmp_path)
    target = copy_examples(tmp_path).rename(tmp_path / "spec")
    for name, value in PASSWORDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RECONCILER_SIM_TASK_SECONDS", "0.01")
    monkeypatch.setenv("RECONCILER_SIM_PROVISION_SECONDS", "0.01")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("REDIS_API_URL", raising=False)
    return target


def plan_out(capsys: pytest.CaptureFixture[str], *flags: str) -> dict[str, Any]:
    code, _, err = run_cli(capsys, "plan", "spec/", *flags, "--out", "p.json", "--api-url", "sim:")
    assert code == 0, err
    data: dict[str, Any] = json.loads(Path("p.json").read_text(encoding="utf-8"))
    return data


def apply(capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str, str]:
    return run_cli(capsys, "apply", "spec/", *flags, "--plan", "p.json", "--api-url", "sim:")


def live_names() -> set[str]:
    state = json.loads(Path(".reconciler-sim.json").read_text(encoding="utf-8"))
    return {db["name"] for db in state["databases"]}


def save(data: dict[str, Any], *, reseal: bool) -> None:
    if reseal:
        data = {**data, "fingerprint": seal(data)}
    Path("p.json").write_text(json.dumps(data, indent=2), encoding="utf-8")


@pytest.mark.parametrize("reseal", [False, True], ids=["edited", "edited-and-resealed"])
def test_deletes_removed_from_the_file_are_never_sent(
    spec: Path, capsys: pytest.CaptureFixture[str], reseal: bool
) -> None:
    data = plan_out(capsys, "--force")
    assert [a["name"] for a in data["actions"] if a["action"] == "delete"] == ["legacy-cache"]
    save(
        {**data, "actions": [a for a in data["actions"] if a["action"] != "delete"]}, reseal=reseal
    )
    code, out, err = apply(capsys, "--force")
    assert code == 1
    assert out == ""
    if reseal:
        assert err == STALE + (
            "  - a fresh plan has an action the file lacks: delete 'legacy-cache' "
            "(subscription 2001234, database id 51170942)\n"
        )
    else:
        assert err == (
            "error: plan file p.json was modified after it was written: its content does not "
            "match its fingerprint; run plan --out again and review it\n"
        )
    assert "legacy-cache" in live_names()


def _live_change(spec: Path) -> None:
    state = json.loads(Path(".reconciler-sim.json").read_text(encoding="utf-8"))
    for db in state["databases"]:
        if db["name"] == "sessions":
            db["datasetSizeInGb"] = 7.0
            db["replication"] = not db["replication"]
    Path(".reconciler-sim.json").write_text(json.dumps(state), encoding="utf-8")


def _spec_change(spec: Path) -> None:
    path = spec / "prod" / "sessions.yaml"
    path.write_text(path.read_text().replace("value: 80", "value: 85"), encoding="utf-8")


def _secret_change(spec: Path) -> None:
    import os

    os.environ["SESSIONS_DB_PASSWORD"] = "rotated-canary-4455"


@pytest.mark.parametrize(
    ("drift", "flags", "moved"),
    [
        (
            _live_change,
            (),
            "  - live: subscription 2001234, database 'sessions' (id 51170941): "
            "datasetSizeInGb, memoryLimitInGb, replication changed\n"
            "  - the action update 'sessions' (subscription 2001234, database id 51170941) "
            "differs from a fresh plan's\n",
        ),
        (
            _spec_change,
            (),
            "  - spec file spec/prod/sessions.yaml changed\n"
            "  - the action update 'sessions' (subscription 2001234, database id 51170941) "
            "differs from a fresh plan's\n",
        ),
        (
            _secret_change,
            (),
            "  - a secret changed (a password or a URI with credentials, in the spec or live)\n",
        ),
        (lambda spec: None, ("--force",), "  - --force was not given when planned, given now\n"),
    ],
    ids=["live-field", "spec-file", "secret", "flags"],
)
def test_stale_plan_names_what_moved(
    spec: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    drift: Callable[[Path], None],
    flags: tuple[str, ...],
    moved: str,
) -> None:
    monkeypatch.setenv("SESSIONS_DB_PASSWORD", PASSWORDS["SESSIONS_DB_PASSWORD"])
    plan_out(capsys)
    drift(spec)
    code, out, err = apply(capsys, *flags)
    assert code == 1
    assert out == ""
    assert err == STALE + moved
    for secret in (*PASSWORDS.values(), "rotated-canary-4455"):
        assert secret not in err


def test_an_unchanged_plan_applies_exactly_its_actions(
    spec: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = plan_out(capsys)
    code, out, err = apply(capsys)
    assert code == 0, err
    assert f"Done ({len(data['actions'])})" in out
    assert "legacy-cache" not in live_names()
