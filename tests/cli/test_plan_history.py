"""``plan`` with the system-log history: when it is read, how its failures show, its flags.

The account is the simulator's; a scripted fake (tests/fake_api.py) stands in front of it
and answers ``GET /logs`` and ``GET /`` itself, passing every other request through, so
each test decides what the log says and counts what was asked.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from fake_api import FakeApi, Reply, Seen

from reconciler.cli import main
from reconciler.simulator import RunningSimulator

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = 51170941
LOGS = "/logs"


def log_entry(entry_id: int, **fields: Any) -> dict[str, Any]:
    entry = {
        "id": entry_id,
        "time": "2026-11-20T14:02:00Z",
        "originator": "alice@example.com",
        "resource": "staging-sessions",
        "type": "Database",
        "description": "Database 'staging-sessions' eviction policy changed",
    }
    entry.update(fields)
    return entry


class Front:
    """The fake in front of a simulator: scripted ``/logs`` and ``/``, the rest passed on."""

    def __init__(self, running: RunningSimulator, scripted: Mapping[str, Reply]) -> None:
        self.running = running
        self.scripted = scripted
        self.session = requests.Session()
        self.api = FakeApi(self.answer)

    def answer(self, seen: Seen) -> Reply:
        if seen.route in self.scripted:
            return self.scripted[seen.route]
        got = self.session.request(
            seen.method,
            self.running.url + seen.api_path,
            data=seen.body or None,
            headers={k: v for k, v in seen.headers.items() if k.lower() != "host"},
            timeout=10,
        )
        return Reply(got.status_code, got.content, content_type=got.headers.get("Content-Type"))

    def routes(self) -> list[str]:
        return [seen.route for seen in self.api.seen]

    def close(self) -> None:
        self.api.close()
        self.session.close()


@pytest.fixture
def front(
    make_simulator: Callable[..., RunningSimulator],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[..., Front]]:
    """Return a factory of fronts over the example account; cwd is a copy of examples/."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("REDIS_API_KEY_NAME", raising=False)
    made: list[Front] = []

    def factory(**scripted: Reply) -> Front:
        running = make_simulator()
        monkeypatch.setenv("REDIS_API_KEY", running.api_key)
        monkeypatch.setenv("REDIS_API_SECRET", running.api_secret)
        made.append(
            Front(running, {"/logs" if k == "logs" else "/": v for k, v in scripted.items()})
        )
        return made[-1]

    yield factory
    for one in made:
        one.close()


