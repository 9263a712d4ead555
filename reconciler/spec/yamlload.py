"""Read one YAML document into plain data, remembering where every node was written.

PyYAML's loaders drop positions, keep the last of duplicate keys without a word, follow
YAML 1.1 (``no`` is false, ``14:00`` is the number 840) and expand aliases without limit.
So we read the parser's event stream (through :mod:`.yamlio`) and build the data here:

- every mapping key and every value gets a 1-based (line, column), keyed by its path;
- duplicate keys, unsupported tags and merge keys are reported;
- plain scalars follow the YAML 1.2 core schema, as editors using the
  ``yaml-language-server`` modeline do, so the editor and this tool agree;
- nesting deeper than :data:`MAX_DEPTH` and aliases expanding past :data:`MAX_ALIAS_NODES`
  nodes (see :mod:`.aliases`) stop the read with a located error instead of exhausting
  memory;
- ``${NAME}`` in string values is substituted (see :mod:`.envsubst`).

Problems that make the rest of the file unreadable raise :class:`DocumentError`. The others
are collected in :attr:`Document.problems` and reported only when the file turns out to be a
spec (a folder walk skips other YAML files, whose ``${{ }}`` or tags mean nothing to us).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reconciler.errors import SpecProblem
from reconciler.spec import yamlio
from reconciler.spec.aliases import MAX_ALIAS_NODES, AliasExpander
from reconciler.spec.envsubst import SubstitutionError, substitute
from reconciler.spec.located import DocumentError, Path, Position, located, render_path
from reconciler.spec.yamlio import YamlError, mark_position, parse_events

# Re-exported: callers read documents through this module.
__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "Document",
    "DocumentError",
    "Path",
    "Position",
    "read_document",
    "render_path",
]

MAX_DEPTH = 50

_CORE = "tag:yaml.org,2002:"
_NULLS = {"", "~", "null", "Null", "NULL"}
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False}
_BOOLS["FALSE"] = False
_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_SPECIAL_FLOATS = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
_TAG_TYPES: dict[str, type | tuple[type, ...]] = {
    "int": int,
    "float": (int, float),
    "bool": bool,
    "null": type(None),
}


@dataclass
class Document:
    """One YAML document: its data and where each part of it was written.

    ``values`` maps a path to the position of its value, ``keys`` to the position of the
    mapping key naming it; ``plain`` keeps the source text of unquoted scalars read as
    numbers, booleans or null (for "put it in quotes" hints); ``flagged`` holds the paths
    of values with a problem reported already (an unset variable, an unsupported tag), whose
    schema checks would only repeat it. ``data`` is None for an empty document.
    """

    data: Any
    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)
    plain: dict[Path, str] = field(default_factory=dict)
    flagged: set[Path] = field(default_factory=set)
    problems: list[SpecProblem] = field(default_factory=list)

    def position(self, path: Path, *, key: bool = False) -> Position:
        """Return the position of ``path`` (its key when ``key``), else its nearest parent's."""
        if key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, (0, 0))


def read_document(text: str, file: str, environ: Mapping[str, str]) -> Document:
    """Return the first YAML document of ``text`` with positions (``data`` None if empty).

    Raises :class:`DocumentError` for invalid YAML, nesting beyond :data:`MAX_DEPTH`, alias
    expansion beyond :data:`MAX_ALIAS_NODES` and undefined aliases.
    """
    builder = _Builder(file, environ)
    raw = parse_events(text)
    try:
        for event in AliasExpander(file).expand(raw):
            if not builder.feed(event):
                break
    except YamlError as exc:
        message = f"invalid YAML: {exc.reason}"
        raise DocumentError(located(file, exc.position, (), message)) from None
    finally:
        raw.close()
    return builder.document()


class _Frame:
    """An open mapping or sequence and, for a mapping, the key awaiting its value.

    ``discard`` marks the pending key's value as dropped (duplicate or merge key);
    ``silent`` marks a dropped collection, whose own problems are not worth reporting.
    """

    __slots__ = ("container", "discard", "key", "path", "silent")

    def __init__(self, container: dict[str, Any] | list[Any], path: Path, silent: bool) -> None:
        self.container = container
        self.path = path
        self.key: str | None = None
        self.discard = False
        self.silent = silent


