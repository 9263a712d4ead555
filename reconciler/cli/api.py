"""Opening the API a command talks to: the real one with credentials, or the simulator.

The client is imported when a command opens it, so ``--version`` and ``validate`` never
load ``requests``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from reconciler.cli.runtime import Runtime
from reconciler.errors import UsageError

if TYPE_CHECKING:
    from reconciler.cloud import ApiClient

API_URL_ENV = "REDIS_API_URL"
KEY_ENVS = ("REDIS_API_KEY", "REDISCLOUD_ACCESS_KEY")
SECRET_ENVS = ("REDIS_API_SECRET", "REDISCLOUD_SECRET_KEY")


@contextmanager
def open_api(api_url: str | None, runtime: Runtime | None = None) -> Iterator[ApiClient]:
    """Yield an API client for ``api_url`` (or the env/default), simulator included.

    The client waits and retries on ``runtime``'s clock (real time by default).

    Raises:
        UsageError: missing credentials or a refused URL.
    """
    from reconciler.cloud import DEFAULT_API_URL, check_api_url
    from reconciler.secrets import url_secrets

    runtime = runtime or Runtime()
    url = api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL
    if url.startswith("sim:"):
        from reconciler.simulator import start_for_url

        with (
            start_for_url(url) as sim,
            _client(sim.url, sim.api_key, sim.api_secret, runtime) as client,
        ):
            yield client
        return
    key, secret = credentials(os.environ)
    _scrub_logs(secret, *url_secrets(url))
    base = check_api_url(url)
    with _client(base, key, secret, runtime) as client:
        yield client


def _scrub_logs(*secrets: str) -> None:
    """Mask ``secrets`` (in any encoding) in every log line from now on, at any verbosity."""
    from reconciler.secrets import LOG_SCRUBBER

    LOG_SCRUBBER.add(*secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(LOG_SCRUBBER)


def _client(base_url: str, key: str, secret: str, runtime: Runtime) -> ApiClient:
    from reconciler.cloud import ApiClient

    return ApiClient(
        base_url,
        key,
        secret,
        clock=runtime.clock,
        sleep=runtime.sleep,
        backoff_factor=runtime.backoff_factor,
        transport=runtime.transport() if runtime.transport is not None else None,
        max_requests_per_minute=runtime.max_requests_per_minute,
    )


def credentials(environ: Mapping[str, str]) -> tuple[str, str]:
    """Return the API key pair from ``environ`` (either naming convention).

    Raises:
        UsageError: the key, the secret or both are unset.
    """
    key = next((environ[n] for n in KEY_ENVS if environ.get(n)), None)
    secret = next((environ[n] for n in SECRET_ENVS if environ.get(n)), None)
    if key and secret:
        return key, secret
    missing = " and ".join(
        names[0] for names, value in ((KEY_ENVS, key), (SECRET_ENVS, secret)) if not value
    )
    raise UsageError(
        f"missing API credentials: set {missing} (or REDISCLOUD_ACCESS_KEY / REDISCLOUD_SECRET_KEY)"
    )
