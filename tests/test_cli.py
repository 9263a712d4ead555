"""End-to-end tests of the command line against the built-in simulator (``sim:``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from reconciler import __version__, errors
from reconciler.cli import Runtime, describe, main, parse_args, parse_duration
from reconciler.simulator import RunningSimulator

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


def run(
    capsys: pytest.CaptureFixture[str], *argv: str, runtime: Runtime | None = None
) -> tuple[int, str, str]:
    """Run the CLI in-process (on ``runtime``); return (exit code, stdout, stderr)."""
    code = main(list(argv), runtime)
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
    code, _out, err = run(capsys, "validate", "--require-env", "examples/")
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
    plan_file = workdir / "plan.json"
    code, out, err = run(capsys, "plan", "examples/", "--api-url", "sim:", "--out", str(plan_file))
    assert code == 1
    assert "preventDestroy" in out
    assert err == "error: plan refused; nothing will be applied (see 'Refused' above).\n"
    assert not plan_file.exists()
    code, out, err = run(capsys, "apply", "examples/", "--api-url", "sim:", "--yes")
    assert code == 1
    assert "preventDestroy" in out
    assert err == "error: plan refused; nothing was applied (see 'Refused' above)\n"
    code, _, _ = run(capsys, "plan", "examples/", "--api-url", "sim:", "--detailed-exitcode")
    assert code == 1  # still refused: nothing was applied


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
    # no back-off: urllib3 would wait 1, 2, 4 s between the GET retries to port 1
    code, _out, err = run(
        capsys, "plan", "examples/", "--api-url", url, runtime=Runtime(backoff_factor=0.0)
    )
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_wrong_credentials_are_reported(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    make_simulator: Callable[..., RunningSimulator],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = make_simulator()
    monkeypatch.setenv("REDIS_API_KEY", "wrong")
    monkeypatch.setenv("REDIS_API_SECRET", "wrong-secret")
    code, _, err = run(capsys, "plan", "examples/", "--api-url", running.url)
    assert code == 1
    assert "HTTP 401" in err
    assert err.rstrip().endswith("(check REDIS_API_KEY and REDIS_API_SECRET)")
    assert len(err.strip().splitlines()) == 1
    assert "wrong-secret" not in err


@pytest.mark.parametrize("flags", [(), ("--allow-missing-env",)])
def test_validate_notes_unset_variables(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: tuple[str, ...],
) -> None:
    monkeypatch.delenv("SESSIONS_DB_PASSWORD")
    code, out, err = run(capsys, "validate", *flags, "examples/")
    assert (code, out) == (0, "3 file(s) valid: 2 subscription(s), 8 database(s).\n")
    assert err == (
        "note: examples/prod/sessions.yaml:30:19: subscriptions[0].databases[0].password: "
        "environment variable SESSIONS_DB_PASSWORD is not set (plan and apply need it)\n"
    )


def test_validate_require_env_makes_unset_variables_errors(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SESSIONS_DB_PASSWORD")
    code, out, err = run(capsys, "validate", "--require-env", "examples/")
    assert (code, out) == (1, "")
    assert err == (
        "examples/prod/sessions.yaml:30:19: subscriptions[0].databases[0].password: "
        "environment variable SESSIONS_DB_PASSWORD is not set\n1 problem found.\n"
    )


def test_validate_still_reports_other_problems_without_secrets(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SESSIONS_DB_PASSWORD")
    spec = workdir / "examples" / "prod" / "sessions.yaml"
    spec.write_text(spec.read_text("utf-8").replace("name:", "nmae:", 1), "utf-8")
    code, _, err = run(capsys, "validate", "examples/")
    assert code == 1
    assert "unknown field 'nmae'" in err
    assert "SESSIONS_DB_PASSWORD" not in err


@pytest.mark.parametrize("command", [("plan",), ("apply", "--yes")])
def test_plan_and_apply_require_every_variable(
    workdir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: tuple[str, ...],
) -> None:
    monkeypatch.delenv("SESSIONS_DB_PASSWORD")
    code, _, err = run(capsys, *command, "examples/", "--api-url", "sim:")
    assert code == 1
    assert "environment variable SESSIONS_DB_PASSWORD is not set\n1 problem found.\n" in err


def test_apply_runs_on_the_runtime_it_is_given(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)  # the sim: simulator keeps real time

    report = workdir / "report.json"
    runtime = Runtime(sleep=sleep, wall_clock=lambda: 1_800_000_000.0, read_concurrency=1)
    argv = ("apply", "examples/", "--api-url", "sim:", "--yes", "--report", str(report))
    code, _, err = run(capsys, *argv, runtime=runtime)
    assert code == 0, err
    assert slept  # the executor waited for tasks with the runtime's sleep
    data = json.loads(report.read_text())
    assert (data["startedAt"], data["finishedAt"]) == ("2027-01-15T08:00:00Z",) * 2


# ---------------------------------------------------------------------- errors as the contract


def error_classes(root: type[errors.ReconcilerError]) -> list[type[errors.ReconcilerError]]:
    """Return ``root`` and every class below it."""
    below = [c for sub in root.__subclasses__() for c in error_classes(sub)]
    return [root, *below]


@pytest.mark.parametrize("cls", error_classes(errors.ReconcilerError), ids=lambda c: c.__name__)
def test_every_error_carries_its_exit_code(cls: type[errors.ReconcilerError]) -> None:
    expected = 130 if cls is errors.ApplyInterruptedError else 1
    assert cls.exit_code == expected
    assert cls.__name__ in (errors.__doc__ or "")  # drawn in the tree


class FakeReport:
    def summary_text(self) -> str:
        return "Done (1): update sessions (db 1)\nFailed: create reports: boom"


def spec_problem(line: int) -> errors.SpecProblem:
    return errors.SpecProblem("a.yaml", line, 3, "subscriptions[0].id", "bad id")


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (
            errors.SpecError([spec_problem(1)]),
            "a.yaml:1:3: subscriptions[0].id: bad id\n1 problem found.",
        ),
        (
            errors.SpecError([spec_problem(1), spec_problem(4)]),
            "a.yaml:1:3: subscriptions[0].id: bad id\na.yaml:4:3: subscriptions[0].id: bad id\n"
            "2 problems found.",
        ),
        (
            errors.AuthenticationError("GET", "/subscriptions", 401, "", "Unauthorized"),
            "error: GET /subscriptions: HTTP 401: Unauthorized "
            "(check REDIS_API_KEY and REDIS_API_SECRET)",
        ),
        (
            errors.NotFoundError("GET", "/subscriptions/1", 404),
            "error: GET /subscriptions/1: HTTP 404",
        ),
        (
            errors.ApplyFailedError("create reports: boom", FakeReport()),
            "Done (1): update sessions (db 1)\nFailed: create reports: boom\n"
            "error: create reports: boom",
        ),
        (
            errors.ApplyInterruptedError(FakeReport()),
            "Done (1): update sessions (db 1)\nFailed: create reports: boom\n"
            "Interrupted: stopped after the current request.",
        ),
        (
            errors.PlanRefusedError(["sessions: preventDestroy"]),
            "error: plan refused; nothing will be applied (see 'Refused' above).",
        ),
        (
            errors.PlanRefusedError(["sessions: preventDestroy"], command="apply"),
            "error: plan refused; nothing was applied (see 'Refused' above)",
        ),
        (
            errors.MalformedPlanError("no database id for 'reports'"),
            "error: no database id for 'reports'",
        ),
        (errors.DumpError("a secret cannot be written"), "error: a secret cannot be written"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "",
)
def test_describe_shows_each_error_as_stderr_does(
    error: errors.ReconcilerError, shown: str
) -> None:
    assert describe(error) == shown


def test_refusal_reasons_are_kept_as_text() -> None:
    class Refusal:
        def __str__(self) -> str:
            return "sessions: preventDestroy is set"

    refused = errors.PlanRefusedError([Refusal()])
    assert refused.reasons == ("sessions: preventDestroy is set",)


def test_dump_error_is_still_a_value_error() -> None:
    assert issubclass(errors.DumpError, ValueError)


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
@pytest.mark.parametrize("output", ["text", "markdown"])
def test_plan_output_falls_back_on_narrow_encodings(
    workdir: Path, encoding: str, output: str
) -> None:
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    argv = ["plan", "examples/", "--api-url", "sim:", "--format", output]
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *argv], capture_output=True, env=env, check=False
    )
    assert (done.returncode, done.stderr) == (0, b"")
    text = done.stdout.decode(encoding)  # every byte is valid in the terminal's encoding
    assert "redisVersion 7.2 -> 7.4" in text
    assert "→" not in text
    if encoding == "ascii":
        assert 'Subscription 2001234 "prod" -- 5 databases live' in text.replace("&quot;", '"')


def test_plan_output_keeps_symbols_on_utf8(workdir: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "examples/", "--api-url", "sim:"],
        capture_output=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0
    assert "redisVersion 7.2 → 7.4" in done.stdout.decode("utf-8")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("1 → 2", "1 -> 2"),
        ("a — b…", "a -- b..."),
        ("» backup", ">> backup"),
        ("size ≥ 1 ≤ 2", "size >= 1 <= 2"),
        ("naïve ☃", "na?ve ?"),
        ("plain", "plain"),
    ],
)
def test_ascii_fallback(text: str, shown: str) -> None:
    from reconciler.cli.encoding import ascii_fallback

    assert ascii_fallback(text) == shown


def test_error_handler_writes_fallbacks_only_for_what_the_encoding_lacks() -> None:
    from reconciler.cli.encoding import ERROR_HANDLER

    assert "a → b — c".encode("cp1252", ERROR_HANDLER) == "a -> b — c".encode("cp1252")
    assert "a → b — c".encode("ascii", ERROR_HANDLER) == b"a -> b -- c"


# --------------------------------------------------------------------------- state files


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ("export", "--api-url", "sim:/nonexistent/x.json"),
            "error: simulator state folder does not exist: /nonexistent "
            "(in sim:/nonexistent/x.json)\n",
        ),
        (
            ("plan", "examples/", "--api-url", "sim:/nonexistent/x.json"),
            "error: simulator state folder does not exist: /nonexistent "
            "(in sim:/nonexistent/x.json)\n",
        ),
        (
            ("simulator", "--state", "/nonexistent/x.json", "--port", "0"),
            "error: --state: folder does not exist: /nonexistent\n",
        ),
    ],
)
def test_missing_state_folder_is_a_one_line_error(
    workdir: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], message: str
) -> None:
    assert run(capsys, *argv) == (1, "", message)


# --------------------------------------------------------------------------- global flags


@pytest.mark.parametrize(
    "argv",
    [
        ("--api-url", "sim:", "plan", "examples/"),
        ("plan", "examples/", "--api-url", "sim:"),
        ("plan", "--api-url", "sim:", "examples/"),
    ],
)
def test_api_url_before_or_after_the_command(
    workdir: Path, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert out.endswith(
        "Plan: 2 to create, 3 to update, 1 to upgrade, 1 to import, 1 to delete, 1 backup."
        "  Unmanaged: 2.\n"
    )


@pytest.mark.parametrize(
    ("argv", "verbose", "no_color"),
    [
        (("validate", "x"), 0, False),
        (("-v", "validate", "x"), 1, False),
        (("validate", "x", "-vv"), 2, False),
        (("-v", "validate", "-v", "x"), 2, False),
        (("--no-color", "plan", "x"), 0, True),
        (("plan", "x", "--no-color"), 0, True),
    ],
)
def test_global_flags_merge(argv: tuple[str, ...], verbose: int, no_color: bool) -> None:
    args = parse_args(argv)
    assert (args.verbose, args.no_color) == (verbose, no_color)
    assert "command_verbose" not in vars(args)


def test_no_color_wins_over_force_color(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, coloured, _ = run(capsys, "plan", "examples/", "--api-url", "sim:")
    assert "\x1b[" in coloured
    for argv in (("--no-color", "plan", "examples/"), ("plan", "examples/", "--no-color")):
        code, out, _ = run(capsys, *argv, "--api-url", "sim:")
        assert code == 0
        assert "\x1b[" not in out


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (("plan", "examples/", "--for"), "usage: reconciler plan [-h]"),
        (("plan", "examples/", "--bogus"), "usage: reconciler plan [-h]"),
        (("validate", "examples/", "--require"), "usage: reconciler validate [-h]"),
        (("--bogus", "validate", "examples/"), "usage: reconciler [-h]"),
    ],
)
def test_abbreviations_and_unknown_flags_show_the_command_usage(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], usage: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(usage)
    unknown = next(a for a in argv if a.startswith("--"))
    assert err.endswith(f"error: unrecognized arguments: {unknown}\n")


def test_an_abbreviated_global_flag_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--api", "sim:", "plan", "examples/"])
    assert exc.value.code == 1
    assert capsys.readouterr().err.endswith(
        "reconciler: error: argument COMMAND: invalid choice: 'sim:' (choose from 'validate', "
        "'plan', 'apply', 'export', 'simulator', 'show', 'schema')\n"
    )


# --------------------------------------------------------------------------- show, schema


def test_show_renders_a_saved_plan_as_plan_printed_it(
    workdir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for output in ("text", "markdown"):
        code, printed, _ = run(
            capsys, "plan", "examples/", "--api-url", "sim:", "--format", output, "--out", "p.json"
        )
        assert code == 0
        monkeypatch.setenv("REDIS_API_URL", "http://127.0.0.1:9")  # show must not connect
        assert run(capsys, "show", "p.json", "--format", output) == (0, printed, "")
        monkeypatch.delenv("REDIS_API_URL")


def test_show_json_is_the_plan_without_salt(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "plan", "examples/", "--api-url", "sim:", "--out", "p.json")
    _, printed, _ = run(capsys, "plan", "examples/", "--api-url", "sim:", "--format", "json")
    code, out, err = run(capsys, "show", "--format", "json", "p.json")
    assert (code, err) == (0, "")
    saved = json.loads((workdir / "p.json").read_text("utf-8"))
    file_only = ("salt", "specPaths", "basis", "filters")
    assert json.loads(out) == {k: v for k, v in saved.items() if k not in file_only}
    assert set(json.loads(out)) == set(json.loads(printed))
    assert set(file_only) <= set(saved)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "error: plan file not found: p.json\n"),
        (
            "[]",
            "error: p.json is not a reconciler plan file (the top level is not a JSON "
            "object); write one with: reconciler plan --out FILE\n",
        ),
    ],
)
def test_show_refuses_what_is_no_plan_file(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if content is not None:
        (tmp_path / "p.json").write_text(content, "utf-8")
    assert run(capsys, "show", "p.json") == (1, "", message)


def test_show_refuses_an_edited_plan_file(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "plan", "examples/", "--api-url", "sim:", "--out", "p.json")
    saved = json.loads((workdir / "p.json").read_text("utf-8"))
    del saved["actions"][0]["request"]
    (workdir / "p.json").write_text(json.dumps(saved), "utf-8")
    assert run(capsys, "show", "p.json") == (
        1,
        "",
        "error: plan file p.json was modified after it was written: its content does not "
        "match its fingerprint; run plan --out again and review it\n",
    )


def test_a_plan_of_the_wrong_shape_is_refused_before_rendering(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from reconciler.cli.show import check_plan_shape

    run(capsys, "plan", "examples/", "--api-url", "sim:", "--out", "p.json")
    saved = json.loads((workdir / "p.json").read_text("utf-8"))
    check_plan_shape("p.json", saved)  # a plan file as written passes
    del saved["actions"][0]["request"]
    with pytest.raises(errors.UsageError) as exc:
        check_plan_shape("p.json", saved)
    assert str(exc.value) == (
        "p.json is not a valid plan file: at actions/0: 'request' is a required property"
    )


@pytest.mark.parametrize(
    ("argv", "file", "schema_id"),
    [
        ((), "reconciler.schema.json", "urn:redis-cloud-reconciler:schema:spec:1"),
        (("--plan",), "plan.schema.json", "urn:redis-cloud-reconciler:schema:plan:1"),
    ],
)
def test_schema_prints_the_packaged_schema(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], file: str, schema_id: str
) -> None:
    code, out, err = run(capsys, "schema", *argv)
    assert (code, err) == (0, "")
    assert out == (ROOT / "reconciler" / "schemas" / file).read_text("utf-8")
    schema = json.loads(out)
    assert schema["$id"] == schema_id
    jsonschema.Draft202012Validator.check_schema(schema)


# --------------------------------------------------------------------------- folder walk


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "subscriptons:\n  - id: 1\n",
            "examples/typo.yaml:1:1: subscriptons: unknown top-level key 'subscriptons' (did you "
            "mean 'subscriptions'?); a YAML file without 'version' or 'subscriptions' is not "
            "read as a spec",
        ),
        (
            "x: 1\nVersoin: 1\n",
            "examples/typo.yaml:2:1: Versoin: unknown top-level key 'Versoin' (did you mean "
            "'version'?); a YAML file without 'version' or 'subscriptions' is not read as a spec",
        ),
    ],
)
def test_folder_walk_reports_a_misspelt_top_level_key(
    workdir: Path, capsys: pytest.CaptureFixture[str], content: str, expected: str
) -> None:
    (workdir / "examples" / "typo.yaml").write_text(content, "utf-8")
    assert run(capsys, "validate", "examples/") == (1, "", f"{expected}\n1 problem found.\n")


def test_folder_walk_skips_far_keys_and_lists_skipped_files_with_v(workdir: Path) -> None:
    (workdir / "examples" / "other.yaml").write_text("versions_of_things: 1\n", "utf-8")
    (workdir / "examples" / ".hidden").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "-v", "validate", "examples/"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (
        0,
        "3 file(s) valid: 2 subscription(s), 8 database(s).\n",
    )
    logged = [line.split(": ", 1)[1] for line in done.stderr.splitlines() if "skipping" in line]
    no_marker = "no 'version' or 'subscriptions' at the top"
    assert logged == [
        "skipping examples/.hidden: hidden folder",
        "skipping examples/ci/gitlab/.gitlab-ci.yml: hidden file",
        f"skipping examples/ci/github/apply-on-merge.yml: {no_marker}",
        f"skipping examples/ci/github/drift-check.yml: {no_marker}",
        f"skipping examples/ci/github/plan-comment.yml: {no_marker}",
        f"skipping examples/other.yaml: {no_marker}",
        f"skipping examples/simulator-seed.yaml: {no_marker}",
    ]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("", "", 0),
        ("version", "version", 0),
        ("versoin", "version", 2),
        ("subscriptons", "subscriptions", 1),
        ("abc", "", 3),
        ("kitten", "sitting", 3),
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    from reconciler.spec.loader import edit_distance

    assert edit_distance(a, b) == distance == edit_distance(b, a)


def test_an_unreachable_api_is_one_line_without_library_warnings(workdir: Path) -> None:
    """urllib3's "Retrying …" warnings show only from -v on; the error line says it all."""
    env = {**os.environ, "REDIS_API_KEY": "k", "REDIS_API_SECRET": "s"}
    argv = [sys.executable, "-m", "reconciler", "plan", "examples/staging.yaml"]
    quiet = subprocess.run(
        [*argv, "--api-url", "http://127.0.0.1:1/v1"], capture_output=True, text=True, env=env
    )
    assert quiet.returncode == 1
    assert quiet.stderr.splitlines() == [
        "error: GET /subscriptions/2005678: cannot reach http://127.0.0.1:1/v1: connection refused"
    ]


