"""Tests for reconciler.cloud.transport (RequestsTransport) against the shared fake API."""

from __future__ import annotations

import ast
import gzip
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_api import FakeApi, Reply, in_order

import reconciler
from reconciler.cloud import Answer, RequestsTransport, TransportError
from reconciler.cloud.transport import MAX_ANSWER_BYTES

PACKAGE = Path(reconciler.__file__).parent


@pytest.fixture
def transport() -> Iterator[RequestsTransport]:
    sender = RequestsTransport(get_retries=2, backoff_factor=0.0)
    yield sender
    sender.close()


def send(transport: RequestsTransport, api: FakeApi, method: str = "GET") -> Answer:
    return transport.send(method, api.url + "/x", {"Accept": "application/json"}, None, 2.0)


def failure(transport: RequestsTransport, url: str, method: str = "GET") -> TransportError:
    with pytest.raises(TransportError) as error:
        transport.send(method, url + "/x", {}, b"{}", 0.2)
    assert error.value.__context__ is None  # requests' exceptions hold the request
    return error.value


def test_only_this_module_imports_requests_and_urllib3() -> None:
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] in ("requests", "urllib3") for n in names):
                importers.add(path.relative_to(PACKAGE).as_posix())
    assert importers == {"cloud/transport.py"}


def test_answer_carries_plain_values(transport: RequestsTransport) -> None:
    with FakeApi(in_order(Reply(201, {"a": 1}, {"X-Rate-Limit-Remaining": "9"}))) as api:
        answer = send(transport, api)
        assert [(s.method, s.headers["Accept"]) for s in api.seen] == [("GET", "application/json")]
    assert (answer.status, answer.body, answer.attempts) == (201, b'{"a": 1}', 1)
    assert answer.header("x-rate-limit-remaining") == "9"


def test_get_is_retried_on_5xx_and_counts_its_attempts(transport: RequestsTransport) -> None:
    with FakeApi(in_order(Reply(502), Reply(503), Reply(body={}))) as api:
        answer = send(transport, api)
    assert (answer.status, answer.attempts) == (200, 3)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_writes_and_429_are_sent_once(transport: RequestsTransport, status: int) -> None:
    with FakeApi(in_order(Reply(status, headers={"Retry-After": "1"}), Reply(body={}))) as api:
        answer = send(transport, api, "POST")
        assert len(api.seen) == 1
    assert (answer.status, answer.attempts) == (status, 1)


def test_429_of_a_get_is_left_to_the_client(transport: RequestsTransport) -> None:
    with FakeApi(in_order(Reply(429, headers={"Retry-After": "1"}), Reply(body={}))) as api:
        assert send(transport, api).status == 429
        assert len(api.seen) == 1


def test_redirects_are_not_followed(transport: RequestsTransport) -> None:
    with FakeApi(in_order(Reply(302, headers={"Location": "/v1/elsewhere"}))) as api:
        answer = send(transport, api)
        assert len(api.seen) == 1
    assert answer.header("Location") == "/v1/elsewhere"


def test_cookies_are_refused(transport: RequestsTransport) -> None:
    with FakeApi(in_order(Reply(body={}, headers={"Set-Cookie": "id=1; Path=/"}))) as api:
        send(transport, api)
        send(transport, api)
        assert "Cookie" not in api.seen[1].headers


