"""Find spec files, read and validate each, and merge them into a desired state.

:func:`load_spec` is the entry point. Every problem of every file is collected and raised
together as one :class:`~reconciler.errors.SpecError`, grouped by file in the order the
files were found, sorted by position within a file. Nothing here lets an exception other
than ``SpecError`` escape: an unexpected failure while reading a file becomes a problem
located at that file.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reconciler.errors import SpecError, SpecProblem
from reconciler.model import DesiredState
from reconciler.spec import merge
from reconciler.spec.schema import validate
from reconciler.spec.yamlload import Document, DocumentError, read_document

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
SPEC_SUFFIXES = (".yaml", ".yml")
# A file found in a folder walk is a spec only when its top level has one of these keys:
# the simulator seed, CI workflows and other YAML living beside the specs are skipped.
SPEC_MARKERS = ("version", "subscriptions")
# A top-level key this close to a marker is a typo, an error rather than a skipped file.
MARKER_TYPOS = 2


@dataclass(frozen=True)
class _Candidate:
    file: str
    explicit: bool


class _Problems:
    """Problems grouped by file, in the order files were first met."""

    def __init__(self) -> None:
        self.by_file: dict[str, list[SpecProblem]] = {}

    def open(self, file: str) -> None:
        self.by_file.setdefault(file, [])

    def add(self, problems: Sequence[SpecProblem]) -> None:
        for problem in problems:
            self.by_file.setdefault(problem.file, []).append(problem)

    def ordered(self) -> list[SpecProblem]:
        return [
            problem
            for problems in self.by_file.values()
            for problem in sorted(problems, key=_position_order)
        ]


def _position_order(problem: SpecProblem) -> tuple[int, int, str, str]:
    return (problem.line, problem.column, problem.path, problem.message)


def load_spec(paths: Sequence[str], environ: Mapping[str, str]) -> DesiredState:
    """Return the desired state described by the spec files at ``paths``.

    Each path is a file (always read as a spec) or a folder (every ``*.yaml``/``*.yml``
    below it, sorted, hidden entries skipped, non-spec YAML skipped). ``${NAME}`` in strings
    is taken from ``environ``. Raises :class:`SpecError` holding every problem found.
    """
    problems = _Problems()
    if isinstance(paths, str):  # a lone path, not a sequence of one-letter paths
        paths = [paths]
    if not paths:
        raise SpecError([SpecProblem("(command line)", 0, 0, "", "no spec path given")])
    spec_files: list[merge.SpecFile] = []
    seen: set[str] = set()
    for path in paths:
        spec_files.extend(_read_path(path, environ, problems, seen))
    subscriptions = _merge(spec_files, problems)
    found = problems.ordered()
    if found:
        raise SpecError(found)
    try:
        return merge.build(subscriptions, [f.file for f in spec_files])
    except Exception as exc:  # a bug must not become a traceback for the user
        logger.debug("unexpected error building the desired state", exc_info=True)
        message = f"unexpected error while merging spec files: {type(exc).__name__}: {exc}"
        raise SpecError([SpecProblem(spec_files[-1].file, 0, 0, "", message)]) from None


def _read_path(
    path: str, environ: Mapping[str, str], problems: _Problems, seen: set[str]
) -> list[merge.SpecFile]:
    """Return the spec files at ``path`` not read before (their real paths in ``seen``).

    A folder whose YAML files are all skipped as non-spec files is a problem of its own.
    """
    fresh = [c for c in _candidates(path, problems) if _first_time(c.file, seen)]
    skipped: list[str] = []
    read = [f for c in fresh if (f := _read(c, environ, problems, skipped)) is not None]
    if fresh and len(skipped) == len(fresh):
        message = f"no spec files here: {len(skipped)} YAML file(s) without "
        message += "'version' or 'subscriptions' were skipped"
        problems.add([SpecProblem(path, 0, 0, "", message)])
    return read


def _first_time(file: str, seen: set[str]) -> bool:
    real = os.path.realpath(file)
    if real in seen:
        logger.info("skipping %s: already read", file)
        return False
    seen.add(real)
    return True


def _candidates(path: str, problems: _Problems) -> list[_Candidate]:
    """Return the files ``path`` names (a problem is recorded when there are none)."""
    if os.path.isdir(path):
        files = _walk(path)
        if not files:
            message = "no spec files (*.yaml, *.yml) here"
            if path.rstrip("/").lower().endswith(SPEC_SUFFIXES):
                message = "a folder, not a spec file, holding no spec files (*.yaml, *.yml)"
            problems.add([SpecProblem(path, 0, 0, "", message)])
        return [_Candidate(file, explicit=False) for file in files]
    if not os.path.lexists(path):
        problems.add([SpecProblem(path, 0, 0, "", "no such file or directory")])
        return []
    return [_Candidate(path, explicit=True)]


def _walk(top: str) -> list[str]:
    """Return the ``*.yaml``/``*.yml`` files below ``top`` sorted by path, hidden ones skipped."""
    found: list[tuple[tuple[str, ...], str]] = []
    for folder, dirs, names in os.walk(top):
        for hidden in sorted(d for d in dirs if d.startswith(".")):
            logger.info("skipping %s: hidden folder", os.path.join(folder, hidden))
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        relative = os.path.relpath(folder, top)
        parts = () if relative == "." else tuple(relative.split(os.sep))
        for name in names:
            if not name.lower().endswith(SPEC_SUFFIXES):
                continue
            if name.startswith("."):
                logger.info("skipping %s: hidden file", os.path.join(folder, name))
            else:
                found.append(((*parts, name), os.path.normpath(os.path.join(folder, name))))
    return [file for _, file in sorted(found)]


def _read(
    candidate: _Candidate, environ: Mapping[str, str], problems: _Problems, skipped: list[str]
) -> merge.SpecFile | None:
    """Return the file's document when it is a valid spec.

    Records its problems in ``problems``; appends its name to ``skipped`` when a folder walk
    found it is no spec at all.
    """
    file = candidate.file
    problems.open(file)
    try:
        return _read_spec(candidate, environ, problems, skipped)
    except (DocumentError, _ReadFailure) as exc:
        problems.add([exc.problem])
    except Exception as exc:  # a bug must not become a traceback for the user
        logger.debug("unexpected error reading %s", file, exc_info=True)
        message = f"unexpected error while reading this file: {type(exc).__name__}: {exc}"
        problems.add([SpecProblem(file, 0, 0, "", message)])
    return None


def _read_spec(
    candidate: _Candidate, environ: Mapping[str, str], problems: _Problems, skipped: list[str]
) -> merge.SpecFile | None:
    file = candidate.file
    doc = read_document(_read_text(file), file, environ)
    data = doc.data
    is_mapping = isinstance(data, dict)
    if not candidate.explicit and is_mapping and not any(m in data for m in SPEC_MARKERS):
        misspelt = _misspelt_markers(data)
        if misspelt:
            problems.add([_misspelt_problem(doc, file, key, marker) for key, marker in misspelt])
            return None
        logger.info("skipping %s: no 'version' or 'subscriptions' at the top", file)
        skipped.append(file)
        return None
    if data is None:
        problems.add([SpecProblem(file, 0, 0, "", "file is empty")])
        return None
    if not isinstance(data, dict):
        line, column = doc.position(())
        kind = "a list" if isinstance(data, list) else "a single value"
        message = f"the top level must be a mapping with 'version' and 'subscriptions', not {kind}"
        problems.add([SpecProblem(file, line, column, "", message)])
        return None
    problems.add(doc.problems)
    problems.add(validate(doc, file))
    return merge.SpecFile(file, doc)


def _misspelt_markers(data: dict[object, object]) -> list[tuple[str, str]]:
    """Return ``(key, marker)`` for each top-level key that looks like a misspelt marker."""
    found: list[tuple[str, str]] = []
    for key in data:
        if isinstance(key, str):
            near = [m for m in SPEC_MARKERS if edit_distance(key.lower(), m) <= MARKER_TYPOS]
            found.extend((key, marker) for marker in near[:1])
    return found


def _misspelt_problem(doc: Document, file: str, key: str, marker: str) -> SpecProblem:
    line, column = doc.position((key,), key=True)
    message = (
        f"unknown top-level key {key!r} (did you mean {marker!r}?); a YAML file without "
        "'version' or 'subscriptions' is not read as a spec"
    )
    return SpecProblem(file, line, column, key, message)


def edit_distance(a: str, b: str) -> int:
    """Return the Levenshtein distance between ``a`` and ``b`` (insert, delete, replace)."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
            )
        previous = current
    return previous[-1]