def test_a_base_url_without_v1_is_named_as_the_problem(
    workdir: Path,
    make_simulator: Callable[..., RunningSimulator],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    running = make_simulator()
    monkeypatch.setenv("REDIS_API_KEY", running.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", running.api_secret)
    root = running.url.removesuffix("/v1")
    code, out, err = run(capsys, "plan", "examples/staging.yaml", "--api-url", root)
    assert (code, out) == (1, "")
    assert err.splitlines()[-1].endswith(
        f"this does not look like the Redis Cloud API v1 at {root}: its base URL ends in /v1 "
        "(e.g. https://api.redislabs.com/v1)"
    )


def test_subscription_filter_plans_only_that_subscription(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    both = run(capsys, "plan", "examples/", "--api-url", "sim:")
    assert (both[0], "2001234" in both[1], "2005678" in both[1]) == (0, True, True)
    code, out, _ = run(
        capsys, "plan", "examples/", "--subscription", "2005678", "--api-url", "sim:"
    )
    assert code == 0
    assert "2005678" in out and "2001234" not in out


def test_subscription_filter_names_an_unknown_id(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "plan", "examples/", "--subscription", "7", "--api-url", "sim:")
    assert (code, out, err) == (1, "", "error: --subscription 7: in no spec file given\n")


def test_a_saved_plan_records_its_subscription_filter(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = ["--subscription", "2005678", "--api-url", "sim:"]
    assert run(capsys, "plan", "examples/", "--out", "p.json", *sub)[0] == 0
    saved = json.loads((workdir / "p.json").read_text())
    assert saved["filters"] == {"force": False, "subscriptions": [2005678]}
    code, _, err = run(capsys, "apply", "examples/", "--plan", "p.json", "--api-url", "sim:")
    assert code == 1
    assert err.startswith("error: plan is stale")
    code, out, _ = run(capsys, "apply", "examples/", "--plan", "p.json", *sub)
    assert code == 0
    assert "2001234" not in out
