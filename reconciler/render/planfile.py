"""The saved plan file (``plan --out FILE``, read back by ``apply --plan FILE``).

The file is the JSON form of the plan (:func:`~reconciler.render.json_format.plan_to_dict`,
so every secret is already masked) plus the ``salt`` the fingerprint's secret digests were
made with and the ``specPaths`` the plan was made from. ``apply`` re-plans from those paths
with that salt and compares fingerprints; the file itself never holds a secret.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler import __version__
from reconciler.errors import UsageError
from reconciler.plan import Plan
from reconciler.render.json_format import FORMAT_VERSION, plan_to_dict

logger = logging.getLogger(__name__)

_HOW_TO_WRITE = "write one with: reconciler plan --out FILE"


@dataclass(frozen=True)
class SavedPlan:
    """A plan file read back: its fingerprint, salt, spec paths and the whole JSON."""

    fingerprint: str
    salt: str
    spec_paths: tuple[str, ...]
    data: dict[str, Any]


def write_plan_file(path: str | Path, plan: Plan, *, salt: str, spec_paths: Sequence[str]) -> None:
    """Write ``plan`` to ``path`` as a plan file, atomically (a reader never sees half).

    Raises :class:`UsageError` when the file cannot be written.
    """
    data: dict[str, Any] = {}
    for key, value in plan_to_dict(plan).items():
        data[key] = value
        if key == "fingerprint":  # keep the facts apply needs together, near the top
            data["salt"] = salt
            data["specPaths"] = [str(p) for p in spec_paths]
    _write_atomically(Path(path), json.dumps(data, indent=2) + "\n")
    logger.debug("wrote plan file %s (%s actions)", path, len(plan.actions))


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
    """Return the plan file at ``path``.

    Raises :class:`UsageError` when the file is missing or unreadable, is not JSON, is not
    a reconciler plan file, or has a format version this reconciler does not read.
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
    return SavedPlan(fingerprint, salt, tuple(spec_paths), data)


def _load_json(path: Path) -> Any:
    """Return the parsed JSON of ``path``; raise UsageError naming what went wrong."""
    try:
        raw = path.read_bytes()
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


def _string_field(path: str | Path, data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if isinstance(value, str):
        return value
    raise _not_a_plan_file(path, f"no {key}" if value is None else f"{key} is not a string")


def _not_a_plan_file(path: str | Path, why: str) -> UsageError:
    return UsageError(f"{path} is not a reconciler plan file ({why}); {_HOW_TO_WRITE}")
