"""Run the simulator in a child process for the read benchmarks.

A separate process, like the real API: the simulator's own work (rendering pages,
50 ms latency sleeps) does not compete with the client for the GIL. The child builds the
generated account (:func:`workload.seed_document`) into a state file, serves it on a free
loopback port, prints its URL on one line, and stops when its stdin closes.

    python bench/simproc.py --subscriptions 10 --databases 100 --latency-ms 50
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
READY_PREFIX = "listening "


@dataclass(frozen=True)
class SimulatorProcess:
    """A simulator running in a child process: its API URL and credentials."""

    url: str
    api_key: str
    api_secret: str

    def stats(self) -> dict[str, Any]:
        """Return ``GET /_simulator/stats`` (request counts; the call itself is not counted)."""
        root = self.url.rsplit("/v1", 1)[0]
        with urllib.request.urlopen(f"{root}/_simulator/stats", timeout=10) as answer:
            stats: dict[str, Any] = json.load(answer)
        return stats

    def requests_total(self) -> int:
        """Return the number of API requests served so far."""
        return int(self.stats()["total"])


@contextmanager
def simulator_process(
    subscriptions: int, databases: int, latency_ms: float
) -> Iterator[SimulatorProcess]:
    """Start a child simulator of the generated account; yield it; stop it on exit.

    Raises:
        RuntimeError: the child exited before printing its URL.
    """
    command = [
        sys.executable,
        str(HERE / "simproc.py"),
        f"--subscriptions={subscriptions}",
        f"--databases={databases}",
        f"--latency-ms={latency_ms}",
    ]
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    try:
        line = child.stdout.readline()
        if not line.startswith(READY_PREFIX):
            raise RuntimeError(f"simulator child failed to start: {line!r}")
        url, key, secret = line[len(READY_PREFIX) :].split()
        yield SimulatorProcess(url, key, secret)
    finally:
        child.stdin.close()
        child.wait(timeout=60)


def _serve(subscriptions: int, databases: int, latency_ms: float) -> None:
    from workload import seed_document

    from reconciler.simulator import SimulatorConfig, serve_in_background
    from reconciler.simulator.seed import account_from_document
    from reconciler.simulator.state import save_account

    with tempfile.TemporaryDirectory(prefix="bench-sim-") as folder:
        state = Path(folder) / "state.json"
        account = account_from_document(
            seed_document(subscriptions, databases), "generated", time.time()
        )
        save_account(account, state)
        config = SimulatorConfig(port=0, state_path=state, latency_ms=latency_ms)
        with serve_in_background(config) as running:
            print(f"{READY_PREFIX}{running.url} {running.api_key} {running.api_secret}", flush=True)
            sys.stdin.read()  # until the parent closes our stdin


def main() -> None:
    """Serve the generated account until stdin closes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, required=True)
    parser.add_argument("--databases", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    _serve(args.subscriptions, args.databases, args.latency_ms)


if __name__ == "__main__":
    main()
