"""Where an export goes: the ``--out`` checks, split file names, atomic file writes."""

from __future__ import annotations

import logging
import os
import re
import tempfile
from pathlib import Path

from reconciler.errors import UsageError
from reconciler.model import LiveSubscription

log = logging.getLogger(__name__)

_NOT_FILENAME = re.compile(r"[^A-Za-z0-9_.-]+")


def check_out(out: str | None, split: bool) -> None:
    """Refuse an output of the wrong kind before anything is read.

    Raises:
        UsageError: ``split`` without ``out``, ``split`` with a file, a file that is a folder.
    """
    if split and out is None:
        raise UsageError("--split writes one file per subscription: give a folder with --out")
    if split and out is not None and Path(out).exists() and not Path(out).is_dir():
        raise UsageError(f"--split needs a folder for --out, but {out} is a file")
    if not split and out is not None and Path(out).is_dir():
        raise UsageError(f"--out {out} is a folder: give a file name, or add --split")


def split_file_name(sub: LiveSubscription) -> str:
    """Return ``<subscription-name>-<id>.yaml`` with the name made safe for a file name."""
    name = _NOT_FILENAME.sub("-", sub.name).strip("-.") or "subscription"
    return f"{name}-{sub.id}.yaml"


def write_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (a temporary file renamed over it).

    Raises:
        UsageError: the folder cannot be created or the file cannot be written.
    """
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    log.info("wrote %s", path)


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, flush it to disk, rename it."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _file_mode(path))
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """Return the mode of the file being replaced, else 0o666 less the umask."""
    try:
        return path.stat().st_mode & 0o777
    except FileNotFoundError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
