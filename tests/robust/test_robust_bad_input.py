"""Robustness: malformed specs and flags end with exit 1 and a clear message, never a write.

Every case runs the CLI in-process (``validate``, ``plan`` and ``apply --yes`` for spec
cases) against one simulator and checks: exit code 1 (never 0, never 2), the exact message
expected, no traceback and no "internal error" anywhere, and no write request ever reaching
the API (the simulator's statistics show GETs only). A few cases also run as a subprocess
to prove no traceback escapes the real entry point.

Groups:

* hand-written malformed specs (YAML bombs, deep nesting, binary junk, bad env refs …);
* every ``bad-*`` case of tests/specs through ``plan`` and ``apply`` (their ``.expected``);
* a wrong type at every node of a valid document (the error names exactly that node);
* bad flags and arguments (unknown flags, bad ``--timeout``, ``--format``, ``--plan`` files,
  URLs, missing credentials);
* a property-based fuzz (hypothesis) mutating a valid document: either it stays valid and
  validates clean, or every problem is located ``file:line:col: …``.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import robust_support
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from robust_support import PROJECT, copy_examples

from reconciler import __version__
from reconciler.simulator import RunningSimulator

SPECS = Path(__file__).resolve().parents[1] / "specs"
WRITES = ("POST", "PUT", "DELETE", "PATCH")
FUZZ_EXAMPLES = int(os.environ.get("ROBUST_FUZZ_EXAMPLES", "200"))
ENV = {
    "SESSIONS_DB_PASSWORD": "bad-input-sessions-password",
    "REPORTS_DB_PASSWORD": "bad-input-reports-password",
}


# ---------------------------------------------------------------------- running the CLI


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Result:
    """Run ``reconciler ARGV`` in-process; argparse's exits count as exit codes."""
    return Result(*robust_support.run_cli(capsys, *argv))


def check_clean_failure(result: Result) -> None:
    """Exit 1, something said on stderr, and no traceback or internal error anywhere."""
    assert result.code == 1, result.err + result.out
    assert result.err.strip(), "a failure must say why"
    for text in (result.out, result.err):
        assert "Traceback" not in text
        assert "internal error" not in text


@pytest.fixture(scope="module")
def sim(make_module_simulator: Callable[..., RunningSimulator]) -> RunningSimulator:
    """One simulator for the module; it must never see a write (see ``no_writes``)."""
    return make_module_simulator()


@pytest.fixture
def api_env(sim: RunningSimulator, monkeypatch: pytest.MonkeyPatch) -> RunningSimulator:
    """Credentials and spec variables for ``sim``; no API URL from the environment."""
    for name in ("REDIS_API_URL", "REDISCLOUD_ACCESS_KEY", "REDISCLOUD_SECRET_KEY", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_API_KEY", sim.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", sim.api_secret)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return sim


@pytest.fixture(autouse=True)
def no_writes(sim: RunningSimulator) -> Iterator[None]:
    """Fail the very test that let a write through."""
    yield
    writes = {m: n for m, n in sim.stats()["methods"].items() if m in WRITES}
    assert writes == {}, f"writes reached the API: {writes}"


def spec_commands(spec: str, url: str) -> dict[str, list[str]]:
    return {
        "validate": ["validate", "--require-env", spec],
        "plan": ["plan", spec, "--api-url", url],
        "apply": ["apply", spec, "--yes", "--api-url", url],
    }


# ---------------------------------------------------------------------- hand-written specs


