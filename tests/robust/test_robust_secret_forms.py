"""Robustness: secrets in the API URL, and secrets echoed back in an encoded form.

Reproductions from the adversarial trials:

- credentials in ``--api-url`` (``user:PW@`` or ``?token=PW``) used to be printed in
  "cannot reach …" and logged at ``-vv``;
- a 401 echoing the API secret HTML-escaped, percent-encoded or JSON-escaped used to be
  printed unmasked.

Every run is in-process with every logger at DEBUG; stderr, stdout and each log record are
searched for the secret in every form.
"""

from __future__ import annotations

import html
import json
import logging
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_api import FakeApi, Reply, in_order
from robust_support import copy_examples, run_cli

from reconciler.cli import Runtime

SECRET = "CANARY&SECRET<s1>"
URL_SECRET = "SECRETPW-7731"
FORMS = (
    SECRET,
    html.escape(SECRET),  # CANARY&amp;SECRET&lt;s1&gt;
    urllib.parse.quote(SECRET, safe=""),  # CANARY%26SECRET%3Cs1%3E
    "CANARY\\u0026SECRET\\u003cs1\\u003e",  # JSON as Go writes it
    json.dumps(SECRET)[1:-1],
    "CANARY&#38;SECRET&#x3c;s1&#62;",
    URL_SECRET,
)
RUNTIME = Runtime(backoff_factor=0.0, sleep=lambda seconds: None)


@pytest.fixture
def spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.chdir(tmp_path)
    copy_examples(tmp_path)
    monkeypatch.setenv("SESSIONS_DB_PASSWORD", "sessions-pw-1")
    monkeypatch.setenv("REPORTS_DB_PASSWORD", "reports-pw-2")
    monkeypatch.setenv("REDIS_API_KEY", "key-0001")
    monkeypatch.setenv("REDIS_API_SECRET", SECRET)
    monkeypatch.delenv("REDIS_API_URL", raising=False)
    yield str(tmp_path / "examples" / "prod")


def assert_clean(*texts: str) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"https://user:{URL_SECRET}@127.0.0.1:1/v1", "https://(sensitive)@127.0.0.1:1/v1"),
        (f"https://127.0.0.1:1/v1?token={URL_SECRET}", "https://127.0.0.1:1/v1?token=(sensitive)"),
        (
            f"http://{urllib.parse.quote(URL_SECRET + '@x')}@localhost:1/v1",
            "http://(sensitive)@localhost:1/v1",
        ),
    ],
    ids=["userinfo", "query", "token-userinfo"],
)
def test_credentials_in_the_api_url_are_never_shown(
    spec: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    url: str,
    shown: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    code, out, err = run_cli(capsys, "-vv", "plan", spec, "--api-url", url, runtime=RUNTIME)
    assert code == 1
    assert err == f"error: GET /subscriptions/2001234: cannot reach {shown}: connection refused\n"
    assert_clean(out, err, caplog.text)


def test_a_refused_api_url_is_shown_masked(spec: str, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"ftp://u:{URL_SECRET}@127.0.0.1/v1?token={URL_SECRET}"
    code, out, err = run_cli(capsys, "plan", spec, "--api-url", url)
    assert (code, out) == (1, "")
    assert err == (
        "error: invalid API URL 'ftp://(sensitive)@127.0.0.1/v1?token=(sensitive)': "
        "expected https://HOST[/PATH]\n"
    )


ECHOES = {
    "html": f"<html><body><h1>401</h1>bad key {html.escape(SECRET)}</body></html>",
    "percent": f"denied: x-api-secret-key={urllib.parse.quote(SECRET, safe='')}",
    "json-go": '{"detail": "bad secret CANARY\\u0026SECRET\\u003cs1\\u003e"}',
    "json-description": '{"description": "bad secret CANARY\\u0026SECRET\\u003cs1\\u003e"}',
    "entities": "secret was CANARY&#38;SECRET&#x3c;s1&#62; (mixed)",
}


@pytest.mark.parametrize("body", list(ECHOES.values()), ids=list(ECHOES))
def test_an_echoed_api_secret_is_masked_in_every_encoding(
    spec: str,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    body: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    content_type = "text/html" if body.startswith("<") else "application/json"
    with FakeApi(in_order(Reply(401, body, content_type=content_type))) as api:
        code, out, err = run_cli(capsys, "-vv", "plan", spec, "--api-url", api.url)
    assert code == 1
    assert "(sensitive)" in err
    assert err.startswith("error: GET /subscriptions/2001234: HTTP 401")
    assert_clean(out, err, caplog.text)
