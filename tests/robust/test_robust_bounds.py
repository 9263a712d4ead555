"""Robustness: inputs and answers that never end stop within a documented bound.

Reproductions from the adversarial trials, each run as the user runs it — a ``reconciler``
subprocess with a wall-clock limit and a memory cap, so a regression fails instead of
hanging the suite or eating the machine:

- spec inputs that block or never end: a FIFO named ``*.yaml`` (alone or in a folder),
  ``/dev/zero``;
- API answers that never end: endless paging (100 new databases on every page: stopped at
  :data:`~reconciler.cloud.pages.MAX_PAGES` pages), a gzip bomb and a huge body (stopped at
  :data:`~reconciler.cloud.transport.MAX_ANSWER_BYTES` as sent and decompressed), and an
  answer trickling in a byte at a time (stopped at the whole-answer deadline; this one runs
  in-process, with a transport whose deadline is 0.3 s instead of 30 s).

Each ends with exit 1 and one clear line on stderr.
"""

from __future__ import annotations

import functools
import gzip
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from fake_api import FakeApi, Reply, Seen
from robust_support import PROJECT, run_cli

from reconciler.cli import Runtime
from reconciler.cloud import Answer, RequestsTransport

#: Wall-clock bound of one subprocess run; every case here ends far sooner.
RUN_SECONDS = 60
#: Address-space cap of one subprocess run: an unbounded read fails instead of swapping.
MEMORY_BYTES = 2 * 1024**3


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def reconciler(*argv: str, cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run ``python -m reconciler ARGV`` in ``cwd``; return (exit code, stdout, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *argv],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(PROJECT), "NO_COLOR": "1", **(env or {})},
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        preexec_fn=_cap_memory,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


NOT_REGULAR = "not a regular file: it is {}; a spec must be a plain YAML file"


@pytest.mark.parametrize(
    ("make", "arg", "line"),
    [
        (
            lambda d: os.mkfifo(d / "x.yaml"),
            "x.yaml",
            "x.yaml: " + NOT_REGULAR.format("a named pipe (FIFO)"),
        ),
        (
            lambda d: (d / "f").mkdir() or os.mkfifo(d / "f" / "x.yaml"),
            "f",
            "f/x.yaml: " + NOT_REGULAR.format("a named pipe (FIFO)"),
        ),
        (lambda d: None, "/dev/zero", "/dev/zero: " + NOT_REGULAR.format("a character device")),
    ],
    ids=["fifo", "fifo-in-folder", "dev-zero"],
)
def test_spec_inputs_that_never_end_are_refused(
    tmp_path: Path, make: Callable[[Path], object], arg: str, line: str
) -> None:
    make(tmp_path)
    code, out, err = reconciler("validate", arg, cwd=tmp_path)
    assert (code, out, err) == (1, "", f"{line}\n1 problem found.\n")


# --- answers that never end -------------------------------------------------------------------

SUB = 2001234
SPEC = f"version: 1\nsubscriptions:\n  - id: {SUB}\n    databases: []\n"
PAGE = f"GET /subscriptions/{SUB}/databases?offset={{offset}}&limit=100"
CREDENTIALS = {"REDIS_API_KEY": "key-1", "REDIS_API_SECRET": "secret-1"}


def endless_pages(seen: Seen) -> Reply:
    """Every page holds 100 databases never seen before; the subscription reports none."""
    if seen.route == f"/subscriptions/{SUB}":
        return Reply(body={"subscriptionId": SUB, "name": "endless", "status": "active"})
    first = int(seen.query.get("offset", "0")) + 1
    databases = [{"databaseId": i, "name": f"db-{i}"} for i in range(first, first + 100)]
    return Reply(body={"subscription": [{"subscriptionId": SUB, "databases": databases}]})


@functools.cache
def bomb() -> bytes:
    """64 MiB of spaces, gzipped to about 64 KiB."""
    return gzip.compress(b" " * (64 * 1024 * 1024), compresslevel=9)


def compressed_bomb(seen: Seen) -> Reply:
    return Reply(body=bomb(), headers={"Content-Encoding": "gzip"})


def huge_body(seen: Seen) -> Reply:
    return Reply(body=b" " * (32 * 1024 * 1024 + 1))


GET_SUB = f"GET /subscriptions/{SUB}"


@pytest.mark.parametrize(
    ("responder", "line"),
    [
        (
            endless_pages,
            f"error: {PAGE.format(offset=10000)}: HTTP 200: the database list does not end: "
            "stopped after 100 pages (10000 databases)",
        ),
        (
            compressed_bomb,
            f"error: {GET_SUB}: request to {{url}} failed: answer larger than 32 MiB",
        ),
        (huge_body, f"error: {GET_SUB}: request to {{url}} failed: answer larger than 32 MiB"),
    ],
    ids=["endless-paging", "gzip-bomb", "huge-body"],
)
def test_answers_that_never_end_stop_with_one_line(
    tmp_path: Path, responder: Callable[[Seen], Reply], line: str
) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    with FakeApi(responder) as api:
        started = time.monotonic()
        code, out, err = reconciler(
            "plan", "spec.yaml", "--api-url", api.url, cwd=tmp_path, env=CREDENTIALS
        )
        elapsed = time.monotonic() - started
    assert (code, out, err) == (1, "", line.format(url=api.url) + "\n")
    assert elapsed < RUN_SECONDS


class Trickle:
    """A loopback server sending headers, then one body byte every ``every`` seconds.

    ``close`` adds ``Connection: close`` (the connection then lets go of its socket while the
    answer is still being read from it).
    """

    def __init__(self, every: float, close: bool) -> None:
        self.every = every
        self.close_header = b"Connection: close\r\n" if close else b""
        self.stop = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            conn.sendall(head + self.close_header + b"Content-Length: 1000000\r\n\r\n")
            # At most 10 s of trickle, then it hangs up: a client without a deadline fails
            # the test (cut short, too late) instead of hanging the suite.
            until = time.monotonic() + 10
            while not self.stop.wait(self.every) and time.monotonic() < until:
                try:
                    conn.sendall(b" ")
                except OSError:
                    return

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.sock.close()


class ShortDeadline:
    """The real transport with a 0.3 s deadline (the client asks for 30 s)."""

    def __init__(self) -> None:
        self.real = RequestsTransport(get_retries=1, backoff_factor=0.0)

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Answer:
        return self.real.send(method, url, headers, body, 0.3)

    def close(self) -> None:
        self.real.close()


@pytest.fixture(params=[False, True], ids=["keep-alive", "connection-close"])
def trickle(request: pytest.FixtureRequest) -> Iterator[Trickle]:
    server = Trickle(every=0.05, close=request.param)
    yield server
    server.close()


def test_an_answer_trickling_in_stops_at_the_deadline(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    trickle: Trickle,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    runtime = Runtime(transport=ShortDeadline, backoff_factor=0.0)
    started = time.monotonic()
    code, out, err = run_cli(capsys, "plan", "spec.yaml", "--api-url", trickle.url, runtime=runtime)
    assert time.monotonic() - started < 5  # two attempts of 0.3 s, not 1e6 bytes x 0.05 s
    assert (code, out) == (1, "")
    assert err == (
        f"error: {GET_SUB}: request to {trickle.url} failed: timed out after 0.3s waiting for "
        "an answer\n"
    )