def billion_laughs(levels: int = 9) -> str:
    lines = ["version: 1", 'lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]")
    lines.append("subscriptions: []")
    return "\n".join(lines) + "\n"


def deep(opening: str, closing: str, depth: int = 200) -> str:
    return "version: 1\nsubscriptions: " + opening * depth + closing * depth + "\n"


def valid_head(database: str) -> str:
    """A valid document whose one database is ``database`` (YAML, indented 6)."""
    return "version: 1\nsubscriptions:\n  - id: 2001234\n    databases:\n" + database


BINARY = bytes(random.Random(7).randrange(256) for _ in range(2048))

SPEC_CASES: dict[str, tuple[str | bytes, str]] = {
    # id: (file content, one exact problem line)
    "billion-laughs": (
        billion_laughs(),
        "spec.yaml:7:14: aliases expand to more than 100000 nodes; refusing to read further "
        "(an alias bomb?)",
    ),
    "deep-nested-lists": (
        deep("[", "]"),
        "spec.yaml:2:65: nesting deeper than 50 levels",
    ),
    "deep-nested-maps": (
        deep("{a: ", "}"),
        "spec.yaml:2:212: nesting deeper than 50 levels",
    ),
    "binary-junk": (
        BINARY,
        "spec.yaml:1:1: not UTF-8 text (byte 0xa5)",
    ),
    "nul-bytes": (
        b"version: 1\x00\nsubscriptions: []\n",
        "spec.yaml:1:11: invalid YAML: control characters are not allowed",
    ),
    "latin-1": (
        "version: 1\nsubscriptions:\n  - id: 1\n    # caf\xe9\n".encode("latin-1"),
        "spec.yaml:4:10: not UTF-8 text (byte 0xe9)",
    ),
    "utf-16": (
        "version: 1\nsubscriptions: []\n".encode("utf-16"),
        "spec.yaml:1:1: not UTF-8 text (byte 0xff)",
    ),
    "empty": (
        "",
        "spec.yaml: file is empty",
    ),
    "whitespace-only": (
        "  \n\n\t\n",
        "spec.yaml:3:1: invalid YAML: found character that cannot start any token (while "
        "scanning for the next token)",
    ),
    "comments-only": (
        "# nothing here\n# at all\n",
        "spec.yaml: file is empty",
    ),
    "top-level-list": (
        "- version: 1\n",
        "spec.yaml:1:1: the top level must be a mapping with 'version' and 'subscriptions', "
        "not a list",
    ),
    "top-level-scalar": (
        "hello\n",
        "spec.yaml:1:1: the top level must be a mapping with 'version' and 'subscriptions', "
        "not a single value",
    ),
    "top-level-null": (
        "~\n",
        "spec.yaml: file is empty",
    ),
    "two-documents": (
        "version: 1\nsubscriptions: []\n---\nversion: 1\n",
        "spec.yaml:3:1: a spec file holds one YAML document; a second one starts here",
    ),
    "unterminated-quote": (
        'version: 1\nsubscriptions:\n  - id: "2001234\n',
        "spec.yaml:4:1: invalid YAML: found unexpected end of stream (while scanning a quoted"
        " scalar at line 3, column 9)",
    ),
    "bad-indentation": (
        "version: 1\nsubscriptions:\n  - id: 1\n   databases: []\n",
        "spec.yaml:4:4: invalid YAML: did not find expected '-' indicator (while parsing a "
        "block collection at line 3, column 3)",
    ),
    "tab-indentation": (
        "version: 1\nsubscriptions:\n\t- id: 1\n",
        "spec.yaml:3:1: invalid YAML: found character that cannot start any token (while "
        "scanning for the next token)",
    ),
    "unclosed-flow": (
        "version: 1\nsubscriptions: [{id: 1\n",
        "spec.yaml:3:1: invalid YAML: did not find expected ',' or '}' (while parsing a flow "
        "mapping at line 2, column 17)",
    ),
    "version-string": (
        'version: "1"\nsubscriptions: []\n',
        "spec.yaml:1:10: version: unsupported spec version: this reconciler reads version 1",
    ),
    "version-2": (
        "version: 2\nsubscriptions: []\n",
        "spec.yaml:1:10: version: unsupported spec version: this reconciler reads version 1",
    ),
    "version-missing": (
        "subscriptions: []\n",
        "spec.yaml:1:1: missing required field 'version'",
    ),
    "subscriptions-mapping": (
        "version: 1\nsubscriptions: {id: 1}\n",
        "spec.yaml:2:16: subscriptions: expected a list, got a mapping",
    ),
    "subscriptions-null": (
        "version: 1\nsubscriptions:\n",
        "spec.yaml:2:15: subscriptions: expected a list, got an empty value",
    ),
    "subscription-scalar": (
        "version: 1\nsubscriptions: [2001234]\n",
        "spec.yaml:2:17: subscriptions[0]: expected a mapping, got 2001234",
    ),
    "id-string": (
        'version: 1\nsubscriptions:\n  - id: "abc"\n    databases: []\n',
        "spec.yaml:3:9: subscriptions[0].id: expected an integer, got 'abc'",
    ),
    "id-negative": (
        "version: 1\nsubscriptions:\n  - id: -5\n    databases: []\n",
        "spec.yaml:3:9: subscriptions[0].id: -5 is less than the minimum of 1",
    ),
    "id-bool": (
        "version: 1\nsubscriptions:\n  - id: true\n    databases: []\n",
        "spec.yaml:3:9: subscriptions[0].id: expected an integer, got true",
    ),
    "databases-scalar": (
        "version: 1\nsubscriptions:\n  - id: 1\n    databases: many\n",
        "spec.yaml:4:16: subscriptions[0].databases: expected a list, got 'many'",
    ),
    "database-scalar": (
        valid_head("      - sessions\n"),
        "spec.yaml:5:9: subscriptions[0].databases[0]: expected a mapping, got 'sessions'",
    ),
    "name-missing": (
        valid_head("      - datasetSizeInGb: 1\n"),
        "spec.yaml:5:9: subscriptions[0].databases[0]: missing required field 'name'",
    ),
    "name-number": (
        valid_head("      - name: 12\n"),
        "spec.yaml:5:15: subscriptions[0].databases[0].name: expected a string, got 12; write"
        ' it in quotes: "12"',
    ),
    "name-empty": (
        valid_head('      - name: ""\n'),
        "spec.yaml:5:15: subscriptions[0].databases[0].name: '': a database name has at most "
        "40 letters, digits and hyphens, starts with a letter and ends with a letter or digit",
    ),
    "name-huge": (
        valid_head("      - name: " + "x" * 200_000 + "\n"),
        "spec.yaml:5:15: subscriptions[0].databases[0].name: "
        "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...': a database name has "
        "at most 40 letters, digits and hyphens, starts with a letter and ends with a letter "
        "or digit",
    ),
    "size-string": (
        valid_head("      - name: a\n        datasetSizeInGb: big\n"),
        "spec.yaml:6:26: subscriptions[0].databases[0].datasetSizeInGb: expected a number, "
        "got 'big'",
    ),
    "size-negative": (
        valid_head("      - name: a\n        datasetSizeInGb: -1\n"),
        "spec.yaml:6:26: subscriptions[0].databases[0].datasetSizeInGb: -1 is less than the "
        "minimum of 0.1",
    ),
    "size-nan": (
        valid_head("      - name: a\n        datasetSizeInGb: .nan\n"),
        "spec.yaml:6:26: subscriptions[0].databases[0].datasetSizeInGb: '.nan' is not a "
        "finite number",
    ),
    "size-huge": (
        valid_head("      - name: a\n        datasetSizeInGb: 1e400\n"),
        "spec.yaml:6:26: subscriptions[0].databases[0].datasetSizeInGb: '1e400' is not a "
        "finite number",
    ),
    "replication-yes": (
        valid_head("      - name: a\n        replication: yes\n"),
        "spec.yaml:6:22: subscriptions[0].databases[0].replication: expected true or false, "
        "got 'yes'; write true or false",
    ),
    "alerts-mapping": (
        valid_head("      - name: a\n        alerts: {name: x}\n"),
        "spec.yaml:6:17: subscriptions[0].databases[0].alerts: expected a list, got a mapping",
    ),
    "alert-no-value": (
        valid_head("      - name: a\n        alerts: [{name: dataset-size}]\n"),
        "spec.yaml:6:18: subscriptions[0].databases[0].alerts[0]: missing required field 'value'",
    ),
    "lifecycle-unknown": (
        valid_head("      - name: a\n        lifecycle: {destroy: never}\n"),
        "spec.yaml:6:21: subscriptions[0].databases[0].lifecycle.destroy: unknown field 'destroy'",
    ),
    "prevent-destroy-string": (
        valid_head("      - name: a\n        lifecycle: {preventDestroy: 'no'}\n"),
        "spec.yaml:6:37: subscriptions[0].databases[0].lifecycle.preventDestroy: expected "
        "true or false, got 'no'; write true or false",
    ),
    "state-bad": (
        valid_head("      - name: a\n        state: gone\n"),
        "spec.yaml:6:16: subscriptions[0].databases[0].state: 'gone' is not one of "
        "['present', 'absent']",
    ),
    "import-scalar": (
        valid_head("      - name: a\n        import: s3://x\n"),
        "spec.yaml:6:17: subscriptions[0].databases[0].import: expected a mapping, got 's3://x'",
    ),
    "unknown-top-key": (
        "version: 1\nsubscriptions: []\nkind: Database\n",
        "spec.yaml:3:1: kind: unknown field 'kind'",
    ),
    "unknown-db-field": (
        valid_head("      - name: a\n        sizeInGb: 1\n"),
        "spec.yaml:6:9: subscriptions[0].databases[0].sizeInGb: unknown field 'sizeInGb'",
    ),
    "duplicate-key": (
        valid_head("      - name: a\n        name: b\n"),
        "spec.yaml:6:9: subscriptions[0].databases[0].name: duplicate key 'name' (first "
        "written at line 5, column 9)",
    ),
    "duplicate-database": (
        valid_head("      - name: a\n      - name: a\n"),
        "spec.yaml:6:15: subscriptions[0].databases[1].name: database 'a' is defined twice: "
        "here and at spec.yaml:5:15",
    ),
    "env-missing": (
        valid_head("      - name: a\n        password: ${ROBUST_UNSET_VAR}\n"),
        "spec.yaml:6:19: subscriptions[0].databases[0].password: environment variable "
        "ROBUST_UNSET_VAR is not set",
    ),
    "env-unterminated": (
        valid_head("      - name: a\n        password: ${SESSIONS\n"),
        "spec.yaml:6:19: subscriptions[0].databases[0].password: unterminated '${' (write "
        "'$${' for a literal '${')",
    ),
    "env-bad-name": (
        valid_head("      - name: a\n        password: ${1abc}\n"),
        "spec.yaml:6:19: subscriptions[0].databases[0].password: invalid variable reference "
        "'${1abc}': a name has letters, digits and underscores (write '$${' for a literal "
        "'${')",
    ),
    "env-empty-name": (
        valid_head("      - name: a\n        password: ${}\n"),
        "spec.yaml:6:19: subscriptions[0].databases[0].password: invalid variable reference "
        "'${}': a name has letters, digits and underscores (write '$${' for a literal '${')",
    ),
    "python-tag": (
        valid_head("      - name: !!python/object:os.system a\n"),
        "spec.yaml:5:15: subscriptions[0].databases[0].name: unsupported YAML tag "
        "'!!python/object:os.system'",
    ),
    "custom-tag": (
        valid_head("      - name: !Ref a\n"),
        "spec.yaml:5:15: subscriptions[0].databases[0].name: unsupported YAML tag '!Ref'",
    ),
    "merge-key": (
        valid_head("      - &x {name: a}\n      - {<<: *x, name: b}\n"),
        "spec.yaml:6:10: subscriptions[0].databases[1]: YAML merge keys ('<<') are not "
        "supported; use the subscription's defaults",
    ),
    "undefined-alias": (
        valid_head("      - name: *nope\n"),
        "spec.yaml:5:15: alias '*nope' refers to no anchor completed before it",
    ),
    "password-number": (
        valid_head("      - name: a\n        password: 1234\n"),
        "spec.yaml:6:19: subscriptions[0].databases[0].password: expected a string, got a "
        "number; write it in quotes",
    ),
    "port-out-of-range": (
        valid_head("      - name: a\n        port: 99999999\n"),
        "spec.yaml:6:15: subscriptions[0].databases[0].port: 99999999 is greater than the "
        "maximum of 19999",
    ),
    "control-characters-in-key": (
        valid_head('      - name: a\n        "x\\r\\nspec.yaml:1:1: forged": 1\n'),
        "spec.yaml:6:9: subscriptions[0].databases[0]['x\\r\\nspec.yaml:1:1: forged']: unknown "
        "field 'x\\r\\nspec.yaml:1:1: forged'",
    ),
    "duplicate-key-with-newline": (
        valid_head('      - name: a\n        "k\\n": 1\n        "k\\n": 2\n'),
        "spec.yaml:7:9: subscriptions[0].databases[0]['k\\n']: duplicate key 'k\\n' (first "
        "written at line 6, column 9)",
    ),
}


@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
@pytest.mark.parametrize("case", list(SPEC_CASES))
def test_malformed_spec_fails_cleanly_before_any_request(
    case: str,
    command: str,
    api_env: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    content, expected = SPEC_CASES[case]
    (tmp_path / "spec.yaml").write_bytes(
        content if isinstance(content, bytes) else content.encode()
    )
    monkeypatch.chdir(tmp_path)
    requests_before = api_env.stats()["total"]
    result = run_cli(spec_commands("spec.yaml", api_env.url)[command], capsys)
    check_clean_failure(result)
    *problems, summary = result.err.splitlines()
    assert expected in problems
    assert summary == f"{len(problems)} problem{'s' if len(problems) > 1 else ''} found."
    assert result.out == ""
    assert api_env.stats()["total"] == requests_before  # an invalid spec is never sent off


# ---------------------------------------------------------------------- tests/specs bad-* cases

BAD_SPECS = sorted(p.name.removesuffix(".yaml") for p in SPECS.glob("bad-*.expected"))


@pytest.mark.parametrize("command", ["plan", "apply"])
@pytest.mark.parametrize("case", [name.removesuffix(".expected") for name in BAD_SPECS])
def test_every_bad_spec_case_fails_the_same_way_in_plan_and_apply(
    case: str,
    command: str,
    api_env: RunningSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(SPECS)
    for name in ENV:  # the .expected files are written for this environment only
        monkeypatch.delenv(name)
    monkeypatch.setenv("DB_NAME_PREFIX", "team")
    target = case if (SPECS / case).is_dir() else f"{case}.yaml"
    expected = (SPECS / f"{case}.expected").read_text(encoding="utf-8").splitlines()
    result = run_cli(spec_commands(target, api_env.url)[command], capsys)
    check_clean_failure(result)
    count = len(expected)
    assert result.err.splitlines() == [
        *expected,
        f"{count} problem{'s' if count != 1 else ''} found.",
    ]


# ---------------------------------------------------------------------- a wrong type everywhere

BASE: dict[str, Any] = {
    "version": 1,
    "subscriptions": [
        {
            "id": 2001234,
            "prune": False,
            "defaults": {"dataPersistence": "aof-every-1-second"},
            "databases": [
                {
                    "name": "sessions",
                    "redisVersion": "7.4",
                    "datasetSizeInGb": 2,
                    "throughputMeasurement": {"by": "operations-per-second", "value": 25000},
                    "replication": True,
                    "dataEvictionPolicy": "volatile-lru",
                    "password": "${SESSIONS_DB_PASSWORD}",
                    "sourceIp": ["10.0.0.0/16"],
                    "alerts": [{"name": "dataset-size", "value": 80}],
                    "remoteBackup": {
                        "active": True,
                        "interval": "every-12-hours",
                        "timeUTC": "14:00",
                        "storageType": "aws-s3",
                        "storagePath": "s3://backups/sessions",
                    },
                    "lifecycle": {
                        "preventDestroy": True,
                        "ignoreChanges": ["throughputMeasurement"],
                    },
                },
                {
                    "name": "legacy-cache",
                    "state": "absent",
                    "lifecycle": {"backupBeforeDelete": True, "backupPath": "s3://backups/adhoc"},
                },
                {
                    "name": "reports",
                    "redisVersion": "7.4",
                    "datasetSizeInGb": 5,
                    "modules": [{"name": "RediSearch"}],
                    "password": "${REPORTS_DB_PASSWORD}",
                    "enableDefaultUser": True,
                    "alerts": [{"name": "throughput-higher-than", "value": 20000}],
                    "import": {"sourceType": "aws-s3", "importFromUri": ["s3://seed/reports.rdb"]},
                },
            ],
        },
        {
            "id": 2005678,
            "defaults": {"dataPersistence": "none", "replication": False},
            "databases": [
                {"name": "feature-flags", "redisVersion": "8.2", "datasetSizeInGb": 0.5},
            ],
        },
    ],
}


def nodes(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Yield ``(rendered path, value)`` for every node below the root."""
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        child_path = f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else key
        yield child_path, child
        yield from nodes(child, child_path)


def wrong_type(value: Any) -> Any:
    """A value of another JSON type than ``value``."""
    if isinstance(value, dict):
        return ["not", "a", "mapping"]
    if isinstance(value, list):
        return "not a list"
    if isinstance(value, bool):
        return "maybe"
    if isinstance(value, (int, float)):
        return "many"
    return {"not": "a string"}


def with_node(document: Any, target: str, new: Any, path: str = "") -> Any:
    """Return a copy of ``document`` whose node at rendered path ``target`` is ``new``."""
    if path == target:
        return new
    if isinstance(document, dict):
        return {
            k: with_node(v, target, new, f"{path}.{k}" if path else k) for k, v in document.items()
        }
    if isinstance(document, list):
        return [with_node(v, target, new, f"{path}[{i}]") for i, v in enumerate(document)]
    return document


NODE_PATHS = [path for path, _ in nodes(BASE)]


def write_json(path: Path, document: Any, *, ascii_only: bool = False) -> None:
    """Write ``document`` as JSON, a subset of YAML (escaped, unicode passes the parser)."""
    text = json.dumps(document, indent=2, ensure_ascii=ascii_only)
    path.write_text(text, encoding="utf-8")


def test_the_base_document_is_valid(
    api_env: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_json(tmp_path / "spec.yaml", BASE)
    result = run_cli(["validate", str(tmp_path / "spec.yaml")], capsys)
    assert (result.code, result.err) == (0, "")
    assert result.out == "1 file(s) valid: 2 subscription(s), 4 database(s).\n"


@pytest.mark.parametrize("command", ["validate", "plan"])
@pytest.mark.parametrize("path", NODE_PATHS)
def test_a_wrong_type_at_any_node_is_reported_at_that_node(
    path: str,
    command: str,
    api_env: RunningSimulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    value = dict(nodes(BASE))[path]
    write_json(tmp_path / "spec.yaml", with_node(BASE, path, wrong_type(value)))
    monkeypatch.chdir(tmp_path)
    result = run_cli(spec_commands("spec.yaml", api_env.url)[command], capsys)
    check_clean_failure(result)
    problem, summary = result.err.splitlines()
    assert summary == "1 problem found."
    message = "unsupported spec version.*" if path == "version" else "expected .+, got .+"
    assert re.fullmatch(rf"spec\.yaml:\d+:\d+: {re.escape(path)}: {message}", problem), problem


# ---------------------------------------------------------------------- flags and arguments

NOT_A_PLAN = {"formatVersion": 1, "actions": []}
OLD_PLAN = {"formatVersion": 99, "fingerprint": "x", "salt": "y", "specPaths": []}
PLAN_FILES: dict[str, bytes] = {
    "garbage.json": BINARY[:300],
    "truncated.json": b'{"formatVersion": 1, "fingerprint": "ab',
    "array.json": b"[1, 2, 3]",
    "not-a-plan.json": json.dumps(NOT_A_PLAN).encode(),
    "old-plan.json": json.dumps(OLD_PLAN).encode(),
    "empty.json": b"",
}

# Each case: argv ({spec} {url} {dir} are filled in), environment changes (None unsets),
# and the exact last line of stderr ({dir} {url} {version} are filled in).
FLAG_CASES: dict[str, tuple[list[str], dict[str, str | None], str]] = {
    "no-command": (
        [],
        {},
        "reconciler: error: the following arguments are required: COMMAND",
    ),
    "unknown-command": (
        ["destroy", "{spec}"],
        {},
        "reconciler: error: argument COMMAND: invalid choice: 'destroy' (choose from "
        "'validate', 'plan', 'apply', 'export', 'simulator', 'show', 'schema')",
    ),
    "unknown-flag": (
        ["plan", "{spec}", "--bogus", "--api-url", "{url}"],
        {},
        "reconciler plan: error: unrecognized arguments: --bogus",
    ),
    "unknown-global-flag": (
        ["--frobnicate", "validate", "{spec}"],
        {},
        "reconciler: error: unrecognized arguments: --frobnicate",
    ),
    "validate-no-path": (
        ["validate"],
        {},
        "reconciler validate: error: the following arguments are required: PATH",
    ),
    "plan-no-path": (
        ["plan", "--api-url", "{url}"],
        {},
        "reconciler plan: error: the following arguments are required: PATH",
    ),
    "format-bogus": (
        ["plan", "{spec}", "--format", "bogus", "--api-url", "{url}"],
        {},
        "reconciler plan: error: argument --format: invalid choice: 'bogus' (choose from "
        "'text', 'json', 'markdown')",
    ),
    "format-empty": (
        ["plan", "{spec}", "--format", "", "--api-url", "{url}"],
        {},
        "reconciler plan: error: argument --format: invalid choice: '' (choose from 'text', "
        "'json', 'markdown')",
    ),
    "timeout-zero": (
        ["apply", "{spec}", "--yes", "--timeout", "0", "--api-url", "{url}"],
        {},
        "reconciler apply: error: argument --timeout: invalid duration '0': must be positive",
    ),
    "timeout-negative": (
        ["apply", "{spec}", "--yes", "--timeout=-5s", "--api-url", "{url}"],
        {},
        "reconciler apply: error: argument --timeout: invalid duration '-5s' (e.g. 90s, 30m, 1h)",
    ),
    "timeout-words": (
        ["apply", "{spec}", "--yes", "--timeout", "soon", "--api-url", "{url}"],
        {},
        "reconciler apply: error: argument --timeout: invalid duration 'soon' (e.g. 90s, 30m, 1h)",
    ),
    "timeout-empty": (
        ["apply", "{spec}", "--yes", "--timeout", "", "--api-url", "{url}"],
        {},
        "reconciler apply: error: argument --timeout: invalid duration '': must be positive",
    ),
    "timeout-bad-unit": (
        ["apply", "{spec}", "--yes", "--timeout", "5d", "--api-url", "{url}"],
        {},
        "reconciler apply: error: argument --timeout: invalid duration '5d' (e.g. 90s, 30m, 1h)",
    ),
    "timeout-unit-only": (
        ["apply", "{spec}", "--yes", "--timeout", "h", "--api-url", "{url}"],
        {},
        "reconciler apply: error: argument --timeout: invalid duration 'h' (e.g. 90s, 30m, 1h)",
    ),
    "timeout-missing-value": (
        ["apply", "{spec}", "--yes", "--timeout"],
        {},
        "reconciler apply: error: argument --timeout: expected one argument",
    ),
    "subscription-not-int": (
        ["export", "--subscription", "abc", "--api-url", "{url}"],
        {},
        "reconciler export: error: argument --subscription: invalid int value: 'abc'",
    ),
    "missing-file": (
        ["plan", "{dir}/nope.yaml", "--api-url", "{url}"],
        {},
        "1 problem found.",
    ),
    "missing-folder": (
        ["apply", "{dir}/nope/", "--yes", "--api-url", "{url}"],
        {},
        "1 problem found.",
    ),
    "empty-folder": (
        ["validate", "{dir}/empty"],
        {},
        "1 problem found.",
    ),
    "plan-garbage": (
        ["apply", "{spec}", "--plan", "{dir}/garbage.json", "--api-url", "{url}"],
        {},
        "error: plan file {dir}/garbage.json is not JSON: it is not UTF-8 text",
    ),
    "plan-truncated": (
        ["apply", "{spec}", "--plan", "{dir}/truncated.json", "--api-url", "{url}"],
        {},
        "error: plan file {dir}/truncated.json is not JSON: Unterminated string starting at "
        "line 1, column 37",
    ),
    "plan-array": (
        ["apply", "{spec}", "--plan", "{dir}/array.json", "--api-url", "{url}"],
        {},
        "error: {dir}/array.json is not a reconciler plan file (the top level is not a JSON "
        "object); write one with: reconciler plan --out FILE",
    ),
    "plan-not-a-plan": (
        ["apply", "{spec}", "--plan", "{dir}/not-a-plan.json", "--api-url", "{url}"],
        {},
        "error: {dir}/not-a-plan.json is not a reconciler plan file (no fingerprint); write "
        "one with: reconciler plan --out FILE",
    ),
    "plan-old-format": (
        ["apply", "{spec}", "--plan", "{dir}/old-plan.json", "--api-url", "{url}"],
        {},
        "error: plan file {dir}/old-plan.json has formatVersion 99; reconciler {version} "
        "reads formatVersion 1 only; run plan --out again",
    ),
    "plan-empty": (
        ["apply", "{spec}", "--plan", "{dir}/empty.json", "--api-url", "{url}"],
        {},
        "error: plan file {dir}/empty.json is not JSON: Expecting value at line 1, column 1",
    ),
    "plan-missing": (
        ["apply", "{spec}", "--plan", "{dir}/nope.json", "--api-url", "{url}"],
        {},
        "error: plan file not found: {dir}/nope.json",
    ),
    "plan-is-a-folder": (
        ["apply", "{spec}", "--plan", "{dir}", "--api-url", "{url}"],
        {},
        "error: cannot read plan file {dir}: Is a directory",
    ),
    "out-in-missing-folder": (
        ["plan", "{spec}", "--out", "{dir}/no/such/plan.json", "--api-url", "{url}"],
        {},
        "error: cannot write plan file {dir}/no/such/plan.json: No such file or directory",
    ),
    "http-remote-host": (
        ["plan", "{spec}", "--api-url", "http://api.example.com/v1"],
        {},
        "error: refusing plain http:// to a non-loopback host 'api.example.com': use https://",
    ),
    "http-remote-ip": (
        ["plan", "{spec}", "--api-url", "http://10.1.2.3:8080/v1"],
        {},
        "error: refusing plain http:// to a non-loopback host '10.1.2.3': use https://",
    ),
    "http-remote-from-env": (
        ["plan", "{spec}"],
        {"REDIS_API_URL": "http://example.org/v1"},
        "error: refusing plain http:// to a non-loopback host 'example.org': use https://",
    ),
    "ftp-url": (
        ["plan", "{spec}", "--api-url", "ftp://127.0.0.1/v1"],
        {},
        "error: invalid API URL 'ftp://127.0.0.1/v1': expected https://HOST[/PATH]",
    ),
    "not-a-url": (
        ["plan", "{spec}", "--api-url", "not a url"],
        {},
        "error: invalid API URL 'not a url': expected https://HOST[/PATH]",
    ),
    "url-bad-port": (
        ["plan", "{spec}", "--api-url", "http://127.0.0.1:99999/v1"],
        {},
        "error: invalid API URL 'http://127.0.0.1:99999/v1': expected https://HOST[/PATH]",
    ),
    "url-with-userinfo-secret": (
        ["plan", "{spec}", "--api-url", "ftp://user:hunter2@127.0.0.1/v1"],
        {},
        "error: invalid API URL 'ftp://(sensitive)@127.0.0.1/v1': expected https://HOST[/PATH]",
    ),
    "no-credentials": (
        ["plan", "{spec}", "--api-url", "{url}"],
        {"REDIS_API_KEY": None, "REDIS_API_SECRET": None},
        "error: missing API credentials: set REDIS_API_KEY and REDIS_API_SECRET (or "
        "REDISCLOUD_ACCESS_KEY / REDISCLOUD_SECRET_KEY)",
    ),
    "no-secret": (
        ["apply", "{spec}", "--yes", "--api-url", "{url}"],
        {"REDIS_API_SECRET": None},
        "error: missing API credentials: set REDIS_API_SECRET (or REDISCLOUD_ACCESS_KEY / "
        "REDISCLOUD_SECRET_KEY)",
    ),
    "no-key": (
        ["export", "--api-url", "{url}"],
        {"REDIS_API_KEY": None},
        "error: missing API credentials: set REDIS_API_KEY (or REDISCLOUD_ACCESS_KEY / "
        "REDISCLOUD_SECRET_KEY)",
    ),
    "wrong-credentials": (
        ["apply", "{spec}/staging.yaml", "--yes", "--api-url", "{url}"],
        {"REDIS_API_SECRET": "wrong"},
        "error: GET /subscriptions/2005678: HTTP 401, UNAUTHORIZED: Authentication failed for"
        " requested resource (check REDIS_API_KEY and REDIS_API_SECRET)",
    ),
    "apply-without-yes": (
        ["apply", "{spec}", "--api-url", "{url}"],
        {},
        "error: refusing to apply without confirmation: pass --yes (or --plan FILE) when not "
        "on a terminal",
    ),
}


@pytest.fixture(scope="module")
def flag_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a valid spec (examples/), an empty folder and the plan files."""
    folder = tmp_path_factory.mktemp("flags")
    copy_examples(folder)
    (folder / "empty").mkdir()
    for name, content in PLAN_FILES.items():
        (folder / name).write_bytes(content)
    return folder


def fill(text: str, folder: Path, url: str) -> str:
    return (
        text.replace("{spec}", "{dir}/examples")
        .replace("{dir}", str(folder))
        .replace("{url}", url)
        .replace("{version}", __version__)
    )


@pytest.mark.parametrize("case", list(FLAG_CASES))
def test_bad_flags_and_arguments_fail_cleanly(
    case: str,
    flag_dir: Path,
    api_env: RunningSimulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv, environment, expected = FLAG_CASES[case]
    for name, value in environment.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    result = run_cli([fill(arg, flag_dir, api_env.url) for arg in argv], capsys)
    check_clean_failure(result)
    assert result.err.splitlines()[-1] == fill(expected, flag_dir, api_env.url)


def test_a_subscription_id_past_int32_is_a_located_error(
    api_env: RunningSimulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ids are int32 in the API: a larger one is a spec error before any request."""
    huge = "9" * 60
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"version: 1\nsubscriptions:\n  - id: {huge}\n    databases: [{{name: a}}]\n")
    for command in ("plan", "apply"):
        result = run_cli(spec_commands(str(spec), api_env.url)[command], capsys)
        check_clean_failure(result)
        assert result.err.splitlines()[0] == (
            f"{spec}:3:9: subscriptions[0].id: {huge[:12]}... (60 digits) is greater than the "
            "maximum of 2147483647"
        )


# ---------------------------------------------------------------------- the real entry point

SUBPROCESS_CASES = {
    "billion-laughs": ["validate", "{dir}/bomb.yaml"],
    "binary-junk": ["plan", "{dir}/junk.yaml", "--api-url", "{url}"],
    "deep-nesting": ["apply", "{dir}/deep.yaml", "--yes", "--api-url", "{url}"],
    "plan-garbage": ["apply", "{spec}", "--plan", "{dir}/garbage.json", "--api-url", "{url}"],
    "unknown-flag": ["apply", "{spec}", "--bogus"],
    "http-remote-host": ["plan", "{spec}", "--api-url", "http://api.example.com/v1"],
}


@pytest.mark.parametrize("case", list(SUBPROCESS_CASES))
def test_no_traceback_escapes_the_entry_point(
    case: str, flag_dir: Path, api_env: RunningSimulator
) -> None:
    (flag_dir / "bomb.yaml").write_text(billion_laughs())
    (flag_dir / "junk.yaml").write_bytes(BINARY)
    (flag_dir / "deep.yaml").write_text(deep("[", "]"))
    argv = [fill(arg, flag_dir, api_env.url) for arg in SUBPROCESS_CASES[case]]
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip()
    assert "Traceback" not in done.stderr + done.stdout
    assert "internal error" not in done.stderr


# ---------------------------------------------------------------------- fuzz

JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)
    | st.sampled_from(
        ["${SESSIONS_DB_PASSWORD}", "${ROBUST_NOPE}", "${", "$${x}", "7.4", "yes", "~"]
    )
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    """A copy of BASE with one to three mutations: replace, delete, add a key, wrap, unicode."""
    document = BASE
    for _ in range(draw(st.integers(1, 3))):
        paths = [path for path, _ in nodes(document)]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        value = dict(nodes(document))[path]
        kind = draw(
            st.sampled_from(["replace", "delete", "add-key", "wrap", "stringify", "unicode"])
        )
        if kind == "replace":
            document = with_node(document, path, draw(JSON_VALUES))
        elif kind == "delete":
            document = with_node(document, path, DELETED)
            document = purge(document)
        elif kind == "add-key" and isinstance(value, dict):
            key = draw(st.text(min_size=1, max_size=12))
            document = with_node(document, path, {**value, key: draw(JSON_VALUES)})
        elif kind == "wrap":
            document = with_node(document, path, [value])
        elif kind == "stringify":
            document = with_node(document, path, json.dumps(value))
        elif kind == "unicode" and isinstance(value, str):
            extra = draw(
                st.text(
                    alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=5
                )
            )
            document = with_node(document, path, value + extra)
    return document


DELETED = object()


def purge(value: Any) -> Any:
    """Drop the nodes marked DELETED."""
    if isinstance(value, dict):
        return {k: purge(v) for k, v in value.items() if v is not DELETED}
    if isinstance(value, list):
        return [purge(v) for v in value if v is not DELETED]
    return value


LOCATED = re.compile(r"spec\.yaml:\d+:\d+: .+")


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=mutated_documents(), ascii_only=st.booleans())
@pytest.mark.parametrize("examples", [FUZZ_EXAMPLES], ids=lambda n: f"{n}-examples")
def test_fuzzed_documents_validate_clean_or_fail_located(
    examples: int,
    document: Any,
    ascii_only: bool,
    api_env: RunningSimulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "spec.yaml"
        write_json(spec, document, ascii_only=ascii_only)
        cwd = os.getcwd()
        os.chdir(folder)
        try:
            validated = run_cli(["validate", "--require-env", "spec.yaml"], capsys)
            planned = run_cli(spec_commands("spec.yaml", api_env.url)["plan"], capsys)
        finally:
            os.chdir(cwd)
    for result in (validated, planned):
        assert result.code in (0, 1)
        assert "Traceback" not in result.out + result.err
        assert "internal error" not in result.err
    if validated.code == 0:
        assert validated.err == ""
        assert validated.out.startswith("1 file(s) valid: ")
        # plan either shows the plan or refuses it (e.g. an id no subscription has)
        assert planned.code == 0 or planned.err.startswith("error: plan refused"), planned.err
    else:
        *problems, summary = validated.err.splitlines()
        assert re.fullmatch(r"\d+ problems? found\.", summary)
        assert problems and all(LOCATED.fullmatch(line) for line in problems), validated.err
        assert planned.code == 1 and planned.err == validated.err