def plan(
    capsys: pytest.CaptureFixture[str], api: Front, *argv: str, spec: str = "examples/staging.yaml"
) -> tuple[int, str, str]:
    code = main(["plan", spec, "--api-url", api.api.url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_history_is_shown_under_the_drifted_database(
    front: Callable[..., Front], capsys: pytest.CaptureFixture[str]
) -> None:
    api = front(logs=Reply(body={"entries": [log_entry(7)]}))
    code, out, err = plan(capsys, api, "--detailed-exitcode")
    assert code == 2, err
    assert (
        "  ~ update staging-sessions (db 51180001)\n"
        "      dataEvictionPolicy    allkeys-lru → volatile-lru\n"
        "      changed 2026-11-20 14:02 UTC by alice@example.com (console): "
        "\"Database 'staging-sessions' eviction policy changed\"\n"
    ) in out
    assert api.routes().count(LOGS) == 1


def test_a_plan_without_changes_to_existing_databases_reads_no_log(
    front: Callable[..., Front], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    spec = tmp_path / "examples" / "only-create.yaml"
    spec.write_text(
        "version: 1\nsubscriptions:\n  - id: 2005678\n    databases:\n"
        "      - name: brand-new\n        datasetSizeInGb: 0.5\n"
    )
    api = front(logs=Reply(body={"entries": [log_entry(7)]}))
    code, out, err = plan(capsys, api, spec=str(spec))
    assert code == 0, err
    assert "+ create brand-new" in out
    assert LOGS not in api.routes()
    assert "/" not in api.routes()


def test_no_history_reads_no_log(
    front: Callable[..., Front], capsys: pytest.CaptureFixture[str]
) -> None:
    api = front(logs=Reply(body={"entries": [log_entry(7)]}))
    code, out, _ = plan(capsys, api, "--no-history")
    assert code == 0
    assert "changed 2026" not in out
    assert LOGS not in api.routes()


@pytest.mark.parametrize(
    ("status", "note"),
    [
        (403, "history unavailable: the API key may not read the system log (HTTP 403)"),
        (412, "history unavailable: the system log is not enabled for this account (HTTP 412)"),
    ],
)
@pytest.mark.parametrize("detailed", [True, False])
def test_a_refused_log_is_one_note_and_the_usual_exit_code(
    front: Callable[..., Front],
    capsys: pytest.CaptureFixture[str],
    status: int,
    note: str,
    detailed: bool,
) -> None:
    api = front(logs=Reply(status, {"error": {"type": "FORBIDDEN"}}))
    code, out, err = plan(capsys, api, *(["--detailed-exitcode"] if detailed else []))
    assert code == (2 if detailed else 0), err
    assert out.count("history unavailable") == 1
    assert f"Note: {note}\nPlan: 1 to create, 1 to update" in out
    assert "Traceback" not in err and "history" not in err
    assert api.routes().count(LOGS) == 1


def test_a_refused_log_is_noted_in_json_and_markdown(
    front: Callable[..., Front], capsys: pytest.CaptureFixture[str]
) -> None:
    api = front(logs=Reply(403, {}))
    _, out, _ = plan(capsys, api, "--format", "json")
    assert json.loads(out)["historyNotes"] == [
        "history unavailable: the API key may not read the system log (HTTP 403)"
    ]
    _, out, _ = plan(capsys, api, "--format", "markdown")
    assert (
        "**History**: _history unavailable: the API key may not read the system log "
        "(HTTP 403)_" in out
    )


@pytest.mark.parametrize(("pages", "requests_made"), [([], 3), (["--history-pages", "5"], 5)])
def test_history_pages_bounds_the_requests(
    front: Callable[..., Front],
    capsys: pytest.CaptureFixture[str],
    pages: list[str],
    requests_made: int,
) -> None:
    full_page = {"entries": [log_entry(1000 - i, resource="x") for i in range(100)]}
    api = front(logs=Reply(body=full_page))
    code, _, err = plan(capsys, api, *pages)
    assert code == 0, err
    assert api.routes().count(LOGS) == requests_made


@pytest.mark.parametrize("value", ["0", "21", "-1", "two", "1.5"])
def test_history_pages_must_be_from_1_to_20(capsys: pytest.CaptureFixture[str], value: str) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["plan", "x.yaml", "--history-pages", value])
    assert exc.value.code == 1
    assert (
        f"argument --history-pages: invalid page count {value!r}: a whole number from 1 to 20"
        in capsys.readouterr().err
    )


def test_the_tools_own_last_change_ends_the_history(
    front: Callable[..., Front], capsys: pytest.CaptureFixture[str]
) -> None:
    entries = [
        log_entry(9, originator="carol@example.com"),
        log_entry(8, originator="ci@example.com", apiKeyName="reconciler-ci"),
        log_entry(7, originator="dave@example.com"),
    ]
    account = Reply(body={"account": {"key": {"name": "reconciler-ci"}}})
    api = front(logs=Reply(body={"entries": entries}), account=account)
    _, out, _ = plan(capsys, api)
    assert "by carol@example.com (console)" in out
    assert "ci@example.com" not in out and "dave@example.com" not in out
    assert api.routes().count("/") == 1


def test_the_key_name_may_come_from_the_environment(
    front: Callable[..., Front],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries = [
        log_entry(9, originator="carol@example.com", apiKeyName="other-key"),
        log_entry(8, originator="ci@example.com", apiKeyName="reconciler-ci"),
        log_entry(7, originator="dave@example.com"),
    ]
    monkeypatch.setenv("REDIS_API_KEY_NAME", "reconciler-ci")
    api = front(logs=Reply(body={"entries": entries}))
    _, out, _ = plan(capsys, api)
    assert "by carol@example.com (API key other-key)" in out
    assert "dave@example.com" not in out
    assert "/" not in api.routes()


def test_history_leaves_the_plans_fingerprint_alone(
    front: Callable[..., Front], capsys: pytest.CaptureFixture[str]
) -> None:
    api = front(logs=Reply(body={"entries": [log_entry(7)]}))
    _, with_history, _ = plan(capsys, api, "--format", "json")
    _, without, _ = plan(capsys, api, "--format", "json", "--no-history")
    assert "history" in json.loads(with_history)["actions"][0]
    assert json.loads(with_history)["fingerprint"] == json.loads(without)["fingerprint"]


def test_a_saved_plan_with_history_applies_and_show_prints_it(
    front: Callable[..., Front], capsys: pytest.CaptureFixture[str]
) -> None:
    api = front(logs=Reply(body={"entries": [log_entry(7)]}))
    code, _, err = plan(capsys, api, "--out", "plan.json")
    assert code == 0, err
    assert main(["show", "plan.json"]) == 0
    assert "by alice@example.com (console)" in capsys.readouterr().out
    api.scripted = {"/logs": Reply(body={"entries": [log_entry(8), log_entry(7)]})}
    code = main(["apply", "examples/staging.yaml", "--plan", "plan.json", "--api-url", api.api.url])
    out, err = capsys.readouterr()
    assert code == 0, err + out
    assert "stale" not in err
