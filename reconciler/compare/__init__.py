"""Comparing live and desired databases: request-shaped, canonical values and their diff.

- :mod:`~reconciler.compare.normalise` — live API objects and spec fields in one form.
- :mod:`~reconciler.compare.differ` — field-level changes between two such forms.
"""

from reconciler.compare.differ import diff_fields, same
from reconciler.compare.normalise import (
    PRIVATE_SOURCE_IPS,
    PUBLIC_SOURCE_IPS,
    CompareContext,
    canonical,
    comparable_fields,
    live_to_request,
    request_value,
    same_version,
    version_tuple,
)

__all__ = [
    "PRIVATE_SOURCE_IPS",
    "PUBLIC_SOURCE_IPS",
    "CompareContext",
    "canonical",
    "comparable_fields",
    "diff_fields",
    "live_to_request",
    "request_value",
    "same",
    "same_version",
    "version_tuple",
]
