"""The API boundary: everything that speaks to the Redis Cloud REST API v1.

- :mod:`~reconciler.cloud.client` — :class:`ApiClient`, the HTTP client: JSON in,
  :mod:`reconciler.errors` out, retries and the rate-limit budget.
- :mod:`~reconciler.cloud.paths` — every path the tool calls.
- :mod:`~reconciler.cloud.pages` — the paged database list and the shapes of its answers.
- :mod:`~reconciler.cloud.errorbody` — error answers made into short, scrubbed lines.
- :mod:`~reconciler.cloud.reader` — :func:`read_live`, the live state a spec names.
"""

from reconciler.cloud import paths
from reconciler.cloud.client import DEFAULT_API_URL, ApiClient, check_api_url
from reconciler.cloud.pages import database_pages
from reconciler.cloud.reader import read_live

__all__ = ["DEFAULT_API_URL", "ApiClient", "check_api_url", "database_pages", "paths", "read_live"]