def test_refused_connection_was_never_sent(transport: RequestsTransport) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    error = failure(transport, f"http://127.0.0.1:{port}/v1")
    assert (error.reason, error.sent, error.attempts) == ("connection refused", False, 3)


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(drop=True), "connection closed without an answer"),
        (Reply(body={"a": 1}, cut=True), "answer cut short"),
        (Reply(raw=b"garbage\r\n\r\n"), "connection failed"),
        (Reply(body={}, delay=0.5), "timed out after 0.2s waiting for an answer"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_lost_answers_may_have_been_sent(
    transport: RequestsTransport, reply: Reply, reason: str, method: str
) -> None:
    with FakeApi(in_order(reply)) as api:
        error = failure(transport, api.url, method)
        expected = 1 if method == "POST" or reply.cut else 3
        assert (error.reason, error.sent, error.attempts, len(api.seen)) == (
            reason,
            True,
            expected,
            expected,
        )


# --- bounded answers ---------------------------------------------------------------------------


def test_a_gzip_answer_is_decompressed(transport: RequestsTransport) -> None:
    body = gzip.compress(b'{"a": 1}')
    reply = Reply(body=body, headers={"Content-Encoding": "gzip"})
    with FakeApi(in_order(reply)) as api:
        answer = send(transport, api)
        assert answer.body == b'{"a": 1}'
        assert api.seen[0].headers["Accept-Encoding"] == "gzip, deflate"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(
            body=gzip.compress(bytes(MAX_ANSWER_BYTES + 1)), headers={"Content-Encoding": "gzip"}
        ),
        Reply(body=bytes(MAX_ANSWER_BYTES + 1)),
    ],
    ids=["gzip-bomb", "huge-body"],
)
def test_an_answer_past_the_size_cap_stops(transport: RequestsTransport, reply: Reply) -> None:
    assert MAX_ANSWER_BYTES == 32 * 1024 * 1024
    with FakeApi(in_order(reply)) as api, pytest.raises(TransportError) as caught:
        transport.send("POST", api.url + "/x", {}, b"{}", 30.0)
    error = caught.value
    assert (error.reason, error.sent, error.attempts) == ("answer larger than 32 MiB", True, 1)


def test_a_broken_gzip_answer_is_cut_short(transport: RequestsTransport) -> None:
    reply = Reply(body=b"not gzip at all", headers={"Content-Encoding": "gzip"})
    with FakeApi(in_order(reply)) as api:
        error = failure(transport, api.url, "POST")
    assert (error.reason, error.sent) == ("answer cut short", True)


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_a_proxy_from_the_environment_is_used(no_proxy_env: pytest.MonkeyPatch) -> None:
    with FakeApi(in_order(Reply(body={}))) as proxy:
        no_proxy_env.setenv("http_proxy", proxy.url.removesuffix("/v1"))
        sender = RequestsTransport(get_retries=0, backoff_factor=0.0)
        try:
            answer = sender.send("GET", "http://api.example.invalid/v1/x", {}, None, 2.0)
        finally:
            sender.close()
        assert [s.path for s in proxy.seen] == ["http://api.example.invalid/v1/x"]
    assert answer.status == 200


def test_no_proxy_from_the_environment_is_honoured(no_proxy_env: pytest.MonkeyPatch) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{unused.getsockname()[1]}"
    no_proxy_env.setenv("http_proxy", dead)
    no_proxy_env.setenv("no_proxy", "127.0.0.1")
    with FakeApi(in_order(Reply(body={}))) as api:
        sender = RequestsTransport(get_retries=0, backoff_factor=0.0)
        try:
            answer = send(sender, api)
        finally:
            sender.close()
        assert [s.api_path for s in api.seen] == ["/x"]
    assert answer.status == 200


def test_the_environment_is_read_once_per_host(
    no_proxy_env: pytest.MonkeyPatch, transport: RequestsTransport
) -> None:
    import requests.utils

    hosts: list[str] = []
    real = requests.utils.get_environ_proxies

    def counting(url: str, no_proxy: str | None = None) -> dict[str, str]:
        hosts.append(url)
        return real(url, no_proxy)

    no_proxy_env.setattr(requests.utils, "get_environ_proxies", counting)
    with FakeApi(in_order(Reply(body={}), Reply(body={}), Reply(body={}))) as api:
        assert [send(transport, api).status for _ in range(3)] == [200, 200, 200]
    assert hosts == [api.url + "/x"]
