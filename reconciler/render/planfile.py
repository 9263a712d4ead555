"""The saved plan file (``plan --out FILE``, read back by ``apply --plan FILE``).

The file is the JSON form of the plan (:func:`~reconciler.render.json_format.plan_to_dict`,
so every secret is already masked) plus what ``apply`` needs to check it:

- ``salt``: the salt of every digest in the file (not a secret);
- ``specPaths`` and ``filters``: the spec paths and the plan-shaping flags, as given;
- ``basis``: digests of the facts the plan was made from (see
  :func:`reconciler.planning.fingerprint_basis`), so a stale plan can name what moved;
- ``fingerprint``: a SHA-256 over everything else in the file, as written.

:func:`read_plan_file` refuses a file whose content does not match its fingerprint, and
:func:`stale_reasons` compares it with a fresh plan document. The file never holds a secret.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import stat
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.errors import UsageError
from reconciler.plan import Plan
from reconciler.render.json_format import FORMAT_VERSION, plan_to_dict

logger = logging.getLogger(__name__)

MAX_PLAN_FILE_BYTES = 64 * 2**20
_HOW_TO_WRITE = "write one with: reconciler plan --out FILE"


@dataclass(frozen=True)
class SavedPlan:
    """A plan file read back (its fingerprint checked): the facts apply needs and all of it."""

    fingerprint: str
    salt: str
    spec_paths: tuple[str, ...]
    data: dict[str, Any]


def plan_file_document(
    plan: Plan,
    *,
    salt: str,
    spec_paths: Sequence[str],
    filters: Mapping[str, Any],
    basis: Mapping[str, Any],
) -> dict[str, Any]:
    """Return the plan file's JSON document, its ``fingerprint`` sealing every other key."""
    data: dict[str, Any] = {}
    for key, value in plan_to_dict(plan).items():
        data[key] = value
        if key == "fingerprint":  # keep the facts apply needs together, near the top
            data["salt"] = salt
            data["specPaths"] = [str(p) for p in spec_paths]
            data["filters"] = dict(filters)
    data["basis"] = dict(basis)
    data["fingerprint"] = seal(data)
    return data


def seal(data: Mapping[str, Any]) -> str:
    """Return ``"sha256:<hex>"`` over the canonical JSON of ``data`` less its fingerprint."""
    rest = {key: value for key, value in data.items() if key != "fingerprint"}
    text = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def write_plan_file(path: str | Path, document: Mapping[str, Any]) -> None:
    """Write a :func:`plan_file_document` to ``path``, atomically (a reader never sees half).

    Raises :class:`UsageError` when the file cannot be written.
    """
    _write_atomically(Path(path), json.dumps(document, indent=2) + "\n")
    logger.debug("wrote plan file %s (%s actions)", path, len(document.get("actions", ())))


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise UsageError(f"cannot write plan file {path}: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UsageError(f"cannot write plan file {path}: {exc.strerror}") from exc


def read_plan_file(path: str | Path) -> SavedPlan:
    """Return the plan file at ``path``, its fingerprint checked.

    Raises :class:`UsageError` when the file is missing or unreadable, is not JSON, is not
    a reconciler plan file, has a format version this reconciler does not read, or was
    modified after it was written (its content does not match its fingerprint).
    """
    data = _load_json(Path(path))
    if not isinstance(data, dict):
        raise _not_a_plan_file(path, "the top level is not a JSON object")
    if "formatVersion" not in data:
        raise _not_a_plan_file(path, "no formatVersion")
    version = data["formatVersion"]
    if type(version) is not int or version != FORMAT_VERSION:
        raise UsageError(
            f"plan file {path} has formatVersion {json.dumps(version)}; reconciler "
            f"{__version__} reads formatVersion {FORMAT_VERSION} only; run plan --out again"
        )
    fingerprint = _string_field(path, data, "fingerprint")
    salt = _string_field(path, data, "salt")
    spec_paths = data.get("specPaths")
    if not isinstance(spec_paths, list) or not all(isinstance(p, str) for p in spec_paths):
        raise _not_a_plan_file(
            path, "no specPaths" if spec_paths is None else "specPaths is not a list of strings"
        )
    for key in ("filters", "basis"):
        if not isinstance(data.get(key), dict):
            raise _not_a_plan_file(
                path, f"no {key}" if key not in data else f"{key} is not an object"
            )
    if seal(data) != fingerprint:
        raise UsageError(
            f"plan file {path} was modified after it was written: its content does not match "
            "its fingerprint; run plan --out again and review it"
        )
    return SavedPlan(fingerprint, salt, tuple(spec_paths), data)


def _load_json(path: Path) -> Any:
    """Return the parsed JSON of ``path``; raise UsageError naming what went wrong."""
    try:
        raw = _read_capped(path)
    except FileNotFoundError as exc:
        raise UsageError(f"plan file not found: {path}") from exc
    except OSError as exc:
        raise UsageError(f"cannot read plan file {path}: {exc.strerror}") from exc
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise UsageError(f"plan file {path} is not JSON: it is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        # Some messages end in "at" ("Unterminated string starting at"): one "at" is enough.
        what = exc.msg.removesuffix(" at")
        raise UsageError(
            f"plan file {path} is not JSON: {what} at line {exc.lineno}, column {exc.colno}"
        ) from exc


def _read_capped(path: Path) -> bytes:
    """Return the bytes of a regular file of at most :data:`MAX_PLAN_FILE_BYTES`.

    Raises:
        UsageError: not a regular file, or larger than the cap.
        OSError: it cannot be read.
    """
    # O_NONBLOCK: opening a FIFO must not wait for a writer; a regular file ignores it.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(mode):
            raise UsageError(f"plan file {path} is not a regular file")
        raw = handle.read(MAX_PLAN_FILE_BYTES + 1)
    if len(raw) > MAX_PLAN_FILE_BYTES:
        raise UsageError(f"plan file {path} is larger than {MAX_PLAN_FILE_BYTES // 2**20} MiB")
    return raw


def _string_field(path: str | Path, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, str):
        return value
    raise _not_a_plan_file(path, f"no {key}" if value is None else f"{key} is not a string")


def _not_a_plan_file(path: str | Path, why: str) -> UsageError:
    return UsageError(f"{path} is not a reconciler plan file ({why}); {_HOW_TO_WRITE}")
