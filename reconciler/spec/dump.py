"""Write spec documents as YAML people can read, review and diff (the inverse of loading).

PyYAML cannot write comments, and its block style spreads short lists over many lines. So
the layout is done here and PyYAML (through :func:`.yamlio.dump_flow`) only spells the
leaves: scalars and the short lists and mappings written in flow style
(``sourceIp: [10.0.0.0/16]``), so its quoting rules keep every value readable back as
exactly what was written.

Comments enter a document through two markers:

- a :class:`Note` used as a mapping *key* writes ``# text`` lines at that place (its value is
  ignored);
- a :class:`Remark` used as a mapping *value* writes the wrapped value followed by
  ``# text`` on the key's line.

Every string is written with ``${`` escaped as ``$${`` (the loader substitutes ``${NAME}``),
and the text is read back with the spec reader before it is returned, so a document this
module writes always loads as the data it was given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reconciler.errors import DumpError, SpecProblem
from reconciler.secrets import Secret
from reconciler.spec.schema import validate
from reconciler.spec.yamlio import dump_flow
from reconciler.spec.yamlload import DocumentError, read_document

INDENT = 2
#: A flow-style value longer than this is written in block style instead.
FLOW_WIDTH = 88
# Strings made of digits, dots and colons ("7.4", "02:00") are double-quoted: the schema
# asks for them in quotes and it keeps YAML 1.1 readers from seeing numbers.
_NUMBER_LIKE = re.compile(r"^[0-9][0-9.:]*$")
#: Lists whose items are always written in block style, however short (one entry each).
BLOCK_ITEM_KEYS = frozenset({"subscriptions", "databases"})


@dataclass(frozen=True)
class Note:
    """Comment lines written where this key stands in a mapping (the key's value is ignored)."""

    text: str


@dataclass(frozen=True)
class Remark:
    """A mapping value with a comment at the end of its key's line."""

    value: Any
    text: str


def dump_spec(document: Mapping[str, Any], *, header: Sequence[str] = ()) -> str:
    """Return ``document`` as YAML text, ``header`` lines first as ``#`` comments.

    Raises:
        DumpError: the document holds a :class:`Secret`, a non-finite number, or a value
            of a type YAML cannot write; or (a bug) the text does not read back as the data.
    """
    _check(document, "")
    lines = [_comment(text, 0) for text in header]
    lines += _mapping_lines(document, 0)
    text = "\n".join(line for block in lines for line in block.splitlines()) + "\n"
    _verify(text, document)
    return text


def flow_text(value: Any) -> str:
    """Return a JSON-like value as one line of YAML flow style (for comments).

    Raises:
        DumpError: the value holds a :class:`Secret` or a type YAML cannot write.
    """
    _check(value, "")
    return _flow(value)


def spec_problems(text: str, file: str) -> list[SpecProblem]:
    """Return the problems the spec loader would report for ``text`` (no substitution).

    Raises:
        DumpError: ``text`` is not readable YAML.
    """
    try:
        document = read_document(text, file, {})
    except DocumentError as exc:
        raise DumpError(f"written YAML does not read back: {exc.problem}") from None
    return [*document.problems, *validate(document, file)]


def strip_markers(value: Any) -> Any:
    """Return the plain data: :class:`Note` keys dropped, :class:`Remark` values unwrapped."""
    if isinstance(value, Remark):
        return strip_markers(value.value)
    if isinstance(value, Mapping):
        return {k: strip_markers(v) for k, v in value.items() if not isinstance(k, Note)}
    if isinstance(value, (list, tuple)):
        return [strip_markers(v) for v in value]
    return value


def _check(value: Any, where: str) -> None:
    """Raise DumpError for anything that must not or cannot be written."""
    if isinstance(value, Secret):
        raise DumpError(f"{where or 'document'}: a secret cannot be written to a spec file")
    if isinstance(value, Remark):
        _check(value.value, where)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, (str, Note)):
                raise DumpError(f"{where or 'document'}: mapping key {key!r} is not a string")
            _check(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check(item, f"{where}[{index}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise DumpError(f"{where}: {value} cannot be written")
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        raise DumpError(f"{where}: a {type(value).__name__} cannot be written")


def _verify(text: str, document: Mapping[str, Any]) -> None:
    """Read ``text`` back with the spec reader; raise DumpError unless it is ``document``."""
    try:
        read = read_document(text, "(export)", {})
    except DocumentError as exc:
        raise DumpError(f"written YAML does not read back: {exc.problem}") from None
    if read.problems or read.data != strip_markers(document):
        raise DumpError("written YAML does not read back as the data it was made from")


def _comment(text: str, indent: int) -> str:
    """Return ``text`` as comment lines at ``indent``."""
    pad = " " * indent
    return "\n".join(f"{pad}# {line}".rstrip() for line in text.splitlines() or [""])


def _escape(value: Any) -> Any:
    """Return a copy with ``${`` written ``$${`` in every string (the loader's escape)."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, Mapping):
        return {k: _escape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_escape(v) for v in value]
    return value


def _flow(value: Any) -> str:
    """Return a scalar or collection in YAML flow style, on one line."""
    return dump_flow(_escape(value), double_quoted=_number_like)


def _number_like(text: str) -> bool:
    """True for a string written in double quotes (see :data:`_NUMBER_LIKE`)."""
    return _NUMBER_LIKE.match(text) is not None


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _fits_flow(value: Any, indent: int, key: str) -> bool:
    """True for a scalar, or a collection of scalars short enough for one line."""
    if _is_scalar(value):
        return True
    items = value.values() if isinstance(value, Mapping) else value
    if not all(_is_scalar(item) for item in items):
        return False
    if isinstance(value, Mapping) and any(isinstance(k, Note) for k in value):
        return False
    return indent + len(key) + 2 + len(_flow(value)) <= FLOW_WIDTH


def _mapping_lines(mapping: Mapping[Any, Any], indent: int) -> list[str]:
    """Return the lines of a block mapping at ``indent``."""
    lines: list[str] = []
    for key, value in mapping.items():
        if isinstance(key, Note):
            lines.append(_comment(key.text, indent))
        else:
            lines += _entry_lines(key, value, indent)
    return lines


def _entry_lines(key: str, value: Any, indent: int) -> list[str]:
    """Return the lines of one ``key: value`` entry."""
    pad, remark = " " * indent, ""
    if isinstance(value, Remark):
        value, remark = value.value, f"  # {value.text}"
    head = f"{pad}{_flow(key)}:"
    if _fits_flow(value, indent, key) or not value:
        return [f"{head} {_flow(value)}{remark}"]
    if isinstance(value, Mapping):
        return [head + remark, *_mapping_lines(value, indent + INDENT)]
    block = key in BLOCK_ITEM_KEYS
    return [head + remark, *_sequence_lines(value, indent + INDENT, block_items=block)]


def _sequence_lines(items: Sequence[Any], indent: int, *, block_items: bool = False) -> list[str]:
    """Return the lines of a block sequence at ``indent`` (``- item`` each).

    ``block_items`` writes mapping items in block style even when they would fit one line.
    """
    lines: list[str] = []
    pad = " " * indent
    for item in items:
        flow = not (block_items and isinstance(item, Mapping) and item)
        if flow and _fits_flow(item, indent + INDENT, ""):
            lines.append(f"{pad}- {_flow(item)}")
        elif isinstance(item, Mapping):
            inner = _mapping_lines(item, indent + INDENT)
            first = next(i for i, line in enumerate(inner) if not line.lstrip().startswith("#"))
            inner[first] = f"{pad}- {inner[first][indent + INDENT :]}"
            lines += inner
        else:
            nested = _sequence_lines(item, indent + INDENT)
            nested[0] = f"{pad}- {nested[0][indent + INDENT :]}"
            lines += nested
    return lines
