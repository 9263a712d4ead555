"""End to end against the simulator: the plan is a promise; no difference plans silently.

Each case once planned "No changes" although the spec and the account differed: a flipped
OSS cluster external-endpoint switch, removed client certificates, another memcached user
name, a sharding type, a renamed database. A field the API never returns (saslPassword)
is a notice, and ``plan --detailed-exitcode`` exits 2 for it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.compare import EXCLUDED_FIELDS
from reconciler.simulator import RunningSimulator

PROD = """\
version: 1
subscriptions:
  - id: 2001234
    databases:
      - name: {name}
{fields}"""
STAGING = """\
version: 1
subscriptions:
  - id: 2005678
    databases:
      - name: staging-cache
{fields}"""
CERT = '"-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----"'


@pytest.fixture
def sim_url(
    make_simulator: Callable[..., RunningSimulator], monkeypatch: pytest.MonkeyPatch
) -> str:
    """The URL of a fast simulator of the example account; the CLI's credentials point at it."""
    running = make_simulator(task_seconds=0.05, provision_seconds=0.05)
    monkeypatch.setenv("REDIS_API_KEY", running.api_key)
    monkeypatch.setenv("REDIS_API_SECRET", running.api_secret)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("MC_PASSWORD", "sasl-password-from-env")
    return running.url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``reconciler ARGV`` in-process; return (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def spec(tmp_path: Path, text: str) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return str(path)


def fields(*lines: str) -> str:
    return "".join(f"        {line}\n" for line in lines)


def plan(capsys: pytest.CaptureFixture[str], path: str, url: str, *extra: str) -> tuple[int, str]:
    code, out, _ = run(capsys, "plan", path, "--api-url", url, "--detailed-exitcode", *extra)
    return code, out


def apply(capsys: pytest.CaptureFixture[str], path: str, url: str) -> None:
    code, _, err = run(capsys, "apply", path, "--api-url", url, "--yes")
    assert code == 0, err


def body(out: str) -> list[str]:
    """Return the action and notice lines of a text plan (no header, unmanaged, history of
    the database from the system log, or summary)."""
    history = ("      changed ", "      … ")
    return [
        line
        for line in out.splitlines()
        if line.startswith(("  ~", "  !", "      ")) and not line.startswith(history)
    ]


def test_flipping_the_oss_external_endpoint_plans_an_update(
    sim_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    on = fields("supportOSSClusterApi: true", "useExternalEndpointForOSSClusterApi: true")
    apply(capsys, spec(tmp_path, PROD.format(name="cache", fields=on)), sim_url)
    assert plan(capsys, str(tmp_path / "spec.yaml"), sim_url)[0] == 0
    off = fields("supportOSSClusterApi: true", "useExternalEndpointForOSSClusterApi: false")
    code, out = plan(capsys, spec(tmp_path, PROD.format(name="cache", fields=off)), sim_url)
    assert code == 2
    assert body(out) == [
        "  ~ update cache (db 51170943)",
        "      useExternalEndpointForOSSClusterApi  true → false",
    ]


def test_removing_client_certificates_plans_an_update(
    sim_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    certs = fields(
        "enableTls: true", "clientTlsCertificates:", f"  - publicCertificatePEMString: {CERT}"
    )
    apply(capsys, spec(tmp_path, PROD.format(name="cache", fields=certs)), sim_url)
    code, out = plan(capsys, str(tmp_path / "spec.yaml"), sim_url)
    assert code == 2  # set on both sides: which certificates, the API does not tell
    assert body(out)[-1] == (
        "      cannot compare clientTlsCertificates: "
        "the API returns only whether certificates are set, not which"
    )
    none = fields("enableTls: true", "clientTlsCertificates: []")
    code, out = plan(capsys, spec(tmp_path, PROD.format(name="cache", fields=none)), sim_url)
    assert code == 2
    assert body(out) == [
        "  ~ update cache (db 51170943)",
        "      clientTlsCertificates  (certificates set) → (no certificates)",
    ]


def test_memcached_user_is_compared_and_its_password_is_a_notice(
    sim_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sasl = fields("saslUsername: mc-other", "saslPassword: ${MC_PASSWORD}")
    path = spec(tmp_path, STAGING.format(fields=sasl))
    code, out = plan(capsys, path, sim_url)
    assert code == 2
    [update, user, notice, reason] = body(out)
    assert update == "  ~ update staging-cache (db 51180002)"
    assert user.split()[0] == "saslUsername" and user.endswith(" → mc-other")
    assert notice == (
        "  ! unverified staging-cache (db 51180002): fields the plan could not compare"
    )
    assert reason == "      cannot compare saslPassword: not returned by the API"
    assert out.endswith(
        "Plan: 0 to create, 1 to update, 0 to delete, 0 backups.  Unmanaged: 2.  Not compared: 1.\n"
    )
    assert "sasl-password-from-env" not in out
    code, out = plan(capsys, path, sim_url, "--format", "json")
    assert json.loads(out)["notices"] == [
        {
            "subscriptionId": 2005678,
            "databaseId": 51180002,
            "name": "staging-cache",
            "field": "saslPassword",
            "message": "cannot compare saslPassword: not returned by the API",
        }
    ]


def test_a_notice_alone_exits_2_and_ignore_changes_acknowledges_it(
    sim_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sasl = fields("saslPassword: ${MC_PASSWORD}")
    code, out = plan(capsys, spec(tmp_path, STAGING.format(fields=sasl)), sim_url)
    assert code == 2
    assert out.endswith(
        "No changes planned, but some spec fields could not be compared (see above).  "
        "Unmanaged: 2.  Not compared: 1.\n"
    )
    ignored = fields(
        "saslPassword: ${MC_PASSWORD}", "lifecycle:", "  ignoreChanges: [saslPassword]"
    )
    code, out = plan(capsys, spec(tmp_path, STAGING.format(fields=ignored)), sim_url)
    assert code == 0
    assert out.endswith("No changes. The live account matches the spec.  Unmanaged: 2.\n")


def test_another_sharding_type_is_refused_naming_the_field(
    sim_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PROD.format(name="cache", fields=fields("shardingType: redis-oss-hashing"))
    code, out = plan(capsys, spec(tmp_path, text), sim_url)
    assert code == 1
    assert (
        "  ! subscription 2001234 database 'cache' (db 51170943): shardingType cannot change "
        "from 'default-regex-rules' to 'redis-oss-hashing' on an existing database; Redis "
        "Cloud would have to recreate it (delete it and create it again)\n"
    ) in out


def test_a_pinned_database_is_renamed_not_recreated(
    sim_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = PROD.format(name="cache-renamed", fields=fields("databaseId: 51170943"))
    path = spec(tmp_path, text)
    code, out = plan(capsys, path, sim_url)
    assert code == 2
    assert body(out) == [
        "  ~ update cache (db 51170943)",
        "      name                  cache → cache-renamed",
    ]
    assert "Plan: 0 to create, 1 to update, 0 to delete, 0 backups." in out
    apply(capsys, path, sim_url)
    code, out = plan(capsys, path, sim_url)
    assert code == 0
    assert "unmanaged cache" not in out


def test_an_unknown_database_id_is_refused_with_its_location(
    sim_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = spec(tmp_path, PROD.format(name="cache", fields=fields("databaseId: 51179999")))
    code, out = plan(capsys, path, sim_url)
    assert code == 1
    assert (
        f"  ! {path}:5:15: database 'cache' pins databaseId 51179999, which does not exist "
        'in subscription 2001234 "prod"; remove databaseId to create it, or write the id of '
        "a database of this subscription\n"
    ) in out


def test_a_database_id_pinned_twice_is_a_located_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    twice = PROD.format(name="a", fields=fields("databaseId: 51170943")) + (
        "      - name: b\n        databaseId: 51170943\n"
    )
    path = spec(tmp_path, twice)
    code, _, err = run(capsys, "validate", path)
    assert code == 1
    assert (
        f"{path}:8:21: subscriptions[0].databases[1].databaseId: databaseId 51170943 is "
        f"pinned twice in subscription 2001234: here and at {path}:6:21"
    ) in err


@pytest.mark.parametrize("field", sorted(EXCLUDED_FIELDS))
def test_an_excluded_request_field_is_refused_at_validate_with_its_reason(
    field: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = spec(tmp_path, PROD.format(name="cache", fields=fields(f"{field}: 1")))
    code, _, err = run(capsys, "validate", path)
    assert code == 1
    assert (
        f"{path}:6:9: subscriptions[0].databases[0].{field}: {field!r} is not managed by "
        f"reconciler: {EXCLUDED_FIELDS[field]}\n"
    ) in err
