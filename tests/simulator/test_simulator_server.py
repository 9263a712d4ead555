"""The HTTP server and its lifecycle (reconciler/simulator/server.py, gateway.py)."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from conftest import SimApi

from reconciler.simulator import (
    RunningSimulator,
    SimulatorConfig,
    serve_forever,
    serve_in_background,
)
from reconciler.simulator import server as server_module
from reconciler.simulator.gateway import encode
from reconciler.simulator.replies import Reply

PROD = "/subscriptions/2001234"
SESSIONS = f"{PROD}/databases/51170941"


def connection(running: RunningSimulator) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(running.host, running.port, timeout=5)


def auth(running: RunningSimulator) -> dict[str, str]:
    return {"x-api-key": running.api_key, "x-api-secret-key": running.api_secret}


def test_starts_fast_and_stops_cleanly() -> None:
    started = time.perf_counter()
    running = serve_in_background(SimulatorConfig(port=0))
    assert time.perf_counter() - started < 1.0
    assert running.url == f"http://127.0.0.1:{running.port}/v1"
    with running:
        assert requests.get(running.url + PROD, headers=auth(running), timeout=5).status_code == 200
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((running.host, running.port), timeout=1)
    running.stop()  # idempotent


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "sim-key"},
        {"x-api-secret-key": "sim-secret"},
        {"x-api-key": "sim-key", "x-api-secret-key": "wrong"},
        {"x-api-key": "wrong", "x-api-secret-key": "sim-secret"},
    ],
)
def test_both_keys_are_required(simulator: RunningSimulator, headers: dict[str, str]) -> None:
    answer = requests.get(simulator.url + PROD, headers=headers, timeout=5)
    assert answer.status_code == 401
    assert answer.json() == {
        "error": {
            "type": "UNAUTHORIZED",
            "status": "401 UNAUTHORIZED",
            "description": "Authentication failed for requested resource",
        }
    }


def test_key_headers_are_case_insensitive(simulator: RunningSimulator) -> None:
    headers = {"X-Api-Key": "sim-key", "X-API-SECRET-KEY": "sim-secret"}
    assert requests.get(simulator.url + PROD, headers=headers, timeout=5).status_code == 200


def test_custom_keys(make_simulator: Callable[..., RunningSimulator]) -> None:
    running = make_simulator(api_key="k1", api_secret="s1")
    assert (running.api_key, running.api_secret) == ("k1", "s1")
    assert requests.get(running.url + PROD, headers=auth(running), timeout=5).status_code == 200


def test_keep_alive_serves_many_requests_on_one_connection(simulator: RunningSimulator) -> None:
    client = connection(simulator)
    try:
        client.request("GET", "/v1" + PROD, headers=auth(simulator))
        first = client.getresponse()
        assert int(first.headers["Content-Length"]) == len(first.read())
        local = client.sock.getsockname()
        for _ in range(50):
            client.request("GET", "/v1" + SESSIONS, headers=auth(simulator))
            answer = client.getresponse()
            assert json.loads(answer.read())["databaseId"] == 51170941
        assert client.sock.getsockname() == local
    finally:
        client.close()


@pytest.mark.parametrize(
    "payload",
    [
        b"GET /v1/subscriptions HTTP/1.1\r\nHost: x\r\n",  # headers never finished
        b"PUT /v1/subscriptions/2001234/databases/51170941 HTTP/1.1\r\n"
        b"Content-Length: 100\r\n\r\n{",
        b"",
    ],
)
def test_client_disconnects_print_nothing(
    simulator: RunningSimulator, capfd: pytest.CaptureFixture[str], payload: bytes
) -> None:
    with socket.create_connection((simulator.host, simulator.port), timeout=5) as raw:
        raw.sendall(payload)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    time.sleep(0.05)
    simulator.stop()
    assert capfd.readouterr().err == ""


def test_client_gone_before_the_answer_prints_nothing(
    make_simulator: Callable[..., RunningSimulator], capfd: pytest.CaptureFixture[str]
) -> None:
    running = make_simulator(latency_ms=100)
    with socket.create_connection((running.host, running.port), timeout=5) as raw:
        raw.sendall(
            b"GET /v1/subscriptions HTTP/1.1\r\nHost: x\r\n"
            b"x-api-key: sim-key\r\nx-api-secret-key: sim-secret\r\n\r\n"
        )
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    time.sleep(0.2)
    running.stop()
    assert capfd.readouterr().err == ""


def test_stop_closes_open_keep_alive_connections(
    make_simulator: Callable[..., RunningSimulator],
) -> None:
    running = make_simulator()
    client = connection(running)
    try:
        client.request("GET", "/v1" + PROD, headers=auth(running))
        client.getresponse().read()
        started = time.perf_counter()
        running.stop()
        assert time.perf_counter() - started < 1.0
    finally:
        client.close()


def test_latency_is_added_and_concurrent_clients_overlap(
    make_simulator: Callable[..., RunningSimulator],
) -> None:
    running = make_simulator(latency_ms=200)
    durations: list[float] = []

    def one_request() -> None:
        started = time.perf_counter()
        requests.get(running.url + PROD, headers=auth(running), timeout=5)
        durations.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=one_request) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert min(durations) >= 0.2
    assert time.perf_counter() - started < 0.6  # 4 requests of 200 ms overlapped


def test_log_lines_name_method_path_status_but_no_secrets(
    make_simulator: Callable[..., RunningSimulator], sim_api: Callable[[RunningSimulator], SimApi]
) -> None:
    lines: list[str] = []
    api = sim_api(
        make_simulator(log=lines.append, api_key="key-abc123", api_secret="secret-def456")
    )
    api.put(SESSIONS, {"password": "very-secret-password"})
    api.get(SESSIONS)
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        f"PUT /v1{SESSIONS} 200",
        f"GET /v1{SESSIONS} 200",
    ]
    assert all(line.endswith("ms") for line in lines)
    joined = "\n".join(lines)
    for secret in ("very-secret-password", "key-abc123", "secret-def456", "seed-sessions-password"):
        assert secret not in joined


def test_reset_goes_back_to_the_seed(
    simulator: RunningSimulator, sim_api: Callable[[RunningSimulator], SimApi]
) -> None:
    api = sim_api(simulator)
    api.delete(SESSIONS)
    api.post(f"{PROD}/databases", {"name": "reports"})
    base = simulator.url.removesuffix("/v1")
    assert api.session.post(f"{base}/_simulator/reset").json() == {"reset": True}
    assert api.get("/tasks").json() == {"tasks": []}
    assert api.session.get(f"{base}/_simulator/stats").json()["total"] == 1
    assert api.get(SESSIONS).json()["status"] == "active"


@pytest.mark.parametrize("path", ["/", "/v2/subscriptions", "/_simulator/nothing"])
def test_unknown_top_level_paths_are_404(simulator: RunningSimulator, path: str) -> None:
    base = simulator.url.removesuffix("/v1")
    assert requests.get(base + path, headers=auth(simulator), timeout=5).status_code == 404


def test_links_use_the_host_the_client_used(simulator: RunningSimulator) -> None:
    answer = requests.get(simulator.url + PROD, headers=auth(simulator), timeout=5).json()
    assert urlsplit(answer["links"][0]["href"]).netloc == f"127.0.0.1:{simulator.port}"


def interrupted() -> None:
    """Stands in for the wait in serve_forever: Ctrl-C at once."""
    raise KeyboardInterrupt


def test_serve_forever_stops_cleanly_on_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(server_module, "wait_until_interrupted", interrupted)
    lines: list[str] = []
    state = tmp_path / "state.json"
    serve_forever(SimulatorConfig(port=0, state_path=state, log=lines.append))
    assert len(lines) == 1
    assert lines[0].startswith("Redis Cloud API simulator listening on http://127.0.0.1:")
    port = int(lines[0].rsplit(":", 1)[1].removesuffix("/v1"))
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1)
    assert state.is_file()


def test_json_answers_are_compact_and_parse_back() -> None:
    body = {"a": [1, {"b": "x, y: z"}], "c": None}
    answer = encode(Reply(200, body))
    assert answer.body == b'{"a":[1,{"b":"x, y: z"}],"c":null}'
    assert json.loads(answer.body) == body
    assert answer.headers["Content-Type"] == "application/json"