class _Builder:
    """Turns parser events into plain data plus positions."""

    def __init__(self, file: str, environ: Mapping[str, str]) -> None:
        self.file = file
        self.environ = environ
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.documents = 0
        self.doc = Document(data=None)

    def document(self) -> Document:
        """Return what was built."""
        self.doc.data = self.root
        return self.doc

    def feed(self, event: yamlio.Event) -> bool:
        """Take one event; return False when reading should stop."""
        if isinstance(event, yamlio.ScalarEvent):
            self._scalar(event)
        elif isinstance(event, yamlio.CollectionStartEvent):
            self._start(event)
        elif isinstance(event, yamlio.CollectionEndEvent):
            self.stack.pop()
        elif isinstance(event, yamlio.DocumentStartEvent):
            self.documents += 1
            if self.documents > 1:
                message = "a spec file holds one YAML document; a second one starts here"
                self._defer(mark_position(event.start_mark), (), message)
                return False
        return True

    def _defer(self, position: Position, path: Path, message: str) -> None:
        if not self._dropping():
            self.doc.problems.append(located(self.file, position, path, message))

    def _flag(self, position: Position, path: Path, message: str) -> None:
        """Report a problem with the value at ``path`` and spare it the schema checks."""
        self._defer(position, path, message)
        self.doc.flagged.add(path)

    def _dropping(self) -> bool:
        """Return True while building a value that will be dropped."""
        return bool(self.stack) and (self.stack[-1].silent or self.stack[-1].discard)

    def _fatal(self, position: Position, path: Path, message: str) -> DocumentError:
        return DocumentError(located(self.file, position, path, message))

    def _start(self, event: yamlio.CollectionStartEvent) -> None:
        position = mark_position(event.start_mark)
        if self._awaiting_key():
            path = self.stack[-1].path
            raise self._fatal(position, path, "a mapping key must be a plain value")
        if len(self.stack) >= MAX_DEPTH:
            raise self._fatal(position, (), f"nesting deeper than {MAX_DEPTH} levels")
        is_mapping = isinstance(event, yamlio.MappingStartEvent)
        self._check_collection_tag(event, position, is_mapping)
        container: dict[str, Any] | list[Any] = {} if is_mapping else []
        silent = self._dropping()
        path = self._attach(container, position)
        self.stack.append(_Frame(container, path, silent))

    def _check_collection_tag(
        self, event: yamlio.CollectionStartEvent, position: Position, is_mapping: bool
    ) -> None:
        expected = _CORE + ("map" if is_mapping else "seq")
        if event.tag not in (None, "!", expected):
            message = f"unsupported YAML tag '{_short_tag(str(event.tag))}'"
            self._defer(position, self._next_path(), message)

    def _awaiting_key(self) -> bool:
        return (
            bool(self.stack)
            and isinstance(self.stack[-1].container, dict)
            and (self.stack[-1].key is None)
        )

    def _scalar(self, event: yamlio.ScalarEvent) -> None:
        position = mark_position(event.start_mark)
        if self._awaiting_key():
            self._key(event, position)
            return
        path = self._next_path()
        value = self._construct(event, position, path)
        self._attach(value, position)

    def _key(self, event: yamlio.ScalarEvent, position: Position) -> None:
        frame = self.stack[-1]
        key = str(event.value)
        assert isinstance(frame.container, dict)
        frame.key = key
        path = (*frame.path, key)
        if key == "<<" and event.implicit[0]:
            message = "YAML merge keys ('<<') are not supported; use the subscription's defaults"
            self._defer(position, frame.path, message)
            frame.discard = True
        elif key in frame.container:
            line, column = self.doc.keys[path]
            message = f"duplicate key {key!r} (first written at line {line}, column {column})"
            self._defer(position, path, message)
            frame.discard = True
        self.doc.keys.setdefault(path, position)

    def _next_path(self) -> Path:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        return (*frame.path, str(frame.key))

    def _attach(self, value: Any, position: Position) -> Path:
        path = self._next_path()
        self.doc.values.setdefault(path, position)
        if not self.stack:
            self.root = value
            return path
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            frame.container.append(value)
        else:
            if not frame.discard:
                frame.container[str(frame.key)] = value
            frame.key = None
            frame.discard = False
        return path

    def _construct(self, event: yamlio.ScalarEvent, position: Position, path: Path) -> Any:
        text = str(event.value)
        tag = event.tag
        if tag is None:
            value = _resolve_plain(text) if event.implicit[0] else text
        elif tag == "!" or tag == _CORE + "str":
            value = text
        elif tag in (_CORE + "int", _CORE + "float", _CORE + "bool", _CORE + "null"):
            value = self._typed(text, tag, position, path)
        else:
            self._flag(position, path, f"unsupported YAML tag '{_short_tag(tag)}'")
            value = text
        if isinstance(value, str):
            return self._substitute(value, position, path)
        if isinstance(value, float) and not math.isfinite(value):
            self._flag(position, path, f"{text!r} is not a finite number")
        if event.implicit[0]:
            self.doc.plain[path] = text
        return value

    def _typed(self, text: str, tag: str, position: Position, path: Path) -> Any:
        value: Any = _resolve_plain(text)
        kind = tag[len(_CORE) :]
        if (isinstance(value, bool) and kind != "bool") or not isinstance(value, _TAG_TYPES[kind]):
            self._flag(position, path, f"{text!r} cannot be read as !!{kind}")
            return text
        return float(value) if isinstance(value, int) and kind == "float" else value

    def _substitute(self, text: str, position: Position, path: Path) -> str:
        try:
            return substitute(text, self.environ)
        except SubstitutionError as exc:
            self._flag(position, path, str(exc))
            return text


def _short_tag(tag: str) -> str:
    """Return a tag as written in YAML: ``!!binary`` rather than ``tag:yaml.org,2002:binary``."""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


def _resolve_plain(text: str) -> Any:
    """Return the YAML 1.2 core-schema value of an unquoted scalar."""
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    if not text or text[0] not in "0123456789+-.":
        return text
    if _INT.fullmatch(text):
        return int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    lowered = text.lower()
    if lowered in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[lowered]
    if len(text) > 2 and text[0] == "0" and text[1] in "ox":
        try:
            return int(text[2:], 8 if text[1] == "o" else 16)
        except ValueError:
            return text
    return text
