"""Tests for reconciler.cloud.client over HTTP: the shared scripted fake API on 127.0.0.1."""

from __future__ import annotations

import email.utils
import json
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import FakeTime
from fake_api import FakeApi, Reply, in_order

from reconciler import __version__
from reconciler.cloud.client import DEFAULT_API_URL, ApiClient, check_api_url
from reconciler.errors import (
    ApiError,
    ApiUnavailableError,
    AuthenticationError,
    BadResponseError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    UnknownOutcomeError,
    UsageError,
)
from reconciler.secrets import Secret

API_KEY = "account-key-AAAA1111"
API_SECRET = "user-secret-BBBB2222"
PASSWORD = "db-password-CCCC3333"
UNKNOWN = "the change may or may not have taken effect; re-read before retrying"


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
def serve() -> Iterator[Callable[..., FakeApi]]:
    started: list[FakeApi] = []

    def start(*replies: Reply) -> FakeApi:
        api = FakeApi(in_order(*replies))
        started.append(api)
        return api

    yield start
    for api in started:
        api.close()


@pytest.fixture
def make_client(fake_time: FakeTime) -> Iterator[Callable[..., ApiClient]]:
    clients: list[ApiClient] = []

    def make(url: str, **options: Any) -> ApiClient:
        settings: dict[str, Any] = {
            "timeout": 5.0,
            "backoff_factor": 0.0,
            "sleep": fake_time.sleep,
            "clock": fake_time.clock,
        }
        settings.update(options)
        client = ApiClient(url, API_KEY, API_SECRET, **settings)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def free_port() -> int:
    """A loopback port nobody listens on (bound then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def raised(error: pytest.ExceptionInfo[ApiError]) -> str:
    return str(error.value)


# --- check_api_url ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (DEFAULT_API_URL, "https://api.redislabs.com/v1"),
        ("https://api.redislabs.com/v1/", "https://api.redislabs.com/v1"),
        ("  https://example.com  ", "https://example.com"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1"),
        ("http://127.9.9.9", "http://127.9.9.9"),
        ("http://localhost:9000", "http://localhost:9000"),
        ("HTTP://LOCALHOST:9000", "HTTP://LOCALHOST:9000"),
        ("http://[::1]:8080/v1", "http://[::1]:8080/v1"),
    ],
)
def test_check_api_url_accepts(url: str, expected: str) -> None:
    assert check_api_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://example.com/v1",
            "refusing plain http:// to a non-loopback host 'example.com': use https://",
        ),
        (
            "http://10.0.0.1:8080",
            "refusing plain http:// to a non-loopback host '10.0.0.1': use https://",
        ),
        (
            "http://127.0.0.1.example.com",
            "refusing plain http:// to a non-loopback host '127.0.0.1.example.com': use https://",
        ),
        (
            "http://[2001:db8::1]/",
            "refusing plain http:// to a non-loopback host '2001:db8::1': use https://",
        ),
        ("ftp://example.com", "invalid API URL 'ftp://example.com': expected https://HOST[/PATH]"),
        (
            "api.redislabs.com/v1",
            "invalid API URL 'api.redislabs.com/v1': expected https://HOST[/PATH]",
        ),
        ("https://", "invalid API URL 'https://': expected https://HOST[/PATH]"),
        (
            "https://host:99999",
            "invalid API URL 'https://host:99999': expected https://HOST[/PATH]",
        ),
        (
            "ftp://u:pw@host",
            "invalid API URL 'ftp://(sensitive)@host': expected https://HOST[/PATH]",
        ),
    ],
)
def test_check_api_url_refuses(url: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        check_api_url(url)
    assert str(error.value) == message


def test_client_refuses_plain_http_to_remote_host() -> None:
    with pytest.raises(UsageError):
        ApiClient("http://example.com", API_KEY, API_SECRET)


# --- what is sent ----------------------------------------------------------------------------


def test_get_sends_headers_and_params_and_returns_json(serve: Any, make_client: Any) -> None:
    api = serve(Reply(body={"subscriptions": [1, 2]}))
    client = make_client(api.url)
    assert client.get("/subscriptions", {"offset": 0, "limit": 100}) == {"subscriptions": [1, 2]}
    [seen] = api.seen
    assert (seen.method, seen.path) == ("GET", "/v1/subscriptions?offset=0&limit=100")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert seen.headers["x-api-key"] == API_KEY
    assert seen.headers["x-api-secret-key"] == API_SECRET
    assert seen.headers["Accept"] == "application/json"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["User-Agent"] == f"reconciler/{__version__} (python {python})"
    assert client.request_count == 1


def test_write_reveals_secrets_only_in_the_body_sent(serve: Any, make_client: Any) -> None:
    task = {"taskId": "f3ec0e7b", "status": "received"}
    api = serve(Reply(status=202, body=task))
    client = make_client(api.url)
    body = {"name": "reports", "password": Secret(PASSWORD), "alerts": [{"name": "x"}]}
    assert client.write("post", "/subscriptions/1/databases", body) == task
    [seen] = api.seen
    assert seen.method == "POST"
    assert json.loads(seen.body) == {
        "name": "reports",
        "password": PASSWORD,
        "alerts": [{"name": "x"}],
    }


def test_write_without_body_sends_none(serve: Any, make_client: Any) -> None:
    api = serve(Reply(status=202, body={"taskId": "t"}))
    client = make_client(api.url)
    client.write("DELETE", "/subscriptions/1/databases/2")
    assert (api.seen[0].method, api.seen[0].body) == ("DELETE", b"")


def test_write_refuses_get(make_client: Any) -> None:
    client = make_client("http://127.0.0.1:1")
    with pytest.raises(ValueError, match="not a write method: GET"):
        client.write("GET", "/subscriptions")


def test_context_manager_closes(serve: Any) -> None:
    api = serve(Reply(body={}))
    with ApiClient(api.url, API_KEY, API_SECRET) as client:
        assert client.get("/x") == {}
    assert client.base_url == api.url


# --- error translation -----------------------------------------------------------------------


NGINX_401 = (
    "<html>\r\n<head><title>401 Authorization Required</title></head>\r\n<body>\r\n"
    "<center><h1>401 Authorization Required</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n" + "<!-- padding -->\r\n" * 20
)


@pytest.mark.parametrize(
    ("reply", "kind", "message"),
    [
        (
            Reply(401, NGINX_401, {"Content-Type": "text/html"}),
            AuthenticationError,
            "GET /subscriptions/1: HTTP 401: 401 Authorization Required",
        ),
        (
            Reply(
                403,
                {
                    "error": {
                        "type": "UNAUTHORIZED",
                        "status": "403 FORBIDDEN",
                        "description": "IP not allowed",
                    }
                },
            ),
            AuthenticationError,
            "GET /subscriptions/1: HTTP 403, UNAUTHORIZED: IP not allowed",
        ),
        (
            Reply(404, ""),
            NotFoundError,
            "GET /subscriptions/1: HTTP 404",
        ),
        (
            Reply(
                404, {"type": "SUBSCRIPTION_NOT_FOUND", "status": 404, "description": "Not found"}
            ),
            NotFoundError,
            "GET /subscriptions/1: HTTP 404, SUBSCRIPTION_NOT_FOUND: Not found",
        ),
        (
            Reply(409, {"error": "Conflict", "message": "name\nexists"}),
            ConflictError,
            "GET /subscriptions/1: HTTP 409, Conflict: name exists",
        ),
        (
            Reply(400, "plain text\nsecond line", {"Content-Type": "text/plain"}),
            ApiError,
            "GET /subscriptions/1: HTTP 400: plain text",
        ),
        (
            Reply(422, {"message": "unprocessable"}),
            ApiError,
            "GET /subscriptions/1: HTTP 422: unprocessable",
        ),
        (
            Reply(400, "x" * 500, {"Content-Type": "text/plain"}),
            ApiError,
            "GET /subscriptions/1: HTTP 400: " + "x" * 199 + "…",
        ),
        (
            Reply(
                400, "<html><body><p>broken   page</p></body></html>", {"Content-Type": "text/html"}
            ),
            ApiError,
            "GET /subscriptions/1: HTTP 400: broken page",
        ),
        (
            Reply(302, "", {"Location": "https://elsewhere.example/v1"}),
            ApiError,
            "GET /subscriptions/1: HTTP 302: unexpected redirect to https://elsewhere.example/v1",
        ),
    ],
)
def test_status_errors(
    serve: Any, make_client: Any, reply: Reply, kind: type[ApiError], message: str
) -> None:
    api = serve(reply)
    client = make_client(api.url)
    with pytest.raises(ApiError) as error:
        client.get("/subscriptions/1")
    assert type(error.value) is kind
    assert raised(error) == message
    assert error.value.status == reply.status
    assert len(api.seen) == 1  # 4xx are not retried, redirects not followed


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            Reply(200, "<html>oops</html>", {"Content-Type": "text/html"}),
            "GET /x: HTTP 200: answer is not JSON (text/html, 17 bytes)",
        ),
        (Reply(200, ""), "GET /x: HTTP 200: answer is not JSON (application/json, 0 bytes)"),
        (
            Reply(200, '{"security": {"password": "' + PASSWORD + '"'),
            f"GET /x: HTTP 200: answer is not JSON (application/json, {28 + len(PASSWORD)} bytes)",
        ),
    ],
)
def test_bad_2xx_body(serve: Any, make_client: Any, reply: Reply, message: str) -> None:
    client = make_client(serve(reply).url)
    with pytest.raises(BadResponseError) as error:
        client.get("/x")
    assert raised(error) == message
    assert error.value.__context__ is None  # the JSON error holds the whole body


def test_secrets_stay_out_of_errors_and_logs(
    serve: Any, make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"error": {"type": "DATABASE_PASSWORD_IS_TOO_LONG", "description": f"bad {PASSWORD}"}}
    api = serve(Reply(400, echo))
    client = make_client(api.url)
    with pytest.raises(ApiError) as error:
        client.write("PUT", "/subscriptions/1/databases/2", {"password": Secret(PASSWORD)})
    assert raised(error) == (
        "PUT /subscriptions/1/databases/2: HTTP 400, DATABASE_PASSWORD_IS_TOO_LONG: bad (sensitive)"
    )
    assert PASSWORD.encode() in api.seen[0].body
    assert "PUT /subscriptions/1/databases/2 -> 400 in " in caplog.text
    for secret in (PASSWORD, API_KEY, API_SECRET):
        assert secret not in caplog.text
        assert secret not in repr(error.value.__dict__)
    assert error.value.__context__ is None


# --- retries of GETs on 5xx and connection errors ---------------------------------------------


def test_get_retries_5xx_then_succeeds(serve: Any, make_client: Any) -> None:
    api = serve(Reply(500), Reply(502), Reply(503), Reply(504), Reply(body={"ok": True}))
    client = make_client(api.url, get_retries=4)
    assert client.get("/x") == {"ok": True}
    assert len(api.seen) == 5
    assert client.request_count == 5


def test_get_5xx_retries_exhausted(serve: Any, make_client: Any) -> None:
    api = serve(Reply(503, {"type": "GENERAL_ERROR", "description": "try later"}))
    client = make_client(api.url, get_retries=2)
    with pytest.raises(ApiUnavailableError) as error:
        client.get("/x")
    assert raised(error) == (
        f"GET /x: HTTP 503, GENERAL_ERROR: try later; {api.url} still failing after 2 retries"
    )
    assert len(api.seen) == 3
    assert client.request_count == 3


def test_get_retries_dropped_connection(serve: Any, make_client: Any) -> None:
    api = serve(Reply(drop=True), Reply(body=[1]))
    client = make_client(api.url)
    assert client.get("/x") == [1]
    assert len(api.seen) == 2
    assert client.request_count == 2


def test_get_dropped_connection_retries_exhausted(serve: Any, make_client: Any) -> None:
    api = serve(Reply(drop=True))
    client = make_client(api.url, get_retries=1)
    with pytest.raises(ApiUnavailableError) as error:
        client.get("/x")
    assert raised(error) == (
        f"GET /x: request to {api.url} failed: connection closed without an answer"
    )
    assert len(api.seen) == 2


def test_get_read_timeout(serve: Any, make_client: Any) -> None:
    api = serve(Reply(body={}, delay=0.4))
    client = make_client(api.url, timeout=0.1, get_retries=0)
    with pytest.raises(ApiUnavailableError) as error:
        client.get("/x")
    assert raised(error) == (
        f"GET /x: request to {api.url} failed: timed out after 0.1s waiting for an answer"
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_connection_refused(make_client: Any, method: str) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = make_client(url, get_retries=2)
    with pytest.raises(ApiUnavailableError) as error:
        if method == "GET":
            client.get("/subscriptions")
        else:
            client.write(method, "/subscriptions", {"password": Secret(PASSWORD)})
    assert raised(error) == f"{method} /subscriptions: cannot reach {url}: connection refused"
    assert error.value.__context__ is None
    assert client.request_count == (3 if method == "GET" else 1)


# --- writes are sent once --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_write_5xx_is_unknown_outcome_and_not_resent(
    serve: Any, make_client: Any, method: str, status: int
) -> None:
    api = serve(Reply(status, {"error": {"type": "GENERAL_ERROR", "description": "boom"}}))
    client = make_client(api.url, get_retries=4)
    with pytest.raises(UnknownOutcomeError) as error:
        client.write(method, "/subscriptions/1/databases", {"name": "a"})
    assert raised(error) == (
        f"{method} /subscriptions/1/databases: HTTP {status}, GENERAL_ERROR: boom; {UNKNOWN}"
    )
    assert len(api.seen) == 1
    assert client.request_count == 1


def test_write_dropped_connection_is_unknown_outcome(serve: Any, make_client: Any) -> None:
    api = serve(Reply(drop=True), Reply(202, {"taskId": "t"}))
    client = make_client(api.url, get_retries=4)
    with pytest.raises(UnknownOutcomeError) as error:
        client.write("POST", "/subscriptions/1/databases", {"password": Secret(PASSWORD)})
    assert raised(error) == (
        "POST /subscriptions/1/databases: request sent but connection closed without an "
        f"answer; {UNKNOWN}"
    )
    assert len(api.seen) == 1
    assert error.value.__context__ is None


def test_write_read_timeout_is_unknown_outcome(serve: Any, make_client: Any) -> None:
    api = serve(Reply(202, {"taskId": "t"}, delay=0.4))
    client = make_client(api.url, timeout=0.1)
    with pytest.raises(UnknownOutcomeError) as error:
        client.write("PUT", "/subscriptions/1/databases/2", {"datasetSizeInGb": 2})
    assert raised(error) == (
        "PUT /subscriptions/1/databases/2: request sent but timed out after 0.1s waiting for "
        f"an answer; {UNKNOWN}"
    )
    assert len(api.seen) == 1


# --- 429 and the request budget --------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-rate-limit-retry-after-seconds": "7"}, 7.0),
        ({"Retry-After": "3"}, 3.0),
        ({"x-rate-limit-retry-after-seconds": "7", "Retry-After": "3"}, 7.0),
        ({"x-rate-limit-retry-after-seconds": "0"}, 1.0),
        ({"x-rate-limit-retry-after-seconds": "soon", "Retry-After": "2.5"}, 2.5),
        ({"x-rate-limit-retry-after-seconds": "nan", "Retry-After": "2"}, 2.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 1.0),
        ({"x-rate-limit-retry-after-seconds": "-1e308"}, 1.0),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_429_honours_delay_headers(
    serve: Any,
    make_client: Any,
    fake_time: FakeTime,
    headers: dict[str, str],
    expected: float,
    method: str,
) -> None:
    api = serve(Reply(429, {"error": "Too Many Requests"}, headers), Reply(202, {"taskId": "t"}))
    client = make_client(api.url)
    result = client.get("/x") if method == "GET" else client.write(method, "/x", {"a": 1})
    assert result == {"taskId": "t"}
    assert fake_time.sleeps == [expected]
    assert len(api.seen) == 2  # a 429 was not processed: re-sending a write is safe
    assert client.request_count == 2


def test_429_retry_after_http_date(serve: Any, make_client: Any, fake_time: FakeTime) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    api = serve(Reply(429, "", {"Retry-After": when}), Reply(body={}))
    make_client(api.url).get("/x")
    [slept] = fake_time.sleeps
    assert 28 <= slept <= 30


def test_429_without_headers_backs_off_with_jitter(
    serve: Any, make_client: Any, fake_time: FakeTime
) -> None:
    api = serve(Reply(429), Reply(429), Reply(429), Reply(body={}))
    make_client(api.url).get("/x")
    assert [int(s // 5 * 5) for s in fake_time.sleeps] == [5, 10, 20]
    assert all(
        base <= s <= base * 1.2 for base, s in zip([5, 10, 20], fake_time.sleeps, strict=True)
    )


def test_429_gives_up_after_the_wait_limit(
    serve: Any, make_client: Any, fake_time: FakeTime
) -> None:
    api = serve(
        Reply(429, {"type": "TOO_MANY_REQUESTS"}, {"x-rate-limit-retry-after-seconds": "50"})
    )
    client = make_client(api.url, rate_limit_wait_max=120.0)
    with pytest.raises(RateLimitedError) as error:
        client.write("POST", "/x", {})
    assert raised(error) == (
        "POST /x: HTTP 429, TOO_MANY_REQUESTS: too many requests; gave up after waiting 100s "
        "(the next wait, 50s, would pass the 120s limit)"
    )
    assert fake_time.sleeps == [50.0, 50.0]
    assert len(api.seen) == 3


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-rate-limit-retry-after-seconds", "1e308"),
        ("Retry-After", "1" + "0" * 300),
        ("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT"),
    ],
)
def test_an_absurd_429_wait_is_clamped_and_printed_sanely(
    serve: Any, make_client: Any, fake_time: FakeTime, header: str, value: str
) -> None:
    api = serve(Reply(429, {"type": "TOO_MANY_REQUESTS"}, {header: value}))
    client = make_client(api.url, rate_limit_wait_max=120.0)
    with pytest.raises(RateLimitedError) as error:
        client.get("/x")
    assert raised(error) == (
        "GET /x: HTTP 429, TOO_MANY_REQUESTS: too many requests; gave up after waiting 0s "
        "(the next wait, 3600s (the most waited), would pass the 120s limit)"
    )
    assert fake_time.sleeps == []


def test_429_is_not_retried_by_urllib3(serve: Any, make_client: Any, fake_time: FakeTime) -> None:
    api = serve(Reply(429, "", {"Retry-After": "1000"}))
    client = make_client(api.url, rate_limit_wait_max=10.0)
    started = time.monotonic()
    with pytest.raises(RateLimitedError):
        client.get("/x")
    assert time.monotonic() - started < 2
    assert len(api.seen) == 1
    assert fake_time.sleeps == []


def test_budget_waits_for_the_window_once_spent(
    serve: Any, make_client: Any, fake_time: FakeTime
) -> None:
    fake_time.now = 100.0
    api = serve(
        Reply(body={}, headers={"X-Rate-Limit-Remaining": "2"}),
        Reply(body={}, headers={"X-Rate-Limit-Remaining": "1"}),
        Reply(body={}, headers={"X-Rate-Limit-Remaining": "0"}),
        Reply(body={}, headers={"X-Rate-Limit-Remaining": "399"}),
    )
    client = make_client(api.url)
    for _ in range(3):
        client.get("/x")
    assert fake_time.sleeps == []
    fake_time.now = 130.0
    client.get("/x")  # the window seen starting at 100 ends at 160
    assert fake_time.sleeps == [30.0]
    client.get("/x")
    client.get("/x")
    assert fake_time.sleeps == [30.0]
    assert len(api.seen) == 6


def test_budget_ignores_missing_or_bad_header(
    serve: Any, make_client: Any, fake_time: FakeTime
) -> None:
    api = serve(Reply(body={}, headers={"X-Rate-Limit-Remaining": "many"}), Reply(body={}))
    client = make_client(api.url)
    for _ in range(3):
        client.get("/x")
    assert fake_time.sleeps == []
