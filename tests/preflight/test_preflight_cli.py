"""End to end: the preflight through ``validate``, ``plan`` and ``apply`` (simulator ``sim:``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main

SPEC = """version: 1
subscriptions:
  - id: 2001234
    databases:
      - name: brand-new
        saslUsername: mc-user
"""
PROBLEM = (
    "spec.yaml:6:9: subscriptions[0].databases[0].saslUsername: saslUsername is only for "
    "memcached databases (protocol: memcached), and this one is a redis database"
)


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("REDIS_API_URL", raising=False)
    (tmp_path / "spec.yaml").write_text(SPEC)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_cannot_know_the_protocol_of_a_database_it_has_not_seen(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(capsys, "validate", "spec.yaml")[0] == 0


@pytest.mark.parametrize("command", [["plan"], ["apply", "--yes"]])
def test_plan_and_apply_refuse_before_any_change(
    command: list[str], workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = workdir / "sim.json"
    code, out, err = run(capsys, *command, "spec.yaml", "--api-url", f"sim:{state}")
    assert (code, out) == (1, "")
    assert err.splitlines() == [PROBLEM, "1 problem found."]
    assert "brand-new" not in state.read_text()  # nothing was created


def test_a_network_free_rule_fails_validate_plan_and_apply_alike(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = SPEC.replace("saslUsername", "protocol: redis\n        saslUsername")
    (workdir / "spec.yaml").write_text(spec)
    expected = [PROBLEM.replace(":6:9:", ":7:9:"), "1 problem found."]
    api = ["--api-url", f"sim:{workdir / 'sim.json'}"]
    for argv in (["validate"], ["plan", *api], ["apply", "--yes", *api]):
        code, out, err = run(capsys, argv[0], "spec.yaml", *argv[1:])
        assert (code, out, err.splitlines()) == (1, "", expected), argv
    assert not (workdir / "sim.json").exists()  # no request was sent: no simulator state
