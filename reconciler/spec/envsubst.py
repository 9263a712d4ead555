"""``${NAME}`` substitution in spec strings.

``${NAME}`` is replaced by the environment variable ``NAME``; ``$${`` stands for a literal
``${``. Any other ``$`` is kept as written. Names follow the shell: letters, digits and
underscores, not starting with a digit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# One alternation so the string is scanned once, left to right: an escape is consumed
# before it can be read as the start of a reference.
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class SubstitutionError(ValueError):
    """A reference in a string could not be resolved; the message says why."""


def substitute(text: str, environ: Mapping[str, str]) -> str:
    """Return ``text`` with every ``${NAME}`` replaced from ``environ``.

    Raises :class:`SubstitutionError` naming every missing variable, or the first reference
    that is not well formed.
    """
    if "$" not in text:
        return text
    missing: list[str] = []

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if token == "$${":
            return "${"
        name = match.group(1)
        if name is None:
            raise SubstitutionError("unterminated '${' (write '$${' for a literal '${')")
        if not _NAME.fullmatch(name):
            raise SubstitutionError(
                f"invalid variable reference {token!r}: a name has letters, digits and "
                "underscores (write '$${' for a literal '${')"
            )
        if name not in environ:
            missing.append(name)
            return ""
        return environ[name]

    result = _TOKEN.sub(replace, text)
    if missing:
        names = list(dict.fromkeys(missing))
        if len(names) == 1:
            raise SubstitutionError(f"environment variable {names[0]} is not set")
        raise SubstitutionError(f"environment variables {', '.join(names)} are not set")
    return result