class _ReadFailure(Exception):
    """The file's bytes could not be read as text; ``problem`` says why."""

    def __init__(self, problem: SpecProblem) -> None:
        self.problem = problem
        super().__init__(problem.message)


def _read_text(file: str) -> str:
    """Return the text of a regular file of at most :data:`MAX_FILE_BYTES`.

    A FIFO, a device, a socket or a folder is refused before it is read (none may block or
    never end), and so is a symbolic link loop.

    Raises:
        _ReadFailure: the file cannot be read, is not a regular file, is too large or is not
            UTF-8 text.
    """
    try:
        _check_regular(file, os.stat(file))
        # O_NONBLOCK: should the file have become a FIFO since, opening must not wait.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as handle:
            _check_regular(file, os.fstat(fd))
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        why = "symbolic link loop" if exc.errno == errno.ELOOP else exc.strerror or str(exc)
        raise _ReadFailure(SpecProblem(file, 0, 0, "", f"cannot read: {why}")) from None
    if len(data) > MAX_FILE_BYTES:
        raise _ReadFailure(SpecProblem(file, 0, 0, "", _too_large()))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        message = f"not UTF-8 text (byte 0x{data[exc.start]:02x})"
        raise _ReadFailure(SpecProblem(file, line, column, "", message)) from None


_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _check_regular(file: str, status: os.stat_result) -> None:
    """Raise :class:`_ReadFailure` unless ``status`` is a regular file within the size cap."""
    if stat.S_ISREG(status.st_mode):
        if status.st_size > MAX_FILE_BYTES:
            raise _ReadFailure(SpecProblem(file, 0, 0, "", _too_large()))
        return
    kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a file")
    message = f"not a regular file: it is {kind}; a spec must be a plain YAML file"
    raise _ReadFailure(SpecProblem(file, 0, 0, "", message))


def _too_large() -> str:
    return f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB; a spec must be smaller"


def _merge(
    spec_files: Sequence[merge.SpecFile], problems: _Problems
) -> list[merge.IndexedSubscription]:
    try:
        subscriptions, found = merge.check(spec_files)
    except Exception as exc:  # a bug must not become a traceback for the user
        logger.debug("unexpected error merging spec files", exc_info=True)
        file = spec_files[-1].file if spec_files else "(spec)"
        message = f"unexpected error while merging spec files: {type(exc).__name__}: {exc}"
        problems.add([SpecProblem(file, 0, 0, "", message)])
        return []
    problems.add(found)
    return subscriptions
