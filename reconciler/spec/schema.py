"""Validate a spec document against ``reconciler/schemas/reconciler.schema.json``.

The JSON Schema is the one source of validation; this module only turns jsonschema's
errors into located :class:`~reconciler.errors.SpecProblem`\\ s with messages written for
people: one problem per unknown field (at its key, with a "did you mean"), "missing
required field", type errors with a hint when YAML read an unquoted value as a number, and
the schema's own ``errorMessage`` / ``patternErrorMessage`` texts (the keywords editors
based on vscode-json-languageservice show too). Secret values never enter a message.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError

from reconciler.compare import EXCLUDED_FIELDS, SECRET_FIELDS
from reconciler.errors import SpecProblem
from reconciler.preflight import check_document
from reconciler.secrets import MASK, mask_uri
from reconciler.spec.located import Path, Position, render_path
from reconciler.spec.yamlload import Document

SCHEMA_FILE = "reconciler.schema.json"

_EXPECTED = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "null",
}
_PASSWORD_FIELDS = SECRET_FIELDS
_URI_FIELDS = frozenset({"replicaOf", "importFromUri", "endpoint"})
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})
_NOT_IN_DEFAULTS = ("name", "state", "import")
_BOUNDS = {"minimum": "less than the minimum", "maximum": "greater than the maximum"}
_LONG_NUMBER = 20
_DIGITS = re.compile(r"[0-9]+")


def _is_strict_integer(checker: object, instance: object) -> bool:
    return isinstance(instance, int) and not isinstance(instance, bool)


# JSON Schema counts 2.0 as an integer; a port or subscription id written 2.0 would then
# pass validation and reach the API (or the merge) as a float. Integers must be written so.
StrictValidator = validators.extend(  # type: ignore[no-untyped-call]  # untyped in the stubs
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_strict_integer),
)


def packaged_schema_text(name: str = SCHEMA_FILE) -> str:
    """Return the text of the packaged schema ``name`` (``reconciler/schemas/NAME``)."""
    resource = importlib.resources.files("reconciler").joinpath("schemas").joinpath(name)
    return resource.read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """Return the spec's JSON Schema, read once from the package data ``reconciler/schemas``."""
    schema: dict[str, Any] = json.loads(packaged_schema_text())
    return schema


@functools.lru_cache(maxsize=1)
def _inlined_schema() -> dict[str, Any]:
    """Return the schema with every local ``$ref`` replaced by its definition.

    The same validation, about twice as fast: resolving ``$ref`` through ``referencing`` on
    every database field was most of the validation time. The schema has no recursive
    references (a test checks), so inlining terminates; each definition is inlined once and
    shared, so identities (see :func:`_unknown_fields`) hold.
    """
    schema = load_schema()
    raw_defs: dict[str, Any] = schema.get("$defs", {})
    done: dict[str, Any] = {}

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and len(node) == 1:
            name = ref[len("#/$defs/") :]
            if name not in done:
                done[name] = inline(raw_defs[name])
            return done[name]
        return {key: inline(value) for key, value in node.items() if key != "$defs"}

    root: dict[str, Any] = inline(schema)
    root["$defs"] = {name: done.get(name) or inline(raw_defs[name]) for name in raw_defs}
    return root


@functools.lru_cache(maxsize=1)
def _validator() -> Any:
    # Compiled once per process.
    return StrictValidator(_inlined_schema())


def validate(doc: Document, file: str) -> list[SpecProblem]:
    """Return every problem of ``doc`` (sorted by position, duplicates removed).

    Schema problems, then the cross-field rules of :mod:`reconciler.preflight` that need no
    network (each located at the key of the field it is about).
    """
    found: dict[SpecProblem, None] = {}
    for raw in _validator().iter_errors(doc.data):
        error = _Error.of(raw)
        if error.path in doc.flagged or _type_already_wrong(error):
            continue
        for problem in _problems(error, doc, file):
            found[problem] = None
    for finding in check_document(doc.data):
        where = doc.position(finding.path, key=True)
        found[_located(file, where, finding.path, finding.message)] = None
    return sorted(found, key=lambda p: (p.line, p.column, p.path, p.message))


