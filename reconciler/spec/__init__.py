"""Spec loading: YAML files → validated, merged :class:`~reconciler.model.DesiredState`.

PyYAML is imported only by :mod:`.yamlio`, jsonschema only by :mod:`.schema`. Public surface:

- :func:`load_spec` — read files/folders, validate, merge; raises
  :class:`~reconciler.errors.SpecError` with every problem of every file.
- :func:`load_schema` — the JSON Schema (``reconciler/schemas/reconciler.schema.json``).
- :func:`dump_spec`, :func:`flow_text`, :func:`spec_problems` and the comment markers
  :class:`Note` and :class:`Remark` — writing a spec (see :mod:`.dump`).
"""

from __future__ import annotations

from reconciler.spec.dump import Note, Remark, dump_spec, flow_text, spec_problems
from reconciler.spec.loader import load_spec
from reconciler.spec.schema import load_schema

__all__ = ["Note", "Remark", "dump_spec", "flow_text", "load_schema", "load_spec", "spec_problems"]
