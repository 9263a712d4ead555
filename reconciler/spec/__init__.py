"""Spec loading: YAML files → validated, merged :class:`~reconciler.model.DesiredState`.

PyYAML is imported only by :mod:`.yamlio`, jsonschema only by :mod:`.schema`. Public surface:

- :func:`load_spec` — read files/folders, validate, merge; raises
  :class:`~reconciler.errors.SpecError` with every problem of every file.
- :func:`load_schema` — the JSON Schema (``reconciler/schemas/reconciler.schema.json``);
  :func:`packaged_schema_text` — a packaged schema's text.
- :func:`read_document` — one YAML document with the position of every key and value;
  :func:`render_path` — a path inside it as messages show it.
- :func:`dump_spec`, :func:`flow_text`, :func:`spec_problems` and the comment markers
  :class:`Note` and :class:`Remark` — writing a spec (see :mod:`.dump`).
"""

from __future__ import annotations

from reconciler.spec.dump import Note, Remark, dump_spec, flow_text, spec_problems
from reconciler.spec.loader import load_spec
from reconciler.spec.located import render_path
from reconciler.spec.schema import load_schema, packaged_schema_text
from reconciler.spec.yamlload import read_document

__all__ = [
    "Note",
    "Remark",
    "dump_spec",
    "flow_text",
    "load_schema",
    "load_spec",
    "packaged_schema_text",
    "read_document",
    "render_path",
    "spec_problems",
]
