"""Measure the simulator: startup time, and 1,000 GETs over one keep-alive connection.

Run from the project root::

    python bench/bench_simulator.py [--requests N] [--path /subscriptions/2001234/databases]

Prints the time ``serve_in_background`` takes to be ready (port 0), then the time for N
GETs on one ``http.client`` keep-alive connection, and the simulator's request count.
"""

from __future__ import annotations

import argparse
import http.client
import json
import time

from reconciler.simulator import SimulatorConfig, serve_in_background

DEFAULT_PATH = "/subscriptions/2001234/databases/51170941"


def measure(requests: int, path: str) -> dict[str, float]:
    """Return startup seconds, total seconds for ``requests`` GETs, and requests counted."""
    started = time.perf_counter()
    running = serve_in_background(SimulatorConfig(port=0))
    startup = time.perf_counter() - started
    headers = {"x-api-key": running.api_key, "x-api-secret-key": running.api_secret}
    connection = http.client.HTTPConnection(running.host, running.port, timeout=10)
    try:
        started = time.perf_counter()
        for _ in range(requests):
            connection.request("GET", "/v1" + path, headers=headers)
            answer = connection.getresponse()
            body = answer.read()
            if answer.status != 200:
                raise RuntimeError(f"GET {path} answered {answer.status}: {body[:200]!r}")
        elapsed = time.perf_counter() - started
    finally:
        connection.close()
        running.stop()
    return {"startup": startup, "elapsed": elapsed, "counted": float(running.stats()["total"])}


def main() -> None:
    """Parse the arguments, measure, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--path", default=DEFAULT_PATH, help="API path under /v1 to GET")
    args = parser.parse_args()
    figures = measure(args.requests, args.path)
    print(f"startup (serve_in_background, port 0): {figures['startup'] * 1000:.1f} ms")
    print(
        f"{args.requests} GETs {args.path} over one keep-alive connection: "
        f"{figures['elapsed']:.3f} s ({figures['elapsed'] / args.requests * 1000:.3f} ms each, "
        f"{args.requests / figures['elapsed']:.0f}/s)"
    )
    print(json.dumps({"requests counted by the simulator": int(figures["counted"])}))


if __name__ == "__main__":
    main()
