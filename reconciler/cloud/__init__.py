"""The API boundary: everything that speaks to the Redis Cloud REST API v1.

- :mod:`~reconciler.cloud.client` — :class:`ApiClient`, the HTTP client: JSON in,
  :mod:`reconciler.errors` out, the 429 wait and the rate-limit budget.
- :mod:`~reconciler.cloud.wire` — the transport seam: :class:`Transport`, :class:`Answer`,
  :class:`TransportError` (plain values; a fake transport needs nothing else).
- :mod:`~reconciler.cloud.transport` — :class:`RequestsTransport`, the real transport and the
  only module importing ``requests``/``urllib3`` (GET retries, writes sent once).
- :mod:`~reconciler.cloud.ratelimit` — the wait after a 429 and the request budget; which
  429 is the account busy changing other subscriptions (:func:`busy_delay`: its wait).
- :mod:`~reconciler.cloud.paths` — every path the tool calls.
- :mod:`~reconciler.cloud.pages` — the paged database list and the shapes of API answers.
- :mod:`~reconciler.cloud.errorbody` — error answers made into short, scrubbed lines.
- :mod:`~reconciler.cloud.reader` — :func:`read_live`, the live state a spec names.
- :mod:`~reconciler.cloud.tags` — database tags: their answers, the body that sets them.
- :mod:`~reconciler.cloud.lookups` — :class:`AccountLookups`, the values the account offers.
- :mod:`~reconciler.cloud.history` — :func:`read_system_log` (who changed what, bounded,
  never raising) and :func:`read_key_name` (the name of the API key in use).
"""

from reconciler.cloud import paths
from reconciler.cloud.client import DEFAULT_API_URL, ApiClient, check_api_url
from reconciler.cloud.history import LogRead, read_key_name, read_system_log
from reconciler.cloud.lookups import AccountLookups, Offered
from reconciler.cloud.pages import database_pages
from reconciler.cloud.ratelimit import busy_delay
from reconciler.cloud.reader import read_live
from reconciler.cloud.tags import read_tags, tags_body, tags_of, with_tags
from reconciler.cloud.transport import RequestsTransport
from reconciler.cloud.wire import Answer, Transport, TransportError

__all__ = [
    "DEFAULT_API_URL",
    "AccountLookups",
    "Answer",
    "ApiClient",
    "LogRead",
    "Offered",
    "RequestsTransport",
    "Transport",
    "TransportError",
    "busy_delay",
    "check_api_url",
    "database_pages",
    "paths",
    "read_key_name",
    "read_live",
    "read_system_log",
    "read_tags",
    "tags_body",
    "tags_of",
    "with_tags",
]