@dataclass(frozen=True)
class _Error:
    """The parts of a jsonschema error we use, with plain types."""

    kind: str
    expected: Any
    schema: dict[str, Any]
    instance: Any
    path: Path
    message: str
    about_key: bool = False  # a ``propertyNames`` error: the key itself is wrong

    @classmethod
    def of(cls, error: ValidationError) -> _Error:
        # Kept as the very object from load_schema(): _unknown_fields compares identities.
        schema = error.schema if isinstance(error.schema, dict) else {}
        return cls(
            kind=str(error.validator),
            expected=cast(Any, error.validator_value),
            schema=schema,
            instance=cast(Any, error.instance),
            path=tuple(error.absolute_path),
            message=error.message,
            about_key="propertyNames" in error.absolute_schema_path,
        )


def _type_already_wrong(error: _Error) -> bool:
    """Return True for an enum error on a value whose type error is reported already."""
    wanted = error.schema.get("type")
    if error.kind != "enum" or not isinstance(wanted, str):
        return False
    return not _validator().is_type(error.instance, wanted)


def _problems(error: _Error, doc: Document, file: str) -> Iterator[SpecProblem]:
    path = error.path
    kind = error.kind
    if kind == "additionalProperties":
        yield from _unknown_fields(error, doc, file, path)
    elif kind == "required":
        for name in error.expected:
            if isinstance(error.instance, dict) and name not in error.instance:
                message = f"missing required field '{name}'"
                yield _located(file, doc.position(path), path, message)
    elif kind == "not" and isinstance(error.expected, dict) and isinstance(error.instance, dict):
        # A "these fields cannot be combined" rule: point at the last of them written.
        fields = [f for f in error.expected.get("required", ()) if f in error.instance]
        where = (*path, fields[-1]) if fields else path
        yield _located(file, doc.position(where, key=True), where, _custom(error))
    elif error.about_key and isinstance(error.instance, str):
        where = (*path, error.instance)
        yield _located(file, doc.position(where, key=True), where, _message(error, doc, path))
    else:
        yield _located(file, doc.position(path), path, _message(error, doc, path))


def _located(file: str, position: Position, path: Path, message: str) -> SpecProblem:
    return SpecProblem(file, position[0], position[1], render_path(path), message)


def _custom(error: _Error) -> str:
    text = error.schema.get("errorMessage")
    return str(text) if text else error.message


def _unknown_fields(error: _Error, doc: Document, file: str, path: Path) -> Iterator[SpecProblem]:
    properties: dict[str, Any] = error.schema.get("properties", {})
    in_defaults = error.schema is _inlined_schema()["$defs"]["Defaults"]
    in_database = in_defaults or error.schema is _inlined_schema()["$defs"]["Database"]
    for key in error.instance:
        if key in properties:
            continue
        where = (*path, key)
        if in_defaults and key in _NOT_IN_DEFAULTS:
            message = f"{key!r} cannot be set in defaults: set it on each database"
        elif in_database and key in EXCLUDED_FIELDS:
            message = f"{key!r} is not managed by reconciler: {EXCLUDED_FIELDS[key]}"
        else:
            # repr: a key is any text, control characters included (one line per problem)
            message = f"unknown field {key!r}{_suggestion(key, properties)}"
        yield _located(file, doc.position(where, key=True), where, message)


def _suggestion(key: str, properties: dict[str, Any]) -> str:
    """Return `` (did you mean 'x'?)`` for a close field name or a field one level down."""
    by_lower = {name.lower(): name for name in properties}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.7)
    if close:
        return f" (did you mean '{by_lower[close[0]]}'?)"
    for owner, subschema in properties.items():
        if key in _resolve(subschema).get("properties", {}):
            return f" (did you mean '{owner}.{key}'?)"
    return ""


