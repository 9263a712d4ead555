"""End-to-end tests of the command line against the built-in simulator (``sim:``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from reconciler import __version__
from reconciler.cli import main, parse_duration

ROOT = Path(__file__).resolve().parents[1]
PASSWORDS = {
    "SESSIONS_DB_PASSWORD": "canary-sessions-3141",
    "REPORTS_DB_PASSWORD": "canary-rep-2718",
}


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of examples/ in a temp folder, cwd there, fast simulator timings, passwords set."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for name, value in PASSWORDS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RECONCILER_SIM_TASK_SECONDS", "0.05")
    monkeypatch.setenv("RECONCILER_SIM_PROVISION_SECONDS", "0.05")
    for name in ("REDIS_API_KEY", "REDIS_API_SECRET", "REDISCLOUD_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("REDISCLOUD_SECRET_KEY", raising=False)
    monkeypatch.delenv("REDIS_API_URL", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out == f"reconciler {__version__}\n"
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "validate" in capsys.readouterr().out


def test_python_dash_m_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"reconciler {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        ["plan"],
        ["bogus"],
        ["plan", "x.yaml", "--format", "xml"],
        ["apply", "x.yaml", "--timeout", "soon"],
        ["apply", "x.yaml", "--timeout", "0s"],
    ],
    ids=["no-path", "unknown-command", "bad-format", "bad-timeout", "zero-timeout"],
)
def test_bad_flags_exit_1_not_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 1
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("1h30m", 5400), ("0.5s", 0.5)]
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_validate_examples(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", "examples/")
    assert (code, err) == (0, "")
    assert out == "3 file(s) valid: 2 subscription(s), 8 database(s).\n"


def test_validate_missing_env_names_file_and_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REPORTS_DB_PASSWORD")
    code, _out, err = run(capsys, "validate", "examples/")
    assert code == 1
    lines = err.splitlines()
    assert lines[-1] == "1 problem found."
    assert lines[0].startswith("examples/prod/platform.yaml:")
    assert "REPORTS_DB_PASSWORD" in lines[0]
    assert "Traceback" not in err


def test_plan_against_simulator_shows_mixed_plan(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "plan", "examples/", "--api-url", "sim:", "--detailed-exitcode")
    assert code == 2, err
    assert "+ create reports" in out
    assert "~ update sessions (db 51170941)" in out
    assert "» backup legacy-cache (db 51170942)" in out
    assert "- delete legacy-cache (db 51170942)" in out
    assert "? unmanaged analytics (db 51170950)" in out
    assert "? unmanaged scratch (db 51180009)" in out
    assert "(sensitive value changed)" in out
    assert out.rstrip().endswith(
        "Plan: 2 to create, 3 to update, 1 to upgrade, 1 to import, 1 to delete, 1 backup."
        "  Unmanaged: 2."
    )
    for secret in PASSWORDS.values():
        assert secret not in out + err
    assert (workdir / ".reconciler-sim.json").exists()


def test_plan_json_validates_against_schema(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "plan", "examples/", "--api-url", "sim:", "--format", "json")
    assert code == 0
    document = json.loads(out)
    schema = json.loads((ROOT / "reconciler/schemas/plan.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["formatVersion"] == 1
    assert [a["action"] for a in document["actions"]].count("create") == 2


def test_plan_markdown(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "plan", "examples/", "--api-url", "sim:", "--format", "markdown")
    assert code == 0
    assert out.count("<details>") == out.count("</details>") > 0
    assert len(out) < 65_000


def test_apply_refuses_without_yes_off_a_terminal(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdin, "isatty", lambda: False)
    code, _out, err = run(capsys, "apply", "examples/", "--api-url", "sim:")
    assert code == 1
    assert "refusing to apply without confirmation" in err
    code, _, _ = run(capsys, "plan", "examples/", "--api-url", "sim:", "--detailed-exitcode")
    assert code == 2  # nothing was applied


def test_apply_then_plan_converges(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = workdir / "report.json"
    code, out, err = run(
        capsys, "apply", "examples/", "--api-url", "sim:", "--yes", "--report", str(report)
    )
    assert code == 0, err
    assert "Done (9)" in out
    data = json.loads(report.read_text())
    assert data["status"] == "applied"
    for secret in PASSWORDS.values():
        assert secret not in out + err + report.read_text()
    code, out, _ = run(capsys, "plan", "examples/", "--api-url", "sim:", "--detailed-exitcode")
    assert code == 0
    assert "No changes." in out


def test_apply_saved_plan_and_stale_plan(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_file = workdir / "plan.json"
    code, _, err = run(capsys, "plan", "examples/", "--api-url", "sim:", "--out", str(plan_file))
    assert code == 0
    assert f"Plan saved to {plan_file}." in err
    for secret in PASSWORDS.values():
        assert secret not in plan_file.read_text()
    # A changed secret makes the reviewed plan stale: nothing is applied.
    monkeypatch.setenv("SESSIONS_DB_PASSWORD", "rotated-password-0000")
    code, _, err = run(capsys, "apply", "examples/", "--api-url", "sim:", "--plan", str(plan_file))
    assert code == 1
    assert "plan is stale" in err
    monkeypatch.setenv("SESSIONS_DB_PASSWORD", PASSWORDS["SESSIONS_DB_PASSWORD"])
    # Unchanged: applies with no prompt.
    code, out, err = run(
        capsys, "apply", "examples/", "--api-url", "sim:", "--plan", str(plan_file)
    )
    assert code == 0, err
    assert "Done (9)" in out


def test_refused_plan_exits_1(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sessions = workdir / "examples/prod/sessions.yaml"
    text = sessions.read_text()
    assert "- name: sessions" in text
    sessions.write_text(
        text.replace("- name: sessions", "- name: sessions\n        state: absent", 1)
    )
    code, out, err = run(capsys, "plan", "examples/", "--api-url", "sim:")
    assert code == 1
    assert "preventDestroy" in out
    assert "plan refused" in err


@pytest.mark.parametrize(
    ("url", "env", "message"),
    [
        (
            "https://api.example.test/v1",
            {},
            "error: missing API credentials: set REDIS_API_KEY and REDIS_API_SECRET "
            "(or REDISCLOUD_ACCESS_KEY / REDISCLOUD_SECRET_KEY)",
        ),
        (
            "http://api.example.test/v1",
            {"REDIS_API_KEY": "k", "REDIS_API_SECRET": "s"},
            "error: refusing plain http:// to a non-loopback host",
        ),
        (
            "http://127.0.0.1:1/v1",
            {"REDIS_API_KEY": "k", "REDIS_API_SECRET": "s"},
            "cannot reach http://127.0.0.1:1/v1",
        ),
    ],
    ids=["missing-credentials", "plain-http", "unreachable"],
)
def test_connection_errors_are_one_line(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    env: dict[str, str],
    message: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, _out, err = run(capsys, "plan", "examples/", "--api-url", url)
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_wrong_credentials_are_reported(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    make_simulator: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = make_simulator()  # type: ignore[operator]
    monkeypatch.setenv("REDIS_API_KEY", "wrong")
    monkeypatch.setenv("REDIS_API_SECRET", "wrong-secret")
    code, _, err = run(capsys, "plan", "examples/", "--api-url", running.url)
    assert code == 1
    assert "HTTP 401" in err
    assert err.rstrip().endswith("(check REDIS_API_KEY and REDIS_API_SECRET)")
    assert len(err.strip().splitlines()) == 1
    assert "wrong-secret" not in err


def test_validate_allow_missing_env(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in PASSWORDS:
        monkeypatch.delenv(name)
    code, out, err = run(capsys, "validate", "--allow-missing-env", "examples/")
    assert (code, err) == (0, "")
    assert out == "3 file(s) valid: 2 subscription(s), 8 database(s).\n"
