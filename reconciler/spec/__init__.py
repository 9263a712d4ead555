"""Spec loading: YAML files → validated, merged :class:`~reconciler.model.DesiredState`.

The only module tree that touches PyYAML and jsonschema. Public surface:

- :func:`load_spec` — read files/folders, validate, merge; raises
  :class:`~reconciler.errors.SpecError` with every problem of every file.
- :func:`load_schema` — the JSON Schema (``reconciler/schemas/reconciler.schema.json``).
"""

from __future__ import annotations

from reconciler.spec.loader import load_spec
from reconciler.spec.schema import load_schema

__all__ = ["load_schema", "load_spec"]
