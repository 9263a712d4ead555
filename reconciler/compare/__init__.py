"""Comparing live and desired databases: request-shaped, canonical values and their diff.

- :mod:`~reconciler.compare.fields` — the field catalogue: one row per request field
  (where it reads back, or never; create/update; secret; exported; excluded and why; API
  default; canonical form; pair rule). Every list of field names elsewhere is derived from it.
- :mod:`~reconciler.compare.live` — a database as ``GET`` returns it, in request form.
- :mod:`~reconciler.compare.forms` — canonical forms of values; version helpers.
- :mod:`~reconciler.compare.pairs` — the pair rules that need both sides or the context.
- :mod:`~reconciler.compare.comparison` — :func:`compare_database`, the one call per
  database: live request form, compared pairs, changes and the fields it could not compare.
- :mod:`~reconciler.compare.differ` — field-level changes between two canonical forms.
"""

from reconciler.compare.comparison import (
    Comparison,
    Uncompared,
    comparable_fields,
    compare_database,
    request_value,
)
from reconciler.compare.differ import diff_fields, same
from reconciler.compare.fields import (
    API_DEFAULTS,
    CATALOGUE,
    CREATE_FIELDS,
    CREATE_ONLY_FIELDS,
    EXCLUDED_FIELDS,
    FIELDS,
    NEVER_RETURNED_FIELDS,
    NO_DEFAULT,
    NOT_EXPORTED_FIELDS,
    SECRET_FIELDS,
    UPDATE_FIELDS,
    Field,
    canonical,
)
from reconciler.compare.forms import (
    PRIVATE_SOURCE_IPS,
    PUBLIC_SOURCE_IPS,
    same_version,
    version_tuple,
)
from reconciler.compare.live import RequestForms, live_to_request
from reconciler.compare.pairs import CompareContext

__all__ = [
    "API_DEFAULTS",
    "CATALOGUE",
    "CREATE_FIELDS",
    "CREATE_ONLY_FIELDS",
    "EXCLUDED_FIELDS",
    "FIELDS",
    "NEVER_RETURNED_FIELDS",
    "NOT_EXPORTED_FIELDS",
    "NO_DEFAULT",
    "PRIVATE_SOURCE_IPS",
    "PUBLIC_SOURCE_IPS",
    "SECRET_FIELDS",
    "UPDATE_FIELDS",
    "CompareContext",
    "Comparison",
    "Field",
    "RequestForms",
    "Uncompared",
    "canonical",
    "comparable_fields",
    "compare_database",
    "diff_fields",
    "live_to_request",
    "request_value",
    "same",
    "same_version",
    "version_tuple",
]