def _resolve(subschema: dict[str, Any]) -> dict[str, Any]:
    ref = subschema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        resolved: dict[str, Any] = load_schema()["$defs"][ref.rsplit("/", 1)[1]]
        return resolved
    return subschema


def _message(error: _Error, doc: Document, path: Path) -> str:
    kind = error.kind
    secret = _secret_kind(path)
    if kind == "type":
        return _type_message(error, doc, path, secret)
    if kind in ("minLength", "minItems") and error.expected == 1:
        return "must not be empty" if kind == "minLength" else "must list at least one entry"
    if kind == "pattern" and "patternErrorMessage" in error.schema:
        return f"{_describe(error.instance, secret)}: {error.schema['patternErrorMessage']}"
    if kind == "enum":
        if "errorMessage" in error.schema:
            message = f"{_describe(error.instance, secret)}: {error.schema['errorMessage']}"
        else:
            message = error.message
        return message + _enum_suggestion(error.instance, error.expected)
    if kind in _BOUNDS and "errorMessage" not in error.schema:
        return f"{_number(error.instance)} is {_BOUNDS[kind]} of {error.expected}"
    if kind == "uniqueItems":
        return f"lists {_describe(_first_duplicate(error.instance), secret)} more than once"
    if "errorMessage" in error.schema:
        return _custom(error)
    if secret:
        return f"invalid value (not shown, the field is secret): failed the '{kind}' check"
    return error.message


def _type_message(error: _Error, doc: Document, path: Path, secret: str) -> str:
    wanted = error.expected
    names = [wanted] if isinstance(wanted, str) else list(wanted)
    expected = " or ".join(_EXPECTED.get(n, n) for n in names)
    instance = error.instance
    source = doc.plain.get(path)
    if instance is None and source == "":
        return f"expected {expected}, got an empty value"
    message = f"expected {expected}, got {_describe(instance, secret)}"
    if "string" in names and source and not secret:
        message += f'; write it in quotes: "{source}"'
    elif "string" in names and source:
        message += "; write it in quotes"
    elif "boolean" in names and isinstance(instance, str) and instance in _YAML11_BOOLEANS:
        message += "; write true or false"
    return message


def _enum_suggestion(instance: Any, allowed: list[Any]) -> str:
    if not isinstance(instance, str):
        return ""
    choices = [a for a in allowed if isinstance(a, str)]
    close = difflib.get_close_matches(instance, choices, n=1, cutoff=0.7)
    if not close or (_is_number(instance) and _is_number(close[0])):
        return ""  # a number ("3x") close to another ("2x") is another value, not a typo
    return f" (did you mean '{close[0]}'?)"


def _is_number(text: str) -> bool:
    """Return True for text that is mostly a number, like "16x" or "2"."""
    return bool(_DIGITS.search(text)) and len(_DIGITS.sub("", text)) <= 1


def _number(value: Any) -> str:
    """Return a number for a message; a very long one shortened, its digits counted."""
    text = repr(value)
    if len(text) <= _LONG_NUMBER:
        return text
    return f"{text[:12]}... ({len(text.lstrip('-'))} digits)"


def _first_duplicate(items: list[Any]) -> Any:
    seen: list[Any] = []
    for item in items:
        if item in seen:
            return item
        seen.append(item)
    return None


def _secret_kind(path: Path) -> str:
    """Return 'password' or 'uri' when ``path`` holds a secret (or maybe-secret) value."""
    names = [p for p in path if isinstance(p, str)]
    if names and names[-1] in _PASSWORD_FIELDS:
        return "password"
    if any(name in _URI_FIELDS for name in names):
        return "uri"
    return ""


def _describe(value: Any, secret: str = "") -> str:
    """Return a short, YAML-flavoured rendering of a value for a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if secret == "password":
        return MASK if isinstance(value, str) else "a number"
    if isinstance(value, str):
        text = mask_uri(value) if secret else value
        return repr(text if len(text) <= 60 else text[:57] + "...")
    return repr(value)
