"""The official OpenAPI description (trimmed copy in tests/openapi/) and its JSON Schema form.

- ``OPENAPI_PATH``: tests/openapi/redis-cloud-openapi.trimmed.json (committed; a fresh clone
  has it, so nothing that reads it is ever skipped).
- ``load_openapi()``: the parsed description (cached; callers must not mutate it).
- ``schema_of(spec, name)``: ``components.schemas[name]``.
- ``to_json_schema(node, spec)``: an OpenAPI 3.0 schema as JSON Schema (draft 4), loosely:
  ``$ref`` inlined, ``nullable`` allowed, ``example`` dropped, ``readOnly`` kept as the
  annotation it is, ``additionalProperties: {type: object}`` — the generator's rendering of a
  Java ``Map<String, Object>``, whose own examples hold strings — read as "any value".
- ``request_validator(name, **extra_properties)``: a ``Draft4Validator`` of a request body
  schema, closed: read-only properties left out and every object refusing properties it does
  not list (the API answers 400 ``Unrecognized field``), plus ``extra_properties`` at the top.

Imported as a plain module (``from openapi_schema import …``): pytest's default "prepend"
import mode puts tests/ on ``sys.path``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

OPENAPI_PATH = Path(__file__).resolve().parent / "openapi" / "redis-cloud-openapi.trimmed.json"


@functools.cache
def load_openapi() -> dict[str, Any]:
    """Return the trimmed OpenAPI description (one shared copy: do not mutate it)."""
    loaded: dict[str, Any] = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    return loaded


def schema_of(spec: dict[str, Any], name: str) -> dict[str, Any]:
    """Return the component schema ``name``; raises KeyError if the description lacks it."""
    found: dict[str, Any] = spec["components"]["schemas"][name]
    return found


def to_json_schema(node: Any, spec: dict[str, Any]) -> Any:
    """Return an OpenAPI 3.0 schema as JSON Schema (draft 4): refs inlined, nullable allowed."""
    if isinstance(node, list):
        return [to_json_schema(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return to_json_schema(schema_of(spec, node["$ref"].rsplit("/", 1)[1]), spec)
    converted = {
        key: to_json_schema(value, spec)
        for key, value in node.items()
        if key not in ("example", "nullable")
    }
    if node.get("additionalProperties") == {"type": "object"}:
        converted["additionalProperties"] = {}  # a Java Map<String, Object>: any value
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def closed_request(node: Any) -> Any:
    """Return a converted schema whose objects refuse unlisted and read-only properties."""
    if isinstance(node, list):
        return [closed_request(item) for item in node]
    if not isinstance(node, dict):
        return node
    closed = {key: closed_request(value) for key, value in node.items()}
    if "properties" in node:
        closed["properties"] = {
            name: closed_request(prop)
            for name, prop in node["properties"].items()
            if not prop.get("readOnly")
        }
        closed.setdefault("additionalProperties", False)
    return closed


def request_validator(name: str, **extra_properties: Any) -> jsonschema.Draft4Validator:
    """Return a closed validator of request schema ``name`` (see the module docstring)."""
    spec = load_openapi()
    schema = closed_request(to_json_schema(schema_of(spec, name), spec))
    schema["properties"].update(extra_properties)
    return jsonschema.Draft4Validator(schema)
