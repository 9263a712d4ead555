"""Output that never fails on the terminal's encoding.

A plan uses a few symbols (``→``, ``—``, ``…``, ``»``); a Windows console (cp1252) or
``PYTHONIOENCODING=ascii`` cannot show all of them. :func:`use_fallbacks` sets an error
handler on stdout and stderr that writes each symbol the stream cannot encode as its ASCII
fallback (``->``, ``--``, ``...``, ``>>``), and any other such character as ``?``. A UTF-8
stream is unchanged.
"""

from __future__ import annotations

import codecs
import io
from typing import TextIO

ERROR_HANDLER = "reconciler-ascii-fallback"

# The symbols reconciler prints, and what an encoding without them shows instead.
FALLBACKS: dict[str, str] = {
    "→": "->",
    "←": "<-",
    "↑": "^",
    "—": "--",
    "\u2013": "-",
    "…": "...",
    "»": ">>",
    "«": "<<",
    "▶": ">",
    "≥": ">=",
    "≤": "<=",
    "≠": "!=",
    "÷": "/",
    "\u00d7": "x",
    "•": "*",
    "✓": "ok",
    "✗": "x",
    "\u201c": '"',
    "\u201d": '"',
    "\u2018": "'",
    "\u2019": "'",
    "\u00a0": " ",
}
UNKNOWN = "?"


def ascii_fallback(text: str) -> str:
    """Return ``text`` with every character outside ASCII replaced by its fallback.

    A character without a listed fallback becomes ``?``.
    """
    return "".join(char if char < "\x80" else FALLBACKS.get(char, UNKNOWN) for char in text)


def _handler(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return ascii_fallback(error.object[error.start : error.end]), error.end


codecs.register_error(ERROR_HANDLER, _handler)


def use_fallbacks(*streams: TextIO) -> None:
    """Make each text stream write ASCII fallbacks for what its encoding cannot show.

    A stream that cannot be reconfigured (not an :class:`io.TextIOWrapper`) is left alone.
    """
    for stream in streams:
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=ERROR_HANDLER)
