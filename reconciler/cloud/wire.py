"""The transport seam: what :class:`~reconciler.cloud.client.ApiClient` asks of HTTP.

A transport sends one request and hands back plain values, so a fake needs no HTTP library:

- :class:`Transport` — the protocol: ``send(method, url, headers, body, timeout)`` returns an
  :class:`Answer` or raises :class:`TransportError`; ``close()`` releases its connections.
- :class:`Answer` — status, headers and body bytes of whatever came back, any status.
- :class:`TransportError` — no answer: a short reason, whether the request may have been
  sent (and so may have taken effect), and how many sends were tried.

The real transport is :class:`reconciler.cloud.transport.RequestsTransport`. The client turns
a :class:`TransportError` into :mod:`reconciler.errors`; it never escapes the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Answer:
    """One HTTP answer as plain values.

    ``attempts`` counts the sends the transport made to get it (retries included), so the
    client can count every request that reached the network.
    """

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    attempts: int = 1

    def header(self, name: str) -> str | None:
        """Return the value of header ``name`` (any case), or None when absent."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


class TransportError(Exception):
    """No answer came back.

    ``reason`` is a short human phrase ("connection refused"); ``sent`` is False only when no
    byte of the request can have left (so a write certainly did not take effect);
    ``attempts`` counts the sends tried, retries included.
    """

    def __init__(self, reason: str, *, sent: bool, attempts: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        self.attempts = attempts


class Transport(Protocol):
    """Sends one HTTP request; retries, if any, are its own business (GETs only)."""

    def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Answer:
        """Send ``method`` to ``url`` without following redirects; return the answer.

        ``timeout`` is the seconds to wait for an answer. Raises :class:`TransportError`.
        """
        ...

    def close(self) -> None:
        """Release pooled connections."""
        ...
